//! Colour bars at the head of a tape, read for the levels and saturation the tape gave them.
//!
//! A picture alone cannot tell lost levels from its content (a scene without blacks and one
//! whose blacks were lifted look alike), but most transfers start with a test signal whose
//! levels are known: EBU and SMPTE colour bars. Their luma, fitted to the pattern's as a
//! straight line, gives the input levels of black (16) and white (235); their chroma, the
//! tape's saturation. A frame counts as bars only when every bar is flat across and down and
//! the fit leaves almost nothing, so pictures are never taken for bars.

use super::{Levels, Plane};
use mediaai_common::sampler::YuvMatrix;

/// The bars' colours across the full width, left to right, R, G, B on or off: white (or gray),
/// yellow, cyan, green, magenta, red, blue, black.
const COLOURS: [[f32; 3]; 8] = [
    [1.0, 1.0, 1.0],
    [1.0, 1.0, 0.0],
    [0.0, 1.0, 1.0],
    [0.0, 1.0, 0.0],
    [1.0, 0.0, 1.0],
    [1.0, 0.0, 0.0],
    [0.0, 0.0, 1.0],
    [0.0, 0.0, 0.0],
];

/// The patterns: name, bars (the first 7 or all 8 colours), and the amplitude of the first
/// bar and of the colours. EBU 100/0/75/0 (PAL): white at 100%, the colours at 75%. Full-field
/// 75% and 100% bars, the same pattern scaled (which one is read from the gain and saturation
/// nearest 1, as with SMPTE's). SMPTE bars (NTSC, ECR 1-1978, their top two thirds;
/// GStreamer's videotestsrc `smpte75`): seven bars, gray first, at 75%, and at 100%
/// (videotestsrc `smpte`, `smpte100`).
const PATTERNS: [(&str, usize, f32, f32); 5] = [
    ("ebu-100/0/75/0", 8, 1.0, 0.75),
    ("bars-75", 8, 0.75, 0.75),
    ("bars-100", 8, 1.0, 1.0),
    ("smpte-75", 7, 0.75, 0.75),
    ("smpte-100", 7, 1.0, 1.0),
];

/// Bar `bar` of pattern `(_, _, first, colours)` as R, G, B shares of full amplitude.
fn bar_rgb((_, _, first, colours): (&str, usize, f32, f32), bar: usize) -> [f32; 3] {
    let amplitude = if bar == 0 { first } else { colours };
    COLOURS[bar].map(|c| c * amplitude)
}
const MAX_BARS: usize = 8;

/// The rows read: from a tenth to six tenths of the height, clear of SMPTE bars' lower parts,
/// the head-switching lines and a capture's blanking.
const BAND: (f32, f32) = (0.1, 0.6);
/// At most this many rows of the band are read (every other row or sparser: one field).
const MAX_ROWS: usize = 96;
/// A bar's quarters (left and right of its middle half, upper and lower half of the band) may
/// differ from its median by this much (8-bit levels): flat bars, not a picture.
const FLAT: f32 = 4.0;
/// What the straight-line fits may leave (root mean square, 8-bit levels): the pattern, not a
/// picture that happens to darken from left to right.
const LUMA_FIT: f32 = 3.0;
const CHROMA_FIT: f32 = 5.0;
/// The gains and saturations a tape may have given the bars; beyond them it is not bars.
const GAIN: (f32, f32) = (0.6, 1.5);
const SATURATION: (f32, f32) = (0.4, 2.0);

/// What a frame of bars says of the tape: the input levels of black and white, the chroma
/// amplitude relative to the pattern's (below 1: saturation lost), and the pattern.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BarsReading {
    pub levels: Levels,
    pub saturation: f64,
    pub pattern: &'static str,
}

