//! Face tracking between detections: constant-velocity motion per track, greedy IoU
//! association (a face not yet seen moving matched by distance too), smoothed boxes, stable
//! ids, and tracks held (predicted forward) for a few frames after the detector loses them.
//! The tracker also says when its predictions are not to be trusted, so the detector looks at
//! the next frame: a face seen once (its motion unknown), a face missed, a face that moved
//! other than predicted. Pure maths: no GStreamer types, no allocation once the vectors have
//! grown to the scene's face count.

use crate::nms::iou;
use mediaai_common::roi::Detection;

/// Minimum IoU between a track's predicted box and a detection for them to be the same face.
const MATCH_IOU: f32 = 0.2;
/// Weight of a new measurement in the smoothed box (the rest is the prediction).
const BOX_GAIN: f32 = 0.7;
/// Weight of a new measurement in the smoothed velocity.
const VELOCITY_GAIN: f32 = 0.5;
/// A face seen once is matched to a detection whose centre is at most this many of its sides
/// away per frame elapsed (its velocity is not known yet; a face crossing the picture in a
/// second moves most of its width a frame), up to [`MAX_JUMP_FRAMES`] frames' worth.
const JUMP_PER_FRAME: f32 = 1.5;
const MAX_JUMP_FRAMES: f32 = 2.0;
/// A face whose measured centre was further than this fraction of its side from the
/// prediction moved other than predicted: the detector looks again at the next frame.
const SURPRISE: f32 = 0.25;

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
    unseen: u32,
    /// Times the detector measured it (saturating).
    measured: u32,
    /// Whether the last detection missed it, or found it further from the prediction than
    /// [`SURPRISE`]: its prediction is not to be trusted.
    uncertain: bool,
    /// Whether its motion is known: measured at least twice, the last time where predicted
    /// (not [`SURPRISE`]d). A face lost without it could be anywhere near where it was seen.
    motion_known: bool,
    confidence: f32,
    /// Offsets from the box centre.
    landmarks: Option<[[f32; 2]; 5]>,
    /// This frame's measurement, until the track moves on: the box reported for the frame
    /// covers it as well as the smoothed one, so what hides the face never lags it.
    measured_box: Option<CenterBox>,
}

impl Track {
    fn detection(&self) -> Detection {
        let s = self.state;
        let (x0, y0) = (s.cx - s.w / 2.0, s.cy - s.h / 2.0);
        let (mut x1, mut y1, mut x2, mut y2) = (x0, y0, x0 + s.w, y0 + s.h);
        if let Some(m) = self.measured_box {
            x1 = x1.min(m.cx - m.w / 2.0);
            y1 = y1.min(m.cy - m.h / 2.0);
            x2 = x2.max(m.cx + m.w / 2.0);
            y2 = y2.max(m.cy + m.h / 2.0);
        }
        Detection {
            x: x1,
            y: y1,
            w: x2 - x1,
            h: y2 - y1,
            confidence: self.confidence,
            track_id: self.id,
            predicted_frames: self.unseen,
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
            t.unseen = t.unseen.saturating_add(frames);
            t.measured_box = None;
        }
    }

    /// Whether the next frame should be measured rather than predicted: a face was seen only
    /// once (where it goes is unknown), or the last detection missed one or found it away from
    /// its prediction.
    pub fn needs_detection(&self) -> bool {
        self.tracks.iter().any(|t| t.measured < 2 || t.uncertain)
    }

