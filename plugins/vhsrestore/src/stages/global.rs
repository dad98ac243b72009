//! The camera's motion between two pictures, as one translation (issue 36: pans, a hand-held
//! shake, the middle of a slow zoom), from the pictures' projections: each column's mean and
//! each row's mean. Their steps (the profile's differences, so that a change of brightness does
//! not move them) are matched against the previous picture's over a range of shifts; the best
//! match is taken to a fraction of a pixel through the costs either side. Averaging a whole
//! column or row first leaves tape noise far below the picture's own structure, and it costs one
//! pass over the plane: cheap enough for every frame of the CPU path. Temporal denoising then
//! averages along the camera's motion instead of only where the picture is still.

use super::*;

/// Farthest shift searched, in pixels (columns) and in rows of the picture taken (rows). A
/// camera swung across a scene moves it 30-70 pixels a frame at 720x576 (`make eval-vhs`'s sweep
/// models reach 68); beyond the range the best match is a wrong one (a 58-pixel pan read as
/// −12 at 32, in the tests), the blocks start from it, and the temporal denoiser gives way for
/// the rest of the sweep. 32 → 64 columns, `make eval-vhs` held-out, levels told, lead over
/// FFmpeg's best chain (PSNR-Y / SSIM-Y): streaky +0.99 / −0.0040 → +1.38 / −0.0008, heavy
/// +0.32 / +0.0049 → +0.57 / +0.0089, squeeze +1.78 → +2.31 dB, mean of 16 +2.17 / +0.0117 →
/// +2.31 / +0.0125 (tuning half +1.30 / +0.0018 → +1.44 / +0.0038); the camera models (8 pixels
/// a frame or less) within 0.03 dB.
pub const RANGE: [usize; 2] = [64, 16];

/// Profiles of one picture: its column means' and row means' steps.
#[derive(Debug, Default, Clone)]
struct Profiles {
    cols: Vec<f32>,
    rows: Vec<f32>,
}

/// The global motion estimator of one stream (see the module). Nothing is allocated per
/// picture once sized.
#[derive(Debug, Default)]
pub struct GlobalMotion {
    /// The previous picture's profiles and the current one's (swapped each picture).
    profiles: [Profiles; 2],
    /// Column sums of the picture being read.
    sums: Vec<f32>,
    /// `profiles[0]` holds a picture of the current size.
    primed: bool,
}

impl GlobalMotion {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets the previous picture (a cut, a seek, new caps).
    pub fn reset(&mut self) {
        self.primed = false;
    }

    /// Reads the next picture — rows `first`, `first + step`, ... of `p` (`step` 2: one field
    /// of an interlaced frame) — and returns where its content lies in the previous one: the
    /// shift `[x, y]` in pixels and in rows taken (content at (x, y) here was at (x + shift.x,
    /// y + shift.y) there); `None` for the first picture or one of another size.
    pub fn next(&mut self, p: Plane, first: usize, step: usize) -> Option<[f32; 2]> {
        let (w, rows) = (
            p.width,
            p.height.saturating_sub(first).div_ceil(step.max(1)),
        );
        if w < 2 || rows < 2 {
            self.primed = false;
            return None;
        }
        let [previous, current] = &mut self.profiles;
        let sized = current.cols.len() == w - 1 && current.rows.len() == rows - 1;
        if !sized {
            for pr in [&mut *previous, &mut *current] {
                pr.cols = vec![0.0; w - 1];
                pr.rows = vec![0.0; rows - 1];
            }
            self.sums = vec![0.0; w];
            self.primed = false;
        }
        // One pass over the rows taken: column sums, and each row's mean's step from the last.
        self.sums.fill(0.0);
        let mut last = 0.0;
        let sums = &mut self.sums;
        widest(
            #[inline(always)]
            || {
                for j in 0..rows {
                    let row = p.row(first + j * step);
                    let mut total = 0u32;
                    for (s, &v) in sums.iter_mut().zip(row) {
                        *s += v as f32;
                        total += v as u32;
                    }
                    let mean = total as f32 / w as f32;
                    if j > 0 {
                        current.rows[j - 1] = mean - last;
                    }
                    last = mean;
                }
            },
        );
        let k = 1.0 / rows as f32;
        for (c, s) in current.cols.iter_mut().zip(self.sums.windows(2)) {
            *c = (s[1] - s[0]) * k;
        }
        let shift = self.primed.then(|| {
            [
                best_shift(&current.cols, &previous.cols, RANGE[0]),
                best_shift(&current.rows, &previous.rows, RANGE[1]),
            ]
        });
        self.profiles.swap(0, 1);
        self.primed = true;
        shift
    }
}

/// The shift `s` (to a fraction) at which `previous[i + s]` best matches `current[i]`: the
/// least mean absolute difference over the overlap, within ±`range` and at least half the
/// profile overlapping.
fn best_shift(current: &[f32], previous: &[f32], range: usize) -> f32 {
    let n = current.len();
    let range = range.min(n / 2) as isize;
    let cost = |s: isize| {
        let (from, to) = ((-s).max(0) as usize, (n as isize - s.max(0)) as usize);
        let at = (from as isize + s) as usize;
        let total = widest(
            #[inline(always)]
            || absolute_differences(&current[from..to], &previous[at..at + to - from]),
        );
        total / (to - from) as f32
    };
    let (mut best, mut best_cost) = (0isize, cost(0));
    for s in -range..=range {
        let c = cost(s);
        if c < best_cost {
            (best, best_cost) = (s, c);
        }
    }
    if best.abs() == range {
        return best as f32;
    }
    // The V through the costs either side (a sum of absolute differences grows about linearly
    // away from the match).
    let (left, right) = (cost(best - 1), cost(best + 1));
    let fraction = if left < right {
        let rise = right - best_cost;
        if rise > 0.0 {
            0.5 * (left - right) / rise
        } else {
            0.0
        }
    } else {
        let rise = left - best_cost;
        if rise > 0.0 {
            0.5 * (left - right) / rise
        } else {
            0.0
        }
    };
    best as f32 + fraction.clamp(-0.5, 0.5)
}

