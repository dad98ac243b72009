//! The restoration stages on 8-bit planes, without GStreamer types. Each works on one plane
//! (rows `stride` bytes apart) and splits its rows over the thread pool; none allocates.

use mediaai_common::pixels::{quantize, wide};
use rayon::prelude::*;

pub use mediaai_common::pixels::Plane;

/// The fields one deinterlaced plane is made from: the rows of parity `keep` (0: even rows,
/// the top field) of `cur` are kept; the others are rebuilt at the kept field's time.
///
/// `before` and `after` are the frames whose rows of the missing parity lie half a field
/// before and after the kept field in time; `prev` and `next` the frames whose rows of the
/// kept parity lie one frame before and after (for the motion check). Top field first,
/// keeping the first field: (prev, cur, prev, next); keeping the second: (cur, next, prev,
/// next).
#[derive(Clone, Copy)]
pub struct Fields<'a> {
    pub cur: Plane<'a>,
    pub before: Plane<'a>,
    pub after: Plane<'a>,
    pub prev: Plane<'a>,
    pub next: Plane<'a>,
    pub keep: usize,
}

impl Fields<'_> {
    /// Row `y` of the deinterlaced plane into `dst`: yadif-class motion adaptation, with a
    /// cubic vertical interpolation where no edge direction fits better.
    fn row(&self, y: usize, dst: &mut [u8]) {
        let f = self;
        let (w, h, keep) = (f.cur.width, f.cur.height, f.keep);
        let dst = &mut dst[..w];
        if y % 2 == keep || h < 2 {
            dst.copy_from_slice(f.cur.row(y));
            return;
        }
        // Kept rows above and below, clamped to the kept field's first and last rows.
        let last = if (h - 1) % 2 == keep { h - 1 } else { h - 2 };
        let kept = |k: isize| (y as isize + k).clamp(keep as isize, last as isize) as usize;
        // Rows of the missing parity two rows away, for the spatial check.
        let missing = |k: isize| {
            let r = y as isize + k;
            if r < 0 || r >= h as isize {
                y
            } else {
                r as usize
            }
        };
        let (up, down) = (f.cur.row(kept(-1)), f.cur.row(kept(1)));
        let (up3, down3) = (f.cur.row(kept(-3)), f.cur.row(kept(3)));
        let (pu, pd) = (f.prev.row(kept(-1)), f.prev.row(kept(1)));
        let (nu, nd) = (f.next.row(kept(-1)), f.next.row(kept(1)));
        let (ab, aa) = (f.before.row(y), f.after.row(y));
        let (bu, bd) = (f.before.row(missing(-2)), f.before.row(missing(2)));
        let (au, ad) = (f.after.row(missing(-2)), f.after.row(missing(2)));
        let rows = Rows {
            up,
            down,
            up3,
            down3,
            pu,
            pd,
            nu,
            nd,
            ab,
            aa,
            bu,
            bd,
            au,
            ad,
        };
        // The edge search reads three pixels either side: the middle runs as one
        // straight, vectorisable pass; the few pixels at the ends clamp.
        let inner = if w > 2 * EDGE { EDGE..w - EDGE } else { w..w };
        for x in (0..inner.start).chain(inner.end..w) {
            dst[x] = rows.pixel_clamped(x);
        }
        if !inner.is_empty() {
            wide(
                #[inline(always)]
                || rows.inner(&mut dst[inner]),
            );
        }
    }
}

