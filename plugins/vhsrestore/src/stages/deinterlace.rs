//! Deinterlacing: the rows of the missing field rebuilt at the kept field's time, edge-directed
//! where the picture moves and woven where it is still.

use super::*;

/// The fields one deinterlaced plane is made from: the rows of parity `keep` (0: even rows,
/// the top field) of `cur` are kept; the others are rebuilt at the kept field's time. `T` is
/// where a frame's plane is: a [`Plane`] on the CPU, a frame slot on the GPU.
///
/// `before` and `after` are the frames whose rows of the missing parity lie half a field
/// before and after the kept field in time; `prev` and `next` the frames whose rows of the
/// kept parity lie one frame before and after (for the motion check). Top field first,
/// keeping the first field: (prev, cur, prev, next); keeping the second: (cur, next, prev,
/// next).
///
/// `shift` follows the camera (see [`super::GlobalMotion`]): `[half, full]` whole pixels the
/// content moved left over half a frame and over a frame (content at x now was at x + half in
/// `before`, x − half in `after`, x + full in `prev`, x − full in `next`), so that the temporal
/// check and the fields' own pixels are read where the content was. `[0, 0]`: where it is.
/// Shifts block by block (each 32x32 block's vector, as luma's temporal step follows) were
/// tried on the CPU path: on `make eval-vhs`'s six tuning models (a zoom and the sweeps among
/// them) every lead stayed within 0.03 dB and 0.0004 SSIM-Y, so the camera's shift it is.
#[derive(Clone, Copy, Debug)]
pub struct Fields<T> {
    pub cur: T,
    pub before: T,
    pub after: T,
    pub prev: T,
    pub next: T,
    pub keep: usize,
    pub shift: [i32; 2],
}

impl<'a> Fields<Plane<'a>> {
    /// Row `y` of the deinterlaced plane into `dst`: yadif-class motion adaptation, with a
    /// cubic vertical interpolation where no edge direction fits better, and bwdif's blend of
    /// the kept field's low frequencies with the other fields' high ones where those fields
    /// differ less in time than the rows around differ in space (fine detail, such as stars,
    /// that no edge direction describes).
    pub(super) fn row(&self, y: usize, dst: &mut [u8]) {
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
        let [dh, df] = f.shift.map(|s| s as isize);
        // The edge search reads three pixels either side, the other frames' pixels as far as the
        // motion.
        let margin = EDGE.max(dh.unsigned_abs()).max(df.unsigned_abs());
        // Planes padded that far (see `Padded`) are read past their rows' ends as they are:
        // every pixel of the row in one straight, vectorised pass.
        let padded = [f.cur, f.prev, f.next, f.before, f.after]
            .iter()
            .all(|p| p.pad >= margin);
        let row = |p: Plane<'a>, y: usize| if padded { p.reach(y, margin) } else { p.row(y) };
        let (up, down) = (row(f.cur, kept(-1)), row(f.cur, kept(1)));
        let (up3, down3) = (row(f.cur, kept(-3)), row(f.cur, kept(3)));
        let (pu, pd) = (row(f.prev, kept(-1)), row(f.prev, kept(1)));
        let (nu, nd) = (row(f.next, kept(-1)), row(f.next, kept(1)));
        let (ab, aa) = (row(f.before, y), row(f.after, y));
        let (bu, bd) = (row(f.before, missing(-2)), row(f.before, missing(2)));
        let (au, ad) = (row(f.after, missing(-2)), row(f.after, missing(2)));
        let (bu4, bd4) = (row(f.before, missing(-4)), row(f.before, missing(4)));
        let (au4, ad4) = (row(f.after, missing(-4)), row(f.after, missing(4)));
        let rows = Rows::new(
            (dh, df),
            [up, down, up3, down3],
            [pu, pd, nu, nd, ab, aa, bu, bd, au, ad, bu4, bd4, au4, ad4],
        );
        if padded {
            widest(
                #[inline(always)]
                || rows.inner(margin, dst),
            );
            return;
        }
        // Unpadded: the middle runs as one straight pass; next to it, as far as the motion
        // reaches past the row, the other frames' pixels are copied into windows for the same
        // pass; the three pixels at each end clamp.
        if w <= 2 * margin || margin > EDGE + ENDS {
            for (x, d) in dst.iter_mut().enumerate() {
                *d = rows.pixel_clamped(x);
            }
            return;
        }
        for x in (0..EDGE).chain(w - EDGE..w) {
            dst[x] = rows.pixel_clamped(x);
        }
        widest(
            #[inline(always)]
            || {
                rows.inner(margin, &mut dst[margin..w - margin]);
                if margin > EDGE {
                    rows.end(EDGE, &mut dst[EDGE..margin]);
                    rows.end(w - margin, &mut dst[w - margin..w - EDGE]);
                }
            },
        );
    }
}

