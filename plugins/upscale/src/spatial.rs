//! The spatial upscaler: Catmull-Rom bicubic interpolation (separable, taps made once per
//! size) followed by robust contrast-adaptive sharpening (the RCAS pass of AMD FidelityFX
//! Super Resolution 1.0: each pixel sharpened against its four neighbours by as much as
//! their range allows without clipping). Planar RGB `f32` in 0..1, rows split over the
//! thread pool; nothing is allocated per frame.

use rayon::prelude::*;

/// Four source indices (clamped at the edges) and their weights, per output column or row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Taps {
    pub(crate) at: [usize; 4],
    pub(crate) weight: [f32; 4],
}

/// Catmull-Rom weights for a sample `t` (0..1) past the second of four source pixels.
fn catmull_rom(t: f32) -> [f32; 4] {
    let (t2, t3) = (t * t, t * t * t);
    [
        0.5 * (-t3 + 2.0 * t2 - t),
        0.5 * (3.0 * t3 - 5.0 * t2 + 2.0),
        0.5 * (-3.0 * t3 + 4.0 * t2 + t),
        0.5 * (t3 - t2),
    ]
}

/// The taps of each of the `src · scale` outputs along one axis.
pub(crate) fn taps(src: usize, scale: usize) -> Vec<Taps> {
    (0..src * scale)
        .map(|o| {
            // Pixel centres: output o samples source (o + 0.5) / scale - 0.5.
            let x = (o as f32 + 0.5) / scale as f32 - 0.5;
            let base = x.floor();
            let t = x - base;
            let at = std::array::from_fn(|k| {
                (base as isize - 1 + k as isize).clamp(0, src as isize - 1) as usize
            });
            Taps {
                at,
                weight: catmull_rom(t),
            }
        })
        .collect()
}

/// Upscales `width`x`height` frames by `scale`.
pub struct Spatial {
    width: usize,
    height: usize,
    scale: usize,
    xs: Vec<Taps>,
    ys: Vec<Taps>,
    /// Rows scaled horizontally (3 planes of `height` x `width · scale`), then the bicubic
    /// result before sharpening (3 planes of the output size).
    across: Vec<f32>,
    scaled: Vec<f32>,
    /// RCAS strength, 0 (off) to 1.
    sharpness: f32,
}

/// RCAS's limit on the negative lobe, which keeps it from ringing.
const RCAS_LIMIT: f32 = 0.25 - 1.0 / 16.0;

impl Spatial {
    pub fn new(width: usize, height: usize, scale: usize, sharpness: f32) -> Self {
        let (ow, oh) = (width * scale, height * scale);
        Spatial {
            width,
            height,
            scale,
            xs: taps(width, scale),
            ys: taps(height, scale),
            across: vec![0.0; 3 * height * ow],
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
        let xs = &self.xs;
        // Horizontal: each input row to `ow` samples.
        self.across
            .par_chunks_mut(ow)
            .enumerate()
            .for_each(|(r, dst)| {
                let src = &input[r * w..(r + 1) * w];
                for (d, t) in dst.iter_mut().zip(xs) {
                    let [a, b, c, e] = t.at;
                    let w = t.weight;
                    // From zero in this order, as the shader sums.
                    *d = 0.0 + src[a] * w[0] + src[b] * w[1] + src[c] * w[2] + src[e] * w[3];
                }
            });
        // Vertical: each output row from four rows of `across`.
        let (across, ys) = (&self.across, &self.ys);
        let target = if self.sharpness > 0.0 {
            &mut self.scaled[..]
        } else {
            &mut out[..3 * ow * oh]
        };
        target.par_chunks_mut(ow).enumerate().for_each(|(r, dst)| {
            let (plane, y) = (r / oh, r % oh);
            let t = ys[y];
            let row = |k: usize| &across[(plane * h + t.at[k]) * ow..][..ow];
            let (a, b, c, d) = (row(0), row(1), row(2), row(3));
            let wt = t.weight;
            for x in 0..ow {
                let v = a[x] * wt[0] + b[x] * wt[1] + c[x] * wt[2] + d[x] * wt[3];
                dst[x] = v.clamp(0.0, 1.0);
            }
        });
        if self.sharpness > 0.0 {
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
        let (r_out, rest) = out[..3 * plane].split_at_mut(plane);
        let (g_out, b_out) = rest.split_at_mut(plane);
        r_out
            .par_chunks_mut(ow)
            .zip(g_out.par_chunks_mut(ow))
            .zip(b_out.par_chunks_mut(ow))
            .enumerate()
            .for_each(|(y, ((ro, go), bo))| {
                let (up, down) = (y.saturating_sub(1), (y + 1).min(oh - 1));
                let rows: [[&[f32]; 3]; 3] = std::array::from_fn(|c| {
                    [up, y, down].map(|r| &src[c * plane + r * ow..][..ow])
                });
                sharpen_row(rows, [ro, go, bo], sharpness);
            });
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
        // Inside the ramp, bicubic reproduces it exactly (Catmull-Rom keeps linear ramps).
        let row = &out[4 * w..6 * w];
        for (x, v) in row.iter().enumerate().take(2 * w - 4).skip(4) {
            let want = ((x as f32 + 0.5) / 2.0 - 0.5) / 10.0;
            assert!((v - want).abs() < 1e-5, "{x}: {v} vs {want}");
        }
    }
}
