//! onnxfacekeep after onnxfacedetect on a real photograph, with the real models: the person of
//! the reference photographs is retyped `face-kept` in every frame, anyone else stays `face`,
//! and a folder without a face is an error that says what to give.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use gst::prelude::*;
use gst_video::VideoRegionOfInterestMeta;
use mediaai_testing::media;

fn init() {
    gst::init().unwrap();
    gstfacedetect::plugin_register_static().expect("plugin registers");
}

/// A fresh folder of this test's own.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("onnxfacekeep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `photo` into `dir` as a JPEG through `filters` (GStreamer elements).
fn reference(photo: &str, filters: &str, dir: &Path) {
    let out = dir.join(format!("{}.jpg", photo.replace('.', "-")));
    let desc = format!(
        "filesrc location={} ! decodebin ! videoconvert ! {filters} ! videoconvert ! jpegenc quality=70 ! filesink location={}",
        media(photo).display(),
        out.display()
    );
    let (pipeline, _) = mediaai_testing::run_to_end(&desc).expect("reference photograph written");
    pipeline.set_state(gst::State::Null).unwrap();
}

/// What left onnxfacekeep: each frame's region types and their boxes' centres (x), and its
/// `facekeep` messages.
struct Run {
    types: Vec<Vec<String>>,
    centres: Vec<Vec<f32>>,
    decisions: Vec<gst::Structure>,
}

fn run(keep: &Path) -> Result<Run, String> {
    run_launch(&format!(
        "filesrc location={} ! pngdec ! videoconvert ! video/x-raw,format=I420 ! imagefreeze num-buffers=30 ! onnxfacedetect ! onnxfacekeep keep-faces={} refresh=10 ! fakesink name=sink signal-handoffs=true",
        media("astronaut.png").display(),
        keep.display()
    ))
}

fn run_launch(desc: &str) -> Result<Run, String> {
    init();
    let pipeline = gst::parse::launch(desc)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let types: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let centres: Arc<Mutex<Vec<Vec<f32>>>> = Arc::default();
    let (into, centres_into) = (types.clone(), centres.clone());
    pipeline
        .by_name("sink")
        .unwrap()
        .connect("handoff", false, move |args| {
            let buffer = args[1].get::<gst::Buffer>().unwrap();
            into.lock().unwrap().push(
                buffer
                    .iter_meta::<VideoRegionOfInterestMeta>()
                    .map(|m| m.roi_type().to_string())
                    .collect(),
            );
            centres_into.lock().unwrap().push(
                buffer
                    .iter_meta::<VideoRegionOfInterestMeta>()
                    .map(|m| m.rect().0 as f32 + m.rect().2 as f32 / 2.0)
                    .collect(),
            );
            None
        });
    let bus = pipeline.bus().unwrap();
    let _ = pipeline.set_state(gst::State::Playing);
    let mut decisions = Vec::new();
    let result = loop {
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_seconds(120)) else {
            break Err("timed out".to_string());
        };
        match msg.view() {
            gst::MessageView::Eos(_) => break Ok(()),
            gst::MessageView::Error(e) => break Err(e.error().to_string()),
            gst::MessageView::Element(e) => {
                if let Some(s) = e.structure().filter(|s| s.name() == "facekeep") {
                    decisions.push(s.to_owned());
                }
            }
            // A start that failed has posted its error: read on to it.
            _ => {}
        }
    };
    let _ = pipeline.set_state(gst::State::Null);
    result.map(|()| Run {
        types: types.lock().unwrap().clone(),
        centres: centres.lock().unwrap().clone(),
        decisions,
    })
}

#[test]
fn the_person_of_the_references_is_kept_in_every_frame_and_no_one_else() {
    init();
    // Her photograph mirrored, turned, smaller and recompressed: not the frames' pixels.
    let astronaut = folder("astronaut");
    reference(
        "astronaut.png",
        "videoflip method=horizontal-flip ! rotate angle=0.14 ! videoscale ! video/x-raw,width=360,height=360",
        &astronaut,
    );
    let kept = run(&astronaut).expect("runs");
    assert_eq!(kept.types.len(), 30, "every frame out");
    assert!(
        kept.types.iter().all(|t| t == &["face-kept"]),
        "{:?}",
        kept.types
    );
    let [decision] = kept.decisions.as_slice() else {
        panic!("one decision for the one track: {:?}", kept.decisions);
    };
    assert!(decision.get::<bool>("kept").unwrap());
    let similarity = decision.get::<f64>("similarity").unwrap();
    assert!(similarity > 0.8, "{similarity}");

    // Someone else's photograph: she stays a face to hide.
    let other = folder("other");
    reference("camera.png", "identity", &other);
    let hidden = run(&other).expect("runs");
    assert_eq!(hidden.types.len(), 30);
    assert!(
        hidden.types.iter().all(|t| t == &["face"]),
        "{:?}",
        hidden.types
    );
    let similarity = hidden.decisions[0].get::<f64>("similarity").unwrap();
    assert!(similarity < 0.9, "{similarity}");
}

