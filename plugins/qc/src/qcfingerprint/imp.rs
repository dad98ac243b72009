//! The element: measures every buffer it passes on, never modifies or holds one. On the GPU a
//! frame's results are read back when the next frame has been submitted (or at EOS, new caps,
//! stop), so the GPU's work overlaps the streaming thread's.

use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::BaseTransformExt;
use gst_base::subclass::prelude::*;

use std::collections::VecDeque;

use mediaai_common::frames;
use mediaai_common::gpumemory;
use mediaai_common::planes::PlaneRows;
use mediaai_common::sampler::luma_coefficients;

use super::Backend;
use crate::events::{timestamp_event, BlackDetector, Event, Freeze, FreezeDetector, Ns};
use crate::fingerprint::{self, Fingerprinter};
use crate::flashes::{FlashDetector, Flashes};
use crate::gamut::{Gamut, GamutRuns};
use crate::gpu::{GpuAnalysis, GridSampling, Source};
use crate::report::{Report, Value};
use crate::reporting::{self, secs};
use crate::stats::{self, Analyser, FrameStats, Plane};
use crate::verdict::Verdict;
use crate::{Profile, ReportFormat};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "qcfingerprint",
        gst::DebugColorFlags::empty(),
        Some("Quality control analyser"),
    )
});

const FORMATS: [gst_video::VideoFormat; 3] = [
    gst_video::VideoFormat::I420,
    gst_video::VideoFormat::Y42b,
    gst_video::VideoFormat::Y444,
];

#[derive(Debug, Clone)]
struct Settings {
    message_interval: gst::ClockTime,
    report_location: Option<String>,
    report_format: ReportFormat,
    black_min_duration: f64,
    black_ratio: f64,
    black_pixel: f64,
    freeze_min_duration: f64,
    freeze_noise_db: f64,
    reference: Option<String>,
    match_bits: f64,
    gamut_tolerance: f64,
    profile: Profile,
    backend: Backend,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            message_interval: gst::ClockTime::SECOND,
            report_location: None,
            report_format: ReportFormat::Json,
            black_min_duration: 2.0,
            black_ratio: 0.98,
            black_pixel: 0.10,
            freeze_min_duration: 2.0,
            freeze_noise_db: -60.0,
            reference: None,
            match_bits: 10.0,
            gamut_tolerance: 0.01,
            profile: Profile::None,
            backend: Backend::Auto,
        }
    }
}

/// Sums over one message interval.
#[derive(Default)]
struct Interval {
    start: Option<Ns>,
    frames: u64,
    luma_sum: f64,
    luma_min: u8,
    luma_max: u8,
    below_16: u64,
    above_235: u64,
    pixels: u64,
    /// The largest share of a frame's pixels out of the legal range.
    gamut_max: f64,
}

struct State {
    info: gst_video::VideoInfo,
    analyser: Analyser,
    stats: FrameStats,
    black_level: u8,
    black: BlackDetector,
    freeze: FreezeDetector,
    /// The first frame of the current freeze candidate (a reference, not a copy).
    reference: Option<gst::Buffer>,
    interval: Interval,
    message_interval: Ns,
    /// End of the last frame seen.
    end: Ns,
    report: Option<Report>,
    fingerprinter: Fingerprinter,
    matcher: Option<Matcher>,
    /// The measurements' GPU path, when in use, and the histograms it reads back.
    gpu: Option<GpuAnalysis>,
    histograms: [[u64; 256]; 3],
    /// The frame the GPU is measuring (start and end): accounted when the next one comes,
    /// or at EOS, new caps or stop.
    in_flight: Option<(Ns, Ns)>,
    /// Where the last frame ended (its timestamp and duration, or a frame of the caps' rate),
    /// for `timestamp-gap`/`timestamp-jump` events; `None` at the start, after a flush or a
    /// new segment.
    expected: Option<Ns>,
    /// Legal range (EBU R103) and photosensitive flashes (measured where the statistics are),
    /// and the share of the last frame's pixels out of range.
    gamut: Gamut,
    gamut_runs: GamutRuns,
    flashes: FlashDetector,
    gamut_share: f64,
    /// What the profile fails, kept for the verdict at the end, and the first frame's time
    /// (across caps changes).
    verdict: Verdict,
    first: Option<Ns>,
    /// The verdict went out (EOS) and no frame came since: stopping posts no second.
    concluded: bool,
}

