//! onnxfacedetect on a clip where a real face moves steadily: track ids stay constant; with the
//! network run only every third frame the predicted boxes still cover the face that a full
//! detection finds in every frame; batching changes neither the frames nor the boxes; a shot
//! change is looked at whatever the interval.

use std::path::PathBuf;

use mediaai_testing::run_to_end;

type Face = (f64, f64, f64, f64, u32);

/// One frame's `facedetect` message: timestamp and faces.
struct FrameFaces {
    pts: Option<gst::ClockTime>,
    faces: Vec<Face>,
}

fn init() {
    gst::init().unwrap();
    gstfacedetect::plugin_register_static().expect("plugin registers");
}

/// A 4 s, 25 fps, 640x360 clip of the astronaut portrait panning left to right, made once per
/// test process (the tests of this file run in parallel) and moved into place whole.
fn moving_face_clip() -> PathBuf {
    static CLIP: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    CLIP.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = root.join("target/test-media/tracking");
        std::fs::create_dir_all(&dir).unwrap();
        let clip = dir.join("pan.mp4");
        let partial = dir.join(format!("pan-{}.mp4", std::process::id()));
        let status = std::process::Command::new(root.join("scripts/make-clip.sh"))
            .arg(&partial)
            .args(["640x360", "4", "noaudio"])
            .status()
            .expect("make-clip runs");
        assert!(status.success());
        std::fs::rename(&partial, &clip).unwrap();
        clip
    })
    .clone()
}

/// The faces of every frame, in order, from the element's `facedetect` messages.
fn faces_per_frame(clip: &std::path::Path, props: &str) -> Vec<Vec<Face>> {
    frames(clip, props).into_iter().map(|f| f.faces).collect()
}

fn frames(clip: &std::path::Path, props: &str) -> Vec<FrameFaces> {
    init();
    let desc = format!(
        "filesrc location=\"{}\" ! decodebin ! videoconvert ! onnxfacedetect {props} ! fakesink sync=false",
        clip.display()
    );
    let (pipeline, messages) = run_to_end(&desc).expect("pipeline runs");
    pipeline.set_state(gst::State::Null).unwrap();
    messages
        .iter()
        .filter(|s| s.name() == "facedetect")
        .map(|s| FrameFaces {
            pts: s.get::<Option<gst::ClockTime>>("timestamp").unwrap(),
            faces: s
                .get::<gst::List>("faces")
                .unwrap()
                .iter()
                .map(|v| {
                    let f = v.get::<gst::Structure>().unwrap();
                    let g = |k: &str| f.get::<u32>(k).unwrap() as f64;
                    (
                        g("x"),
                        g("y"),
                        g("width"),
                        g("height"),
                        f.get::<u32>("track-id").unwrap(),
                    )
                })
                .collect(),
        })
        .collect()
}

fn iou(a: &Face, b: &Face) -> f64 {
    let ix = ((a.0 + a.2).min(b.0 + b.2) - a.0.max(b.0)).max(0.0);
    let iy = ((a.1 + a.3).min(b.1 + b.3) - a.1.max(b.1)).max(0.0);
    let inter = ix * iy;
    inter / (a.2 * a.3 + b.2 * b.3 - inter)
}

use gst::prelude::*;

#[test]
fn track_id_stays_constant_for_a_moving_face_over_100_frames() {
    let frames = faces_per_frame(&moving_face_clip(), "");
    assert_eq!(frames.len(), 100);
    for (i, faces) in frames.iter().enumerate() {
        assert_eq!(faces.len(), 1, "frame {i}: {faces:?}");
        assert_eq!(faces[0].4, frames[0][0].4, "frame {i}: id changed");
    }
    // The face really moves: about 3.5 px per frame to the right.
    assert!(frames[99][0].0 - frames[0][0].0 > 250.0);
}

