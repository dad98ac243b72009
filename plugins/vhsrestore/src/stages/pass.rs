//! The restoring pass: each row of a plane taken from its source (copied or deinterlaced,
//! dropouts filled), denoised, shifted and mapped while it is in cache.

use super::*;

/// Where the rows of a restored plane come from.
#[derive(Clone, Copy, Debug)]
pub enum Source<T> {
    /// A progressive plane, as it is.
    Copy(T),
    /// An interlaced one, deinterlaced.
    Fields(Fields<T>),
}

impl<T: Copy> Source<T> {
    /// Output `k`'s source from the previous, current and next frames: the current frame as
    /// it is, or deinterlaced keeping the field `roles` says (kept parity, and which frames
    /// hold the missing field before and after it), the other frames read along `shift` (see
    /// [`Fields`]).
    pub fn of(
        [prev, cur, next]: [T; 3],
        deinterlace: bool,
        (keep, before, after): (usize, usize, usize),
        shift: [i32; 2],
    ) -> Self {
        if !deinterlace {
            return Source::Copy(cur);
        }
        let frames = [prev, cur, next];
        Source::Fields(Fields {
            cur,
            before: frames[before],
            after: frames[after],
            prev,
            next,
            keep,
            shift,
        })
    }
}

impl Source<Plane<'_>> {
    fn plane(&self) -> Plane<'_> {
        match self {
            Source::Copy(p) => *p,
            Source::Fields(f) => f.cur,
        }
    }

    /// Row `y` into `dst`, dropouts in rows taken as they are filled first.
    fn row(&self, y: usize, dst: &mut [u8], dropouts: Option<Dropouts>) {
        match self {
            Source::Copy(p) => dst[..p.width].copy_from_slice(p.row(y)),
            Source::Fields(f) => {
                f.row(y, dst);
                // Rebuilt rows need nothing: a dropout in the other field reads as motion
                // there, so the rebuild leans on the kept rows.
                if let (Some(d), true) = (dropouts, y % 2 == f.keep) {
                    d.repair(f.cur, y, &mut dst[..f.cur.width]);
                }
            }
        }
    }
}

/// What the restoring pass does to each row besides taking and denoising it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Finish {
    /// Dropouts filled (interlaced sources).
    pub dropouts: Option<Dropouts>,
    /// [`SHIFT_ONE`]ths of a pixel to move the row right (negative: left), edges repeated.
    pub shift: i32,
    /// Levels (luma) or saturation (chroma).
    pub map: Linear,
}

