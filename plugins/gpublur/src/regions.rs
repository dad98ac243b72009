//! Mask geometry shared by the CPU and GPU paths: boxes from region metas enlarged by
//! `mask-scale`, clamped to the frame, and the rows each blur mode has to read and write.

use bytemuck::{Pod, Zeroable};
use mediaai_common::roi::RegionBox;

/// One mask as the shaders see it: integer box `[x0, y0, x1, y1)` and ellipse `(cx, cy, rx, ry)`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct MaskRegion {
    pub bbox: [i32; 4],
    pub ellipse: [f32; 4],
}

/// Mask shapes; the discriminant is what the shaders test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskShape {
    Box = 0,
    Ellipse = 1,
}

/// One frame's work, as both engines take it.
#[derive(Debug, Clone, Copy)]
pub struct Blur<'a> {
    /// The masks (the GPU takes at most `gpu::MAX_REGIONS`).
    pub regions: &'a [MaskRegion],
    pub shape: MaskShape,
    pub op: BlurOp,
    /// Half kernel for [`BlurOp::Gaussian`] and [`BlurOp::Pyramid`].
    pub weights: &'a [f32],
    /// Changes whenever `weights` do: the GPU uploads them only then.
    pub weights_generation: u64,
    /// The byte of a pixel that [`BlurOp::Solid`] keeps (4: none).
    pub alpha_index: u32,
    /// Width in pixels of the soft edge inside each mask.
    pub feather: f32,
}

/// What is done inside the mask.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BlurOp {
    /// Separable gaussian of this radius (taps each side).
    Gaussian { radius: u32 },
    /// Frame-grid blocks of this side take their mean.
    Mosaic { block: u32 },
    /// Colour set to black, alpha kept.
    Solid,
    /// Large-sigma gaussian through a pyramid: frame-grid blocks of side `factor` averaged,
    /// blurred with a gaussian of `radius` taps each side over the block grid, then sampled
    /// back bilinearly. Cost stays flat as sigma grows.
    Pyramid { factor: u32, radius: u32 },
    /// Bokeh: blocks of side `factor` (at least 2) averaged, each replaced by the mean over a
    /// disc of `disc` blocks, then sampled back bilinearly.
    Bokeh { factor: u32, disc: f32 },
}

impl MaskRegion {
    /// The box `(x, y, w, h)` scaled by `scale` about its centre and clamped to the frame;
    /// `None` when nothing of it is inside the frame.
    pub fn from_box(
        x: u32,
        y: u32,
        w: u32,
        h: u32,
        scale: f32,
        width: u32,
        height: u32,
    ) -> Option<Self> {
        Self::from_rect(
            [x as f32, y as f32, w as f32, h as f32],
            scale,
            width,
            height,
        )
    }

    /// [`Self::from_box`] for a box `[x, y, w, h]` in sub-pixels that may reach out of the
    /// frame.
    pub fn from_rect(rect: [f32; 4], scale: f32, width: u32, height: u32) -> Option<Self> {
        let [x, y, w, h] = rect;
        if !(w > 0.0 && h > 0.0) || width == 0 || height == 0 {
            return None;
        }
        let cx = x + w / 2.0;
        let cy = y + h / 2.0;
        let rx = w * scale / 2.0;
        let ry = h * scale / 2.0;
        let x0 = (cx - rx).floor().max(0.0) as i32;
        let y0 = (cy - ry).floor().max(0.0) as i32;
        let x1 = ((cx + rx).ceil() as i32).min(width as i32);
        let y1 = ((cy + ry).ceil() as i32).min(height as i32);
        (x1 > x0 && y1 > y0).then_some(MaskRegion {
            bbox: [x0, y0, x1, y1],
            ellipse: [cx, cy, rx, ry],
        })
    }

    /// The whole frame as one box.
    pub fn whole_frame(width: u32, height: u32) -> Self {
        MaskRegion {
            bbox: [0, 0, width as i32, height as i32],
            ellipse: [
                width as f32 / 2.0,
                height as f32 / 2.0,
                width as f32 / 2.0,
                height as f32 / 2.0,
            ],
        }
    }

    /// Whether the mask's box is all of a `width`x`height` frame.
    pub fn covers(&self, width: u32, height: u32) -> bool {
        self.bbox == [0, 0, width as i32, height as i32]
    }

    pub fn width(&self) -> u32 {
        (self.bbox[2] - self.bbox[0]) as u32
    }

    pub fn height(&self) -> u32 {
        (self.bbox[3] - self.bbox[1]) as u32
    }

