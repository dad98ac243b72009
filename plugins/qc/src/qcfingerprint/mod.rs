//! `qcfingerprint`: a pass-through quality-control analyser for video.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct QcFingerprint(ObjectSubclass<imp::QcFingerprint>) @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

mediaai_common::backend_enum!(Backend, "GstQcFingerprintBackend");

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    #[cfg(feature = "doc")]
    Backend::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "qcfingerprint",
        gst::Rank::NONE,
        QcFingerprint::static_type(),
    )
}