/// Frames in the window matched against a reference.
const WINDOW: usize = 25;

/// Match mode: the reference's fingerprints and the stream's latest ones.
struct Matcher {
    times: Vec<Ns>,
    hashes: Vec<u64>,
    /// Oldest first, at most `WINDOW`, with their times.
    window: VecDeque<u64>,
    window_times: VecDeque<Ns>,
    /// Mean differing bits under which the window matches.
    max_bits: f64,
    /// The current match: reference time minus stream time, and confidence.
    current: Option<(i64, f64)>,
}

impl Matcher {
    /// Reads the fingerprints of a report this element wrote.
    fn load(path: &str, max_bits: f64) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        let (mut times, hashes): (Vec<Ns>, Vec<u64>) = crate::report::read_fingerprints(&text)
            .into_iter()
            .map(|(pts, fp)| (ns(pts), fp))
            .unzip();
        // Positions from the reference's first frame, whatever its container's first timestamp
        // (an entry before it, in a damaged file, counts as at it).
        if let Some(&first) = times.first() {
            times.iter_mut().for_each(|t| *t = t.saturating_sub(first));
        }
        if hashes.len() < WINDOW {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} fingerprints, {WINDOW} needed (a qcfingerprint report?)",
                    hashes.len()
                ),
            ));
        }
        Ok(Matcher {
            times,
            hashes,
            window: VecDeque::with_capacity(WINDOW),
            window_times: VecDeque::with_capacity(WINDOW),
            max_bits,
            current: None,
        })
    }

    /// Adds a frame's hash; returns the match's change, if any: `Some(Some(..))` a match
    /// began (or moved), `Some(None)` it ended.
    fn frame(&mut self, pts: Ns, hash: u64) -> Option<Option<(i64, f64)>> {
        if self.window.len() == WINDOW {
            self.window.pop_front();
            self.window_times.pop_front();
        }
        self.window.push_back(hash);
        self.window_times.push_back(pts);
        if self.window.len() < WINDOW {
            return None;
        }
        let found = fingerprint::best_match(&self.hashes, self.window.make_contiguous())
            .filter(|m| m.distance <= self.max_bits)
            .map(|m| {
                let offset = self.times[m.offset] as i64 - self.window_times[0] as i64;
                (offset, m.confidence())
            });
        let changed = match (self.current, found) {
            (None, None) => false,
            (Some(_), None) | (None, Some(_)) => true,
            // The same alignment within 100 ms (a copy at another frame rate or slowed a
            // little wavers by a frame): no news.
            (Some((a, _)), Some((b, _))) => (a - b).abs() > 100_000_000,
        };
        self.current = found;
        changed.then_some(found)
    }
}