#[test]
fn predicted_boxes_between_detections_cover_the_face() {
    let clip = moving_face_clip();
    let full = faces_per_frame(&clip, "interval=1");
    let sparse = faces_per_frame(&clip, "interval=3");
    assert_eq!(full.len(), sparse.len());
    for (i, (f, s)) in full.iter().zip(&sparse).enumerate() {
        assert_eq!(s.len(), 1, "frame {i}: no box while the face is in view");
        let v = iou(&f[0], &s[0]);
        assert!(v >= 0.5, "frame {i}: IoU {v:.2}, {:?} vs {:?}", s[0], f[0]);
    }
}

#[test]
fn batching_keeps_every_frame_in_order_with_the_same_boxes() {
    let clip = moving_face_clip();
    let single = frames(&clip, "interval=1");
    for props in ["batch-size=4 interval=1", "batch-size=7 interval=2"] {
        let batched = frames(&clip, props);
        // 100 frames: batches of 4 divide evenly; 7 due frames 2 apart leave a partial batch
        // that EOS must drain.
        assert_eq!(batched.len(), single.len(), "{props}: frames lost or added");
        for (i, (a, b)) in single.iter().zip(&batched).enumerate() {
            assert_eq!(a.pts, b.pts, "{props}: frame {i} out of order or retimed");
            assert_eq!(b.faces.len(), 1, "{props}: frame {i}");
            let v = iou(&a.faces[0], &b.faces[0]);
            assert!(v >= 0.8, "{props}: frame {i}: IoU {v:.2}");
        }
    }
}

#[test]
fn batching_reports_its_latency() {
    init();
    let pipeline = gst::parse::launch(
        "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=25/1 ! onnxfacedetect batch-size=4 interval=2 ! fakesink sync=true",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let _ = pipeline.state(gst::ClockTime::from_seconds(10));
    let mut q = gst::query::Latency::new();
    assert!(pipeline.query(&mut q));
    let (live, min, _) = q.result();
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(live);
    // (4 - 1) batches of due frames, 2 frames apart, at 40 ms: 240 ms.
    assert!(min >= gst::ClockTime::from_mseconds(240), "latency {min}");
}

/// Whether the network measured the faces of each of 12 frames (a region whose
/// `predicted-frames` is 0): a still of `first` (I420, 320x180) for 5 frames, then of `next`.
fn measured_frames(first: &str, next: &str, props: &str) -> Vec<bool> {
    use mediaai_testing::{load_frame, media, push_frames};
    init();
    let still = |name: &str| {
        let sample = load_frame(&media(name), "I420", Some((320, 180)));
        let map = sample.buffer().unwrap().map_readable().unwrap();
        (map.to_vec(), sample.caps().unwrap().to_owned())
    };
    let ((a, caps), (b, _)) = (still(first), still(next));
    let frames: Vec<Vec<u8>> = (0..12)
        .map(|k| if k < 5 { a.clone() } else { b.clone() })
        .collect();
    let caps = caps
        .into_iter()
        .map(|(s, _)| {
            let mut s = s.to_owned();
            s.set("framerate", gst::Fraction::new(25, 1));
            s
        })
        .collect::<gst::Caps>();
    push_frames(&format!("onnxfacedetect {props}"), &caps, &frames)
        .iter()
        .map(|b| {
            b.iter_meta::<gst_video::VideoRegionOfInterestMeta>()
                .any(|m| {
                    m.param("detection")
                        .and_then(|p| p.get::<u32>("predicted-frames").ok())
                        == Some(0)
                })
        })
        .collect()
}

/// At a long interval the network still looks at a shot change at once: a face that comes in
/// with a cut is measured in the cut's own frame, not at the interval's end. In one shot the
/// network looks at a face twice (found, then seen moving) and the tracker predicts the rest.
#[test]
fn a_shot_change_is_looked_at_at_once() {
    let cut = measured_frames("coffee.png", "astronaut.png", "interval=25");
    assert!(cut[5], "the cut's frame is measured: {cut:?}");
    assert!(cut[6], "and the one after (the face seen moving): {cut:?}");
    assert!(!cut[8], "then predicted: {cut:?}");
    let one_shot = measured_frames("astronaut.png", "astronaut.png", "interval=25");
    assert_eq!(
        one_shot,
        [true, true]
            .into_iter()
            .chain([false; 10])
            .collect::<Vec<_>>(),
        "one shot: the first two frames measured"
    );
}
