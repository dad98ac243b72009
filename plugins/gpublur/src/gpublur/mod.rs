//! `gpublur`: hides marked regions (or whole frames) with a gaussian blur, a mosaic or a solid
//! fill, on the GPU when one is there.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct GpuBlur(ObjectSubclass<imp::GpuBlur>) @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// What is blurred.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstGpuBlurRegion")]
pub enum BlurRegion {
    /// Every region-of-interest meta whose type is listed in `roi-types`.
    #[default]
    #[enum_value(name = "Regions of interest marked upstream", nick = "roi")]
    Roi = 0,
    /// The whole frame.
    #[enum_value(name = "The whole frame", nick = "frame")]
    Frame = 1,
}

/// How a region is hidden.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstGpuBlurMode")]
pub enum BlurMode {
    /// Gaussian blur, `strength` is sigma in pixels.
    #[default]
    #[enum_value(name = "Gaussian blur (strength = sigma in px)", nick = "gaussian")]
    Gaussian = 0,
    /// Pixelation, `strength` is the block side in pixels.
    #[enum_value(name = "Mosaic (strength = block side in px)", nick = "mosaic")]
    Mosaic = 1,
    /// Solid black, alpha kept.
    #[enum_value(name = "Solid black fill", nick = "solid")]
    Solid = 2,
    /// Disc blur like an out-of-focus lens, `strength` is the disc radius in pixels.
    #[enum_value(
        name = "Bokeh disc blur (strength = disc radius in px)",
        nick = "bokeh"
    )]
    Bokeh = 3,
}

/// Shape of the mask inside each region's box.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstGpuBlurShape")]
pub enum BlurShape {
    /// The ellipse inscribed in the (scaled) box: follows a face's outline.
    #[default]
    #[enum_value(name = "Ellipse inscribed in the box", nick = "ellipse")]
    Ellipse = 0,
    /// The whole (scaled) box.
    #[enum_value(name = "The box", nick = "box")]
    Box = 1,
}

mediaai_common::backend_enum!(Backend, "GstGpuBlurBackend");

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    #[cfg(feature = "doc")]
    {
        BlurRegion::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        BlurMode::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        BlurShape::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        Backend::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    }
    gst::Element::register(
        Some(plugin),
        "gpublur",
        gst::Rank::NONE,
        GpuBlur::static_type(),
    )
}