#[derive(Default)]
pub struct QcFingerprint {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

#[glib::object_subclass]
impl ObjectSubclass for QcFingerprint {
    const NAME: &'static str = "GstQcFingerprint";
    type Type = super::QcFingerprint;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for QcFingerprint {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let seconds = |name: &str, nick: &str, blurb: &str, default: f64| {
                glib::ParamSpecDouble::builder(name)
                    .nick(nick)
                    .blurb(blurb)
                    .minimum(0.0)
                    .maximum(86400.0)
                    .default_value(default)
                    .mutable_ready()
                    .build()
            };
            let mut specs = reporting::report_properties("qcfingerprint").to_vec();
            specs.extend([
                seconds("black-min-duration", "Black minimum duration", "Seconds of black before a black run is reported (FFmpeg blackdetect d). Default: 2", 2.0),
                glib::ParamSpecDouble::builder("black-ratio")
                    .nick("Black picture ratio")
                    .blurb("Share of black pixels that makes a frame black (FFmpeg blackdetect pic_th). Default: 0.98")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(0.98)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("black-pixel-threshold")
                    .nick("Black pixel threshold")
                    .blurb("A pixel is black at or under 16 + this share of 16..235 (FFmpeg blackdetect pix_th). Default: 0.10")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(0.10)
                    .mutable_ready()
                    .build(),
                seconds("freeze-min-duration", "Freeze minimum duration", "Seconds of unchanged video before a freeze is reported (FFmpeg freezedetect d). Default: 2", 2.0),
                glib::ParamSpecString::builder("reference")
                    .nick("Reference")
                    .blurb("A JSON report this element wrote for the reference content: the stream is matched against its fingerprints (`qc-match` messages and report entries). Default: none")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("match-bits")
                    .nick("Match bits")
                    .blurb("Mean differing bits (of 63) per frame over a 25-frame window under which the stream matches the reference (unrelated pictures differ by about 31). Default: 10")
                    .minimum(0.0)
                    .maximum(63.0)
                    .default_value(10.0)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("gamut-tolerance")
                    .nick("Gamut tolerance")
                    .blurb("Share of a frame's pixels that may lie outside the legal range before it counts (EBU R103: luma, or R, G or B computed with the stream's matrix, outside 5..246 of 8-bit studio levels, i.e. -5% to 105%); runs of frames beyond it are gamut events with their largest share. Default: 0.01")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(0.01)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("backend", Backend::Auto)
                    .nick("Backend")
                    .blurb("Where the statistics (histograms), the legal-range count and the flash cells are computed: auto (a hardware GPU when there is one, else the CPU), gpu (any adapter, software ones included), cpu; the numbers are the same. Default: auto")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("freeze-noise")
                    .nick("Freeze noise")
                    .blurb("Mean absolute difference (dB of full scale) under which frames count as the same (FFmpeg freezedetect n). Default: -60")
                    .minimum(-200.0)
                    .maximum(0.0)
                    .default_value(-60.0)
                    .mutable_ready()
                    .build(),
            ]);
            specs
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock().expect("settings lock");
        let get = || value.get::<f64>().expect("type checked upstream");
        match pspec.name() {
            "message-interval" => {
                s.message_interval =
                    gst::ClockTime::from_nseconds(value.get().expect("type checked upstream"))
            }
            "report-location" => s.report_location = value.get().expect("type checked upstream"),
            "report-format" => s.report_format = value.get().expect("type checked upstream"),
            "profile" => s.profile = value.get().expect("type checked upstream"),
            "black-min-duration" => s.black_min_duration = get(),
            "black-ratio" => s.black_ratio = get(),
            "black-pixel-threshold" => s.black_pixel = get(),
            "freeze-min-duration" => s.freeze_min_duration = get(),
            "freeze-noise" => s.freeze_noise_db = get(),
            "reference" => s.reference = value.get().expect("type checked upstream"),
            "match-bits" => s.match_bits = get(),
            "gamut-tolerance" => s.gamut_tolerance = get(),
            "backend" => s.backend = value.get().expect("type checked upstream"),
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
            "black-min-duration" => s.black_min_duration.to_value(),
            "black-ratio" => s.black_ratio.to_value(),
            "black-pixel-threshold" => s.black_pixel.to_value(),
            "freeze-min-duration" => s.freeze_min_duration.to_value(),
            "freeze-noise" => s.freeze_noise_db.to_value(),
            "reference" => s.reference.to_value(),
            "match-bits" => s.match_bits.to_value(),
            "gamut-tolerance" => s.gamut_tolerance.to_value(),
            "backend" => s.backend.to_value(),
            _ => unreachable!("only the properties above are installed"),
        }
    }
}

impl GstObjectImpl for QcFingerprint {}

impl ElementImpl for QcFingerprint {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            mediaai_common::element_metadata(
                "Quality control analyser",
                "Filter/Analyzer/Video",
                "Measures every frame (mean, deviation, luma histogram, broadcast-range violations), finds black and frozen runs as FFmpeg's blackdetect and freezedetect do, and reports them as element messages and a JSON file; buffers pass untouched",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> =
            LazyLock::new(|| mediaai_common::templates::gpu_or_system_video(&FORMATS));
        TEMPLATES.as_ref()
    }
}

/// Seconds as nanoseconds.
fn ns(seconds: f64) -> Ns {
    (seconds * 1e9).round() as Ns
}

/// Width and height of each of the three planes.
fn plane_sizes(info: &gst_video::VideoInfo) -> [(usize, usize); 3] {
    std::array::from_fn(|p| {
        (
            info.comp_width(p as u8) as usize,
            info.comp_height(p as u8) as usize,
        )
    })
}

/// The three planes of a mapped frame (the formats are all three-plane YUV).
fn planes<'a>(f: &'a gst_video::VideoFrameRef<&gst::BufferRef>) -> [Plane<'a>; 3] {
    std::array::from_fn(|p| Plane::of(f, p as u32).expect("three-plane formats only"))
}

