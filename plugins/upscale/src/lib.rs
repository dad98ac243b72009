//! GStreamer plugin `upscale`: element `upscale`, super-resolution by 2 or 4 — a neural
//! network through ONNX Runtime (tiled, tiles batched per inference), or a spatial upscaler
//! (edge-adaptive interpolation and contrast-adaptive sharpening, FSR 1.0's EASU and RCAS) when
//! no model is available.
//!
//! [`spatial`] and [`neural`] work on planar RGB `f32` frames without GStreamer types; the
//! element converts frames to and from them.

use gst::glib;

pub mod easu;
pub mod gpu;
pub mod neural;
pub mod spatial;
mod upscale;

pub use upscale::{Backend, Method, Scale};

/// Adds this crate's elements to `plugin` (the collection's plugin library, `mediaai`, calls
/// this for every element crate).
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    upscale::register(plugin)
}

/// Registers this crate's elements in a static plugin `upscale`, for programs that link the
/// crate rather than load the plugin library (its tests, benchmarks).
pub fn plugin_register_static() -> Result<(), glib::BoolError> {
    mediaai_common::register_static_plugin("upscale", env!("CARGO_PKG_DESCRIPTION"), register)
}
