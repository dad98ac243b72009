//! What the picture says about the tape: chroma delay, field order, head-switching lines,
//! luma range.

use super::*;

/// Estimates how far chroma trails luma, in chroma pixels (−8..=8, to a fraction of a pixel):
/// the shift at which the horizontal edge strengths of `chroma` best correlate with those of
/// `luma` sampled at chroma positions (`factor`: luma pixels per chroma pixel), refined
/// between whole pixels by a parabola through the peak. Correlation rather than a difference
/// of strengths: chroma edges are weaker than luma's, blurred by the tape and buried in its
/// noise, which averages out of a correlation over a few thousand points. `None` when the
/// picture has too few edges to say (the peak correlation is weak, or flat across shifts).
pub fn chroma_delay(luma: Plane, chroma: Plane, factor: usize) -> Option<f64> {
    // As vector code for the CPU (see `widest`).
    widest(
        #[inline(always)]
        || {
            const REACH: i32 = 8;
            const BAND: usize = 4;
            const SPAN: usize = 2;
            /// Chroma pixels of a row looked at (a 4K frame's chroma is 1920 wide).
            const MAX_WIDTH: usize = 2048;
            let (w, h) = (chroma.width.min(MAX_WIDTH), chroma.height);
            let factor = factor.clamp(1, 4);
            if w < 4 * REACH as usize || h < BAND {
                return None;
            }
            let vfactor = (luma.height / h).max(1);
            let margin = REACH as usize + SPAN + 1;
            let reach = REACH * factor as i32;
            let shifts = (2 * reach + 1) as usize;
            // Per shift: the sums of chroma edge x luma edge, and of luma edges, over the points.
            let mut dot = [0.0f64; 8 * REACH as usize + 1];
            let mut luma_sum = [0.0f64; 8 * REACH as usize + 1];
            let (mut n, mut sc, mut scc, mut sll) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
            // One band's edge strengths: chroma at chroma pixels, luma at every luma pixel.
            let mut ce = [0.0f32; MAX_WIDTH];
            let mut le = [0.0f32; 4 * MAX_WIDTH];
            let lw = (w * factor).min(luma.width);
            // Bands of BAND chroma rows, every other band: a shift holds for the whole frame. Edge
            // strength: the step over 2·SPAN chroma pixels summed down the band's rows before its size
            // is taken, so that edges add up and the tape's noise cancels.
            for y in (0..h - BAND + 1).step_by(2 * BAND) {
                ce[..w].fill(0.0);
                le[..lw].fill(0.0);
                for r in y..y + BAND {
                    let c = chroma.row(r);
                    for x in SPAN..w - SPAN {
                        ce[x] += c[x + SPAN] as f32 - c[x - SPAN] as f32;
                    }
                    let l = luma.row((r * vfactor).min(luma.height - 1));
                    let d = SPAN * factor;
                    for x in d..lw.saturating_sub(d) {
                        le[x] += l[x + d] as f32 - l[x - d] as f32;
                    }
                }
                ce[..w].iter_mut().for_each(|v| *v = v.abs());
                le[..lw].iter_mut().for_each(|v| *v = v.abs());
                for x in margin..w - margin {
                    let c = ce[x] as f64;
                    let l = le[(x * factor).min(lw - 1)] as f64;
                    n += 1.0;
                    sc += c;
                    scc += c * c;
                    sll += l * l;
                    for (k, (d, ls)) in dot[..shifts]
                        .iter_mut()
                        .zip(&mut luma_sum[..shifts])
                        .enumerate()
                    {
                        // At a shift of k − reach luma pixels (finer than chroma's by `factor`).
                        let xl = (x * factor) as i64 - (k as i64 - reach as i64);
                        let l = le[xl.clamp(0, lw as i64 - 1) as usize] as f64;
                        *d += c * l;
                        *ls += l;
                    }
                }
            }
            if n == 0.0 {
                return None;
            }
            let mc = sc / n;
            let ml = luma_sum[reach as usize] / n;
            let spread = ((scc / n - mc * mc) * (sll / n - ml * ml)).sqrt();
            if spread.is_nan() || spread <= 1e-6 {
                return None;
            }
            let mut scores = [0.0f64; 8 * REACH as usize + 1];
            let scores = &mut scores[..shifts];
            for (k, v) in scores.iter_mut().enumerate() {
                *v = (dot[k] / n - mc * luma_sum[k] / n) / spread;
            }
            let (best, peak) = scores
                .iter()
                .copied()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(&b.1))?;
            // Edges that barely agree at any shift say nothing.
            if peak < 0.1 {
                return None;
            }
            let sub = match (scores.get(best.wrapping_sub(1)), scores.get(best + 1)) {
                (Some(&a), Some(&b)) if a - 2.0 * peak + b < 0.0 => {
                    (0.5 * (a - b) / (a - 2.0 * peak + b)).clamp(-0.5, 0.5)
                }
                _ => 0.0,
            };
            Some((best as f64 - reach as f64 + sub) / factor as f64)
        },
    )
}

