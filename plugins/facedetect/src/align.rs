//! Face crops for a recognition network, sampled into its planar RGB input: either a square
//! around the detector's box, its longer side times a margin, turned so that the eyes lie level
//! ([`Crop::upright`]), or the face's five landmarks fitted onto where the network's training
//! put them ([`Crop::aligned`], e.g. dlib's face chip, [`DLIB_CHIP`]).

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

    /// The crop that puts a face's five `landmarks` (eyes, nose tip, mouth corners, as the
    /// detector gives them) where `template` says they lie in a `side`x`side` crop, as nearly
    /// as a turn, a scale and a shift can (least squares).
    pub fn aligned(landmarks: &[[f32; 2]; 5], template: &[[f32; 2]; 5], side: usize) -> Crop {
        let mean = |p: &[[f32; 2]; 5]| {
            let (x, y) = p.iter().fold((0.0, 0.0), |(x, y), q| (x + q[0], y + q[1]));
            [x / 5.0, y / 5.0]
        };
        let (mt, ml) = (mean(template), mean(landmarks));
        // Frame = s * R * (crop - mt) + ml: the similarity (a, b) = s * (cos, sin) that best
        // maps the template's points onto the landmarks.
        let (mut a, mut b, mut n) = (0.0f32, 0.0f32, 0.0f32);
        for (t, l) in template.iter().zip(landmarks) {
            let (tx, ty) = (t[0] - mt[0], t[1] - mt[1]);
            let (lx, ly) = (l[0] - ml[0], l[1] - ml[1]);
            a += tx * lx + ty * ly;
            b += tx * ly - ty * lx;
            n += tx * tx + ty * ty;
        }
        let (a, b) = if n > 0.0 { (a / n, b / n) } else { (1.0, 0.0) };
        let h = side as f32 / 2.0;
        let (dx, dy) = (h - mt[0], h - mt[1]);
        Crop {
            centre: [ml[0] + a * dx - b * dy, ml[1] + b * dx + a * dy],
            ax: [a, b],
            ay: [-b, a],
            side,
        }
    }

    /// Frame pixels per crop pixel.
    pub fn scale(&self) -> f32 {
        self.ax[0].hypot(self.ax[1])
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
    /// `side`x`side` values 0-255 (R, G, B). A crop that shrinks the face averages k x k
    /// samples per crop pixel (k the shrink, rounded up, at most 4) so that fine detail does not
    /// alias into the descriptor.
    pub fn fill(
        &self,
        src: &PixelSource,
        matrix: &YuvMatrix,
        width: u32,
        height: u32,
        out: &mut [f32],
    ) {
        let n = self.side * self.side;
        let k = (self.scale().ceil() as usize).clamp(1, 4);
        let step = 1.0 / k as f32;
        let weight = step * step;
        for v in 0..self.side {
            for u in 0..self.side {
                let mut sum = [0.0f32; 3];
                for j in 0..k {
                    for i in 0..k {
                        let (du, dv) =
                            ((i as f32 + 0.5) * step - 0.5, (j as f32 + 0.5) * step - 0.5);
                        let [x, y] = self.point(u, v);
                        let x = x + du * self.ax[0] + dv * self.ay[0];
                        let y = y + du * self.ax[1] + dv * self.ay[1];
                        let rgb = src.rgb_at(matrix, width, height, x, y);
                        for (total, value) in sum.iter_mut().zip(rgb) {
                            *total += value * weight;
                        }
                    }
                }
                for (c, value) in sum.into_iter().enumerate() {
                    out[c * n + v * self.side + u] = value;
                }
            }
        }
    }
}

/// dlib's 150x150 face chip with its default padding of 0.25 (`get_face_chip_details`, which
/// dlib's face recognition network was trained on), in the detector's five landmarks: where
/// the chip puts the eye centres, the nose tip and the mouth corners of dlib's mean face
/// (the 68-point mean shape's eye contours averaged, points 30, 48 and 54), at
/// (0.25 + mean) * 100 pixels.
pub const DLIB_CHIP: [[f32; 2]; 5] = [
    [47.5492, 46.5990],
    [100.4761, 46.5990],
    [74.0127, 76.5625],
    [50.4149, 103.0233],
    [97.6104, 103.0233],
];

/// How a recognition network wants its faces cropped (its model's `mediaai.alignment`
/// metadata: `dlib-chip`; none: a box crop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alignment {
    /// [`Crop::upright`] with a margin.
    Box,
    /// [`Crop::aligned`] onto [`DLIB_CHIP`] scaled to the network's side.
    DlibChip,
}

impl Alignment {
    /// The crop of a face boxed at `bx` with `landmarks` for a network of input `side`.
    pub fn crop(self, bx: [f32; 4], landmarks: &[[f32; 2]; 5], side: usize, margin: f32) -> Crop {
        match self {
            Alignment::Box => Crop::upright(bx, landmarks, side, margin),
            Alignment::DlibChip => {
                let k = side as f32 / 150.0;
                // dlib counts pixel centres from 0, a crop here from 0.5.
                let template = DLIB_CHIP.map(|[x, y]| [x * k + 0.5, y * k + 0.5]);
                Crop::aligned(landmarks, &template, side)
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
    fn aligned_puts_the_landmarks_where_the_template_says() {
        // The template turned by 30 degrees, scaled by 2.5 and moved: the crop maps each
        // template point back onto its landmark.
        let (s, c) = (30f32.to_radians().sin(), 30f32.to_radians().cos());
        let landmarks =
            DLIB_CHIP.map(|[x, y]| [400.0 + 2.5 * (c * x - s * y), 300.0 + 2.5 * (s * x + c * y)]);
        let crop = Crop::aligned(&landmarks, &DLIB_CHIP, 150);
        assert!((crop.scale() - 2.5).abs() < 1e-3, "{}", crop.scale());
        for (t, l) in DLIB_CHIP.iter().zip(&landmarks) {
            // Crop pixel (u, v) covers [u, u + 1): the template point t is at u = t - 0.5.
            let h = 75.0;
            let (du, dv) = (t[0] - h, t[1] - h);
            let x = crop.centre[0] + du * crop.ax[0] + dv * crop.ay[0];
            let y = crop.centre[1] + du * crop.ax[1] + dv * crop.ay[1];
            assert!(
                (x - l[0]).abs() < 1e-2 && (y - l[1]).abs() < 1e-2,
                "{x},{y} vs {l:?}"
            );
        }
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
