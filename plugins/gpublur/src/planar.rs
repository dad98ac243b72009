//! The frames both blur engines (`cpu`, `gpu`) work on in place: packed 4-byte pixels, or
//! YUV 4:2:0 (I420, YV12, NV12). The passes work on packed 4-byte pixels, so YUV
//! rows are unpacked to (Y, U, V, 255) pixels, every pixel of a 2×2 block carrying the
//! block's chroma, and packed back with each block's chroma taken from its top-left pixel.
//! Packing an unpacked row gives back the same bytes, so pixels outside every mask stay
//! bit-identical. The GPU does the same in `gpublur_yuv_unpack.wgsl` / `gpublur_yuv_pack.wgsl`.

use mediaai_common::planes::PlaneRows;

/// A packed 4-byte-per-pixel frame, mutable in place.
pub struct PackedFrame<'a> {
    pub data: &'a mut [u8],
    /// Bytes between rows.
    pub stride: usize,
    pub width: u32,
    pub height: u32,
}

/// A frame the blur works on in place: packed pixels, or a whole buffer of YUV 4:2:0 planes
/// laid out as `layout` says.
pub enum Frame<'a> {
    Packed(PackedFrame<'a>),
    Yuv {
        data: &'a mut [u8],
        layout: YuvLayout,
    },
}

/// A 4:2:0 frame's planes. `chroma` is U then V (I420 and YV12, the latter with the planes
/// given in U, V order), or one interleaved UV plane (NV12, `chroma[1]` unused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YuvLayout {
    pub width: u32,
    pub height: u32,
    pub luma: PlaneRows,
    pub chroma: [PlaneRows; 2],
    pub interleaved: bool,
}

impl YuvLayout {
    /// A `width`x`height` 4:2:0 frame whose planes start at these byte offsets with these
    /// strides: luma, then U and V, or one interleaved UV plane (`chroma[1]` unused).
    pub fn new(
        width: u32,
        height: u32,
        luma: (usize, usize),
        chroma: [(usize, usize); 2],
        interleaved: bool,
    ) -> Self {
        let (cw, ch) = (width.div_ceil(2) as usize, height.div_ceil(2) as usize);
        let plane = |(offset, stride): (usize, usize), row_bytes, rows| PlaneRows {
            offset,
            stride,
            row_bytes,
            rows,
        };
        YuvLayout {
            width,
            height,
            luma: plane(luma, width as usize, height as usize),
            chroma: if interleaved {
                [plane(chroma[0], 2 * cw, ch), PlaneRows::default()]
            } else {
                [plane(chroma[0], cw, ch), plane(chroma[1], cw, ch)]
            },
            interleaved,
        }
    }

    pub fn chroma_width(&self) -> usize {
        self.width.div_ceil(2) as usize
    }

    pub fn chroma_height(&self) -> usize {
        self.height.div_ceil(2) as usize
    }

    /// Whether a buffer of `len` bytes holds every plane.
    pub fn fits(&self, len: usize) -> bool {
        self.width > 0
            && self.height > 0
            && [self.luma, self.chroma[0], self.chroma[1]]
                .iter()
                .all(|p| p.fits(len))
    }

    /// Byte ranges of the buffer holding luma rows `rows` and the chroma rows they use.
    pub fn row_ranges(&self, (y0, y1): (u32, u32)) -> [(usize, usize); 3] {
        let (y0, y1) = (y0 as usize, y1 as usize);
        let (c0, c1) = (y0 / 2, y1.div_ceil(2));
        let range =
            |p: PlaneRows, a: usize, b: usize| (p.offset + a * p.stride, p.offset + b * p.stride);
        let v = if self.interleaved {
            (0, 0)
        } else {
            range(self.chroma[1], c0, c1)
        };
        [range(self.luma, y0, y1), range(self.chroma[0], c0, c1), v]
    }

    /// The chroma byte offsets of pixel column `x` in chroma row `cy`: (U, V).
    #[inline(always)]
    fn chroma_at(&self, x: usize, cy: usize) -> (usize, usize) {
        let cx = x / 2;
        if self.interleaved {
            let o = self.chroma[0].offset + cy * self.chroma[0].stride + 2 * cx;
            (o, o + 1)
        } else {
            (
                self.chroma[0].offset + cy * self.chroma[0].stride + cx,
                self.chroma[1].offset + cy * self.chroma[1].stride + cx,
            )
        }
    }
}