/// Restores one plane in a single pass over its rows, split in stripes over the thread
/// pool: each row is taken from `source` (copied or deinterlaced, dropouts filled), denoised,
/// shifted and mapped as `finish` says, while it is in cache. `out` is the plane's size with
/// rows `stride` apart; `denoise` is for this plane (made for another size, it is refitted
/// and starts afresh; the element makes each for its plane, so that never allocates there).
pub fn restore(
    source: Source<Plane>,
    out: &mut [u8],
    stride: usize,
    denoise: &mut Denoise,
    finish: Finish,
) {
    let (w, h) = (source.plane().width, source.plane().height);
    if w == 0 || h == 0 {
        return;
    }
    // Every stripe of rows needs its share of the denoiser's buffers, used or not.
    denoise.fit(w, h);
    let stripe = denoise.stripe;
    let filter = denoise.enabled();
    let primed = filter && std::mem::replace(&mut denoise.primed, true);
    let (spatial, temporal) = (denoise.spatial, denoise.temporal);
    // Where the picture moved, the past is read along the motion from its own copy while the
    // state takes the new frame.
    // Vectors block by block are for this frame only, as the motion is.
    let motion = std::mem::take(&mut denoise.motion);
    let cols = std::mem::take(&mut denoise.cols);
    let moved = primed && (motion != [0.0; 2] || cols > 0);
    if moved {
        std::mem::swap(&mut denoise.state, &mut denoise.past);
    }
    let blocks = (denoise.block, cols, &denoise.blocks[..]);
    let past = Past {
        data: &denoise.past,
        width: w,
        height: h,
        motion,
        blocks,
    };
    out[..stride * (h - 1) + w]
        .par_chunks_mut(stride * stripe)
        .zip(denoise.state.par_chunks_mut(w * stripe))
        .zip(
            denoise
                .scratch
                .par_chunks_mut(SCRATCH_PER_PIXEL * w + SCRATCH_MARGIN),
        )
        .zip(denoise.outside.par_chunks_mut(w))
        .zip(denoise.along.par_chunks_mut(w * stripe))
        .enumerate()
        .for_each(
            |(task, ((((rows, state), scratch), outside), along_rows))| {
                let top = task * stripe;
                let end = (top + stripe).min(h);
                if !filter {
                    for (i, row) in rows.chunks_mut(stride).enumerate() {
                        let row = &mut row[..w];
                        source.row(top + i, row, finish.dropouts);
                        if !finish.map.is_identity() {
                            widest(
                                #[inline(always)]
                                || {
                                    let (values, rest) = scratch.split_at_mut(w);
                                    for (v, &p) in values.iter_mut().zip(row.iter()) {
                                        *v = p as f32;
                                    }
                                    finish.map.apply(row, values, rest);
                                },
                            );
                        }
                        shift_row(row, finish.shift);
                    }
                    return;
                }
                let (spread, scratch) = scratch.split_at_mut(SPREAD_ROWS * w);
                let (steps, scratch) = scratch.split_at_mut(2 * STEP_ROWS * w);
                let (ones, twos) = steps.split_at_mut(STEP_ROWS * w);
                // Where row `r` lies among the spread rows kept, and the steps from row `a` (from
                // two rows above the task's first) among theirs.
                let spread_at = |r: usize| (r % SPREAD_ROWS) * w;
                let step_at = |a: isize| ((a + STEP_ROWS as isize) as usize % STEP_ROWS) * w;
                // Row `r` of the plane taken from its source and spread along itself into its
                // place among the rows kept for the vertical step: read into its own output row
                // (written only once it is done with) or, outside the task's rows, into `outside`.
                let mut take =
                    |r: usize, rows: &mut [u8], spread: &mut [f32], scratch: &mut [f32]| {
                        let pixels = if (top..end).contains(&r) {
                            &mut rows[(r - top) * stride..][..w]
                        } else {
                            &mut *outside
                        };
                        source.row(r, pixels, finish.dropouts);
                        let slot = &mut spread[spread_at(r)..][..w];
                        widest(
                            #[inline(always)]
                            || horizontal(pixels, slot, scratch, spatial),
                        );
                    };
                // The weighted steps down the column from row `a` (the plane's first and last rows
                // repeated beyond it) to the next (`ones`) and to the one after (`twos`), from the
                // spread rows kept: each step is weighed once and read by both rows it joins.
                let step = |a: isize, two: bool, spread: &[f32], out: &mut [f32]| {
                    let row = |k: isize| {
                        let r = (a + k).clamp(0, h as isize - 1) as usize;
                        &spread[spread_at(r)..][..w]
                    };
                    let out = &mut out[step_at(a)..][..w];
                    let far = two as isize;
                    let rows = [row(-1), row(0), row(1 + far), row(2 + far)];
                    widest(
                        #[inline(always)]
                        || weighed_steps(rows, out, spatial * GUIDED, two),
                    );
                };
                // The rows the vertical step reads above the first (the plane's first repeated),
                // and the steps between them.
                for r in top.saturating_sub(REACH)..(top + REACH).min(h) {
                    take(r, rows, spread, scratch);
                }
                let t = top as isize;
                step(t - 1, false, spread, ones);
                step(t, false, spread, ones);
                step(t - 2, true, spread, twos);
                step(t - 1, true, spread, twos);
                // The past along the motion, for the task's rows at once (block by block: the
                // reads of a block's rows share its set-up).
                if moved {
                    past.rows(top, end, along_rows);
                }
                for (y, st) in (top..end).zip(state.chunks_mut(w)) {
                    if y + REACH < h {
                        take(y + REACH, rows, spread, scratch);
                    }
                    let a = y as isize;
                    step(a + 1, false, spread, ones);
                    step(a, true, spread, twos);
                    let along = &along_rows[(y - top) * w..][..w];
                    let row = &mut rows[(y - top) * stride..][..w];
                    widest(
                        #[inline(always)]
                        || {
                            let centre = &spread[spread_at(y)..][..w];
                            let taps = [
                                &ones[step_at(a - 1)..][..w],
                                &ones[step_at(a)..][..w],
                                &twos[step_at(a - 2)..][..w],
                                &twos[step_at(a)..][..w],
                            ];
                            Time {
                                centre,
                                steps: taps,
                                state: st,
                                past: moved.then_some(along),
                                primed,
                            }
                            .step(temporal);
                            finish.map.apply(row, st, scratch);
                        },
                    );
                    shift_row(row, finish.shift);
                }
            },
        );
}

