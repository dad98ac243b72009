//! Video frame to planar (CHW) float tensor, resampled bilinearly in one pass.
//!
//! Networks take a fixed-size RGB tensor; frames come in many formats and sizes. The
//! [`TensorSampler`] precomputes its taps once per caps so filling a tensor allocates nothing
//! and reads each source pixel it needs straight from the mapped frame: YUV frames are
//! converted while sampling, never through a full-size RGB copy.

use gst_video::prelude::*;

/// The planes of a frame in one of the supported layouts.
#[derive(Debug, Clone, Copy)]
pub enum PixelSource<'a> {
    /// Packed RGB family (RGB, BGR, RGBA, BGRx, xRGB, …): `offsets` are the byte offsets of
    /// R, G and B inside a pixel of `pixel_stride` bytes.
    Packed {
        data: &'a [u8],
        stride: usize,
        pixel_stride: usize,
        offsets: [usize; 3],
    },
    /// Planar Y'CbCr (I420, YV12 with the planes swapped by the caller, Y42B, Y444): chroma
    /// subsampled by `1 << subsampling.0` across and `1 << subsampling.1` down.
    Planar {
        y: &'a [u8],
        y_stride: usize,
        u: &'a [u8],
        u_stride: usize,
        v: &'a [u8],
        v_stride: usize,
        subsampling: (u32, u32),
    },
    /// Semi-planar 4:2:0, interleaved U/V.
    Nv12 {
        y: &'a [u8],
        y_stride: usize,
        uv: &'a [u8],
        uv_stride: usize,
    },
}

impl<'a> PixelSource<'a> {
    /// The planes of a mapped GStreamer frame, or `None` for a format this sampler cannot read.
    pub fn from_frame<T>(frame: &'a gst_video::VideoFrameRef<T>) -> Option<Self> {
        use gst_video::VideoFormat as F;
        let finfo = frame.format_info();
        let plane = |i: u32| frame.plane_data(i).ok();
        let stride = |i: usize| frame.plane_stride()[i] as usize;
        let planar = |u: u32, v: u32, subsampling| {
            Some(PixelSource::Planar {
                y: plane(0)?,
                y_stride: stride(0),
                u: plane(u)?,
                u_stride: stride(u as usize),
                v: plane(v)?,
                v_stride: stride(v as usize),
                subsampling,
            })
        };
        match frame.format() {
            F::I420 => planar(1, 2, (1, 1)),
            F::Yv12 => planar(2, 1, (1, 1)),
            F::Y42b => planar(1, 2, (1, 0)),
            F::Y444 => planar(1, 2, (0, 0)),
            F::Nv12 => Some(PixelSource::Nv12 {
                y: plane(0)?,
                y_stride: stride(0),
                uv: plane(1)?,
                uv_stride: stride(1),
            }),
            _ => {
                let layout = PackedLayout::of(finfo)?;
                Some(PixelSource::Packed {
                    data: plane(0)?,
                    stride: stride(0),
                    pixel_stride: layout.pixel_stride,
                    offsets: layout.offsets,
                })
            }
        }
    }
}

impl PixelSource<'_> {
    /// The pixel at column `x`, row `y` as R, G, B (0..=255; `matrix` converts Y'CbCr, the
    /// chroma sample covering the pixel taken). The caller keeps `x`, `y` inside the frame.
    #[inline]
    fn rgb_of(&self, matrix: &YuvMatrix, x: usize, y: usize) -> [f32; 3] {
        match *self {
            PixelSource::Packed {
                data,
                stride,
                pixel_stride,
                offsets,
            } => {
                let p = &data[y * stride + x * pixel_stride..];
                offsets.map(|o| p[o] as f32)
            }
            PixelSource::Planar {
                y: luma,
                y_stride,
                u,
                u_stride,
                v,
                v_stride,
                subsampling: (sx, sy),
            } => {
                let (cx, cy) = (x >> sx, y >> sy);
                matrix.rgb(
                    luma[y * y_stride + x] as f32,
                    u[cy * u_stride + cx] as f32,
                    v[cy * v_stride + cx] as f32,
                )
            }
            PixelSource::Nv12 {
                y: luma,
                y_stride,
                uv,
                uv_stride,
            } => {
                let c = (y >> 1) * uv_stride + (x >> 1) * 2;
                matrix.rgb(
                    luma[y * y_stride + x] as f32,
                    uv[c] as f32,
                    uv[c + 1] as f32,
                )
            }
        }
    }

    /// The colour at (`x`, `y`) of this `width`x`height` frame (pixel centres at half
    /// units), bilinear between the four pixels around it, R, G, B 0..=255; a point outside
    /// the frame takes its nearest edge. For sampling along any transform (a face turned
    /// upright), where [`TensorSampler`]'s precomputed taps only scale.
    pub fn rgb_at(&self, matrix: &YuvMatrix, width: u32, height: u32, x: f32, y: f32) -> [f32; 3] {
        let (w, h) = (width.max(1) as f32, height.max(1) as f32);
        let x = (x - 0.5).clamp(0.0, w - 1.0);
        let y = (y - 0.5).clamp(0.0, h - 1.0);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as usize, y0 as usize);
        let x1 = (x0 + 1).min(width as usize - 1);
        let y1 = (y0 + 1).min(height as usize - 1);
        let [a, b, c, d] =
            [(x0, y0), (x1, y0), (x0, y1), (x1, y1)].map(|(px, py)| self.rgb_of(matrix, px, py));
        std::array::from_fn(|i| {
            let top = a[i] + (b[i] - a[i]) * fx;
            let bottom = c[i] + (d[i] - c[i]) * fx;
            top + (bottom - top) * fy
        })
    }
}

