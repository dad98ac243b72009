//! onnxfacedetect on real photographs, with the real CenterFace model and ONNX Runtime.

use gst::prelude::*;
use gst_check::Harness;
use gst_video::VideoRegionOfInterestMeta;
use mediaai_testing::{load_frame, media, run_to_end};

/// The astronaut's face, checked by eye: x 178..270, y 64..176.
const ASTRONAUT_FACE: (f64, f64, f64, f64) = (178.0, 64.0, 92.0, 112.0);

fn init() {
    gst::init().unwrap();
    gstfacedetect::plugin_register_static().expect("plugin registers");
}

fn iou(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> f64 {
    let ix = ((a.0 + a.2).min(b.0 + b.2) - a.0.max(b.0)).max(0.0);
    let iy = ((a.1 + a.3).min(b.1 + b.3) - a.1.max(b.1)).max(0.0);
    let inter = ix * iy;
    inter / (a.2 * a.3 + b.2 * b.3 - inter)
}

/// Runs the detector over one frame and returns the face boxes it attached.
fn detect(
    image: &str,
    format: &str,
    props: &[(&str, &dyn ToValue)],
) -> Vec<(f64, f64, f64, f64, f64)> {
    init();
    let sample = load_frame(&media(image), format, None);
    let mut h = Harness::new("onnxfacedetect");
    for (k, v) in props {
        h.element()
            .unwrap()
            .set_property_from_value(k, &v.to_value());
    }
    h.set_src_caps(sample.caps().unwrap().to_owned());
    h.play();
    let out = h
        .push_and_pull(sample.buffer().unwrap().copy())
        .expect("buffer passes through");
    out.iter_meta::<VideoRegionOfInterestMeta>()
        .map(|m| {
            assert_eq!(m.roi_type(), "face");
            let p = m.param("detection").expect("detection parameters");
            let (x, y, w, h) = m.rect();
            (
                x as f64,
                y as f64,
                w as f64,
                h as f64,
                p.get::<f64>("confidence").unwrap(),
            )
        })
        .collect()
}

#[test]
fn finds_the_astronaut_face_with_iou_over_half() {
    let faces = detect("astronaut.png", "RGB", &[]);
    assert_eq!(faces.len(), 1, "{faces:?}");
    let f = faces[0];
    let v = iou((f.0, f.1, f.2, f.3), ASTRONAUT_FACE);
    assert!(v >= 0.5, "IoU {v} for {f:?}");
    assert!(f.4 > 0.5);
}

#[test]
fn yuv_input_finds_the_same_face() {
    for format in ["I420", "NV12", "BGRx"] {
        let faces = detect("astronaut.png", format, &[]);
        assert_eq!(faces.len(), 1, "{format}: {faces:?}");
        let f = faces[0];
        assert!(
            iou((f.0, f.1, f.2, f.3), ASTRONAUT_FACE) >= 0.5,
            "{format}: {f:?}"
        );
    }
}

#[test]
fn finds_no_face_in_photographs_without_people() {
    for image in ["coffee.png", "chelsea.png", "rocket.jpg"] {
        let faces = detect(image, "RGB", &[]);
        assert!(faces.is_empty(), "{image}: {faces:?}");
    }
}

/// The network input shapes the detector ran (its `mediaai-warm-up` messages) on one frame of
/// the astronaut scaled to `size`, and the faces it found, with `props`.
fn network_shapes(size: (u32, u32), props: &[(&str, &dyn ToValue)]) -> (Vec<String>, usize) {
    init();
    let sample = load_frame(&media("astronaut.png"), "RGB", Some(size));
    let mut h = Harness::new("onnxfacedetect");
    let element = h.element().unwrap();
    for (k, v) in props {
        element.set_property_from_value(k, &v.to_value());
    }
    let bus = mediaai_testing::watch(&element);
    h.set_src_caps(sample.caps().unwrap().to_owned());
    h.play();
    let out = h.push_and_pull(sample.buffer().unwrap().copy()).unwrap();
    let shapes = mediaai_testing::element_messages(&bus, "mediaai-warm-up")
        .iter()
        .map(|s| s.get::<String>("shape").unwrap())
        .collect();
    (shapes, out.iter_meta::<VideoRegionOfInterestMeta>().count())
}

/// A frame wider than the default limit (1920) is scaled down to it for the network, and
/// `max-input-size=0` runs it at its own size; the face is found either way.
#[test]
fn max_input_size_zero_runs_at_full_resolution() {
    let (shapes, faces) = network_shapes((2048, 1024), &[]);
    assert!(shapes.iter().any(|s| s == "1x3x960x1920"), "{shapes:?}");
    assert_eq!(faces, 1);
    let (shapes, faces) = network_shapes((2048, 1024), &[("max-input-size", &0u32)]);
    assert!(shapes.iter().any(|s| s == "1x3x1024x2048"), "{shapes:?}");
    assert!(!shapes.iter().any(|s| s == "1x3x960x1920"), "{shapes:?}");
    assert_eq!(faces, 1);
}

#[test]
fn interval_reuses_boxes_and_track_ids_stay() {
    init();
    let sample = load_frame(&media("astronaut.png"), "RGBA", None);
    let mut h = Harness::new("onnxfacedetect");
    h.element().unwrap().set_property("interval", 3u32);
    h.set_src_caps(sample.caps().unwrap().to_owned());
    h.play();
    let mut ids = Vec::new();
    let mut predicted = Vec::new();
    for i in 0..6u64 {
        let mut buf = sample.buffer().unwrap().copy();
        buf.get_mut()
            .unwrap()
            .set_pts(gst::ClockTime::from_mseconds(40 * i));
        let out = h.push_and_pull(buf).unwrap();
        assert_eq!(
            out.pts(),
            Some(gst::ClockTime::from_mseconds(40 * i)),
            "timestamps untouched"
        );
        let metas: Vec<_> = out.iter_meta::<VideoRegionOfInterestMeta>().collect();
        assert_eq!(metas.len(), 1, "frame {i}");
        let detection = metas[0].param("detection").unwrap();
        ids.push(detection.get::<u32>("track-id").unwrap());
        predicted.push(detection.get::<u32>("predicted-frames").unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    // The network skips frames (the tracker predicts them), but never more than
    // interval - 1 in a row.
    assert!(
        predicted.iter().filter(|&&p| p > 0).count() >= 2,
        "frames predicted, not measured: {predicted:?}"
    );
    assert!(predicted.iter().all(|&p| p < 3), "{predicted:?}");
}

#[test]
fn posts_a_facedetect_message_like_the_opencv_element() {
    init();
    let desc = format!(
        "filesrc location=\"{}\" ! pngdec ! videoconvert ! onnxfacedetect ! fakesink",
        media("astronaut.png").display()
    );
    let (pipeline, messages) = run_to_end(&desc).expect("runs");
    pipeline.set_state(gst::State::Null).unwrap();
    let s = messages
        .iter()
        .find(|s| s.name() == "facedetect")
        .expect("a facedetect message");
    for field in ["timestamp", "stream-time", "running-time", "duration"] {
        assert!(s.has_field(field), "{field}");
    }
    let faces = s.get::<gst::List>("faces").unwrap();
    assert_eq!(faces.len(), 1);
    let face = faces.first().unwrap().get::<gst::Structure>().unwrap();
    for field in ["x", "y", "width", "height"] {
        assert!(face.get::<u32>(field).is_ok(), "{field}");
    }
}

/// A model of `models/`, fetched by `make models`.
fn model(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models")
        .join(name);
    assert!(p.is_file(), "{} missing: run `make models`", p.display());
    p.to_string_lossy().into_owned()
}

#[test]
fn yolo_layout_model_finds_the_astronaut_face() {
    let yolo = model("centerface-yolo.onnx");
    for format in ["RGB", "NV12"] {
        let faces = detect(
            "astronaut.png",
            format,
            &[("model-location", &yolo.as_str())],
        );
        assert_eq!(faces.len(), 1, "{format}: {faces:?}");
        let f = faces[0];
        let v = iou((f.0, f.1, f.2, f.3), ASTRONAUT_FACE);
        assert!(v >= 0.5 && f.4 > 0.5, "{format}: IoU {v} for {f:?}");
    }
}

/// The half-precision model (what a GPU provider loads) takes 8-bit levels and gives back the
/// heatmap's best cells instead of its maps: the same face as the float model, in every layout,
/// sampled into its uint8 input; and a frame with fewer cells than it keeps (32x32 input, 64
/// cells) runs too.
#[test]
fn the_half_model_taking_8_bit_levels_and_giving_its_best_cells_finds_what_the_float_model_does() {
    let half = model("centerface-fp16.onnx");
    let (shapes, faces) = network_shapes((24, 24), &[("model-location", &half.as_str())]);
    assert_eq!((shapes.len(), faces), (1, 0), "{shapes:?}");
    for format in ["RGB", "I420", "NV12"] {
        let float = detect("astronaut.png", format, &[]);
        let levels = detect(
            "astronaut.png",
            format,
            &[("model-location", &half.as_str())],
        );
        assert_eq!(
            (float.len(), levels.len()),
            (1, 1),
            "{format}: {float:?} {levels:?}"
        );
        let (a, b) = (float[0], levels[0]);
        let v = iou((a.0, a.1, a.2, a.3), (b.0, b.1, b.2, b.3));
        assert!(v > 0.95, "{format}: IoU {v}: {a:?} vs {b:?}");
        assert!(
            (a.4 - b.4).abs() < 0.01,
            "{format}: confidence {a:?} vs {b:?}"
        );
    }
}

/// Runs the detector over the astronaut scaled to `size` and returns the boxes.
fn detect_scaled(size: (u32, u32), model_location: &str) -> Vec<(u32, u32, u32, u32)> {
    init();
    let sample = load_frame(&media("astronaut.png"), "RGBx", Some(size));
    let mut h = Harness::new("onnxfacedetect");
    h.element()
        .unwrap()
        .set_property("model-location", model_location);
    h.set_src_caps(sample.caps().unwrap().to_owned());
    h.play();
    let out = h.push_and_pull(sample.buffer().unwrap().copy()).unwrap();
    out.iter_meta::<VideoRegionOfInterestMeta>()
        .map(|m| m.rect())
        .collect()
}

#[test]
fn yolo_layout_letterboxes_wide_and_tall_frames_back_to_frame_pixels() {
    // The fixed 640x640 input letterboxes 16:9 and 9:16 frames; the boxes must land where
    // CenterFace, which sees the frame unpadded, puts them.
    for size in [(1280, 720), (360, 640)] {
        let cf = detect_scaled(size, &model("centerface.onnx"));
        let yolo = detect_scaled(size, &model("centerface-yolo.onnx"));
        assert!(
            cf.len() == 1 && yolo.len() == 1,
            "{size:?}: {cf:?} vs {yolo:?}"
        );
        let f = |r: (u32, u32, u32, u32)| (r.0 as f64, r.1 as f64, r.2 as f64, r.3 as f64);
        let v = iou(f(cf[0]), f(yolo[0]));
        assert!(v >= 0.7, "{size:?}: IoU {v}: {cf:?} vs {yolo:?}");
    }
}

#[test]
fn missing_model_is_an_error_that_says_how_to_fetch_it() {
    init();
    let err = run_to_end("videotestsrc num-buffers=1 ! onnxfacedetect model-location=/nonexistent/model.onnx ! fakesink")
        .expect_err("fails");
    assert!(
        err.contains("does not exist") && err.contains("make models"),
        "{err}"
    );
}

#[test]
fn truncated_model_is_an_error_that_names_the_file() {
    init();
    let model = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/centerface.onnx"),
    )
    .expect("make models ran");
    let dir = std::env::temp_dir().join(format!("onnxfacedetect-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let truncated = dir.join("truncated.onnx");
    std::fs::write(&truncated, &model[..model.len() / 3]).unwrap();
    let err = run_to_end(&format!(
        "videotestsrc num-buffers=1 ! onnxfacedetect model-location=\"{}\" ! fakesink",
        truncated.display()
    ))
    .expect_err("fails");
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        err.contains("truncated.onnx") && err.contains("corrupt"),
        "{err}"
    );
}

#[test]
fn non_video_caps_are_refused() {
    init();
    let err =
        run_to_end("audiotestsrc num-buffers=1 ! onnxfacedetect ! fakesink").expect_err("fails");
    assert!(!err.is_empty());
}

#[test]
fn one_pixel_frames_pass_without_faces() {
    init();
    let desc = "videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=1,height=1 ! onnxfacedetect ! fakesink";
    let (pipeline, messages) = run_to_end(desc).expect("1x1 frames flow");
    pipeline.set_state(gst::State::Null).unwrap();
    let faces: Vec<usize> = messages
        .iter()
        .filter(|s| s.name() == "facedetect")
        .map(|s| s.get::<gst::List>("faces").unwrap().len())
        .collect();
    assert_eq!(faces, [0, 0, 0], "each frame reported, with no face");
}

/// The astronaut portrait scaled so its face box is `face_px` wide, pasted into a grey
/// 1920x1080 frame.
fn small_face_frame(face_px: u32) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("onnxfacedetect-small-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("face{face_px}.png"));
    let side = 512 * face_px / 88;
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:s=1920x1080",
            "-i",
        ])
        .arg(media("astronaut.png"))
        .args([
            "-filter_complex",
            &format!("[1]scale={side}:{side}[a];[0][a]overlay=x=900:y=500"),
            "-frames:v",
            "1",
        ])
        .arg(&out)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    out
}

#[test]
fn default_input_size_keeps_16_px_faces_of_full_hd() {
    init();
    let path = small_face_frame(16);
    let sample = load_frame(&path, "I420", None);
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
    let mut h = Harness::new("onnxfacedetect");
    h.set_src_caps(sample.caps().unwrap().to_owned());
    h.play();
    let out = h.push_and_pull(sample.buffer().unwrap().copy()).unwrap();
    let faces: Vec<_> = out
        .iter_meta::<VideoRegionOfInterestMeta>()
        .map(|m| m.rect())
        .collect();
    assert_eq!(faces.len(), 1, "{faces:?}");
    // The face's centre, (224, 120) in the portrait, lands at about (941, 522); small faces
    // get loose boxes.
    let (x, y, w, h) = faces[0];
    let (cx, cy) = (x + w / 2, y + h / 2);
    assert!(
        cx.abs_diff(941) <= 8 && cy.abs_diff(522) <= 8 && w <= 40,
        "{faces:?}"
    );
}
