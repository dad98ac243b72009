//! Pad templates and caps helpers shared by the video elements.

use crate::gpumemory;

/// `src` and `sink` templates, always present, with these caps.
pub fn src_and_sink(src: &gst::Caps, sink: &gst::Caps) -> Vec<gst::PadTemplate> {
    [
        ("src", gst::PadDirection::Src, src),
        ("sink", gst::PadDirection::Sink, sink),
    ]
    .into_iter()
    .map(|(name, dir, caps)| {
        gst::PadTemplate::new(name, dir, gst::PadPresence::Always, caps)
            .expect("a template from fixed names and valid caps")
    })
    .collect()
}

/// Raw video in `formats`, any size.
pub fn video(formats: &[gst_video::VideoFormat]) -> gst::Caps {
    gst_video::VideoCapsBuilder::new()
        .format_list(formats.iter().copied())
        .build()
}

/// `src` and `sink` templates for elements that take and give frames on the GPU
/// ([`gpumemory::CAPS_FEATURE`], preferred) or in system memory, in `formats`, any size.
pub fn gpu_or_system_video(formats: &[gst_video::VideoFormat]) -> Vec<gst::PadTemplate> {
    let caps = gpumemory::gpu_and_system(&video(formats));
    src_and_sink(&caps, &caps)
}

/// What `transform_caps` returns: `caps` narrowed by the query's `filter`, in the filter's
/// order of preference.
pub fn filtered(caps: gst::Caps, filter: Option<&gst::Caps>) -> gst::Caps {
    match filter {
        Some(f) => f.intersect_with_mode(&caps, gst::CapsIntersectMode::First),
        None => caps,
    }
}
