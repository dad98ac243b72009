//! The element: measures every audio buffer it passes on (silence, clipping, EBU R128
//! loudness), never modifies or holds one. The state sits in a lock-free cell: the streaming
//! thread takes no lock.

use std::sync::{LazyLock, Mutex};

use ebur128::{EbuR128, Mode};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use mediaai_common::lockfree::Exclusive;

use crate::channels::{ChannelStats, OUT_OF_PHASE};
use crate::events::{timestamp_event, Event, Kind, Ns, SampleRuns};
use crate::loudness::{LoudnessRange, TruePeak};

/// Seconds of 100 ms blocks out of phase that make an `out-of-phase` event.
const OUT_OF_PHASE_SECONDS: u64 = 1;
use crate::report::{Report, Value};
use crate::verdict::Verdict;
use crate::{reporting, Profile, ReportFormat};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "qcaudio",
        gst::DebugColorFlags::empty(),
        Some("Audio quality control analyser"),
    )
});

#[derive(Debug, Clone)]
struct Settings {
    message_interval: gst::ClockTime,
    report_location: Option<String>,
    report_format: ReportFormat,
    silence_noise_db: f64,
    silence_min_duration: f64,
    clip_min_samples: u32,
    profile: Profile,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            message_interval: gst::ClockTime::SECOND,
            report_location: None,
            report_format: ReportFormat::Json,
            profile: Profile::None,
            silence_noise_db: -60.0,
            silence_min_duration: 2.0,
            clip_min_samples: 3,
        }
    }
}

struct State {
    rate: u64,
    channels: usize,
    /// F32 (else S16).
    float: bool,
    r128: EbuR128,
    silence: SampleRuns,
    clipping: SampleRuns,
    /// DC offset and the phase of the first two channels, and runs of 100 ms blocks out of
    /// phase (counted in sample frames).
    channel_stats: ChannelStats,
    out_of_phase: SampleRuns,
    /// Per channel: runs silent while another channel is not (a dead or muted channel).
    channel_silence: Vec<SampleRuns>,
    /// Linear magnitude under which a sample is silent.
    silence_level: f32,
    /// Sample frames seen.
    samples: u64,
    /// The stream time of a sample frame (time, frame number): sample frames are timed from
    /// it. Set by the first buffer and again by each buffer after a flush, a new segment or a
    /// gap or jump in the timestamps.
    origin: Option<(Ns, u64)>,
    /// A flush or a new segment came: the next buffer's timestamp starts a new timeline.
    new_timeline: bool,
    /// Sample frames between messages, and when the next is due.
    interval: u64,
    next_message: u64,
    /// Peak magnitude since the last message, and the true peak (4x oversampled, BS.1770-4).
    peak: f32,
    true_peak: TruePeak,
    /// Sample frames given to the loudness meter, the next 100 ms boundary (where short-term
    /// loudness is sampled for the loudness range) and the range's histogram.
    metered: u64,
    next_block: u64,
    lra: LoudnessRange,
    /// The final message went out (EOS) and no sample came since: stopping posts no second.
    finished: bool,
    report: Option<Report>,
    /// What the profile fails, kept for the verdict at the end (across caps changes).
    verdict: Verdict,
}

#[derive(Default)]
pub struct QcAudio {
    settings: Mutex<Settings>,
    state: Exclusive<Option<State>>,
}

