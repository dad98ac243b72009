//! Per-frame statistics of planar 8-bit video, computed over stripes of rows on the thread
//! pool into accumulators allocated once.

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

/// Sums of one stripe of rows.
#[derive(Clone)]
struct Partial {
    histogram: [u32; 256],
    sum: [u64; 3],
    sum_sq: [u64; 3],
    count: [u64; 3],
}

impl Default for Partial {
    fn default() -> Self {
        Partial {
            histogram: [0; 256],
            sum: [0; 3],
            sum_sq: [0; 3],
            count: [0; 3],
        }
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
                *part = Partial::default();
                for (p, plane) in planes.iter().enumerate() {
                    // This stripe's share of the plane's rows (chroma planes may be shorter).
                    let rows = |h: usize| (i * h / stripes)..((i + 1) * h / stripes);
                    for y in rows(plane.height) {
                        let row = plane.row(y);
                        let (mut sum, mut sq) = (0u64, 0u64);
                        for &v in row {
                            sum += v as u64;
                            sq += (v as u64) * (v as u64);
                        }
                        if p == 0 {
                            for &v in row {
                                part.histogram[v as usize] += 1;
                            }
                        }
                        part.sum[p] += sum;
                        part.sum_sq[p] += sq;
                        part.count[p] += row.len() as u64;
                    }
                }
            });
        let mut total = Partial::default();
        for part in &self.partials[..stripes] {
            for (t, v) in total.histogram.iter_mut().zip(part.histogram.iter()) {
                *t += v;
            }
            for p in 0..3 {
                total.sum[p] += part.sum[p];
                total.sum_sq[p] += part.sum_sq[p];
                total.count[p] += part.count[p];
            }
        }
        for p in 0..3 {
            let n = total.count[p].max(1) as f64;
            let mean = total.sum[p] as f64 / n;
            out.mean[p] = mean;
            out.std_dev[p] = (total.sum_sq[p] as f64 / n - mean * mean).max(0.0).sqrt();
        }
        let h = &total.histogram;
        out.histogram = *h;
        out.min = h.iter().position(|&n| n > 0).unwrap_or(0) as u8;
        out.max = h.iter().rposition(|&n| n > 0).unwrap_or(0) as u8;
        out.below_16 = h[..16].iter().map(|&n| n as u64).sum();
        out.above_235 = h[236..].iter().map(|&n| n as u64).sum();
        out.black_pixels = h[..=black as usize].iter().map(|&n| n as u64).sum();
        out.pixels = total.count[0];
    }
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
                x.row(r)[..w]
                    .iter()
                    .zip(&y.row(r)[..w])
                    .map(|(&u, &v)| (u as i32 - v as i32).unsigned_abs() as u64)
                    .sum::<u64>()
            })
            .sum();
        total += sad as f64 / ((w * h).max(1) as f64 * 255.0);
    }
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
