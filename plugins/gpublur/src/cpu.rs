//! The CPU path: the same passes as the shaders, in f32, over a frame in place, with scratch
//! allocated once per caps.

use crate::kernel::MAX_RADIUS;
use crate::planar::{self, Frame, PackedFrame, YuvLayout};
use crate::regions::{bands, coverage, Blur, BlurOp, MaskRegion, MaskShape};

#[inline]
fn load(data: &[u8], i: usize) -> [f32; 4] {
    [
        data[i] as f32,
        data[i + 1] as f32,
        data[i + 2] as f32,
        data[i + 3] as f32,
    ]
}

#[inline]
fn store(data: &mut [u8], i: usize, v: [f32; 4]) {
    for c in 0..4 {
        // floor(v + 0.5) clamped to 0..=255, as the shaders round; truncation equals floor on
        // the clamped, non-negative value and needs no libm call.
        data[i + c] = (v[c] + 0.5).clamp(0.0, 255.0) as u8;
    }
}

/// [`store`] over a whole row (`out` is `pixels.len() * 4` bytes).
#[inline]
fn store_row(out: &mut [u8], pixels: &[[f32; 4]]) {
    mediaai_common::pixels::quantize(out, pixels.as_flattened());
}

/// Writes `effect` at `(x, y)` of region `ri`, blended over the original pixel by the feathered
/// coverage. A pixel inside several masks is written once, by the first region holding it, so
/// the original is still there to blend with (the shaders get the same by writing a copy).
#[inline]
#[allow(clippy::too_many_arguments)]
fn write_px(
    f: &mut PackedFrame,
    regions: &[MaskRegion],
    ri: usize,
    shape: MaskShape,
    feather: f32,
    x: i32,
    y: i32,
    effect: [f32; 4],
) {
    if regions[..ri].iter().any(|r| r.contains(shape, x, y)) {
        return;
    }
    let i = y as usize * f.stride + x as usize * 4;
    let a = coverage(regions, shape, feather, x, y);
    if a >= 1.0 {
        store(f.data, i, effect);
    } else {
        let src = load(f.data, i);
        store(
            f.data,
            i,
            std::array::from_fn(|c| src[c] + (effect[c] - src[c]) * a),
        );
    }
}

#[inline]
fn mul_add(acc: &mut [f32; 4], a: [f32; 4], b: [f32; 4], w: f32) {
    for c in 0..4 {
        acc[c] += (a[c] + b[c]) * w;
    }
}

/// Scratch pixels for one frame size: the frame, or three block grids at the finest pyramid
/// factor (2), whichever is larger. The GPU path sizes its scratch buffer the same way.
pub fn scratch_len(width: u32, height: u32) -> usize {
    let frame = width as usize * height as usize;
    let grids = 3 * width.div_ceil(2) as usize * height.div_ceil(2) as usize;
    frame.max(grids)
}

/// What the pyramid does to its block grid.
#[derive(Clone, Copy)]
enum GridFilter<'a> {
    /// Separable gaussian, half kernel.
    Gaussian(&'a [f32]),
    /// Mean over a disc of this radius in blocks.
    Disc(f32),
}

/// A read-only view of a packed frame, shareable between threads.
struct FrameView<'a> {
    data: &'a [u8],
    stride: usize,
    width: u32,
    height: u32,
}

impl PackedFrame<'_> {
    /// The frame read-only, to share between threads.
    fn view(&self) -> FrameView<'_> {
        FrameView {
            data: self.data,
            stride: self.stride,
            width: self.width,
            height: self.height,
        }
    }
}

/// Means of the blocks `rows`×`cols` (side `factor`) into `out`, whose first element is block
/// (`cols`' row 0, `rows.start`) of a grid `grid_w` blocks wide.
fn average_blocks(
    f: &FrameView,
    factor: u32,
    rows: std::ops::Range<u32>,
    cols: std::ops::Range<u32>,
    grid_w: usize,
    out: &mut [[f32; 4]],
) {
    for by in rows.clone() {
        for bx in cols.clone() {
            let (x0, y0) = (bx * factor, by * factor);
            let (x_end, y_end) = ((x0 + factor).min(f.width), (y0 + factor).min(f.height));
            // Whole-number sums: exact, so equal to the shader's f32 sums (below 2^24).
            let mut acc = [0u32; 4];
            for y in y0..y_end {
                let at = y as usize * f.stride;
                let row = &f.data[at + x0 as usize * 4..at + x_end as usize * 4];
                for p in row.chunks_exact(4) {
                    for c in 0..4 {
                        acc[c] += p[c] as u32;
                    }
                }
            }
            let n = ((x_end - x0) * (y_end - y0)) as f32;
            out[(by - rows.start) as usize * grid_w + bx as usize] = acc.map(|v| v as f32 / n);
        }
    }
}

