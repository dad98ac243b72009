//! GStreamer plugin `facedetect`: element `onnxfacedetect`, face detection through ONNX
//! Runtime with the detections attached to each buffer as `GstVideoRegionOfInterestMeta`.
//!
//! The pure parts (CenterFace decoding, non-maximum suppression, track ids) live in their own
//! modules without GStreamer types.
#![allow(clippy::non_send_fields_in_send_ty)]

use gst::glib;

pub mod centerface;
pub mod nms;
mod onnxfacedetect;
pub mod tracker;
pub mod yolo;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    onnxfacedetect::register(plugin)
}

gst::plugin_define!(
    facedetect,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    concat!(env!("CARGO_PKG_VERSION"), "-", env!("COMMIT_ID")),
    "MIT/X11",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_REPOSITORY"),
    env!("BUILD_REL_DATE")
);