/// Where the components of a packed 8-bit RGB pixel sit (RGB, BGR, RGBA, BGRx, xRGB, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedLayout {
    /// Bytes per pixel.
    pub pixel_stride: usize,
    /// Byte offsets of R, G and B inside a pixel.
    pub offsets: [usize; 3],
    /// Byte offset of alpha (or of the padding byte of xRGB formats), if the pixel has one.
    pub alpha: Option<usize>,
}

impl PackedLayout {
    /// The layout of a one-plane 8-bit RGB format, or `None` for any other.
    pub fn of(finfo: gst_video::VideoFormatInfo) -> Option<Self> {
        if !(finfo.is_rgb() && finfo.n_planes() == 1 && finfo.bits() == 8) {
            return None;
        }
        let (off, pixel_stride) = (finfo.poffset(), finfo.pixel_stride()[0] as usize);
        let offsets = [off[0] as usize, off[1] as usize, off[2] as usize];
        // The fourth byte of a 4-byte pixel: alpha or padding.
        let alpha = (pixel_stride == 4).then(|| 6 - offsets.iter().sum::<usize>());
        Some(PackedLayout {
            pixel_stride,
            offsets,
            alpha,
        })
    }
}

/// A value rounded to the nearest byte, clamped.
#[inline]
fn round(v: f32) -> u8 {
    (v + 0.5).clamp(0.0, 255.0) as u8
}

/// Three rows of an affine map of three values: each row's weights, then its offset.
pub type Affine = [[f32; 4]; 3];

/// Y'CbCr to R'G'B' coefficients for one matrix and range.
#[derive(Debug, Clone, Copy)]
pub struct YuvMatrix {
    y_offset: f32,
    y_scale: f32,
    c_scale: f32,
    r_cr: f32,
    g_cb: f32,
    g_cr: f32,
    b_cb: f32,
}

/// Kr and Kb of the matrix GStreamer names (BT.601 for anything unknown, and for RGB, whose
/// frames are converted as BT.601).
pub fn luma_coefficients(matrix: gst_video::VideoColorMatrix) -> (f32, f32) {
    use gst_video::VideoColorMatrix as M;
    match matrix {
        M::Bt709 => (0.2126, 0.0722),
        M::Bt2020 => (0.2627, 0.0593),
        M::Smpte240m => (0.212, 0.087),
        _ => (0.299, 0.114),
    }
}

impl YuvMatrix {
    /// From the luma coefficients `kr`, `kb` (BT.601: 0.299, 0.114; BT.709: 0.2126, 0.0722).
    pub fn new(kr: f32, kb: f32, full_range: bool) -> Self {
        let kg = 1.0 - kr - kb;
        let (y_offset, y_scale, c_scale) = if full_range {
            (0.0, 1.0, 1.0)
        } else {
            (16.0, 255.0 / 219.0, 255.0 / 224.0)
        };
        YuvMatrix {
            y_offset,
            y_scale,
            c_scale,
            r_cr: 2.0 * (1.0 - kr),
            g_cb: -2.0 * (1.0 - kb) * kb / kg,
            g_cr: -2.0 * (1.0 - kr) * kr / kg,
            b_cb: 2.0 * (1.0 - kb),
        }
    }

    /// The matrix GStreamer's colorimetry names; BT.601 for anything unknown.
    pub fn from_colorimetry(c: &gst_video::VideoColorimetry) -> Self {
        let full = c.range() == gst_video::VideoColorRange::Range0_255;
        let (kr, kb) = luma_coefficients(c.matrix());
        Self::new(kr, kb, full)
    }

    /// The coefficients as a shader takes them: luma offset and scale, chroma scale, then the
    /// Cr weight of R, the Cb and Cr weights of G and the Cb weight of B.
    pub fn coefficients(&self) -> [f32; 7] {
        [
            self.y_offset,
            self.y_scale,
            self.c_scale,
            self.r_cr,
            self.g_cb,
            self.g_cr,
            self.b_cb,
        ]
    }

