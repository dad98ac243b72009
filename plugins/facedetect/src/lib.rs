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

mediaai_common::plugin!(facedetect, plugin_init);