/// Where one output column samples the block grid: the two block columns (clamped to the
/// grid) and the weight of the second.
#[derive(Debug, Clone, Copy, Default)]
struct ColumnTap {
    b0: u32,
    b1: u32,
    weight: f32,
}

/// Bilinear sampling of the blurred block grid back at full resolution (the shaders'
/// `gpublur_pyramid_up`, same arithmetic).
struct Upsampler<'a> {
    grid: &'a [[f32; 4]],
    grid_w: u32,
    grid_h: u32,
    factor: f32,
}

#[inline]
fn lerp(a: [f32; 4], b: [f32; 4], t: f32) -> [f32; 4] {
    std::array::from_fn(|c| a[c] + (b[c] - a[c]) * t)
}

impl Upsampler<'_> {
    fn column_tap(&self, x: i32) -> ColumnTap {
        let u = (x as f32 + 0.5) / self.factor - 0.5;
        let u0 = u.floor();
        let last = self.grid_w as i32 - 1;
        ColumnTap {
            b0: (u0 as i32).clamp(0, last) as u32,
            b1: (u0 as i32 + 1).clamp(0, last) as u32,
            weight: u - u0,
        }
    }

    /// Grid row `y` of the output sampled vertically: for block columns `cols`, the rows above
    /// and below pixel row `y` blended by its position between them, into `out[cols]`.
    #[inline]
    fn blend_rows(&self, y: i32, cols: std::ops::Range<usize>, out: &mut [[f32; 4]]) {
        let v = (y as f32 + 0.5) / self.factor - 0.5;
        let v0 = v.floor();
        let fv = v - v0;
        let w = self.grid_w as usize;
        let last = self.grid_h as i32 - 1;
        let row = |b: i32| b.clamp(0, last) as usize * w;
        let (above, below) = (row(v0 as i32), row(v0 as i32 + 1));
        let above = &self.grid[above + cols.start..above + cols.end];
        let below = &self.grid[below + cols.start..below + cols.end];
        for ((o, a), b) in out[cols].iter_mut().zip(above).zip(below) {
            *o = lerp(*a, *b, fv);
        }
    }

    /// The block columns `taps` read.
    fn columns(taps: &[ColumnTap]) -> std::ops::Range<usize> {
        match (taps.first(), taps.last()) {
            (Some(a), Some(b)) => a.b0 as usize..b.b1 as usize + 1,
            _ => 0..0,
        }
    }

    /// The pixel of column `tap` from a row made by [`Self::blend_rows`].
    #[inline]
    fn sample(tap: &ColumnTap, row: &[[f32; 4]]) -> [f32; 4] {
        lerp(row[tap.b0 as usize], row[tap.b1 as usize], tap.weight)
    }

    /// Writes rows `ys` (the first of them at the start of `data`) from column `x0` on;
    /// `row` holds one blended grid row and then one row of output pixels.
    fn write_rows(
        &self,
        data: &mut [u8],
        stride: usize,
        x0: usize,
        ys: std::ops::Range<i32>,
        taps: &[ColumnTap],
        row: &mut [[f32; 4]],
    ) {
        let y_start = ys.start;
        let cols = Self::columns(taps);
        let (row, pixels) = row.split_at_mut(self.grid_w as usize);
        let pixels = &mut pixels[..taps.len()];
        for y in ys {
            let at = (y - y_start) as usize * stride + x0 * 4;
            self.blend_rows(y, cols.clone(), row);
            for (p, tap) in pixels.iter_mut().zip(taps) {
                *p = Self::sample(tap, row);
            }
            store_row(&mut data[at..at + taps.len() * 4], pixels);
        }
    }
}