/// Where the rows of a restored plane come from.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// A progressive plane, as it is.
    Copy(Plane<'a>),
    /// An interlaced one, deinterlaced.
    Fields(Fields<'a>),
}

impl Source<'_> {
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
    fn repair(&self, plane: Plane, y: usize, row: &mut [u8]) {
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
        let stands_out = wide(
            #[inline(always)]
            || {
                // Bytes throughout (saturating), the most lanes per vector.
                let mut most = 0u8;
                for x in 0..w {
                    let v = row[x];
                    let hi = a1[x].max(b1[x]).max(a2[x].max(b2[x]));
                    let lo = a1[x].min(b1[x]).min(a2[x].min(b2[x]));
                    most = most.max(v.saturating_sub(hi).max(lo.saturating_sub(v)));
                }
                most as i16 > t
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

/// How far `v` stands above the brightest, or below the darkest, of the rows around it.
#[inline(always)]
fn excess(v: u8, a1: u8, b1: u8, a2: u8, b2: u8) -> i16 {
    let (v, a1, b1, a2, b2) = (v as i16, a1 as i16, b1 as i16, a2 as i16, b2 as i16);
    let hi = v - a1.max(b1).max(a2.max(b2));
    let lo = a1.min(b1).min(a2.min(b2)) - v;
    hi.max(lo)
}

/// Deinterlaces one plane into `out` (rows `out_stride` apart) and nothing else.
pub fn deinterlace(fields: Fields, out: &mut [u8], out_stride: usize) {
    let h = fields.cur.height;
    out[..out_stride * h]
        .par_chunks_mut(out_stride)
        .enumerate()
        .for_each(|(y, dst)| fields.row(y, dst));
}

/// Pixels the edge-directed search reads either side of the one it rebuilds.
const EDGE: usize = 3;

/// The rows one missing row is rebuilt from (see `deinterlace`): kept rows one and three
/// above and below (`up`, `down`, `up3`, `down3`), the kept rows' neighbours in the previous
/// and next frames (`pu`, `pd`, `nu`, `nd`), the missing row itself in the frames before and
/// after (`ab`, `aa`) and the missing rows two above and below in them (`bu`, `bd`, `au`,
/// `ad`).
struct Rows<'a> {
    up: &'a [u8],
    down: &'a [u8],
    up3: &'a [u8],
    down3: &'a [u8],
    pu: &'a [u8],
    pd: &'a [u8],
    nu: &'a [u8],
    nd: &'a [u8],
    ab: &'a [u8],
    aa: &'a [u8],
    bu: &'a [u8],
    bd: &'a [u8],
    au: &'a [u8],
    ad: &'a [u8],
}

/// The same-position values of the temporal check, the spatial candidates and the edge
/// scores, all as small integers (every intermediate fits `i16`, which keeps eight pixels
/// in a vector register on any x86-64).
#[derive(Clone, Copy)]
struct Taps {
    c: i16,
    e: i16,
    up3: i16,
    down3: i16,
    pu: i16,
    pd: i16,
    nu: i16,
    nd: i16,
    ab: i16,
    aa: i16,
    bu: i16,
    bd: i16,
    au: i16,
    ad: i16,
    /// `up[x + k]` and `down[x + k]` for k = −3..=3.
    up: [i16; 7],
    down: [i16; 7],
}

#[inline(always)]
fn absdiff(a: i16, b: i16) -> i16 {
    (a - b).abs()
}

/// One rebuilt pixel, without branches (so that a row of them vectorises).
#[inline(always)]
fn rebuild(t: Taps) -> u8 {
    let (c, e) = (t.c, t.e);
    let d = (t.ab + t.aa) >> 1;
    let t0 = absdiff(t.ab, t.aa);
    let t1 = (absdiff(t.pu, c) + absdiff(t.pd, e)) >> 1;
    let t2 = (absdiff(t.nu, c) + absdiff(t.nd, e)) >> 1;
    let mut diff = (t0 >> 1).max(t1).max(t2);
    // Spatial prediction: cubic vertically, or along the best edge direction (a direction two
    // pixels out is only tried when the one pixel out already won, as yadif does).
    let cubic = (9 * (c + e) - (t.up3 + t.down3) + 8) >> 4;
    let (u, v) = (&t.up, &t.down);
    let score = |j: isize| {
        let k = |o: isize| (3 + j + o) as usize;
        let m = |o: isize| (3 - j + o) as usize;
        absdiff(u[k(-1)], v[m(-1)]) + absdiff(u[k(0)], v[m(0)]) + absdiff(u[k(1)], v[m(1)])
    };
    let along = |j: isize| (u[(3 + j) as usize] + v[(3 - j) as usize]) >> 1;
    let mut best = score(0) - 1;
    let mut pred = cubic.clamp(c.min(e), c.max(e));
    let mut won = false;
    for j in [-1, -2, 1, 2] {
        let s = score(j);
        let far = j.abs() == 2;
        let take = s < best && (!far || won);
        won = if far { won } else { take };
        best = if take { s } else { best };
        pred = if take { along(j) } else { pred };
    }
    let b = (t.bu + t.au) >> 1;
    let f = (t.bd + t.ad) >> 1;
    let hi = (d - e).max(d - c).max((b - c).min(f - e));
    let lo = (d - e).min(d - c).min((b - c).max(f - e));
    diff = diff.max(lo).max(-hi);
    pred.clamp(d - diff, d + diff).clamp(0, 255) as u8
}

impl<'a> Rows<'a> {
    /// The taps at `x`, horizontal neighbours read through `at` (which may clamp).
    #[inline(always)]
    fn taps(&self, x: usize, at: impl Fn(&[u8], isize) -> u8) -> Taps {
        let v = |r: &[u8]| r[x] as i16;
        Taps {
            c: v(self.up),
            e: v(self.down),
            up3: v(self.up3),
            down3: v(self.down3),
            pu: v(self.pu),
            pd: v(self.pd),
            nu: v(self.nu),
            nd: v(self.nd),
            ab: v(self.ab),
            aa: v(self.aa),
            bu: v(self.bu),
            bd: v(self.bd),
            au: v(self.au),
            ad: v(self.ad),
            up: std::array::from_fn(|k| at(self.up, k as isize - 3) as i16),
            down: std::array::from_fn(|k| at(self.down, k as isize - 3) as i16),
        }
    }

    /// The pixel at `x` with neighbours past the row's ends repeated.
    fn pixel_clamped(&self, x: usize) -> u8 {
        let w = self.up.len() as isize;
        rebuild(self.taps(x, |r, dx| r[(x as isize + dx).clamp(0, w - 1) as usize]))
    }

    /// Pixels `EDGE..EDGE + out.len()`, where every neighbour is inside the row.
    #[inline(always)]
    fn inner(&self, out: &mut [u8]) {
        let n = out.len();
        let w = n + 2 * EDGE;
        let r = |s: &'a [u8]| -> &'a [u8] { &s[..w] };
        let rows = Rows {
            up: r(self.up),
            down: r(self.down),
            up3: r(self.up3),
            down3: r(self.down3),
            pu: r(self.pu),
            pd: r(self.pd),
            nu: r(self.nu),
            nd: r(self.nd),
            ab: r(self.ab),
            aa: r(self.aa),
            bu: r(self.bu),
            bd: r(self.bd),
            au: r(self.au),
            ad: r(self.ad),
        };
        for (i, o) in out.iter_mut().enumerate() {
            let x = i + EDGE;
            *o = rebuild(rows.taps(x, |r, dx| r[(x as isize + dx) as usize]));
        }
    }
}

/// Rows per task of a restoring pass. The denoiser's vertical recursion starts each task one
/// row early (that row filtered but not written), so tasks need not be tall; 32 rows keep
/// both cores busy on SD chroma.
const STRIPE: usize = 32;

/// How much a filtered value keeps against a new one: `(1 − |old − new| · fall)²`, floored at
/// 0 — 1 for equal values, a quarter at the strength (`fall = 1 / (2 · strength)`), nothing
/// past twice the strength. Arithmetic rather than a table so that whole rows vectorise.
#[inline(always)]
fn low_pass(old: f32, new: f32, fall: f32) -> f32 {
    let keep = (1.0 - (old - new).abs() * fall).max(0.0);
    new + (old - new) * (keep * keep)
}

/// The spatial and temporal `fall` of a denoiser of `strength` (see [`Denoise::new`]).
pub(crate) fn falls(strength: f64) -> (f32, f32) {
    (fall(strength * 2.0 / 3.0), fall(strength))
}

/// `1 / (2 · strength)`, or 0 for a strength of 0 (the filter off).
fn fall(strength: f64) -> f32 {
    if strength > 0.0 {
        (0.5 / strength.min(255.0)) as f32
    } else {
        0.0
    }
}

/// Edge-preserving spatial and motion-aware temporal denoising of one plane (hqdn3d class):
/// each pixel is pulled towards its two neighbours either side by weights that fall as they
/// differ from it, then smoothed with the row above (recursively, down the rows), then moves
/// from its filtered past towards that by a weight that falls as the difference grows; flat
/// and still areas are averaged while edges and motion pass. Every step is a straight pass
/// over a row, so each runs as vector code; values stay in `f32` between frames.
pub struct Denoise {
    spatial: f32,
    temporal: f32,
    state: Vec<f32>,
    /// Per task: the filtered row above (`width`), the row being filtered with two pixels of
    /// margin either side (`width + 4`).
    scratch: Vec<f32>,
    /// Per task: the row above its first, for the vertical recursion.
    above: Vec<u8>,
    width: usize,
    height: usize,
    primed: bool,
}

impl Denoise {
    /// `strength`: the temporal difference (0–255) still averaged at 25% (0: off); the spatial
    /// filter takes two thirds of it. `width`×`height` is the plane's size.
    pub fn new(strength: f64, width: usize, height: usize) -> Self {
        let (spatial, temporal) = falls(strength);
        let mut d = Denoise {
            spatial,
            temporal,
            state: Vec::new(),
            scratch: Vec::new(),
            above: Vec::new(),
            width: usize::MAX,
            height: 0,
            primed: false,
        };
        d.fit(width, height);
        d
    }

    /// Refits the buffers to a `width`x`height` plane, forgetting the past (nothing happens
    /// for the size it was made for).
    fn fit(&mut self, width: usize, height: usize) {
        if (self.width, self.height) != (width, height) {
            let tasks = height.div_ceil(STRIPE).max(1);
            self.state = vec![0.0; width * height];
            self.scratch = vec![0.0; (4 * width + 12) * tasks];
            self.above = vec![0; width * tasks];
            (self.width, self.height, self.primed) = (width, height, false);
        }
    }

    /// Forgets the past (a scene that does not follow from the last one).
    pub fn reset(&mut self) {
        self.primed = false;
    }

    /// Whether the filter changes anything (strength above 0).
    pub fn enabled(&self) -> bool {
        self.temporal > 0.0
    }
}

/// A straight-line map of pixel values, `v · gain + offset`, rounded and clamped to bytes:
/// levels and saturation repair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Linear {
    pub gain: f32,
    pub offset: f32,
}

impl Default for Linear {
    fn default() -> Self {
        Linear {
            gain: 1.0,
            offset: 0.0,
        }
    }
}

impl Linear {
    /// Luma `black`..`white` onto 16..235.
    pub fn levels(black: f64, white: f64) -> Self {
        let gain = 219.0 / (white - black).max(1.0);
        Linear {
            gain: gain as f32,
            offset: (16.0 - black * gain) as f32,
        }
    }

    /// Chroma scaled about 128 by `saturation`.
    pub fn saturation(saturation: f64) -> Self {
        Linear {
            gain: saturation as f32,
            offset: (128.0 * (1.0 - saturation)) as f32,
        }
    }

    pub(crate) fn is_identity(&self) -> bool {
        *self == Linear::default()
    }

    /// `values` mapped and rounded into `out`.
    #[inline(always)]
    fn apply(&self, out: &mut [u8], values: &[f32], scratch: &mut [f32]) {
        if self.is_identity() {
            quantize(out, values);
        } else {
            let n = values.len();
            let scratch = &mut scratch[..n];
            for x in 0..n {
                scratch[x] = values[x] * self.gain + self.offset;
            }
            quantize(out, scratch);
        }
    }
}

/// What the restoring pass does to each row besides taking and denoising it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Finish {
    /// Dropouts filled (interlaced sources).
    pub dropouts: Option<Dropouts>,
    /// Pixels to move the row right (negative: left), edges repeated.
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
    source: Source,
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

/// Chroma bleed reduction: a guided filter along each chroma row with the restored luma as its
/// guide (the local linear model of He, Sun and Tang's guided filter, along rows only, as tape
/// limits chroma bandwidth along the line). In each window of nine chroma pixels chroma is
/// fitted as `a · luma + b`: where luma has an edge the fitted chroma steps with it (the
/// smeared transition is sharpened back into place), where luma is flat the fit is the
/// window's mean (chroma noise is averaged). Window sums are sums of three three-pixel sums,
/// each stage one straight vectorised pass; the moments of the fit are exact integers.
pub struct Bleed {
    /// Regularisation in squared guide units: how strong a luma edge must be for chroma to
    /// follow it rather than be averaged.
    eps: f32,
    /// Per task: integer rows (guide and chroma padded by `RADIUS` either side, their three-
    /// sums and those of guide² and guide·chroma, the guide's window sums) and float rows (a
    /// and b padded, their three-sums).
    ints: Vec<i32>,
    floats: Vec<f32>,
    width: usize,
    height: usize,
    /// Luma pixels per chroma pixel, across and down.
    factor: (usize, usize),
}

/// Chroma pixels either side of the centre of the guided filter's window (nine wide: about
/// the chroma bandwidth of VHS on an SD line).
const RADIUS: usize = 4;
const WINDOW: usize = 2 * RADIUS + 1;

/// `out[i] = v[i] + v[i + 1] + v[i + 2]` for every `i` of `out` (`v` two longer).
#[inline(always)]
fn three_sums<T: Copy + std::ops::Add<Output = T>>(v: &[T], out: &mut [T]) {
    let n = out.len();
    let (a, b, c) = (&v[..n], &v[1..n + 1], &v[2..n + 2]);
    for i in 0..n {
        out[i] = a[i] + b[i] + c[i];
    }
}

/// Fills the `RADIUS` pixels before and after `row[RADIUS..RADIUS + w]` with its end pixels.
#[inline(always)]
fn pad<T: Copy>(row: &mut [T], w: usize) {
    let (first, last) = (row[RADIUS], row[RADIUS + w - 1]);
    row[..RADIUS].fill(first);
    row[RADIUS + w..].fill(last);
}

impl Bleed {
    /// For chroma planes of `width`x`height` whose pixels each cover `factor` luma pixels
    /// (across, down); `level`: the luma contrast (8-bit levels) a chroma transition must
    /// line up with to be kept sharp — chroma along flatter luma is averaged (0: off).
    pub fn new(level: f64, width: usize, height: usize, factor: (usize, usize)) -> Self {
        let factor = (factor.0.max(1), factor.1.max(1));
        let block = (factor.0 * factor.1).min(4) as f64;
        // Off: nothing to hold.
        let tasks = if level > 0.0 {
            height.div_ceil(STRIPE).max(1)
        } else {
            0
        };
        let padded = width + 2 * RADIUS;
        Bleed {
            eps: (level.max(0.0) * block).powi(2) as f32,
            ints: vec![0; tasks * Self::ints_per_task(width)],
            floats: vec![0.0; tasks * 4 * padded],
            width,
            height,
            factor,
        }
    }

    fn ints_per_task(width: usize) -> usize {
        7 * (width + 2 * RADIUS) + 2 * width
    }

    /// Whether the filter does anything.
    pub fn enabled(&self) -> bool {
        self.eps > 0.0 && self.width > 0 && self.height > 0
    }

    /// Filters the chroma planes `u` and `v` (rows `stride` apart, the size this was made
    /// for) guided by the restored `luma`.
    pub fn apply(&mut self, luma: Plane, u: &mut [u8], v: &mut [u8], stride: usize) {
        let (w, h) = (self.width, self.height);
        let (fx, fy) = self.factor;
        // More than four luma pixels per chroma pixel could overflow the sums: 4:1:0 and
        // rarer subsamplings are left alone.
        if !self.enabled() || luma.width == 0 || luma.height == 0 || fx * fy > 4 {
            return;
        }
        let len = stride * (h - 1) + w;
        if u.len() < len || v.len() < len {
            return;
        }
        let padded = w + 2 * RADIUS;
        let m = WINDOW as f32;
        let (reg, inv_m) = (m * m * self.eps, 1.0 / m);
        u[..len]
            .par_chunks_mut(stride * STRIPE)
            .zip(v[..len].par_chunks_mut(stride * STRIPE))
            .zip(self.ints.par_chunks_mut(Self::ints_per_task(w)))
            .zip(self.floats.par_chunks_mut(4 * padded))
            .enumerate()
            .for_each(|(task, (((us, vs), ints), floats))| {
                let (g, rest) = ints.split_at_mut(padded);
                let (p, rest) = rest.split_at_mut(padded);
                let (tg, rest) = rest.split_at_mut(padded);
                let (tgg, rest) = rest.split_at_mut(padded);
                let (tp, rest) = rest.split_at_mut(padded);
                let (tgp, rest) = rest.split_at_mut(padded);
                let (gp_row, rest) = rest.split_at_mut(padded);
                let (sg, sgg) = rest.split_at_mut(w);
                let sgg = &mut sgg[..w];
                let (a, rest) = floats.split_at_mut(padded);
                let (b, rest) = rest.split_at_mut(padded);
                let (ta, tb) = rest.split_at_mut(padded);
                let n = padded - 2;
                for (i, (ur, vr)) in us.chunks_mut(stride).zip(vs.chunks_mut(stride)).enumerate() {
                    let y = task * STRIPE + i;
                    // The guide: the sum of the luma pixels each chroma pixel covers (odd
                    // luma sizes: the last row or column repeated).
                    g.fill(0);
                    let whole = w.min(luma.width / fx);
                    for dy in 0..fy {
                        let row = luma.row((y * fy + dy).min(luma.height - 1));
                        let mid = &mut g[RADIUS..RADIUS + whole];
                        wide(
                            #[inline(always)]
                            || {
                                if fx == 2 {
                                    // Each pair read as one little-endian word: low byte
                                    // plus high byte, without shuffling bytes apart.
                                    for (d, pair) in mid.iter_mut().zip(row.chunks_exact(2)) {
                                        let v = u16::from_le_bytes([pair[0], pair[1]]) as i32;
                                        *d += (v & 0xff) + (v >> 8);
                                    }
                                } else {
                                    for (d, block) in mid.iter_mut().zip(row.chunks_exact(fx)) {
                                        *d += block.iter().map(|&l| l as i32).sum::<i32>();
                                    }
                                }
                            },
                        );
                        for x in whole..w {
                            for dx in 0..fx {
                                g[RADIUS + x] += row[(x * fx + dx).min(luma.width - 1)] as i32;
                            }
                        }
                    }
                    pad(g, w);
                    wide(
                        #[inline(always)]
                        || {
                            // Window sums of the guide and its square, shared by both planes.
                            for x in 0..padded {
                                gp_row[x] = g[x] * g[x];
                            }
                            three_sums(g, &mut tg[..n]);
                            three_sums(gp_row, &mut tgg[..n]);
                            let (t0, t1, t2) = (&tg[..w], &tg[3..w + 3], &tg[6..w + 6]);
                            let (s0, s1, s2) = (&tgg[..w], &tgg[3..w + 3], &tgg[6..w + 6]);
                            for x in 0..w {
                                sg[x] = t0[x] + t1[x] + t2[x];
                                sgg[x] = s0[x] + s1[x] + s2[x];
                            }
                        },
                    );
                    for row in [&mut ur[..w], &mut vr[..w]] {
                        for (d, &c) in p[RADIUS..RADIUS + w].iter_mut().zip(row.iter()) {
                            *d = c as i32;
                        }
                        pad(p, w);
                        wide(
                            #[inline(always)]
                            || {
                                for x in 0..padded {
                                    gp_row[x] = g[x] * p[x];
                                }
                                three_sums(p, &mut tp[..n]);
                                three_sums(gp_row, &mut tgp[..n]);
                                // The fit of each window (exact integer moments, then floats).
                                let (p0, p1, p2) = (&tp[..w], &tp[3..w + 3], &tp[6..w + 6]);
                                let (q0, q1, q2) = (&tgp[..w], &tgp[3..w + 3], &tgp[6..w + 6]);
                                let (fa, fb) =
                                    (&mut a[RADIUS..RADIUS + w], &mut b[RADIUS..RADIUS + w]);
                                let (sg, sgg) = (&sg[..w], &sgg[..w]);
                                for x in 0..w {
                                    let sp = p0[x] + p1[x] + p2[x];
                                    let sgp = q0[x] + q1[x] + q2[x];
                                    let cov = (WINDOW as i32 * sgp - sg[x] * sp) as f32;
                                    let var = (WINDOW as i32 * sgg[x] - sg[x] * sg[x]) as f32;
                                    let slope = cov / (var + reg);
                                    fa[x] = slope;
                                    fb[x] = (sp as f32 - slope * sg[x] as f32) * inv_m;
                                }
                            },
                        );
                        pad(a, w);
                        pad(b, w);
                        wide(
                            #[inline(always)]
                            || {
                                // The fits averaged over the windows that hold each pixel.
                                three_sums(a, &mut ta[..n]);
                                three_sums(b, &mut tb[..n]);
                                let (a0, a1, a2) = (&ta[..w], &ta[3..w + 3], &ta[6..w + 6]);
                                let (b0, b1, b2) = (&tb[..w], &tb[3..w + 3], &tb[6..w + 6]);
                                let guide = &g[RADIUS..RADIUS + w];
                                let out = &mut a[..w];
                                for x in 0..w {
                                    let ma = a0[x] + a1[x] + a2[x];
                                    let mb = b0[x] + b1[x] + b2[x];
                                    out[x] = (ma * guide[x] as f32 + mb) * inv_m;
                                }
                            },
                        );
                        quantize(row, &a[..w]);
                    }
                }
            });
    }
}

/// Moves a row `shift` pixels to the right (negative: left) in place, edges repeated. Analog
/// chroma trails luma by a few pixels; a negative shift pulls it back.
pub fn shift_row(row: &mut [u8], shift: i32) {
    let (w, s) = (row.len(), (shift.unsigned_abs() as usize).min(row.len()));
    if s == 0 {
        return;
    }
    if shift > 0 {
        let edge = row[0];
        row.copy_within(..w - s, s);
        row[..s].fill(edge);
    } else {
        let edge = row[w - 1];
        row.copy_within(s.., 0);
        row[w - s..].fill(edge);
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields of a still picture: every frame is `p`, the top field kept.
    fn still(p: Plane) -> Fields {
        Fields {
            cur: p,
            before: p,
            after: p,
            prev: p,
            next: p,
            keep: 0,
        }
    }

    #[test]
    fn a_still_picture_deinterlaces_to_itself() {
        let (w, h) = (64, 48);
        let img: Vec<u8> = (0..w * h).map(|i| ((i % w) + (i / w) * 2) as u8).collect();
        let p = Plane::tight(&img, w, h);
        let mut out = vec![0u8; w * h];
        let fields = still(p);
        deinterlace(fields, &mut out, w);
        // The last row has no kept row below it; everything else is exact.
        assert_eq!(
            out[..w * (h - 1)],
            img[..w * (h - 1)],
            "static: temporal prediction"
        );
    }

    #[test]
    fn denoise_averages_still_noise_and_passes_motion() {
        let (w, h) = (32, 32);
        let mut dn = Denoise::new(12.0, w, h);
        let mut var = 0.0;
        for t in 0..30u32 {
            let noisy: Vec<u8> = (0..w * h)
                .map(|i| (100 + ((i as u32 * 7919 + t * 104729) % 9) as i32 - 4) as u8)
                .collect();
            let mut out = vec![0u8; w * h];
            let source = Source::Copy(Plane::tight(&noisy, w, h));
            restore(source, &mut out, w, &mut dn, Finish::default());
            if t == 29 {
                var =
                    out.iter().map(|v| (*v as f64 - 100.0).powi(2)).sum::<f64>() / out.len() as f64;
            }
        }
        assert!(var < 2.0, "noise variance 6.7 in, {var} out");
        let mut jump = vec![0u8; w * h];
        let white = vec![200u8; w * h];
        let source = Source::Copy(Plane::tight(&white, w, h));
        restore(source, &mut jump, w, &mut dn, Finish::default());
        assert!(jump.iter().all(|&v| v > 190), "a big change passes");
    }

    #[test]
    fn shift_and_luts() {
        let mut row = vec![1u8, 2, 3, 4, 5];
        shift_row(&mut row, 2);
        assert_eq!(row, [1, 1, 1, 2, 3]);
        shift_row(&mut row, -1);
        assert_eq!(row, [1, 1, 2, 3, 3]);
        shift_row(&mut row, -9);
        assert_eq!(row, [3; 5]);
        let mut out = [0u8; 3];
        let mut scratch = [0f32; 3];
        Linear::levels(30.0, 200.0).apply(&mut out, &[30.0, 200.0, 250.0], &mut scratch);
        assert_eq!(out, [16, 235, 255]);
        Linear::saturation(0.0).apply(&mut out, &[200.0, 0.0, 128.0], &mut scratch);
        assert_eq!(out, [128; 3]);
    }

    #[test]
    fn the_vector_pass_rebuilds_pixels_as_the_reference_does() {
        // Rows of noise with runs and edges; the pass over the middle of a row (vector code,
        // AVX2 where the CPU has it) against the clamped per-pixel reference.
        let w = 203;
        let mut seed = 12345u32;
        let mut row = || -> Vec<u8> {
            (0..w)
                .map(|x| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    if x % 37 < 9 {
                        (x * 7) as u8
                    } else {
                        (seed >> 24) as u8
                    }
                })
                .collect()
        };
        let r: Vec<Vec<u8>> = (0..14).map(|_| row()).collect();
        let rows = Rows {
            up: &r[0],
            down: &r[1],
            up3: &r[2],
            down3: &r[3],
            pu: &r[4],
            pd: &r[5],
            nu: &r[6],
            nd: &r[7],
            ab: &r[8],
            aa: &r[9],
            bu: &r[10],
            bd: &r[11],
            au: &r[12],
            ad: &r[13],
        };
        let mut fast = vec![0u8; w - 2 * EDGE];
        wide(|| rows.inner(&mut fast));
        let reference: Vec<u8> = (EDGE..w - EDGE).map(|x| rows.pixel_clamped(x)).collect();
        assert_eq!(fast, reference);
    }

    #[test]
    fn dropouts_are_filled_and_picture_lines_kept() {
        let (w, h) = (96, 24);
        let mut img: Vec<u8> = (0..w * h).map(|i| (60 + (i % w) / 2) as u8).collect();
        // A dropout: 30 white pixels on row 10 (top field); a short one (5 px) on row 14;
        // a bright picture line two rows high (both fields) on rows 17-18.
        img[10 * w + 20..10 * w + 50].fill(250);
        img[14 * w + 40..14 * w + 45].fill(250);
        img[17 * w + 10..17 * w + 80].fill(240);
        img[18 * w + 10..18 * w + 80].fill(240);
        let p = Plane::tight(&img, w, h);
        let fields = still(p);
        let finish = Finish {
            dropouts: Some(Dropouts {
                threshold: 40,
                min_run: 8,
            }),
            ..Finish::default()
        };
        let mut out = vec![0u8; w * h];
        let mut off = Denoise::new(0.0, w, h);
        restore(Source::Fields(fields), &mut out, w, &mut off, finish);
        let row = |y: usize| &out[y * w..(y + 1) * w];
        assert!(
            row(10)[20..50].iter().all(|&v| v < 100),
            "filled: {:?}",
            row(10)
        );
        assert_eq!(row(14)[40..45], [250; 5], "shorter than min_run: kept");
        assert!(
            row(17)[10..80].iter().all(|&v| v == 240),
            "a picture line is kept"
        );
    }

    /// A 160x120 gradient with mild noise; `rows` bottom rows replaced by strong noise.
    fn picture_with_noisy_bottom(rows: usize) -> Vec<u8> {
        let (w, h) = (160, 120);
        let mut seed = 99u32;
        (0..w * h)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let (x, y) = (i % w, i / w);
                let amp = if y >= h - rows { 60 } else { 4 };
                (40 + x + y / 2) as i32 + (seed >> 24) as i32 % amp - amp / 2
            })
            .map(|v| v.clamp(0, 255) as u8)
            .collect()
    }

    #[test]
    fn head_switching_lines_are_found_and_texture_is_not_taken_for_them() {
        for (rows, want) in [(0, 0), (8, 8), (5, 5), (40, 0)] {
            let img = picture_with_noisy_bottom(rows);
            assert_eq!(
                head_switch_lines(Plane::tight(&img, 160, 120)),
                want,
                "{rows} noisy rows"
            );
        }
    }

    #[test]
    fn chroma_bleed_snaps_smeared_chroma_to_the_luma_edge_and_averages_flat_noise() {
        // Luma: a sharp step at chroma column 40 (luma column 80). Chroma: the step smeared
        // over 9 pixels (tape bandwidth) plus noise.
        let (cw, ch) = (96, 8);
        let (lw, lh) = (2 * cw, 2 * ch);
        let luma: Vec<u8> = (0..lw * lh)
            .map(|i| if i % lw < 80 { 60 } else { 180 })
            .collect();
        let truth = |x: usize| if x < 40 { 90.0 } else { 170.0 };
        let mut seed = 5u32;
        let mut smeared = |x: usize| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let t = ((x as f64 - 35.5) / 9.0).clamp(0.0, 1.0);
            (90.0 + 80.0 * t + (seed >> 29) as f64 - 3.5).round() as u8
        };
        let mut u: Vec<u8> = (0..cw * ch).map(|i| smeared(i % cw)).collect();
        let mut v = u.clone();
        let error = |c: &[u8]| {
            (0..cw * ch)
                .map(|i| (c[i] as f64 - truth(i % cw)).powi(2))
                .sum::<f64>()
                / (cw * ch) as f64
        };
        let before = error(&u);
        let step = |c: &[u8]| c[40] as i32 - c[39] as i32;
        let smeared_step = step(&u);
        let mut bleed = Bleed::new(10.0, cw, ch, (2, 2));
        bleed.apply(Plane::tight(&luma, lw, lh), &mut u, &mut v, cw);
        let after = error(&u);
        assert_eq!(u, v, "both planes filtered alike");
        assert!(
            step(&u) > 2 * smeared_step,
            "the transition steps at the luma edge: {smeared_step} -> {}",
            step(&u)
        );
        assert!(
            after * 1.6 < before,
            "squared error {before:.1} -> {after:.1}"
        );
        // Off: untouched.
        let mut off = u.clone();
        Bleed::new(0.0, cw, ch, (2, 2)).apply(Plane::tight(&luma, lw, lh), &mut off, &mut v, cw);
        assert_eq!(off, u);
    }

    #[test]
    fn luma_range_finds_the_levels() {
        let img: Vec<u8> = (0..64 * 64).map(|i| (30 + (i % 64) * 3) as u8).collect();
        let (black, white) = luma_range(Plane::tight(&img, 64, 64));
        assert!((30.0..=32.0).contains(&black) && (216.0..=219.0).contains(&white));
    }

    #[test]
    fn a_denoiser_made_for_another_size_still_gets_every_row_written() {
        let (w, h) = (40, 70);
        let img: Vec<u8> = (0..w * h).map(|i| (i % 251) as u8).collect();
        let mut out = vec![0u8; w * h];
        let mut dn = Denoise::new(0.0, 16, 8);
        restore(
            Source::Copy(Plane::tight(&img, w, h)),
            &mut out,
            w,
            &mut dn,
            Finish::default(),
        );
        assert_eq!(out, img);
    }
}
