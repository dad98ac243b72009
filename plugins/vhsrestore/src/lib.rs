//! GStreamer plugin `vhsrestore`: element `vhsrestore`, analog tape restoration in one pass
//! (deinterlacing, temporal denoising, chroma delay, levels and saturation, head-switching
//! noise).
//!
//! [`stages`] holds the passes on 8-bit planes without GStreamer types; the element wraps
//! them.

use gst::glib;

pub mod gpu;
pub mod stages;
mod vhsrestore;

pub use vhsrestore::{Backend, Deinterlace, FieldOrder, Rate};

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    vhsrestore::register(plugin)
}

mediaai_common::plugin!(vhsrestore, plugin_init);