    /// Whether a face the detector lost is held where it cannot be placed: its motion was not
    /// known when it was lost (seen once, or last found away from its prediction), so its box
    /// follows where it was, not where it went. Between dense measurements the next one finds
    /// it; while a live detector sheds work there may be none for a while, and the frame is
    /// hidden whole instead.
    pub fn lost_unplaced(&self) -> bool {
        self.tracks.iter().any(|t| t.unseen > 0 && !t.motion_known)
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
            // How far a face seen once may have gone, in its sides.
            let reach = if t.measured < 2 {
                JUMP_PER_FRAME * dt.min(MAX_JUMP_FRAMES)
            } else {
                0.0
            };
            for (di, d) in detections.iter().enumerate() {
                let v = iou(&predicted, d);
                if v >= MATCH_IOU {
                    self.pairs.push((v, ti, di));
                } else if reach > 0.0 {
                    // Ranked below every overlap, nearer first.
                    let m = CenterBox::from_detection(d);
                    let side = t.state.w.max(t.state.h).max(1.0);
                    let away = (m.cx - t.state.cx).hypot(m.cy - t.state.cy) / side;
                    let alike = (0.5..=2.0).contains(&(m.w / t.state.w.max(1.0)));
                    if away <= reach && alike {
                        self.pairs
                            .push((0.5 * MATCH_IOU * (1.0 - away / (reach + 1.0)), ti, di));
                    }
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
            // A face seen once had no velocity: its first one is the measured motion.
            let gain = if t.measured < 2 { 1.0 } else { VELOCITY_GAIN };
            t.velocity = CenterBox {
                cx: t.velocity.cx + gain * correction.cx,
                cy: t.velocity.cy + gain * correction.cy,
                w: t.velocity.w + gain * correction.w,
                h: t.velocity.h + gain * correction.h,
            };
            let side = t.state.w.max(t.state.h).max(1.0);
            // (A face seen once was predicted standing still: no surprise that it moved.)
            t.uncertain = t.measured >= 2
                && (measured.cx - t.state.cx).hypot(measured.cy - t.state.cy) > SURPRISE * side;
            // A face seen once moved to where it was measured: its first box was a single view.
            // A face found far from its prediction (after frames the detector shed, a turn)
            // is where it was measured: a box smoothed towards the prediction would lag it,
            // and what hides it must not.
            let box_gain = if t.measured < 2 || t.uncertain {
                1.0
            } else {
                BOX_GAIN
            };
            t.state = t.state.lerp(measured, box_gain);
            t.measured_box = Some(measured);
            t.unseen = 0;
            t.measured = t.measured.saturating_add(1);
            t.motion_known = t.measured >= 2 && !t.uncertain;
            t.confidence = detections[di].confidence;
            t.landmarks = relative_landmarks(&detections[di]);
        }
        let hold = self.hold_frames;
        let mut i = 0;
        while i < self.tracks.len() {
            if !self.track_taken[i] {
                self.tracks[i].uncertain = true;
                if self.tracks[i].unseen > hold {
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
                unseen: 0,
                measured: 1,
                uncertain: false,
                motion_known: false,
                measured_box: None,
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

    /// A face first seen running 60 px a frame (more than its width) keeps its track from the
    /// second detection on, and its motion is then known: the next frames are predicted where
    /// it goes. Until then, and after a miss, the tracker asks for the next frame.
    #[test]
    fn a_fast_new_face_is_followed_from_its_second_detection() {
        let mut t = FaceTracker::new(8, 4);
        let mut out = Vec::new();
        assert!(!t.needs_detection(), "nothing to follow");
        t.update(&[face(0.0, 20.0)], 1);
        assert!(t.needs_detection(), "seen once");
        t.predict(1);
        t.update(&[face(60.0, 20.0)], 1);
        assert!(!t.needs_detection(), "seen moving");
        t.predict(3);
        t.current(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].track_id, 1);
        assert_eq!(out[0].predicted_frames, 3);
        assert!(iou(&out[0], &face(240.0, 20.0)) > 0.9, "{:?}", out[0]);
        t.update(&[], 3);
        assert!(t.needs_detection(), "missed");
    }

    /// A face lost before its motion was known cannot be placed; one lost while followed can
    /// (it is predicted along its motion); a surprising turn makes its motion unknown again.
    #[test]
    fn a_face_lost_before_its_motion_was_known_cannot_be_placed() {
        let mut t = FaceTracker::new(8, 4);
        t.update(&[face(0.0, 20.0)], 1);
        assert!(!t.lost_unplaced(), "seen, not lost");
        t.predict(2);
        t.update(&[], 2);
        assert!(t.lost_unplaced(), "lost after one sighting");

        let mut t = FaceTracker::new(8, 4);
        for k in 0..3 {
            t.predict(1);
            t.update(&[face(10.0 * k as f32, 20.0)], 1);
        }
        t.predict(2);
        t.update(&[], 2);
        assert!(!t.lost_unplaced(), "lost while followed");

        let mut t = FaceTracker::new(8, 4);
        for x in [0.0, 10.0, 20.0, 90.0] {
            t.predict(1);
            t.update(&[face(x, 20.0)], 1);
        }
        t.predict(1);
        t.update(&[], 1);
        assert!(t.lost_unplaced(), "lost just after a turn");
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

    /// Two faces moving past each other keep their own ids, and each box follows its face.
    #[test]
    fn two_faces_keep_separate_ids() {
        let mut t = FaceTracker::new(3, 4);
        let mut out = Vec::new();
        for frame in 0..30 {
            let f = frame as f32;
            let (top, bottom) = (face(200.0 - 3.0 * f, 0.0), face(3.0 * f, 100.0));
            // Given in either order: association, not the list's order, decides.
            let given = if frame % 2 == 0 {
                [top, bottom]
            } else {
                [bottom, top]
            };
            t.predict(1);
            t.update(&given, 1);
            t.current(&mut out);
            assert_eq!(out.len(), 2, "frame {frame}");
            for (id, truth) in [(1, top), (2, bottom)] {
                let d = out.iter().find(|d| d.track_id == id).unwrap();
                assert!(
                    iou(d, &truth) > 0.8,
                    "frame {frame}: track {id} {d:?} vs {truth:?}"
                );
            }
        }
    }
}
