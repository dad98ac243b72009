//! Content fingerprints: a 63-bit perceptual hash per frame (the signs, against their median,
//! of the 8x8 lowest-frequency DCT coefficients of the luma picture averaged down to 32x32,
//! the constant term left out). Averaging makes it blind to scaling and coding noise, the
//! median makes it blind to gain and offset (colour and level shifts); a small crop moves the
//! low frequencies little. A stream matches a reference where a window of its hashes lies
//! close (in bits) to a run of the reference's.

use crate::stats::Plane;

/// The averaged picture is `GRID`x`GRID`; the hash keeps `LOW`x`LOW` coefficients.
const GRID: usize = 32;
const LOW: usize = 8;

/// Hashes frames of one size without allocating.
pub struct Fingerprinter {
    /// `cos[u][i]`: the DCT-II basis, `LOW` frequencies over `GRID` samples.
    cos: [[f32; GRID]; LOW],
    /// Grid cell of each sampled column and row, and the sampling steps.
    column_cell: Vec<u8>,
    row_cell: Vec<u8>,
    steps: (usize, usize),
    sums: [[u32; GRID]; GRID],
    counts: [[u32; GRID]; GRID],
    /// Samples per cell, which depend on the size alone (for sums made elsewhere: the GPU).
    sample_counts: [[u32; GRID]; GRID],
}

/// Rows and columns read: every `step`-th, leaving about 8 per cell (all of them in small
/// pictures) — plenty for a 32x32 average.
fn step(n: usize) -> usize {
    (n / (8 * GRID)).max(1)
}

impl Fingerprinter {
    /// For frames whose luma is `width`x`height`.
    pub fn new(width: usize, height: usize) -> Self {
        let cell = |n: usize| -> Vec<u8> {
            (0..n.div_ceil(step(n)))
                .map(|i| (i * step(n) * GRID / n.max(1)) as u8)
                .collect()
        };
        let mut f = Fingerprinter {
            cos: std::array::from_fn(|u| {
                std::array::from_fn(|i| {
                    (std::f32::consts::PI * u as f32 * (2 * i + 1) as f32 / (2 * GRID) as f32).cos()
                })
            }),
            column_cell: cell(width),
            row_cell: cell(height),
            steps: (step(width), step(height)),
            sums: [[0; GRID]; GRID],
            counts: [[0; GRID]; GRID],
            sample_counts: [[0; GRID]; GRID],
        };
        // The samples `hash` takes: rows inside the picture, every sampled column.
        let (sx, sy) = f.steps;
        for (r, &cy) in f.row_cell.iter().enumerate() {
            if r * sy >= height {
                break;
            }
            for &cx in f.column_cell.iter().take(width.div_ceil(sx)) {
                f.sample_counts[cy as usize][cx as usize] += 1;
            }
        }
        f
    }

    /// Grid cell of each sampled column, then of each sampled row, and the sampling steps
    /// (columns, rows): what a GPU pass needs to make the sums [`Self::hash_of_sums`] takes.
    pub fn sampling(&self) -> (&[u8], &[u8], (usize, usize)) {
        (&self.column_cell, &self.row_cell, self.steps)
    }

    /// The hash of a luma plane whose samples were summed into `sums` (row-major 32x32 cells)
    /// elsewhere, from the samples [`Self::sampling`] names: equal to [`Self::hash`] of it.
    pub fn hash_of_sums(&mut self, sums: &[u32]) -> u64 {
        for (row, chunk) in self.sums.iter_mut().zip(sums.chunks_exact(GRID)) {
            row.copy_from_slice(chunk);
        }
        self.counts = self.sample_counts;
        self.finish()
    }

    /// The hash of a luma plane (of the size given at `new`).
    pub fn hash(&mut self, luma: Plane) -> u64 {
        self.sums = [[0; GRID]; GRID];
        self.counts = [[0; GRID]; GRID];
        let (sx, sy) = self.steps;
        for (r, &cy) in self.row_cell.iter().enumerate() {
            let y = r * sy;
            if y >= luma.height {
                break;
            }
            let row = luma.row(y);
            let (sums, counts) = (&mut self.sums[cy as usize], &mut self.counts[cy as usize]);
            for (&cx, &v) in self.column_cell.iter().zip(row.iter().step_by(sx)) {
                sums[cx as usize] += v as u32;
                counts[cx as usize] += 1;
            }
        }
        self.finish()
    }