#[glib::object_subclass]
impl ObjectSubclass for QcAudio {
    const NAME: &'static str = "GstQcAudio";
    type Type = super::QcAudio;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for QcAudio {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let mut specs = reporting::report_properties("qcaudio").to_vec();
            specs.extend([
                glib::ParamSpecDouble::builder("silence-noise")
                    .nick("Silence noise")
                    .blurb("Level (dBFS) under which every channel must stay for silence (FFmpeg silencedetect n). Default: -60")
                    .minimum(-200.0)
                    .maximum(0.0)
                    .default_value(-60.0)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("silence-min-duration")
                    .nick("Silence minimum duration")
                    .blurb("Seconds of silence before it is reported (FFmpeg silencedetect d). Default: 2")
                    .minimum(0.0)
                    .maximum(86400.0)
                    .default_value(2.0)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("clip-min-samples")
                    .nick("Clipping minimum samples")
                    .blurb("Consecutive sample frames at full scale (any channel) that make a clipping event. Default: 3")
                    .minimum(1)
                    .default_value(3)
                    .mutable_ready()
                    .build(),
            ]);
            specs
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock().expect("settings lock");
        match pspec.name() {
            "message-interval" => {
                s.message_interval =
                    gst::ClockTime::from_nseconds(value.get().expect("type checked upstream"))
            }
            "report-location" => s.report_location = value.get().expect("type checked upstream"),
            "report-format" => s.report_format = value.get().expect("type checked upstream"),
            "profile" => s.profile = value.get().expect("type checked upstream"),
            "silence-noise" => s.silence_noise_db = value.get().expect("type checked upstream"),
            "silence-min-duration" => {
                s.silence_min_duration = value.get().expect("type checked upstream")
            }
            "clip-min-samples" => s.clip_min_samples = value.get().expect("type checked upstream"),
            _ => unreachable!("only the properties above are installed"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().expect("settings lock");
        match pspec.name() {
            "message-interval" => s.message_interval.nseconds().to_value(),
            "report-location" => s.report_location.to_value(),
            "report-format" => s.report_format.to_value(),
            "profile" => s.profile.to_value(),
            "silence-noise" => s.silence_noise_db.to_value(),
            "silence-min-duration" => s.silence_min_duration.to_value(),
            "clip-min-samples" => s.clip_min_samples.to_value(),
            _ => unreachable!("only the properties above are installed"),
        }
    }
}

impl GstObjectImpl for QcAudio {}

impl ElementImpl for QcAudio {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            mediaai_common::element_metadata(
                "Audio quality control analyser",
                "Filter/Analyzer/Audio",
                "Finds silence (as FFmpeg's silencedetect decides it) and clipping, measures EBU R128 loudness (momentary, short-term, integrated), loudness range (EBU Tech 3342), sample and true peaks (ITU-R BS.1770-4), and reports them as element messages and a JSON file; buffers pass untouched",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst_audio::AudioCapsBuilder::new_interleaved()
                .format_list([gst_audio::AudioFormat::F32le, gst_audio::AudioFormat::S16le])
                .channels_range(1..=64)
                .build();
            ["src", "sink"]
                .into_iter()
                .zip([gst::PadDirection::Src, gst::PadDirection::Sink])
                .map(|(name, dir)| {
                    gst::PadTemplate::new(name, dir, gst::PadPresence::Always, &caps)
                        .expect("a template from fixed names and valid caps")
                })
                .collect()
        });
        TEMPLATES.as_ref()
    }
}

/// Samples converted at a time (whole frames of up to 64 channels).
const CHUNK: usize = 1024;

/// Sample frame `n` as stream time.
fn time(state: &State, n: u64) -> Ns {
    let (t0, n0) = state.origin.unwrap_or((0, 0));
    let ns = |frames: u64| frames * 1_000_000_000 / state.rate;
    if n >= n0 {
        t0 + ns(n - n0)
    } else {
        t0.saturating_sub(ns(n0 - n))
    }
}

/// How far a buffer's timestamp may stray from where the samples before it end: a
/// millisecond, and a sample of rounding.
const TIMESTAMP_TOLERANCE: Ns = 1_000_000;

impl BaseTransformImpl for QcAudio {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = true;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = true;

