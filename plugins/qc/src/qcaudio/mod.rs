//! `qcaudio`: a pass-through quality-control analyser for audio.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct QcAudio(ObjectSubclass<imp::QcAudio>) @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "qcaudio",
        gst::Rank::NONE,
        QcAudio::static_type(),
    )
}
