//! CenterFace output decoding: heatmap peaks above a threshold become boxes from the scale and
//! offset maps, with five landmarks; no GStreamer types, no allocation beyond the caller's
//! vector.

use mediaai_common::roi::Detection;

/// The four output maps of one image, each `channels × map_h × map_w`, row-major.
pub struct CenterFaceMaps<'a> {
    pub heatmap: &'a [f32],
    pub scale: &'a [f32],
    pub offset: &'a [f32],
    pub landmarks: &'a [f32],
    pub map_w: usize,
    pub map_h: usize,
}

/// Network stride between the input tensor and its output maps.
pub const STRIDE: f32 = 4.0;

impl CenterFaceMaps<'_> {
    /// Whether every map has the length its channel count needs.
    pub fn is_consistent(&self) -> bool {
        let plane = self.map_w * self.map_h;
        plane > 0
            && self.heatmap.len() >= plane
            && self.scale.len() >= 2 * plane
            && self.offset.len() >= 2 * plane
            && self.landmarks.len() >= 10 * plane
    }

    /// Appends every peak with score above `threshold` to `out`, in input-tensor pixels
    /// (`in_w`×`in_h`), boxes clipped to the tensor. Returns how many were added.
    pub fn decode(&self, threshold: f32, in_w: f32, in_h: f32, out: &mut Vec<Detection>) -> usize {
        if !self.is_consistent() {
            return 0;
        }
        let plane = self.map_w * self.map_h;
        let before = out.len();
        for (i, &score) in self.heatmap[..plane].iter().enumerate() {
            if score <= threshold {
                continue;
            }
            let cell = Cell {
                score,
                row: (i / self.map_w) as f32,
                col: (i % self.map_w) as f32,
                at: |c: usize| {
                    [self.scale, self.offset, self.landmarks][c / 16][(c % 16) * plane + i]
                },
            };
            out.extend(cell.detection(in_w, in_h));
        }
        out.len() - before
    }
}

/// What a GPU provider's CenterFace gives back of one image instead of the maps (see
/// `models/fetch.py`, CENTERFACE_GPU): the heatmap's best `k` cells, best first, and the scale,
/// offset and landmark values at each, channel by channel (`2|2|10 × k`).
pub struct CenterFacePeaks<'a> {
    pub scores: &'a [f32],
    /// Each score's cell, `row * map_w + column`, as a float.
    pub cells: &'a [f32],
    pub scale: &'a [f32],
    pub offset: &'a [f32],
    pub landmarks: &'a [f32],
    pub map_w: usize,
}

impl CenterFacePeaks<'_> {
    /// Whether every part has the length `k` scores need.
    pub fn is_consistent(&self) -> bool {
        let k = self.scores.len();
        self.map_w > 0
            && self.cells.len() == k
            && self.scale.len() == 2 * k
            && self.offset.len() == 2 * k
            && self.landmarks.len() == 10 * k
    }

    /// [`CenterFaceMaps::decode`] of the same image: the cells above `threshold`, the same
    /// boxes, in score order.
    pub fn decode(&self, threshold: f32, in_w: f32, in_h: f32, out: &mut Vec<Detection>) -> usize {
        if !self.is_consistent() {
            return 0;
        }
        let k = self.scores.len();
        let before = out.len();
        for (j, (&score, &cell)) in self.scores.iter().zip(self.cells).enumerate() {
            // Best first: the rest are below too (a NaN score is kept, as the maps keep it).
            if score <= threshold {
                break;
            }
            let index = cell as usize;
            let cell = Cell {
                score,
                row: (index / self.map_w) as f32,
                col: (index % self.map_w) as f32,
                at: |c: usize| [self.scale, self.offset, self.landmarks][c / 16][(c % 16) * k + j],
            };
            out.extend(cell.detection(in_w, in_h));
        }
        out.len() - before
    }
}

/// One heatmap cell above the threshold and its values: `at(16 * map + channel)` reads channel
/// `channel` of map 0 (scale), 1 (offset) or 2 (landmarks) there.
struct Cell<F: Fn(usize) -> f32> {
    score: f32,
    row: f32,
    col: f32,
    at: F,
}

