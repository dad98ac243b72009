//! Legal range and gamut (EBU R103): the share of a frame's pixels whose luma, or whose red,
//! green or blue (computed from Y'CbCr with the stream's matrix), lies outside 5..246 (8-bit
//! studio levels: −5% to 105%).
//!
//! Each chroma sample bounds the luma its pixels may have (R = Y + r(Cr), so R within 5..246
//! means Y within 5 − r .. 246 − r; likewise G and B): a table of those bounds for every
//! (Cb, Cr), made once per matrix, gives each chroma row a row of luma bounds, and the check
//! is two vector comparisons a pixel.

use mediaai_common::pixels::wide;
use rayon::prelude::*;

use crate::events::{Event, Kind, Ns};
use crate::stats::Plane;

/// The legal range, 8-bit studio levels.
pub const LOW: f32 = 5.0;
pub const HIGH: f32 = 246.0;

/// Rows of luma per task.
const STRIPE: usize = 32;

/// What a frame measured: pixels out of range (luma or any of R, G, B), and the pixels
/// counted.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GamutCount {
    pub any: u64,
    pub pixels: u64,
}

/// One stripe's count and its rows of luma bounds (allocated once).
#[derive(Clone, Default)]
struct Partial {
    count: GamutCount,
    low: Vec<u8>,
    high: Vec<u8>,
}

impl GamutCount {
    /// The share of pixels out of range (luma or colour).
    pub fn share(&self) -> f64 {
        self.any as f64 / self.pixels.max(1) as f64
    }
}

/// The R103 check for one matrix.
pub struct Gamut {
    /// For each (Cb, Cr) (index `cb << 8 | cr`): the lowest and highest legal luma.
    bounds: Vec<(u8, u8)>,
    /// Per stripe of luma rows: its count and bounds rows (allocated once per frame size).
    partials: Vec<Partial>,
}

impl Gamut {
    /// For the matrix with luma coefficients `kr`, `kb` (BT.601: 0.299, 0.114; BT.709:
    /// 0.2126, 0.0722), studio range, frames up to `width` x `height`.
    pub fn new(kr: f32, kb: f32, width: usize, height: usize) -> Self {
        let (kr, kb) = (kr as f64, kb as f64);
        let kg = 1.0 - kr - kb;
        // Studio-range code values: R = Y + 219/224 · 2(1 − Kr) · (Cr − 128), and so on.
        let s = 219.0 / 224.0;
        let mut bounds = vec![(0u8, 0u8); 1 << 16];
        for cb in 0..256usize {
            for cr in 0..256usize {
                let (u, v) = (cb as f64 - 128.0, cr as f64 - 128.0);
                let r = s * 2.0 * (1.0 - kr) * v;
                let b = s * 2.0 * (1.0 - kb) * u;
                let g = -s * (2.0 * (1.0 - kb) * kb / kg * u + 2.0 * (1.0 - kr) * kr / kg * v);
                let (lo, hi) = (r.min(g).min(b).min(0.0), r.max(g).max(b).max(0.0));
                // Y + d >= LOW for every offset d (luma's own is 0); integers: rounded inward
                // by half a level, so a pixel on the line counts as legal.
                let low = (LOW as f64 - lo - 0.5).ceil().clamp(0.0, 256.0);
                let high = (HIGH as f64 - hi + 0.5).floor().clamp(-1.0, 255.0);
                bounds[cb << 8 | cr] = if low > high {
                    // No luma is legal with this chroma: an empty range.
                    (255, 0)
                } else {
                    (low as u8, high as u8)
                };
            }
        }
        Gamut {
            bounds,
            partials: vec![
                Partial {
                    count: GamutCount::default(),
                    low: vec![0; width],
                    high: vec![0; width],
                };
                height.div_ceil(STRIPE).max(1)
            ],
        }
    }

    /// The bounds table as the GPU path's shader reads it: for each `cb << 8 | cr`, the lowest
    /// legal luma in the low byte and the highest in the next.
    pub fn packed_bounds(&self) -> Vec<u32> {
        self.bounds
            .iter()
            .map(|&(lo, hi)| lo as u32 | (hi as u32) << 8)
            .collect()
    }

