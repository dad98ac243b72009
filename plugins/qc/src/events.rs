//! Black and frozen video runs with start and end times, decided as FFmpeg's `blackdetect`
//! and `freezedetect` decide them, so that reports agree.

/// Nanoseconds.
pub type Ns = u64;

/// What a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Black,
    Freeze,
    Silence,
    Clipping,
    /// The first two audio channels out of phase (one inverted).
    OutOfPhase,
    /// Buffers later than the ones before them end (`start`: where they ended, `end`: the
    /// late buffer), or earlier (`start`: the early buffer, `end`: where they ended).
    TimestampGap,
    TimestampJump,
    /// One audio channel silent while another is not (its `channel` said with the event).
    ChannelSilence,
    /// Photosensitive epilepsy: more than three luminance or saturated-red flashes a second
    /// over more than a quarter of the screen.
    Flash,
    RedFlash,
    /// More than the tolerated share of a frame's pixels outside the legal range (EBU R103).
    Gamut,
    /// The stream ended before its container said it would (`start`: where it ended, `end`:
    /// where it should have): a truncated file or a cut stream. Fails under every profile.
    Truncated,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Black => "black",
            Kind::Freeze => "freeze",
            Kind::Silence => "silence",
            Kind::Clipping => "clipping",
            Kind::OutOfPhase => "out-of-phase",
            Kind::TimestampGap => "timestamp-gap",
            Kind::TimestampJump => "timestamp-jump",
            Kind::ChannelSilence => "channel-silence",
            Kind::Flash => "flash",
            Kind::RedFlash => "red-flash",
            Kind::Gamut => "gamut",
            Kind::Truncated => "truncated",
        }
    }
}

/// A buffer that starts at `pts` where the ones before it ended at `expected`: a
/// `timestamp-gap` (later) or `timestamp-jump` (earlier: back, or overlapping) event when it
/// strays more than `tolerance`.
pub fn timestamp_event(expected: Ns, pts: Ns, tolerance: Ns) -> Option<Event> {
    if pts > expected + tolerance {
        Some(Event {
            kind: Kind::TimestampGap,
            start: expected,
            end: pts,
        })
    } else if pts + tolerance < expected {
        Some(Event {
            kind: Kind::TimestampJump,
            start: pts,
            end: expected,
        })
    } else {
        None
    }
}

/// A run of black or frozen frames: `start` is the first frame's time, `end` the time the
/// run stopped (the next different frame, or the end of the last frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    pub start: Ns,
    pub end: Ns,
}

/// Black frames: a frame is black when at least `picture_ratio` of its luma pixels are at or
/// under the pixel threshold; runs of them lasting `min_duration` or more are reported when
/// they end.
#[derive(Clone, Debug)]
pub struct BlackDetector {
    pub min_duration: Ns,
    pub picture_ratio: f64,
    start: Option<Ns>,
}

impl BlackDetector {
    pub fn new(min_duration: Ns, picture_ratio: f64) -> Self {
        BlackDetector {
            min_duration,
            picture_ratio,
            start: None,
        }
    }

    /// The luma level at or under which a pixel is black, from FFmpeg's `pix_th` (share of the
    /// 16..235 range above 16).
    pub fn pixel_threshold(pix_th: f64) -> u8 {
        (16.0 + pix_th.clamp(0.0, 1.0) * 219.0) as u8
    }

    /// One frame at `pts` with `black_share` of its pixels black.
    pub fn frame(&mut self, pts: Ns, black_share: f64) -> Option<Event> {
        let black = black_share >= self.picture_ratio;
        match (black, self.start) {
            (true, None) => {
                self.start = Some(pts);
                None
            }
            (false, Some(start)) => {
                self.start = None;
                self.event(start, pts)
            }
            _ => None,
        }
    }

    /// The stream ended at `end`: a run still open is closed there.
    pub fn finish(&mut self, end: Ns) -> Option<Event> {
        self.start.take().and_then(|start| self.event(start, end))
    }

    fn event(&self, start: Ns, end: Ns) -> Option<Event> {
        (end.saturating_sub(start) >= self.min_duration).then_some(Event {
            kind: Kind::Black,
            start,
            end,
        })
    }
}

/// Frozen video: frames that differ from the first frame of the run by a mean absolute
/// difference under `noise` (0..1 of full scale) for `min_duration` or more. The start is
/// announced once the run is long enough, the end when a frame differs.
#[derive(Clone, Debug)]
pub struct FreezeDetector {
    pub min_duration: Ns,
    pub noise: f64,
    /// The first frame of the current run.
    reference: Option<Ns>,
    frozen: bool,
}

/// What a frame did to a freeze.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freeze {
    /// The run became long enough: frozen since the given time.
    Started(Ns),
    /// The frozen run ended.
    Ended(Event),
}

impl FreezeDetector {
    pub fn new(min_duration: Ns, noise: f64) -> Self {
        FreezeDetector {
            min_duration,
            noise,
            reference: None,
            frozen: false,
        }
    }

