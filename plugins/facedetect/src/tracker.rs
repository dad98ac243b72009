//! Face tracking between detections: constant-velocity motion per track, greedy IoU
//! association, smoothed boxes, stable ids, and tracks held (predicted forward) for a few
//! frames after the detector loses them. Pure maths: no GStreamer types, no allocation once
//! the vectors have grown to the scene's face count.

use crate::nms::iou;
use mediaai_common::roi::Detection;

/// Minimum IoU between a track's predicted box and a detection for them to be the same face.
const MATCH_IOU: f32 = 0.2;
/// Weight of a new measurement in the smoothed box (the rest is the prediction).
const BOX_GAIN: f32 = 0.7;
/// Weight of a new measurement in the smoothed velocity.
const VELOCITY_GAIN: f32 = 0.5;

/// Box as centre and size, the form motion is predicted in.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct CenterBox {
    cx: f32,
    cy: f32,
    w: f32,
    h: f32,
}

impl CenterBox {
    fn from_detection(d: &Detection) -> Self {
        CenterBox {
            cx: d.x + d.w / 2.0,
            cy: d.y + d.h / 2.0,
            w: d.w,
            h: d.h,
        }
    }

    fn lerp(self, other: CenterBox, t: f32) -> CenterBox {
        CenterBox {
            cx: self.cx + (other.cx - self.cx) * t,
            cy: self.cy + (other.cy - self.cy) * t,
            w: self.w + (other.w - self.w) * t,
            h: self.h + (other.h - self.h) * t,
        }
    }