    fn set_caps(&self, incaps: &gst::Caps, _outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_audio::AudioInfo::from_caps(incaps)
            .map_err(|_| gst::loggable_error!(CAT, "invalid caps {incaps}"))?;
        let s = self.settings.lock().expect("settings lock").clone();
        let (rate, channels) = (info.rate(), info.channels());
        let r128 = EbuR128::new(
            channels,
            rate,
            // Histograms: integrated loudness and loudness range without storing every block.
            Mode::M | Mode::S | Mode::I | Mode::SAMPLE_PEAK | Mode::HISTOGRAM,
        )
        .map_err(|e| gst::loggable_error!(CAT, "loudness meter for {incaps}: {e:?}"))?;
        let previous = self.state.with(|st| st.take()).flatten();
        // A new format goes on with the same report; only the first caps open it.
        let (report, verdict) = match previous {
            Some(old) => (old.report, old.verdict),
            None => (
                reporting::open_report(
                    self.obj().upcast_ref(),
                    s.report_location.as_deref(),
                    s.report_format.format(),
                    &[
                        ("rate", Value::Int(rate as u64)),
                        ("channels", Value::Int(channels as u64)),
                    ],
                )?,
                Verdict::new(s.profile),
            ),
        };
        let rate = rate as u64;
        let interval = (s.message_interval.nseconds() * rate / 1_000_000_000).max(1);
        let state = State {
            rate,
            channels: channels as usize,
            float: info.format() == gst_audio::AudioFormat::F32le,
            r128,
            silence: SampleRuns::new((s.silence_min_duration * rate as f64).round() as u64),
            clipping: SampleRuns::new(s.clip_min_samples as u64),
            channel_stats: ChannelStats::new(channels as usize, rate),
            out_of_phase: SampleRuns::new(rate * OUT_OF_PHASE_SECONDS),
            channel_silence: vec![
                SampleRuns::new(
                    (s.silence_min_duration * rate as f64).round() as u64
                );
                if channels > 1 { channels as usize } else { 0 }
            ],
            silence_level: 10f64.powf(s.silence_noise_db / 20.0) as f32,
            samples: 0,
            origin: None,
            new_timeline: true,
            interval,
            next_message: interval,
            peak: 0.0,
            true_peak: TruePeak::new(channels as usize),
            metered: 0,
            next_block: (rate / 10).max(1),
            lra: LoudnessRange::default(),
            finished: false,
            report,
            verdict,
        };
        self.state
            .with(|st| *st = Some(state))
            .ok_or_else(|| gst::loggable_error!(CAT, "state busy at caps"))
    }

    fn transform_ip_passthrough(
        &self,
        buf: &gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let map = buf.map_readable().map_err(|_| gst::FlowError::Error)?;
        let done = self.state.with(|st| {
            let Some(state) = st.as_mut() else {
                return Err(gst::FlowError::NotNegotiated);
            };
            if let Some(pts) = buf.pts().map(|t| t.nseconds()) {
                self.check_timestamp(state, pts);
            } else if state.origin.is_none() {
                state.origin = Some((0, state.samples));
            }
            self.analyse(state, map.as_slice());
            Ok(())
        });
        match done {
            Some(r) => r.map(|_| gst::FlowSuccess::Ok),
            // Another call holds the state (not on one streaming thread): measured for nothing.
            None => Ok(gst::FlowSuccess::Ok),
        }
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        match event.view() {
            gst::EventView::Eos(_) => self.finish(),
            gst::EventView::FlushStop(_) | gst::EventView::Segment(_) => {
                self.state.with(|st| {
                    if let Some(state) = st.as_mut() {
                        state.new_timeline = true;
                    }
                });
            }
            _ => {}
        }
        self.parent_sink_event(event)
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        self.finish();
        self.state.with(|st| *st = None);
        Ok(())
    }
}