/// One row of the grid's horizontal gaussian: `out[j]` is block column `x0 + j` of `row`
/// filtered (edges repeated), in the shaders' order of summation.
fn grid_row_h(row: &[[f32; 4]], out: &mut [[f32; 4]], x0: usize, weights: &[f32]) {
    let last = row.len() as isize - 1;
    let at = |x: isize| row[x.clamp(0, last) as usize];
    for (j, o) in out.iter_mut().enumerate() {
        let x = (x0 + j) as isize;
        let mut acc = at(x).map(|v| v * weights[0]);
        for (k, &wk) in weights.iter().enumerate().skip(1) {
            mul_add(&mut acc, at(x - k as isize), at(x + k as isize), wk);
        }
        *o = acc;
    }
}

/// Block row `by`, columns `cols`, of the grid's vertical gaussian over `grid` (`bw`×`gh`),
/// into `out`.
fn grid_row_v(
    grid: &[[f32; 4]],
    bw: usize,
    gh: usize,
    by: usize,
    cols: std::ops::Range<usize>,
    out: &mut [[f32; 4]],
    weights: &[f32],
) {
    let row = |y: isize| {
        let y = y.clamp(0, gh as isize - 1) as usize;
        &grid[y * bw + cols.start..y * bw + cols.end]
    };
    let y = by as isize;
    for (o, c) in out.iter_mut().zip(row(y)) {
        *o = c.map(|v| v * weights[0]);
    }
    for (k, &wk) in weights.iter().enumerate().skip(1) {
        let (above, below) = (row(y - k as isize), row(y + k as isize));
        for ((o, a), b) in out.iter_mut().zip(above).zip(below) {
            mul_add(o, *a, *b, wk);
        }
    }
}

/// Scratch for one frame size.
pub struct CpuBlur {
    width: u32,
    height: u32,
    scratch: Vec<[f32; 4]>,
    /// One padded source row of the horizontal pass.
    line: Vec<[f32; 4]>,
    /// One output row of the vertical pass.
    acc: Vec<[f32; 4]>,
    /// The pyramid's last pass, per thread: a blended grid row and a row of output pixels.
    up_rows: Vec<[f32; 4]>,
    /// Grid columns of each output column of the pyramid's last pass.
    column_taps: Vec<ColumnTap>,
    /// YUV frames only: the packed pixels the passes work on.
    packed: Vec<u8>,
    /// The packed pixel the solid mode paints.
    black: [u8; 4],
}

impl CpuBlur {
    pub fn new(width: u32, height: u32) -> Self {
        CpuBlur {
            width,
            height,
            scratch: vec![[0.0; 4]; scratch_len(width, height)],
            line: Vec::with_capacity(width as usize + 2 * MAX_RADIUS as usize),
            acc: vec![[0.0; 4]; width as usize],
            up_rows: vec![[0.0; 4]; 2 * (width.div_ceil(2) + width) as usize],
            column_taps: Vec::with_capacity(width as usize),
            packed: Vec::new(),
            black: [0; 4],
        }
    }

    /// Scratch for YUV 4:2:0 frames of `layout` (see [`Self::process`]).
    pub fn new_yuv(layout: &YuvLayout) -> Self {
        let mut blur = Self::new(layout.width, layout.height);
        blur.packed = vec![0; layout.width as usize * layout.height as usize * 4];
        blur
    }

    /// The packed pixel the solid mode paints (its alpha byte is kept from the frame).
    pub fn set_black(&mut self, black: [u8; 4]) {
        self.black = black;
    }

    /// Applies the job's op inside every region's mask; pixels outside all masks are not
    /// written. A YUV frame's rows that the masks read are unpacked
    /// into packed pixels (scratch from [`Self::new_yuv`]), blurred, and the rows they write
    /// packed back.
    pub fn process(&mut self, frame: &mut Frame, job: &Blur) {
        let (data, layout) = match frame {
            Frame::Packed(f) => return self.process_packed(f, job),
            Frame::Yuv { data, layout } => (&mut **data, &*layout),
        };
        assert!(
            self.packed.len() == layout.width as usize * layout.height as usize * 4,
            "YUV scratch is made per caps by new_yuv"
        );
        let Some(b) = bands(job.regions, job.op, layout.height) else {
            return;
        };
        let mut packed = std::mem::take(&mut self.packed);
        planar::unpack_rows(layout, data, b.read, &mut packed);
        let mut f = PackedFrame {
            data: &mut packed,
            stride: layout.width as usize * 4,
            width: layout.width,
            height: layout.height,
        };
        self.process_packed(&mut f, job);
        planar::pack_rows(layout, &packed, b.write, data);
        self.packed = packed;
    }

