//! Detections on buffers: `GstVideoRegionOfInterestMeta` with a `detection` parameter, as
//! DESIGN.md's contract between elements describes.

use gst_video::VideoRegionOfInterestMeta;

/// Name of the parameter structure attached to each region.
pub const DETECTION_PARAM: &str = "detection";

/// The sticky event a detector sends downstream (`mediaai-detection-gap`, field `frames`): how
/// many frames after an object enters the picture the detector has measured it twice — found
/// it, and seen it move (0: it measures every frame). An element that hides what was detected
/// holds that many frames back, so an object is hidden from its first frame, where it was
/// then, without the user matching the two elements' numbers.
pub const DETECTION_GAP_EVENT: &str = "mediaai-detection-gap";

/// The [`DETECTION_GAP_EVENT`] for a gap of `frames`.
pub fn detection_gap_event(frames: u32) -> gst::Event {
    gst::event::CustomDownstreamSticky::new(
        gst::Structure::builder(DETECTION_GAP_EVENT)
            .field("frames", frames)
            .build(),
    )
}

/// The gap an event announces, when it is a [`DETECTION_GAP_EVENT`].
pub fn detection_gap(event: &gst::EventRef) -> Option<u32> {
    match event.view() {
        gst::EventView::CustomDownstreamSticky(e) => e
            .structure()
            .filter(|s| s.name() == DETECTION_GAP_EVENT)
            .and_then(|s| s.get::<u32>("frames").ok()),
        _ => None,
    }
}

/// A detected object in the buffer's own pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Detection {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub confidence: f32,
    pub track_id: u32,
    /// Frames since the detector last measured this object: 0 when this frame's box is a
    /// measurement, else the tracker's prediction from its motion.
    pub predicted_frames: u32,
    /// Five (x, y) points: eyes, nose, mouth corners, when the model gives them.
    pub landmarks: Option<[[f32; 2]; 5]>,
}

impl Detection {
    /// The box as integer pixels clamped to a `width`×`height` frame: (x, y, w, h).
    pub fn clamped_rect(&self, width: u32, height: u32) -> (u32, u32, u32, u32) {
        let clamp = |v: f32, max: u32| (v.max(0.0).round() as u32).min(max);
        let x0 = clamp(self.x, width);
        let y0 = clamp(self.y, height);
        let x1 = clamp(self.x + self.w, width).max(x0);
        let y1 = clamp(self.y + self.h, height).max(y0);
        (x0, y0, x1 - x0, y1 - y0)
    }
}

/// Attaches `det` as a region of interest of type `roi_type`, with its `detection` structure:
/// `confidence`, `track-id`, `predicted-frames` (0: measured in this frame), the box before it
/// was clamped to the frame and rounded (`x`, `y`, `width`, `height`, doubles: a face half out
/// of the picture keeps its size and its motion), and `landmarks` as ten doubles
/// x0,y0,…,x4,y4.
pub fn attach_detection(
    buffer: &mut gst::BufferRef,
    roi_type: &str,
    det: &Detection,
    width: u32,
    height: u32,
) {
    let mut meta =
        VideoRegionOfInterestMeta::add(buffer, roi_type, det.clamped_rect(width, height));
    let mut s = gst::Structure::builder(DETECTION_PARAM)
        .field("confidence", det.confidence as f64)
        .field("track-id", det.track_id)
        .field("predicted-frames", det.predicted_frames)
        .field("x", det.x as f64)
        .field("y", det.y as f64)
        .field("width", det.w as f64)
        .field("height", det.h as f64);
    if let Some(lm) = det.landmarks {
        s = s.field(
            "landmarks",
            gst::Array::new(lm.iter().flat_map(|p| [p[0] as f64, p[1] as f64])),
        );
    }
    meta.add_param(s.build());
}

/// Field of the `detection` structure of a region that covers a whole frame no measurement
/// covered (a live detector shedding work, or its network not ready yet): hide all of it.
pub const UNMEASURED_FIELD: &str = "unmeasured";

/// Marks all of a `width`x`height` frame as a region of type `roi_type` that no tracker
/// follows (track id 0), its `detection` structure saying [`UNMEASURED_FIELD`]: an element
/// that hides regions hides the frame, and (holding frames back) the frames around it.
pub fn attach_unmeasured_frame(
    buffer: &mut gst::BufferRef,
    roi_type: &str,
    width: u32,
    height: u32,
) {
    let mut meta = VideoRegionOfInterestMeta::add(buffer, roi_type, (0, 0, width, height));
    meta.add_param(
        gst::Structure::builder(DETECTION_PARAM)
            .field("confidence", 0.0f64)
            .field("track-id", 0u32)
            .field("predicted-frames", 0u32)
            .field(UNMEASURED_FIELD, true)
            .build(),
    );
}

/// Whether `meta` is a whole frame a detector could not measure ([`attach_unmeasured_frame`]).
pub fn is_unmeasured_frame(meta: &VideoRegionOfInterestMeta) -> bool {
    meta.param(DETECTION_PARAM)
        .is_some_and(|s| s.get::<bool>(UNMEASURED_FIELD).unwrap_or(false))
}

/// A region read back from a buffer: its integer pixel box, and what a detector's `detection`
/// structure says of it (defaults where a region has none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionBox {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// The box before clamping and rounding (x, y, w, h); the integer box where not given.
    pub exact: [f32; 4],
    /// The tracked object it belongs to (0: none).
    pub track_id: u32,
    /// Frames since the object was last measured (0: measured in this frame, or not said).
    pub predicted_frames: u32,
}

