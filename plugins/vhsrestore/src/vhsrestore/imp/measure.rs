//! The measurements on each incoming frame that the automatic settings run on (colour bars
//! among them), and the levels messages they give.

use super::*;

/// Chroma delay is re-estimated every this many frames (auto mode), and smoothed.
const CHROMA_ESTIMATE_EVERY: u64 = 12;
/// How fast the running measurements follow the picture: the share of the newest frame.
const FOLLOW: f64 = 0.05;
/// Noise is measured every this many frames, each measurement weighing as much as that many
/// frames' would (1 − (1 − FOLLOW)⁴ ≈ 0.19).
const NOISE_EVERY: u64 = 4;
const NOISE_FOLLOW: f64 = 0.19;

/// What the automatic settings run on, measured on each frame in turn (see
/// [`VhsRestore::measure`]) and smoothed over time.
pub(super) struct Measured {
    /// Frames measured so far.
    frames: u64,
    /// Detected head-switching lines (running mean).
    pub(super) head_lines: f64,
    /// Automatic levels: the estimate, the levels applied to the last frame, shot changes,
    /// and the levels last reported on the bus.
    auto_levels: AutoLevels,
    pub(super) levels: Option<Levels>,
    cuts: SceneCuts,
    /// Colour bars: the patterns in the stream's matrix, the run of them, and what the last
    /// run read (it wins over the levels estimated from the picture).
    bar_patterns: BarPatterns,
    bar_lock: BarsLock,
    pub(super) bars: Option<BarsReading>,
    /// The levels and saturation last reported on the bus.
    reported: Option<(Levels, f64)>,
    /// A levels message to post once the state lock is released.
    pub(super) message: Option<gst::Message>,
    /// The noise measured in the picture (luma, chroma; standard deviations, 8-bit levels),
    /// smoothed over time; `None` until measured.
    pub(super) noise: [Option<f64>; 2],
    /// Luma's noise along the rows against down the fields ([`stages::noise_along_rows`]),
    /// followed as `noise` is.
    pub(super) noise_along_rows: Option<f64>,
    /// The chroma delay found (chroma pixels; negative: chroma is moved back).
    pub(super) chroma_shift: f64,
}

impl Measured {
    /// Nothing measured yet, with the bar patterns of the stream's matrix and its shot-change
    /// detector.
    pub(super) fn new(bar_patterns: BarPatterns, cuts: SceneCuts) -> Self {
        Measured {
            frames: 0,
            head_lines: 0.0,
            auto_levels: AutoLevels::default(),
            levels: None,
            cuts,
            bar_patterns,
            bar_lock: BarsLock::default(),
            bars: None,
            reported: None,
            message: None,
            noise: [None; 2],
            noise_along_rows: None,
            chroma_shift: 0.0,
        }
    }
}