    /// Counts a frame's illegal pixels: `planes` are Y, Cb, Cr, chroma subsampled by any
    /// whole factor (4:2:0, 4:2:2, 4:4:4).
    pub fn measure(&mut self, planes: [Plane; 3]) -> GamutCount {
        let [y, cb, cr] = planes;
        if y.width == 0 || y.height == 0 || cb.width == 0 || cb.height == 0 {
            return GamutCount::default();
        }
        let (fx, fy) = (
            y.width.div_ceil(cb.width).max(1),
            y.height.div_ceil(cb.height).max(1),
        );
        let stripes = y.height.div_ceil(STRIPE).min(self.partials.len());
        let bounds = &self.bounds;
        self.partials[..stripes]
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, part)| {
                let mut count = GamutCount::default();
                let rows = (i * y.height / stripes)..((i + 1) * y.height / stripes);
                let w = y.width.min(part.low.len());
                let (low, high) = (&mut part.low[..w], &mut part.high[..w]);
                let mut bounds_of = None;
                for row in rows {
                    let c = (row / fy).min(cb.height - 1);
                    // The luma bounds of this chroma row, once for the luma rows it serves.
                    if bounds_of != Some(c) {
                        bounds_of = Some(c);
                        let (u, v) = (cb.row(c), cr.row(c));
                        let chroma = |x: usize| {
                            let at = x.min(u.len() - 1);
                            bounds[(u[at] as usize) << 8 | v[at] as usize]
                        };
                        if fx == 2 {
                            // 4:2:0 and 4:2:2: pairs (stores, not a fill call per pair).
                            for (x, (l, h)) in low
                                .chunks_exact_mut(2)
                                .zip(high.chunks_exact_mut(2))
                                .enumerate()
                            {
                                let (lo, hi) = chroma(x);
                                (l[0], l[1], h[0], h[1]) = (lo, lo, hi, hi);
                            }
                        }
                        // 4:4:4, other factors, and an odd width's last pixel.
                        let done = if fx == 2 { w / 2 * 2 } else { 0 };
                        for x in done..w {
                            (low[x], high[x]) = chroma(x / fx);
                        }
                    }
                    let luma = &y.row(row)[..w];
                    count.any += wide(
                        #[inline(always)]
                        || {
                            luma.iter()
                                .zip(low.iter())
                                .zip(high.iter())
                                .map(|((&l, &lo), &hi)| ((l < lo) | (l > hi)) as u32)
                                .sum::<u32>()
                        },
                    ) as u64;
                    count.pixels += w as u64;
                }
                part.count = count;
            });
        self.partials[..stripes]
            .iter()
            .fold(GamutCount::default(), |a, p| GamutCount {
                any: a.any + p.count.any,
                pixels: a.pixels + p.count.pixels,
            })
    }
}

/// Runs of frames with more than `tolerance` of their pixels out of range, each reported when
/// it ends with the largest share a frame of it had. Dips back into range shorter than
/// [`GAMUT_MERGE`] do not end a run: a noisy source hovering at the tolerance is one event
/// with its worst share, not a dozen of a few frames each.
#[derive(Clone, Debug)]
pub struct GamutRuns {
    pub tolerance: f64,
    /// The open run: its start, its worst share, and since when it has been back in range.
    run: Option<(Ns, f64, Option<Ns>)>,
}

/// How long frames must stay in range for a gamut run to end: a second.
pub const GAMUT_MERGE: Ns = 1_000_000_000;

impl GamutRuns {
    pub fn new(tolerance: f64) -> Self {
        GamutRuns {
            tolerance,
            run: None,
        }
    }

    /// One frame at `pts` with `share` of its pixels out of range: a run that ended (where it
    /// went back in range, a second of range later).
    pub fn frame(&mut self, pts: Ns, share: f64) -> Option<(Event, f64)> {
        if share > self.tolerance {
            let run = self.run.get_or_insert((pts, share, None));
            run.1 = run.1.max(share);
            run.2 = None;
            return None;
        }
        let run = self.run.as_mut()?;
        let clear = *run.2.get_or_insert(pts);
        if pts.saturating_sub(clear) >= GAMUT_MERGE {
            return self.finish(pts);
        }
        None
    }