impl BaseTransformImpl for QcFingerprint {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = true;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = true;

    mediaai_common::in_place_gpu_caps!();

    fn set_caps(&self, incaps: &gst::Caps, _outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_video::VideoInfo::from_caps(incaps)
            .map_err(|_| gst::loggable_error!(CAT, "invalid caps {incaps}"))?;
        // Measuring only: buffers pass as they came, also from GPU to system-memory caps.
        self.obj().set_passthrough(true);
        let s = self.settings.lock().expect("settings lock").clone();
        // A new format goes on with the same report; only the first caps open it.
        let (report, verdict, first) = match self.state.lock().expect("state lock").take() {
            Some(old) => (old.report, old.verdict, old.first),
            None => (
                reporting::open_report(
                    self.obj().upcast_ref(),
                    s.report_location.as_deref(),
                    s.report_format.format(),
                    &[
                        ("width", Value::Int(info.width() as u64)),
                        ("height", Value::Int(info.height() as u64)),
                        ("framerate", Value::Str(&info.fps().to_string())),
                    ],
                )?,
                Verdict::new(s.profile),
                None,
            ),
        };
        let matcher = match &s.reference {
            None => None,
            Some(path) => Some(Matcher::load(path, s.match_bits).map_err(|e| {
                gst::element_imp_error!(
                    self,
                    gst::ResourceError::OpenRead,
                    ["cannot read the reference {path}: {e}"]
                );
                gst::loggable_error!(CAT, "reference {path}: {e}")
            })?),
        };
        let planes: [PlaneRows; 3] = std::array::from_fn(|p| PlaneRows::of(&info, p));
        let (kr, kb) = luma_coefficients(info.colorimetry().matrix());
        let fingerprinter = Fingerprinter::new(info.width() as usize, info.height() as usize);
        let gamut = Gamut::new(kr, kb, info.width() as usize, info.height() as usize);
        let flashes = FlashDetector::new(kr, kb);
        let gpu = mediaai_common::gpu::Backend::from(s.backend)
            .open(
                || {
                    let (column_cell, row_cell, steps) = fingerprinter.sampling();
                    GpuAnalysis::new(
                        info.size(),
                        planes,
                        GridSampling {
                            column_cell,
                            row_cell,
                            steps,
                        },
                        &gamut,
                        &flashes,
                    )
                },
                |e| gst::warning!(CAT, imp = self, "no GPU ({e}): statistics on the CPU"),
            )
            .map_err(|e| {
                gst::element_imp_error!(self, gst::ResourceError::NotFound, ["{e}"]);
                gst::loggable_error!(CAT, "{e}")
            })?;
        let state = State {
            gpu,
            histograms: [[0; 256]; 3],
            in_flight: None,
            expected: None,
            analyser: Analyser::new(info.height() as usize),
            stats: FrameStats::default(),
            black_level: BlackDetector::pixel_threshold(s.black_pixel),
            black: BlackDetector::new(ns(s.black_min_duration), s.black_ratio),
            freeze: FreezeDetector::new(
                ns(s.freeze_min_duration),
                FreezeDetector::noise_from_db(s.freeze_noise_db),
            ),
            reference: None,
            interval: Interval::default(),
            message_interval: s.message_interval.nseconds(),
            end: 0,
            report,
            fingerprinter,
            matcher,
            gamut,
            gamut_runs: GamutRuns::new(s.gamut_tolerance),
            flashes,
            gamut_share: 0.0,
            verdict,
            first,
            concluded: false,
            info,
        };
        *self.state.lock().expect("state lock") = Some(state);
        Ok(())
    }