impl QcAudio {
    /// Silence, clipping and peaks of one buffer's samples, then loudness.
    fn analyse(&self, state: &mut State, bytes: &[u8]) {
        state.finished = false;
        let ch = state.channels;
        let silence_level = state.silence_level;
        // Every run that ends is recorded at once: a buffer may end several.
        let frame = |state: &mut State, magnitude: f32, clipped: bool| {
            let n = state.samples;
            state.peak = state.peak.max(magnitude);
            if let Some(run) = state.silence.sample(n, magnitude < silence_level) {
                self.record_run(state, Kind::Silence, run);
            }
            if let Some(run) = state.clipping.sample(n, clipped) {
                self.record_run(state, Kind::Clipping, run);
            }
            state.samples += 1;
        };
        // Whole frames through a stack buffer as f32: no alignment assumed of the mapped
        // memory, nothing allocated; full scale is 1.0 (F32) or 32767/32768 (S16).
        let (size, clip) = if state.float {
            (4, 1.0)
        } else {
            (2, 32767.0 / 32768.0)
        };
        let per_chunk = (CHUNK / ch).max(1) * ch;
        let mut floats = [0f32; CHUNK];
        for chunk in bytes.chunks(per_chunk * size) {
            let n = chunk.len() / size / ch * ch;
            for (f, b) in floats[..n].iter_mut().zip(chunk.chunks_exact(size)) {
                *f = if size == 4 {
                    f32::from_le_bytes([b[0], b[1], b[2], b[3]])
                } else {
                    i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0
                };
            }
            for f in floats[..n].chunks_exact(ch) {
                let m = f.iter().fold(0f32, |m, v| m.max(v.abs()));
                frame(state, m, m >= clip);
                state.true_peak.push(f);
                // One channel silent while another is not; frames silent in every channel
                // (pauses) neither end such a run nor start one.
                if m >= silence_level {
                    let n = state.samples - 1;
                    for (c, v) in f.iter().enumerate().take(state.channel_silence.len()) {
                        let quiet = v.abs() < silence_level;
                        if let Some(run) = state.channel_silence[c].sample(n, quiet) {
                            self.record_channel_run(state, c, run);
                        }
                    }
                }
                // A 100 ms block with sound ends: out of phase or not, from its first sample
                // frame (quiet blocks, pauses, neither end a run nor start one).
                if let Some(Some(c)) = state.channel_stats.push(f) {
                    let first = state.samples.saturating_sub(state.rate / 10);
                    if let Some(run) = state.out_of_phase.sample(first, c < OUT_OF_PHASE) {
                        self.record_run(state, Kind::OutOfPhase, run);
                    }
                }
            }
            // To the meter in pieces that end on the 100 ms boundaries, where short-term
            // loudness is sampled for the loudness range.
            let mut fed = 0;
            while fed < n {
                let take = (n - fed).min((state.next_block - state.metered) as usize * ch);
                let _ = state.r128.add_frames_f32(&floats[fed..fed + take]);
                fed += take;
                state.metered += (take / ch) as u64;
                if state.metered == state.next_block {
                    state.next_block += (state.rate / 10).max(1);
                    // Once the 3 s window is full (before, it would average in silence).
                    if state.metered >= 3 * state.rate {
                        if let Ok(st) = state.r128.loudness_shortterm() {
                            state.lra.add(st);
                        }
                    }
                }
            }
        }
        if state.samples >= state.next_message {
            state.next_message = state.samples + state.interval;
            self.post_interval(state, false);
        }
    }

    /// A buffer starting at `pts`: where its samples lie, and a `timestamp-gap` (later than
    /// the samples before it end) or `timestamp-jump` (earlier: back, or overlapping) event
    /// when it strays, except after a flush or a new segment.
    fn check_timestamp(&self, state: &mut State, pts: Ns) {
        let n = state.samples;
        let expected = time(state, n);
        let tolerance = TIMESTAMP_TOLERANCE + 1_000_000_000 / state.rate;
        let fresh = std::mem::take(&mut state.new_timeline) || state.origin.is_none();
        let event = if fresh {
            None
        } else {
            match timestamp_event(expected, pts, tolerance) {
                None => return,
                e => e,
            }
        };
        state.origin = Some((pts, n));
        if let Some(e) = event {
            reporting::record_event(
                self.obj().upcast_ref(),
                state.report.as_mut(),
                &mut state.verdict,
                e,
            );
        }
    }

    /// A finished run of sample frames `first..end` in which channel `c` alone was silent.
    fn record_channel_run(&self, state: &mut State, c: usize, (first, end): (u64, u64)) {
        let e = Event {
            kind: Kind::ChannelSilence,
            start: time(state, first),
            end: time(state, end),
        };
        reporting::record_measured_event(
            self.obj().upcast_ref(),
            state.report.as_mut(),
            &mut state.verdict,
            e,
            &[("channel", c as f64)],
        );
    }

    /// A finished run of sample frames `first..end`: its message and report entry.
    fn record_run(&self, state: &mut State, kind: Kind, (first, end): (u64, u64)) {
        let e = Event {
            kind,
            start: time(state, first),
            end: time(state, end),
        };
        reporting::record_event(
            self.obj().upcast_ref(),
            state.report.as_mut(),
            &mut state.verdict,
            e,
        );
    }