/// Deinterlaces one plane into `out` (rows `out_stride` apart) and nothing else.
pub fn deinterlace(fields: Fields<Plane>, out: &mut [u8], out_stride: usize) {
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
/// after (`ab`, `aa`) and the missing rows two and four above and below in them (`bu`, `bd`,
/// `au`, `ad`; `bu4`, `bd4`, `au4`, `ad4`).
struct Rows<'a> {
    /// Whole pixels the content moved over half a frame and a frame (see [`Fields`]).
    dh: isize,
    df: isize,
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
    bu4: &'a [u8],
    bd4: &'a [u8],
    au4: &'a [u8],
    ad4: &'a [u8],
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
    bu4: i16,
    bd4: i16,
    au4: i16,
    ad4: i16,
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
    // Where the rows differ more than the missing row does in time, the picture's vertical
    // detail is trusted to the fields around it (bwdif's rule): the kept field's low
    // frequencies and the other fields' high ones.
    // 128 x (the other fields' high frequencies + the kept field's low ones, less 64 (c + e)),
    // then (c + e) added back halved: exactly bwdif's weights (in 128ths) within i16.
    let hf =
        22 * (t.ab + t.aa) - 15 * (t.bu + t.au + t.bd + t.ad) + 4 * (t.bu4 + t.au4 + t.bd4 + t.ad4);
    let lf = 3 * (c + e - t.up3 - t.down3);
    let w3 = (c + e + ((hf + lf + 64) >> 6)) >> 1;
    pred = if absdiff(c, e) > t0 { w3 } else { pred };
    let b = (t.bu + t.au) >> 1;
    let f = (t.bd + t.ad) >> 1;
    let hi = (d - e).max(d - c).max((b - c).min(f - e));
    let lo = (d - e).min(d - c).min((b - c).max(f - e));
    diff = diff.max(lo).max(-hi);
    pred.clamp(d - diff, d + diff).clamp(0, 255) as u8
}

impl<'a> Rows<'a> {
    /// The taps at `x`: the kept rows' horizontal neighbours read through `at`, the other
    /// frames' pixels at `x` moved by their offset through `moved` (either may clamp).
    #[inline(always)]
    fn taps(
        &self,
        x: usize,
        at: impl Fn(&[u8], isize) -> u8,
        moved: impl Fn(&[u8], isize) -> u8,
    ) -> Taps {
        let v = |r: &[u8]| r[x] as i16;
        let (dh, df) = (self.dh, self.df);
        let m = |r: &[u8], d: isize| moved(r, d) as i16;
        Taps {
            c: v(self.up),
            e: v(self.down),
            up3: v(self.up3),
            down3: v(self.down3),
            pu: m(self.pu, df),
            pd: m(self.pd, df),
            nu: m(self.nu, -df),
            nd: m(self.nd, -df),
            ab: m(self.ab, dh),
            aa: m(self.aa, -dh),
            bu: m(self.bu, dh),
            bd: m(self.bd, dh),
            au: m(self.au, -dh),
            ad: m(self.ad, -dh),
            bu4: m(self.bu4, dh),
            bd4: m(self.bd4, dh),
            au4: m(self.au4, -dh),
            ad4: m(self.ad4, -dh),
            up: std::array::from_fn(|k| at(self.up, k as isize - 3) as i16),
            down: std::array::from_fn(|k| at(self.down, k as isize - 3) as i16),
        }
    }

