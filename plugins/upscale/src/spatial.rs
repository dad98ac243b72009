//! The spatial upscaler: edge-adaptive interpolation ([`crate::easu`], the EASU pass of AMD
//! FidelityFX Super Resolution 1.0) followed by robust contrast-adaptive sharpening (its RCAS
//! pass: each pixel sharpened against its four neighbours by as much as their range allows
//! without clipping). Planar RGB `f32` in 0..1, rows split over the thread pool, eight pixels
//! at a time; nothing is allocated per frame.

use rayon::prelude::*;

use crate::easu::Place;

/// Upscales `width`x`height` frames by `scale`.
pub struct Spatial {
    width: usize,
    height: usize,
    scale: usize,
    /// Where each output column and row samples the input; the columns' fractions again, as
    /// one row.
    px: Vec<Place>,
    fx: Vec<f32>,
    py: Vec<Place>,
    /// Each input row gathered at each output column's four tap columns (3 planes x `height`
    /// x 4 x output width), then the EASU result before sharpening (3 planes of the output
    /// size).
    expanded: Vec<f32>,
    scaled: Vec<f32>,
    /// RCAS strength, 0 (off) to 1.
    sharpness: f32,
}

/// RCAS's limit on the negative lobe, which keeps it from ringing.
const RCAS_LIMIT: f32 = 0.25 - 1.0 / 16.0;

impl Spatial {
    pub fn new(width: usize, height: usize, scale: usize, sharpness: f32) -> Self {
        let (ow, oh) = (width * scale, height * scale);
        let px = crate::easu::places(width, scale);
        Spatial {
            width,
            height,
            scale,
            fx: px.iter().map(|p| p.frac).collect(),
            px,
            py: crate::easu::places(height, scale),
            expanded: vec![0.0; 3 * height * 4 * ow],
            scaled: vec![0.0; 3 * oh * ow],
            sharpness: sharpness.clamp(0.0, 1.0),
        }
    }

    /// `input` (3 planes of the input size) upscaled into `out` (3 planes of the output size).
    pub fn run(&mut self, input: &[f32], out: &mut [f32]) {
        let (w, h, s) = (self.width, self.height, self.scale);
        let (ow, oh) = (w * s, h * s);
        if input.len() < 3 * w * h || out.len() < 3 * ow * oh {
            return;
        }
        let sharpen = self.sharpness > 0.0;
        let target = if sharpen {
            &mut self.scaled[..]
        } else {
            &mut out[..3 * ow * oh]
        };
        easu_frame(
            input,
            (w, h),
            (&self.px, &self.fx, &self.py),
            &mut self.expanded,
            target,
        );
        if sharpen {
            self.sharpen(out);
        }
    }

    /// RCAS from `scaled` into `out`, rows over the thread pool; each row's inner pixels as
    /// one straight pass the compiler vectorises.
    fn sharpen(&self, out: &mut [f32]) {
        let (ow, oh) = (self.width * self.scale, self.height * self.scale);
        let plane = ow * oh;
        let src = &self.scaled;
        let sharpness = self.sharpness;
        for_each_row(out, ow, oh, |y, row| {
            let (up, down) = (y.saturating_sub(1), (y + 1).min(oh - 1));
            let rows: [[&[f32]; 3]; 3] =
                std::array::from_fn(|c| [up, y, down].map(|r| &src[c * plane + r * ow..][..ow]));
            sharpen_row(rows, row, sharpness);
        });
    }
}

/// `f(y, [r, g, b])` for every row `y` of the planar RGB frame `out` (`ow`x`oh`), over the
/// thread pool.
fn for_each_row(
    out: &mut [f32],
    ow: usize,
    oh: usize,
    f: impl Fn(usize, [&mut [f32]; 3]) + Sync + Send,
) {
    let plane = ow * oh;
    let (r_out, rest) = out[..3 * plane].split_at_mut(plane);
    let (g_out, b_out) = rest.split_at_mut(plane);
    r_out
        .par_chunks_mut(ow)
        .zip(g_out.par_chunks_mut(ow))
        .zip(b_out.par_chunks_mut(ow))
        .enumerate()
        .for_each(|(y, ((r, g), b))| f(y, [r, g, b]));
}

