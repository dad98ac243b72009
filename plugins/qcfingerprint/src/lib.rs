//! GStreamer plugin `qcfingerprint`: elements `qcfingerprint`, a pass-through quality-control
//! analyser for video (per-frame statistics, black and frozen runs, fingerprints and matching,
//! a report), and `qcaudio`, its sibling for audio (silence, clipping, EBU R128 loudness).
//!
//! [`stats`] and [`events`] hold the measurements without GStreamer types; [`report`] the
//! incremental JSON report; the element wraps them.

use gst::glib;

pub mod events;
pub mod fingerprint;
mod qcaudio;
mod qcfingerprint;
pub mod report;
pub mod stats;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    qcfingerprint::register(plugin)?;
    qcaudio::register(plugin)
}

mediaai_common::plugin!(qcfingerprint, plugin_init);