    fn process_packed(&mut self, frame: &mut PackedFrame, job: &Blur) {
        let Blur {
            regions,
            shape,
            op,
            weights,
            alpha_index,
            feather,
            ..
        } = *job;
        assert!(
            frame.width == self.width && frame.height == self.height,
            "scratch is rebuilt on every caps change"
        );
        match op {
            BlurOp::Gaussian { radius } => {
                self.gaussian(frame, regions, shape, radius, weights, feather)
            }
            BlurOp::Mosaic { block } => self.mosaic(frame, regions, shape, block.max(1), feather),
            BlurOp::Solid => solid(frame, regions, shape, alpha_index, self.black, feather),
            BlurOp::Pyramid { factor, radius } => {
                let filter = GridFilter::Gaussian(&weights[..=radius as usize]);
                self.pyramid(frame, regions, shape, factor.max(2), filter, feather)
            }
            BlurOp::Bokeh { factor, disc } => {
                let filter = GridFilter::Disc(disc);
                self.pyramid(frame, regions, shape, factor.max(2), filter, feather)
            }
        }
    }

    fn gaussian(
        &mut self,
        f: &mut PackedFrame,
        regions: &[MaskRegion],
        shape: MaskShape,
        radius: u32,
        weights: &[f32],
        feather: f32,
    ) {
        let (w, h, stride) = (f.width as usize, f.height as usize, f.stride);
        let r = radius as usize;
        let w0 = weights[0];
        let centre = |c: [f32; 4]| [c[0] * w0, c[1] * w0, c[2] * w0, c[3] * w0];
        // All horizontal passes read the untouched frame before any vertical pass writes it,
        // exactly like the two GPU dispatches; each pixel sums its taps in the shaders' order.
        for reg in regions {
            let (x0, x1) = (reg.bbox[0] as usize, reg.bbox[2] as usize);
            let y_start = (reg.bbox[1] as usize).saturating_sub(r);
            let y_end = (reg.bbox[3] as usize + r).min(h);
            for y in y_start..y_end {
                // The row's pixels x0-r .. x1+r (edges repeated) once in f32, so the taps
                // below run over contiguous memory.
                let src = &f.data[y * stride..];
                self.line.clear();
                self.line.extend((0..x1 - x0 + 2 * r).map(|i| {
                    let x = (x0 + i).saturating_sub(r).min(w - 1);
                    load(src, x * 4)
                }));
                let out = &mut self.scratch[y * w + x0..y * w + x1];
                for (j, o) in out.iter_mut().enumerate() {
                    let c = j + r;
                    let mut acc = centre(self.line[c]);
                    for (k, &wk) in weights.iter().enumerate().skip(1) {
                        mul_add(&mut acc, self.line[c - k], self.line[c + k], wk);
                    }
                    *o = acc;
                }
            }
        }
        for (ri, reg) in regions.iter().enumerate() {
            let (x0, x1) = (reg.bbox[0] as usize, reg.bbox[2] as usize);
            for y in reg.bbox[1] as usize..reg.bbox[3] as usize {
                // Whole rows at a time: every tap is one contiguous row of the scratch.
                let acc = &mut self.acc[..x1 - x0];
                for (a, c) in acc.iter_mut().zip(&self.scratch[y * w + x0..y * w + x1]) {
                    *a = centre(*c);
                }
                for (k, &wk) in weights.iter().enumerate().skip(1) {
                    let (ya, yb) = (y.saturating_sub(k), (y + k).min(h - 1));
                    let above = &self.scratch[ya * w + x0..ya * w + x1];
                    let below = &self.scratch[yb * w + x0..yb * w + x1];
                    for ((a, p), q) in acc.iter_mut().zip(above).zip(below) {
                        mul_add(a, *p, *q, wk);
                    }
                }
                for (j, a) in acc.iter().enumerate() {
                    let (x, y) = ((x0 + j) as i32, y as i32);
                    if reg.contains(shape, x, y) {
                        write_px(f, regions, ri, shape, feather, x, y, *a);
                    }
                }
            }
        }
    }

