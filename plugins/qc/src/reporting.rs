//! What both analysers do alike: open the report, post `qc-event` messages with their report
//! entries, write the report at each interval.

use std::path::PathBuf;

use gst::prelude::*;

use crate::events::{Event, Ns};
use crate::report::{Format, Report, Value};
use crate::verdict::Verdict;

/// The report at `path` (none without one), its head describing the stream; an element error
/// when it cannot be written.
pub fn open_report(
    element: &gst::Element,
    path: Option<&str>,
    format: Format,
    head: &[(&str, Value)],
) -> Result<Option<Report>, gst::LoggableError> {
    let Some(path) = path else {
        return Ok(None);
    };
    Report::create(&PathBuf::from(path), format, head)
        .map(Some)
        .map_err(|e| {
            gst::element_error!(
                element,
                gst::ResourceError::OpenWrite,
                ["cannot write the report {path}: {e}"]
            );
            gst::loggable_error!(gst::CAT_RUST, "report {path}: {e}")
        })
}

/// Nanoseconds as seconds, for messages and reports.
pub fn secs(t: Ns) -> f64 {
    t as f64 / 1e9
}

/// Posts an element message from `element`.
pub fn post(element: &gst::Element, s: gst::Structure) {
    let _ = element.post_message(gst::message::Element::builder(s).src(element).build());
}

/// An element message `qc-event`: `kind`, `phase` (`start`: a run long enough to report,
/// still going; `end`: the whole run), `start`, and `end` and `duration` when known.
pub fn post_event(element: &gst::Element, kind: &str, phase: &str, start: Ns, end: Option<Ns>) {
    post(element, event_structure(kind, phase, start, end).build());
}

/// The `qc-event` structure of a run.
fn event_structure(kind: &str, phase: &str, start: Ns, end: Option<Ns>) -> gst::structure::Builder {
    let mut s = gst::Structure::builder("qc-event")
        .field("kind", kind)
        .field("phase", phase)
        .field("start", gst::ClockTime::from_nseconds(start));
    if let Some(end) = end {
        s = s
            .field("end", gst::ClockTime::from_nseconds(end))
            .field("duration", gst::ClockTime::from_nseconds(end - start));
    }
    s
}

/// Where a programme that reached its end of stream at `end` (its last buffer's end, in the
/// buffers' timestamps) should have ended instead: the stop of its segment (`segment`, as the
/// demuxer sets it from the container's duration of the stream) when the stream ended more
/// than three buffers (`unit` each) and at least 100 ms before it — a truncated file, or a
/// stream cut on its way.
pub fn truncation(segment: &gst::Segment, end: Ns, unit: Ns) -> Option<Event> {
    let stop = segment.downcast_ref::<gst::ClockTime>()?.stop()?.nseconds();
    let tolerance = (3 * unit).max(100_000_000);
    (end + tolerance < stop).then_some(Event {
        kind: crate::events::Kind::Truncated,
        start: end,
        end: stop,
    })
}

/// At the end of stream: a programme that ended before its segment's stop ([`truncation`])
/// becomes a `truncated` event (a failure under every profile) and a warning that says so.
pub fn record_truncation(
    element: &gst::Element,
    report: Option<&mut Report>,
    verdict: &mut Verdict,
    segment: &gst::Segment,
    end: Ns,
    unit: Ns,
) {
    let Some(e) = truncation(segment, end, unit) else {
        return;
    };
    gst::element_warning!(
        element,
        gst::StreamError::Demux,
        [
            "the stream ended at {:.3} s, {:.3} s before its container says it ends ({:.3} s): the file is truncated or the stream was cut",
            secs(e.start),
            secs(e.end - e.start),
            secs(e.end)
        ]
    );
    record_event(element, report, verdict, e);
}

/// A finished run: its `qc-event` message and its report entry, and noted for the verdict.
pub fn record_event(
    element: &gst::Element,
    report: Option<&mut Report>,
    verdict: &mut Verdict,
    e: Event,
) {
    record_measured_event(element, report, verdict, e, &[]);
}

/// A finished run with what was measured over it (`measures`: name and value, e.g. a
/// channel, a rate or an area): its `qc-event` message and its report entry.
pub fn record_measured_event(
    element: &gst::Element,
    report: Option<&mut Report>,
    verdict: &mut Verdict,
    e: Event,
    measures: &[(&str, f64)],
) {
    verdict.note(&e);
    let kind = e.kind.name();
    let mut s = event_structure(kind, "end", e.start, Some(e.end));
    for &(name, value) in measures {
        s = match name {
            // Channels are counted, the rest measured.
            "channel" => s.field(name, value as u32),
            _ => s.field(name, value),
        };
    }
    post(element, s.build());
    if let Some(r) = report {
        let mut fields = [("", Value::Int(0)); 8];
        fields[..4].copy_from_slice(&[
            ("event", Value::Str(kind)),
            ("start", Value::Num(secs(e.start))),
            ("end", Value::Num(secs(e.end))),
            ("duration", Value::Num(secs(e.end - e.start))),
        ]);
        let extra = measures.len().min(fields.len() - 4);
        for (f, &(name, value)) in fields[4..].iter_mut().zip(measures) {
            *f = match name {
                "channel" => (name, Value::Int(value as u64)),
                _ => (name, Value::Num(value)),
            };
        }
        r.entry(&fields[..4 + extra]);
    }
}

