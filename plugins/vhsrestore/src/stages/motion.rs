//! Block motion between two pictures of one plane, for the motion-compensated stages (issue
//! 36: temporal denoising and deinterlacing along the motion, where the camera moves).
//!
//! Hierarchical and seeded with the camera's motion: both pictures are averaged down twice
//! (2x2 boxes, which also average tape noise away); at a quarter of the size every block starts
//! from the camera's motion ([`GlobalMotion`](super::GlobalMotion), so that a fast pan is no
//! farther than a slow one) and walks downhill one pixel at a time; at half the size each block
//! takes the best of its own and its four neighbours' vectors (so that a flat block takes its
//! textured neighbours' motion rather than a noise match) and walks downhill again, and the match
//! is taken to a fraction of a pixel by the V (a sum of absolute differences grows linearly away
//! from the match) through the costs either side, at full size (within 0.23-0.39 px, median,
//! on a noisy photograph in the tests; 0.38-0.51 at half size). The cost is the sum of absolute
//! differences over the block grown by half its side all round (a small block alone matches
//! too many places), plus a small penalty per pixel away from the camera's motion, so that a
//! flat block keeps it. Full size is not searched (the walk there cost as much as the rest
//! again). Nothing is allocated per picture once [`MotionSearch::fit`] has sized the buffers;
//! block rows run over the thread pool; [`MotionSearch::next`] reuses the picture before's
//! levels. The pictures are kept padded left and right ([`REACH`]), so that a block at an edge,
//! or moved past it, is compared in one pass. About 0.15 ms a field of a panning, zooming
//! 720x576 clip on 2 cores (0.22 on one), 0.19 on `vhs_stage_bench`'s noise.

use super::*;

/// Block side at full size, in pixels.
pub const BLOCK: usize = 32;
/// Levels below full size.
const LEVELS: usize = 2;
/// The level the search ends at (a match to a fraction of its pixel there).
const FINEST: usize = 1;
/// Pixels the pictures are padded by at full size, left and right (half that a level down):
/// the reference is read past its edges as its edge pixels repeated, in one pass over the
/// block's rows, as far as this (farther, row by row).
const REACH: usize = 96;
/// Cost per pixel of motion away from the camera's (in units of the block's summed absolute
/// difference per pixel), so that among equal matches the camera's wins.
const MOTION_PENALTY: u32 = 1;

/// The motion of each [`BLOCK`]-sided block of a picture: where its content lies in the
/// reference picture, in pixels (x right, y down), and how well it matched there (mean
/// absolute difference per pixel, in levels).
#[derive(Debug, Clone, Default)]
pub struct MotionField {
    pub cols: usize,
    pub rows: usize,
    pub vectors: Vec<[f32; 2]>,
    pub cost: Vec<f32>,
}

impl MotionField {
    /// The vector of the block holding pixel (`x`, `y`).
    pub fn at(&self, x: usize, y: usize) -> [f32; 2] {
        let (c, r) = (
            (x / BLOCK).min(self.cols - 1),
            (y / BLOCK).min(self.rows - 1),
        );
        self.vectors[r * self.cols + c]
    }

    /// Whether any block moved (a field with no blocks did not).
    pub fn moves(&self) -> bool {
        self.cols > 0 && self.vectors.iter().any(|v| *v != [0.0; 2])
    }
}

/// The search's buffers for pictures of one size (see the module).
#[derive(Debug, Default)]
pub struct MotionSearch {
    width: usize,
    height: usize,
    /// Levels 1.. of the picture and of the reference, each a quarter of the one above,
    /// padded (see [`REACH`]), and the picture's as [`pyramid`] makes them.
    cur: [Padded; LEVELS],
    reference: [Padded; LEVELS],
    levels: [Vec<u8>; LEVELS],
    /// Integer vectors of the level being refined and of the one above it.
    coarse: Vec<[i32; 2]>,
    finer: Vec<[i32; 2]>,
    /// `cur` holds the last picture [`MotionSearch::next`] read.
    primed: bool,
    /// The picture and the reference at full size (the match's fraction is taken there).
    full: [Padded; 2],
}