    /// Separable gaussian over the block grid: tmp[0..nb) into tmp[2nb..3nb) through tmp[nb..2nb).
    /// `parallel`: one region, whose rows are split over the thread pool.
    fn grid_gaussian(
        &mut self,
        regions: &[MaskRegion],
        factor: u32,
        (gw, gh): (u32, u32),
        e: i32,
        weights: &[f32],
        parallel: bool,
    ) {
        use rayon::prelude::*;
        let (bw, nb) = (gw as usize, gw as usize * gh as usize);
        let (src, rest) = self.scratch.split_at_mut(nb);
        let (mid, out) = rest.split_at_mut(nb);
        let (src, out) = (&*src, &mut out[..nb]);
        // Horizontal: rows of src into mid; vertical: columns of mid into out.
        for reg in regions {
            let cols = reg.block_range(factor, 1, gw, gh);
            let rows = reg.block_range(factor, e, gw, gh);
            let (c, rows) = (
                cols[0] as usize..cols[2] as usize,
                rows[1] as usize..rows[3] as usize,
            );
            let dst = &mut mid[rows.start * bw..rows.end * bw];
            let row = |(i, d): (usize, &mut [[f32; 4]])| {
                let by = rows.start + i;
                grid_row_h(
                    &src[by * bw..(by + 1) * bw],
                    &mut d[c.clone()],
                    c.start,
                    weights,
                )
            };
            if parallel {
                dst.par_chunks_mut(bw).enumerate().for_each(row);
            } else {
                dst.chunks_mut(bw).enumerate().for_each(row);
            }
        }
        let mid = &*mid;
        for reg in regions {
            let r = reg.block_range(factor, 1, gw, gh);
            let (c, rows) = (r[0] as usize..r[2] as usize, r[1] as usize..r[3] as usize);
            let dst = &mut out[rows.start * bw..rows.end * bw];
            let row = |(i, d): (usize, &mut [[f32; 4]])| {
                let by = rows.start + i;
                grid_row_v(
                    mid,
                    bw,
                    gh as usize,
                    by,
                    c.clone(),
                    &mut d[c.clone()],
                    weights,
                )
            };
            if parallel {
                dst.par_chunks_mut(bw).enumerate().for_each(row);
            } else {
                dst.chunks_mut(bw).enumerate().for_each(row);
            }
        }
    }

    /// Disc mean over the block grid: tmp[0..nb) into tmp[2nb..3nb).
    fn grid_disc(&mut self, regions: &[MaskRegion], factor: u32, (gw, gh): (u32, u32), disc: f32) {
        let (bw, nb) = (gw as usize, gw as usize * gh as usize);
        let reach = disc.ceil() as i32;
        let disc2 = disc * disc;
        for reg in regions {
            let r = reg.block_range(factor, 1, gw, gh);
            for by in r[1]..r[3] {
                for bx in r[0]..r[2] {
                    let mut acc = [0.0f32; 4];
                    let mut n = 0.0f32;
                    for dy in -reach..=reach {
                        let y = (by + dy).clamp(0, gh as i32 - 1) as usize * bw;
                        for dx in -reach..=reach {
                            if ((dx * dx + dy * dy) as f32) <= disc2 {
                                let p =
                                    self.scratch[y + (bx + dx).clamp(0, gw as i32 - 1) as usize];
                                for c in 0..4 {
                                    acc[c] += p[c];
                                }
                                n += 1.0;
                            }
                        }
                    }
                    self.scratch[2 * nb + by as usize * bw + bx as usize] = acc.map(|v| v / n);
                }
            }
        }
    }

