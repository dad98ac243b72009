//! Block motion between two pictures of one plane, for the motion-compensated stages (issue
//! 36: temporal denoising and deinterlacing along the motion, where the camera moves).
//!
//! Hierarchical: both pictures are averaged down twice (2x2 boxes, which also average tape
//! noise away), a full search at a quarter of the size finds each block's coarse motion
//! (±[`COARSE_RANGE`] there, ±24 pixels at full size), and each finer level refines the best of
//! the block's own vector and its four neighbours' (so that a flat block takes its textured
//! neighbours' motion rather than a noise match) by ±1 pixel. At full size the match is taken
//! to a fraction of a pixel by the V (a sum of absolute differences grows linearly away from the
//! match) through the costs either side. The cost is the sum
//! of absolute differences plus a small penalty per pixel of motion, so that a still or flat
//! block keeps a zero vector. Nothing is allocated per picture once [`MotionSearch::fit`] has
//! sized the buffers; block rows run over the thread pool.

use super::*;

/// Block side at full size, in pixels.
pub const BLOCK: usize = 16;
/// Full-search radius at the coarsest level (a quarter of the size), in its pixels.
pub const COARSE_RANGE: i32 = 6;
/// Levels below full size.
const LEVELS: usize = 2;
/// Cost per pixel of motion (in units of the block's summed absolute difference per pixel),
/// so that among equal matches the smallest motion wins.
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
}

/// The search's buffers for pictures of one size (see the module).
#[derive(Debug, Default)]
pub struct MotionSearch {
    width: usize,
    height: usize,
    /// Levels 1.. of the picture and of the reference, each a quarter of the one above.
    cur: [Vec<u8>; LEVELS],
    reference: [Vec<u8>; LEVELS],
    /// The picture and the reference at full size, smoothed ([1 2 1] both ways): the finest
    /// match and its fraction are taken on them, as tape noise would otherwise decide them.
    smooth: [Vec<u8>; 2],
    /// Integer vectors of the level being refined and of the one above it.
    coarse: Vec<[i32; 2]>,
    finer: Vec<[i32; 2]>,
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
            self.cur[l] = vec![0; w * h];
            self.reference[l] = vec![0; w * h];
        }
        self.smooth = [vec![0; width * height], vec![0; width * height]];
        let blocks = width.div_ceil(BLOCK) * height.div_ceil(BLOCK);
        self.coarse = vec![[0; 2]; blocks];
        self.finer = vec![[0; 2]; blocks];
    }

    /// The motion of `cur`'s blocks into `reference` (both of the fitted size) into `field`.
    pub fn estimate(&mut self, cur: Plane, reference: Plane, field: &mut MotionField) {
        let (w, h) = (cur.width, cur.height);
        self.fit(w, h);
        let (cols, rows) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
        field.cols = cols;
        field.rows = rows;
        field.vectors.resize(cols * rows, [0.0; 2]);
        field.cost.resize(cols * rows, 0.0);
        for (dst, src) in self.smooth.iter_mut().zip([cur, reference]) {
            smooth(src, dst);
        }
        let (cur, reference) = (
            Plane::tight(&self.smooth[0], w, h),
            Plane::tight(&self.smooth[1], w, h),
        );
        for (pictures, top) in [(&mut self.cur, cur), (&mut self.reference, reference)] {
            let mut above = top;
            for (l, level) in pictures.iter_mut().enumerate() {
                let (lw, lh) = level_size(w, h, l + 1);
                halve(above, level, lw, lh);
                above = Plane::tight(level, lw, lh);
            }
        }
        fn plane(pics: &[Vec<u8>; LEVELS], w: usize, h: usize, l: usize) -> Plane<'_> {
            let (lw, lh) = level_size(w, h, l);
            Plane::tight(&pics[l - 1], lw, lh)
        }
        // The coarsest level: a full search.
        let (c, r) = (
            plane(&self.cur, w, h, LEVELS),
            plane(&self.reference, w, h, LEVELS),
        );
        let side = BLOCK >> LEVELS;
        each_block(&mut self.coarse, cols, side, |_, _, x0, y0| {
            let mut best = (u32::MAX, [0, 0]);
            for dy in -COARSE_RANGE..=COARSE_RANGE {
                for dx in -COARSE_RANGE..=COARSE_RANGE {
                    best = best.min((sad(c, r, x0, y0, side, [dx, dy]), [dx, dy]));
                }
            }
            best.1
        });
        // Finer levels: the best of the block's and its neighbours' vectors, refined by ±1.
        for l in (0..LEVELS).rev() {
            let (c, r) = if l == 0 {
                (cur, reference)
            } else {
                (plane(&self.cur, w, h, l), plane(&self.reference, w, h, l))
            };
            let side = BLOCK >> l;
            let coarse = &self.coarse;
            each_block(&mut self.finer, cols, side, |bx, by, x0, y0| {
                let mut best = (u32::MAX, [0, 0]);
                let neighbours = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)];
                for (nx, ny) in neighbours {
                    let (cx, cy) = (bx as isize + nx, by as isize + ny);
                    if cx < 0 || cy < 0 || cx >= cols as isize || cy >= rows as isize {
                        continue;
                    }
                    let [vx, vy] = coarse[cy as usize * cols + cx as usize];
                    let v = [2 * vx, 2 * vy];
                    best = best.min((sad(c, r, x0, y0, side, v), v));
                }
                let centre = best.1;
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        let v = [centre[0] + dx, centre[1] + dy];
                        best = best.min((sad(c, r, x0, y0, side, v), v));
                    }
                }
                best.1
            });
            std::mem::swap(&mut self.coarse, &mut self.finer);
        }
        // Full size: a fraction of a pixel from the costs either side.
        let coarse = &self.coarse;
        field
            .vectors
            .par_chunks_mut(cols)
            .zip(field.cost.par_chunks_mut(cols))
            .enumerate()
            .for_each(|(by, (vectors, costs))| {
                for (bx, (v, cost)) in vectors.iter_mut().zip(costs).enumerate() {
                    let (x0, y0) = (bx * BLOCK, by * BLOCK);
                    let [vx, vy] = coarse[by * cols + bx];
                    let (gx, gy) = (x0.saturating_sub(BLOCK / 2), y0.saturating_sub(BLOCK / 2));
                    let at = |dx: i32, dy: i32| {
                        raw_sad(cur, reference, gx, gy, 2 * BLOCK, [vx + dx, vy + dy]) as f32
                    };
                    let c0 = at(0, 0);
                    // A sum of absolute differences grows linearly away from the match (a V,
                    // not a parabola): the V through the three costs.
                    let fraction = |minus: f32, plus: f32| {
                        let slope = minus.max(plus) - c0;
                        if slope > 0.0 {
                            ((minus - plus) / (2.0 * slope)).clamp(-0.5, 0.5)
                        } else {
                            0.0
                        }
                    };
                    *v = [
                        vx as f32 + fraction(at(-1, 0), at(1, 0)),
                        vy as f32 + fraction(at(0, -1), at(0, 1)),
                    ];
                    let pixels = ((2 * BLOCK).min(w - gx) * (2 * BLOCK).min(h - gy)) as f32;
                    *cost = c0 / pixels;
                }
            });
    }
}

