//! Per-frame statistics of planar 8-bit video, computed over stripes of rows on the thread
//! pool into accumulators allocated once.

use mediaai_common::pixels::wide;
use rayon::prelude::*;

pub use mediaai_common::pixels::Plane;

/// What one frame measured.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameStats {
    /// Mean and standard deviation per plane (Y, U, V).
    pub mean: [f64; 3],
    pub std_dev: [f64; 3],
    /// Luma histogram, 256 bins.
    pub histogram: [u32; 256],
    pub min: u8,
    pub max: u8,
    /// Luma pixels below 16 and above 235 (outside broadcast range).
    pub below_16: u64,
    pub above_235: u64,
    /// Luma pixels at or under the black threshold it was asked about.
    pub black_pixels: u64,
    pub pixels: u64,
}

impl Default for FrameStats {
    fn default() -> Self {
        FrameStats {
            mean: [0.0; 3],
            std_dev: [0.0; 3],
            histogram: [0; 256],
            min: 0,
            max: 0,
            below_16: 0,
            above_235: 0,
            black_pixels: 0,
            pixels: 0,
        }
    }
}

/// Histograms of one stripe of rows, one per plane; everything else follows from them.
#[derive(Clone)]
struct Partial {
    histograms: [[u32; 256]; 3],
}

impl Default for Partial {
    fn default() -> Self {
        Partial {
            histograms: [[0; 256]; 3],
        }
    }
}

/// Counts a row into four interleaved sub-histograms, so that consecutive equal pixels do not
/// wait on each other's increment (the usual store-forwarding stall).
#[inline]
fn count(row: &[u8], sub: &mut [[u32; 256]; 4]) {
    let mut quads = row.chunks_exact(4);
    for q in &mut quads {
        sub[0][q[0] as usize] += 1;
        sub[1][q[1] as usize] += 1;
        sub[2][q[2] as usize] += 1;
        sub[3][q[3] as usize] += 1;
    }
    for &v in quads.remainder() {
        sub[0][v as usize] += 1;
    }
}

/// Rows per stripe.
const STRIPE: usize = 32;

/// Computes [`FrameStats`] with accumulators made once for a frame height.
pub struct Analyser {
    partials: Vec<Partial>,
}

impl Analyser {
    /// For frames up to `height` rows.
    pub fn new(height: usize) -> Self {
        Analyser {
            partials: vec![Partial::default(); height.div_ceil(STRIPE).max(1)],
        }
    }

    /// The statistics of a frame: `planes[0]` luma, then the chroma planes; `black` the luma
    /// level at or under which a pixel counts as black.
    pub fn measure(&mut self, planes: [Plane; 3], black: u8, out: &mut FrameStats) {
        let luma = planes[0];
        let stripes = luma.height.div_ceil(STRIPE).min(self.partials.len());
        self.partials[..stripes]
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, part)| {
                for (plane, histogram) in planes.iter().zip(part.histograms.iter_mut()) {
                    let mut sub = [[0u32; 256]; 4];
                    // This stripe's share of the plane's rows (chroma planes may be shorter).
                    let rows = (i * plane.height / stripes)..((i + 1) * plane.height / stripes);
                    for y in rows {
                        count(plane.row(y), &mut sub);
                    }
                    for (v, h) in histogram.iter_mut().enumerate() {
                        *h = sub[0][v] + sub[1][v] + sub[2][v] + sub[3][v];
                    }
                }
            });
        let mut total = [[0u64; 256]; 3];
        for part in &self.partials[..stripes] {
            for (t, h) in total.iter_mut().zip(part.histograms.iter()) {
                for (t, &n) in t.iter_mut().zip(h.iter()) {
                    *t += n as u64;
                }
            }
        }
        finalize(&total, black, out);
    }
}

