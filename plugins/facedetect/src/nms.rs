//! Greedy non-maximum suppression in place.

use mediaai_common::roi::Detection;

/// Intersection over union of two boxes.
pub fn iou(a: &Detection, b: &Detection) -> f32 {
    let ix = ((a.x + a.w).min(b.x + b.w) - a.x.max(b.x)).max(0.0);
    let iy = ((a.y + a.h).min(b.y + b.h) - a.y.max(b.y)).max(0.0);
    let inter = ix * iy;
    let union = a.w * a.h + b.w * b.h - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// Keeps the highest-scoring box of every group overlapping by more than `iou_threshold`,
/// ordered by score, highest first. Works in place: no allocation.
pub fn suppress(dets: &mut Vec<Detection>, iou_threshold: f32) {
    dets.sort_unstable_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let mut kept = 0;
    for i in 0..dets.len() {
        let cand = dets[i];
        if dets[..kept].iter().all(|k| iou(k, &cand) <= iou_threshold) {
            dets[kept] = cand;
            kept += 1;
        }
    }
    dets.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, y: f32, s: f32, c: f32) -> Detection {
        Detection {
            x,
            y,
            w: s,
            h: s,
            confidence: c,
            ..Default::default()
        }
    }

    #[test]
    fn overlapping_boxes_collapse_to_the_best() {
        let mut v = vec![
            det(0.0, 0.0, 10.0, 0.6),
            det(1.0, 1.0, 10.0, 0.9),
            det(50.0, 50.0, 10.0, 0.7),
        ];
        suppress(&mut v, 0.3);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].confidence, 0.9);
        assert_eq!(v[1].confidence, 0.7);
    }

    #[test]
    fn iou_of_disjoint_and_identical() {
        assert_eq!(iou(&det(0.0, 0.0, 1.0, 1.0), &det(5.0, 5.0, 1.0, 1.0)), 0.0);
        assert!((iou(&det(0.0, 0.0, 4.0, 1.0), &det(0.0, 0.0, 4.0, 1.0)) - 1.0).abs() < 1e-6);
    }
}
