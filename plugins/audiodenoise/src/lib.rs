//! GStreamer plugin `audiodenoise`: element `audiodenoise`, real-time speech denoising
//! (RNNoise through `nnnoiseless`) of F32 audio at any common rate and channel count.
//!
//! [`chain`] is the denoiser without GStreamer types; the element wraps it.

use gst::glib;

mod audiodenoise;
pub mod chain;

pub use audiodenoise::Engine;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    audiodenoise::register(plugin)
}

mediaai_common::plugin!(audiodenoise, plugin_init);