/// EASU of planar RGB `input` (`w`x`h`) into `out` (3 planes of `px.len()` x `py.len()`), rows
/// over the thread pool. Each input row is first gathered into `expanded`: for each of the
/// four tap columns, the pixel each output column reads there; an output row then reads its
/// taps as contiguous rows, so the arithmetic runs eight pixels at a time.
fn easu_frame(
    input: &[f32],
    (w, h): (usize, usize),
    (px, fx, py): (&[crate::easu::Place], &[f32], &[crate::easu::Place]),
    expanded: &mut [f32],
    out: &mut [f32],
) {
    use crate::easu::TAPS;
    let (ow, oh) = (px.len(), py.len());
    expanded[..3 * h * 4 * ow]
        .par_chunks_mut(4 * ow)
        .enumerate()
        .for_each(|(cr, dst)| {
            let src = &input[cr * w..][..w];
            for (i, d) in dst.chunks_exact_mut(ow).enumerate() {
                for (d, p) in d.iter_mut().zip(px) {
                    *d = src[p.at[i]];
                }
            }
        });
    let expanded = &expanded[..];
    for_each_row(out, ow, oh, |y, row| {
        let at = py[y];
        let ty = at.frac;
        let taps: [&[f32]; 36] = std::array::from_fn(|q| {
            let ((i, j), ch) = (TAPS[q / 3], q % 3);
            &expanded[((ch * h + at.at[j]) * 4 + i) * ow..][..ow]
        });
        mediaai_common::pixels::wide(
            #[inline(always)]
            || easu_row(&taps, fx, ty, row),
        );
    });
}

/// One output row of EASU from its taps' rows (`taps[3 k + channel]`), the columns' fractions
/// `fx` and the row's `ty`.
#[inline(always)]
fn easu_row(taps: &[&[f32]; 36], fx: &[f32], ty: f32, [ro, go, bo]: [&mut [f32]; 3]) {
    use crate::easu::{pixel, F8};
    let ow = fx.len();
    let mut x = 0;
    // Eight pixels at a time, then the rest one by one.
    while x + 8 <= ow {
        let lanes = |s: &[f32]| {
            let s = &s[x..x + 8];
            F8([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]])
        };
        let mut c = [[F8([0.0; 8]); 3]; 12];
        for (k, ck) in c.iter_mut().enumerate() {
            for (ch, v) in ck.iter_mut().enumerate() {
                *v = lanes(taps[3 * k + ch]);
            }
        }
        let v = pixel(&c, lanes(fx), F8([ty; 8]));
        ro[x..x + 8].copy_from_slice(&v[0].0);
        go[x..x + 8].copy_from_slice(&v[1].0);
        bo[x..x + 8].copy_from_slice(&v[2].0);
        x += 8;
    }
    for x in x..ow {
        let mut c = [[0.0f32; 3]; 12];
        for (k, ck) in c.iter_mut().enumerate() {
            for (ch, v) in ck.iter_mut().enumerate() {
                *v = taps[3 * k + ch][x];
            }
        }
        let v = pixel(&c, fx[x], ty);
        ro[x] = v[0];
        go[x] = v[1];
        bo[x] = v[2];
    }
}