/// The end of a stream: the verdict recorded (the programme starting at `start`, lasting
/// `duration`) and the report written.
pub fn conclude(
    element: &gst::Element,
    mut report: Option<&mut Report>,
    verdict: &Verdict,
    start: Ns,
    duration: Ns,
) {
    record_verdict(element, report.as_deref_mut(), verdict, start, duration);
    write_report(element, report);
}

/// The verdict that ends a report: an entry per failing item (`failure`, `start`, `end`,
/// seconds, `value` where measured, with its `unit` and the profile's `limit` in words), then
/// `verdict` (`pass` or `fail`), `profile`, `failures`, the programme's `start` (its first
/// frame's or sample's timestamp: times from the programme's start are those less it) and
/// `duration` (seconds); and a `qc-verdict` element message (`profile`,
/// `pass`, `failures`, `duration`, `summary`: the failing items and their times). A failing
/// verdict is also a warning on the bus, for the operator.
fn record_verdict(
    element: &gst::Element,
    report: Option<&mut Report>,
    verdict: &Verdict,
    start: Ns,
    duration: Ns,
) {
    let summary = verdict.summary();
    let s = gst::Structure::builder("qc-verdict")
        .field("profile", verdict.profile.name())
        .field("pass", verdict.passed())
        .field("failures", verdict.count())
        .field("duration", gst::ClockTime::from_nseconds(duration))
        .field("summary", &summary)
        .build();
    post(element, s);
    if !verdict.passed() {
        // The reason in the message itself: it is what an operator reads first.
        gst::element_warning!(
            element,
            gst::StreamError::Failed,
            ("fails the {} profile: {}", verdict.profile.name(), summary)
        );
    }
    if let Some(r) = report {
        for f in verdict.failures() {
            let limit = verdict.limit(f);
            let mut fields = vec![
                ("failure", Value::Str(f.item)),
                ("start", Value::Num(secs(f.start))),
                ("end", Value::Num(secs(f.end))),
                ("value", Value::Num(f.value)),
            ];
            if let Some((unit, limit)) = &limit {
                fields.push(("unit", Value::Str(unit)));
                fields.push(("limit", Value::Str(limit.as_str())));
            }
            r.entry(&fields);
        }
        r.entry(&[
            (
                "verdict",
                Value::Str(if verdict.passed() { "pass" } else { "fail" }),
            ),
            ("profile", Value::Str(verdict.profile.name())),
            ("failures", Value::Int(verdict.count())),
            ("start", Value::Num(secs(start))),
            ("duration", Value::Num(secs(duration))),
        ]);
    }
}

/// Writes the report's pending entries; a warning if that fails (the stream goes on).
pub fn write_report(element: &gst::Element, report: Option<&mut Report>) {
    if let Some(Err(e)) = report.map(Report::write) {
        gst::element_warning!(
            element,
            gst::ResourceError::Write,
            ["writing the report failed: {e}"]
        );
    }
}

/// The properties both analysers have: `message-interval` (what `messages` are named),
/// `report-location`, `report-format`.
pub fn report_properties(messages: &str) -> [gst::glib::ParamSpec; 4] {
    use gst::glib;
    [
        glib::ParamSpecUInt64::builder("message-interval")
            .nick("Message interval")
            .blurb(&format!(
                "Nanoseconds of stream between `{messages}` element messages and report writes (at least 1 ms). Default: 1 s"
            ))
            .minimum(1_000_000)
            .default_value(gst::ClockTime::SECOND.nseconds())
            .mutable_ready()
            .build(),
        glib::ParamSpecString::builder("report-location")
            .nick("Report location")
            .blurb("Report file, valid after every write (none: messages only). Default: none")
            .mutable_ready()
            .build(),
        crate::ReportFormat::param_spec(),
        glib::ParamSpecEnum::builder_with_default("profile", crate::Profile::None)
            .nick("Profile")
            .blurb("Delivery profile the report ends with a verdict on (a qc-verdict message, report entries listing each failing item with its time range): none; ebu-r128 (-23 LUFS +/- 1 LU, true peak -1 dBTP); netflix (-27 LKFS +/- 2 LU, -2 dBTP; programme loudness, not dialogue-gated); dpp (-23 LUFS +/- 0.5 LU, -1 dBTP, photosensitive flashes, EBU R103 legal range and timestamp gaps or jumps fail). Default: none")
            .mutable_ready()
            .build(),
    ]
}