/// The filtered past of a plane and the motion since: rows of it read along the motion.
struct Past<'a> {
    data: &'a [f32],
    width: usize,
    height: usize,
    motion: [f32; 2],
    /// Block size, blocks to a row and the vectors, where the motion is given block by block
    /// (no vectors: `motion` everywhere).
    blocks: ([usize; 2], usize, &'a [[f32; 2]]),
}

impl Past<'_> {
    /// Rows `top..end` of the past moved along the motion into `out` (rows `width` apart):
    /// pixel (x, y) reads the past at (x + motion.x, y + motion.y), with the motion of its
    /// block where it is given block by block, bilinear between its four neighbours, the edges
    /// repeated (the GPU pass's `along`, the same arithmetic in the same order). Block by
    /// block, each block's rows in turn: a block's set-up is shared by its rows.
    fn rows(&self, top: usize, end: usize, out: &mut [f32]) {
        let ([bw, bh], cols, vectors) = self.blocks;
        let w = self.width;
        let out = &mut out[..(end - top) * w];
        // One vector build for the whole stripe: blocks are a few dozen pixels wide.
        widest(
            #[inline(always)]
            || {
                if vectors.is_empty() || bw == 0 || cols == 0 {
                    let along = Along::new(0, w, w, self.motion);
                    for (y, row) in (top..end).zip(out.chunks_exact_mut(w)) {
                        self.segment(y, &along, row);
                    }
                    return;
                }
                let rows = vectors.len() / cols;
                let first = (top / bh).min(rows - 1);
                let last = ((end - 1) / bh).min(rows - 1);
                for r in first..=last {
                    let y0 = (r * bh).max(top);
                    let y1 = if r + 1 == rows {
                        end
                    } else {
                        ((r + 1) * bh).min(end)
                    };
                    for (c, &v) in vectors[r * cols..(r + 1) * cols].iter().enumerate() {
                        let x0 = (c * bw).min(w);
                        let x1 = if c + 1 == cols {
                            w
                        } else {
                            ((c + 1) * bw).min(w)
                        };
                        let along = Along::new(x0, x1, w, v);
                        for (y, row) in (y0..y1).zip(out[(y0 - top) * w..].chunks_exact_mut(w)) {
                            self.segment(y, &along, row);
                        }
                    }
                }
            },
        )
    }

    /// Pixels `along.x0..along.x1` of row `y` of [`Past::rows`] into `out` (the row).
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    fn segment(&self, y: usize, along: &Along, out: &mut [f32]) {
        let (w, h) = (self.width, self.height as i32);
        let &Along {
            x0,
            x1,
            lo,
            hi,
            dx,
            fx,
            my,
        } = along;
        let fy0 = (y as f32 + my).floor();
        let fy = y as f32 + my - fy0;
        let y0 = fy0 as i32;
        let rows = [y0.clamp(0, h - 1), (y0 + 1).clamp(0, h - 1)]
            .map(|r| &self.data[r as usize * w..][..w]);
        let out = &mut out[..w];
        let blend = |a0: f32, a1: f32, b0: f32, b1: f32| {
            let top = a0 * (1.0 - fx) + a1 * fx;
            let bottom = b0 * (1.0 - fx) + b1 * fx;
            top * (1.0 - fy) + bottom * fy
        };
        // Pixels before `lo` read both columns clamped to the row's first, those from `hi` on
        // to its last: one value each end.
        let end = |i: usize| blend(rows[0][i], rows[0][i], rows[1][i], rows[1][i]);
        if lo > x0 {
            out[x0..lo].fill(end(0));
        }
        if x1 > hi {
            out[hi..x1].fill(end(w - 1));
        }
        if hi > lo {
            let from = (lo as isize + dx) as usize;
            let n = hi - lo;
            // Views `n` long, so that the loop indexes without bounds checks and vectorises.
            let (a0, a1) = (&rows[0][from..from + n], &rows[0][from + 1..from + n + 1]);
            let (b0, b1) = (&rows[1][from..from + n], &rows[1][from + 1..from + n + 1]);
            let o = &mut out[lo..hi];
            for i in 0..n {
                let top = a0[i] * (1.0 - fx) + a1[i] * fx;
                let bottom = b0[i] * (1.0 - fx) + b1[i] * fx;
                o[i] = top * (1.0 - fy) + bottom * fy;
            }
        }
    }
}