impl RegionBox {
    /// Whether this box is a detector's measurement of a tracked object in its frame.
    pub fn measures_track(&self) -> bool {
        self.track_id != 0 && self.predicted_frames == 0
    }
}

/// Appends to `out` every region whose type is one of `types` (all types when `types` holds
/// `*`). `out` is cleared first; its capacity is reused, so steady state allocates nothing.
pub fn collect_regions(buffer: &gst::BufferRef, types: &[String], out: &mut Vec<RegionBox>) {
    out.clear();
    let any = types.iter().any(|t| t == "*");
    for meta in buffer.iter_meta::<VideoRegionOfInterestMeta>() {
        if any || types.iter().any(|t| t == meta.roi_type()) {
            let (x, y, w, h) = meta.rect();
            let mut region = RegionBox {
                x,
                y,
                w,
                h,
                exact: exact_box(&meta),
                track_id: 0,
                predicted_frames: 0,
            };
            if let Some(p) = meta.param(DETECTION_PARAM) {
                region.track_id = p.get::<u32>("track-id").unwrap_or(0);
                region.predicted_frames = p.get::<u32>("predicted-frames").unwrap_or(0);
            }
            out.push(region);
        }
    }
}

/// A region's box before clamping and rounding (x, y, width, height) as its detector gave it,
/// else its integer box.
pub fn exact_box(meta: &VideoRegionOfInterestMeta) -> [f32; 4] {
    let given = meta
        .param(DETECTION_PARAM)
        .map(|p| ["x", "y", "width", "height"].map(|f| p.get::<f64>(f).ok()));
    match given {
        Some([Some(x), Some(y), Some(w), Some(h)]) if w > 0.0 && h > 0.0 => {
            [x as f32, y as f32, w as f32, h as f32]
        }
        _ => {
            let (x, y, w, h) = meta.rect();
            [x as f32, y as f32, w as f32, h as f32]
        }
    }
}

/// The five landmarks (eyes, nose, mouth corners) a detector gave a region, in the buffer's
/// pixel coordinates.
pub fn landmarks(meta: &VideoRegionOfInterestMeta) -> Option<[[f32; 2]; 5]> {
    let lm = meta
        .param(DETECTION_PARAM)?
        .get::<gst::Array>("landmarks")
        .ok()?;
    let v: Vec<f64> = lm.iter().filter_map(|x| x.get::<f64>().ok()).collect();
    (v.len() == 10).then(|| std::array::from_fn(|i| [v[2 * i] as f32, v[2 * i + 1] as f32]))
}

/// Gives a region another type (e.g. `face` to `face-kept`), keeping its box and parameters,
/// without allocating: GStreamer has no setter for it, the meta's type is a quark field.
pub fn set_roi_type<M>(
    meta: &mut gst::MetaRefMut<'_, VideoRegionOfInterestMeta, M>,
    roi_type: &str,
) {
    use gst::glib::translate::IntoGlib;
    let quark = gst::glib::Quark::from_str(roi_type).into_glib();
    // SAFETY: the meta is borrowed mutably from a writable buffer, and `roi_type` is a plain
    // quark that readers look up by value (`gst_video_region_of_interest_meta` keeps no other
    // copy of it).
    unsafe { (*meta.as_mut_ptr()).roi_type = quark };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_meta_round_trip() {
        gst::init().unwrap();
        let mut buf = gst::Buffer::with_size(16).unwrap();
        let det = Detection {
            x: 10.4,
            y: -3.0,
            w: 50.0,
            h: 40.0,
            confidence: 0.9,
            track_id: 7,
            predicted_frames: 2,
            landmarks: Some([[1.0, 2.0]; 5]),
        };
        attach_detection(buf.get_mut().unwrap(), "face", &det, 100, 30);
        let meta = buf.meta::<VideoRegionOfInterestMeta>().unwrap();
        assert_eq!(meta.roi_type(), "face");
        assert_eq!(meta.rect(), (10, 0, 50, 30));
        let p = meta.param(DETECTION_PARAM).unwrap();
        assert_eq!(p.get::<u32>("track-id").unwrap(), 7);
        assert!((p.get::<f64>("confidence").unwrap() - 0.9).abs() < 1e-6);
        assert_eq!(p.get::<gst::Array>("landmarks").unwrap().len(), 10);
        assert_eq!(landmarks(&meta), Some([[1.0, 2.0]; 5]));

        let mut out = Vec::new();
        collect_regions(&buf, &["face".to_string()], &mut out);
        assert_eq!(
            out,
            vec![RegionBox {
                x: 10,
                y: 0,
                w: 50,
                h: 30,
                exact: [10.4, -3.0, 50.0, 40.0],
                track_id: 7,
                predicted_frames: 2,
            }]
        );
        assert!(!out[0].measures_track(), "a predicted box");
        collect_regions(&buf, &["person".to_string()], &mut out);
        assert!(out.is_empty());

        // Retyped in place: the same box and parameters under the new type.
        for mut meta in buf
            .get_mut()
            .unwrap()
            .iter_meta_mut::<VideoRegionOfInterestMeta>()
        {
            set_roi_type(&mut meta, "face-kept");
        }
        let meta = buf.meta::<VideoRegionOfInterestMeta>().unwrap();
        assert_eq!(meta.roi_type(), "face-kept");
        assert_eq!(exact_box(&meta), [10.4, -3.0, 50.0, 40.0]);
        assert_eq!(landmarks(&meta), Some([[1.0, 2.0]; 5]));
        collect_regions(&buf, &["face".to_string()], &mut out);
        assert!(out.is_empty());
    }
}