/// The statistics that follow from the three planes' histograms (`black`: the luma level at
/// or under which a pixel is black). The CPU and GPU paths both end here, so they agree
/// exactly.
pub fn finalize(total: &[[u64; 256]; 3], black: u8, out: &mut FrameStats) {
    for (p, h) in total.iter().enumerate() {
        let n: u64 = h.iter().sum();
        let sum: u64 = h.iter().enumerate().map(|(v, &c)| v as u64 * c).sum();
        let sq: u64 = h.iter().enumerate().map(|(v, &c)| (v * v) as u64 * c).sum();
        let mean = sum as f64 / n.max(1) as f64;
        out.mean[p] = mean;
        out.std_dev[p] = (sq as f64 / n.max(1) as f64 - mean * mean).max(0.0).sqrt();
    }
    let h = &total[0];
    for (o, &c) in out.histogram.iter_mut().zip(h.iter()) {
        *o = c as u32;
    }
    out.min = h.iter().position(|&n| n > 0).unwrap_or(0) as u8;
    out.max = h.iter().rposition(|&n| n > 0).unwrap_or(0) as u8;
    out.below_16 = h[..16].iter().sum();
    out.above_235 = h[236..].iter().sum();
    out.black_pixels = h[..=black as usize].iter().sum();
    out.pixels = h.iter().sum();
}

/// Mean absolute difference of two frames' planes, each plane's scaled to 0..1 and the
/// planes averaged (as FFmpeg's `freezedetect` measures it).
pub fn mean_abs_difference(a: [Plane; 3], b: [Plane; 3]) -> f64 {
    let mut total = 0.0;
    for p in 0..3 {
        let (x, y) = (a[p], b[p]);
        let (w, h) = (x.width.min(y.width), x.height.min(y.height));
        let sad: u64 = (0..h)
            .into_par_iter()
            .map(|r| {
                let (u, v) = (&x.row(r)[..w], &y.row(r)[..w]);
                // A row's sum fits u32 (65535 × 255 > any width × 255); bytes throughout so
                // that it vectorises (AVX2 where the CPU has it).
                wide(
                    #[inline(always)]
                    || {
                        u.iter()
                            .zip(v)
                            .map(|(&a, &b)| a.abs_diff(b) as u32)
                            .sum::<u32>()
                    },
                ) as u64
            })
            .sum();
        total += sad as f64 / ((w * h).max(1) as f64 * 255.0);
    }
    total / 3.0
}

/// [`mean_abs_difference`] from per-row sums of absolute differences (`rows` apart, plane
/// after plane, as the GPU path makes them) of planes of `sizes`: the same number.
pub fn mean_abs_difference_of_rows(
    row_sums: &[u32],
    rows: usize,
    sizes: [(usize, usize); 3],
) -> f64 {
    let total: f64 = sizes
        .iter()
        .enumerate()
        .map(|(p, &(w, h))| {
            let sad: u64 = row_sums[p * rows..p * rows + h.min(rows)]
                .iter()
                .map(|&v| v as u64)
                .sum();
            sad as f64 / ((w * h).max(1) as f64 * 255.0)
        })
        .sum();
    total / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_a_known_frame() {
        let (w, h) = (40, 70);
        let y: Vec<u8> = (0..w * h)
            .map(|i| if i % 2 == 0 { 10 } else { 240 })
            .collect();
        let c = vec![128u8; w * h / 4];
        let mut a = Analyser::new(h);
        let mut s = FrameStats::default();
        let planes = [
            Plane::tight(&y, w, h),
            Plane::tight(&c, w / 2, h / 2),
            Plane::tight(&c, w / 2, h / 2),
        ];
        a.measure(planes, 32, &mut s);
        assert_eq!(s.mean[0], 125.0);
        assert_eq!(s.std_dev[0], 115.0);
        assert_eq!((s.mean[1], s.std_dev[1]), (128.0, 0.0));
        assert_eq!((s.min, s.max), (10, 240));
        assert_eq!(
            (s.below_16, s.above_235, s.black_pixels),
            (1400, 1400, 1400)
        );
        assert_eq!(s.histogram[10] + s.histogram[240], 2800);
        assert_eq!(s.pixels, 2800);
    }
}
