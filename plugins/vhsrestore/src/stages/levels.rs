//! Levels and saturation repair: straight-line maps of pixel values, and the automatic
//! estimate of the tape's black and white levels.

use super::*;

/// Black and white levels: the input luma (8-bit) that becomes 16 and 235.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Levels {
    pub black: f64,
    pub white: f64,
}

/// Frames of evidence the automatic levels look back over: about 10 s at 25 frames/s.
const WINDOW: usize = 250;
/// Frames of evidence needed before anything is corrected (2 s at 25 frames/s): one shot seldom
/// shows a recording's darkest and brightest, several usually do.
const MIN_EVIDENCE: usize = 50;
/// A frame is evidence of the levels when its darkest and brightest blocks are this far apart
/// (8-bit levels): a picture of full contrast. Night, snow, fades and flat cards are not, and
/// hold the levels instead of being stretched to full range.
pub const MIN_RANGE: f32 = 120.0;
/// The most the levels correct: black lifted up to 48 levels, white lowered up to 64. Blacks
/// below 16 and whites above 235 are left (a capture's legal range is not this element's job).
const MAX_LIFT: f64 = 48.0;
const MAX_DROP: f64 = 64.0;
/// How far inside 16..235 a clean picture's darkest and brightest blocks may sit over the
/// window (8-bit levels): only a shortfall beyond these is taken for lost levels, so that a
/// picture merely low in contrast is never stretched. Twice what the tuning set of
/// `make eval-vhs` showed with its levels intact (darkest 28.9, brightest 214.6 over its
/// window: 13 and 20 levels in). What content can explain stays uncorrected: a level set by
/// hand corrects the rest.
const DARK_SLACK: f64 = 26.0;
const BRIGHT_SLACK: f64 = 40.0;
/// How far the levels move per frame within a shot (8-bit levels): a slow follow that no one
/// sees; at a cut they take the estimate at once.
const STEP: f64 = 0.25;

/// The tape's black and white levels estimated from the picture as it plays. Each frame's
/// extremes (see [`luma_extremes`](super::luma_extremes)) are evidence when the frame has full
/// contrast; the levels are the darkest and brightest evidence over the last [`WINDOW`]
/// frames of it (once there are [`MIN_EVIDENCE`]), less what content explains (the slack), as
/// levels belong to the recording, not to a scene: a dark or bright scene adds no evidence and
/// changes nothing. The levels applied follow the estimate slowly within a shot and take it
/// at a cut, where a change is not seen. Allocates only in `default`.
#[derive(Debug, Clone)]
pub struct AutoLevels {
    /// Evidence, a ring of (dark, bright) extremes.
    window: Vec<(f32, f32)>,
    next: usize,
    /// The estimate after the last frame, and the levels applied to it.
    target: Option<Levels>,
    applied: Option<Levels>,
}

impl Default for AutoLevels {
    fn default() -> Self {
        AutoLevels {
            window: Vec::with_capacity(WINDOW),
            next: 0,
            target: None,
            applied: None,
        }
    }
}

impl AutoLevels {
    /// Takes one frame's extremes (`None`: nothing measured) and whether it starts a shot;
    /// returns the levels to apply to it (`None` until a frame of full contrast is seen).
    pub fn update(&mut self, extremes: Option<(f32, f32)>, cut: bool) -> Option<Levels> {
        if let Some(e) = extremes.filter(|(dark, bright)| bright - dark >= MIN_RANGE) {
            if self.window.len() < WINDOW {
                self.window.push(e);
            } else {
                self.window[self.next] = e;
            }
            self.next = (self.next + 1) % WINDOW;
        }
        self.target = self.estimate();
        let target = self.target?;
        // The first correction starts from untouched levels, as every later one from the last.
        let untouched = Levels {
            black: 16.0,
            white: 235.0,
        };
        self.applied = Some(match self.applied.or((!cut).then_some(untouched)) {
            Some(a) if !cut => Levels {
                black: a.black + (target.black - a.black).clamp(-STEP, STEP),
                white: a.white + (target.white - a.white).clamp(-STEP, STEP),
            },
            _ => target,
        });
        self.applied
    }

    /// Whether the levels applied differ from the estimate: a change waits for a cut.
    pub fn pending(&self) -> bool {
        self.target.is_some_and(|t| Some(t) != self.applied)
    }

    /// The levels the evidence implies, bounded; `None` with too little evidence.
    fn estimate(&self) -> Option<Levels> {
        if self.window.len() < MIN_EVIDENCE {
            return None;
        }
        let (dark, bright) = self
            .window
            .iter()
            .copied()
            .reduce(|(d, b), (d2, b2)| (d.min(d2), b.max(b2)))?;
        let (dark, bright) = (dark as f64, bright as f64);
        Some(Levels {
            black: 16.0 + (dark - 16.0 - DARK_SLACK).clamp(0.0, MAX_LIFT),
            white: 235.0 - (235.0 - bright - BRIGHT_SLACK).clamp(0.0, MAX_DROP),
        })
    }
}