    /// The matrix as two affine maps for a network that converts frames itself: `to_rgb`
    /// takes 8-bit Y, Cb, Cr levels (and 1) to R, G, B in 0..1 (as [`Self::rgb`] then a gain of
    /// 1/255, before the clamping), `to_yuv` takes R, G, B in 0..1 (and 1) to levels (as
    /// [`Self::yuv`] of the values times 255). Rows are R, G, B and Y, Cb, Cr.
    pub fn affine(&self) -> (Affine, Affine) {
        let (ys, cs, yo) = (self.y_scale, self.c_scale, self.y_offset);
        let rows = [[0.0, self.r_cr], [self.g_cb, self.g_cr], [self.b_cb, 0.0]];
        let to_rgb = rows.map(|[cb, cr]| {
            [
                ys / 255.0,
                cb * cs / 255.0,
                cr * cs / 255.0,
                (-yo * ys - 128.0 * (cb + cr) * cs) / 255.0,
            ]
        });
        let (kr, kb) = (1.0 - self.r_cr / 2.0, 1.0 - self.b_cb / 2.0);
        let kg = 1.0 - kr - kb;
        // Cb = (B − luma) / b_cb / c_scale + 128, Cr = (R − luma) / r_cr / c_scale + 128.
        let (cb, cr) = (self.b_cb * cs, self.r_cr * cs);
        let to_yuv = [
            [kr / ys, kg / ys, kb / ys, yo],
            [-kr / cb, -kg / cb, (1.0 - kb) / cb, 128.0],
            [(1.0 - kr) / cr, -kg / cr, -kb / cr, 128.0],
        ]
        .map(|[r, g, b, o]| [255.0 * r, 255.0 * g, 255.0 * b, o]);
        (to_rgb, to_yuv)
    }

    /// R, G, B (0..=255) to Y, Cb, Cr in this matrix's range: the inverse of [`Self::rgb`]
    /// (before its clamping).
    #[inline]
    pub fn yuv(&self, r: f32, g: f32, b: f32) -> [f32; 3] {
        let (kr, kb) = (1.0 - self.r_cr / 2.0, 1.0 - self.b_cb / 2.0);
        let luma = kr * r + (1.0 - kr - kb) * g + kb * b;
        [
            luma / self.y_scale + self.y_offset,
            (b - luma) / self.b_cb / self.c_scale + 128.0,
            (r - luma) / self.r_cr / self.c_scale + 128.0,
        ]
    }

    /// One row of packed RGB pixels (`layout`) to full-resolution Y, Cb and Cr rows, rounded.
    pub fn unpack_row(
        &self,
        layout: PackedLayout,
        src: &[u8],
        y: &mut [u8],
        u: &mut [u8],
        v: &mut [u8],
    ) {
        let [r, g, b] = layout.offsets;
        for (((p, y), u), v) in src
            .chunks_exact(layout.pixel_stride)
            .zip(y.iter_mut())
            .zip(u.iter_mut())
            .zip(v.iter_mut())
        {
            let [ly, cb, cr] = self.yuv(p[r] as f32, p[g] as f32, p[b] as f32);
            (*y, *u, *v) = (round(ly), round(cb), round(cr));
        }
    }

    /// Full-resolution Y, Cb and Cr rows to one row of packed RGB pixels (`layout`), rounded;
    /// alpha (or padding) set opaque.
    pub fn pack_row(&self, layout: PackedLayout, y: &[u8], u: &[u8], v: &[u8], dst: &mut [u8]) {
        let [r, g, b] = layout.offsets;
        for (((p, &y), &u), &v) in dst
            .chunks_exact_mut(layout.pixel_stride)
            .zip(y)
            .zip(u)
            .zip(v)
        {
            let [pr, pg, pb] = self.rgb(y as f32, u as f32, v as f32);
            (p[r], p[g], p[b]) = (round(pr), round(pg), round(pb));
            if let Some(a) = layout.alpha {
                p[a] = 255;
            }
        }
    }

    /// Y, Cb, Cr (in this matrix's range) to R, G, B (0..=255, clamped).
    #[inline]
    pub fn rgb(&self, y: f32, u: f32, v: f32) -> [f32; 3] {
        let y = (y - self.y_offset) * self.y_scale;
        let cb = (u - 128.0) * self.c_scale;
        let cr = (v - 128.0) * self.c_scale;
        [
            (y + self.r_cr * cr).clamp(0.0, 255.0),
            (y + self.g_cb * cb + self.g_cr * cr).clamp(0.0, 255.0),
            (y + self.b_cb * cb).clamp(0.0, 255.0),
        ]
    }
}

#[derive(Debug, Clone, Copy)]
struct Tap {
    i0: u32,
    i1: u32,
    f: f32,
}

fn taps(src: u32, dst: u32) -> Vec<Tap> {
    let scale = src as f32 / dst as f32;
    (0..dst)
        .map(|d| {
            let s = ((d as f32 + 0.5) * scale - 0.5).clamp(0.0, (src - 1) as f32);
            let i0 = s.floor() as u32;
            Tap {
                i0,
                i1: (i0 + 1).min(src - 1),
                f: s - i0 as f32,
            }
        })
        .collect()
}

