//! GStreamer plugin `qcfingerprint`: element `qcfingerprint`, a pass-through quality-control
//! analyser (per-frame statistics, black and frozen video events, a report).
//!
//! [`stats`] and [`events`] hold the measurements without GStreamer types; [`report`] the
//! incremental JSON report; the element wraps them.

use gst::glib;

pub mod events;
pub mod fingerprint;
mod qcfingerprint;
pub mod report;
pub mod stats;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    qcfingerprint::register(plugin)
}

mediaai_common::plugin!(qcfingerprint, plugin_init);
