//! Where a frame's planes lie, described once for every GPU pass of the collection, and the
//! WGSL that reads frames through that description ([`WGSL`], `shaders/frame_planes.wgsl`):
//! plane bytes, luma and chroma samples, RGB of a pixel and the Y'CbCr conversions both ways.
//! A pass prepends [`WGSL`] to its source and takes a [`FramePlanes`] (and a
//! [`crate::sampler::YuvMatrix`] as [`matrix_words`]) in a uniform.

use crate::sampler::{PackedLayout, YuvMatrix};

/// The shared WGSL: `FramePlanes`, `YuvMatrix` and the functions reading `frame_bytes`.
pub const WGSL: &str = include_str!("../../../shaders/frame_planes.wgsl");

/// `FramePlanes` in [`WGSL`]: where the planes of an 8-bit frame lie in its bytes, for the
/// formats the collection's GPU passes read (packed RGB, I420, YV12, NV12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramePlanes {
    /// 0 packed RGB, 1 planar 4:2:0, 2 semi-planar 4:2:0.
    pub kind: u32,
    /// Byte offsets and row strides: the packed (or luma) plane, U (or UV), V.
    pub offsets: [u32; 3],
    pub strides: [u32; 3],
    /// Packed RGB only: bytes per pixel, and the bytes of R, G, B and of alpha or padding (4:
    /// none) inside one.
    pub pixel_stride: u32,
    pub rgb_bytes: [u32; 3],
    pub alpha_byte: u32,
}

/// Where one plane's pixels lie: byte offset, row stride, bytes of pixels per row, rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlaneRows {
    pub offset: usize,
    pub stride: usize,
    pub row_bytes: usize,
    pub rows: usize,
}

impl PlaneRows {
    /// Plane `p` of an 8-bit frame laid out as `info` says.
    pub fn of(info: &gst_video::VideoInfo, p: usize) -> Self {
        let format = info.format_info();
        PlaneRows {
            offset: info.offset()[p],
            stride: info.stride()[p] as usize,
            row_bytes: info.comp_width(p as u8) as usize * format.pixel_stride()[p] as usize,
            rows: info.comp_height(p as u8) as usize,
        }
    }

    /// Planes of `sizes` (bytes per row, rows) one after another, each row starting on a
    /// multiple of `align` bytes: a frame as a GPU path lays it out for itself.
    pub fn consecutive<const N: usize>(sizes: [(usize, usize); N], align: usize) -> [Self; N] {
        let mut at = 0;
        sizes.map(|(row_bytes, rows)| {
            let stride = row_bytes.next_multiple_of(align.max(1));
            let place = PlaneRows {
                offset: at,
                stride,
                row_bytes,
                rows,
            };
            at += stride * rows;
            place
        })
    }

    /// Whether a buffer of `len` bytes holds every row of this plane (a plane of no rows: an
    /// unused one, always).
    pub fn fits(&self, len: usize) -> bool {
        self.rows == 0
            || (self.stride >= self.row_bytes
                && self.offset + self.stride * (self.rows - 1) + self.row_bytes <= len)
    }

    /// Bytes from the frame's start to the end of this plane.
    pub fn end(&self) -> usize {
        self.offset + self.stride * self.rows
    }

    /// As a shader takes it: offset, stride, bytes per row, rows.
    pub fn words(&self) -> [u32; 4] {
        [self.offset, self.stride, self.row_bytes, self.rows].map(|v| v as u32)
    }
}

/// Words of the shader's structs.
pub const FRAME_PLANES_WORDS: usize = 12;
pub const MATRIX_WORDS: usize = 8;