/// The packed pixel "black" takes on in YUV: (16, 128, 128) for limited range.
pub fn yuv_black(full_range: bool) -> [u8; 4] {
    [if full_range { 0 } else { 16 }, 128, 128, 255]
}

/// Unpacks luma rows `rows` of `data` into `packed` (rows `width * 4` bytes apart, same row
/// numbers).
pub fn unpack_rows(layout: &YuvLayout, data: &[u8], rows: (u32, u32), packed: &mut [u8]) {
    let w = layout.width as usize;
    for y in rows.0 as usize..rows.1 as usize {
        let luma = &data[layout.luma.offset + y * layout.luma.stride..][..w];
        let out = &mut packed[y * w * 4..(y + 1) * w * 4];
        for (x, (px, &l)) in out.chunks_exact_mut(4).zip(luma).enumerate() {
            let (u, v) = layout.chroma_at(x, y / 2);
            px.copy_from_slice(&[l, data[u], data[v], 255]);
        }
    }
}

/// Packs luma rows `rows` of `packed` back into `data`, and the chroma rows whose top-left
/// pixels lie in them.
pub fn pack_rows(layout: &YuvLayout, packed: &[u8], rows: (u32, u32), data: &mut [u8]) {
    let w = layout.width as usize;
    for y in rows.0 as usize..rows.1 as usize {
        let src = &packed[y * w * 4..(y + 1) * w * 4];
        let luma = &mut data[layout.luma.offset + y * layout.luma.stride..][..w];
        for (l, px) in luma.iter_mut().zip(src.chunks_exact(4)) {
            *l = px[0];
        }
        if y % 2 == 0 {
            for x in (0..w).step_by(2) {
                let (u, v) = layout.chroma_at(x, y / 2);
                data[u] = src[x * 4 + 1];
                data[v] = src[x * 4 + 2];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i420(w: u32, h: u32) -> YuvLayout {
        let (sy, sc) = (
            (w as usize).next_multiple_of(4),
            (w.div_ceil(2) as usize).next_multiple_of(4),
        );
        let ch = h.div_ceil(2) as usize;
        let u = sy * h as usize;
        YuvLayout::new(w, h, (0, sy), [(u, sc), (u + sc * ch, sc)], false)
    }

    #[test]
    fn unpack_then_pack_gives_back_the_bytes() {
        for (w, h) in [(5u32, 3u32), (8, 4), (1, 1)] {
            let mut layouts = vec![i420(w, h)];
            let i = i420(w, h);
            let uv = (
                i.chroma[0].offset,
                (2 * w.div_ceil(2) as usize).next_multiple_of(4),
            );
            layouts.push(YuvLayout::new(w, h, (0, i.luma.stride), [uv, (0, 0)], true));
            for l in layouts {
                let len = l.chroma.iter().map(PlaneRows::end).max().unwrap() + 8;
                assert!(l.fits(len));
                let data: Vec<u8> = (0..len).map(|i| (i * 37 % 251) as u8).collect();
                let mut packed = vec![0u8; (w * h * 4) as usize];
                unpack_rows(&l, &data, (0, h), &mut packed);
                // Zero the planes' rows, then pack: every pixel byte must come back.
                let mut back = data.clone();
                for (a, b) in l.row_ranges((0, h)) {
                    back[a..b].fill(0);
                }
                pack_rows(&l, &packed, (0, h), &mut back);
                // Unpacking what was packed gives the same pixels.
                let mut unpacked_again = vec![0u8; packed.len()];
                unpack_rows(&l, &back, (0, h), &mut unpacked_again);
                assert_eq!(
                    unpacked_again, packed,
                    "{w}x{h} interleaved={}",
                    l.interleaved
                );
            }
        }
    }

    #[test]
    fn unpacked_pixels_share_their_block_chroma() {
        let l = i420(4, 2);
        let mut data = vec![0u8; 4 * 2 + 4 * 2];
        data[..8].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        data[8..10].copy_from_slice(&[100, 101]); // U
        data[12..14].copy_from_slice(&[200, 201]); // V
        let mut packed = vec![0u8; 32];
        unpack_rows(&l, &data, (0, 2), &mut packed);
        assert_eq!(&packed[..8], &[1, 100, 200, 255, 2, 100, 200, 255]);
        assert_eq!(&packed[28..32], &[8, 101, 201, 255]);
        assert!(!l.fits(10));
    }
}