    /// FFmpeg's `n` in dB (−60 by default) as a linear share.
    pub fn noise_from_db(db: f64) -> f64 {
        10f64.powf(db / 20.0)
    }

    /// Whether the next frame is compared with a reference (else it becomes one).
    pub fn has_reference(&self) -> bool {
        self.reference.is_some()
    }

    /// One frame at `pts`, `difference` from the run's first frame (ignored when there is no
    /// reference yet). `true` in the result's second place: this frame is the new reference.
    pub fn frame(&mut self, pts: Ns, difference: f64) -> (Option<Freeze>, bool) {
        let Some(start) = self.reference else {
            self.reference = Some(pts);
            return (None, true);
        };
        if difference < self.noise {
            if !self.frozen && pts.saturating_sub(start) >= self.min_duration {
                self.frozen = true;
                return (Some(Freeze::Started(start)), false);
            }
            return (None, false);
        }
        self.reference = Some(pts);
        let ended = std::mem::replace(&mut self.frozen, false).then_some(Freeze::Ended(Event {
            kind: Kind::Freeze,
            start,
            end: pts,
        }));
        (ended, true)
    }

    /// The stream ended at `end`.
    pub fn finish(&mut self, end: Ns) -> Option<Event> {
        let start = self.reference.take()?;
        std::mem::replace(&mut self.frozen, false).then_some(Event {
            kind: Kind::Freeze,
            start,
            end,
        })
    }

    /// Forgets the run (a flush or a new segment).
    pub fn reset(&mut self) {
        self.reference = None;
        self.frozen = false;
    }
}

/// Runs of audio sample frames, counted in samples: silence (every channel's magnitude under
/// a threshold, as FFmpeg's `silencedetect` decides) or clipping (any channel at full scale).
/// A run lasting `min_samples` or more is reported when it ends, in samples from the stream's
/// start.
#[derive(Clone, Debug)]
pub struct SampleRuns {
    pub min_samples: u64,
    start: Option<u64>,
}

impl SampleRuns {
    pub fn new(min_samples: u64) -> Self {
        SampleRuns {
            min_samples,
            start: None,
        }
    }

    /// Sample frame `n` is (`inside`) or is not in a run: the run that ended, as
    /// (first sample, first sample after), if long enough.
    #[inline]
    pub fn sample(&mut self, n: u64, inside: bool) -> Option<(u64, u64)> {
        match (inside, self.start) {
            (true, None) => {
                self.start = Some(n);
                None
            }
            (false, Some(start)) => {
                self.start = None;
                (n - start >= self.min_samples).then_some((start, n))
            }
            _ => None,
        }
    }

    /// The stream ended before sample frame `n`.
    pub fn finish(&mut self, n: u64) -> Option<(u64, u64)> {
        let start = self.start.take()?;
        (n - start >= self.min_samples).then_some((start, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Ns = 1_000_000;

    #[test]
    fn black_runs_shorter_than_the_minimum_are_not_reported() {
        let mut d = BlackDetector::new(100 * MS, 0.98);
        let shares = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.99, 0.5];
        let events: Vec<Event> = shares
            .iter()
            .enumerate()
            .filter_map(|(i, &s)| d.frame(i as Ns * 40 * MS, s))
            .collect();
        assert_eq!(
            events,
            [Event {
                kind: Kind::Black,
                start: 160 * MS,
                end: 320 * MS
            }]
        );
        assert_eq!(BlackDetector::pixel_threshold(0.10), 37);
    }

    #[test]
    fn a_freeze_starts_after_the_minimum_and_ends_at_the_first_change() {
        let mut d = FreezeDetector::new(100 * MS, FreezeDetector::noise_from_db(-60.0));
        let diffs = [0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0];
        let got: Vec<Option<Freeze>> = diffs
            .iter()
            .enumerate()
            .map(|(i, &x)| d.frame(i as Ns * 40 * MS, x).0)
            .collect();
        assert_eq!(got[3], Some(Freeze::Started(0)));
        assert_eq!(
            got[5],
            Some(Freeze::Ended(Event {
                kind: Kind::Freeze,
                start: 0,
                end: 200 * MS
            }))
        );
        assert_eq!(got.iter().flatten().count(), 2);
        assert_eq!(d.finish(280 * MS), None);
    }

    #[test]
    fn sample_runs_need_their_length() {
        let mut r = SampleRuns::new(3);
        let inside = [false, true, true, false, true, true, true, true, false];
        let runs: Vec<(u64, u64)> = inside
            .iter()
            .enumerate()
            .filter_map(|(n, &i)| r.sample(n as u64, i))
            .collect();
        assert_eq!(runs, [(4, 8)]);
        r.sample(9, true);
        assert_eq!(r.finish(11), None);
        r.sample(12, true);
        assert_eq!(r.finish(15), Some((12, 15)));
    }
}