    /// Average blocks, filter the block grid, sample back: the gaussian pyramid and bokeh.
    fn pyramid(
        &mut self,
        f: &mut PackedFrame,
        regions: &[MaskRegion],
        shape: MaskShape,
        factor: u32,
        filter: GridFilter,
        feather: f32,
    ) {
        // Same passes, ranges and summation order as the gpublur_pyramid_* and
        // gpublur_bokeh_disc shaders.
        let (gw, gh) = (f.width.div_ceil(factor), f.height.div_ceil(factor));
        let (bw, nb) = (gw as usize, gw as usize * gh as usize);
        let reach = match filter {
            GridFilter::Gaussian(weights) => weights.len() as i32 - 1,
            GridFilter::Disc(disc) => disc.ceil() as i32,
        };
        let e = reach + 1;
        // A lone box with a hard edge (whole frames, the common case) writes every pixel of its
        // box once: no ownership or coverage to look up, and its rows split over two threads.
        let plain = regions.len() == 1 && shape == MaskShape::Box && feather <= 0.0;
        let frame = f.view();
        for reg in regions {
            let r = reg.block_range(factor, e, gw, gh);
            let (rows, cols) = (r[1] as u32..r[3] as u32, r[0] as u32..r[2] as u32);
            let grid = &mut self.scratch[rows.start as usize * bw..rows.end as usize * bw];
            if plain && rows.len() > 1 {
                let mid = rows.start + rows.len() as u32 / 2;
                let (top, bottom) = grid.split_at_mut((mid - rows.start) as usize * bw);
                rayon::join(
                    || average_blocks(&frame, factor, rows.start..mid, cols.clone(), bw, top),
                    || average_blocks(&frame, factor, mid..rows.end, cols.clone(), bw, bottom),
                );
            } else {
                average_blocks(&frame, factor, rows, cols, bw, grid);
            }
        }
        match filter {
            GridFilter::Gaussian(weights) => {
                self.grid_gaussian(regions, factor, (gw, gh), e, weights, plain)
            }
            GridFilter::Disc(disc) => self.grid_disc(regions, factor, (gw, gh), disc),
        }
        let grid = &self.scratch[2 * nb..3 * nb];
        let up = Upsampler {
            grid,
            grid_w: gw,
            grid_h: gh,
            factor: factor as f32,
        };
        for (ri, reg) in regions.iter().enumerate() {
            // Column taps once per region: block index and weight of each x.
            self.column_taps.clear();
            self.column_taps
                .extend((reg.bbox[0]..reg.bbox[2]).map(|x| up.column_tap(x)));
            let taps = &self.column_taps[..];
            let (y0, y1) = (reg.bbox[1], reg.bbox[3]);
            if plain {
                let stride = f.stride;
                let x0 = reg.bbox[0] as usize;
                let rows = &mut f.data[y0 as usize * stride..];
                let mid = y0 + (y1 - y0) / 2;
                let (top, bottom) = rows.split_at_mut((mid - y0) as usize * stride);
                let half = self.up_rows.len() / 2;
                let (row_a, row_b) = self.up_rows.split_at_mut(half);
                rayon::join(
                    || up.write_rows(top, stride, x0, y0..mid, taps, row_a),
                    || up.write_rows(bottom, stride, x0, mid..y1, taps, row_b),
                );
                continue;
            }
            let cols = Upsampler::columns(taps);
            let row = &mut self.up_rows[..bw];
            for y in y0..y1 {
                up.blend_rows(y, cols.clone(), row);
                for (j, tap) in taps.iter().enumerate() {
                    let x = reg.bbox[0] + j as i32;
                    if reg.contains(shape, x, y) {
                        let value = Upsampler::sample(tap, row);
                        write_px(f, regions, ri, shape, feather, x, y, value);
                    }
                }
            }
        }
    }

    fn mosaic(
        &mut self,
        f: &mut PackedFrame,
        regions: &[MaskRegion],
        shape: MaskShape,
        b: u32,
        feather: f32,
    ) {
        let (grid_w, grid_h) = (f.width.div_ceil(b), f.height.div_ceil(b));
        let blocks_w = grid_w as usize;
        let frame = f.view();
        for reg in regions {
            let r = reg.block_range(b, 0, grid_w, grid_h);
            let (rows, cols) = (r[1] as u32..r[3] as u32, r[0] as u32..r[2] as u32);
            let out =
                &mut self.scratch[rows.start as usize * blocks_w..rows.end as usize * blocks_w];
            average_blocks(&frame, b, rows, cols, blocks_w, out);
        }
        for (ri, reg) in regions.iter().enumerate() {
            for y in reg.bbox[1]..reg.bbox[3] {
                for x in reg.bbox[0]..reg.bbox[2] {
                    if reg.contains(shape, x, y) {
                        let block = self.scratch
                            [(y as u32 / b) as usize * blocks_w + (x as u32 / b) as usize];
                        write_px(f, regions, ri, shape, feather, x, y, block);
                    }
                }
            }
        }
    }
}

