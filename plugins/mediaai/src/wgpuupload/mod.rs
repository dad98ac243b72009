//! `wgpuupload`: system-memory video frames onto the GPU (`memory:WgpuBuffer`).

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct WgpuUpload(ObjectSubclass<imp::WgpuUpload>) @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "wgpuupload",
        gst::Rank::NONE,
        WgpuUpload::static_type(),
    )
}