    /// Whether pixel `(x, y)` is inside the mask (pixel centres against the ellipse).
    #[inline]
    pub fn contains(&self, shape: MaskShape, x: i32, y: i32) -> bool {
        if x < self.bbox[0] || y < self.bbox[1] || x >= self.bbox[2] || y >= self.bbox[3] {
            return false;
        }
        match shape {
            MaskShape::Box => true,
            MaskShape::Ellipse => {
                let dx = (x as f32 + 0.5 - self.ellipse[0]) / self.ellipse[2].max(0.5);
                let dy = (y as f32 + 0.5 - self.ellipse[1]) / self.ellipse[3].max(0.5);
                dx * dx + dy * dy <= 1.0
            }
        }
    }

    /// How far inside the mask pixel `(x, y)` lies, in pixels (0 outside): the distance to the
    /// nearest box edge, or for an ellipse the normalised depth times its smaller radius.
    #[inline]
    pub fn edge_distance(&self, shape: MaskShape, x: i32, y: i32) -> f32 {
        if !self.contains(shape, x, y) {
            return 0.0;
        }
        let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
        match shape {
            MaskShape::Box => (px - self.bbox[0] as f32)
                .min(py - self.bbox[1] as f32)
                .min(self.bbox[2] as f32 - px)
                .min(self.bbox[3] as f32 - py),
            MaskShape::Ellipse => {
                let (rx, ry) = (self.ellipse[2].max(0.5), self.ellipse[3].max(0.5));
                let (dx, dy) = ((px - self.ellipse[0]) / rx, (py - self.ellipse[1]) / ry);
                (1.0 - (dx * dx + dy * dy).sqrt()) * rx.min(ry)
            }
        }
    }

    /// Rows `[start, end)` that `op` reads to produce this region.
    pub fn rows_read(&self, op: BlurOp, height: u32) -> (u32, u32) {
        let (y0, y1) = (self.bbox[1] as u32, self.bbox[3] as u32);
        match op {
            BlurOp::Gaussian { radius } => (y0.saturating_sub(radius), (y1 + radius).min(height)),
            BlurOp::Mosaic { block } => (
                (y0 / block) * block,
                (y1.div_ceil(block) * block).min(height),
            ),
            BlurOp::Solid => (y0, y1),
            BlurOp::Pyramid { factor, radius } => {
                let grid_h = height.div_ceil(factor);
                let r = self.block_range(factor, radius as i32 + 1, grid_h, grid_h);
                (r[1] as u32 * factor, (r[3] as u32 * factor).min(height))
            }
            BlurOp::Bokeh { factor, disc } => {
                let grid_h = height.div_ceil(factor);
                let r = self.block_range(factor, disc.ceil() as i32 + 1, grid_h, grid_h);
                (r[1] as u32 * factor, (r[3] as u32 * factor).min(height))
            }
        }
    }

    /// The blocks of side `factor` that the box touches, widened by `extra` blocks and clamped
    /// to a `grid_w`×`grid_h` block grid: `[bx0, by0, bx1, by1)`. The shaders' `block_range`.
    pub fn block_range(&self, factor: u32, extra: i32, grid_w: u32, grid_h: u32) -> [i32; 4] {
        let f = factor as i32;
        [
            (self.bbox[0] / f - extra).max(0),
            (self.bbox[1] / f - extra).max(0),
            ((self.bbox[2] - 1) / f + 1 + extra).min(grid_w as i32),
            ((self.bbox[3] - 1) / f + 1 + extra).min(grid_h as i32),
        ]
    }
}

/// How much a mask grows, as a fraction of its box's side, per frame between its frame and the
/// nearest measurement of its object: a tracker's prediction, an interpolation or an
/// extrapolation drifts from the face with time. Five per cent a frame covers a face that
/// turns or changes pace between detections four frames apart (the privacy test's faces).
pub const UNCERTAINTY_PER_FRAME: f32 = 0.05;
/// The most a mask grows for its uncertainty (a face held eight frames after it was lost).
pub const MAX_UNCERTAINTY: f32 = 0.4;

fn uncertainty(frames: usize) -> f32 {
    (frames as f32 * UNCERTAINTY_PER_FRAME).min(MAX_UNCERTAINTY)
}

