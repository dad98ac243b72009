//! Quality control: elements `qcfingerprint`, a pass-through analyser for video (per-frame
//! statistics, black and frozen runs, the legal range, photosensitive flashes, fingerprints
//! and matching), and `qcaudio`, its sibling for audio (silence, clipping, EBU R128 loudness,
//! loudness range, true peak, DC offset, phase), each writing a report that ends with a
//! verdict against a delivery profile.
//!
//! [`stats`], [`events`], [`gamut`], [`flashes`], [`loudness`], [`channels`] and [`verdict`]
//! hold the measurements without GStreamer types; [`report`] the incremental report; the
//! elements wrap them.

use gst::glib;

pub mod channels;
pub mod events;
pub mod fingerprint;
pub mod flashes;
pub mod gamut;
pub mod gpu;
pub mod loudness;
mod qcaudio;
mod qcfingerprint;
pub mod report;
mod reporting;
pub mod stats;
pub mod verdict;

/// The file format of `report-location`.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstQcReportFormat")]
pub enum ReportFormat {
    /// One JSON document, valid after every write.
    #[default]
    #[enum_value(name = "JSON", nick = "json")]
    Json = 0,
    /// A stream of MessagePack maps: the head, then one per entry.
    #[enum_value(name = "MessagePack", nick = "msgpack")]
    MessagePack = 1,
}

impl ReportFormat {
    fn format(self) -> report::Format {
        match self {
            ReportFormat::Json => report::Format::Json,
            ReportFormat::MessagePack => report::Format::MessagePack,
        }
    }

    /// The `report-format` property, the same for both elements.
    fn param_spec() -> glib::ParamSpec {
        use gst::prelude::*;
        glib::ParamSpecEnum::builder_with_default("report-format", ReportFormat::Json)
            .nick("Report format")
            .blurb("Format of report-location: json (one document, valid after every write) or msgpack (a stream of maps, appended). Default: json")
            .mutable_ready()
            .build()
    }
}

/// A delivery profile: thresholds, and what fails the verdict that ends the report.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstQcProfile")]
pub enum Profile {
    /// No thresholds: the report ends with the programme's duration, everything passes.
    #[default]
    #[enum_value(name = "None", nick = "none")]
    None = 0,
    /// EBU R128: −23 LUFS ± 1 LU, true peak −1 dBTP.
    #[enum_value(name = "EBU R128", nick = "ebu-r128")]
    EbuR128 = 1,
    /// Netflix: −27 LKFS ± 2 LU, true peak −2 dBTP.
    #[enum_value(name = "Netflix", nick = "netflix")]
    Netflix = 2,
    /// UK DPP: −23 LUFS ± 0.5 LU, −1 dBTP, PSE, EBU R103 legal range, unbroken timing.
    #[enum_value(name = "DPP", nick = "dpp")]
    Dpp = 3,
}

/// Hex digits of a fingerprint, without allocating.
fn hex(value: u64, buf: &mut [u8; 16]) -> &str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in buf.iter_mut().enumerate() {
        *b = DIGITS[((value >> (60 - 4 * i)) & 0xf) as usize];
    }
    std::str::from_utf8(buf).expect("hex digits are ASCII")
}

/// Adds this crate's elements to `plugin` (the collection's plugin library, `mediaai`, calls
/// this for every element crate).
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    {
        use gst::prelude::*;
        ReportFormat::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        Profile::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    }
    qcfingerprint::register(plugin)?;
    qcaudio::register(plugin)
}

/// Registers this crate's elements in a static plugin `qc`, for programs that link the crate
/// rather than load the plugin library (its tests, benchmarks).
pub fn plugin_register_static() -> Result<(), glib::BoolError> {
    mediaai_common::register_static_plugin("qc", env!("CARGO_PKG_DESCRIPTION"), register)
}
