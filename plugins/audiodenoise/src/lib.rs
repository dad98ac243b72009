//! GStreamer plugin `audiodenoise`: element `audiodenoise`, real-time speech denoising
//! (RNNoise through `nnnoiseless`) of F32 audio at any common rate and channel count.
//!
//! [`chain`] is the denoiser without GStreamer types; the element wraps it.

use gst::glib;

mod audiodenoise;
pub mod chain;

pub use audiodenoise::Engine;

/// Adds this crate's elements to `plugin` (the collection's plugin library, `mediaai`, calls
/// this for every element crate).
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    audiodenoise::register(plugin)
}

/// Registers this crate's elements in a static plugin `audiodenoise`, for programs that link the
/// crate rather than load the plugin library (its tests, benchmarks).
pub fn plugin_register_static() -> Result<(), glib::BoolError> {
    mediaai_common::register_static_plugin("audiodenoise", env!("CARGO_PKG_DESCRIPTION"), register)
}
