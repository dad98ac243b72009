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

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gpublur::register(plugin)
}

mediaai_common::plugin!(gpublur, plugin_init);