impl VhsRestore {
    /// The measurements on the next frame that the automatic settings run on: chroma delay
    /// (every few frames), head-switching lines, noise and black and white levels, each
    /// smoothed over time. Frames are measured once each, in order: the element measures a
    /// frame while the one before it is restored.
    pub(super) fn measure(
        &self,
        state: &mut Measured,
        s: &Settings,
        frame: &gst_video::VideoFrameRef<&gst::BufferRef>,
    ) {
        let (luma, chroma) = (plane(frame, 0), plane(frame, 1));
        let first = state.frames == 0;
        let follow = |old: f64, new: f64| {
            if first {
                new
            } else {
                old + FOLLOW * (new - old)
            }
        };
        if s.head_switch_lines < 0 {
            let lines = stages::head_switch_lines(luma) as f64;
            state.head_lines = follow(state.head_lines, lines);
        }
        // Colour bars, read while levels or saturation are not set by hand; once seen, they
        // set the levels instead of the picture.
        let by_hand = s.black.is_some() && s.white.is_some();
        state.bars = if s.lock_to_bars && (!by_hand || s.saturation.is_none()) {
            let reading = state.bar_patterns.read(luma, chroma, plane(frame, 2));
            state.bar_lock.update(reading)
        } else {
            // Switched off (or everything set by hand): the bars' reading no longer applies.
            None
        };
        // The measurements are independent: shot changes on one core; the picture's extremes,
        // its noise and the chroma delay on the other.
        let levels = s.auto_levels && !by_hand && state.bars.is_none();
        // Shot changes matter only while a change of levels waits for one; otherwise the
        // detector is not run (and starts afresh when needed: its next frame is no cut).
        let find_cuts = levels && state.auto_levels.pending();
        if !find_cuts {
            state.cuts.reset();
        }
        // Noise is measured every few frames (it changes with the tape, not the picture).
        let noise_now = state.frames.is_multiple_of(NOISE_EVERY);
        let bottom = (state.head_lines.ceil() as usize).max(s.head_switch_lines.max(0) as usize);
        let source = PixelSource::from_frame(frame);
        let cuts = &mut state.cuts;
        let delay = s.chroma_shift.is_none() && state.frames.is_multiple_of(CHROMA_ESTIMATE_EVERY);
        let chroma2 = plane(frame, 2);
        let (cut, (extremes, noise, delay)) = rayon::join(
            || find_cuts && source.as_ref().is_some_and(|p| cuts.is_cut(p)),
            || {
                let extremes = levels
                    .then(|| stages::luma_extremes(luma, bottom))
                    .flatten();
                let luma_noise = (noise_now && s.luma_denoise < 0.0)
                    .then(|| stages::noise_sigma(luma))
                    .flatten();
                let along_rows = luma_noise.and_then(|down| stages::noise_along_rows(luma, down));
                let noise = [
                    luma_noise,
                    (noise_now && s.chroma_denoise < 0.0)
                        .then(|| {
                            Some(
                                (stages::noise_sigma(chroma)? + stages::noise_sigma(chroma2)?)
                                    / 2.0,
                            )
                        })
                        .flatten(),
                ];
                let factor = (luma.width / chroma.width.max(1)).max(1);
                let delay = delay
                    .then(|| stages::chroma_delay(luma, chroma, factor))
                    .flatten();
                (extremes, (noise, along_rows), delay)
            },
        );
        let (noise, along_rows) = noise;
        if let Some(d) = delay {
            // Estimated every few frames: a faster follow.
            state.chroma_shift = if first {
                -d
            } else {
                0.7 * state.chroma_shift - 0.3 * d
            };
            gst::debug!(
                CAT,
                "chroma {d:.2} chroma pixels late: moved back {:.2}",
                -state.chroma_shift
            );
        }
        // Noise, for denoising strengths that follow it. Measured every NOISE_EVERY frames:
        // that many frames' share of the follow.
        let follow = |n: &mut Option<f64>, measured: Option<f32>| {
            if let Some(v) = measured.map(f64::from) {
                *n = Some(n.map_or(v, |n| n + NOISE_FOLLOW * (v - n)));
            }
        };
        for (n, sigma) in state.noise.iter_mut().zip(noise) {
            follow(n, sigma);
        }
        follow(&mut state.noise_along_rows, along_rows);
        gst::trace!(
            CAT,
            imp = self,
            "noise (luma, chroma) {:?}, along rows {:?}",
            state.noise,
            state.noise_along_rows
        );
        if levels {
            state.levels = state.auto_levels.update(extremes, cut);
            gst::trace!(
                CAT,
                imp = self,
                "extremes {extremes:?}, cut {cut}: levels {:?}",
                state.levels
            );
        } else if let Some(bars) = state.bars {
            state.levels = Some(bars.levels);
        }
        self.report_levels(state, frame.buffer().pts(), cut);
        state.frames += 1;
    }

    /// A `vhsrestore-levels` message when the levels or saturation found (from bars or the
    /// picture) are first found or change by half a level or 0.01 of saturation.
    fn report_levels(&self, state: &mut Measured, timestamp: Option<gst::ClockTime>, cut: bool) {
        let Some(l) = state.levels else {
            return;
        };
        let saturation = state.bars.map_or(1.0, |b| b.saturation);
        let moved = state.reported.is_none_or(|(r, sat)| {
            (r.black - l.black).abs() >= 0.5
                || (r.white - l.white).abs() >= 0.5
                || (sat - saturation).abs() >= 0.01
        });
        if !moved {
            return;
        }
        state.reported = Some((l, saturation));
        let source = match state.bars {
            Some(b) => {
                gst::info!(
                    CAT,
                    imp = self,
                    "{} colour bars: black {:.1}, white {:.1}, saturation {saturation:.3}",
                    b.pattern,
                    l.black,
                    l.white
                );
                "bars"
            }
            None => "picture",
        };
        let mut s = gst::Structure::builder("vhsrestore-levels")
            .field("black", l.black)
            .field("white", l.white)
            .field("saturation", saturation)
            .field("source", source)
            .field("timestamp", timestamp)
            .field("shot-change", cut);
        if let Some(b) = state.bars {
            s = s.field("pattern", b.pattern);
        }
        state.message = Some(
            gst::message::Element::builder(s.build())
                .src(&*self.obj())
                .build(),
        );
    }
}
