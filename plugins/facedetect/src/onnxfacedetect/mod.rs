//! `onnxfacedetect`: finds faces and marks them on the buffer for elements downstream.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct OnnxFaceDetect(ObjectSubclass<imp::OnnxFaceDetect>) @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

mediaai_common::execution_provider_enum!(ExecutionProvider, "GstOnnxFaceDetectExecutionProvider");

/// What the detector does in a live pipeline when frames reach it later than it can measure
/// them (a GPU shared by more streams than it holds, a CPU too slow for `interval=1`): it
/// never drops a frame and never lets the delay pile up; it runs the network less often.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstOnnxFaceDetectOverload")]
pub enum Overload {
    /// Late frames skip the network and the tracker carries the faces; a frame that no
    /// measurement covers (more frames since the last one than downstream holds back, see
    /// `interval`) is marked whole as a face, so nobody new shows before the network looks.
    #[default]
    #[enum_value(
        name = "Shed work; frames no measurement covers are hidden whole",
        nick = "hide"
    )]
    Hide = 0,
    /// Late frames skip the network and the tracker carries the faces it knows; a face new
    /// since the last measurement can show until the next.
    #[enum_value(
        name = "Shed work; the tracker carries known faces (a new face can show until the next measurement)",
        nick = "track"
    )]
    Track = 1,
    /// Never shed: every due frame waits for the network, and the delay grows under overload
    /// (for work where no clock matters).
    #[enum_value(
        name = "Never shed: due frames wait for the network (delay grows under overload)",
        nick = "wait"
    )]
    Wait = 2,
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    #[cfg(feature = "doc")]
    ExecutionProvider::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    #[cfg(feature = "doc")]
    Overload::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "onnxfacedetect",
        gst::Rank::NONE,
        OnnxFaceDetect::static_type(),
    )
}