/// Bilinear resampler from a `src_w`×`src_h` frame into a 3×`dst_h`×`dst_w` RGB tensor, values
/// 0–255 (optionally rounded to 8-bit levels) times `gain` (CenterFace takes 0–255, YOLO exports 0–1). The frame fills the tensor,
/// or, letterboxed, keeps its aspect ratio centred on a grey border (YOLO's 114).
#[derive(Debug, Clone)]
pub struct TensorSampler {
    pub src_w: u32,
    pub src_h: u32,
    /// Tensor size.
    pub dst_w: u32,
    pub dst_h: u32,
    /// Where the frame lands inside the tensor.
    pub inner_x: u32,
    pub inner_y: u32,
    pub inner_w: u32,
    pub inner_h: u32,
    gain: f32,
    /// Values rounded to 8-bit levels (see [`Self::in_levels`]).
    levels: bool,
    xs: Vec<Tap>,
    ys: Vec<Tap>,
    matrix: YuvMatrix,
}

/// The border value of a letterboxed tensor, on the 0–255 scale.
pub const LETTERBOX_GREY: f32 = 114.0;

impl TensorSampler {
    /// Taps for the given sizes, the frame stretched over the whole tensor; all sizes must be
    /// non-zero.
    pub fn new(src_w: u32, src_h: u32, dst_w: u32, dst_h: u32, matrix: YuvMatrix) -> Self {
        Self::placed(src_w, src_h, dst_w, dst_h, (0, 0, dst_w, dst_h), matrix)
    }

    /// The frame scaled to fit a `dst_w`×`dst_h` tensor with its aspect ratio kept, centred.
    pub fn letterboxed(src_w: u32, src_h: u32, dst_w: u32, dst_h: u32, matrix: YuvMatrix) -> Self {
        let s = (dst_w as f32 / src_w as f32).min(dst_h as f32 / src_h as f32);
        let iw = ((src_w as f32 * s).round() as u32).clamp(1, dst_w);
        let ih = ((src_h as f32 * s).round() as u32).clamp(1, dst_h);
        let inner = ((dst_w - iw) / 2, (dst_h - ih) / 2, iw, ih);
        Self::placed(src_w, src_h, dst_w, dst_h, inner, matrix)
    }

    fn placed(
        src_w: u32,
        src_h: u32,
        dst_w: u32,
        dst_h: u32,
        (inner_x, inner_y, inner_w, inner_h): (u32, u32, u32, u32),
        matrix: YuvMatrix,
    ) -> Self {
        assert!(
            src_w > 0 && src_h > 0 && inner_w > 0 && inner_h > 0,
            "sizes come from validated caps"
        );
        TensorSampler {
            src_w,
            src_h,
            dst_w,
            dst_h,
            inner_x,
            inner_y,
            inner_w,
            inner_h,
            gain: 1.0,
            levels: false,
            xs: taps(src_w, inner_w),
            ys: taps(src_h, inner_h),
            matrix,
        }
    }

    /// Multiplies every value written (e.g. 1/255 for models that take 0–1).
    pub fn with_gain(mut self, gain: f32) -> Self {
        self.gain = gain;
        self
    }

    /// Rounds every value to the nearest 8-bit level before the gain, as the GPU sampler
    /// ([`crate::gpusampler`]) does: an element that samples on either side gives its network
    /// the same input whichever memory a frame came in.
    pub fn in_levels(mut self) -> Self {
        self.levels = true;
        self
    }

    /// The factor every value is multiplied by.
    pub fn gain(&self) -> f32 {
        self.gain
    }

    /// The Y'CbCr matrix YUV frames are converted with.
    pub fn matrix(&self) -> YuvMatrix {
        self.matrix
    }

    /// Maps a point of the tensor back to the frame: `frame = (tensor - offset) * scale`,
    /// returned as (scale x, scale y, offset x, offset y).
    pub fn to_frame(&self) -> (f32, f32, f32, f32) {
        (
            self.src_w as f32 / self.inner_w as f32,
            self.src_h as f32 / self.inner_h as f32,
            self.inner_x as f32,
            self.inner_y as f32,
        )
    }

    /// Elements of the tensor this sampler fills.
    pub fn tensor_len(&self) -> usize {
        3 * self.dst_w as usize * self.dst_h as usize
    }

    /// Fills `out` (a network input of either kind, length [`Self::tensor_len`]) with the
    /// resampled frame: see [`Self::fill`].
    pub fn fill_values(&self, src: &PixelSource, out: crate::inference::InputValues) -> bool {
        match out {
            crate::inference::InputValues::F32(v) => self.fill(src, v),
            crate::inference::InputValues::F16(v) => self.fill(src, v),
            crate::inference::InputValues::U8(v) => self.fill(src, v),
        }
    }

