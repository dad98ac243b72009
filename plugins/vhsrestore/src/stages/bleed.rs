//! Chroma bleed reduction: a guided filter along chroma rows with luma as its guide.

use super::*;

/// Chroma bleed reduction: a guided filter along each chroma row with the restored luma as its
/// guide (the local linear model of He, Sun and Tang's guided filter, along rows only, as tape
/// limits chroma bandwidth along the line). In each window of nine chroma pixels chroma is
/// fitted as `a · luma + b`: where luma has an edge the fitted chroma steps with it (the
/// smeared transition is sharpened back into place), where luma is flat the fit is the
/// window's mean (chroma noise is averaged). Window sums are sums of three three-pixel sums,
/// each stage one straight vectorised pass; the moments of the fit are exact integers.
pub struct Bleed {
    /// Regularisation in squared guide units: how strong a luma edge must be for chroma to
    /// follow it rather than be averaged.
    eps: f32,
    /// Per task: integer rows (guide and chroma padded by `RADIUS` either side, their three-
    /// sums and those of guide² and guide·chroma, the guide's window sums) and float rows (a
    /// and b padded, their three-sums).
    ints: Vec<i32>,
    floats: Vec<f32>,
    width: usize,
    height: usize,
    /// Luma pixels per chroma pixel, across and down.
    factor: (usize, usize),
}

/// Chroma pixels either side of the centre of the guided filter's window (nine wide: about
/// the chroma bandwidth of VHS on an SD line).
const RADIUS: usize = 4;
const WINDOW: usize = 2 * RADIUS + 1;

/// `out[i] = v[i] + v[i + 1] + v[i + 2]` for every `i` of `out` (`v` two longer).
#[inline(always)]
fn three_sums<T: Copy + std::ops::Add<Output = T>>(v: &[T], out: &mut [T]) {
    let n = out.len();
    let (a, b, c) = (&v[..n], &v[1..n + 1], &v[2..n + 2]);
    for i in 0..n {
        out[i] = a[i] + b[i] + c[i];
    }
}

/// Fills the `RADIUS` pixels before and after `row[RADIUS..RADIUS + w]` with its end pixels.
#[inline(always)]
fn pad<T: Copy>(row: &mut [T], w: usize) {
    let (first, last) = (row[RADIUS], row[RADIUS + w - 1]);
    row[..RADIUS].fill(first);
    row[RADIUS + w..].fill(last);
}

impl Bleed {
    /// For chroma planes of `width`x`height` whose pixels each cover `factor` luma pixels
    /// (across, down); `level`: the luma contrast (8-bit levels) a chroma transition must
    /// line up with to be kept sharp — chroma along flatter luma is averaged (0: off).
    pub fn new(level: f64, width: usize, height: usize, factor: (usize, usize)) -> Self {
        let factor = (factor.0.max(1), factor.1.max(1));
        let block = (factor.0 * factor.1).min(4) as f64;
        // Off: nothing to hold.
        let tasks = if level > 0.0 {
            height.div_ceil(STRIPE).max(1)
        } else {
            0
        };
        let padded = width + 2 * RADIUS;
        Bleed {
            eps: (level.max(0.0) * block).powi(2) as f32,
            ints: vec![0; tasks * Self::ints_per_task(width)],
            floats: vec![0.0; tasks * 4 * padded],
            width,
            height,
            factor,
        }
    }

    fn ints_per_task(width: usize) -> usize {
        7 * (width + 2 * RADIUS) + 2 * width
    }

    /// Whether the filter does anything.
    pub fn enabled(&self) -> bool {
        self.eps > 0.0 && self.width > 0 && self.height > 0
    }

