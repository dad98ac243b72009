//! `qcfingerprint`: a pass-through quality-control analyser for video.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct QcFingerprint(ObjectSubclass<imp::QcFingerprint>) @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "qcfingerprint",
        gst::Rank::NONE,
        QcFingerprint::static_type(),
    )
}