/// What a row's pixels `x0..x1` read along one motion share, whatever the row: the whole and
/// fractional columns of the motion, where both columns read lie inside the row (`lo..hi`),
/// and the vertical motion (each row's whole and fractional rows follow from it).
struct Along {
    x0: usize,
    x1: usize,
    lo: usize,
    hi: usize,
    dx: isize,
    fx: f32,
    my: f32,
}

impl Along {
    /// Pixels `x0..x1` of rows `w` wide read along `[mx, my]`.
    #[inline(always)]
    fn new(x0: usize, x1: usize, w: usize, [mx, my]: [f32; 2]) -> Self {
        let fx0 = mx.floor();
        let (fx, dx) = (mx - fx0, fx0 as isize);
        // Pixels whose two columns both lie inside the row read straight slices (vectorised).
        let lo = ((-dx).clamp(0, w as isize) as usize).clamp(x0, x1);
        let hi = ((w as isize - 1 - dx).clamp(0, w as isize) as usize).clamp(lo, x1);
        Along {
            x0,
            x1,
            lo,
            hi,
            dx,
            fx,
            my,
        }
    }
}

/// The vertical step of one row (see [`vertical`]) and its temporal step: the row moved on
/// from the filtered past into `state`.
struct Time<'a> {
    /// The row spread along itself, and its weighted steps down the columns.
    centre: &'a [f32],
    steps: [&'a [f32]; 4],
    /// The filtered past where the picture is; the new state on return.
    state: &'a mut [f32],
    /// The past along the motion, where the picture moved (`None`: `state` holds it).
    past: Option<&'a [f32]>,
    /// The past holds a frame.
    primed: bool,
}

/// `n − c` weighted as `low_pass` weighs it, by the step between the two pixels in the guide
/// (`guided`; see [`GUIDED`]).
#[inline(always)]
fn pull(c: f32, n: f32, guided: f32, fall: f32) -> f32 {
    let keep = (1.0 - guided.abs() * fall).max(0.0);
    (n - c) * (keep * keep)
}

/// The horizontal filter weighs each step between two pixels by the step between them in the
/// row smoothed by [1, 2, 1] / 4 (the guide), not in the row itself: tape noise moves a
/// pixel's neighbours as far as a faint edge does, and a step of noise weighed by itself is
/// kept where it is strongest; in the guide it is half as strong, while an edge keeps most of
/// its step (an edge-preserving filter guided by a cleaner copy, as a cross-bilateral filter
/// is). Its `fall` is the spatial one times this. `make eval-vhs`, tuning half, levels told,
/// six models (heavy, streaky, squeeze, pan8-n8, zoom-n8, shake-n4), mean lead over FFmpeg's
/// best chain in PSNR-Y / SSIM-Y: unguided +0.69 dB / −0.0089; guided with 0.75 +0.70 /
/// −0.0023, 1 +0.78 / −0.0018, 1.25 +0.81 / −0.0023, 1.5 +0.81 / −0.0036.
pub(super) const GUIDED: f32 = 1.25;

/// The step in the guide (see [`GUIDED`]) from pixel `a` to the next one, `b`, with the
/// pixels before and after them (`l`, `r`): `guide(b) − guide(a)`, where the guide of a pixel
/// is `(left + 2 · pixel + right) / 4` (the GPU pass's `guide`). Pixels are whole levels, so
/// this is exact, as the GPU's difference of two guides is.
#[inline(always)]
fn guide_step(l: f32, a: f32, b: f32, r: f32) -> f32 {
    (r + b - a - l) * 0.25
}

/// As [`guide_step`], from pixel `a` to `b` two pixels on (`l` before `a`, `r` after `b`).
#[inline(always)]
fn guide_step_two(l: f32, a: f32, b: f32, r: f32) -> f32 {
    (r + 2.0 * b - 2.0 * a - l) * 0.25
}

/// The pixel at `x` of `taps[0]` moved a quarter of the way along its weighted steps: to
/// the left and right neighbours (`taps[1]`, `taps[2]`: steps into and out of it), and to the
/// pixels two away (`taps[3]`, `taps[4]`).
#[inline(always)]
fn across(taps: [&[f32]; 5], x: usize) -> f32 {
    let near = taps[2][x] - taps[1][x];
    let far = taps[4][x] - taps[3][x];
    taps[0][x] + 0.25 * (near + far)
}

