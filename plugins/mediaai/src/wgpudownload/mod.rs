//! `wgpudownload`: GPU video frames (`memory:WgpuBuffer`) back to system memory.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct WgpuDownload(ObjectSubclass<imp::WgpuDownload>) @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "wgpudownload",
        gst::Rank::NONE,
        WgpuDownload::static_type(),
    )
}
