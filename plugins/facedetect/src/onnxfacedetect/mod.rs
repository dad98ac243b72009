//! `onnxfacedetect`: finds faces and marks them on the buffer for elements downstream.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct OnnxFaceDetect(ObjectSubclass<imp::OnnxFaceDetect>) @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

mediaai_common::execution_provider_enum!(ExecutionProvider, "GstOnnxFaceDetectExecutionProvider");

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    #[cfg(feature = "doc")]
    ExecutionProvider::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "onnxfacedetect",
        gst::Rank::NONE,
        OnnxFaceDetect::static_type(),
    )
}
