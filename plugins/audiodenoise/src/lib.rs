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

gst::plugin_define!(
    audiodenoise,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    concat!(env!("CARGO_PKG_VERSION"), "-", env!("COMMIT_ID")),
    "MIT/X11",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_REPOSITORY"),
    env!("BUILD_REL_DATE")
);