    /// Filters the chroma planes `u` and `v` (rows `stride` apart, the size this was made
    /// for) guided by the restored `luma`.
    pub fn apply(&mut self, luma: Plane, u: &mut [u8], v: &mut [u8], stride: usize) {
        let (w, h) = (self.width, self.height);
        let (fx, fy) = self.factor;
        // More than four luma pixels per chroma pixel could overflow the sums: 4:1:0 and
        // rarer subsamplings are left alone.
        if !self.enabled() || luma.width == 0 || luma.height == 0 || fx * fy > 4 {
            return;
        }
        let len = stride * (h - 1) + w;
        if u.len() < len || v.len() < len {
            return;
        }
        let padded = w + 2 * RADIUS;
        let m = WINDOW as f32;
        let (reg, inv_m) = (m * m * self.eps, 1.0 / m);
        u[..len]
            .par_chunks_mut(stride * STRIPE)
            .zip(v[..len].par_chunks_mut(stride * STRIPE))
            .zip(self.ints.par_chunks_mut(Self::ints_per_task(w)))
            .zip(self.floats.par_chunks_mut(4 * padded))
            .enumerate()
            .for_each(|(task, (((us, vs), ints), floats))| {
                let (g, rest) = ints.split_at_mut(padded);
                let (p, rest) = rest.split_at_mut(padded);
                let (tg, rest) = rest.split_at_mut(padded);
                let (tgg, rest) = rest.split_at_mut(padded);
                let (tp, rest) = rest.split_at_mut(padded);
                let (tgp, rest) = rest.split_at_mut(padded);
                let (gp_row, rest) = rest.split_at_mut(padded);
                let (sg, sgg) = rest.split_at_mut(w);
                let sgg = &mut sgg[..w];
                let (a, rest) = floats.split_at_mut(padded);
                let (b, rest) = rest.split_at_mut(padded);
                let (ta, tb) = rest.split_at_mut(padded);
                let n = padded - 2;
                for (i, (ur, vr)) in us.chunks_mut(stride).zip(vs.chunks_mut(stride)).enumerate() {
                    let y = task * STRIPE + i;
                    // The guide: the sum of the luma pixels each chroma pixel covers (odd
                    // luma sizes: the last row or column repeated).
                    g.fill(0);
                    let whole = w.min(luma.width / fx);
                    for dy in 0..fy {
                        let row = luma.row((y * fy + dy).min(luma.height - 1));
                        let mid = &mut g[RADIUS..RADIUS + whole];
                        widest(
                            #[inline(always)]
                            || {
                                if fx == 2 {
                                    // Each pair read as one little-endian word: low byte
                                    // plus high byte, without shuffling bytes apart.
                                    for (d, pair) in mid.iter_mut().zip(row.chunks_exact(2)) {
                                        let v = u16::from_le_bytes([pair[0], pair[1]]) as i32;
                                        *d += (v & 0xff) + (v >> 8);
                                    }
                                } else {
                                    for (d, block) in mid.iter_mut().zip(row.chunks_exact(fx)) {
                                        *d += block.iter().map(|&l| l as i32).sum::<i32>();
                                    }
                                }
                            },
                        );
                        for x in whole..w {
                            for dx in 0..fx {
                                g[RADIUS + x] += row[(x * fx + dx).min(luma.width - 1)] as i32;
                            }
                        }
                    }
                    pad(g, w);
                    widest(
                        #[inline(always)]
                        || {
                            // Window sums of the guide and its square, shared by both planes.
                            for x in 0..padded {
                                gp_row[x] = g[x] * g[x];
                            }
                            three_sums(g, &mut tg[..n]);
                            three_sums(gp_row, &mut tgg[..n]);
                            let (t0, t1, t2) = (&tg[..w], &tg[3..w + 3], &tg[6..w + 6]);
                            let (s0, s1, s2) = (&tgg[..w], &tgg[3..w + 3], &tgg[6..w + 6]);
                            for x in 0..w {
                                sg[x] = t0[x] + t1[x] + t2[x];
                                sgg[x] = s0[x] + s1[x] + s2[x];
                            }
                        },
                    );
                    for row in [&mut ur[..w], &mut vr[..w]] {
                        for (d, &c) in p[RADIUS..RADIUS + w].iter_mut().zip(row.iter()) {
                            *d = c as i32;
                        }
                        pad(p, w);
                        widest(
                            #[inline(always)]
                            || {
                                for x in 0..padded {
                                    gp_row[x] = g[x] * p[x];
                                }
                                three_sums(p, &mut tp[..n]);
                                three_sums(gp_row, &mut tgp[..n]);
                                // The fit of each window (exact integer moments, then floats).
                                let (p0, p1, p2) = (&tp[..w], &tp[3..w + 3], &tp[6..w + 6]);
                                let (q0, q1, q2) = (&tgp[..w], &tgp[3..w + 3], &tgp[6..w + 6]);
                                let (fa, fb) =
                                    (&mut a[RADIUS..RADIUS + w], &mut b[RADIUS..RADIUS + w]);
                                let (sg, sgg) = (&sg[..w], &sgg[..w]);
                                for x in 0..w {
                                    let sp = p0[x] + p1[x] + p2[x];
                                    let sgp = q0[x] + q1[x] + q2[x];
                                    let cov = (WINDOW as i32 * sgp - sg[x] * sp) as f32;
                                    let var = (WINDOW as i32 * sgg[x] - sg[x] * sg[x]) as f32;
                                    let slope = cov / (var + reg);
                                    fa[x] = slope;
                                    fb[x] = (sp as f32 - slope * sg[x] as f32) * inv_m;
                                }
                            },
                        );
                        pad(a, w);
                        pad(b, w);
                        widest(
                            #[inline(always)]
                            || {
                                // The fits averaged over the windows that hold each pixel.
                                three_sums(a, &mut ta[..n]);
                                three_sums(b, &mut tb[..n]);
                                let (a0, a1, a2) = (&ta[..w], &ta[3..w + 3], &ta[6..w + 6]);
                                let (b0, b1, b2) = (&tb[..w], &tb[3..w + 3], &tb[6..w + 6]);
                                let guide = &g[RADIUS..RADIUS + w];
                                let out = &mut a[..w];
                                for x in 0..w {
                                    let ma = a0[x] + a1[x] + a2[x];
                                    let mb = b0[x] + b1[x] + b2[x];
                                    out[x] = (ma * guide[x] as f32 + mb) * inv_m;
                                }
                            },
                        );
                        quantize(row, &a[..w]);
                    }
                }
            });
    }
}