/// Rows above and below the one being filtered that the vertical step reads.
const REACH: usize = 3;
/// Rows of the row-spread plane a task keeps: the row being filtered and [`REACH`] either side.
pub(super) const SPREAD_ROWS: usize = 2 * REACH + 1;

/// Spreads `pixels` along the row into `out`: each pixel moves a quarter of the way along its
/// weighted steps to the two pixels either side. The step from a to b is minus the one from b
/// to a, so each is weighed once: `one[i]` from pixel i − 2 to i − 1 (padded i + 1 to i + 2),
/// `two[i]` from i − 2 to i, each by the step between the pixels' guides, taken straight from
/// the pixels around them (see [`GUIDED`]). `scratch`: the row with three pixels of margin
/// either side and two rows of steps (`3 · len + 14`).
// Indexed loops over slices cut to one length: the form the compiler vectorises best.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn horizontal(pixels: &[u8], out: &mut [f32], scratch: &mut [f32], spatial: f32) {
    let w = pixels.len();
    let (padded, steps) = scratch.split_at_mut(w + 6);
    // The row with its end pixels repeated three times beyond each end.
    for (p, &v) in padded[3..w + 3].iter_mut().zip(pixels.iter()) {
        *p = v as f32;
    }
    padded[..3].fill(pixels[0] as f32);
    padded[w + 3..].fill(pixels[w - 1] as f32);
    let fall = spatial * GUIDED;
    let (one, two) = steps.split_at_mut(w + 4);
    let one = &mut one[..w + 3];
    let p = &*padded;
    weighed_steps([p, &p[1..], &p[2..], &p[3..]], one, fall, false);
    let two = &mut two[..w + 2];
    weighed_steps([p, &p[1..], &p[3..], &p[4..]], two, fall, true);
    // Views `w` long, so that the pass indexes without bounds checks and vectorises.
    let taps = [
        &padded[3..w + 3],
        &one[1..w + 1],
        &one[2..w + 2],
        &two[..w],
        &two[2..w + 2],
    ];
    let out = &mut out[..w];
    for x in 0..w {
        out[x] = across(taps, x);
    }
}

/// Rows of weighted steps down the columns a task keeps, each kind (see [`vertical`]).
pub(super) const STEP_ROWS: usize = 3;

/// A row of weighted steps (see [`pull`]) from pixel `a` to pixel `b`, the next (`two` false)
/// or the one after (`two` true), each weighed by the step between their guides (see
/// [`GUIDED`]), into `out`: `rows` holds, for each step, the pixel before `a`, `a`, `b` and the
/// pixel after `b` (along a row for [`horizontal`]: the padded row at four offsets; down the
/// columns for [`vertical`]: four spread rows), each read from its start.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn weighed_steps(rows: [&[f32]; 4], out: &mut [f32], fall: f32, two: bool) {
    let w = out.len();
    let [l, a, b, r] = rows.map(|r| &r[..w]);
    if two {
        for x in 0..w {
            out[x] = pull(a[x], b[x], guide_step_two(l[x], a[x], b[x], r[x]), fall);
        }
    } else {
        for x in 0..w {
            out[x] = pull(a[x], b[x], guide_step(l[x], a[x], b[x], r[x]), fall);
        }
    }
}

/// The vertical twin of [`horizontal`] on rows already spread along themselves: pixel `x` of
/// `centre` moved a quarter of the way along its weighted steps to the rows one and two above
/// and below (`steps`: from the row above, to the row below, from two above, to two below; see
/// [`weighed_steps`]), each step weighed by the step between the rows' guides (each row
/// smoothed by [1, 2, 1] / 4 down the column; the plane's first and last rows repeated beyond
/// it). Symmetric, so that the noise is averaged from both sides without trailing down the
/// picture as the recursive smoothing before did: on six photographs under noise σ 9, σ 4 and
/// σ 5 running along the rows, single frames at their best strengths gave 35.9, 40.5 and 36.9
/// dB PSNR with the recursion, 37.7, 42.3 and 38.6 with this (OpenCV's non-local means 37.8,
/// 41.5 and 39.2).
#[inline(always)]
fn vertical(centre: &[f32], steps: &[&[f32]; 4], x: usize) -> f32 {
    let [into, out_of, from_two, to_two] = steps;
    centre[x] + 0.25 * ((out_of[x] - into[x]) + (to_two[x] - from_two[x]))
}

