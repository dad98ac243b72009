//! `make soak`: eight pipelines of the whole anonymise + QC chain in one process, sharing the
//! GPU device, for SECONDS (default 600): a real photograph held as video, faces detected
//! (onnxfacedetect), blurred (gpublur, lookahead 2), analysed (qcfingerprint), encoded (x264).
//! gpublur and qcfingerprint run with `backend=gpu`, so every chain shares the process's one
//! GPU device (a software Vulkan driver will do).
//! Prints the resident memory after a warm-up and at the end, and per pipeline the frames that
//! entered the chain and left it; fails when they differ, when an error is posted, or when the
//! memory grew by more than 5%.
//!
//! `cargo run --profile ci -p mediaai-pipelines --example soak -- [SECONDS] [PIPELINES]`, with
//! the plugins on GST_PLUGIN_PATH (make soak sets it).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gst::prelude::*;

fn rss_kib() -> u64 {
    mediaai_testing::bench::memory_kib("VmRSS")
}

/// Counts the buffers that pass `element`'s src pad.
fn count(pipeline: &gst::Pipeline, element: &str) -> Arc<AtomicU64> {
    let n = Arc::new(AtomicU64::new(0));
    let pad = pipeline
        .by_name(element)
        .and_then(|e| e.static_pad("src"))
        .expect("counted element has a src pad");
    let m = n.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        m.fetch_add(1, Ordering::Relaxed);
        gst::PadProbeReturn::Ok
    });
    n
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(600);
    let count_pipelines: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    gst::init().expect("GStreamer initialises");
    let photo = mediaai_testing::media("astronaut.png");
    let mut pipelines = Vec::new();
    for k in 0..count_pipelines {
        let report = std::env::temp_dir().join(format!("soak-qc-{k}.json"));
        let desc = format!(
            "filesrc location=\"{}\" ! pngdec ! videoconvert ! videoscale \
             ! video/x-raw,width=640,height=360,pixel-aspect-ratio=1/1 ! imagefreeze \
             ! video/x-raw,framerate=25/1 ! identity name=in ! onnxfacedetect threads=1 \
             ! videoconvert ! gpublur backend=gpu lookahead=2 \
             ! qcfingerprint backend=gpu report-location=\"{}\" \
             ! identity name=out ! videoconvert ! x264enc speed-preset=ultrafast threads=1 \
             ! fakesink",
            photo.display(),
            report.display()
        );
        let p = gst::parse::launch(&desc)
            .expect("soak pipeline parses")
            .downcast::<gst::Pipeline>()
            .expect("a pipeline");
        let (i, o) = (count(&p, "in"), count(&p, "out"));
        p.set_state(gst::State::Playing)
            .expect("soak pipeline plays");
        pipelines.push((p, i, o));
    }
    let check_errors = |pipelines: &[(gst::Pipeline, Arc<AtomicU64>, Arc<AtomicU64>)]| {
        for (k, (p, _, _)) in pipelines.iter().enumerate() {
            let bus = p.bus().expect("pipelines have a bus");
            while let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
                if let gst::MessageView::Error(e) = msg.view() {
                    panic!("pipeline {k}: {} ({:?})", e.error(), e.debug());
                }
            }
        }
    };
    let start = Instant::now();
    let warm_up = Duration::from_secs((seconds / 10).clamp(5, 60));
    while start.elapsed() < warm_up {
        std::thread::sleep(Duration::from_millis(500));
        check_errors(&pipelines);
    }
    let rss_start = rss_kib();
    let frames_start: u64 = pipelines.iter().map(|p| p.1.load(Ordering::Relaxed)).sum();
    println!(
        "soak: {count_pipelines} pipelines; after {} s RSS {rss_start} KiB, {frames_start} frames in",
        warm_up.as_secs()
    );
    while start.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_millis(500));
        check_errors(&pipelines);
    }
    // The end of the stream through every chain, so that held frames (gpublur's lookahead) come
    // out before counting: sent into the chain's first element (imagefreeze would go on
    // making frames after an EOS sent to the source).
    for (p, _, _) in &pipelines {
        let first = p.by_name("in").expect("the chain's first element");
        first.send_event(gst::event::Eos::new());
    }
    for (k, (p, _, _)) in pipelines.iter().enumerate() {
        if let Err(e) = mediaai_pipelines::wait_for_eos(p, 120) {
            panic!("pipeline {k}: {e}");
        }
    }
    let rss_end = rss_kib();
    let mut ok = true;
    for (k, (p, i, o)) in pipelines.iter().enumerate() {
        let (i, o) = (i.load(Ordering::Relaxed), o.load(Ordering::Relaxed));
        println!("soak: pipeline {k}: {i} frames in, {o} out");
        ok &= i == o && i > 0;
        p.set_state(gst::State::Null).expect("to NULL");
    }
    let growth = rss_end as f64 / rss_start.max(1) as f64 - 1.0;
    let frames: u64 = pipelines.iter().map(|p| p.1.load(Ordering::Relaxed)).sum();
    println!(
        "soak: {} s, {frames} frames in all; RSS {rss_start} KiB after warm-up, {rss_end} KiB at the end ({:+.1}%)",
        start.elapsed().as_secs(),
        100.0 * growth
    );
    assert!(ok, "frames in and out differ");
    assert!(
        growth <= 0.05,
        "resident memory grew by {:.1}%",
        100.0 * growth
    );
    println!("soak: passed");
}
