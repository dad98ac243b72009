//! The restoration stages on 8-bit planes, without GStreamer types. Each works on one plane
//! (rows `stride` bytes apart) and splits its rows over the thread pool; none allocates.

use rayon::prelude::*;

/// One 8-bit plane, read-only.
#[derive(Clone, Copy)]
pub struct Plane<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub width: usize,
    pub height: usize,
}

impl Plane<'_> {
    #[inline]
    fn row(&self, y: usize) -> &[u8] {
        &self.data[y * self.stride..y * self.stride + self.width]
    }
}

/// Rows per task: enough work per task to beat the scheduling cost.
const ROWS_PER_TASK: usize = 16;

/// Motion-adaptive deinterlacing of one plane (yadif class, with a cubic vertical
/// interpolation where no edge direction fits better): the rows of parity `keep` (0: even rows,
/// the top field) of `cur` are kept; the others are rebuilt at the kept field's time.
///
/// `other_before` and `other_after` are the frames whose rows of the missing parity lie half a
/// field before and after the kept field in time; `prev` and `next` the frames whose rows of
/// the kept parity lie one frame before and after (for the motion check). Top field first,
/// keeping the first field: (prev, cur, prev, next); keeping the second: (cur, next, prev,
/// next). `out` has the plane's size, rows `out_stride` apart.
#[allow(clippy::too_many_arguments)]
pub fn deinterlace(
    cur: Plane,
    other_before: Plane,
    other_after: Plane,
    prev: Plane,
    next: Plane,
    keep: usize,
    out: &mut [u8],
    out_stride: usize,
) {
    let (w, h) = (cur.width, cur.height);
    out[..out_stride * h]
        .par_chunks_mut(out_stride * ROWS_PER_TASK)
        .enumerate()
        .for_each(|(chunk, rows)| {
            for (i, dst) in rows.chunks_mut(out_stride).enumerate() {
                let y = chunk * ROWS_PER_TASK + i;
                let dst = &mut dst[..w];
                if y % 2 == keep || h < 2 {
                    dst.copy_from_slice(cur.row(y));
                    continue;
                }
                // Kept rows above and below, clamped to the kept field's first and last rows.
                let last = if (h - 1) % 2 == keep { h - 1 } else { h - 2 };
                let kept = |k: isize| (y as isize + k).clamp(keep as isize, last as isize) as usize;
                // Rows of the missing parity two rows away, for the spatial check.
                let missing = |k: isize| {
                    let r = y as isize + k;
                    if r < 0 || r >= h as isize {
                        y
                    } else {
                        r as usize
                    }
                };
                let (up, down) = (cur.row(kept(-1)), cur.row(kept(1)));
                let (up3, down3) = (cur.row(kept(-3)), cur.row(kept(3)));
                let (pu, pd) = (prev.row(kept(-1)), prev.row(kept(1)));
                let (nu, nd) = (next.row(kept(-1)), next.row(kept(1)));
                let (ab, aa) = (other_before.row(y), other_after.row(y));
                let (bu, bd) = (other_before.row(missing(-2)), other_before.row(missing(2)));
                let (au, ad) = (other_after.row(missing(-2)), other_after.row(missing(2)));
                for x in 0..w {
                    let at = |r: &[u8], dx: isize| {
                        r[(x as isize + dx).clamp(0, w as isize - 1) as usize] as i32
                    };
                    let c = up[x] as i32;
                    let e = down[x] as i32;
                    let d = (ab[x] as i32 + aa[x] as i32) >> 1;
                    let t0 = (ab[x] as i32 - aa[x] as i32).abs();
                    let t1 = ((pu[x] as i32 - c).abs() + (pd[x] as i32 - e).abs()) >> 1;
                    let t2 = ((nu[x] as i32 - c).abs() + (nd[x] as i32 - e).abs()) >> 1;
                    let mut diff = (t0 >> 1).max(t1).max(t2);
                    // Spatial prediction: cubic vertically, or along the best edge direction.
                    let cubic = (9 * (c + e) - (up3[x] as i32 + down3[x] as i32) + 8) >> 4;
                    let mut pred = cubic.clamp(c.min(e), c.max(e));
                    let mut score = (at(up, -1) - at(down, -1)).abs()
                        + (c - e).abs()
                        + (at(up, 1) - at(down, 1)).abs()
                        - 1;
                    for dir in [-1isize, 1] {
                        for j in [dir, 2 * dir] {
                            let s = (at(up, j - 1) - at(down, -j - 1)).abs()
                                + (at(up, j) - at(down, -j)).abs()
                                + (at(up, j + 1) - at(down, -j + 1)).abs();
                            if s < score {
                                score = s;
                                pred = (at(up, j) + at(down, -j)) >> 1;
                            } else {
                                break;
                            }
                        }
                    }
                    let b = (bu[x] as i32 + au[x] as i32) >> 1;
                    let f = (bd[x] as i32 + ad[x] as i32) >> 1;
                    let hi = (d - e).max(d - c).max((b - c).min(f - e));
                    let lo = (d - e).min(d - c).min((b - c).max(f - e));
                    diff = diff.max(lo).max(-hi);
                    dst[x] = pred.clamp(d - diff, d + diff).clamp(0, 255) as u8;
                }
            }
        });
}

