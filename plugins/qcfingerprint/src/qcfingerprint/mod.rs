//! `qcfingerprint`: a pass-through quality-control analyser for video.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct QcFingerprint(ObjectSubclass<imp::QcFingerprint>) @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Where the statistics are computed.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstQcBackend")]
pub enum Backend {
    /// The GPU when an adapter exists, else the CPU with a warning.
    #[default]
    #[enum_value(name = "GPU when available, else CPU", nick = "auto")]
    Auto = 0,
    /// The GPU; an error when there is none.
    #[enum_value(name = "GPU only", nick = "gpu")]
    Gpu = 1,
    /// The CPU.
    #[enum_value(name = "CPU only", nick = "cpu")]
    Cpu = 2,
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    #[cfg(feature = "doc")]
    Backend::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "qcfingerprint",
        gst::Rank::NONE,
        QcFingerprint::static_type(),
    )
}
