//! GStreamer plugin `gpublur`: element `gpublur`, blurring the regions that upstream elements
//! marked with `GstVideoRegionOfInterestMeta` (or the whole frame) on the GPU through wgpu,
//! with a CPU path that gives the same pixels.
//!
//! The geometry, kernels and CPU passes are plain modules without GStreamer types; the WGSL
//! passes live in the workspace's `shaders/`.

use gst::glib;

pub mod cpu;
pub mod gpu;
mod gpublur;
pub mod kernel;
pub mod planar;
pub mod regions;

pub use gpublur::{Backend, BlurMode, BlurRegion, BlurShape};

/// Adds this crate's elements to `plugin` (the collection's plugin library, `mediaai`, calls
/// this for every element crate).
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gpublur::register(plugin)
}

/// Registers this crate's elements in a static plugin `gpublur`, for programs that link the
/// crate rather than load the plugin library (its tests, benchmarks).
pub fn plugin_register_static() -> Result<(), glib::BoolError> {
    mediaai_common::register_static_plugin("gpublur", env!("CARGO_PKG_DESCRIPTION"), register)
}