/// The size of level `l` of a `w`x`h` picture.
fn level_size(w: usize, h: usize, l: usize) -> (usize, usize) {
    ((w >> l).max(1), (h >> l).max(1))
}

impl MotionSearch {
    pub fn new(width: usize, height: usize) -> Self {
        let mut s = MotionSearch::default();
        s.fit(width, height);
        s
    }

    /// Sizes the buffers for `width`x`height` pictures (allocates only when the size changed).
    pub fn fit(&mut self, width: usize, height: usize) {
        if (width, height) == (self.width, self.height) {
            return;
        }
        (self.width, self.height) = (width, height);
        for l in 0..LEVELS {
            let (w, h) = level_size(width, height, l + 1);
            self.levels[l] = vec![0; w * h];
        }
        let blocks = width.div_ceil(BLOCK) * height.div_ceil(BLOCK);
        self.coarse = vec![[0; 2]; blocks];
        self.finer = vec![[0; 2]; blocks];
        self.primed = false;
    }

    /// Forgets the last picture (a cut, a seek, new caps).
    pub fn reset(&mut self) {
        self.primed = false;
    }

    /// Reads the next picture of a stream and finds its blocks' motion into the one before
    /// (into `field`, searched around `centre`, as [`MotionSearch::estimate`]), reusing that
    /// one's levels; `false` (nothing found) for the first picture or one of another size.
    pub fn next(&mut self, cur: Plane, centre: [i32; 2], field: &mut MotionField) -> bool {
        let (w, h) = (cur.width, cur.height);
        if (w, h) != (self.width, self.height) {
            self.fit(w, h);
        }
        std::mem::swap(&mut self.cur, &mut self.reference);
        self.full.swap(0, 1);
        self.fill(cur);
        let primed = std::mem::replace(&mut self.primed, true);
        if primed {
            self.search(w, h, centre, field);
        }
        primed
    }

    /// The motion of `cur`'s blocks into `reference` (both of the fitted size) into `field`,
    /// searched around `centre` (whole pixels: the camera's motion, where it is known, so that
    /// a fast pan stays in range; blocks that match nowhere better keep it).
    pub fn estimate(
        &mut self,
        cur: Plane,
        reference: Plane,
        centre: [i32; 2],
        field: &mut MotionField,
    ) {
        let (w, h) = (cur.width, cur.height);
        self.fit(w, h);
        self.fill(reference);
        std::mem::swap(&mut self.cur, &mut self.reference);
        self.full.swap(0, 1);
        self.fill(cur);
        self.primed = true;
        self.search(w, h, centre, field);
    }

    /// `picture` and its levels, padded, as the picture searched (`cur`, `full[0]`).
    fn fill(&mut self, picture: Plane) {
        let (w, h) = (picture.width, picture.height);
        pyramid(picture, &mut self.levels);
        for (l, level) in self.cur.iter_mut().enumerate() {
            let (lw, lh) = level_size(w, h, l + 1);
            level.fill(Plane::tight(&self.levels[l], lw, lh), REACH >> (l + 1));
        }
        self.full[0].fill(picture, REACH);
    }

    /// Block motion between the levels of `cur` and `reference` of `w`x`h` pictures.
    fn search(&mut self, w: usize, h: usize, centre: [i32; 2], field: &mut MotionField) {
        let (cols, rows) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
        field.cols = cols;
        field.rows = rows;
        field.vectors.resize(cols * rows, [0.0; 2]);
        field.cost.resize(cols * rows, 0.0);
        let prior = |l: usize| centre.map(|c| (c as f32 / (1 << l) as f32).round() as i32);
        // The coarsest level starts from the camera's motion everywhere.
        self.coarse.fill(prior(LEVELS));
        let full = [self.full[0].plane(), self.full[1].plane()];
        for l in (FINEST..=LEVELS).rev() {
            let (c, r) = (self.cur[l - 1].plane(), self.reference[l - 1].plane());
            let side = BLOCK >> l;
            let coarse = &self.coarse;
            let around = prior(l);
            let finest = l == FINEST;
            let up = if l == LEVELS { 1 } else { 2 };
            let out = &mut self.finer;
            let (vectors, costs) = (&mut field.vectors, &mut field.cost);
            out.par_chunks_mut(cols)
                .zip(vectors.par_chunks_mut(cols))
                .zip(costs.par_chunks_mut(cols))
                .enumerate()
                .for_each(|(by, ((out, vectors), costs))| {
                    widest(
                        #[inline(always)]
                        || {
                            for bx in 0..cols {
                                let found = refine(
                                    [c, r],
                                    (bx, by),
                                    (cols, rows),
                                    side,
                                    coarse,
                                    around,
                                    up,
                                );
                                out[bx] = found.centre;
                                if finest {
                                    let v = found.vector().map(|v| v * (1 << l) as f32);
                                    vectors[bx] = at_full_size(full, (bx, by), v);
                                    costs[bx] = found.raw[0] as f32 / found.pixels as f32;
                                }
                            }
                        },
                    )
                });
            std::mem::swap(&mut self.coarse, &mut self.finer);
        }
    }
}