    /// The pixel at `x` with pixels past the row's ends repeated.
    fn pixel_clamped(&self, x: usize) -> u8 {
        let w = self.up.len() as isize;
        let at = |r: &[u8], dx: isize| r[(x as isize + dx).clamp(0, w - 1) as usize];
        rebuild(self.taps(x, at, at))
    }

    /// The rows of a missing row: the kept rows `[up, down, up3, down3]`, the other frames'
    /// in the order [`Rows::moved`] gives them, and the motion's whole pixels `(dh, df)`.
    fn new((dh, df): (isize, isize), kept: [&'a [u8]; 4], moved: [&'a [u8]; 14]) -> Self {
        let [up, down, up3, down3] = kept;
        let [pu, pd, nu, nd, ab, aa, bu, bd, au, ad, bu4, bd4, au4, ad4] = moved;
        Rows {
            dh,
            df,
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
            bu4,
            bd4,
            au4,
            ad4,
        }
    }

    /// The other frames' rows (in the order [`Rows::new`] takes them) and the offset each is
    /// read at.
    fn moved(&self) -> [(&'a [u8], isize); 14] {
        let (dh, df) = (self.dh, self.df);
        [
            (self.pu, df),
            (self.pd, df),
            (self.nu, -df),
            (self.nd, -df),
            (self.ab, dh),
            (self.aa, -dh),
            (self.bu, dh),
            (self.bd, dh),
            (self.au, -dh),
            (self.ad, -dh),
            (self.bu4, dh),
            (self.bd4, dh),
            (self.au4, -dh),
            (self.ad4, -dh),
        ]
    }

    /// Pixels `start..start + out.len()`, where the kept rows' neighbours are inside the row
    /// (`EDGE <= start`, `start + out.len() + EDGE <= width`): the other frames' pixels are read
    /// from `moved`, each the values its row gives pixels `start..` at its offset.
    #[inline(always)]
    fn pass(&self, start: usize, moved: [&[u8]; 14], out: &mut [u8]) {
        let n = out.len();
        // Views from where pixel `start` reads each row (the kept rows three pixels left of
        // it), so that pixel i reads each at a fixed place past i: straight passes without
        // bounds checks.
        let kept = |s: &'a [u8]| -> &'a [u8] { &s[start - EDGE..][..n + 2 * EDGE] };
        let rows = Rows::new(
            (0, 0),
            [self.up, self.down, self.up3, self.down3].map(kept),
            moved.map(|m| &m[..n]),
        );
        for (i, o) in out.iter_mut().enumerate() {
            let x = i + EDGE;
            *o = rebuild(rows.taps(x, |r, dx| r[(x as isize + dx) as usize], |r, _| r[i]));
        }
    }

    /// Pixels `start..start + out.len()`, where every pixel read is inside its row.
    #[inline(always)]
    fn inner(&self, start: usize, out: &mut [u8]) {
        let n = out.len();
        let moved = self
            .moved()
            .map(|(r, d)| &r[(start as isize + d) as usize..][..n]);
        self.pass(start, moved, out);
    }

    /// Pixels `start..start + out.len()` (at most [`ENDS`]), where the kept rows' neighbours are
    /// inside the row but the other frames' pixels may lie past its ends: those repeat the end
    /// pixel, as `pixel_clamped` reads them, copied into windows first so the pass stays
    /// straight.
    #[inline(always)]
    fn end(&self, start: usize, out: &mut [u8]) {
        let n = out.len().min(ENDS);
        let mut windows = [[0u8; ENDS]; 14];
        for (win, (r, d)) in windows.iter_mut().zip(self.moved()) {
            // Pixel i reads r[start + d + i]: the end pixel repeated before the row and after
            // it, the row itself between.
            let (from, len) = (start as isize + d, r.len() as isize);
            let before = (-from).clamp(0, n as isize) as usize;
            let inside = (len - from).clamp(before as isize, n as isize) as usize;
            win[..before].fill(r[0]);
            if inside > before {
                let at = (from + before as isize) as usize;
                win[before..inside].copy_from_slice(&r[at..at + inside - before]);
            }
            win[inside..n].fill(r[r.len() - 1]);
        }
        let moved: [&[u8]; 14] = std::array::from_fn(|k| &windows[k][..n]);
        self.pass(start, moved, &mut out[..n]);
    }
}

/// The most pixels at one end of a row whose other-frame reads may lie past the row: a
/// motion's whole pixels over a frame (at most the global search's range).
const ENDS: usize = 64;

/// The padding (see `Padded`) with which a plane is read in one straight pass along any motion
/// the global search finds.
pub const PAD: usize = EDGE + ENDS;

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` bytes of noise from `seed`, with runs: where `i % period < run`, the ramp `i · step`
    /// (flat stretches and edges among the noise).
    fn noise_with_runs(
        n: usize,
        seed: &mut u32,
        (period, run, step): (usize, usize, usize),
    ) -> Vec<u8> {
        (0..n)
            .map(|i| {
                *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                if i % period < run {
                    (i * step) as u8
                } else {
                    (*seed >> 24) as u8
                }
            })
            .collect()
    }

    #[test]
    fn the_vector_pass_rebuilds_pixels_as_the_reference_does() {
        // Rows of noise with runs and edges; the pass over the middle of a row (vector code,
        // AVX-512 or AVX2 where the CPU has it) against the clamped per-pixel reference.
        let w = 203;
        let mut seed = 12345u32;
        let r: Vec<Vec<u8>> = (0..18)
            .map(|_| noise_with_runs(w, &mut seed, (37, 9, 7)))
            .collect();
        let rows = Rows {
            dh: 0,
            df: 0,
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
            bu4: &r[14],
            bd4: &r[15],
            au4: &r[16],
            ad4: &r[17],
        };
        let mut fast = vec![0u8; w - 2 * EDGE];
        widest(|| rows.inner(EDGE, &mut fast));
        let reference: Vec<u8> = (EDGE..w - EDGE).map(|x| rows.pixel_clamped(x)).collect();
        assert_eq!(fast, reference);
        // The other frames read along a motion: 3 and 7 pixels.
        let moved = Rows {
            dh: 3,
            df: -7,
            ..rows
        };
        let margin = 7;
        let mut fast = vec![0u8; w - 2 * margin];
        widest(|| moved.inner(margin, &mut fast));
        let reference: Vec<u8> = (margin..w - margin)
            .map(|x| moved.pixel_clamped(x))
            .collect();
        assert_eq!(fast, reference, "along a motion");
        // Beside it, where the other frames' pixels lie past the row's ends.
        for start in [EDGE, w - margin] {
            let mut ends = vec![0u8; margin - EDGE];
            widest(|| moved.end(start, &mut ends));
            let reference: Vec<u8> = (start..start + margin - EDGE)
                .map(|x| moved.pixel_clamped(x))
                .collect();
            assert_eq!(ends, reference, "the pixels from {start} along a motion");
        }
    }

    #[test]
    fn padded_planes_deinterlace_as_the_planes_do() {
        // Three frames of noise with runs; deinterlaced along motions up to the search's
        // farthest, from the planes and from padded copies (one straight pass per row).
        let (w, h) = (203, 24);
        let mut seed = 777u32;
        let frames: Vec<Vec<u8>> = (0..3)
            .map(|_| noise_with_runs(w * h, &mut seed, (29, 7, 5)))
            .collect();
        let copies: Vec<Padded> = frames
            .iter()
            .map(|f| {
                let mut c = Padded::default();
                c.fill(Plane::tight(f, w, h), PAD);
                c
            })
            .collect();
        fn fields(p: [Plane; 3], shift: [i32; 2], keep: usize) -> Fields<Plane> {
            Fields {
                cur: p[1],
                before: p[0],
                after: p[1],
                prev: p[0],
                next: p[2],
                keep,
                shift,
            }
        }
        let plain = [0, 1, 2].map(|k| Plane::tight(&frames[k], w, h));
        let padded = [0, 1, 2].map(|k| copies[k].plane());
        for shift in [[0, 0], [2, 5], [-4, -9], [16, 32], [-32, -64]] {
            for keep in [0, 1] {
                let (mut a, mut b) = (vec![0u8; w * h], vec![0u8; w * h]);
                deinterlace(fields(plain, shift, keep), &mut a, w);
                deinterlace(fields(padded, shift, keep), &mut b, w);
                assert_eq!(a, b, "shift {shift:?}, keeping parity {keep}");
            }
        }
    }
}