fn solid(
    f: &mut PackedFrame,
    regions: &[MaskRegion],
    shape: MaskShape,
    alpha_index: u32,
    black: [u8; 4],
    feather: f32,
) {
    for (ri, reg) in regions.iter().enumerate() {
        for y in reg.bbox[1]..reg.bbox[3] {
            for x in reg.bbox[0]..reg.bbox[2] {
                if reg.contains(shape, x, y) {
                    let src = load(f.data, y as usize * f.stride + x as usize * 4);
                    let fill = std::array::from_fn(|c| {
                        if c as u32 == alpha_index {
                            src[c]
                        } else {
                            black[c] as f32
                        }
                    });
                    write_px(f, regions, ri, shape, feather, x, y, fill);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::GaussianKernel;

    #[test]
    fn gaussian_leaves_outside_pixels_and_flattens_inside() {
        let (w, h) = (32u32, 32u32);
        let mut data: Vec<u8> = (0..w * h * 4)
            .map(|i| if (i / 4) % 2 == 0 { 255 } else { 0 })
            .collect();
        let orig = data.clone();
        let reg = MaskRegion::from_box(8, 8, 16, 16, 1.0, w, h).unwrap();
        let mut k = GaussianKernel::default();
        k.set_sigma(3.0);
        let mut blur = CpuBlur::new(w, h);
        let mut f = PackedFrame {
            data: &mut data,
            stride: w as usize * 4,
            width: w,
            height: h,
        };
        blur.process_packed(
            &mut f,
            &Blur {
                regions: &[reg],
                shape: MaskShape::Box,
                op: BlurOp::Gaussian { radius: k.radius() },
                weights: k.weights(),
                weights_generation: 0,
                alpha_index: 3,
                feather: 0.0,
            },
        );
        for y in 0..h as i32 {
            for x in 0..w as i32 {
                let i = (y as usize * w as usize + x as usize) * 4;
                if reg.contains(MaskShape::Box, x, y) {
                    assert!((data[i] as i32 - 128).abs() <= 2, "{x},{y}: {}", data[i]);
                } else {
                    assert_eq!(data[i..i + 4], orig[i..i + 4]);
                }
            }
        }
    }

    #[test]
    fn solid_keeps_alpha_and_mosaic_averages_blocks() {
        let (w, h) = (4u32, 4u32);
        let mut data: Vec<u8> = (0..w * h * 4).map(|i| i as u8).collect();
        let reg = MaskRegion::whole_frame(w, h);
        let mut blur = CpuBlur::new(w, h);
        let mut f = PackedFrame {
            data: &mut data,
            stride: 16,
            width: w,
            height: h,
        };
        blur.process_packed(
            &mut f,
            &Blur {
                regions: &[reg],
                shape: MaskShape::Box,
                op: BlurOp::Solid,
                weights: &[1.0],
                weights_generation: 0,
                alpha_index: 0,
                feather: 0.0,
            },
        );
        assert!(data
            .chunks(4)
            .enumerate()
            .all(|(i, p)| p[0] == (i * 4) as u8 && p[1..] == [0, 0, 0]));

        let mut data: Vec<u8> = vec![0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12];
        let mut blur = CpuBlur::new(2, 2);
        let mut f = PackedFrame {
            data: &mut data,
            stride: 8,
            width: 2,
            height: 2,
        };
        blur.process_packed(
            &mut f,
            &Blur {
                regions: &[MaskRegion::whole_frame(2, 2)],
                shape: MaskShape::Box,
                op: BlurOp::Mosaic { block: 2 },
                weights: &[1.0],
                weights_generation: 0,
                alpha_index: 3,
                feather: 0.0,
            },
        );
        assert!(data.iter().all(|&v| v == 6));
    }
}