/// Each block's vector into `out` (blocks `cols` to a row): `find` of its column, row and top
/// left corner at `side` pixels a block; block rows over the thread pool.
fn each_block(
    out: &mut [[i32; 2]],
    cols: usize,
    side: usize,
    find: impl Fn(usize, usize, usize, usize) -> [i32; 2] + Sync,
) {
    out.par_chunks_mut(cols).enumerate().for_each(|(by, row)| {
        for (bx, v) in row.iter_mut().enumerate() {
            *v = find(bx, by, bx * side, by * side);
        }
    });
}

/// `src` smoothed by [1 2 1] / 4 across and down into `dst` (its size, tight), edges repeated.
fn smooth(src: Plane, dst: &mut [u8]) {
    let (w, h) = (src.width, src.height);
    dst[..w * h]
        .par_chunks_mut(w)
        .enumerate()
        .for_each(|(y, out)| {
            let rows = [
                src.row(y.saturating_sub(1)),
                src.row(y),
                src.row((y + 1).min(h - 1)),
            ];
            let column = |x: usize| rows[0][x] as u32 + 2 * rows[1][x] as u32 + rows[2][x] as u32;
            for (x, o) in out.iter_mut().enumerate() {
                let (l, r) = (x.saturating_sub(1), (x + 1).min(w - 1));
                *o = ((column(l) + 2 * column(x) + column(r) + 8) / 16) as u8;
            }
        });
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
            for (x, o) in out.iter_mut().enumerate() {
                let (x0, x1) = ((2 * x).min(src.width - 1), (2 * x + 1).min(src.width - 1));
                *o = ((a[x0] as u32 + a[x1] as u32 + b[x0] as u32 + b[x1] as u32 + 2) / 4) as u8;
            }
        });
}

/// The cost of moving the `side`-sided block at (`x0`, `y0`) of `cur` by `v` into `reference`:
/// [`raw_sad`] over the block grown by half its side all round (overlapping its neighbours:
/// a small block alone matches too many places), plus [`MOTION_PENALTY`] per pixel of the
/// block per pixel of motion.
#[inline]
fn sad(cur: Plane, reference: Plane, x0: usize, y0: usize, side: usize, v: [i32; 2]) -> u32 {
    let motion = (v[0].unsigned_abs() + v[1].unsigned_abs()) * MOTION_PENALTY;
    let (gx, gy) = (x0.saturating_sub(side / 2), y0.saturating_sub(side / 2));
    let grown = 2 * side;
    raw_sad(cur, reference, gx, gy, grown, v) + motion * (grown * grown) as u32 / 16
}

/// The sum of absolute differences between the block of `cur` at (`x0`, `y0`), `side` pixels
/// square (cut at the picture's edges), and `reference`'s block moved by `v` (its
/// coordinates clamped to the picture, edges repeated).
#[inline]
fn raw_sad(cur: Plane, reference: Plane, x0: usize, y0: usize, side: usize, v: [i32; 2]) -> u32 {
    let (w, h) = (cur.width, cur.height);
    let (bw, bh) = (side.min(w - x0), side.min(h - y0));
    let rx = x0 as isize + v[0] as isize;
    let inside_x = rx >= 0 && rx as usize + bw <= w;
    let mut total = 0u32;
    for y in 0..bh {
        let ry = (y0 as isize + y as isize + v[1] as isize).clamp(0, h as isize - 1) as usize;
        let a = &cur.row(y0 + y)[x0..x0 + bw];
        let b = reference.row(ry);
        total += if inside_x {
            let b = &b[rx as usize..rx as usize + bw];
            a.iter()
                .zip(b)
                .map(|(p, q)| p.abs_diff(*q) as u32)
                .sum::<u32>()
        } else {
            a.iter()
                .enumerate()
                .map(|(i, p)| {
                    let x = (rx + i as isize).clamp(0, w as isize - 1) as usize;
                    p.abs_diff(b[x]) as u32
                })
                .sum::<u32>()
        };
    }
    total
}