    /// Fills `out` (length [`Self::tensor_len`]) with the resampled frame, planes R, G, B.
    /// Returns `false` when the planes are too small for the sizes given at construction.
    pub fn fill<T: TensorValue>(&self, src: &PixelSource, out: &mut [T]) -> bool {
        if out.len() != self.tensor_len() || !self.planes_fit(src) {
            return false;
        }
        // One monomorphised loop per layout: no format branch per pixel.
        match *src {
            PixelSource::Packed {
                data,
                stride,
                pixel_stride,
                offsets,
            } => self.fill_with(out, |xt, yt| {
                offsets.map(|o| bilinear(data, stride, pixel_stride, o, xt, yt))
            }),
            PixelSource::Planar {
                y,
                y_stride,
                u,
                u_stride,
                v,
                v_stride,
                subsampling: (sx, sy),
            } => self.fill_with(out, |xt, yt| {
                let luma = bilinear(y, y_stride, 1, 0, xt, yt);
                let (cx, cy) = ((xt.i0 >> sx) as usize, (yt.i0 >> sy) as usize);
                self.matrix.rgb(
                    luma,
                    u[cy * u_stride + cx] as f32,
                    v[cy * v_stride + cx] as f32,
                )
            }),
            PixelSource::Nv12 {
                y,
                y_stride,
                uv,
                uv_stride,
            } => self.fill_with(out, |xt, yt| {
                let luma = bilinear(y, y_stride, 1, 0, xt, yt);
                let c = (yt.i0 / 2) as usize * uv_stride + (xt.i0 / 2) as usize * 2;
                self.matrix.rgb(luma, uv[c] as f32, uv[c + 1] as f32)
            }),
        }
        true
    }

    #[inline(always)]
    fn fill_with<T: TensorValue>(
        &self,
        out: &mut [T],
        sample: impl Fn(&Tap, &Tap) -> [f32; 3] + Sync,
    ) {
        use rayon::prelude::*;
        let plane = self.dst_w as usize * self.dst_h as usize;
        let (r_out, rest) = out.split_at_mut(plane);
        let (g_out, b_out) = rest.split_at_mut(plane);
        let w = self.dst_w as usize;
        let (x0, x1) = (
            self.inner_x as usize,
            (self.inner_x + self.inner_w) as usize,
        );
        let (y0, y1) = (
            self.inner_y as usize,
            (self.inner_y + self.inner_h) as usize,
        );
        let grey = T::from_sample(LETTERBOX_GREY, self.gain);
        let gain = self.gain;
        // Rows over the thread pool, in bands so that each task has work worth its hand-over.
        const BAND: usize = 16;
        let bands = r_out
            .par_chunks_mut(w * BAND)
            .zip(g_out.par_chunks_mut(w * BAND))
            .zip(b_out.par_chunks_mut(w * BAND));
        bands.enumerate().for_each(|(band, ((rb, gb), bb))| {
            let rows = rb.chunks_mut(w).zip(gb.chunks_mut(w)).zip(bb.chunks_mut(w));
            for (i, ((r, g), b)) in rows.enumerate() {
                let ty = band * BAND + i;
                if ty < y0 || ty >= y1 {
                    for p in [r, g, b] {
                        p.fill(grey);
                    }
                    continue;
                }
                for p in [&mut *r, &mut *g, &mut *b] {
                    p[..x0].fill(grey);
                    p[x1..].fill(grey);
                }
                let yt = &self.ys[ty - y0];
                let pixels = r[x0..x1].iter_mut().zip(&mut g[x0..x1]).zip(&mut b[x0..x1]);
                for (((r, g), b), xt) in pixels.zip(&self.xs) {
                    let mut rgb = sample(xt, yt);
                    if self.levels {
                        rgb = rgb.map(level);
                    }
                    *r = T::from_sample(rgb[0], gain);
                    *g = T::from_sample(rgb[1], gain);
                    *b = T::from_sample(rgb[2], gain);
                }
            }
        });
    }

    fn planes_fit(&self, src: &PixelSource) -> bool {
        let (w, h) = (self.src_w as usize, self.src_h as usize);
        let fits = |len: usize, stride: usize, row_bytes: usize, rows: usize| {
            stride >= row_bytes && len >= stride * (rows - 1) + row_bytes
        };
        match *src {
            PixelSource::Packed {
                data,
                stride,
                pixel_stride,
                offsets,
            } => {
                offsets.iter().all(|&o| o < pixel_stride)
                    && fits(data.len(), stride, w * pixel_stride, h)
            }
            PixelSource::Planar {
                y,
                y_stride,
                u,
                u_stride,
                v,
                v_stride,
                subsampling: (sx, sy),
            } => {
                let (cw, ch) = (w.div_ceil(1 << sx), h.div_ceil(1 << sy));
                fits(y.len(), y_stride, w, h)
                    && fits(u.len(), u_stride, cw, ch)
                    && fits(v.len(), v_stride, cw, ch)
            }
            PixelSource::Nv12 {
                y,
                y_stride,
                uv,
                uv_stride,
            } => {
                let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
                fits(y.len(), y_stride, w, h) && fits(uv.len(), uv_stride, cw * 2, ch)
            }
        }
    }
}

