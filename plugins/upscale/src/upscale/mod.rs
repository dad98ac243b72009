//! `upscale`: super-resolution by 2 or 4.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct Upscale(ObjectSubclass<imp::Upscale>) @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// The upscaling factor.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstUpscaleScale")]
pub enum Scale {
    #[default]
    #[enum_value(name = "Twice the width and height", nick = "2")]
    X2 = 2,
    #[enum_value(name = "Four times the width and height", nick = "4")]
    X4 = 4,
}

/// How frames are upscaled.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstUpscaleMethod")]
pub enum Method {
    /// The network when its model can be loaded, else spatial (with a warning).
    #[default]
    #[enum_value(name = "Neural when a model is available, else spatial", nick = "auto")]
    Auto = 0,
    /// The network; an error when its model cannot be loaded.
    #[enum_value(name = "Neural network (ONNX Runtime)", nick = "neural")]
    Neural = 1,
    /// Edge-adaptive interpolation and contrast-adaptive sharpening (FSR 1.0's EASU and RCAS).
    #[enum_value(
        name = "Spatial (edge-adaptive interpolation and sharpening)",
        nick = "spatial"
    )]
    Spatial = 2,
}

mediaai_common::execution_provider_enum!(ExecutionProvider, "GstUpscaleExecutionProvider");
mediaai_common::backend_enum!(Backend, "GstUpscaleBackend");

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    #[cfg(feature = "doc")]
    {
        Scale::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        Method::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        ExecutionProvider::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        Backend::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    }
    gst::Element::register(
        Some(plugin),
        "upscale",
        gst::Rank::NONE,
        Upscale::static_type(),
    )
}