/// Rows per denoising task: the spatial filter's vertical recursion restarts at each task's
/// first row, so tasks are kept tall.
const DENOISE_ROWS: usize = 64;

/// A weight table: the share (16-bit fixed point) a filtered value keeps against a new one,
/// per absolute difference 0..=255, falling from 1 as the difference grows; `strength` is the
/// difference where it is 25% (0: filter off).
fn weights(strength: f64) -> [u32; 256] {
    let mut w = [0u32; 256];
    if strength > 0.0 {
        let s = strength.min(252.0);
        let gamma = 0.25f64.ln() / (1.0 - s / 255.0 - 0.00001).ln();
        for (d, v) in w.iter_mut().enumerate() {
            *v = (((255.0 - d as f64) / 255.0).powf(gamma) * 65536.0).round() as u32;
        }
    }
    w
}

/// `new + (old - new) * w(|old - new|)` on values with 8 extra bits.
#[inline]
fn low_pass(old: u32, new: u32, w: &[u32; 256]) -> u32 {
    let d = (old as i32 - new as i32).unsigned_abs() >> 8;
    let k = w[d.min(255) as usize] as i64;
    (new as i64 + (((old as i64 - new as i64) * k + 32768) >> 16)) as u32
}

/// Edge-preserving spatial and motion-aware temporal denoising (hqdn3d class): each pixel is
/// smoothed with its left and upper neighbours, then moves from its filtered past towards
/// that by a weight that falls as the difference grows, so flat and still areas are averaged
/// while edges and motion pass. Values carry 8 extra bits between frames.
pub struct Denoise {
    spatial: [u32; 256],
    temporal: [u32; 256],
    state: Vec<u16>,
    /// One filtered row per task, for the vertical recursion.
    lines: Vec<u16>,
    width: usize,
    primed: bool,
}

impl Denoise {
    /// `strength`: the temporal difference (0–255) still averaged at 25% (0: off); the spatial
    /// filter takes two thirds of it. `width`×`height` is the plane's size.
    pub fn new(strength: f64, width: usize, height: usize) -> Self {
        Denoise {
            spatial: weights(strength * 2.0 / 3.0),
            temporal: weights(strength),
            state: vec![0; width * height],
            lines: vec![0; width * height.div_ceil(DENOISE_ROWS).max(1)],
            width,
            primed: false,
        }
    }

    /// Forgets the past (a scene that does not follow from the last one).
    pub fn reset(&mut self) {
        self.primed = false;
    }

    /// Whether the filter changes anything (strength above 0).
    pub fn enabled(&self) -> bool {
        self.temporal[0] > 0
    }

    /// Filters a plane in place (rows `stride` bytes apart) and remembers the result.
    pub fn process(&mut self, data: &mut [u8], stride: usize, w: usize, h: usize) {
        if w != self.width || self.state.len() < w * h || w == 0 || !self.enabled() {
            return;
        }
        let primed = std::mem::replace(&mut self.primed, true);
        let (spatial, temporal) = (&self.spatial, &self.temporal);
        self.state[..w * h]
            .par_chunks_mut(w * DENOISE_ROWS)
            .zip(data[..stride * h].par_chunks_mut(stride * DENOISE_ROWS))
            .zip(self.lines.par_chunks_mut(w))
            .for_each(|((state, rows), line)| {
                for (r, (st, row)) in state.chunks_mut(w).zip(rows.chunks_mut(stride)).enumerate() {
                    let mut left = (row[0] as u32) << 8;
                    for x in 0..w {
                        let cur = (row[x] as u32) << 8;
                        left = low_pass(left, cur, spatial);
                        let up = if r == 0 { left } else { line[x] as u32 };
                        let smooth = low_pass(up, left, spatial);
                        line[x] = smooth as u16;
                        let out = if primed {
                            low_pass(st[x] as u32, smooth, temporal)
                        } else {
                            smooth
                        };
                        st[x] = out as u16;
                        row[x] = ((out + 128) >> 8).min(255) as u8;
                    }
                }
            });
    }
}

/// Moves a plane `shift` pixels to the right (negative: left), edges repeated, in place.
/// Analog chroma trails luma by a few pixels; a negative shift pulls it back.
pub fn shift_rows(data: &mut [u8], stride: usize, width: usize, height: usize, shift: i32) {
    if shift == 0 || width == 0 {
        return;
    }
    data[..stride * height]
        .par_chunks_mut(stride)
        .for_each(|row| {
            let row = &mut row[..width];
            let s = shift.unsigned_abs() as usize;
            if shift > 0 {
                let edge = row[0];
                row.copy_within(..width.saturating_sub(s), s.min(width));
                row[..s.min(width)].fill(edge);
            } else {
                let edge = row[width - 1];
                row.copy_within(s.min(width).., 0);
                row[width.saturating_sub(s)..].fill(edge);
            }
        });
}