    /// The stream ended at `end`: a run still open, ending where it went back in range.
    pub fn finish(&mut self, end: Ns) -> Option<(Event, f64)> {
        self.run.take().map(|(start, share, clear)| {
            (
                Event {
                    kind: Kind::Gamut,
                    start,
                    end: clear.unwrap_or(end),
                },
                share,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Studio-range Y'CbCr of R, G, B given as shares of full amplitude (BT.601).
    fn ycbcr(r: f64, g: f64, b: f64) -> [u8; 3] {
        let y = 0.299 * r + 0.587 * g + 0.114 * b;
        [
            (16.0 + 219.0 * y).round() as u8,
            (128.0 + 224.0 * (b - y) / 1.772).round() as u8,
            (128.0 + 224.0 * (r - y) / 1.402).round() as u8,
        ]
    }

    fn count(pixel: [u8; 3]) -> GamutCount {
        let (w, h) = (8, 4);
        let y = vec![pixel[0]; w * h];
        let (u, v) = (vec![pixel[1]; w * h / 4], vec![pixel[2]; w * h / 4]);
        let mut g = Gamut::new(0.299, 0.114, w, h);
        g.measure([
            Plane::tight(&y, w, h),
            Plane::tight(&u, w / 2, h / 2),
            Plane::tight(&v, w / 2, h / 2),
        ])
    }

    #[test]
    fn legal_colours_pass_and_illegal_ones_are_counted() {
        // 100% bars and black are legal; so is a colour 4% beyond full red.
        for rgb in [
            (1.0, 1.0, 1.0),
            (1.0, 1.0, 0.0),
            (0.0, 0.0, 1.0),
            (1.0, 0.0, 0.0),
            (0.0, 0.0, 0.0),
            (1.04, 0.0, 0.0),
        ] {
            assert_eq!(count(ycbcr(rgb.0, rgb.1, rgb.2)).any, 0, "{rgb:?}");
        }
        // Luma above 246 and below 5; blue at 110% with legal luma; a Y'CbCr triple no RGB
        // colour has (yellow's chroma at black's luma: blue far below -5%).
        let yellow = ycbcr(1.0, 1.0, 0.0);
        for pixel in [
            [250, 128, 128],
            [3, 128, 128],
            ycbcr(0.0, 0.0, 1.1),
            [20, yellow[1], yellow[2]],
        ] {
            let c = count(pixel);
            assert_eq!(c.any, c.pixels, "{pixel:?}");
        }
    }

    #[test]
    fn runs_of_frames_beyond_the_tolerance_are_events() {
        const MS: Ns = 1_000_000;
        let mut runs = GamutRuns::new(0.01);
        assert_eq!(runs.frame(0, 0.005), None);
        assert_eq!(runs.frame(40 * MS, 0.02), None);
        assert_eq!(runs.frame(80 * MS, 0.3), None);
        // Back in range for 120 ms, out again: the same run.
        for t in [120, 160, 200] {
            assert_eq!(runs.frame(t * MS, 0.01), None);
        }
        assert_eq!(runs.frame(240 * MS, 0.05), None);
        // In range for a second: the run ended where it went back in range, its worst share.
        let mut ended = None;
        for k in 0..=25 {
            ended = ended.or(runs.frame((280 + 40 * k) * MS, 0.0));
        }
        let (e, share) = ended.expect("the run ends after a second in range");
        assert_eq!(
            (e.kind, e.start, e.end, share),
            (Kind::Gamut, 40 * MS, 280 * MS, 0.3)
        );
        assert_eq!(runs.frame(2000 * MS, 0.5), None);
        assert_eq!(
            runs.finish(2040 * MS).map(|(e, _)| (e.start, e.end)),
            Some((2000 * MS, 2040 * MS))
        );
    }

    #[test]
    fn shares_follow_the_pixels() {
        // A 64x32 frame, a quarter of its columns at luma 250.
        let (w, h) = (64, 32);
        let y: Vec<u8> = (0..w * h)
            .map(|i| if i % w < 16 { 250 } else { 120 })
            .collect();
        let c = vec![128u8; w * h / 4];
        let mut g = Gamut::new(0.2126, 0.0722, w, h);
        let n = g.measure([
            Plane::tight(&y, w, h),
            Plane::tight(&c, w / 2, h / 2),
            Plane::tight(&c, w / 2, h / 2),
        ]);
        assert_eq!((n.any, n.pixels), (512, 2048));
        assert_eq!(n.share(), 0.25);
    }
}
