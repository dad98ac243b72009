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
    /// hold the missing field before and after it; see [`Fields`]).
    pub fn of(
        [prev, cur, next]: [T; 3],
        deinterlace: bool,
        (keep, before, after): (usize, usize, usize),
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
    let filter = denoise.enabled();
    let primed = filter && std::mem::replace(&mut denoise.primed, true);
    let (spatial, temporal) = (denoise.spatial, denoise.temporal);
    out[..stride * (h - 1) + w]
        .par_chunks_mut(stride * STRIPE)
        .zip(denoise.state.par_chunks_mut(w * STRIPE))
        .zip(denoise.scratch.par_chunks_mut(4 * w + 12))
        .zip(denoise.above.par_chunks_mut(w))
        .enumerate()
        .for_each(|(task, (((rows, state), scratch), above))| {
            let top = task * STRIPE;
            if filter && top > 0 {
                // The row above the stripe, filtered only to start the vertical recursion.
                source.row(top - 1, above, finish.dropouts);
                wide(
                    #[inline(always)]
                    || {
                        Row {
                            pixels: above,
                            state: None,
                            scratch: &mut *scratch,
                            first: true,
                            primed: false,
                        }
                        .filter(spatial, temporal, Linear::default())
                    },
                );
            }
            for (i, (row, st)) in rows.chunks_mut(stride).zip(state.chunks_mut(w)).enumerate() {
                let row = &mut row[..w];
                source.row(top + i, row, finish.dropouts);
                if filter {
                    let first = top + i == 0;
                    wide(
                        #[inline(always)]
                        || {
                            Row {
                                pixels: row,
                                state: Some(st),
                                scratch: &mut *scratch,
                                first,
                                primed,
                            }
                            .filter(spatial, temporal, finish.map)
                        },
                    );
                } else if !finish.map.is_identity() {
                    wide(
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
        });
}

/// One row of a [`Denoise`] pass and its scratch.
struct Row<'a> {
    pixels: &'a mut [u8],
    /// The filtered past, `f32` per pixel; `None`: only `line` is wanted.
    state: Option<&'a mut [f32]>,
    /// The task's scratch: the row above, filtered (horizontally and vertically; `len`
    /// floats), this row with two pixels of margin either side (`len + 4`), and the weighted
    /// steps to the next pixel and the one after (`len + 4` each).
    scratch: &'a mut [f32],
    /// The first row of its task: no row above.
    first: bool,
    /// The past holds a frame.
    primed: bool,
}

/// `n − c` weighted as `low_pass` weighs it.
#[inline(always)]
fn pull(c: f32, n: f32, fall: f32) -> f32 {
    let keep = (1.0 - (n - c).abs() * fall).max(0.0);
    (n - c) * (keep * keep)
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

impl Row<'_> {
    /// Filters the row into `line` (horizontally, then with `line`'s row above) and, with a
    /// state, on in time into the state and the pixels.
    // Indexed loops over slices cut to one length: the form the compiler vectorises best.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    fn filter(self, spatial: f32, temporal: f32, map: Linear) {
        let w = self.pixels.len();
        let (line, rest) = self.scratch.split_at_mut(w);
        let (padded, steps) = rest.split_at_mut(w + 4);
        let padded = &mut padded[..w + 4];
        // The row with its end pixels repeated twice beyond each end.
        for (p, &v) in padded[2..w + 2].iter_mut().zip(self.pixels.iter()) {
            *p = v as f32;
        }
        padded[..2].fill(self.pixels[0] as f32);
        padded[w + 2..].fill(self.pixels[w - 1] as f32);
        // Horizontal: each pixel moves by a quarter of its weighted steps to the two pixels
        // either side. The step from a to b is minus the one from b to a, so each is weighed
        // once: `one[i]` from padded pixel i to i + 1, `two[i]` from i to i + 2.
        let (one, two) = steps.split_at_mut(w + 4);
        let one = &mut one[..w + 3];
        let (a, b) = (&padded[..w + 3], &padded[1..w + 4]);
        for i in 0..w + 3 {
            one[i] = pull(a[i], b[i], spatial);
        }
        let two = &mut two[..w + 2];
        let (a, b) = (&padded[..w + 2], &padded[2..w + 4]);
        for i in 0..w + 2 {
            two[i] = pull(a[i], b[i], spatial);
        }
        // Views `w` long, so that the passes below index without bounds checks and vectorise.
        let taps = [
            &padded[2..w + 2],
            &one[1..w + 1],
            &one[2..w + 2],
            &two[..w],
            &two[2..w + 2],
        ];
        let line = &mut line[..w];
        // Vertical: recursive down the task's rows.
        if self.first {
            for x in 0..w {
                line[x] = across(taps, x);
            }
        } else {
            for x in 0..w {
                line[x] = low_pass(line[x], across(taps, x), spatial);
            }
        }
        // Temporal; the results are convex mixes of bytes, always within 0..=255.
        let Some(st) = self.state else {
            return;
        };
        let st = &mut st[..w];
        if self.primed {
            for x in 0..w {
                st[x] = low_pass(st[x], line[x], temporal);
            }
        } else {
            st.copy_from_slice(line);
        }
        map.apply(self.pixels, st, padded);
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
    let (d, f) = ((-shift) >> 8, ((-shift) & 255) as u32);
    let blend = |a: u8, b: u8| ((a as u32 * (256 - f) + b as u32 * f + 128) >> 8) as u8;
    let at = |row: &[u8], x: i32| {
        let (i, j) = ((x + d).clamp(0, w - 1), (x + d + 1).clamp(0, w - 1));
        blend(row[i as usize], row[j as usize])
    };
    // In place: moving left (d ≥ 0) pixels read at or after themselves, so they are written
    // first to last; moving right, last to first: none is overwritten before it is read. The
    // inner pixels (both sources inside the row) go in chunks copied out first, each a
    // straight, vectorisable pass; the pixels at the end the move uncovers clamp.
    const CHUNK: usize = 64;
    let (lo, hi) = ((-d).clamp(0, w) as usize, (w - 1 - d).clamp(0, w) as usize);
    let chunk = |row: &mut [u8], start: usize| {
        let n = CHUNK.min(hi - start);
        let from = (start as isize + d as isize) as usize;
        let mut src = [0u8; CHUNK + 1];
        src[..=n].copy_from_slice(&row[from..=from + n]);
        for (o, ab) in row[start..start + n].iter_mut().zip(src[..=n].windows(2)) {
            *o = blend(ab[0], ab[1]);
        }
    };
    let inner = (lo..hi.max(lo)).step_by(CHUNK);
    if d >= 0 {
        inner.for_each(|start| chunk(row, start));
        for x in hi.max(lo)..w as usize {
            row[x] = at(row, x as i32);
        }
    } else {
        inner.rev().for_each(|start| chunk(row, start));
        for x in (0..lo).rev() {
            row[x] = at(row, x as i32);
        }
    }
}
