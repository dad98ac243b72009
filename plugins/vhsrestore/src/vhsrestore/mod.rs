//! `vhsrestore`: analog tape restoration in one pass.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct VhsRestore(ObjectSubclass<imp::VhsRestore>) @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Output frame rate of the deinterlacer.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstVhsRestoreRate")]
pub enum Rate {
    /// One frame per interlaced frame, at the first field's time.
    #[default]
    #[enum_value(name = "One frame per frame (first field kept)", nick = "frame")]
    Frame = 0,
    /// One frame per field: twice the frame rate, full motion.
    #[enum_value(name = "One frame per field (double rate)", nick = "field")]
    Field = 1,
}

/// Whether to deinterlace.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstVhsRestoreDeinterlace")]
pub enum Deinterlace {
    /// When the caps say interlaced (or mixed).
    #[default]
    #[enum_value(name = "When the caps say interlaced", nick = "auto")]
    Auto = 0,
    /// Always: progressive caps carrying interlaced pictures (common with captures).
    #[enum_value(name = "Always", nick = "on")]
    On = 1,
    /// Never.
    #[enum_value(name = "Never", nick = "off")]
    Off = 2,
}

/// Which field comes first.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstVhsRestoreFieldOrder")]
pub enum FieldOrder {
    /// From the caps; top field first when they do not say (VHS captures usually are).
    #[default]
    #[enum_value(name = "From the caps (top first when unknown)", nick = "auto")]
    Auto = 0,
    #[enum_value(name = "Top field first", nick = "tff")]
    Tff = 1,
    #[enum_value(name = "Bottom field first", nick = "bff")]
    Bff = 2,
}

/// Whether a frame is restored while the next is taken in (one frame in flight).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstVhsRestorePipelined")]
pub enum Pipelined {
    /// Where upstream is not live (a file): throughput; a live source keeps the least delay.
    #[default]
    #[enum_value(name = "Unless upstream is live", nick = "auto")]
    Auto = 0,
    #[enum_value(name = "Always", nick = "on")]
    On = 1,
    #[enum_value(name = "Never", nick = "off")]
    Off = 2,
}

mediaai_common::backend_enum!(Backend, "GstVhsRestoreBackend");

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    #[cfg(feature = "doc")]
    {
        Backend::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        Rate::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        Deinterlace::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        FieldOrder::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        Pipelined::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    }
    gst::Element::register(
        Some(plugin),
        "vhsrestore",
        gst::Rank::NONE,
        VhsRestore::static_type(),
    )
}
