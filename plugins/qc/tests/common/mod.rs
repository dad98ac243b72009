//! What the qcfingerprint and qcaudio test suites share.

use mediaai_testing::element_messages;

/// The `timestamp-gap` and `timestamp-jump` events waiting on `bus`: (kind, start, end), in
/// milliseconds.
pub fn timestamp_events(bus: &gst::Bus) -> Vec<(String, u64, u64)> {
    element_messages(bus, "qc-event")
        .iter()
        .filter(|s| s.get::<&str>("kind").unwrap().starts_with("timestamp"))
        .map(|s| {
            let t = |f: &str| s.get::<gst::ClockTime>(f).unwrap().mseconds();
            (s.get::<String>("kind").unwrap(), t("start"), t("end"))
        })
        .collect()
}
