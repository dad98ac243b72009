//! Edge-adaptive interpolation in the manner of EASU, the upscaling pass of AMD FidelityFX
//! Super Resolution 1.0: each output pixel is a weighted sum of the twelve input pixels around
//! it, under a Lanczos-like kernel that is rotated along the local edge (found from the luma
//! gradients of the four nearest pixels) and stretched along it, so edges stay sharp without
//! stair-steps; the result is clamped to the range of the four nearest pixels (no ringing).
//! Exact reciprocals and square roots replace FSR's approximations, so the CPU and the shader
//! (`shaders/upscale_spatial.wgsl`) do the same arithmetic in the same order.

/// Per output column or row: the four input indices around the sample (offsets -1, 0, 1, 2
/// from the one at or before it, clamped to the frame) and the sample's fraction past it.
#[derive(Clone, Copy, Debug)]
pub struct Place {
    pub at: [usize; 4],
    pub frac: f32,
}

/// The places of each of the `src · scale` outputs along one axis: output `o` samples input
/// `(o + 0.5) / scale - 0.5` (pixel centres aligned).
pub fn places(src: usize, scale: usize) -> Vec<Place> {
    (0..src * scale)
        .map(|o| {
            let x = (o as f32 + 0.5) / scale as f32 - 0.5;
            let base = x.floor();
            Place {
                at: std::array::from_fn(|k| {
                    (base as isize - 1 + k as isize).clamp(0, src as isize - 1) as usize
                }),
                frac: x - base,
            }
        })
        .collect()
}

/// The twelve taps as (column, row) indices into [`Place::at`]: b c / e f g h / i j k l / n o,
/// f being the input pixel at or before the sample.
pub const TAPS: [(usize, usize); 12] = [
    (1, 0),
    (2, 0),
    (0, 1),
    (1, 1),
    (2, 1),
    (3, 1),
    (0, 2),
    (1, 2),
    (2, 2),
    (3, 2),
    (1, 3),
    (2, 3),
];

/// How the kernel's negative lobe shrinks as the edge grows stronger: FSR's
/// `(1/4 - 0.04) - 1/2`.
const LOBE_SLOPE: f32 = -0.29;

/// A number or a vector of numbers the EASU arithmetic runs on: `f32` for single pixels, [`F8`]
/// for eight pixels of a row at once (the same operations lane by lane, so the same results).
pub trait Lanes:
    Copy
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
{
    fn splat(v: f32) -> Self;
    fn abs(self) -> Self;
    fn min(self, o: Self) -> Self;
    fn max(self, o: Self) -> Self;
    fn sqrt(self) -> Self;
    /// `a` where `self > than`, else `b`.
    fn select_gt(self, than: Self, a: Self, b: Self) -> Self;
}

