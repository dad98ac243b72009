//! The spatial upscaler: Catmull-Rom bicubic interpolation (separable, taps made once per
//! size) followed by robust contrast-adaptive sharpening (the RCAS pass of AMD FidelityFX
//! Super Resolution 1.0: each pixel sharpened against its four neighbours by as much as
//! their range allows without clipping). Planar RGB `f32` in 0..1, rows split over the
//! thread pool; nothing is allocated per frame.

use rayon::prelude::*;

/// Four source indices (clamped at the edges) and their weights, per output column or row.
#[derive(Clone, Copy, Debug)]
struct Taps {
    at: [usize; 4],
    weight: [f32; 4],
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

fn taps(src: usize, scale: usize) -> Vec<Taps> {
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
                    *d = (0..4).map(|k| src[t.at[k]] * t.weight[k]).sum();
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

    /// RCAS from `scaled` into `out`: per pixel, the lobe is the largest negative weight of
    /// the four neighbours that keeps every channel inside the neighbourhood's range.
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
                for x in 0..ow {
                    let (left, right) = (x.saturating_sub(1), (x + 1).min(ow - 1));
                    let mut lobe = f32::NEG_INFINITY;
                    let mut px = [[0.0f32; 5]; 3];
                    for (c, p) in px.iter_mut().enumerate() {
                        let at = |yy: usize, xx: usize| src[c * plane + yy * ow + xx];
                        *p = [at(up, x), at(y, left), at(y, right), at(down, x), at(y, x)];
                        let mn = p[0].min(p[1]).min(p[2]).min(p[3]);
                        let mx = p[0].max(p[1]).max(p[2]).max(p[3]);
                        // How far the lobe may go before this channel leaves [mn, mx].
                        let hit_min = mn / (4.0 * mx).max(1e-6);
                        let hit_max = (1.0 - mx) / (4.0 * mn - 4.0).min(-1e-6);
                        lobe = lobe.max((-hit_min).max(hit_max));
                    }
                    let lobe = lobe.clamp(-RCAS_LIMIT, 0.0) * sharpness;
                    let norm = 1.0 / (4.0 * lobe + 1.0);
                    for (c, o) in [&mut ro[x], &mut go[x], &mut bo[x]].into_iter().enumerate() {
                        let p = px[c];
                        *o = ((lobe * (p[0] + p[1] + p[2] + p[3]) + p[4]) * norm).clamp(0.0, 1.0);
                    }
                }
            });
    }
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
