//! `onnxfacekeep`: recognises chosen people among the faces a detector marked, so that an
//! anonymiser downstream leaves them visible.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct OnnxFaceKeep(ObjectSubclass<imp::OnnxFaceKeep>) @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

mediaai_common::execution_provider_enum!(ExecutionProvider, "GstOnnxFaceKeepExecutionProvider");

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    #[cfg(feature = "doc")]
    ExecutionProvider::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "onnxfacekeep",
        gst::Rank::NONE,
        OnnxFaceKeep::static_type(),
    )
}
