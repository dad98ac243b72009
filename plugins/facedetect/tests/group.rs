//! Detectors of one process sharing a session (`batch-group`), taking turns on it or batching
//! their frames together (`max-batch`): the model is loaded once for the group, and each
//! stream gets every frame back once, in order, with the detections a detector of its own
//! finds — while another stream of the group ends early (the others are not held past the
//! batch timeout), seeks, or stops and starts again.

use std::path::PathBuf;
use std::thread;

use gst::prelude::*;

/// One frame's timestamp and face boxes (x, y, width, height), from a `facedetect` message.
type Frame = (gst::ClockTime, Vec<[u32; 4]>);

/// The tests count sessions built and batches run process-wide: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn init() {
    gst::init().unwrap();
    gstfacedetect::plugin_register_static().expect("plugin registers");
}

const WIDTH: usize = 480;
const HEIGHT: usize = 270;
const FRAME_BYTES: usize = WIDTH * HEIGHT * 3 / 2;

/// A 2 s, 25 fps, 480x270 clip of the astronaut portrait panning, decoded to raw I420 once:
/// read through `rawvideoparse`, a stream can end, seek and restart with no decoder's dynamic
/// pads in the way.
fn clip() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("target/test-media/group");
    std::fs::create_dir_all(&dir).unwrap();
    let clip = dir.join("pan.i420");
    if !clip.is_file() {
        let mp4 = dir.join(format!("pan-{}.mp4", std::process::id()));
        let status = std::process::Command::new(root.join("scripts/make-clip.sh"))
            .arg(&mp4)
            .args([&format!("{WIDTH}x{HEIGHT}"), "2", "noaudio"])
            .status()
            .expect("make-clip runs");
        assert!(status.success());
        let raw = dir.join(format!("pan-{}.i420", std::process::id()));
        let status = std::process::Command::new("ffmpeg")
            .args(["-loglevel", "error", "-y", "-i"])
            .arg(&mp4)
            .args(["-f", "rawvideo", "-pix_fmt", "yuv420p"])
            .arg(&raw)
            .status()
            .expect("ffmpeg runs");
        assert!(status.success());
        std::fs::rename(&raw, &clip).unwrap();
        std::fs::remove_file(&mp4).unwrap();
    }
    clip
}

fn frame_of(s: &gst::StructureRef) -> Option<Frame> {
    if s.name() != "facedetect" {
        return None;
    }
    let faces = s
        .get::<gst::List>("faces")
        .ok()?
        .iter()
        .map(|v| {
            let f = v.get::<gst::Structure>().unwrap();
            ["x", "y", "width", "height"].map(|k| f.get::<u32>(k).unwrap())
        })
        .collect();
    Some((s.get::<gst::ClockTime>("timestamp").ok()?, faces))
}

/// What one stream does while the others run.
#[derive(Clone, Copy, Debug)]
enum Script {
    /// Plays to the end.
    Plain,
    /// Ends after 19 frames (an EOS from upstream).
    EndsEarly,
    /// Seeks back to the start (flushing) after 10 frames.
    Seeks,
    /// Goes to NULL after 10 frames and plays again from the start.
    Restarts,
}