impl Time<'_> {
    /// The row filtered down the columns and moved on in time into the state; the results are
    /// convex mixes of bytes, always within 0..=255.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    fn step(self, temporal: f32) {
        let w = self.state.len();
        let (c, st) = (&self.centre[..w], &mut self.state[..w]);
        // Views `w` long, so that the loops index without bounds checks and vectorise.
        let steps = self.steps.map(|s| &s[..w]);
        if let (true, Some(past)) = (self.primed, self.past) {
            let past = &past[..w];
            for x in 0..w {
                st[x] = low_pass(past[x], vertical(c, &steps, x), temporal);
            }
        } else if self.primed {
            for x in 0..w {
                st[x] = low_pass(st[x], vertical(c, &steps, x), temporal);
            }
        } else {
            for x in 0..w {
                st[x] = vertical(c, &steps, x);
            }
        }
    }
}

/// Steps per pixel of a [`Finish::shift`]: chroma delays are fractions of a pixel.
pub const SHIFT_ONE: i32 = 256;

/// Moves a row `shift` / [`SHIFT_ONE`] pixels to the right (negative: left) in place, edges
/// repeated, each pixel interpolated between its two sources as `(a · (256 − f) + b · f + 128)
/// / 256` — the GPU pass's arithmetic, so both give the same bytes. A whole-pixel shift keeps
/// the bytes. Analog chroma trails luma by a few pixels; a negative shift pulls it back.
pub fn shift_row(row: &mut [u8], shift: i32) {
    let w = row.len() as i32;
    if w == 0 || shift == 0 {
        return;
    }
    // Pixel x reads x + d and x + d + 1 (clamped into the row) at weight f, the same for every
    // pixel.
    let (d, f) = ((-shift) >> 8, ((-shift) & 255) as u16);
    let at = |row: &[u8], x: i32| {
        let (i, j) = ((x + d).clamp(0, w - 1), (x + d + 1).clamp(0, w - 1));
        blend(row[i as usize], row[j as usize], f)
    };
    // In place: moving left (d ≥ 0) pixels read at or after themselves, so they are written
    // first to last; moving right, last to first: none is overwritten before it is read. The
    // inner pixels (both sources inside the row) go in chunks copied out first, each a
    // straight, vectorisable pass; the pixels at the end the move uncovers clamp.
    let (lo, hi) = ((-d).clamp(0, w) as usize, (w - 1 - d).clamp(0, w) as usize);
    // Plain loops over the chunks' starts (an iterator adapter's fold would not be inlined
    // into the vector build).
    let chunks = hi.saturating_sub(lo).div_ceil(CHUNK);
    widest(
        #[inline(always)]
        || {
            if d >= 0 {
                for c in 0..chunks {
                    shift_chunk(row, lo + c * CHUNK, hi, d, f);
                }
                for x in hi.max(lo)..w as usize {
                    row[x] = at(row, x as i32);
                }
            } else {
                for c in (0..chunks).rev() {
                    shift_chunk(row, lo + c * CHUNK, hi, d, f);
                }
                for x in (0..lo).rev() {
                    row[x] = at(row, x as i32);
                }
            }
        },
    );
}

/// Pixels [`shift_row`] moves in one chunk.
const CHUNK: usize = 64;

/// `a` and `b` mixed at weight `f` (256ths, below 256), rounded; at most 255 · 256 + 128
/// before the shift, so 16 bits hold it (twice the lanes of 32).
#[inline(always)]
fn blend(a: u8, b: u8, f: u16) -> u8 {
    ((a as u16 * (256 - f) + b as u16 * f + 128) >> 8) as u8
}

/// The chunk of [`shift_row`] from `start` (at most [`CHUNK`] pixels, none from `hi` on): its
/// sources copied out first, then mixed (inlined into the caller's vector build).
#[inline(always)]
fn shift_chunk(row: &mut [u8], start: usize, hi: usize, d: i32, f: u16) {
    let n = CHUNK.min(hi - start);
    let from = (start as isize + d as isize) as usize;
    let mut src = [0u8; CHUNK + 1];
    if n == CHUNK {
        // A whole chunk is of a known size: moves in registers and one unrolled pass.
        src.copy_from_slice(&row[from..=from + CHUNK]);
        let out = &mut row[start..start + CHUNK];
        for i in 0..CHUNK {
            out[i] = blend(src[i], src[i + 1], f);
        }
    } else {
        src[..=n].copy_from_slice(&row[from..=from + n]);
        for (o, ab) in row[start..start + n].iter_mut().zip(src[..=n].windows(2)) {
            *o = blend(ab[0], ab[1], f);
        }
    }
}
