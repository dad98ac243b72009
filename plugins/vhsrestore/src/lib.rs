//! GStreamer plugin `vhsrestore`: element `vhsrestore`, analog tape restoration in one pass
//! (deinterlacing, temporal denoising, chroma delay, levels and saturation, head-switching
//! noise).
//!
//! [`stages`] holds the passes on 8-bit planes without GStreamer types; the element wraps
//! them.

use gst::glib;

pub mod gpu;
pub mod slots;
pub mod stages;
mod vhsrestore;

pub use vhsrestore::{Backend, Deinterlace, FieldOrder, Rate};

/// Adds this crate's elements to `plugin` (the collection's plugin library, `mediaai`, calls
/// this for every element crate).
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    vhsrestore::register(plugin)
}

/// Registers this crate's elements in a static plugin `vhsrestore`, for programs that link the
/// crate rather than load the plugin library (its tests, benchmarks).
pub fn plugin_register_static() -> Result<(), glib::BoolError> {
    mediaai_common::register_static_plugin("vhsrestore", env!("CARGO_PKG_DESCRIPTION"), register)
}