/// The patterns in Y'CbCr for one matrix (the stream's), made once per caps.
#[derive(Clone, Debug)]
pub struct BarPatterns {
    patterns: [(&'static str, usize, [[f32; 3]; MAX_BARS]); PATTERNS.len()],
}

impl BarPatterns {
    /// In the stream's matrix, `m` (studio range).
    pub fn new(m: YuvMatrix) -> Self {
        BarPatterns {
            patterns: PATTERNS.map(|pattern| {
                let yuv = std::array::from_fn(|bar| {
                    let rgb = bar_rgb(pattern, bar);
                    m.yuv(rgb[0] * 255.0, rgb[1] * 255.0, rgb[2] * 255.0)
                });
                (pattern.0, pattern.1, yuv)
            }),
        }
    }

    /// Reads `luma` and the two chroma planes as bars: `None` when the frame is not bars (the
    /// usual case, found in a few rows). Allocates nothing.
    pub fn read(&self, luma: Plane, cb: Plane, cr: Plane) -> Option<BarsReading> {
        let mut best: Option<(f32, BarsReading)> = None;
        // SMPTE bars' lower parts hold a 100% white patch: where it is, the pattern whose
        // white level it matches is the one (75% and 100% bars differ only in scale).
        let patch = flat_median(luma, white_patch(luma.width), PATCH_ROWS);
        for count in [8, 7] {
            if !steps_down(luma, count) {
                continue;
            }
            let Some(measured) = measure(count, [luma, cb, cr]) else {
                continue;
            };
            for &(pattern, n, ref yuv) in self.patterns.iter().filter(|p| p.1 == count) {
                let Some(reading) = fit(&measured[..n], &yuv[..n], pattern) else {
                    continue;
                };
                // 75% and 100% bars differ only in scale: the one whose white the patch shows,
                // else the one that needs the least change.
                let change = match patch {
                    Some(w) if count == 7 && (w - reading.0.levels.white as f32).abs() < FLAT => {
                        -1.0
                    }
                    _ => reading.1,
                };
                if best.is_none_or(|(b, _)| change < b) {
                    best = Some((change, reading.0));
                }
            }
        }
        best.map(|(_, r)| r)
    }
}

/// The medians of `count` bars in each plane; `None` when one is not flat.
fn measure(count: usize, planes: [Plane; 3]) -> Option<[[f32; 3]; MAX_BARS]> {
    let mut measured = [[0.0f32; 3]; MAX_BARS];
    for (bar, m) in measured[..count].iter_mut().enumerate() {
        for (c, plane) in planes.into_iter().enumerate() {
            m[c] = flat_median(plane, middle(plane.width, bar, count), BAND)?;
        }
    }
    Some(measured)
}

/// The rows read of a band (shares of the height): first, step (even: one field), count.
fn band_rows(height: usize, band: (f32, f32)) -> (usize, usize, usize) {
    let (y0, y1) = (
        (height as f32 * band.0) as usize,
        (height as f32 * band.1) as usize,
    );
    let step = (y1.saturating_sub(y0) / MAX_ROWS)
        .max(2)
        .next_multiple_of(2);
    (y0, step, y1.saturating_sub(y0).div_ceil(step))
}

/// Where SMPTE bars (ECR 1-1978) put their 100% white patch: the second of the bottom
/// quarter's -I, white and +Q blocks, each 5/4 of a bar wide; its middle half across, and the
/// rows of [`PATCH_ROWS`].
fn white_patch(width: usize) -> (usize, usize) {
    let (x0, x1) = (width * 5 / 28, width * 10 / 28);
    let quarter = (x1 - x0) / 4;
    (x0 + quarter, x1 - quarter)
}
const PATCH_ROWS: (f32, f32) = (0.8, 0.95);

/// The middle half of bar `bar` of `count` across `width`.
fn middle(width: usize, bar: usize, count: usize) -> (usize, usize) {
    let (x0, x1) = (bar * width / count, (bar + 1) * width / count);
    let quarter = (x1 - x0) / 4;
    (x0 + quarter, x1 - quarter)
}

/// A quick look at four rows: the bars' luma must fall from left to right, a few levels a
/// bar at least. Pictures almost never do; the full reading runs only when this passes.
fn steps_down(luma: Plane, count: usize) -> bool {
    let (y0, step, rows) = band_rows(luma.height, BAND);
    if rows < 4 || luma.width < 4 * count {
        return false;
    }
    let mut last = f32::INFINITY;
    for bar in 0..count {
        let (x0, x1) = middle(luma.width, bar, count);
        let sum: u32 = (0..4)
            .map(|i| {
                let row = luma.row(y0 + (i * rows / 4) * step);
                row[x0..x1].iter().map(|&v| v as u32).sum::<u32>()
            })
            .sum();
        let mean = sum as f32 / (4 * (x1 - x0)) as f32;
        if mean > last - 4.0 {
            return false;
        }
        last = mean;
    }
    true
}

/// The median of `plane` over columns `x0..x1` and the rows of `band`, or `None` when its
/// four quarters differ: not a flat bar.
fn flat_median(plane: Plane, (x0, x1): (usize, usize), band: (f32, f32)) -> Option<f32> {
    let (y0, step, rows) = band_rows(plane.height, band);
    let xm = (x0 + x1) / 2;
    if rows < 2 || xm == x0 {
        return None;
    }
    // Quarters: left/right x upper/lower.
    let mut hist = [[0u32; 256]; 4];
    for r in 0..rows {
        let row = plane.row(y0 + r * step);
        let lower = 2 * (r >= rows / 2) as usize;
        for (half, xs) in [(0, x0..xm), (1, xm..x1)] {
            let h = &mut hist[lower + half];
            for &v in &row[xs] {
                h[v as usize] += 1;
            }
        }
    }
    let mut all = [0u32; 256];
    for h in &hist {
        for (a, n) in all.iter_mut().zip(h) {
            *a += n;
        }
    }
    let m = median(&all);
    hist.iter()
        .all(|h| (median(h) - m).abs() <= FLAT)
        .then_some(m)
}

/// The median of a histogram of bytes, interpolated within its bin.
fn median(h: &[u32; 256]) -> f32 {
    let half = h.iter().sum::<u32>() as f32 / 2.0;
    let mut seen = 0.0;
    for (v, &n) in h.iter().enumerate() {
        let n = n as f32;
        if n > 0.0 && seen + n >= half {
            return v as f32 - 0.5 + (half - seen) / n;
        }
        seen += n;
    }
    255.0
}

/// The measured bars fitted to a pattern's: luma as a straight line (gain and offset), chroma
/// as a scale about 128 (saturation). `None` when the fits leave too much or need a gain or
/// saturation no tape gives; else the reading and how far it is from untouched (|ln gain| +
/// |ln saturation|).
fn fit(
    measured: &[[f32; 3]],
    pattern: &[[f32; 3]],
    name: &'static str,
) -> Option<(BarsReading, f32)> {
    let n = measured.len() as f32;
    let (mt, mm) = (
        pattern.iter().map(|p| p[0]).sum::<f32>() / n,
        measured.iter().map(|m| m[0]).sum::<f32>() / n,
    );
    let (mut stm, mut stt) = (0.0, 0.0);
    for (p, m) in pattern.iter().zip(measured) {
        stm += (p[0] - mt) * (m[0] - mm);
        stt += (p[0] - mt) * (p[0] - mt);
    }
    let gain = stm / stt;
    let offset = mm - gain * mt;
    let luma_rms = (pattern
        .iter()
        .zip(measured)
        .map(|(p, m)| (m[0] - (gain * p[0] + offset)).powi(2))
        .sum::<f32>()
        / n)
        .sqrt();
    let (mut cm, mut cc) = (0.0, 0.0);
    for (p, m) in pattern.iter().zip(measured) {
        for c in 1..3 {
            cm += (p[c] - 128.0) * (m[c] - 128.0);
            cc += (p[c] - 128.0) * (p[c] - 128.0);
        }
    }
    let saturation = cm / cc;
    let chroma_rms = (pattern
        .iter()
        .zip(measured)
        .flat_map(|(p, m)| (1..3).map(move |c| m[c] - 128.0 - saturation * (p[c] - 128.0)))
        .map(|e| e * e)
        .sum::<f32>()
        / (2.0 * n))
        .sqrt();
    let plausible = (GAIN.0..=GAIN.1).contains(&gain)
        && (SATURATION.0..=SATURATION.1).contains(&saturation)
        && luma_rms <= LUMA_FIT
        && chroma_rms <= CHROMA_FIT;
    plausible.then(|| {
        let level = |v: f32| (offset + gain * v) as f64;
        (
            BarsReading {
                levels: Levels {
                    black: level(16.0),
                    white: level(235.0),
                },
                saturation: saturation as f64,
                pattern: name,
            },
            gain.ln().abs() + saturation.ln().abs(),
        )
    })
}

/// Frames of bars needed before their reading is taken: a test signal, not a flash.
const CONFIRM: u32 = 5;
/// Frames without bars tolerated within a run of them (a dropout, a glitch).
const GAP: u32 = 2;

/// Bars over time: a run of frames of bars, once [`CONFIRM`] long, sets the levels and
/// saturation (the mean of the run's readings), and they hold after the bars end, for the
/// programme they lined up; a later run of bars replaces them.
#[derive(Clone, Debug, Default)]
pub struct BarsLock {
    run: u32,
    missed: u32,
    pattern: &'static str,
    sum: [f64; 3],
    locked: Option<BarsReading>,
}

impl BarsLock {
    /// Takes one frame's reading; returns the reading the levels follow (`None` until bars
    /// have been seen).
    pub fn update(&mut self, reading: Option<BarsReading>) -> Option<BarsReading> {
        match reading {
            Some(r) => {
                if r.pattern != self.pattern {
                    self.run = 0;
                    self.sum = [0.0; 3];
                    self.pattern = r.pattern;
                }
                self.run += 1;
                self.missed = 0;
                for (s, v) in
                    self.sum
                        .iter_mut()
                        .zip([r.levels.black, r.levels.white, r.saturation])
                {
                    *s += v;
                }
                if self.run >= CONFIRM {
                    let n = self.run as f64;
                    self.locked = Some(BarsReading {
                        levels: Levels {
                            black: self.sum[0] / n,
                            white: self.sum[1] / n,
                        },
                        saturation: self.sum[2] / n,
                        pattern: r.pattern,
                    });
                }
            }
            None if self.run > 0 => {
                self.missed += 1;
                if self.missed > GAP {
                    self.run = 0;
                    self.sum = [0.0; 3];
                }
            }
            None => {}
        }
        self.locked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 720;
    const H: usize = 576;

    /// Noise of deviation about `sigma` (sums of uniform numbers), repeatable.
    struct Noise(u64);
    impl Noise {
        fn next(&mut self, sigma: f32) -> f32 {
            let mut sum = 0.0;
            for _ in 0..4 {
                self.0 = self
                    .0
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                sum += (self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            }
            sum * sigma * 3f32.sqrt()
        }
    }

    /// 4:2:0 planes of `pattern` as a tape gave them back: luma 16..235 onto
    /// `black`..`white`, chroma scaled by `saturation` and `delay` chroma pixels late, noise
    /// `sigma` on every plane.
    fn tape_bars(
        pattern: usize,
        black: f32,
        white: f32,
        saturation: f32,
        delay: usize,
        sigma: f32,
    ) -> [Vec<u8>; 3] {
        let bars = PATTERNS[pattern].1;
        let m = YuvMatrix::new(0.299, 0.114, false);
        let mut noise = Noise(7);
        let gain = (white - black) / 219.0;
        let mut planes = [vec![0u8; W * H], vec![0u8; W * H / 4], vec![0u8; W * H / 4]];
        for (p, plane) in planes.iter_mut().enumerate() {
            let (w, h) = if p == 0 { (W, H) } else { (W / 2, H / 2) };
            for y in 0..h {
                for x in 0..w {
                    let sx = if p == 0 { x } else { x.saturating_sub(delay) };
                    let rgb = bar_rgb(PATTERNS[pattern], sx * bars / w);
                    let yuv = m.yuv(rgb[0] * 255.0, rgb[1] * 255.0, rgb[2] * 255.0);
                    let v = if p == 0 {
                        black + (yuv[0] - 16.0) * gain
                    } else {
                        128.0 + (yuv[p] - 128.0) * saturation
                    };
                    plane[y * w + x] = (v + noise.next(sigma)).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        planes
    }

    fn read(planes: &[Vec<u8>; 3]) -> Option<BarsReading> {
        let luma = Plane::tight(&planes[0], W, H);
        let cb = Plane::tight(&planes[1], W / 2, H / 2);
        let cr = Plane::tight(&planes[2], W / 2, H / 2);
        BarPatterns::new(YuvMatrix::new(0.299, 0.114, false)).read(luma, cb, cr)
    }

    #[test]
    fn bars_give_the_levels_and_saturation_the_tape_gave_them() {
        for (pattern, black, white, saturation, delay, sigma, name) in [
            (0, 30.0, 215.0, 0.9, 2, 4.0, "ebu-100/0/75/0"),
            (0, 20.0, 228.0, 0.85, 3, 9.0, "ebu-100/0/75/0"),
            (1, 36.0, 235.0, 1.0, 1, 3.0, "bars-75"),
            (2, 22.0, 226.0, 0.86, 3, 5.0, "bars-100"),
            (3, 26.0, 220.0, 0.92, 4, 3.0, "smpte-75"),
            (3, 16.0, 235.0, 1.0, 1, 1.5, "smpte-75"),
            (4, 24.0, 230.0, 1.1, 2, 3.0, "smpte-100"),
        ] {
            let r = read(&tape_bars(pattern, black, white, saturation, delay, sigma))
                .unwrap_or_else(|| panic!("{name} bars at {black}..{white} not read"));
            assert_eq!(r.pattern, name);
            assert!(
                (r.levels.black - black as f64).abs() < 1.0
                    && (r.levels.white - white as f64).abs() < 1.0,
                "{name}: levels {:?}, tape {black}..{white}",
                r.levels
            );
            assert!(
                (r.saturation - saturation as f64).abs() < 0.02,
                "{name}: saturation {} against {saturation}",
                r.saturation
            );
        }
    }

    #[test]
    fn pictures_are_not_bars() {
        // A ramp falling from left to right (it steps down, but it is not flat bars), a
        // staircase of grays (flat steps, but no colour), and noise.
        let ramp: Vec<u8> = (0..W * H)
            .map(|i| (235 - (i % W) * 219 / W) as u8)
            .collect();
        let stairs: Vec<u8> = (0..W * H)
            .map(|i| (235 - (i % W) * 8 / W * 27) as u8)
            .collect();
        let gray = vec![128u8; W * H / 4];
        let mut noise = Noise(3);
        let random: Vec<u8> = (0..W * H)
            .map(|_| (128.0 + noise.next(40.0)) as u8)
            .collect();
        for luma in [&ramp, &stairs, &random] {
            let planes = [luma.clone(), gray.clone(), gray.clone()];
            assert_eq!(read(&planes), None);
        }
    }

    #[test]
    fn a_run_of_bars_locks_and_holds_after_them() {
        let bars = BarsReading {
            levels: Levels {
                black: 30.0,
                white: 215.0,
            },
            saturation: 0.9,
            pattern: "smpte-75",
        };
        let mut lock = BarsLock::default();
        // A frame or two of bars is not a test signal.
        assert_eq!(lock.update(Some(bars)), None);
        for _ in 0..3 {
            assert_eq!(lock.update(None), None);
        }
        for _ in 0..CONFIRM - 1 {
            assert_eq!(lock.update(Some(bars)), None);
        }
        // A glitch within the run is tolerated.
        assert_eq!(lock.update(None), None);
        assert_eq!(lock.update(Some(bars)), Some(bars));
        for _ in 0..100 {
            assert_eq!(lock.update(None), Some(bars), "held after the bars");
        }
    }
}
