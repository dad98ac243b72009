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
            let (row, col) = ((i / self.map_w) as f32, (i % self.map_w) as f32);
            let s_h = self.scale[i].exp() * STRIDE;
            let s_w = self.scale[plane + i].exp() * STRIDE;
            let o_y = self.offset[i];
            let o_x = self.offset[plane + i];
            let x0 = ((col + o_x + 0.5) * STRIDE - s_w / 2.0).clamp(0.0, in_w);
            let y0 = ((row + o_y + 0.5) * STRIDE - s_h / 2.0).clamp(0.0, in_h);
            let x1 = (x0 + s_w).min(in_w);
            let y1 = (y0 + s_h).min(in_h);
            if !(x1 > x0 && y1 > y0) {
                continue;
            }
            let mut lm = [[0.0f32; 2]; 5];
            for (j, p) in lm.iter_mut().enumerate() {
                p[1] = self.landmarks[(2 * j) * plane + i] * s_h + y0;
                p[0] = self.landmarks[(2 * j + 1) * plane + i] * s_w + x0;
            }
            out.push(Detection {
                x: x0,
                y: y0,
                w: x1 - x0,
                h: y1 - y0,
                confidence: score,
                landmarks: Some(lm),
                ..Default::default()
            });
        }
        out.len() - before
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