/// A block's match at one level: the whole-pixel vector and the raw costs (no penalty) there
/// and one pixel left, right, up and down.
struct Match {
    centre: [i32; 2],
    raw: [u32; 5],
    /// Pixels compared.
    pixels: u32,
}

impl Match {
    /// The vector to a fraction of a pixel ([`fraction`]).
    fn vector(&self) -> [f32; 2] {
        fraction(self.centre, self.raw)
    }
}

/// The whole-pixel vector `centre` to a fraction of a pixel from the costs `raw` there and one
/// pixel left, right, up and down: the V (a sum of absolute differences grows linearly away
/// from the match) through the costs either side.
fn fraction(centre: [i32; 2], raw: [u32; 5]) -> [f32; 2] {
    let c0 = raw[0] as f32;
    let v = |minus: u32, plus: u32| {
        let (minus, plus) = (minus as f32, plus as f32);
        let slope = minus.max(plus) - c0;
        if slope > 0.0 {
            ((minus - plus) / (2.0 * slope)).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    };
    [
        centre[0] as f32 + v(raw[1], raw[2]),
        centre[1] as f32 + v(raw[3], raw[4]),
    ]
}

/// Block (`bx`, `by`)'s vector `v` (found at a smaller size) to a fraction of a pixel at full
/// size: the V through the costs of the block (not grown) at `v`'s nearest whole pixel and one
/// pixel either side of it, on the pictures as they are (`[c, r]`).
#[inline(always)]
fn at_full_size([c, r]: [Plane; 2], (bx, by): (usize, usize), v: [f32; 2]) -> [f32; 2] {
    let at = v.map(|v| v.round() as i32);
    let (x0, y0) = (bx * BLOCK, by * BLOCK);
    let raw = |d: [i32; 2]| raw_sad(c, r, x0, y0, BLOCK, [at[0] + d[0], at[1] + d[1]]);
    let costs = [[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]].map(raw);
    fraction(at, costs)
}

/// Steps one pixel at a time a block's search may take downhill.
const STEPS: usize = 4;

/// Block (`bx`, `by`)'s match between the picture and the reference (`[c, r]`) at a level of
/// `side`-pixel blocks: the best of its own and its four neighbours' vectors from the level
/// above (`coarse`, times `up`), then downhill by one pixel (left, right, up, down) while that
/// costs less, at most [`STEPS`] times; the cost is the block's grown by half its side all
/// round, plus [`MOTION_PENALTY`] per pixel away from `around` (the camera's motion).
#[inline(always)]
fn refine(
    [c, r]: [Plane; 2],
    (bx, by): (usize, usize),
    (cols, rows): (usize, usize),
    side: usize,
    coarse: &[[i32; 2]],
    around: [i32; 2],
    up: i32,
) -> Match {
    let (x0, y0) = (bx * side, by * side);
    let (gx, gy) = (x0.saturating_sub(side / 2), y0.saturating_sub(side / 2));
    let grown = 2 * side;
    let penalty = |v: [i32; 2]| {
        (v[0].abs_diff(around[0]) + v[1].abs_diff(around[1]))
            * MOTION_PENALTY
            * (grown * grown) as u32
            / 16
    };
    let raw = |v: [i32; 2]| raw_sad(c, r, gx, gy, grown, v);
    let mut best = (u32::MAX, [0, 0], 0);
    // Neighbours mostly share a vector: each tried once.
    let mut tried = [[i32::MAX; 2]; 5];
    for (i, (nx, ny)) in [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]
        .into_iter()
        .enumerate()
    {
        let (cx, cy) = (bx as isize + nx, by as isize + ny);
        if cx < 0 || cy < 0 || cx >= cols as isize || cy >= rows as isize {
            continue;
        }
        let [vx, vy] = coarse[cy as usize * cols + cx as usize];
        let v = [up * vx, up * vy];
        if tried[..i].contains(&v) {
            continue;
        }
        tried[i] = v;
        let cost = raw(v);
        best = best.min((cost + penalty(v), v, cost));
    }
    let (w, h) = (c.width, c.height);
    let mut m = Match {
        centre: best.1,
        raw: [best.2; 5],
        pixels: (grown.min(w - gx) * grown.min(h - gy)) as u32,
    };
    let mut total = best.0;
    // The vector just left, and its raw cost.
    let mut from = None;
    for _ in 0..STEPS {
        let mut next = (total, m.centre, m.raw[0]);
        for (i, d) in [[-1, 0], [1, 0], [0, -1], [0, 1]].into_iter().enumerate() {
            let v = [m.centre[0] + d[0], m.centre[1] + d[1]];
            let cost = match from {
                Some((f, cost)) if f == v => cost,
                _ => raw(v),
            };
            m.raw[i + 1] = cost;
            next = next.min((cost + penalty(v), v, cost));
        }
        if next.1 == m.centre {
            break;
        }
        from = Some((m.centre, m.raw[0]));
        (total, m.centre, m.raw[0]) = next;
    }
    m
}

/// The levels of `top` (each a quarter of the one above) into `levels`.
fn pyramid(top: Plane, levels: &mut [Vec<u8>; LEVELS]) {
    let (w, h) = (top.width, top.height);
    let mut above = top;
    for (l, level) in levels.iter_mut().enumerate() {
        let (lw, lh) = level_size(w, h, l + 1);
        halve(above, level, lw, lh);
        above = Plane::tight(level, lw, lh);
    }
}

/// `src` averaged over 2x2 boxes into `dst` (`w`x`h`, half `src`'s size rounded down, at least
/// one pixel; a last odd row or column is dropped).
fn halve(src: Plane, dst: &mut [u8], w: usize, h: usize) {
    dst[..w * h]
        .par_chunks_mut(w)
        .enumerate()
        .for_each(|(y, out)| {
            let (a, b) = (
                src.row((2 * y).min(src.height - 1)),
                src.row((2 * y + 1).min(src.height - 1)),
            );
            // Whole pairs as one vector pass; a last column without its pair repeats it.
            let pairs = (src.width / 2).min(w);
            widest(
                #[inline(always)]
                || {
                    for ((o, p), q) in out[..pairs]
                        .iter_mut()
                        .zip(a.chunks_exact(2))
                        .zip(b.chunks_exact(2))
                    {
                        *o = ((p[0] as u16 + p[1] as u16 + q[0] as u16 + q[1] as u16 + 2) >> 2)
                            as u8;
                    }
                },
            );
            for (x, o) in out.iter_mut().enumerate().skip(pairs) {
                let (x0, x1) = ((2 * x).min(src.width - 1), (2 * x + 1).min(src.width - 1));
                *o = ((a[x0] as u32 + a[x1] as u32 + b[x0] as u32 + b[x1] as u32 + 2) / 4) as u8;
            }
        });
}

/// The sum of absolute differences between the block of `cur` at (`x0`, `y0`), `side` pixels
/// square (cut at the picture's edges), and `reference`'s block moved by `v` (its
/// coordinates clamped to the picture, edges repeated).
#[inline(always)]
fn raw_sad(cur: Plane, reference: Plane, x0: usize, y0: usize, side: usize, v: [i32; 2]) -> u32 {
    let (w, h) = (cur.width, cur.height);
    let (bw, bh) = (side.min(w - x0), side.min(h - y0));
    let rx = x0 as isize + v[0] as isize;
    let reach = reference.pad as isize;
    if rx >= -reach && rx + bw as isize <= w as isize + reach {
        // Every column inside the reference's padding (its edge pixels repeated): rows above
        // the picture read its first row, rows below it its last, each run in one pass.
        let ry0 = y0 as isize + v[1] as isize;
        let above = (-ry0).clamp(0, bh as isize) as usize;
        let below = (ry0 + bh as isize - h as isize).clamp(0, (bh - above) as isize) as usize;
        let inside = bh - above - below;
        // `n` rows of the block from its row `y` against the reference's from row `ry`, `step`
        // rows apart (0: that row again).
        let run = |y: usize, n: usize, ry: usize, step: usize| {
            if n == 0 {
                return 0;
            }
            let at = (reference.pad + ry * reference.stride) as isize + rx;
            mediaai_common::pixels::sad_rows(
                (
                    &cur.data[cur.pad + (y0 + y) * cur.stride + x0..],
                    cur.stride,
                ),
                (&reference.data[at as usize..], step),
                bw,
                n,
            )
        };
        let first_inside = (ry0 + above as isize) as usize;
        return run(0, above, 0, 0)
            + run(above, inside, first_inside, reference.stride)
            + run(above + inside, below, h - 1, 0);
    }
    // Pixels of the block whose reference column lies left of the picture (they read its first
    // column), inside it, and right of it (its last).
    let left = (-rx).clamp(0, bw as isize) as usize;
    let right = (rx + bw as isize - w as isize).clamp(0, (bw - left) as isize) as usize;
    let inside = bw - left - right;
    let from = (rx + left as isize) as usize;
    let mut total = 0u32;
    for y in 0..bh {
        let ry = (y0 as isize + y as isize + v[1] as isize).clamp(0, h as isize - 1) as usize;
        let a = &cur.row(y0 + y)[x0..x0 + bw];
        let b = reference.row(ry);
        if inside > 0 {
            total += mediaai_common::pixels::sad(&a[left..left + inside], &b[from..from + inside]);
        }
        let edge = |a: &[u8], e: u8| a.iter().map(|p| p.abs_diff(e) as u32).sum::<u32>();
        if left > 0 {
            total += edge(&a[..left], b[0]);
        }
        if right > 0 {
            total += edge(&a[bw - right..], b[w - 1]);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `raw_sad` as its doc says, pixel by pixel: the reference's coordinates clamped.
    fn clamped(c: Plane, r: Plane, (x0, y0): (usize, usize), side: usize, v: [i32; 2]) -> u32 {
        let (bw, bh) = (side.min(c.width - x0), side.min(c.height - y0));
        let at = |p: usize, d: i32, n: usize| (p as i32 + d).clamp(0, n as i32 - 1) as usize;
        let mut total = 0;
        for y in y0..y0 + bh {
            for x in x0..x0 + bw {
                let q = r.row(at(y, v[1], r.height))[at(x, v[0], r.width)];
                total += c.row(y)[x].abs_diff(q) as u32;
            }
        }
        total
    }

    #[test]
    fn sums_read_past_the_edges_equal_the_clamped_sums() {
        let (w, h) = (77, 45);
        let mut seed = 9u32;
        let mut bytes = || -> Vec<u8> {
            (0..w * h)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 24) as u8
                })
                .collect()
        };
        let (a, b) = (bytes(), bytes());
        let (cur, reference) = (Plane::tight(&a, w, h), Plane::tight(&b, w, h));
        let mut padded = Padded::default();
        padded.fill(reference, 12);
        // Blocks inside, at every edge and cut by them; vectors inside the padding, past it,
        // and past the picture's top and bottom.
        for origin in [(0, 0), (40, 20), (70, 40), (0, 40), (64, 0), (33, 37)] {
            for side in [8, 16, 32] {
                for v in [
                    [0, 0],
                    [-5, 3],
                    [11, -9],
                    [-12, -50],
                    [12, 50],
                    [20, 0],
                    [-25, 4],
                ] {
                    let want = clamped(cur, reference, origin, side, v);
                    let (x0, y0) = origin;
                    for r in [reference, padded.plane()] {
                        let got = raw_sad(cur, r, x0, y0, side, v);
                        let pad = r.pad;
                        assert_eq!(got, want, "{origin:?}, {side}, {v:?}, pad {pad}");
                    }
                }
            }
        }
    }
}