/// Evidence of the field order from two consecutive frames (luma): above 0 when the top
/// field comes first, below 0 when the bottom does, 0 when the picture cannot tell (no
/// motion). A frame woven from fields adjacent in time combs less than one woven from fields
/// three fields apart: top first, `cur`'s top field lies next to `prev`'s bottom field.
pub fn field_order_evidence(prev: Plane, cur: Plane) -> f64 {
    // As vector code for the CPU (see `widest`).
    widest(
        #[inline(always)]
        || {
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
        },
    )
}

/// Head-switching lines at the bottom of a luma plane: the run of bottom rows, counted up
/// from the last, that are far noisier along the row (2.5 times the picture's typical row)
/// or step far more from the row two above (3 times; the tear shifts and smears them). A run
/// longer than 16 rows is taken for picture texture (grass, a patterned floor), not a tear:
/// 0 then.
pub fn head_switch_lines(luma: Plane) -> u32 {
    // As vector code for the CPU (see `widest`).
    widest(
        #[inline(always)]
        || {
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
        },
    )
}

/// Share of a frame's 4x4 blocks darker than its black extreme (and brighter than its white
/// one) in [`luma_extremes`].
pub const EXTREME_SHARE: f64 = 0.001;

/// The darkest and brightest luma of a frame's picture: the means of its 4x4 blocks, 0.1% in
/// from either end ([`EXTREME_SHARE`]), in 8-bit levels. Block means let noise average out
/// (sixteen pixels: a quarter of the noise), so the extremes are the picture's and not its
/// noise's. Left out: a border of 1/36 of each side (the blanking and the edges captures
/// blacken) and `bottom` more rows at the bottom (head switching).
pub fn luma_extremes(luma: Plane, bottom: usize) -> Option<(f32, f32)> {
    const B: usize = 4;
    let (mx, my) = (luma.width / 36, luma.height / 36);
    let (x0, y0) = (mx, my);
    let (x1, y1) = (
        luma.width.saturating_sub(mx),
        luma.height.saturating_sub(my + bottom),
    );
    let (bw, bh) = (x1.saturating_sub(x0) / B, y1.saturating_sub(y0) / B);
    if bw == 0 || bh == 0 {
        return None;
    }
    // Block sums (16 pixels, 0..=4080) in quarter levels: bins of 4 sums.
    let mut hist = [0u32; 1024];
    // Up to 512 blocks of a block row at a time (2,048 pixels), on the stack.
    let mut sums = [0u16; 512];
    widest(
        #[inline(always)]
        || {
            for by in 0..bh {
                let y = y0 + by * B;
                for first in (0..bw).step_by(sums.len()) {
                    let n = (bw - first).min(sums.len());
                    let sums = &mut sums[..n];
                    sums.fill(0);
                    let x = x0 + first * B;
                    for r in 0..B {
                        let row = &luma.row(y + r)[x..x + n * B];
                        for (sum, px) in sums.iter_mut().zip(row.chunks_exact(B)) {
                            *sum += px.iter().map(|&v| v as u16).sum::<u16>();
                        }
                    }
                    for &sum in sums.iter() {
                        hist[(sum >> 2) as usize] += 1;
                    }
                }
            }
        },
    );
    let total: u32 = hist.iter().sum();
    let want = ((total as f64 * EXTREME_SHARE).ceil() as u32).max(1);
    let level = |bin: usize| (bin as f32 + 0.5) / 4.0;
    let mut seen = 0;
    let dark = hist.iter().position(|&n| {
        seen += n;
        seen >= want
    })?;
    seen = 0;
    let bright = hist.len()
        - 1
        - hist.iter().rev().position(|&n| {
            seen += n;
            seen >= want
        })?;
    Some((level(dark), level(bright)))
}