/// RCAS of one pixel from each channel's up, left, right, down and centre samples: the lobe
/// is the largest negative weight of the four neighbours that keeps every channel inside the
/// neighbourhood's range. The shader does the same operations in the same order.
#[inline(always)]
fn rcas(p: [[f32; 5]; 3], sharpness: f32) -> [f32; 3] {
    let mut lobe = f32::NEG_INFINITY;
    for q in &p {
        let mn = q[0].min(q[1]).min(q[2]).min(q[3]);
        let mx = q[0].max(q[1]).max(q[2]).max(q[3]);
        // How far the lobe may go before this channel leaves [mn, mx].
        let hit_min = mn / (4.0 * mx).max(1e-6);
        let hit_max = (1.0 - mx) / (4.0 * mn - 4.0).min(-1e-6);
        lobe = lobe.max((-hit_min).max(hit_max));
    }
    let lobe = lobe.clamp(-RCAS_LIMIT, 0.0) * sharpness;
    let norm = 1.0 / (4.0 * lobe + 1.0);
    p.map(|q| ((lobe * (q[0] + q[1] + q[2] + q[3]) + q[4]) * norm).clamp(0.0, 1.0))
}

/// One output row of RCAS: `rows[c]` holds channel c's rows above, at and below (the edge row
/// repeated at the frame's top and bottom), `out[c]` its output row.
fn sharpen_row(rows: [[&[f32]; 3]; 3], out: [&mut [f32]; 3], sharpness: f32) {
    let w = out[0].len();
    let [o0, o1, o2] = out;
    let pixel = |x: usize, left: usize, right: usize| {
        rcas(
            std::array::from_fn(|c| {
                let [u, m, d] = rows[c];
                [u[x], m[left], m[right], d[x], m[x]]
            }),
            sharpness,
        )
    };
    // The two edge columns repeat their own pixel for the missing neighbour.
    for x in [0, w - 1] {
        [o0[x], o1[x], o2[x]] = pixel(x, x.saturating_sub(1), (x + 1).min(w - 1));
    }
    if w < 3 {
        return;
    }
    let n = w - 2;
    // Equal-length slices of the inner pixels and their neighbours, named one by one, so the
    // loop has no bounds checks and vectorises.
    let taps = |c: usize| {
        let [u, m, d] = rows[c];
        (
            &u[1..][..n],
            &m[..n],
            &m[2..][..n],
            &d[1..][..n],
            &m[1..][..n],
        )
    };
    let (r_up, r_left, r_right, r_down, r_mid) = taps(0);
    let (g_up, g_left, g_right, g_down, g_mid) = taps(1);
    let (b_up, b_left, b_right, b_down, b_mid) = taps(2);
    let (o0, o1, o2) = (&mut o0[1..][..n], &mut o1[1..][..n], &mut o2[1..][..n]);
    mediaai_common::pixels::wide(|| {
        for i in 0..n {
            let v = rcas(
                [
                    [r_up[i], r_left[i], r_right[i], r_down[i], r_mid[i]],
                    [g_up[i], g_left[i], g_right[i], g_down[i], g_mid[i]],
                    [b_up[i], b_left[i], b_right[i], b_down[i], b_mid[i]],
                ],
                sharpness,
            );
            o0[i] = v[0];
            o1[i] = v[1];
            o2[i] = v[2];
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_frame_stays_flat_and_a_ramp_stays_a_ramp() {
        let (w, h) = (8, 6);
        let flat = vec![0.5f32; 3 * w * h];
        let mut out = vec![0.0f32; 3 * w * h * 4];
        Spatial::new(w, h, 2, 0.5).run(&flat, &mut out);
        assert!(out.iter().all(|v| (v - 0.5).abs() < 1e-5));
        let ramp: Vec<f32> = (0..3 * w * h).map(|i| (i % w) as f32 / 10.0).collect();
        Spatial::new(w, h, 2, 0.0).run(&ramp, &mut out);
        // Inside the ramp, the output rises with it, within a tenth of an input step of the
        // straight line (EASU's Lanczos-like kernel is not exactly linear).
        let row = &out[4 * w..6 * w];
        for (x, v) in row.iter().enumerate().take(2 * w - 4).skip(4) {
            let want = ((x as f32 + 0.5) / 2.0 - 0.5) / 10.0;
            assert!((v - want).abs() < 0.01, "{x}: {v} vs {want}");
            assert!(row[x + 1] >= *v, "{x}: falls");
        }
    }
}