    /// The hash of the grid in `sums` and `counts`.
    fn finish(&self) -> u64 {
        // Cells no sample fell in (pictures under 32 pixels across) take their neighbour's.
        let mut grid = [[0f32; GRID]; GRID];
        for y in 0..GRID {
            for x in 0..GRID {
                grid[y][x] = match self.counts[y][x] {
                    0 if x > 0 => grid[y][x - 1],
                    0 if y > 0 => grid[y - 1][x],
                    0 => 0.0,
                    n => self.sums[y][x] as f32 / n as f32,
                };
            }
        }
        // Rows first (LOW vertical frequencies), then columns.
        let half: [[f32; GRID]; LOW] = std::array::from_fn(|u| {
            std::array::from_fn(|x| (0..GRID).map(|y| self.cos[u][y] * grid[y][x]).sum())
        });
        let coeffs: [f32; LOW * LOW] = std::array::from_fn(|i| {
            let (u, v) = (i / LOW, i % LOW);
            (0..GRID).map(|x| half[u][x] * self.cos[v][x]).sum()
        });
        let mut sorted = coeffs;
        sorted[0] = f32::NAN;
        let ac = &mut sorted[1..];
        ac.sort_by(f32::total_cmp);
        let median = ac[ac.len() / 2];
        coeffs[1..]
            .iter()
            .enumerate()
            .fold(0u64, |h, (i, &c)| h | (((c > median) as u64) << i))
    }
}

/// Bits in which two hashes differ (0..=63).
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Where a window of recent hashes lies in a reference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Match {
    /// Index in the reference of the window's first frame.
    pub offset: usize,
    /// Mean differing bits per frame over the window.
    pub distance: f64,
}

impl Match {
    /// 1 for identical hashes, 0 for unrelated pictures (31.5 differing bits on average).
    pub fn confidence(&self) -> f64 {
        (1.0 - self.distance / 31.5).clamp(0.0, 1.0)
    }
}

/// The closest run of `reference` to `window` (oldest first), if the reference is long enough.
pub fn best_match(reference: &[u64], window: &[u64]) -> Option<Match> {
    let n = window.len();
    if n == 0 || reference.len() < n {
        return None;
    }
    (0..=reference.len() - n)
        .map(|offset| {
            let bits: u32 = reference[offset..offset + n]
                .iter()
                .zip(window)
                .map(|(&r, &w)| distance(r, w))
                .sum();
            (offset, bits)
        })
        .min_by_key(|&(_, bits)| bits)
        .map(|(offset, bits)| Match {
            offset,
            distance: bits as f64 / n as f64,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(w: usize, h: usize, gain: f32, offset: f32) -> Vec<u8> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 / w as f32, (i / w) as f32 / h as f32);
                let v = 100.0 + 60.0 * (6.0 * x).sin() * (4.0 * y + 1.0).cos() + 40.0 * x * y;
                (v * gain + offset).clamp(0.0, 255.0) as u8
            })
            .collect()
    }

    #[test]
    fn scaling_and_level_changes_keep_the_hash_and_other_pictures_do_not() {
        let a = picture(320, 240, 1.0, 0.0);
        let h = Fingerprinter::new(320, 240).hash(Plane::tight(&a, 320, 240));
        let small = picture(80, 60, 1.0, 0.0);
        let h_small = Fingerprinter::new(80, 60).hash(Plane::tight(&small, 80, 60));
        let shifted = picture(320, 240, 0.8, 30.0);
        let h_shift = Fingerprinter::new(320, 240).hash(Plane::tight(&shifted, 320, 240));
        assert!(
            distance(h, h_small) <= 8,
            "scaled: {}",
            distance(h, h_small)
        );
        assert!(
            distance(h, h_shift) <= 8,
            "levels: {}",
            distance(h, h_shift)
        );
        let other: Vec<u8> = (0..320 * 240).map(|i| ((i * 7919) % 251) as u8).collect();
        let h_other = Fingerprinter::new(320, 240).hash(Plane::tight(&other, 320, 240));
        assert!(
            distance(h, h_other) > 16,
            "unrelated: {}",
            distance(h, h_other)
        );
    }

    #[test]
    fn a_window_is_found_at_its_offset() {
        let reference: Vec<u64> = (0..100u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        let window: Vec<u64> = reference[40..65].iter().map(|h| h ^ 0b101).collect();
        let m = best_match(&reference, &window).unwrap();
        assert_eq!(m.offset, 40);
        assert_eq!(m.distance, 2.0);
        assert!(m.confidence() > 0.9);
    }
}