/// The standard deviation of a plane's noise (8-bit levels), from its flattest parts: the
/// second difference down a field (rows `y − 2`, `y`, `y + 2`: one field, one instant, so
/// interlaced motion does not count, and noise that runs along the rows, as tape noise does,
/// counts in full), averaged over blocks of 32x8 field pixels; the blocks at one tenth of the
/// way up (flat picture, where only noise is left) give the estimate. For independent noise
/// of deviation σ the second difference has deviation √6·σ and mean magnitude √6·σ·√(2/π).
pub fn noise_sigma(plane: Plane) -> Option<f32> {
    second_difference_sigma(plane, false)
}

/// How much of the noise's deviation a plane shows along its rows against `down`, what
/// [`noise_sigma`] measured down its fields: about 1 for noise independent from pixel to
/// pixel, well under 1 for noise that runs along the rows (tape noise smeared by the head's
/// bandwidth), which neighbours along a row share and the spatial filter therefore cannot
/// average out.
pub fn noise_along_rows(plane: Plane, down: f32) -> Option<f32> {
    let along = second_difference_sigma(plane, true)?;
    (down > 0.0).then(|| along / down)
}

/// [`noise_sigma`]'s estimate from second differences down each field (`along_rows` false) or
/// along each row (true: pixels `x − 1`, `x`, `x + 1`).
fn second_difference_sigma(plane: Plane, along_rows: bool) -> Option<f32> {
    // As vector code for the CPU (see `widest`).
    widest(
        #[inline(always)]
        || {
            const BW: usize = 32;
            const BH: usize = 8;
            let (w, h) = (plane.width, plane.height);
            // Along rows the blocks start a pixel in, so that every pixel has both neighbours.
            let shift = usize::from(along_rows);
            // Field rows 2.. h − 2, in blocks of BH field rows (2·BH frame rows).
            let (bw, bh) = (
                w.saturating_sub(2 * shift) / BW,
                h.saturating_sub(4) / (2 * BH),
            );
            if bw == 0 || bh == 0 {
                return None;
            }
            // Block means of |second difference| in tenths of a level.
            let mut hist = [0u32; 1024];
            let mut sums = [0u32; 128];
            for by in 0..bh {
                for first in (0..bw).step_by(sums.len()) {
                    let n = (bw - first).min(sums.len());
                    let sums = &mut sums[..n];
                    sums.fill(0);
                    let x = shift + first * BW;
                    for r in 0..BH {
                        let y = 2 + by * 2 * BH + 2 * r;
                        let (up, at, down) = if along_rows {
                            let row = plane.row(y);
                            (
                                &row[x - 1..x - 1 + n * BW],
                                &row[x..x + n * BW],
                                &row[x + 1..x + 1 + n * BW],
                            )
                        } else {
                            let (up, at, down) = (plane.row(y - 2), plane.row(y), plane.row(y + 2));
                            (&up[x..x + n * BW], &at[x..x + n * BW], &down[x..x + n * BW])
                        };
                        for (k, sum) in sums.iter_mut().enumerate() {
                            let span = k * BW..(k + 1) * BW;
                            *sum += up[span.clone()]
                                .iter()
                                .zip(&at[span.clone()])
                                .zip(&down[span])
                                .map(|((&u, &a), &d)| {
                                    (u as i32 + d as i32 - 2 * a as i32).unsigned_abs()
                                })
                                .sum::<u32>();
                        }
                    }
                    for &sum in sums.iter() {
                        let tenths = (sum as usize * 10) / (BW * BH);
                        hist[tenths.min(hist.len() - 1)] += 1;
                    }
                }
            }
            let total: u32 = hist.iter().sum();
            let want = total.div_ceil(10).max(1);
            let mut seen = 0;
            let bin = hist.iter().position(|&n| {
                seen += n;
                seen >= want
            })?;
            let mean_abs = (bin as f32 + 0.5) / 10.0;
            Some(mean_abs / (6.0f32.sqrt() * (2.0 / std::f32::consts::PI).sqrt()))
        },
    )
}