impl<F: Fn(usize) -> f32> Cell<F> {
    /// The face this cell stands for, in input-tensor pixels (`in_w`×`in_h`), its box clipped
    /// to the tensor; none when nothing of it is left.
    #[inline(always)]
    fn detection(&self, in_w: f32, in_h: f32) -> Option<Detection> {
        let at = &self.at;
        let s_h = at(0).exp() * STRIDE;
        let s_w = at(1).exp() * STRIDE;
        let (o_y, o_x) = (at(16), at(17));
        let x0 = ((self.col + o_x + 0.5) * STRIDE - s_w / 2.0).clamp(0.0, in_w);
        let y0 = ((self.row + o_y + 0.5) * STRIDE - s_h / 2.0).clamp(0.0, in_h);
        let x1 = (x0 + s_w).min(in_w);
        let y1 = (y0 + s_h).min(in_h);
        if !(x1 > x0 && y1 > y0) {
            return None;
        }
        let mut lm = [[0.0f32; 2]; 5];
        for (j, p) in lm.iter_mut().enumerate() {
            p[1] = at(32 + 2 * j) * s_h + y0;
            p[0] = at(32 + 2 * j + 1) * s_w + x0;
        }
        Some(Detection {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
            confidence: self.score,
            landmarks: Some(lm),
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_peak_becomes_one_box() {
        let (w, h) = (4usize, 3usize);
        let plane = w * h;
        let mut heat = vec![0.0; plane];
        heat[plane - 1] = 0.9; // row 2, col 3
        let scale = vec![(2.0f32).ln(); 2 * plane]; // exp(..)*4 = 8 px
        let offset = vec![0.0; 2 * plane];
        let lms = vec![0.5; 10 * plane];
        let maps = CenterFaceMaps {
            heatmap: &heat,
            scale: &scale,
            offset: &offset,
            landmarks: &lms,
            map_w: w,
            map_h: h,
        };
        let mut out = Vec::new();
        assert_eq!(maps.decode(0.5, 16.0, 12.0, &mut out), 1);
        let d = out[0];
        // centre (3.5*4, 2.5*4) = (14, 10), size 8 → clipped to the 16×12 tensor.
        assert!(
            (d.x - 10.0).abs() < 1e-4 && (d.y - 6.0).abs() < 1e-4,
            "{d:?}"
        );
        assert!(
            (d.w - 6.0).abs() < 1e-4 && (d.h - 6.0).abs() < 1e-4,
            "{d:?}"
        );
        assert!((d.landmarks.unwrap()[0][0] - 14.0).abs() < 1e-4);
    }

    /// The best cells of random maps, gathered as the GPU model gathers them, decode to the
    /// maps' own detections (in score order).
    #[test]
    fn peaks_decode_as_the_maps_do() {
        let (w, h) = (7usize, 5usize);
        let plane = w * h;
        let mut x = 12345u32;
        let mut rnd = || {
            x = x.wrapping_mul(1664525).wrapping_add(1013904223);
            (x >> 8) as f32 / (1u32 << 24) as f32
        };
        let heat: Vec<f32> = (0..plane).map(|_| rnd()).collect();
        let scale: Vec<f32> = (0..2 * plane).map(|_| rnd() + 1.0).collect();
        let offset: Vec<f32> = (0..2 * plane).map(|_| rnd() - 0.5).collect();
        let lms: Vec<f32> = (0..10 * plane).map(|_| rnd()).collect();
        let maps = CenterFaceMaps {
            heatmap: &heat,
            scale: &scale,
            offset: &offset,
            landmarks: &lms,
            map_w: w,
            map_h: h,
        };
        let mut expected = Vec::new();
        maps.decode(0.6, 28.0, 20.0, &mut expected);
        assert!(expected.len() > 3);
        // Top 20 cells, best first, and each map's values there.
        let mut order: Vec<usize> = (0..plane).collect();
        order.sort_by(|&a, &b| heat[b].total_cmp(&heat[a]));
        order.truncate(20);
        let k = order.len();
        let gather = |m: &[f32], c: usize| -> Vec<f32> {
            (0..c)
                .flat_map(|ch| order.iter().map(move |&i| m[ch * plane + i]))
                .collect()
        };
        let scores: Vec<f32> = order.iter().map(|&i| heat[i]).collect();
        let cells: Vec<f32> = order.iter().map(|&i| i as f32).collect();
        let (sc, of, lm) = (gather(&scale, 2), gather(&offset, 2), gather(&lms, 10));
        let peaks = CenterFacePeaks {
            scores: &scores,
            cells: &cells,
            scale: &sc,
            offset: &of,
            landmarks: &lm,
            map_w: w,
        };
        assert_eq!(sc.len(), 2 * k);
        let mut got = Vec::new();
        peaks.decode(0.6, 28.0, 20.0, &mut got);
        expected.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        assert_eq!(got, expected);
    }

    #[test]
    fn short_maps_decode_nothing() {
        let z = [0.9f32; 3];
        let maps = CenterFaceMaps {
            heatmap: &z,
            scale: &z,
            offset: &z,
            landmarks: &z,
            map_w: 2,
            map_h: 2,
        };
        let mut out = Vec::new();
        assert_eq!(maps.decode(0.1, 8.0, 8.0, &mut out), 0);
    }
}