    fn advanced(self, v: CenterBox, frames: f32) -> CenterBox {
        CenterBox {
            cx: self.cx + v.cx * frames,
            cy: self.cy + v.cy * frames,
            w: (self.w + v.w * frames).max(1.0),
            h: (self.h + v.h * frames).max(1.0),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Track {
    id: u32,
    /// Smoothed box at the current frame.
    state: CenterBox,
    /// Change per frame of centre and size.
    velocity: CenterBox,
    /// Frames since the detector last saw this face.
    missed: u32,
    confidence: f32,
    /// Offsets from the box centre.
    landmarks: Option<[[f32; 2]; 5]>,
}

impl Track {
    fn detection(&self) -> Detection {
        let s = self.state;
        Detection {
            x: s.cx - s.w / 2.0,
            y: s.cy - s.h / 2.0,
            w: s.w,
            h: s.h,
            confidence: self.confidence,
            track_id: self.id,
            landmarks: self
                .landmarks
                .map(|lm| lm.map(|p| [p[0] + s.cx, p[1] + s.cy])),
        }
    }
}

/// Landmarks as offsets from the box centre, so they move with a predicted box.
fn relative_landmarks(d: &Detection) -> Option<[[f32; 2]; 5]> {
    let c = CenterBox::from_detection(d);
    d.landmarks.map(|lm| lm.map(|p| [p[0] - c.cx, p[1] - c.cy]))
}

/// Tracks of one video stream.
#[derive(Debug)]
pub struct FaceTracker {
    tracks: Vec<Track>,
    /// Scratch for association: (iou, track index, detection index).
    pairs: Vec<(f32, usize, usize)>,
    track_taken: Vec<bool>,
    det_taken: Vec<bool>,
    next_id: u32,
    /// Frames a lost track is kept, predicted forward.
    pub hold_frames: u32,
}

impl FaceTracker {
    pub fn new(hold_frames: u32, capacity: usize) -> Self {
        FaceTracker {
            tracks: Vec::with_capacity(capacity),
            pairs: Vec::with_capacity(capacity * 4),
            track_taken: Vec::with_capacity(capacity),
            det_taken: Vec::with_capacity(capacity),
            next_id: 1,
            hold_frames,
        }
    }

    /// Forgets every track (after a flush or a caps change); ids keep counting up.
    pub fn reset(&mut self) {
        self.tracks.clear();
    }

    /// Moves every track `frames` frames forward without a measurement: the frames between two
    /// detections, or frames where detection is skipped.
    pub fn predict(&mut self, frames: u32) {
        let f = frames as f32;
        for t in &mut self.tracks {
            t.state = t.state.advanced(t.velocity, f);
        }
    }

    /// Takes this frame's detections (already predicted forward to this frame with
    /// [`Self::predict`]): matched tracks are corrected, new faces start tracks, tracks unseen
    /// for more than `hold_frames` frames end. `frames_since_last` is the number of frames
    /// since the previous call (the detection interval), used to scale velocities.
    pub fn update(&mut self, detections: &[Detection], frames_since_last: u32) {
        let dt = frames_since_last.max(1) as f32;
        self.pairs.clear();
        for (ti, t) in self.tracks.iter().enumerate() {
            let predicted = t.detection();
            for (di, d) in detections.iter().enumerate() {
                let v = iou(&predicted, d);
                if v >= MATCH_IOU {
                    self.pairs.push((v, ti, di));
                }
            }
        }
        self.pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        self.track_taken.clear();
        self.track_taken.resize(self.tracks.len(), false);
        self.det_taken.clear();
        self.det_taken.resize(detections.len(), false);
        for &(_, ti, di) in &self.pairs {
            if self.track_taken[ti] || self.det_taken[di] {
                continue;
            }
            self.track_taken[ti] = true;
            self.det_taken[di] = true;
            let t = &mut self.tracks[ti];
            let measured = CenterBox::from_detection(&detections[di]);
            // The innovation (measurement minus prediction) over the elapsed frames corrects
            // the velocity; the box moves most of the way to the measurement.
            let correction = CenterBox {
                cx: (measured.cx - t.state.cx) / dt,
                cy: (measured.cy - t.state.cy) / dt,
                w: (measured.w - t.state.w) / dt,
                h: (measured.h - t.state.h) / dt,
            };
            t.velocity = CenterBox {
                cx: t.velocity.cx + VELOCITY_GAIN * correction.cx,
                cy: t.velocity.cy + VELOCITY_GAIN * correction.cy,
                w: t.velocity.w + VELOCITY_GAIN * correction.w,
                h: t.velocity.h + VELOCITY_GAIN * correction.h,
            };
            t.state = t.state.lerp(measured, BOX_GAIN);
            t.missed = 0;
            t.confidence = detections[di].confidence;
            t.landmarks = relative_landmarks(&detections[di]);
        }
        let hold = self.hold_frames;
        let mut i = 0;
        while i < self.tracks.len() {
            if !self.track_taken[i] {
                self.tracks[i].missed += frames_since_last.max(1);
                if self.tracks[i].missed > hold {
                    self.tracks.swap_remove(i);
                    self.track_taken.swap_remove(i);
                    continue;
                }
            }
            i += 1;
        }
        for (di, d) in detections.iter().enumerate() {
            if self.det_taken[di] {
                continue;
            }
            let id = self.next_id;
            self.next_id = self.next_id.checked_add(1).unwrap_or(1);
            self.tracks.push(Track {
                id,
                state: CenterBox::from_detection(d),
                velocity: CenterBox::default(),
                missed: 0,
                confidence: d.confidence,
                landmarks: relative_landmarks(d),
            });
        }
        self.tracks.sort_unstable_by_key(|t| t.id);
    }

    /// The current box of every live track (held ones included), ids ascending, into `out`.
    pub fn current(&self, out: &mut Vec<Detection>) {
        out.clear();
        out.extend(self.tracks.iter().map(Track::detection));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, y: f32) -> Detection {
        Detection {
            x,
            y,
            w: 40.0,
            h: 50.0,
            confidence: 0.9,
            ..Default::default()
        }
    }

    #[test]
    fn a_steadily_moving_face_keeps_its_id_and_is_predicted_between_detections() {
        let mut t = FaceTracker::new(5, 4);
        let mut out = Vec::new();
        let speed = 6.0; // px per frame
        for frame in 0..100u32 {
            let truth = face(10.0 + speed * frame as f32, 20.0);
            if frame > 0 {
                t.predict(1);
            }
            if frame % 3 == 0 {
                t.update(&[truth], if frame == 0 { 1 } else { 3 });
            }
            t.current(&mut out);
            assert_eq!(out.len(), 1, "frame {frame}");
            assert_eq!(out[0].track_id, 1, "frame {frame}");
            if frame > 12 {
                let v = iou(&out[0], &truth);
                assert!(v > 0.8, "frame {frame}: IoU {v}, {:?} vs {truth:?}", out[0]);
            }
        }
    }

    #[test]
    fn a_lost_face_is_held_then_dropped() {
        let mut t = FaceTracker::new(2, 4);
        let mut out = Vec::new();
        t.update(&[face(0.0, 0.0)], 1);
        for missing in 1..=3u32 {
            t.predict(1);
            t.update(&[], 1);
            t.current(&mut out);
            assert_eq!(
                out.len(),
                usize::from(missing <= 2),
                "after {missing} missed frames"
            );
        }
    }

    #[test]
    fn two_faces_keep_separate_ids() {
        let mut t = FaceTracker::new(3, 4);
        let mut out = Vec::new();
        for frame in 0..30 {
            let f = frame as f32;
            t.predict(1);
            t.update(&[face(200.0 - 3.0 * f, 0.0), face(3.0 * f, 100.0)], 1);
            t.current(&mut out);
            assert_eq!(out.len(), 2);
            let top = out.iter().find(|d| d.y < 50.0).unwrap();
            assert_eq!(top.track_id, 1);
        }
    }
}