    fn transform_ip_passthrough(
        &self,
        buf: &gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let mut guard = self.state.lock().expect("state lock");
        let Some(state) = guard.as_mut() else {
            gst::element_imp_error!(self, gst::CoreError::Negotiation, ["buffer before caps"]);
            return Err(gst::FlowError::NotNegotiated);
        };
        let Some(pts) = buf.pts().map(|t| t.nseconds()) else {
            // Nothing to place it in time: measured for nothing, passed on.
            return Ok(gst::FlowSuccess::Ok);
        };
        let too_small = || frames::too_small(self.obj().upcast_ref());
        let end = pts + buf.duration().map_or(0, |d| d.nseconds());
        state.first.get_or_insert(pts);
        state.concluded = false;
        self.check_timestamp(state, pts, buf.duration().map(|d| d.nseconds()));
        // The GPU path measures everything (statistics, fingerprint, difference) from the
        // frame where it lies; a GPU frame is never read back here. It runs one frame behind:
        // this frame's measuring is queued, then the previous frame's results are read back
        // (the GPU did its work meanwhile) and accounted.
        if let Some(g) = state.gpu.as_mut() {
            let resident = gpumemory::buffer_gpu_frame(buf)
                .filter(|_| gpumemory::lies_as_caps(buf, &state.info))
                .zip(mediaai_common::gpu::context().ok());
            let host;
            let source = match resident {
                Some((frame, ctx)) => Source::Gpu(frame.gpu_buffer(ctx)),
                None => {
                    host = buf.map_readable().map_err(|_| gst::FlowError::Error)?;
                    if host.size() < state.info.size() {
                        return Err(too_small());
                    }
                    Source::Host(host.as_slice())
                }
            };
            match g.submit(source) {
                Ok(()) => {
                    let previous = state.in_flight.replace((pts, end));
                    if let Some(previous) = previous {
                        self.settle(state, previous);
                    }
                    if state.gpu.is_some() {
                        return Ok(gst::FlowSuccess::Ok);
                    }
                    // The GPU failed (`gpu_failed` dropped what was in flight): this frame is
                    // measured on the CPU below.
                }
                Err(e) => self.gpu_failed(state, &e),
            }
        }
        let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buf.as_ref(), &state.info)
            .map_err(|_| too_small())?;
        state
            .analyser
            .measure(planes(&frame), state.black_level, &mut state.stats);
        self.check_compliance(state, &frame, pts, end);
        let difference = match &state.reference {
            Some(r) => {
                let rf =
                    gst_video::VideoFrameRef::from_buffer_ref_readable(r.as_ref(), &state.info)
                        .map_err(|_| gst::FlowError::Error)?;
                stats::mean_abs_difference(planes(&rf), planes(&frame))
            }
            None => 0.0,
        };
        let hash = state.fingerprinter.hash(planes(&frame)[0]);
        if self.account(state, pts, end, hash, difference) {
            state.reference = Some(buf.clone());
        }
        Ok(gst::FlowSuccess::Ok)
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        match event.view() {
            gst::EventView::Eos(_) => self.finish(),
            gst::EventView::Segment(_) => {
                if let Some(s) = self.state.lock().expect("state lock").as_mut() {
                    s.expected = None;
                }
            }
            gst::EventView::FlushStop(_) => {
                if let Some(s) = self.state.lock().expect("state lock").as_mut() {
                    s.expected = None;
                    s.freeze.reset();
                    s.flashes.reset();
                    s.reference = None;
                    s.in_flight = None;
                    if let Some(g) = s.gpu.as_mut() {
                        g.forget_reference();
                    }
                }
            }
            // The frame the GPU is measuring belongs to the caps before.
            gst::EventView::Caps(_) => {
                if let Some(s) = self.state.lock().expect("state lock").as_mut() {
                    self.settle_in_flight(s);
                }
            }
            _ => {}
        }
        self.parent_sink_event(event)
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        self.finish();
        *self.state.lock().expect("state lock") = None;
        Ok(())
    }
}