/// Appends to `out` the masks of frame `t` of a window of frames (`lists`: each frame's regions,
/// oldest first), each box scaled by `scale` and clamped to a `width`x`height` frame:
/// - the frame's own regions, grown with the frames since their object was measured;
/// - other frames' regions that no tracker follows, as they are: what was seen just before or
///   after is hidden here too;
/// - every tracked object measured elsewhere in the window but not in frame `t`: its box
///   interpolated between the measurements around `t`; before its first measurement (a face in
///   the picture before the detector looked) carried back along the motion of its first two
///   measurements, or its first box where there is one; after its last, that box. Each grown
///   with the frames to the nearest measurement.
///
/// Allocates nothing: the window is a few frames of a few faces, searched in place.
pub fn window_masks<'a, L>(
    out: &mut Vec<MaskRegion>,
    lists: L,
    t: usize,
    scale: f32,
    width: u32,
    height: u32,
) where
    L: Iterator<Item = &'a [RegionBox]> + Clone,
{
    let mut push = |rect: [f32; 4], grow: f32| {
        out.extend(MaskRegion::from_rect(
            rect,
            scale * (1.0 + grow),
            width,
            height,
        ))
    };
    let measurements = |id: u32| {
        lists.clone().enumerate().flat_map(move |(k, list)| {
            list.iter()
                .filter(move |r| r.track_id == id && r.measures_track())
                .map(move |r| (k, r))
        })
    };
    for (i, list) in lists.clone().enumerate() {
        for r in list {
            if i == t {
                push(r.exact, uncertainty(r.predicted_frames as usize));
                continue;
            }
            if r.track_id == 0 {
                push(r.exact, 0.0);
                continue;
            }
            // Each tracked object once: at its first measurement in the window.
            let first = measurements(r.track_id).next();
            if !first.is_some_and(|(_, f)| std::ptr::eq(f, r)) {
                continue;
            }
            if measurements(r.track_id).any(|(k, _)| k == t) {
                continue;
            }
            let before = measurements(r.track_id).filter(|&(k, _)| k < t).last();
            let mut after = measurements(r.track_id).filter(|&(k, _)| k > t);
            match (before, after.next(), after.next()) {
                (Some((a, ra)), Some((b, rb)), _) => {
                    let f = (t - a) as f32 / (b - a) as f32;
                    push(lerp(ra.exact, rb.exact, f), uncertainty((t - a).min(b - t)));
                }
                (None, Some((b, rb)), Some((c, rc))) => {
                    let f = -((b - t) as f32) / (c - b) as f32;
                    push(lerp(rb.exact, rc.exact, f), uncertainty(b - t));
                }
                (None, Some((b, rb)), None) => push(rb.exact, uncertainty(b - t)),
                (Some((a, ra)), None, _) => push(ra.exact, uncertainty(t - a)),
                (None, None, _) => {}
            }
        }
    }
}

/// `a + (b - a) * f` per component, sides kept at least a pixel (`f` outside 0..1
/// extrapolates).
fn lerp(a: [f32; 4], b: [f32; 4], f: f32) -> [f32; 4] {
    let mut r = [0.0; 4];
    for i in 0..4 {
        r[i] = a[i] + (b[i] - a[i]) * f;
    }
    r[2] = r[2].max(1.0);
    r[3] = r[3].max(1.0);
    r
}

/// Blend weight of the effect at `(x, y)`: 1 with a hard edge (`feather` 0), else the largest
/// over `regions` of the depth inside the mask over the feather width. The shaders' `coverage`.
pub fn coverage(regions: &[MaskRegion], shape: MaskShape, feather: f32, x: i32, y: i32) -> f32 {
    if feather <= 0.0 {
        return 1.0;
    }
    regions
        .iter()
        .map(|r| (r.edge_distance(shape, x, y) / feather).clamp(0.0, 1.0))
        .fold(0.0, f32::max)
}

/// Row bands of one frame: what must be uploaded (read) and what can change (written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bands {
    pub read: (u32, u32),
    pub write: (u32, u32),
}

