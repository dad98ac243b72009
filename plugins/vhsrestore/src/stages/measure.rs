//! What the picture says about the tape: chroma delay, field order, head-switching lines,
//! luma range.

use super::*;

/// Estimates how far chroma trails luma, in chroma pixels (−8..=8): the shift that best lines
/// up the horizontal edges of `chroma` with those of `luma` sampled at chroma positions
/// (`factor`: luma pixels per chroma pixel). `None` when the picture has too few edges to say.
pub fn chroma_delay(luma: Plane, chroma: Plane, factor: usize) -> Option<i32> {
    let (w, h) = (chroma.width, chroma.height);
    if w < 32 || h < 4 {
        return None;
    }
    let vfactor = (luma.height / h).max(1);
    let score = |s: i32| {
        let mut sum = 0u64;
        // Every eighth chroma row is plenty to find a shift that holds for the whole frame.
        for y in (0..h).step_by(8) {
            let (c, l) = (chroma.row(y), luma.row((y * vfactor).min(luma.height - 1)));
            for x in 9..w - 9 {
                let gc = (c[x + 1] as i32 - c[x - 1] as i32).abs();
                let xl = (x as i32 - s) as usize * factor;
                let gl = (l[(xl + factor).min(luma.width - 1)] as i32
                    - l[xl.saturating_sub(factor)] as i32)
                    .abs();
                // Edge strengths compared, whatever their sign.
                sum += (gc - gl).unsigned_abs() as u64;
            }
        }
        sum
    };
    let zero = score(0);
    let (best, best_score) = (-8..=8)
        .map(|s| (s, score(s)))
        .min_by_key(|&(_, score)| score)
        .unwrap_or((0, zero));
    // A clear minimum only: 2% better than leaving chroma where it is.
    Some(if best_score * 50 < zero * 49 { best } else { 0 })
}

/// Evidence of the field order from two consecutive frames (luma): above 0 when the top
/// field comes first, below 0 when the bottom does, 0 when the picture cannot tell (no
/// motion). A frame woven from fields adjacent in time combs less than one woven from fields
/// three fields apart: top first, `cur`'s top field lies next to `prev`'s bottom field.
pub fn field_order_evidence(prev: Plane, cur: Plane) -> f64 {
    let (w, h) = (cur.width.min(prev.width), cur.height.min(prev.height));
    if h < 4 || w == 0 {
        return 0.0;
    }
    // Combing of the frame with even rows from `even` and odd rows from `odd`.
    let comb = |even: &Plane, odd: &Plane| {
        let mut sum = 0u64;
        for y in (1..h - 1).step_by(16).filter(|y| y % 2 == 1) {
            let (a, b, m) = (even.row(y - 1), even.row(y + 1), odd.row(y));
            for x in (0..w).step_by(2) {
                sum += (a[x] as i32 + b[x] as i32 - 2 * m[x] as i32).unsigned_abs() as u64;
            }
        }
        sum as f64
    };
    let top_first = comb(&cur, &prev); // cur's top, prev's bottom
    let bottom_first = comb(&prev, &cur); // prev's top, cur's bottom
    let total = top_first + bottom_first;
    if total == 0.0 {
        0.0
    } else {
        (bottom_first - top_first) / total
    }
}

/// Head-switching lines at the bottom of a luma plane: the run of bottom rows, counted up
/// from the last, that are far noisier along the row (2.5 times the picture's typical row)
/// or step far more from the row two above (3 times; the tear shifts and smears them). A run
/// longer than 16 rows is taken for picture texture (grass, a patterned floor), not a tear:
/// 0 then.
pub fn head_switch_lines(luma: Plane) -> u32 {
    let (w, h) = (luma.width, luma.height);
    if h < 96 || w < 16 {
        return 0;
    }
    let n = w.div_ceil(2) as f64;
    // Mean high-frequency energy along row y, and mean step from row y − 2.
    let measure = |y: usize| {
        let (r, above) = (luma.row(y), luma.row(y - 2));
        let mut along = 0u32;
        let mut step = 0u32;
        for x in (1..w - 1).step_by(2) {
            along += (2 * r[x] as i32 - r[x - 1] as i32 - r[x + 1] as i32).unsigned_abs();
            step += (r[x] as i32 - above[x] as i32).unsigned_abs();
        }
        (along as f64 / n, step as f64 / n)
    };
    // The picture's typical rows: medians over rows spread through the middle half.
    let mut along = [0.0f64; 15];
    let mut step = [0.0f64; 15];
    for i in 0..15 {
        (along[i], step[i]) = measure(h / 4 + i * h / 30);
    }
    along.sort_by(f64::total_cmp);
    step.sort_by(f64::total_cmp);
    let (along, step) = (along[7].max(2.0), step[7].max(2.0));
    let torn = (h - 32..h)
        .rev()
        .take_while(|&y| {
            let (a, s) = measure(y);
            a > 2.5 * along || s > 3.0 * step
        })
        .count() as u32;
    if torn > 16 {
        0
    } else {
        torn
    }
}

/// The darkest and brightest luma (0.5% and 99.5% of the pixels, from a sample of them) of
/// a plane: the picture's black and white levels for automatic levels.
pub fn luma_range(luma: Plane) -> (f64, f64) {
    let mut hist = [0u32; 256];
    for y in (0..luma.height).step_by(4) {
        for &v in luma.row(y).iter().step_by(2) {
            hist[v as usize] += 1;
        }
    }
    let total: u32 = hist.iter().sum();
    let at = |share: f64| {
        let want = (total as f64 * share).ceil() as u32;
        let mut seen = 0;
        hist.iter()
            .position(|&n| {
                seen += n;
                seen >= want.max(1)
            })
            .unwrap_or(255) as f64
    };
    (at(0.005), at(0.995))
}