impl QcFingerprint {
    /// The checks delivery specs ask for, on a frame measured on the CPU, lasting `pts..end`:
    /// legal range (EBU R103) and photosensitive flashes (BT.1702).
    fn check_compliance(
        &self,
        state: &mut State,
        frame: &gst_video::VideoFrameRef<&gst::BufferRef>,
        pts: Ns,
        end: Ns,
    ) {
        let planes = planes(frame);
        state.gamut_share = state.gamut.measure(planes).share();
        let flashes = state.flashes.frame(pts, end, planes);
        self.record_checks(state, pts, flashes);
    }

    /// The checks' events for the frame at `pts` (its share out of range in `gamut_share`),
    /// measured on the CPU or the GPU: a gamut run that ended, failing runs of flashes.
    fn record_checks(&self, state: &mut State, pts: Ns, flashes: [Option<Flashes>; 2]) {
        let run = state.gamut_runs.frame(pts, state.gamut_share);
        self.record_gamut(state, run);
        for f in flashes.into_iter().flatten() {
            self.record_flashes(state, f);
        }
    }

    /// A gamut run that ended: its event, with the largest share of a frame out of range.
    fn record_gamut(&self, state: &mut State, run: Option<(Event, f64)>) {
        if let Some((e, share)) = run {
            reporting::record_measured_event(
                self.obj().upcast_ref(),
                state.report.as_mut(),
                &mut state.verdict,
                e,
                &[("share", share)],
            );
        }
    }

    /// A failing run of flashes: its event, with the most flashes in one second and the
    /// largest share of the screen.
    fn record_flashes(&self, state: &mut State, f: Flashes) {
        reporting::record_measured_event(
            self.obj().upcast_ref(),
            state.report.as_mut(),
            &mut state.verdict,
            f.event,
            &[("rate", f.rate), ("area", f.area)],
        );
    }

    /// A frame at `pts` lasting `duration` (else a frame of the caps' rate): a `timestamp-gap`
    /// or `timestamp-jump` event when it does not start where the frame before it ended
    /// (within half a frame).
    fn check_timestamp(&self, state: &mut State, pts: Ns, duration: Option<Ns>) {
        let fps = state.info.fps();
        let frame = (fps.numer() > 0 && fps.denom() > 0)
            .then(|| 1_000_000_000 * fps.denom() as u64 / fps.numer() as u64);
        let duration = duration.or(frame);
        let tolerance = duration.map_or(1_000_000, |d| d / 2);
        if let Some(e) = state
            .expected
            .and_then(|expected| timestamp_event(expected, pts, tolerance))
        {
            reporting::record_event(
                self.obj().upcast_ref(),
                state.report.as_mut(),
                &mut state.verdict,
                e,
            );
        }
        // Without a duration or a rate (variable-rate streams), nothing to expect.
        state.expected = duration.map(|d| pts + d);
    }