/// A straight-line map of pixel values, `v · gain + offset`, rounded and clamped to bytes:
/// levels and saturation repair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Linear {
    pub gain: f32,
    pub offset: f32,
}

impl Default for Linear {
    fn default() -> Self {
        Linear {
            gain: 1.0,
            offset: 0.0,
        }
    }
}

impl Linear {
    /// Luma `black`..`white` onto 16..235.
    pub fn levels(Levels { black, white }: Levels) -> Self {
        let gain = 219.0 / (white - black).max(1.0);
        Linear {
            gain: gain as f32,
            offset: (16.0 - black * gain) as f32,
        }
    }

    /// Chroma scaled about 128 by `saturation`.
    pub fn saturation(saturation: f64) -> Self {
        Linear {
            gain: saturation as f32,
            offset: (128.0 * (1.0 - saturation)) as f32,
        }
    }

    pub(crate) fn is_identity(&self) -> bool {
        *self == Linear::default()
    }

    /// `values` mapped and rounded into `out`.
    #[inline(always)]
    pub(super) fn apply(&self, out: &mut [u8], values: &[f32], scratch: &mut [f32]) {
        if self.is_identity() {
            quantize(out, values);
        } else {
            let n = values.len();
            let scratch = &mut scratch[..n];
            for x in 0..n {
                scratch[x] = values[x] * self.gain + self.offset;
            }
            quantize(out, scratch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Levels of a frame whose extremes lie `dark`..`bright`.
    fn after(levels: &mut AutoLevels, dark: f32, bright: f32, cut: bool) -> Levels {
        levels.update(Some((dark, bright)), cut).unwrap()
    }

    /// Levels after a shot of [`MIN_EVIDENCE`] such frames and a cut.
    fn shot(levels: &mut AutoLevels, dark: f32, bright: f32) -> Levels {
        for _ in 0..MIN_EVIDENCE {
            levels.update(Some((dark, bright)), false);
        }
        after(levels, dark, bright, true)
    }

    #[test]
    fn nothing_is_applied_before_a_frame_of_full_contrast() {
        let mut levels = AutoLevels::default();
        assert_eq!(levels.update(None, false), None);
        assert_eq!(levels.update(Some((60.0, 150.0)), false), None, "flat");
        for _ in 1..MIN_EVIDENCE {
            assert_eq!(
                levels.update(Some((60.0, 185.0)), false),
                None,
                "too little evidence"
            );
        }
        // Then from untouched levels, slowly.
        let l = after(&mut levels, 60.0, 185.0, false);
        assert_eq!((l.black, l.white), (16.0 + STEP, 235.0 - STEP));
    }

    #[test]
    fn only_a_shortfall_content_cannot_explain_is_corrected() {
        let mut levels = AutoLevels::default();
        // Within the slack either side: untouched.
        let l = shot(
            &mut levels,
            16.0 + DARK_SLACK as f32,
            235.0 - BRIGHT_SLACK as f32,
        );
        assert_eq!((l.black, l.white), (16.0, 235.0));
        let l = after(&mut levels, 72.0, 200.0, true);
        assert_eq!(
            (l.black, l.white),
            (16.0, 235.0),
            "the window's extremes hold"
        );
        // Black 18 levels beyond the slack, white 10.
        let l = shot(&mut AutoLevels::default(), 60.0, 185.0);
        assert_eq!((l.black, l.white), (34.0, 225.0));
        // Bounded.
        let l = shot(&mut AutoLevels::default(), 102.0, 250.0);
        assert_eq!(l.black, 16.0 + MAX_LIFT);
    }

    #[test]
    fn dark_and_bright_scenes_change_nothing() {
        let mut levels = AutoLevels::default();
        let first = shot(&mut levels, 60.0, 185.0);
        // Night, then snow, each after a cut: no evidence, the levels hold.
        for (dark, bright) in [(20.0, 90.0), (170.0, 240.0)] {
            for f in 0..50 {
                assert_eq!(after(&mut levels, dark, bright, f == 0), first);
            }
        }
    }

    #[test]
    fn levels_follow_slowly_within_a_shot_and_at_once_at_a_cut() {
        let mut levels = AutoLevels::default();
        shot(&mut levels, 60.0, 185.0);
        // Darker evidence within the shot (black 24): a quarter level a frame.
        let l = after(&mut levels, 50.0, 185.0, false);
        assert_eq!(l.black, 34.0 - STEP);
        let l = after(&mut levels, 50.0, 185.0, false);
        assert_eq!(l.black, 34.0 - 2.0 * STEP);
        // At a cut the estimate at once.
        let l = after(&mut levels, 100.0, 230.0, true);
        assert_eq!(l.black, 24.0);
    }

    #[test]
    fn old_evidence_leaves_the_window() {
        let mut levels = AutoLevels::default();
        shot(&mut levels, 60.0, 185.0);
        for _ in 0..WINDOW {
            after(&mut levels, 52.0, 200.0, false);
        }
        let l = after(&mut levels, 52.0, 200.0, true);
        assert_eq!((l.black, l.white), (26.0, 235.0));
    }
}