    /// The `qcaudio` element message (`timestamp`, `momentary`, `short-term`, `integrated`
    /// LUFS, `peak` dBFS and `true-peak` dBTP since the last one, `max-true-peak` dBTP and
    /// `loudness-range` LU so far, the largest channel's `dc-offset` (full scale 1) and the
    /// lowest 100 ms `phase-correlation` of the first two channels since the last one, `final`
    /// at the end) and its report entry, written.
    fn post_interval(&self, state: &mut State, last: bool) {
        let lufs = |r: Result<f64, ebur128::Error>| r.unwrap_or(f64::NEG_INFINITY);
        let (m, st, i) = (
            lufs(state.r128.loudness_momentary()),
            lufs(state.r128.loudness_shortterm()),
            lufs(state.r128.loudness_global()),
        );
        let db = |v: f64| 20.0 * v.max(1e-10).log10();
        let peak = db(state.peak as f64);
        if last {
            state.true_peak.finish();
        }
        let true_peak = db(state.true_peak.take() as f64);
        state.peak = 0.0;
        // Loudness range (EBU Tech 3342) so far; none before 3 s of sound.
        let lra = state.lra.range().unwrap_or(0.0);
        // The stream's true peak so far, over every channel.
        let max_true_peak = db(state.true_peak.max() as f64);
        let dc = state.channel_stats.take_dc();
        // 1 for mono (or no sound in both channels): nothing out of phase to report.
        let correlation = state.channel_stats.take_correlation().unwrap_or(1.0);
        let t = time(state, state.samples);
        let s = gst::Structure::builder("qcaudio")
            .field("timestamp", gst::ClockTime::from_nseconds(t))
            .field("momentary", m)
            .field("short-term", st)
            .field("integrated", i)
            .field("peak", peak)
            .field("true-peak", true_peak)
            .field("max-true-peak", max_true_peak)
            .field("loudness-range", lra)
            .field("dc-offset", dc)
            .field("phase-correlation", correlation)
            .field("final", last)
            .build();
        reporting::post(self.obj().upcast_ref(), s);
        if let Some(r) = state.report.as_mut() {
            // Silence so far has no loudness: written as null.
            r.entry(&[
                ("time", Value::Num(reporting::secs(t))),
                ("momentary", Value::Num(m)),
                ("short_term", Value::Num(st)),
                ("integrated", Value::Num(i)),
                ("peak", Value::Num(peak)),
                ("true_peak", Value::Num(true_peak)),
                ("max_true_peak", Value::Num(max_true_peak)),
                ("loudness_range", Value::Num(lra)),
                ("dc_offset", Value::Num(dc)),
                ("phase_correlation", Value::Num(correlation)),
                ("final", Value::Bool(last)),
            ]);
        }
        reporting::write_report(self.obj().upcast_ref(), state.report.as_mut());
    }

    /// End of stream: open runs closed, the integrated loudness posted, everything written.
    fn finish(&self) {
        self.state.with(|st| {
            let Some(state) = st.as_mut().filter(|s| !s.finished) else {
                return;
            };
            state.finished = true;
            let n = state.samples;
            let ended = [
                state.silence.finish(n).map(|r| (Kind::Silence, r)),
                state.clipping.finish(n).map(|r| (Kind::Clipping, r)),
                state.out_of_phase.finish(n).map(|r| (Kind::OutOfPhase, r)),
            ];
            for (kind, run) in ended.into_iter().flatten() {
                self.record_run(state, kind, run);
            }
            for c in 0..state.channel_silence.len() {
                if let Some(run) = state.channel_silence[c].finish(n) {
                    self.record_channel_run(state, c, run);
                }
            }
            self.post_interval(state, true);
            // The verdict: the programme's loudness and true peak against the profile, then
            // the runs it fails; the duration the sample frames make.
            let integrated = state.r128.loudness_global().unwrap_or(f64::NEG_INFINITY);
            let true_peak = 20.0 * (state.true_peak.max() as f64).max(1e-10).log10();
            let (start, end) = (time(state, 0), time(state, n));
            state.verdict.sound(start, end, integrated, true_peak);
            // A buffer's worth of tolerance: 100 ms (the least `truncation` allows).
            let segment = gst_base::prelude::BaseTransformExtManual::segment(&*self.obj());
            reporting::record_truncation(
                self.obj().upcast_ref(),
                state.report.as_mut(),
                &mut state.verdict,
                &segment,
                end,
                0,
            );
            let duration = n * 1_000_000_000 / state.rate.max(1);
            reporting::conclude(
                self.obj().upcast_ref(),
                state.report.as_mut(),
                &state.verdict,
                start,
                duration,
            );
        });
    }
}