/// The sum of `|a - b|` over the two slices (as long as each other), in eight running sums
/// so that it vectorises (one running sum waits on every addition).
#[inline(always)]
fn absolute_differences(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ea, eb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ea
        .remainder()
        .iter()
        .zip(eb.remainder())
        .map(|(x, y)| (x - y).abs())
        .sum();
    for (x, y) in ea.zip(eb) {
        for (l, (x, y)) in lanes.iter_mut().zip(x.iter().zip(y)) {
            *l += (x - y).abs();
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediaai_testing::{load_frame, media};

    /// The astronaut's luma at 720x576.
    fn photo() -> Vec<u8> {
        let sample = load_frame(&media("astronaut.png"), "GRAY8", Some((800, 640)));
        let map = sample.buffer().unwrap().map_readable().unwrap();
        map.to_vec()
    }

    /// A 720x576 window of the 800x640 photograph at (`x`, `y`) (fractions by bilinear
    /// interpolation), with noise of about `sigma` levels.
    fn window(src: &[u8], x: f32, y: f32, sigma: f32, seed: &mut u32) -> Vec<u8> {
        let (w, h) = (720usize, 576usize);
        let at = |u: usize, v: usize| src[v.min(639) * 800 + u.min(799)] as f32;
        let mut out = vec![0u8; w * h];
        for j in 0..h {
            for i in 0..w {
                let (fx, fy) = (x + i as f32, y + j as f32);
                let (x0, y0) = (fx.floor(), fy.floor());
                let (ax, ay) = (fx - x0, fy - y0);
                let (u, v) = (x0 as usize, y0 as usize);
                let val = at(u, v) * (1.0 - ax) * (1.0 - ay)
                    + at(u + 1, v) * ax * (1.0 - ay)
                    + at(u, v + 1) * (1.0 - ax) * ay
                    + at(u + 1, v + 1) * ax * ay;
                *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = ((*seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * sigma * 3.46;
                out[j * w + i] = (val + noise).round().clamp(0.0, 255.0) as u8;
            }
        }
        out
    }

    /// The windows of `src` at each place of `path` (with noise), each found to have moved by
    /// the step from the place before within 0.3 px; the windows, for more checks.
    fn pan_is_found(src: &[u8], path: &[(f32, f32)], seed: &mut u32) -> Vec<Vec<u8>> {
        let mut g = GlobalMotion::new();
        let pictures: Vec<Vec<u8>> = path
            .iter()
            .map(|&(x, y)| window(src, x, y, 6.0, seed))
            .collect();
        for (i, pic) in pictures.iter().enumerate() {
            let got = g.next(Plane::tight(pic, 720, 576), 0, 1);
            if i == 0 {
                assert_eq!(got, None, "nothing to compare the first picture with");
                continue;
            }
            let want = [path[i].0 - path[i - 1].0, path[i].1 - path[i - 1].1];
            let [dx, dy] = got.unwrap();
            // Content at x now was at x + (new window - old window) before.
            assert!(
                (dx - want[0]).abs() < 0.3 && (dy - want[1]).abs() < 0.3,
                "picture {i} of {path:?}: found ({dx:.2}, {dy:.2}), moved ({}, {})",
                want[0],
                want[1]
            );
        }
        pictures
    }

    #[test]
    fn a_pan_of_a_noisy_photograph_is_found_to_a_fraction_of_a_pixel() {
        let src = photo();
        let mut seed = 1;
        // The camera moves right and down: the content moves left and up, so what is at
        // (x, y) now was at (x + dx, y + dy) in the picture before.
        let path = [
            (40.0, 30.0),
            (45.25, 28.5),
            (52.5, 28.0),
            (52.5, 31.75),
            (44.0, 31.75),
        ];
        let pictures = pan_is_found(&src, &path, &mut seed);
        // One field of each (every other row): rows are counted in the field.
        let mut g = GlobalMotion::new();
        g.next(Plane::tight(&pictures[0], 720, 576), 0, 2);
        let [dx, dy] = g.next(Plane::tight(&pictures[1], 720, 576), 0, 2).unwrap();
        assert!(
            (dx - 5.25).abs() < 0.3 && (dy + 0.75).abs() < 0.3,
            "({dx}, {dy})"
        );
        // A fast pan, as a camera swung across a scene gives: 58 pixels in a frame (29 a
        // field), then 47 back, found as closely as the slow ones.
        pan_is_found(&src, &[(10.0, 30.0), (68.0, 31.5), (21.0, 31.5)], &mut seed);
        // A still picture: no motion.
        let mut g = GlobalMotion::new();
        let still = window(&src, 40.0, 30.0, 6.0, &mut seed);
        g.next(Plane::tight(&pictures[0], 720, 576), 0, 1);
        let [dx, dy] = g.next(Plane::tight(&still, 720, 576), 0, 1).unwrap();
        assert!(dx.abs() < 0.2 && dy.abs() < 0.2, "({dx}, {dy})");
    }
}
