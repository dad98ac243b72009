//! Stable track ids from frame to frame: each detection takes the id of the previous frame's
//! box it overlaps most (IoU above a floor), or a fresh id.

use crate::nms::iou;
use mediaai_common::roi::Detection;

/// Minimum IoU with last frame's box for a detection to keep that box's id.
const MATCH_IOU: f32 = 0.3;

/// Assigns ids in place, remembering this frame's boxes for the next call.
#[derive(Debug, Default)]
pub struct TrackIds {
    previous: Vec<Detection>,
    taken: Vec<bool>,
    next_id: u32,
}

impl TrackIds {
    pub fn with_capacity(n: usize) -> Self {
        TrackIds {
            previous: Vec::with_capacity(n),
            taken: Vec::with_capacity(n),
            next_id: 1,
        }
    }

    pub fn reset(&mut self) {
        self.previous.clear();
    }

    /// Gives every detection in `dets` (highest confidence first) an id.
    pub fn assign(&mut self, dets: &mut [Detection]) {
        self.taken.clear();
        self.taken.resize(self.previous.len(), false);
        for d in dets.iter_mut() {
            let best = self
                .previous
                .iter()
                .enumerate()
                .filter(|(i, _)| !self.taken[*i])
                .map(|(i, p)| (i, iou(p, d)))
                .filter(|(_, v)| *v >= MATCH_IOU)
                .max_by(|a, b| a.1.total_cmp(&b.1));
            d.track_id = match best {
                Some((i, _)) => {
                    self.taken[i] = true;
                    self.previous[i].track_id
                }
                None => {
                    let id = self.next_id;
                    self.next_id = self.next_id.wrapping_add(1).max(1);
                    id
                }
            };
        }
        self.previous.clear();
        self.previous.extend_from_slice(dets);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moving_box_keeps_its_id_and_a_new_one_gets_another() {
        let mut t = TrackIds::with_capacity(4);
        let mut a = [Detection {
            x: 0.0,
            y: 0.0,
            w: 10.0,
            h: 10.0,
            confidence: 1.0,
            ..Default::default()
        }];
        t.assign(&mut a);
        let id = a[0].track_id;
        for step in 1..20 {
            let mut b = [
                Detection {
                    x: step as f32,
                    y: 0.0,
                    w: 10.0,
                    h: 10.0,
                    confidence: 1.0,
                    ..Default::default()
                },
                Detection {
                    x: 100.0 + 30.0 * step as f32,
                    y: 0.0,
                    w: 10.0,
                    h: 10.0,
                    confidence: 0.5,
                    ..Default::default()
                },
            ];
            t.assign(&mut b);
            assert_eq!(b[0].track_id, id);
            assert_ne!(b[1].track_id, id);
        }
    }
}