/// The bands covering every region, or `None` when there are no regions.
pub fn bands(regions: &[MaskRegion], op: BlurOp, height: u32) -> Option<Bands> {
    let mut it = regions.iter();
    let first = it.next()?;
    let mut read = first.rows_read(op, height);
    let mut write = (first.bbox[1] as u32, first.bbox[3] as u32);
    for r in it {
        let (a, b) = r.rows_read(op, height);
        read = (read.0.min(a), read.1.max(b));
        write = (write.0.min(r.bbox[1] as u32), write.1.max(r.bbox[3] as u32));
    }
    Some(Bands { read, write })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_box_is_centred_and_clamped() {
        let r = MaskRegion::from_box(10, 10, 20, 10, 2.0, 40, 25).unwrap();
        assert_eq!(r.bbox, [0, 5, 40, 25]);
        assert!(MaskRegion::from_box(100, 100, 5, 5, 1.0, 50, 50).is_none());
        assert!(MaskRegion::from_box(0, 0, 0, 5, 1.0, 50, 50).is_none());
    }

    #[test]
    fn ellipse_excludes_corners() {
        let r = MaskRegion::from_box(0, 0, 10, 10, 1.0, 10, 10).unwrap();
        assert!(r.contains(MaskShape::Ellipse, 5, 5));
        assert!(!r.contains(MaskShape::Ellipse, 0, 0));
        assert!(r.contains(MaskShape::Box, 0, 0));
        assert!(!r.contains(MaskShape::Box, 10, 0));
    }

    #[test]
    fn feathered_coverage_rises_from_the_edge() {
        let r = MaskRegion::from_box(0, 0, 20, 20, 1.0, 20, 20).unwrap();
        assert_eq!(coverage(&[r], MaskShape::Box, 0.0, 0, 0), 1.0);
        assert!((coverage(&[r], MaskShape::Box, 4.0, 0, 10) - 0.125).abs() < 1e-6);
        assert_eq!(coverage(&[r], MaskShape::Box, 4.0, 10, 10), 1.0);
        assert_eq!(coverage(&[r], MaskShape::Ellipse, 4.0, 0, 0), 0.0);
    }

    fn tracked(x: f32, id: u32, predicted_frames: u32) -> RegionBox {
        RegionBox {
            x: x.max(0.0) as u32,
            y: 10,
            w: 20,
            h: 20,
            exact: [x, 10.0, 20.0, 20.0],
            track_id: id,
            predicted_frames,
        }
    }

    fn masks_of(window: &[Vec<RegionBox>], t: usize) -> Vec<MaskRegion> {
        let mut out = Vec::new();
        window_masks(&mut out, window.iter().map(Vec::as_slice), t, 1.0, 400, 100);
        out
    }

    /// A face running 30 px a frame, measured in frames 0 and 4 (the tracker standing still in
    /// between: it had not yet seen it move): frame 2 is masked where the face is, halfway.
    #[test]
    fn a_fast_face_between_measurements_is_masked_where_it_is() {
        let window = vec![
            vec![tracked(0.0, 1, 0)],
            vec![tracked(0.0, 1, 1)],
            vec![tracked(0.0, 1, 2)],
            vec![tracked(0.0, 1, 3)],
            vec![tracked(120.0, 1, 0)],
        ];
        let masks = masks_of(&window, 2);
        assert!(
            masks
                .iter()
                .any(|m| m.contains(MaskShape::Box, 60, 20) && m.contains(MaskShape::Box, 79, 29)),
            "{masks:?}"
        );
        // Two frames from a measurement: grown by 10%.
        let halfway = masks.iter().find(|m| m.bbox[0] > 40).unwrap();
        assert_eq!(halfway.width(), 22);
    }

    /// A face in the picture two frames before the detector first measured it, entering at
    /// 30 px a frame: carried back along the motion of its first two measurements. With one
    /// measurement only, its first box stands in.
    #[test]
    fn a_face_before_its_first_measurement_is_carried_back_along_its_motion() {
        let window = vec![
            vec![],
            vec![],
            vec![tracked(100.0, 3, 0)],
            vec![tracked(130.0, 3, 0)],
        ];
        let masks = masks_of(&window, 0);
        assert_eq!(masks.len(), 1, "{masks:?}");
        assert!(masks[0].contains(MaskShape::Box, 40, 20), "{masks:?}");
        assert!(masks[0].contains(MaskShape::Box, 59, 20), "{masks:?}");
        let masks = masks_of(&window[..3], 0);
        assert!(masks[0].contains(MaskShape::Box, 100, 20), "{masks:?}");
    }

    /// Regions no tracker follows are hidden across the whole window; a tracked face measured
    /// in the frame itself takes its own box only.
    #[test]
    fn untracked_regions_cover_the_window_and_measured_faces_their_own_box() {
        let untracked = RegionBox {
            track_id: 0,
            ..tracked(300.0, 0, 0)
        };
        let window = vec![
            vec![tracked(0.0, 1, 0), untracked],
            vec![tracked(30.0, 1, 0)],
            vec![tracked(60.0, 1, 0)],
        ];
        let mut boxes: Vec<_> = masks_of(&window, 1).iter().map(|m| m.bbox).collect();
        boxes.sort();
        assert_eq!(boxes, [[30, 10, 50, 30], [300, 10, 320, 30]]);
    }

    #[test]
    fn bands_cover_the_kernel_support() {
        let a = MaskRegion::from_box(0, 10, 4, 4, 1.0, 100, 100).unwrap();
        let b = MaskRegion::from_box(0, 50, 4, 4, 1.0, 100, 100).unwrap();
        let got = bands(&[a, b], BlurOp::Gaussian { radius: 12 }, 100).unwrap();
        assert_eq!(
            got,
            Bands {
                read: (0, 66),
                write: (10, 54)
            }
        );
        let got = bands(&[b], BlurOp::Mosaic { block: 16 }, 100).unwrap();
        assert_eq!(got.read, (48, 64));
        assert!(bands(&[], BlurOp::Solid, 100).is_none());
    }
}