/// A value of a network input as the samplers write it (see [`crate::inference::InputKind`]):
/// a float, the sample times the sampler's gain, or the 8-bit level itself for a network that
/// scales its input (the gain is then not applied).
pub trait TensorValue: Copy + Send + Sync + 'static {
    /// From a sample (0..=255) and the sampler's gain.
    fn from_sample(v: f32, gain: f32) -> Self;
    /// From an 8-bit level and the sampler's gain.
    fn from_level(level: u8, gain: f32) -> Self;
}

impl TensorValue for f32 {
    #[inline(always)]
    fn from_sample(v: f32, gain: f32) -> Self {
        v * gain
    }
    #[inline(always)]
    fn from_level(level: u8, gain: f32) -> Self {
        level as f32 * gain
    }
}

impl TensorValue for half::f16 {
    #[inline(always)]
    fn from_sample(v: f32, gain: f32) -> Self {
        half::f16::from_f32(v * gain)
    }
    #[inline(always)]
    fn from_level(level: u8, gain: f32) -> Self {
        half::f16::from_f32(level as f32 * gain)
    }
}

impl TensorValue for u8 {
    /// Rounded to the nearest level (a truncating, saturating cast, as [`level`]).
    #[inline(always)]
    fn from_sample(v: f32, _gain: f32) -> Self {
        (v + 0.5) as u8
    }
    #[inline(always)]
    fn from_level(level: u8, _gain: f32) -> Self {
        level
    }
}

/// A sample (0..=255) rounded to the nearest 8-bit level, as the GPU sampler rounds it. A
/// truncating cast, not `floor`, which is a library call on baseline x86-64.
#[inline(always)]
fn level(v: f32) -> f32 {
    ((v + 0.5) as u8) as f32
}

/// One sample of a plane, bilinear between the four neighbours of the taps: bytes `step`
/// apart in a row, rows `stride` apart, at byte `offset` inside a pixel.
#[inline(always)]
fn bilinear(plane: &[u8], stride: usize, step: usize, offset: usize, xt: &Tap, yt: &Tap) -> f32 {
    let at = |x: u32, y: u32| plane[y as usize * stride + x as usize * step + offset] as f32;
    let top = at(xt.i0, yt.i0) + (at(xt.i1, yt.i0) - at(xt.i0, yt.i0)) * xt.f;
    let bottom = at(xt.i0, yt.i1) + (at(xt.i1, yt.i1) - at(xt.i0, yt.i1)) * xt.f;
    top + (bottom - top) * yt.f
}

