//! GStreamer plugin `facedetect`: element `onnxfacedetect`, face detection through ONNX
//! Runtime with the detections attached to each buffer as `GstVideoRegionOfInterestMeta`, and
//! `onnxfacekeep`, which recognises chosen people among them.
//!
//! The pure parts (CenterFace decoding, non-maximum suppression, track ids) live in their own
//! modules without GStreamer types.
#![allow(clippy::non_send_fields_in_send_ty)]

use gst::glib;

pub mod align;
pub mod centerface;
mod model;
pub mod nms;
mod onnxfacedetect;
mod onnxfacekeep;
pub mod tracker;
pub mod yolo;

/// Adds this crate's elements to `plugin` (the collection's plugin library, `mediaai`, calls
/// this for every element crate).
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    onnxfacedetect::register(plugin)?;
    onnxfacekeep::register(plugin)
}

/// Registers this crate's elements in a static plugin `facedetect`, for programs that link the
/// crate rather than load the plugin library (its tests, benchmarks).
pub fn plugin_register_static() -> Result<(), glib::BoolError> {
    mediaai_common::register_static_plugin("facedetect", env!("CARGO_PKG_DESCRIPTION"), register)
}