    /// Reads back the GPU's results for the frame at `pts` (the oldest in flight) and accounts
    /// them; if the GPU fails, measuring goes on on the CPU and that frame's statistics are
    /// lost (said in a warning).
    fn settle(&self, state: &mut State, (pts, end): (Ns, Ns)) {
        let Some(g) = state.gpu.as_mut() else {
            return;
        };
        let rows = g.rows();
        let measured = match g.finish() {
            Ok(Some(m)) => {
                state.histograms = *m.histograms;
                let pixels = (state.info.width() as u64 * state.info.height() as u64).max(1);
                state.gamut_share = m.out_of_range as f64 / pixels as f64;
                let flashes = state.flashes.frame_from_sums(pts, end, m.cells);
                let hash = state.fingerprinter.hash_of_sums(m.grid);
                let difference = m.differences.map_or(0.0, |d| {
                    stats::mean_abs_difference_of_rows(d, rows, plane_sizes(&state.info))
                });
                Some((hash, difference, flashes))
            }
            Ok(None) => None,
            Err(e) => {
                self.gpu_failed(state, &e);
                None
            }
        };
        let Some((hash, difference, flashes)) = measured else {
            return;
        };
        stats::finalize(&state.histograms, state.black_level, &mut state.stats);
        self.record_checks(state, pts, flashes);
        if self.account(state, pts, end, hash, difference) {
            // The reference stays on the GPU: a copy there, no buffer held.
            if let Some(g) = state.gpu.as_mut() {
                g.keep_as_reference();
            }
        }
    }

    /// Accounts the frame the GPU is still measuring, if any (EOS, new caps, stop).
    fn settle_in_flight(&self, state: &mut State) {
        if let Some(frame) = state.in_flight.take() {
            self.settle(state, frame);
        }
    }

    fn gpu_failed(&self, state: &mut State, e: &str) {
        let lost = if state.in_flight.is_some() {
            " (the statistics of the frame it was measuring are lost)"
        } else {
            ""
        };
        gst::element_imp_warning!(
            self,
            gst::ResourceError::Failed,
            ["GPU statistics failed ({e}); going on with the CPU{lost}"]
        );
        state.gpu = None;
        state.in_flight = None;
    }

    /// One measured frame into the detectors, the matcher, the interval and the report;
    /// returns whether it becomes the freeze detector's reference.
    fn account(&self, state: &mut State, pts: Ns, end: Ns, hash: u64, difference: f64) -> bool {
        state.end = end;
        let st = &state.stats;
        let black_share = st.black_pixels as f64 / st.pixels.max(1) as f64;
        let mut events: [Option<Event>; 2] = [state.black.frame(pts, black_share), None];
        let (freeze, new_reference) = state.freeze.frame(pts, difference);
        match freeze {
            Some(Freeze::Started(start)) => {
                reporting::post_event(self.obj().upcast_ref(), "freeze", "start", start, None)
            }
            Some(Freeze::Ended(e)) => events[1] = Some(e),
            None => {}
        }
        if let Some(change) = state.matcher.as_mut().and_then(|m| m.frame(pts, hash)) {
            self.record_match(state, pts, change);
        }
        self.record_frame(state, pts, hash);
        for e in events.into_iter().flatten() {
            reporting::record_event(
                self.obj().upcast_ref(),
                state.report.as_mut(),
                &mut state.verdict,
                e,
            );
        }
        if pts.saturating_sub(state.interval.start.unwrap_or(pts)) >= state.message_interval {
            self.end_interval(state);
        }
        new_reference
    }

    /// A frame's statistics into the interval and the report.
    fn record_frame(&self, state: &mut State, pts: Ns, hash: u64) {
        let st = &state.stats;
        let iv = &mut state.interval;
        if iv.start.is_none() {
            *iv = Interval {
                start: Some(pts),
                luma_min: 255,
                ..Interval::default()
            };
        }
        iv.frames += 1;
        iv.luma_sum += st.mean[0];
        iv.luma_min = iv.luma_min.min(st.min);
        iv.luma_max = iv.luma_max.max(st.max);
        iv.below_16 += st.below_16;
        iv.above_235 += st.above_235;
        iv.pixels += st.pixels;
        iv.gamut_max = iv.gamut_max.max(state.gamut_share);
        if let Some(r) = state.report.as_mut() {
            let mut digits = [0u8; 16];
            r.entry(&[
                ("pts", Value::Num(secs(pts))),
                ("fp", Value::Str(crate::hex(hash, &mut digits))),
                ("mean", Value::Nums(&st.mean)),
                ("std", Value::Nums(&st.std_dev)),
                ("min", Value::Int(st.min as u64)),
                ("max", Value::Int(st.max as u64)),
                ("below16", Value::Int(st.below_16)),
                ("above235", Value::Int(st.above_235)),
                ("gamut", Value::Num(state.gamut_share)),
            ]);
        }
    }