/// The planar RGB (0..1) frame `rgb` (a tensor as [`TensorSampler`] makes them, in reverse)
/// into `frame` (packed RGB, alpha opaque, or 4:2:0 Y'CbCr through `matrix`, chroma the mean
/// of each 2x2 block: I420, or 10-bit I420_10LE and P010_10LE), rows over the thread pool.
pub fn write_rgb_planes(
    rgb: &[f32],
    frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    matrix: YuvMatrix,
) {
    use rayon::prelude::*;
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let plane = w * h;
    if rgb.len() < 3 * plane {
        return;
    }
    let (r, rest) = rgb.split_at(plane);
    let (g, b) = rest.split_at(plane);
    let byte = |v: f32| (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
    if let Some(layout) = PackedLayout::of(frame.format_info()) {
        let stride = frame.plane_stride()[0] as usize;
        let Ok(data) = frame.plane_data_mut(0) else {
            return;
        };
        let [ro, go, bo] = layout.offsets;
        data.par_chunks_mut(stride)
            .take(h)
            .enumerate()
            .for_each(|(y, row)| {
                let (r, g, b) = (&r[y * w..][..w], &g[y * w..][..w], &b[y * w..][..w]);
                if layout.pixel_stride == 4 {
                    // Four-byte pixels as words: shifts fixed per row, so the loop vectorises.
                    let shift = |o: usize| 8 * o as u32;
                    let (rs, gs, bs) = (shift(ro), shift(go), shift(bo));
                    let opaque = layout.alpha.map_or(0, |a| 255u32 << shift(a));
                    let pixels = row[..4 * w].chunks_exact_mut(4);
                    crate::pixels::wide(|| {
                        for (((p, r), g), b) in pixels.zip(r).zip(g).zip(b) {
                            let word = (byte(*r) as u32) << rs
                                | (byte(*g) as u32) << gs
                                | (byte(*b) as u32) << bs
                                | opaque;
                            p.copy_from_slice(&word.to_le_bytes());
                        }
                    });
                    return;
                }
                let pixels = row[..w * layout.pixel_stride].chunks_exact_mut(layout.pixel_stride);
                for (((p, r), g), b) in pixels.zip(r).zip(g).zip(b) {
                    (p[ro], p[go], p[bo]) = (byte(*r), byte(*g), byte(*b));
                }
            });
        return;
    }
    // 4:2:0: each pair of rows with its chroma row(s); each 2x2 block converted once, its
    // luma written and its chroma averaged.
    let (ten, interleaved) = match frame.format() {
        gst_video::VideoFormat::I42010le => (true, false),
        gst_video::VideoFormat::P01010le => (true, true),
        _ => (false, false),
    };
    // P010 has two planes.
    let strides: [usize; 3] =
        std::array::from_fn(|p| frame.plane_stride().get(p).map_or(0, |&s| s as usize));
    let [ys, us, vs, _] = frame.planes_data_mut();
    let planes = RgbPlanes {
        r,
        g,
        b,
        w,
        h,
        matrix,
    };
    let cw = w.div_ceil(2);
    if !ten {
        let round = |v: f32| (v + 0.5).clamp(0.0, 255.0) as u8;
        ys.par_chunks_mut(2 * strides[0])
            .zip(us.par_chunks_mut(strides[1]))
            .zip(vs.par_chunks_mut(strides[2]))
            .take(h.div_ceil(2))
            .enumerate()
            .for_each(|(cy, ((yrows, urow), vrow))| {
                for cx in 0..cw {
                    let (cb, cr) =
                        planes.block(cy, cx, |dy, x, l| yrows[dy * strides[0] + x] = round(l));
                    urow[cx] = round(cb);
                    vrow[cx] = round(cr);
                }
            });
        return;
    }
    // 10 bits: the same levels four times finer (studio range 64..=940), little-endian words;
    // P010 keeps them in a word's top bits and interleaves Cb and Cr in one plane.
    let shift = if interleaved { 6 } else { 0 };
    let word = move |v: f32| (((v * 4.0 + 0.5).clamp(0.0, 1023.0) as u16) << shift).to_le_bytes();
    let put = |row: &mut [u8], i: usize, v: f32| row[2 * i..2 * i + 2].copy_from_slice(&word(v));
    let luma_rows = ys.par_chunks_mut(2 * strides[0]).take(h.div_ceil(2));
    if interleaved {
        luma_rows
            .zip(us.par_chunks_mut(strides[1]))
            .enumerate()
            .for_each(|(cy, (yrows, uvrow))| {
                for cx in 0..cw {
                    let (cb, cr) =
                        planes.block(cy, cx, |dy, x, l| put(&mut yrows[dy * strides[0]..], x, l));
                    put(uvrow, 2 * cx, cb);
                    put(uvrow, 2 * cx + 1, cr);
                }
            });
    } else {
        luma_rows
            .zip(us.par_chunks_mut(strides[1]))
            .zip(vs.par_chunks_mut(strides[2]))
            .enumerate()
            .for_each(|(cy, ((yrows, urow), vrow))| {
                for cx in 0..cw {
                    let (cb, cr) =
                        planes.block(cy, cx, |dy, x, l| put(&mut yrows[dy * strides[0]..], x, l));
                    put(urow, cx, cb);
                    put(vrow, cx, cr);
                }
            });
    }
}

/// A planar RGB frame (0..1) as [`write_rgb_planes`] reads it.
struct RgbPlanes<'a> {
    r: &'a [f32],
    g: &'a [f32],
    b: &'a [f32],
    w: usize,
    h: usize,
    matrix: YuvMatrix,
}

impl RgbPlanes<'_> {
    /// The 2x2 block at chroma (`cx`, `cy`) converted: each pixel's luma (0..=255) handed to
    /// `luma` with its row in the block and its column, the block's mean Cb and Cr returned.
    #[inline(always)]
    fn block(&self, cy: usize, cx: usize, mut luma: impl FnMut(usize, usize, f32)) -> (f32, f32) {
        let (mut cb, mut cr, mut n) = (0.0, 0.0, 0.0);
        for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            let (y, x) = (2 * cy + dy, 2 * cx + dx);
            if y < self.h && x < self.w {
                let i = y * self.w + x;
                let [l, u, v] =
                    self.matrix
                        .yuv(self.r[i] * 255.0, self.g[i] * 255.0, self.b[i] * 255.0);
                luma(dy, x, l);
                (cb, cr, n) = (cb + u, cr + v, n + 1.0);
            }
        }
        (cb / n, cr / n)
    }
}