/// Runs `script` on the clip through `onnxfacedetect {props}` and returns the frames it
/// reported after its last seek or restart.
fn run(script: Script, props: &str) -> Vec<Frame> {
    let early = match script {
        Script::EndsEarly => "num-buffers=19",
        _ => "",
    };
    let desc = format!(
        "filesrc location=\"{}\" blocksize={FRAME_BYTES} {early} ! rawvideoparse format=i420 width={WIDTH} height={HEIGHT} framerate=25/1 ! onnxfacedetect interval=1 {props} ! fakesink sync=false",
        clip().display()
    );
    let pipeline = gst::parse::launch(&desc)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut frames = Vec::new();
    let mut interrupted = false;
    loop {
        let msg = bus
            .timed_pop(gst::ClockTime::from_seconds(120))
            .unwrap_or_else(|| panic!("{script:?}: stalled"));
        match msg.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => panic!("{script:?}: {} ({:?})", e.error(), e.debug()),
            gst::MessageView::Element(e) => {
                let Some(f) = e.structure().and_then(frame_of) else {
                    continue;
                };
                frames.push(f);
                if frames.len() == 10 && !interrupted {
                    match script {
                        Script::Seeks => {
                            interrupted = true;
                            pipeline
                                .seek_simple(
                                    gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
                                    gst::ClockTime::ZERO,
                                )
                                .unwrap();
                            frames.clear();
                        }
                        Script::Restarts => {
                            interrupted = true;
                            pipeline.set_state(gst::State::Null).unwrap();
                            // Messages of the run that was stopped are not this run's.
                            while bus.pop().is_some() {}
                            frames.clear();
                            pipeline.set_state(gst::State::Playing).unwrap();
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    frames
}

/// The frames a stream reported, checked against a detector of its own on the same clip:
/// every frame once, in order, the same faces.
fn assert_same(script: Script, got: &[Frame], reference: &[Frame]) {
    let expected = match script {
        Script::EndsEarly => &reference[..19],
        _ => reference,
    };
    // After a flushing seek, frames already on their way may still report before the first
    // frame of the new segment: what counts is the run from the seek's frame 0 on.
    let got = match script {
        Script::Seeks => {
            let start = got
                .iter()
                .rposition(|f| f.0 == reference[0].0)
                .unwrap_or_else(|| panic!("{script:?}: the seek's first frame never came"));
            &got[start..]
        }
        _ => got,
    };
    let pts = |fs: &[Frame]| fs.iter().map(|f| f.0).collect::<Vec<_>>();
    assert_eq!(
        pts(got),
        pts(expected),
        "{script:?}: frames lost, repeated or out of order"
    );
    for (g, e) in got.iter().zip(expected) {
        assert_eq!(g.1.len(), e.1.len(), "{script:?} at {}: faces", g.0);
        for (a, b) in g.1.iter().zip(&e.1) {
            let off = (0..4).map(|i| a[i].abs_diff(b[i])).max().unwrap();
            assert!(off <= 1, "{script:?} at {}: {a:?} vs {b:?}", g.0);
        }
    }
}

#[test]
fn four_streams_share_one_session_and_each_gets_its_own_detections_in_order() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    init();
    let reference = run(Script::Plain, "");
    assert_eq!(reference.len(), 50);
    assert!(
        reference.iter().all(|f| f.1.len() == 1),
        "the clip shows one face in every frame"
    );

    // Taking turns on one session (max-batch 1 on the CPU), then in batches of up to four
    // frames of the four streams, a frame waiting at most 50 ms for the others.
    for props in [
        "batch-group=turns",
        "batch-group=batches max-batch=4 batch-timeout=50",
    ] {
        let before = mediaai_common::inference::sessions_built();
        let (batches, images) = mediaai_common::batching::batches_run();
        let scripts = [
            Script::Plain,
            Script::EndsEarly,
            Script::Seeks,
            Script::Restarts,
        ];
        let runs: Vec<_> = scripts
            .iter()
            .map(|&s| thread::spawn(move || (s, run(s, props))))
            .collect();
        for r in runs {
            let (script, frames) = r.join().expect("a stream's thread panicked");
            assert_same(script, &frames, &reference);
        }
        assert_eq!(
            mediaai_common::inference::sessions_built() - before,
            1,
            "{props}: the group's session is built once, restarts included"
        );
        let (b, i) = mediaai_common::batching::batches_run();
        let (batches, images) = (b - batches, i - images);
        if props.contains("max-batch") {
            // Four streams of 50-60 frames, one of them ending after 19: most batches full.
            assert!(
                images > 150 && images as f64 / batches as f64 > 2.5,
                "{props}: {images} frames in {batches} batches"
            );
        } else {
            assert_eq!(batches, 0, "{props}: turns, no batches");
        }
        // Once the group is gone, a new one loads the model again.
        run(Script::EndsEarly, props);
        assert_eq!(mediaai_common::inference::sessions_built() - before, 2);
    }
}

/// A group whose model takes 8-bit levels (the half-precision model a GPU provider loads) puts
/// each stream's uint8 image into its batches: every frame, in order, the faces the float
/// model finds alone.
#[test]
fn a_group_on_the_8_bit_level_model_batches_uint8_images() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    init();
    let reference = run(Script::Plain, "");
    let half = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/centerface-fp16.onnx");
    let props = format!(
        "batch-group=levels max-batch=2 batch-timeout=50 model-location=\"{}\"",
        half.display()
    );
    let (batches, _) = mediaai_common::batching::batches_run();
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let props = props.clone();
            thread::spawn(move || run(Script::Plain, &props))
        })
        .collect();
    for r in runs {
        let frames = r.join().expect("a stream's thread panicked");
        assert_same(Script::Plain, &frames, &reference);
    }
    let (after, _) = mediaai_common::batching::batches_run();
    assert!(after > batches, "the images went in batches");
}

/// Ungrouped elements whose sessions run on a GPU share a few (`GpuSessions`): of six elements
/// starting together with a limit of two, two build a session (at once, not one after the
/// other) and four join, three holding each; once all let go, the next builds again. Sessions
/// on the CPU are never shared. Real sessions of the detector's model, built on the CPU here
/// and labelled as the CUDA provider's for the GPU case (there is no GPU in CI).
#[test]
fn ungrouped_gpu_sessions_are_shared_up_to_a_limit() {
    use mediaai_common::inference::{self, ExecutionProvider, GpuSessions, SharedModel};
    use std::sync::Arc;
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    init();
    let model = inference::locate_model(None, "centerface.onnx").unwrap();
    let pools = GpuSessions::new();
    let start = |label: ExecutionProvider| -> Vec<(SharedModel, bool)> {
        let barrier = std::sync::Barrier::new(6);
        thread::scope(|s| {
            let started: Vec<_> = (0..6)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        pools
                            .load("centerface", ExecutionProvider::Auto, 2, || {
                                let mut loaded = inference::load_model(
                                    &model,
                                    ExecutionProvider::Cpu,
                                    1,
                                    false,
                                )?;
                                loaded.provider = label;
                                Ok(loaded)
                            })
                            .unwrap()
                    })
                })
                .collect();
            started.into_iter().map(|t| t.join().unwrap()).collect()
        })
    };

    let before = inference::sessions_built();
    let held = start(ExecutionProvider::Cuda);
    assert_eq!(
        inference::sessions_built() - before,
        2,
        "two sessions for six"
    );
    assert_eq!(held.iter().filter(|(_, joined)| *joined).count(), 4);
    let mut counts: Vec<_> = held
        .iter()
        .filter(|(_, joined)| !joined)
        .map(|(s, _)| held.iter().filter(|(o, _)| Arc::ptr_eq(s, o)).count())
        .collect();
    counts.sort();
    assert_eq!(counts, [3, 3], "joined the session fewest held");
    drop(held);
    let again = pools
        .load("centerface", ExecutionProvider::Auto, 2, || {
            inference::load_model(&model, ExecutionProvider::Cpu, 1, false)
        })
        .unwrap();
    assert!(!again.1, "nothing left to join once all let go");
    drop(again);

    let before = inference::sessions_built();
    let held = start(ExecutionProvider::Cpu);
    assert_eq!(
        inference::sessions_built() - before,
        6,
        "CPU sessions are not shared"
    );
    assert!(held.iter().all(|(_, joined)| !joined));
}