/// Estimates how far chroma trails luma, in chroma pixels (−8..=8): the shift that best lines
/// up the horizontal edges of `chroma` with those of `luma` sampled at chroma positions
/// (`factor`: luma pixels per chroma pixel). `None` when the picture has too few edges to say.
pub fn chroma_delay(luma: Plane, chroma: Plane, factor: usize) -> Option<i32> {
    let (w, h) = (chroma.width, chroma.height);
    if w < 32 || h < 4 {
        return None;
    }
    let vfactor = (luma.height / h).max(1);
    let score = |s: i32| {
        let mut sum = 0.0f64;
        for y in (0..h).step_by(2) {
            let (c, l) = (chroma.row(y), luma.row((y * vfactor).min(luma.height - 1)));
            for x in 9..w - 9 {
                let gc = c[x + 1] as f64 - c[x - 1] as f64;
                let xl = (x as i32 - s) as usize * factor;
                let gl = l[(xl + factor).min(luma.width - 1)] as f64
                    - l[xl.saturating_sub(factor)] as f64;
                // Edge strengths compared, whatever their sign.
                sum += (gc.abs() - gl.abs()).abs();
            }
        }
        sum
    };
    let zero = score(0);
    let (best, best_score) = (-8..=8)
        .map(|s| (s, score(s)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, zero));
    // A clear minimum only: 2% better than leaving chroma where it is.
    Some(if best_score < zero * 0.98 { best } else { 0 })
}

/// A lookup table mapping luma `black`..`white` onto 16..235 (clamped).
pub fn levels_lut(black: f64, white: f64) -> [u8; 256] {
    let span = (white - black).max(1.0);
    std::array::from_fn(|v| {
        (16.0 + (v as f64 - black) * 219.0 / span)
            .round()
            .clamp(0.0, 255.0) as u8
    })
}

/// A lookup table scaling chroma about 128 by `saturation`.
pub fn saturation_lut(saturation: f64) -> [u8; 256] {
    std::array::from_fn(|v| {
        (128.0 + (v as f64 - 128.0) * saturation)
            .round()
            .clamp(0.0, 255.0) as u8
    })
}

/// Applies `lut` to every pixel of a plane in place.
pub fn apply_lut(data: &mut [u8], stride: usize, width: usize, height: usize, lut: &[u8; 256]) {
    data[..stride * height]
        .par_chunks_mut(stride)
        .for_each(|row| {
            for v in &mut row[..width] {
                *v = lut[*v as usize];
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(data: &[u8], w: usize, h: usize) -> Plane<'_> {
        Plane {
            data,
            stride: w,
            width: w,
            height: h,
        }
    }

    #[test]
    fn a_still_picture_deinterlaces_to_itself() {
        let (w, h) = (64, 48);
        let img: Vec<u8> = (0..w * h).map(|i| ((i % w) + (i / w) * 2) as u8).collect();
        let p = plane(&img, w, h);
        let mut out = vec![0u8; w * h];
        deinterlace(p, p, p, p, p, 0, &mut out, w);
        // The last row has no kept row below it; everything else is exact.
        assert_eq!(
            out[..w * (h - 1)],
            img[..w * (h - 1)],
            "static: temporal prediction"
        );
    }

    #[test]
    fn denoise_averages_still_noise_and_passes_motion() {
        let (w, h) = (32, 32);
        let mut dn = Denoise::new(12.0, w, h);
        let mut var = 0.0;
        for t in 0..30u32 {
            let mut out: Vec<u8> = (0..w * h)
                .map(|i| (100 + ((i as u32 * 7919 + t * 104729) % 9) as i32 - 4) as u8)
                .collect();
            dn.process(&mut out, w, w, h);
            if t == 29 {
                var =
                    out.iter().map(|v| (*v as f64 - 100.0).powi(2)).sum::<f64>() / out.len() as f64;
            }
        }
        assert!(var < 2.0, "noise variance 6.7 in, {var} out");
        let mut jump = vec![200u8; w * h];
        dn.process(&mut jump, w, w, h);
        assert!(jump.iter().all(|&v| v > 190), "a big change passes");
    }

    #[test]
    fn shift_and_luts() {
        let mut row = vec![1u8, 2, 3, 4, 5];
        shift_rows(&mut row, 5, 5, 1, 2);
        assert_eq!(row, [1, 1, 1, 2, 3]);
        shift_rows(&mut row, 5, 5, 1, -1);
        assert_eq!(row, [1, 1, 2, 3, 3]);
        let lut = levels_lut(30.0, 200.0);
        assert_eq!((lut[30], lut[200]), (16, 235));
        assert_eq!(saturation_lut(0.0)[200], 128);
    }
}
