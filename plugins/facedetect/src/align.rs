//! Face crops turned upright for a recognition network: a square around the detector's box,
//! its longer side times a margin, turned so that the eyes lie level, sampled into the
//! network's planar RGB input.

use mediaai_common::sampler::{PixelSource, YuvMatrix};

/// Where a `side`x`side` crop reads the frame: crop pixel (u, v) at
/// `centre + (u + 0.5 - side / 2) * ax + (v + 0.5 - side / 2) * ay`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crop {
    pub centre: [f32; 2],
    /// The crop's axes in frame pixels per crop pixel.
    pub ax: [f32; 2],
    pub ay: [f32; 2],
    pub side: usize,
}

impl Crop {
    /// The crop of a face boxed at `bx` (x, y, width, height) whose eyes are the first two of
    /// `landmarks` (left, right in the picture): centred on the box, `margin` times its longer
    /// side, turned by the eyes' angle.
    pub fn upright(bx: [f32; 4], landmarks: &[[f32; 2]; 5], side: usize, margin: f32) -> Crop {
        let [left, right] = [landmarks[0], landmarks[1]];
        let angle = (right[1] - left[1]).atan2(right[0] - left[0]);
        let (s, c) = angle.sin_cos();
        let scale = bx[2].max(bx[3]) * margin / side.max(1) as f32;
        Crop {
            centre: [bx[0] + bx[2] / 2.0, bx[1] + bx[3] / 2.0],
            ax: [c * scale, s * scale],
            ay: [-s * scale, c * scale],
            side,
        }
    }

    /// The frame point crop pixel (`u`, `v`) reads.
    pub fn point(&self, u: usize, v: usize) -> [f32; 2] {
        let h = self.side as f32 / 2.0;
        let (du, dv) = (u as f32 + 0.5 - h, v as f32 + 0.5 - h);
        [
            self.centre[0] + du * self.ax[0] + dv * self.ay[0],
            self.centre[1] + du * self.ax[1] + dv * self.ay[1],
        ]
    }

    /// Samples the crop from `src`, a `width`x`height` frame, into `out` as three planes of
    /// `side`x`side` values 0-255 (R, G, B).
    pub fn fill(
        &self,
        src: &PixelSource,
        matrix: &YuvMatrix,
        width: u32,
        height: u32,
        out: &mut [f32],
    ) {
        let n = self.side * self.side;
        for v in 0..self.side {
            for u in 0..self.side {
                let [x, y] = self.point(u, v);
                let rgb = src.rgb_at(matrix, width, height, x, y);
                for (c, value) in rgb.into_iter().enumerate() {
                    out[c * n + v * self.side + u] = value;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_face_is_its_box_and_a_tilted_one_is_turned_upright() {
        let level = [
            [30.0, 40.0],
            [70.0, 40.0],
            [50.0, 55.0],
            [35.0, 70.0],
            [65.0, 70.0],
        ];
        let crop = Crop::upright([10.0, 20.0, 80.0, 100.0], &level, 100, 1.0);
        assert_eq!(crop.centre, [50.0, 70.0]);
        // One crop pixel per frame pixel, the corners on the square around the box's centre.
        let [x, y] = crop.point(0, 0);
        assert!((x - 0.5).abs() < 1e-4 && (y - 20.5).abs() < 1e-4, "{x} {y}");

        // Eyes on a line turned 90 degrees (the head lying on its side): the crop's x axis
        // runs down the frame.
        let turned = [
            [50.0, 30.0],
            [50.0, 70.0],
            [35.0, 50.0],
            [20.0, 35.0],
            [20.0, 65.0],
        ];
        let crop = Crop::upright([0.0, 0.0, 100.0, 100.0], &turned, 10, 1.0);
        assert!(crop.ax[0].abs() < 1e-5 && (crop.ax[1] - 10.0).abs() < 1e-4);
        assert!((crop.ay[0] + 10.0).abs() < 1e-4 && crop.ay[1].abs() < 1e-5);
    }

    #[test]
    fn fill_samples_the_frame_through_the_crop() {
        // A 4x4 RGB frame, red rising to the right, green rising downwards.
        let mut data = vec![0u8; 4 * 4 * 3];
        for y in 0..4 {
            for x in 0..4 {
                data[(y * 4 + x) * 3] = (x * 60) as u8;
                data[(y * 4 + x) * 3 + 1] = (y * 60) as u8;
            }
        }
        let src = PixelSource::Packed {
            data: &data,
            stride: 12,
            pixel_stride: 3,
            offsets: [0, 1, 2],
        };
        let lm = [[1.0, 2.0], [3.0, 2.0], [2.0, 2.5], [1.5, 3.0], [2.5, 3.0]];
        let crop = Crop::upright([0.0, 0.0, 4.0, 4.0], &lm, 4, 1.0);
        let mut out = vec![0.0; 3 * 16];
        crop.fill(&src, &YuvMatrix::new(0.2126, 0.0722, false), 4, 4, &mut out);
        assert_eq!(
            &out[..4],
            &[0.0, 60.0, 120.0, 180.0],
            "red across the first row"
        );
        assert_eq!(out[16 + 12], 180.0, "green down the first column");
    }
}
