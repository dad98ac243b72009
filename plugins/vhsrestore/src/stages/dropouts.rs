//! Tape dropouts found and filled.

use super::*;

/// Tape dropouts: short horizontal streaks, one line of one field high, far brighter or
/// darker than the picture above and below them in both fields.
#[derive(Clone, Copy, Debug)]
pub struct Dropouts {
    /// How far (8-bit levels) a pixel must stand out from all four rows around it.
    pub threshold: u8,
    /// The shortest streak, in pixels of the plane.
    pub min_run: usize,
}

impl Dropouts {
    /// Fills the streaks of row `y` of `plane` (already copied to `row`) with the mean of the
    /// other field's rows either side, one pixel beyond each end of the streak.
    pub(super) fn repair(&self, plane: Plane, y: usize, row: &mut [u8]) {
        let h = plane.height;
        if h < 3 || self.threshold == 0 {
            return;
        }
        let at = |k: isize| plane.row((y as isize + k).clamp(0, h as isize - 1) as usize);
        let (a1, b1, a2, b2) = (at(-1), at(1), at(-2), at(2));
        let w = row.len();
        let (a1, b1, a2, b2) = (&a1[..w], &b1[..w], &a2[..w], &b2[..w]);
        let t = self.threshold as i16;
        // Most rows have none: one vector pass says whether any pixel stands out, before
        // the scan for runs.
        let stands_out = widest(
            #[inline(always)]
            || {
                // Bytes throughout (saturating), the most lanes per vector.
                let most = |from: usize, to: usize| {
                    // Views of one length, so that the pass indexes without bounds checks.
                    let [row, a1, b1, a2, b2] = [&*row, a1, b1, a2, b2].map(|r| &r[from..to]);
                    let mut most = 0u8;
                    for x in 0..to - from {
                        let v = row[x];
                        let hi = a1[x].max(b1[x]).max(a2[x].max(b2[x]));
                        let lo = a1[x].min(b1[x]).min(a2[x].min(b2[x]));
                        most = most.max(v.saturating_sub(hi).max(lo.saturating_sub(v)));
                    }
                    most
                };
                // The pass takes 64 pixels at a time; those past the last whole 64 are taken
                // again with the ones before them (a maximum minds no overlap) rather than one
                // at a time.
                let whole = w - w % TAIL;
                let mut m = most(0, whole);
                if whole < w {
                    // Opaque, so that this stays a vector pass.
                    m = m.max(most(std::hint::black_box(w.saturating_sub(TAIL)), w));
                }
                m as i16 > t
            },
        );
        if !stands_out {
            return;
        }
        let mut x = 0;
        while x < w {
            if excess(row[x], a1[x], b1[x], a2[x], b2[x]) <= t {
                x += 1;
                continue;
            }
            let start = x;
            while x < w && excess(row[x], a1[x], b1[x], a2[x], b2[x]) > t {
                x += 1;
            }
            if x - start >= self.min_run {
                for i in start.saturating_sub(1)..(x + 1).min(w) {
                    row[i] = (a1[i] as u16 + b1[i] as u16).div_ceil(2) as u8;
                }
            }
        }
    }
}

/// Pixels the vectorised check for pixels standing out takes at a time.
const TAIL: usize = 64;

/// How far `v` stands above the brightest, or below the darkest, of the rows around it.
#[inline(always)]
fn excess(v: u8, a1: u8, b1: u8, a2: u8, b2: u8) -> i16 {
    let (v, a1, b1, a2, b2) = (v as i16, a1 as i16, b1 as i16, a2 as i16, b2 as i16);
    let hi = v - a1.max(b1).max(a2.max(b2));
    let lo = a1.min(b1).min(a2.min(b2)) - v;
    hi.max(lo)
}
