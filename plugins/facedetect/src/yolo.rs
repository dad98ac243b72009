//! YOLOv8-face style output decoding: one tensor of `channels × anchors` per image (or its
//! transpose), each anchor a box centre and size in input-tensor pixels, a face score, and
//! optionally five landmarks as (x, y, visibility). Values are read in place through strides:
//! no copy of the output tensor, no allocation per candidate, the score tested first.

use mediaai_common::roi::Detection;

/// Channels of an anchor: box (4) + score (1), optionally + 5 landmarks × (x, y, visibility).
pub const CHANNELS_BOX: usize = 5;
pub const CHANNELS_LANDMARKS: usize = 20;

/// How the per-image output is laid out in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YoloLayout {
    /// 5 or 20.
    pub channels: usize,
    /// `false`: `[channels, anchors]` (the usual export); `true`: `[anchors, channels]`.
    pub anchors_first: bool,
}

impl YoloLayout {
    /// Recognises a YOLO face output from its shape `[N, C, A]` or `[N, A, C]` with C 5 or 20;
    /// dynamic dimensions are given as negative values. `None` for any other shape.
    pub fn from_shape(dims: &[i64]) -> Option<Self> {
        let [_, d1, d2] = *dims else {
            return None;
        };
        let is_channels = |d: i64| d == CHANNELS_BOX as i64 || d == CHANNELS_LANDMARKS as i64;
        // Anchors outnumber channels in every real export; a dynamic axis is the anchor axis.
        if is_channels(d1) && (d2 < 0 || d2 > d1) {
            Some(YoloLayout {
                channels: d1 as usize,
                anchors_first: false,
            })
        } else if is_channels(d2) && (d1 < 0 || d1 > d2) {
            Some(YoloLayout {
                channels: d2 as usize,
                anchors_first: true,
            })
        } else {
            None
        }
    }

    /// Anchors per image of an actual output shape, when it matches this layout.
    pub fn anchors(&self, dims: &[i64]) -> Option<usize> {
        let [_, d1, d2] = *dims else {
            return None;
        };
        let (c, a) = if self.anchors_first {
            (d2, d1)
        } else {
            (d1, d2)
        };
        (c == self.channels as i64 && a > 0).then_some(a as usize)
    }
}

/// One image's output of a YOLO face model.
pub struct YoloOutput<'a> {
    pub data: &'a [f32],
    pub layout: YoloLayout,
    pub anchors: usize,
}

impl YoloOutput<'_> {
    #[inline(always)]
    fn at(&self, channel: usize, anchor: usize) -> f32 {
        if self.layout.anchors_first {
            self.data[anchor * self.layout.channels + channel]
        } else {
            self.data[channel * self.anchors + anchor]
        }
    }

    /// Appends every anchor scoring above `threshold` to `out`, in input-tensor pixels
    /// (`in_w`×`in_h`), boxes clipped to the tensor. Returns how many were added.
    pub fn decode(&self, threshold: f32, in_w: f32, in_h: f32, out: &mut Vec<Detection>) -> usize {
        if self.anchors == 0 || self.data.len() < self.anchors * self.layout.channels {
            return 0;
        }
        let before = out.len();
        for a in 0..self.anchors {
            let score = self.at(4, a);
            // NaN scores (a broken export) are skipped too.
            if score.is_nan() || score <= threshold {
                continue;
            }
            let (cx, cy, w, h) = (self.at(0, a), self.at(1, a), self.at(2, a), self.at(3, a));
            let x0 = (cx - w / 2.0).clamp(0.0, in_w);
            let y0 = (cy - h / 2.0).clamp(0.0, in_h);
            let x1 = (cx + w / 2.0).clamp(0.0, in_w);
            let y1 = (cy + h / 2.0).clamp(0.0, in_h);
            if !(x1 > x0 && y1 > y0) {
                continue;
            }
            let landmarks = (self.layout.channels == CHANNELS_LANDMARKS).then(|| {
                let mut lm = [[0.0f32; 2]; 5];
                for (j, p) in lm.iter_mut().enumerate() {
                    *p = [self.at(5 + 3 * j, a), self.at(6 + 3 * j, a)];
                }
                lm
            });
            out.push(Detection {
                x: x0,
                y: y0,
                w: x1 - x0,
                h: y1 - y0,
                confidence: score,
                landmarks,
                ..Default::default()
            });
        }
        out.len() - before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 24 anchors (more than the channels, as in every export), the second a face at (20, 10)
    /// of 8×6 px with landmarks.
    fn anchors() -> Vec<[f32; 20]> {
        let mut face = [0.0f32; 20];
        face[..5].copy_from_slice(&[20.0, 10.0, 8.0, 6.0, 0.9]);
        for j in 0..5 {
            face[5 + 3 * j] = 17.0 + j as f32;
            face[6 + 3 * j] = 8.0 + j as f32;
            face[7 + 3 * j] = 0.8;
        }
        let mut weak = face;
        weak[4] = 0.1;
        let mut nan = face;
        nan[4] = f32::NAN;
        let mut rows = vec![weak, face, nan];
        rows.resize(24, [0.0; 20]);
        rows
    }

    fn check(out: &[Detection]) {
        assert_eq!(out.len(), 1, "{out:?}");
        let d = out[0];
        assert_eq!(
            (d.x, d.y, d.w, d.h, d.confidence),
            (16.0, 7.0, 8.0, 6.0, 0.9)
        );
        assert_eq!(d.landmarks.unwrap()[4], [21.0, 12.0]);
    }

    #[test]
    fn channels_first_and_anchors_first_decode_alike() {
        let rows = anchors();
        let anchors_first: Vec<f32> = rows.iter().flatten().copied().collect();
        let channels_first: Vec<f32> = (0..20)
            .flat_map(|c| rows.iter().map(move |r| r[c]))
            .collect();
        for (data, shape) in [
            (&channels_first, [1, 20, 24]),
            (&anchors_first, [1, 24, 20]),
        ] {
            let layout = YoloLayout::from_shape(&shape).expect("a YOLO face shape");
            let out_ = YoloOutput {
                data,
                layout,
                anchors: layout.anchors(&shape).unwrap(),
            };
            let mut out = Vec::new();
            assert_eq!(out_.decode(0.5, 64.0, 64.0, &mut out), 1);
            check(&out);
        }
    }

    #[test]
    fn shapes_are_recognised_and_refused() {
        let first = YoloLayout {
            channels: 20,
            anchors_first: false,
        };
        assert_eq!(YoloLayout::from_shape(&[1, 20, 8400]), Some(first));
        assert_eq!(YoloLayout::from_shape(&[-1, 20, -1]), Some(first));
        assert_eq!(
            YoloLayout::from_shape(&[1, 8400, 5]),
            Some(YoloLayout {
                channels: 5,
                anchors_first: true
            })
        );
        assert_eq!(YoloLayout::from_shape(&[1, 1, 160, 160]), None);
        assert_eq!(YoloLayout::from_shape(&[1, 16, 25200]), None);
        assert_eq!(first.anchors(&[2, 20, 8400]), Some(8400));
        assert_eq!(first.anchors(&[2, 8400, 20]), None);
    }

    #[test]
    fn short_output_decodes_nothing() {
        let data = [0.9f32; 7];
        let out_ = YoloOutput {
            data: &data,
            layout: YoloLayout {
                channels: 5,
                anchors_first: false,
            },
            anchors: 2,
        };
        let mut out = Vec::new();
        assert_eq!(out_.decode(0.1, 8.0, 8.0, &mut out), 0);
    }
}
