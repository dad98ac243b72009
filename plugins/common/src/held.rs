//! For elements that hold buffers back (batches, lookahead windows, audio blocks): latency in
//! frames, the latency query, the sink events that drain or drop what is held, and pushing it.

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
fn answer_latency(
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

/// The query handler of an element that holds buffers back: a latency query on the source pad
/// is answered by `parent` with `held` added to both bounds; every other query goes to `parent`.
pub fn query(
    direction: gst::PadDirection,
    query: &mut gst::QueryRef,
    parent: impl Fn(&mut gst::QueryRef) -> bool,
    held: impl FnOnce() -> gst::ClockTime,
) -> bool {
    if direction == gst::PadDirection::Src {
        if let Some(answered) = answer_latency(query, &parent, held) {
            return answered;
        }
    }
    parent(query)
}

/// What an element that holds buffers does with a sink event before passing it on: EOS and
/// new caps send out everything held (`drain`), FLUSH_STOP drops it (`flush`). Returns
/// `drain`'s error for the caller to report; the event goes on either way.
pub fn on_sink_event<E>(
    event: &gst::Event,
    drain: impl FnOnce() -> Result<(), E>,
    flush: impl FnOnce(),
) -> Result<(), E> {
    match event.view() {
        gst::EventView::Eos(_) | gst::EventView::Caps(_) => drain(),
        gst::EventView::FlushStop(_) => {
            flush();
            Ok(())
        }
        _ => Ok(()),
    }
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