impl FramePlanes {
    /// The planes of frames laid out as `info` says, or `None` for a format no GPU pass reads.
    pub fn of(info: &gst_video::VideoInfo) -> Option<Self> {
        use gst_video::VideoFormat as F;
        let (o, s) = (info.offset(), info.stride());
        let planar = |kind: u32, u: usize, v: usize| FramePlanes {
            kind,
            offsets: [o[0], o[u], o[v]].map(|x| x as u32),
            strides: [s[0], s[u], s[v]].map(|x| x as u32),
            pixel_stride: 1,
            rgb_bytes: [0; 3],
            alpha_byte: 4,
        };
        match info.format() {
            F::I420 => Some(planar(1, 1, 2)),
            F::Yv12 => Some(planar(1, 2, 1)),
            F::Nv12 => Some(planar(2, 1, 1)),
            _ => {
                let layout = PackedLayout::of(info.format_info())?;
                Some(FramePlanes {
                    kind: 0,
                    offsets: [o[0] as u32; 3],
                    strides: [s[0] as u32; 3],
                    pixel_stride: layout.pixel_stride as u32,
                    rgb_bytes: layout.offsets.map(|b| b as u32),
                    alpha_byte: layout.alpha.map_or(4, |a| a as u32),
                })
            }
        }
    }

    /// The planes of a `width`x`height` frame, in memory order of their kind (packed; or Y,
    /// U or UV, V): what an upload or readback copies row by row.
    pub fn rows(&self, width: usize, height: usize) -> Vec<PlaneRows> {
        let place = |p: usize, row_bytes: usize, rows: usize| PlaneRows {
            offset: self.offsets[p] as usize,
            stride: self.strides[p] as usize,
            row_bytes,
            rows,
        };
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        match self.kind {
            0 => vec![place(0, width * self.pixel_stride as usize, height)],
            1 => vec![place(0, width, height), place(1, cw, ch), place(2, cw, ch)],
            _ => vec![place(0, width, height), place(1, 2 * cw, ch)],
        }
    }

    /// The struct as the shader takes it.
    pub fn words(&self) -> [u32; FRAME_PLANES_WORDS] {
        [
            self.kind,
            self.offsets[0],
            self.strides[0],
            self.pixel_stride,
            self.offsets[1],
            self.strides[1],
            self.offsets[2],
            self.strides[2],
            self.rgb_bytes[0],
            self.rgb_bytes[1],
            self.rgb_bytes[2],
            self.alpha_byte,
        ]
    }
}

/// `YuvMatrix` in [`WGSL`]: `matrix`'s coefficients as the shader takes them.
pub fn matrix_words(matrix: &YuvMatrix) -> [u32; MATRIX_WORDS] {
    let c = matrix.coefficients();
    [
        c[0].to_bits(),
        c[1].to_bits(),
        c[2].to_bits(),
        c[3].to_bits(),
        c[4].to_bits(),
        c[5].to_bits(),
        c[6].to_bits(),
        0,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_follow_the_caps_layout() {
        gst::init().unwrap();
        use gst_video::VideoFormat as F;
        let info = |f| gst_video::VideoInfo::builder(f, 10, 6).build().unwrap();
        let i420 = FramePlanes::of(&info(F::I420)).unwrap();
        assert_eq!(
            (i420.kind, i420.offsets, i420.strides),
            (1, [0, 72, 96], [12, 8, 8])
        );
        let yv12 = FramePlanes::of(&info(F::Yv12)).unwrap();
        assert_eq!(
            yv12.offsets,
            [0, 96, 72],
            "U first whatever the memory order"
        );
        let nv12 = FramePlanes::of(&info(F::Nv12)).unwrap();
        assert_eq!((nv12.kind, nv12.offsets[1], nv12.strides[1]), (2, 72, 12));
        let bgrx = FramePlanes::of(&info(F::Bgrx)).unwrap();
        assert_eq!(
            (bgrx.pixel_stride, bgrx.rgb_bytes, bgrx.alpha_byte),
            (4, [2, 1, 0], 3)
        );
        let rgb = FramePlanes::of(&info(F::Rgb)).unwrap();
        assert_eq!(
            (rgb.pixel_stride, rgb.strides[0], rgb.alpha_byte),
            (3, 32, 4)
        );
        assert!(FramePlanes::of(&info(F::Y444)).is_none());
        let y444 = info(F::Y444);
        assert_eq!(
            PlaneRows::of(&y444, 2),
            PlaneRows {
                offset: 144,
                stride: 12,
                row_bytes: 10,
                rows: 6
            }
        );
        let tight = PlaneRows::consecutive([(10, 6), (5, 3), (5, 3)], 4);
        assert_eq!(
            tight.map(|p| (p.offset, p.stride)),
            [(0, 12), (72, 8), (96, 8)]
        );
        assert_eq!(tight[2].end(), 120);
    }
}