    /// A match with the reference began, moved or ended at stream time `pts`: an element
    /// message `qc-match` (`timestamp`, `matched`, and while matched `reference-offset`: the
    /// position in the reference, counted from its first frame, minus the stream timestamp,
    /// ns, and `confidence` 0..1) and a report entry.
    fn record_match(&self, state: &mut State, pts: Ns, change: Option<(i64, f64)>) {
        let mut s = gst::Structure::builder("qc-match")
            .field("timestamp", gst::ClockTime::from_nseconds(pts))
            .field("matched", change.is_some());
        if let Some((offset, confidence)) = change {
            s = s
                .field("reference-offset", offset)
                .field("confidence", confidence);
        }
        reporting::post(self.obj().upcast_ref(), s.build());
        if let Some(r) = state.report.as_mut() {
            match change {
                Some((offset, confidence)) => r.entry(&[
                    ("match", Value::Bool(true)),
                    ("time", Value::Num(secs(pts))),
                    ("reference_offset", Value::Num(offset as f64 / 1e9)),
                    ("confidence", Value::Num(confidence)),
                ]),
                None => r.entry(&[
                    ("match", Value::Bool(false)),
                    ("time", Value::Num(secs(pts))),
                ]),
            }
        }
    }

    /// The interval's message, and the report written.
    fn end_interval(&self, state: &mut State) {
        let iv = std::mem::take(&mut state.interval);
        if let Some(start) = iv.start {
            let s = gst::Structure::builder("qcfingerprint")
                .field("timestamp", gst::ClockTime::from_nseconds(start))
                .field("frames", iv.frames)
                .field("luma-mean", iv.luma_sum / iv.frames.max(1) as f64)
                .field("luma-min", iv.luma_min as u32)
                .field("luma-max", iv.luma_max as u32)
                .field("below-16", iv.below_16 as f64 / iv.pixels.max(1) as f64)
                .field("above-235", iv.above_235 as f64 / iv.pixels.max(1) as f64)
                .field("gamut-max", iv.gamut_max)
                .build();
            reporting::post(self.obj().upcast_ref(), s);
        }
        reporting::write_report(self.obj().upcast_ref(), state.report.as_mut());
    }

    /// End of stream: open runs closed at the end of the last frame, everything written.
    fn finish(&self) {
        let mut guard = self.state.lock().expect("state lock");
        let Some(state) = guard.as_mut() else {
            return;
        };
        self.settle_in_flight(state);
        let end = state.end;
        let events = [state.black.finish(end), state.freeze.finish(end)];
        for e in events.into_iter().flatten() {
            reporting::record_event(
                self.obj().upcast_ref(),
                state.report.as_mut(),
                &mut state.verdict,
                e,
            );
        }
        let run = state.gamut_runs.finish(end);
        self.record_gamut(state, run);
        for f in state.flashes.finish().into_iter().flatten() {
            self.record_flashes(state, f);
        }
        state.reference = None;
        self.end_interval(state);
        if std::mem::replace(&mut state.concluded, true) {
            return;
        }
        let fps = state.info.fps();
        let frame = if fps.numer() > 0 && fps.denom() > 0 {
            1_000_000_000 * fps.denom() as u64 / fps.numer() as u64
        } else {
            40_000_000
        };
        let segment = gst_base::prelude::BaseTransformExtManual::segment(&*self.obj());
        reporting::record_truncation(
            self.obj().upcast_ref(),
            state.report.as_mut(),
            &mut state.verdict,
            &segment,
            end,
            frame,
        );
        let duration = end.saturating_sub(state.first.unwrap_or(end));
        reporting::conclude(
            self.obj().upcast_ref(),
            state.report.as_mut(),
            &state.verdict,
            state.first.unwrap_or(end),
            duration,
        );
    }
}
