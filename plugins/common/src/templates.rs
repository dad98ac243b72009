//! Pad templates shared by the video elements.

use crate::gpumemory;

/// `src` and `sink` templates, always present, for raw video in `formats` (any size, so
/// also for elements whose output size differs from their input's).
pub fn in_place_video(formats: &[gst_video::VideoFormat]) -> Vec<gst::PadTemplate> {
    let caps = gst_video::VideoCapsBuilder::new()
        .format_list(formats.iter().copied())
        .build();
    [
        ("src", gst::PadDirection::Src),
        ("sink", gst::PadDirection::Sink),
    ]
    .into_iter()
    .map(|(name, dir)| {
        gst::PadTemplate::new(name, dir, gst::PadPresence::Always, &caps)
            .expect("a template from fixed names and valid caps")
    })
    .collect()
}

/// `src` and `sink` templates for elements that take and give frames on the GPU
/// ([`gpumemory::CAPS_FEATURE`], preferred) or in system memory, in `formats`, any size.
pub fn gpu_or_system_video(formats: &[gst_video::VideoFormat]) -> Vec<gst::PadTemplate> {
    let caps = gpumemory::gpu_and_system(
        &gst_video::VideoCapsBuilder::new()
            .format_list(formats.iter().copied())
            .build(),
    );
    [
        ("src", gst::PadDirection::Src),
        ("sink", gst::PadDirection::Sink),
    ]
    .into_iter()
    .map(|(name, dir)| {
        gst::PadTemplate::new(name, dir, gst::PadPresence::Always, &caps)
            .expect("a template from fixed names and valid caps")
    })
    .collect()
}
