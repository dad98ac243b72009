//! `audiodenoise`: real-time speech denoising of F32 audio.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct AudioDenoise(ObjectSubclass<imp::AudioDenoise>) @extends gst_audio::AudioFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

/// The denoising model.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAudioDenoiseEngine")]
pub enum Engine {
    /// RNNoise (`nnnoiseless`, weights built in), 10 ms frames at 48 kHz.
    #[default]
    #[enum_value(
        name = "RNNoise: recurrent network on 22 bands, weights built in",
        nick = "rnnoise"
    )]
    RnNoise = 0,
    /// DeepFilterNet 3 through its real-time runtime (`make models`), 10 ms frames at 48 kHz,
    /// two frames of lookahead.
    #[enum_value(
        name = "DeepFilterNet 3: deep filtering on ERB bands, runtime and model from make models",
        nick = "deepfilter"
    )]
    DeepFilter = 1,
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    #[cfg(feature = "doc")]
    Engine::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "audiodenoise",
        gst::Rank::NONE,
        AudioDenoise::static_type(),
    )
}