impl Lanes for f32 {
    #[inline(always)]
    fn splat(v: f32) -> Self {
        v
    }
    #[inline(always)]
    fn abs(self) -> Self {
        f32::abs(self)
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        f32::min(self, o)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        f32::max(self, o)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    #[inline(always)]
    fn select_gt(self, than: Self, a: Self, b: Self) -> Self {
        if self > than {
            a
        } else {
            b
        }
    }
}

/// Eight lanes of `f32`; every operation lane by lane, which the compiler turns into vector
/// instructions.
#[derive(Clone, Copy, Debug)]
pub struct F8(pub [f32; 8]);

macro_rules! f8_op {
    ($tr:ident, $f:ident, $op:tt) => {
        #[allow(clippy::assign_op_pattern)]
        impl std::ops::$tr for F8 {
            type Output = F8;
            #[inline(always)]
            fn $f(self, o: F8) -> F8 {
                let mut r = self.0;
                for (r, o) in r.iter_mut().zip(o.0) {
                    *r = *r $op o;
                }
                F8(r)
            }
        }
    };
}
f8_op!(Add, add, +);
f8_op!(Sub, sub, -);
f8_op!(Mul, mul, *);
f8_op!(Div, div, /);

impl Lanes for F8 {
    #[inline(always)]
    fn splat(v: f32) -> Self {
        F8([v; 8])
    }
    #[inline(always)]
    fn abs(self) -> Self {
        let mut r = self.0;
        for r in r.iter_mut() {
            *r = r.abs();
        }
        F8(r)
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        let mut r = self.0;
        for (r, o) in r.iter_mut().zip(o.0) {
            *r = r.min(o);
        }
        F8(r)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        let mut r = self.0;
        for (r, o) in r.iter_mut().zip(o.0) {
            *r = r.max(o);
        }
        F8(r)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        let mut r = self.0;
        for r in r.iter_mut() {
            *r = r.sqrt();
        }
        F8(r)
    }
    #[inline(always)]
    fn select_gt(self, than: Self, a: Self, b: Self) -> Self {
        let mut r = b.0;
        for (((r, s), t), a) in r.iter_mut().zip(self.0).zip(than.0).zip(a.0) {
            if s > t {
                *r = a;
            }
        }
        F8(r)
    }
}

#[inline(always)]
fn luma<L: Lanes>(c: [L; 3]) -> L {
    c[2] * L::splat(0.5) + (c[0] * L::splat(0.5) + c[1])
}

/// One axis of one of the four nearest pixels: the gradient across it (`before`, `centre`,
/// `after`) and how edge-like it is (0..1, squared).
#[inline(always)]
fn edge<L: Lanes>(before: L, centre: L, after: L) -> (L, L) {
    let dir = after - before;
    let span = (after - centre).abs().max((centre - before).abs());
    let zero = L::splat(0.0);
    // 0/0 where the span is flat: not selected.
    let strength = span.select_gt(zero, (dir.abs() / span).min(L::splat(1.0)), zero);
    (dir, strength * strength)
}

/// The output pixel (R, G, B in 0..1) from the twelve taps `c` (in [`TAPS`] order) at
/// fractions `tx`, `ty` past pixel f.
#[inline(always)]
pub fn pixel<L: Lanes>(c: &[[L; 3]; 12], tx: L, ty: L) -> [L; 3] {
    let [lb, lc, le, lf, lg, lh, li, lj, lk, ll, ln, lo] = [
        luma(c[0]),
        luma(c[1]),
        luma(c[2]),
        luma(c[3]),
        luma(c[4]),
        luma(c[5]),
        luma(c[6]),
        luma(c[7]),
        luma(c[8]),
        luma(c[9]),
        luma(c[10]),
        luma(c[11]),
    ];
    let one = L::splat(1.0);
    // The direction and edge strength at the sample: those of f, g, j and k (each from its
    // cross of neighbours: up, left, centre, right, down), weighted bilinearly.
    let quads = [
        ((one - tx) * (one - ty), lb, le, lf, lg, lj),
        (tx * (one - ty), lc, lf, lg, lh, lk),
        ((one - tx) * ty, lf, li, lj, lk, ln),
        (tx * ty, lg, lj, lk, ll, lo),
    ];
    let (mut dir_x, mut dir_y, mut len) = (L::splat(0.0), L::splat(0.0), L::splat(0.0));
    for (w, up, left, centre, right, down) in quads {
        let (dx, lx) = edge(left, centre, right);
        dir_x = dir_x + dx * w;
        len = len + lx * w;
        let (dy, ly) = edge(up, centre, down);
        dir_y = dir_y + dy * w;
        len = len + ly * w;
    }
    let d2 = dir_x * dir_x + dir_y * dir_y;
    // No direction where the gradient vanishes: horizontal.
    let r = one / d2.sqrt();
    let cut = L::splat(1.0 / 32768.0);
    let (dir_x, dir_y) = (
        cut.select_gt(d2, one, dir_x * r),
        cut.select_gt(d2, L::splat(0.0), dir_y * r),
    );
    let len = len * L::splat(0.5);
    let len = len * len;
    // Stretched along the edge (more on diagonals), narrowed across it.
    let stretch = (dir_x * dir_x + dir_y * dir_y) / dir_x.abs().max(dir_y.abs());
    let sx = one + (stretch - one) * len;
    let sy = one - L::splat(0.5) * len;
    let lobe = L::splat(0.5) + L::splat(LOBE_SLOPE) * len;
    let clip = one / lobe;
    let mut acc = [L::splat(0.0); 3];
    let mut total = L::splat(0.0);
    for (k, &(i, j)) in TAPS.iter().enumerate() {
        let ox = L::splat(i as f32 - 1.0) - tx;
        let oy = L::splat(j as f32 - 1.0) - ty;
        let vx = (ox * dir_x + oy * dir_y) * sx;
        let vy = (oy * dir_x - ox * dir_y) * sy;
        let d = (vx * vx + vy * vy).min(clip);
        // Lanczos-2-like: (25/16 (2/5 d - 1)^2 - 9/16) (lobe d - 1)^2.
        let wb = L::splat(0.4) * d - one;
        let wa = lobe * d - one;
        let w = (L::splat(1.5625) * (wb * wb) - L::splat(0.5625)) * (wa * wa);
        for (a, v) in acc.iter_mut().zip(c[k]) {
            *a = *a + v * w;
        }
        total = total + w;
    }
    // Within the range of the four nearest pixels: no ringing.
    let mut out = acc;
    for (ch, o) in out.iter_mut().enumerate() {
        let (f, g, j, k) = (c[3][ch], c[4][ch], c[7][ch], c[8][ch]);
        let lo = f.min(g).min(j).min(k);
        let hi = f.max(g).max(j).max(k);
        *o = (*o / total).max(lo).min(hi);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_stays_flat_and_samples_on_pixels_keep_them() {
        let c = [[0.25, 0.5, 0.75]; 12];
        let p = pixel(&c, 0.3f32, 0.7);
        for (a, b) in p.iter().zip([0.25, 0.5, 0.75]) {
            assert!((a - b).abs() < 1e-6);
        }
        // A vertical edge between columns e/f and g/h: samples left of the middle stay dark.
        let mut e = [[0.0f32; 3]; 12];
        for (k, &(i, _)) in TAPS.iter().enumerate() {
            if i >= 2 {
                e[k] = [1.0; 3];
            }
        }
        assert!(
            pixel(&e, 0.1f32, 0.5)[0] < 0.1,
            "{:?}",
            pixel(&e, 0.1f32, 0.5)
        );
        assert!(
            pixel(&e, 0.9f32, 0.5)[0] > 0.9,
            "{:?}",
            pixel(&e, 0.9f32, 0.5)
        );
        // Eight lanes give each lane's single-pixel result, to the bit.
        let mut seed = 3u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32
        };
        let lanes: Vec<([[f32; 3]; 12], f32, f32)> = (0..8)
            .map(|_| {
                let c = std::array::from_fn(|_| [rnd(), rnd(), rnd()]);
                (c, rnd(), rnd())
            })
            .collect();
        let c8: [[F8; 3]; 12] = std::array::from_fn(|k| {
            std::array::from_fn(|ch| F8(std::array::from_fn(|l| lanes[l].0[k][ch])))
        });
        let v8 = pixel(
            &c8,
            F8(std::array::from_fn(|l| lanes[l].1)),
            F8(std::array::from_fn(|l| lanes[l].2)),
        );
        for (l, (c, tx, ty)) in lanes.iter().enumerate() {
            let v = pixel(c, *tx, *ty);
            for ch in 0..3 {
                assert_eq!(v[ch].to_bits(), v8[ch].0[l].to_bits(), "lane {l}");
            }
        }
    }
}