/// The case: one photograph of a person to keep, and a clip showing that person from
/// other photographs beside someone else. Obama's official portrait is the reference; each
/// clip shows another photograph of him (face_recognition's test images) on the left and Joe
/// Biden on the right, 50 frames at 25 fps. He is kept in at least 90% of the frames (the first
/// frames wait for his first description), Biden is found and hidden in every frame.
#[test]
fn a_person_from_other_photographs_is_kept_and_the_man_beside_him_hidden() {
    init();
    let keep = folder("obama");
    std::fs::copy(media("obama.jpg"), keep.join("obama.jpg")).unwrap();
    for other in ["obama2.jpg", "obama3.jpg"] {
        let half = |photo: &str, pad: &str| {
            format!(
                "filesrc location={} ! jpegdec ! videoconvert ! videoscale add-borders=true ! video/x-raw,format=I420,width=640,height=720,pixel-aspect-ratio=1/1 ! imagefreeze num-buffers=50 ! video/x-raw,framerate=25/1 ! mix.{pad}",
                media(photo).display()
            )
        };
        let desc = format!(
            "compositor name=mix sink_1::xpos=640 ! video/x-raw,format=I420,width=1280,height=720 ! onnxfacedetect ! onnxfacekeep keep-faces={} ! fakesink name=sink signal-handoffs=true {} {}",
            keep.display(),
            half(other, "sink_0"),
            half("biden.jpg", "sink_1")
        );
        let out = run_launch(&desc).expect("runs");
        assert_eq!(out.types.len(), 50, "{other}: every frame out");
        let mut kept = 0;
        for (i, (types, centres)) in out.types.iter().zip(&out.centres).enumerate() {
            let side = |left: bool| {
                types
                    .iter()
                    .zip(centres)
                    .filter(move |(_, &x)| (x < 640.0) == left)
                    .map(|(t, _)| t.as_str())
            };
            let biden: Vec<_> = side(false).collect();
            assert!(
                !biden.is_empty() && biden.iter().all(|&t| t == "face"),
                "{other}, frame {i}: Biden's regions {biden:?}"
            );
            kept += side(true).any(|t| t == "face-kept") as usize;
        }
        eprintln!(
            "{other}: Obama kept in {kept} of 50 frames; {:?}",
            out.decisions
        );
        assert!(
            kept >= 45,
            "{other}: Obama kept in {kept} of 50 frames; decisions {:?}",
            out.decisions
        );
    }
}

#[test]
fn a_folder_without_a_face_is_an_error_that_says_what_to_give() {
    let empty = folder("no-face");
    reference("coffee.png", "identity", &empty);
    let err = run(&empty).err().expect("an error");
    assert!(err.contains("no face found"), "{err}");
    let missing = std::env::temp_dir().join("onnxfacekeep-absent-folder");
    let err = run(&missing).err().expect("an error");
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn a_flush_forgets_who_was_kept_so_a_reused_track_id_is_hidden_until_described() {
    use gst_check::Harness;
    use mediaai_common::roi::{self, Detection};
    init();
    let astronaut = folder("flush");
    reference(
        "astronaut.png",
        "videoflip method=horizontal-flip",
        &astronaut,
    );
    let frame = mediaai_testing::load_frame(&media("astronaut.png"), "I420", None);
    let caps = frame.caps().unwrap().to_owned();

    // The detector's own measurement of her face (track 1, landmarks).
    let mut detect = Harness::new("onnxfacedetect");
    detect.set_src_caps(caps.clone());
    detect.play();
    let measured = detect
        .push_and_pull(frame.buffer().unwrap().copy())
        .unwrap();
    // The same face as a prediction (no measurement in this frame: nothing to describe).
    let predicted = {
        let meta = measured.meta::<VideoRegionOfInterestMeta>().unwrap();
        let [x, y, w, h] = roi::exact_box(&meta);
        let det = Detection {
            x,
            y,
            w,
            h,
            confidence: 0.9,
            track_id: 1,
            predicted_frames: 2,
            landmarks: roi::landmarks(&meta),
        };
        let mut b = frame.buffer().unwrap().copy();
        roi::attach_detection(b.get_mut().unwrap(), "face", &det, 512, 512);
        b
    };
    let types = |b: &gst::Buffer| -> Vec<String> {
        b.iter_meta::<VideoRegionOfInterestMeta>()
            .map(|m| m.roi_type().to_string())
            .collect()
    };

    // Made with its folder set: a harness starts the element it makes at once.
    let element = gst::ElementFactory::make("onnxfacekeep")
        .property("keep-faces", astronaut.to_str().unwrap())
        .build()
        .unwrap();
    let mut keep = Harness::with_element(&element, Some("sink"), Some("src"));
    keep.set_src_caps(caps);
    keep.play();
    let out = keep.push_and_pull(measured.clone()).unwrap();
    assert_eq!(types(&out), ["face-kept"], "measured and recognised");
    let out = keep.push_and_pull(predicted.clone()).unwrap();
    assert_eq!(types(&out), ["face-kept"], "the track's decision holds");

    assert!(keep.push_event(gst::event::FlushStart::new()));
    assert!(keep.push_event(gst::event::FlushStop::new(true)));
    assert!(
        keep.push_event(gst::event::Segment::new(&gst::FormattedSegment::<
            gst::ClockTime,
        >::new()))
    );
    let out = keep.push_and_pull(predicted).unwrap();
    assert_eq!(types(&out), ["face"], "after a flush track 1 may be anyone");
    let out = keep.push_and_pull(measured).unwrap();
    assert_eq!(types(&out), ["face-kept"], "described again");
}
