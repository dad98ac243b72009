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

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    upscale::register(plugin)
}

mediaai_common::plugin!(upscale, plugin_init);
