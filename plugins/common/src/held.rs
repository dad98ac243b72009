//! For elements that hold buffers back (batches, lookahead windows): latency in frames, the
//! latency query, and pushing what was held.

use gst::prelude::*;

/// Duration of `frames` frames at the frame rate of `info` (zero for a variable or unknown
/// rate, where no latency can be promised in time).
pub fn frames_duration(info: &gst_video::VideoInfo, frames: u64) -> gst::ClockTime {
    let fps = info.fps();
    if frames == 0 || fps.numer() <= 0 {
        return gst::ClockTime::ZERO;
    }
    gst::ClockTime::SECOND
        .mul_div_floor(frames * fps.denom() as u64, fps.numer() as u64)
        .unwrap_or(gst::ClockTime::ZERO)
}

/// When `query` is a latency query: answers it through `upstream` and adds `held` to both
/// bounds; returns `None` for other queries.
pub fn answer_latency(
    query: &mut gst::QueryRef,
    upstream: impl FnOnce(&mut gst::QueryRef) -> bool,
    held: impl FnOnce() -> gst::ClockTime,
) -> Option<bool> {
    let gst::QueryViewMut::Latency(q) = query.view_mut() else {
        return None;
    };
    if !upstream(q.query_mut()) {
        return Some(false);
    }
    let (live, min, max) = q.result();
    let extra = held();
    q.set(live, min + extra, max.map(|m| m + extra));
    Some(true)
}

/// Pushes `buffers` on `pad` in order, stopping at the first flow error.
pub fn push_all(
    pad: &gst::Pad,
    buffers: impl IntoIterator<Item = gst::Buffer>,
) -> Result<gst::FlowSuccess, gst::FlowError> {
    for buf in buffers {
        pad.push(buf)?;
    }
    Ok(gst::FlowSuccess::Ok)
}