/// Whether [`write_rgb_planes`] writes `format` as 10-bit 4:2:0 (what an upscaler may give
/// for 8-bit I420 in: its network's output has finer levels than 8 bits keep).
pub fn ten_bit_420(format: gst_video::VideoFormat) -> bool {
    matches!(
        format,
        gst_video::VideoFormat::I42010le | gst_video::VideoFormat::P01010le
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_maps_are_the_matrix() {
        for m in [
            YuvMatrix::new(0.2126, 0.0722, false),
            YuvMatrix::new(0.299, 0.114, true),
        ] {
            let (to_rgb, to_yuv) = m.affine();
            for (y, u, v) in [
                (16.0, 128.0, 128.0),
                (200.0, 90.0, 170.0),
                (120.0, 140.0, 60.0),
            ] {
                let want = m.rgb(y, u, v);
                let got = to_rgb.map(|r| (r[0] * y + r[1] * u + r[2] * v + r[3]).clamp(0.0, 1.0));
                for c in 0..3 {
                    assert!((got[c] * 255.0 - want[c]).abs() < 1e-3, "{got:?} {want:?}");
                }
                let back = m.yuv(want[0], want[1], want[2]);
                let rgb = want.map(|v| v / 255.0);
                let got = to_yuv.map(|r| r[0] * rgb[0] + r[1] * rgb[1] + r[2] * rgb[2] + r[3]);
                for c in 0..3 {
                    assert!((got[c] - back[c]).abs() < 1e-3, "{got:?} {back:?}");
                }
            }
        }
    }

    #[test]
    fn identity_size_copies_packed_pixels() {
        // 2×2 BGRx: offsets of R, G, B are 2, 1, 0.
        let data = [1u8, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 10, 11, 12, 0];
        let src = PixelSource::Packed {
            data: &data,
            stride: 8,
            pixel_stride: 4,
            offsets: [2, 1, 0],
        };
        let s = TensorSampler::new(2, 2, 2, 2, YuvMatrix::new(0.299, 0.114, false));
        let mut out = vec![0.0; s.tensor_len()];
        assert!(s.fill(&src, &mut out));
        assert_eq!(&out[0..4], &[3.0, 6.0, 9.0, 12.0]);
        assert_eq!(&out[8..12], &[1.0, 4.0, 7.0, 10.0]);
    }

    #[test]
    fn limited_range_grey_is_grey() {
        let y = [126u8; 4];
        let c = [128u8; 1];
        let src = PixelSource::Planar {
            y: &y,
            y_stride: 2,
            u: &c,
            u_stride: 1,
            v: &c,
            v_stride: 1,
            subsampling: (1, 1),
        };
        let s = TensorSampler::new(2, 2, 1, 1, YuvMatrix::new(0.2126, 0.0722, false));
        let mut out = vec![0.0; 3];
        assert!(s.fill(&src, &mut out));
        for v in out {
            assert!((v - 127.9).abs() < 0.5, "{v}");
        }
    }

    #[test]
    fn letterbox_centres_the_frame_on_grey_and_maps_back() {
        // A 4×2 white frame into a 4×4 tensor at gain 1/255: rows 1 and 2 white, 0 and 3 grey.
        let data = [255u8; 4 * 2 * 3];
        let src = PixelSource::Packed {
            data: &data,
            stride: 12,
            pixel_stride: 3,
            offsets: [0, 1, 2],
        };
        let s = TensorSampler::letterboxed(4, 2, 4, 4, YuvMatrix::new(0.299, 0.114, false))
            .with_gain(1.0 / 255.0);
        let mut out = vec![0.0; s.tensor_len()];
        assert!(s.fill(&src, &mut out));
        let grey = LETTERBOX_GREY / 255.0;
        let near = |a: &[f32], v: f32| a.iter().all(|x| (x - v).abs() < 1e-6);
        assert!(near(&out[0..4], grey), "{out:?}");
        assert!(near(&out[4..12], 1.0), "{out:?}");
        assert!(near(&out[12..16], grey), "{out:?}");
        assert_eq!(s.to_frame(), (1.0, 1.0, 0.0, 1.0));
    }

    #[test]
    fn short_planes_are_refused() {
        let data = [0u8; 10];
        let src = PixelSource::Packed {
            data: &data,
            stride: 8,
            pixel_stride: 4,
            offsets: [0, 1, 2],
        };
        let s = TensorSampler::new(2, 2, 2, 2, YuvMatrix::new(0.299, 0.114, false));
        let mut out = vec![0.0; s.tensor_len()];
        assert!(!s.fill(&src, &mut out));
    }

    #[test]
    fn yuv_is_the_inverse_of_rgb() {
        for full in [false, true] {
            let m = YuvMatrix::new(0.299, 0.114, full);
            for rgb in [
                [0.0, 0.0, 0.0],
                [255.0, 255.0, 255.0],
                [200.0, 30.0, 90.0],
                [10.0, 250.0, 128.0],
            ] {
                let [y, u, v] = m.yuv(rgb[0], rgb[1], rgb[2]);
                let back = m.rgb(y, u, v);
                for c in 0..3 {
                    assert!((back[c] - rgb[c]).abs() < 1e-3, "{rgb:?} -> {back:?}");
                }
            }
        }
        let [y, u, v] = YuvMatrix::new(0.299, 0.114, false).yuv(255.0, 255.0, 255.0);
        assert!((y - 235.0).abs() < 1e-3 && (u - 128.0).abs() < 1e-3 && (v - 128.0).abs() < 1e-3);
    }
}
