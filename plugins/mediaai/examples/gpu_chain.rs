//! Frames that stay on the GPU between elements, beside the same elements with a readback and
//! upload between each (system memory) and beside the CPU paths, on one source in one run:
//! frames per second, CPU seconds per frame (user + system, every thread) and the whole-frame
//! uploads and readbacks per frame that the elements counted.
//!
//! `cargo run --release -p gst-plugin-mediaai --example gpu_chain [FRAMES] [WIDTHxHEIGHT]`
//! (defaults 300, 1920x1080; the source is `videotestsrc pattern=ball`, I420).

use std::time::Instant;

use gst::prelude::*;
use mediaai_common::gpumemory;

/// CPU time of this process so far, seconds (user + system, from /proc).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

struct Run {
    fps: f64,
    cpu_ms: f64,
    uploads: f64,
    downloads: f64,
}

fn run(description: &str, frames: u64) -> Result<Run, String> {
    let pipeline = gst::parse::launch(description)
        .map_err(|e| format!("{description}: {e}"))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| "not a pipeline".to_string())?;
    let (up, down) = (gpumemory::uploads(), gpumemory::downloads());
    let cpu = cpu_seconds();
    let start = Instant::now();
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| format!("{description}: {e}"))?;
    let bus = pipeline.bus().expect("a pipeline has a bus");
    let result = match bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(600),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    ) {
        Some(m) => match m.view() {
            gst::MessageView::Error(e) => Err(format!("{description}: {}", e.error())),
            _ => Ok(()),
        },
        None => Err(format!("{description}: no EOS")),
    };
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let _ = pipeline.set_state(gst::State::Null);
    result?;
    let n = frames as f64;
    Ok(Run {
        fps: n / wall,
        cpu_ms: cpu * 1e3 / n,
        uploads: (gpumemory::uploads() - up) as f64 / n,
        downloads: (gpumemory::downloads() - down) as f64 / n,
    })
}

fn main() {
    gst::init().expect("GStreamer initialises");
    gstmediaai::plugin_register_static().expect("the plugin registers");
    let mut args = std::env::args().skip(1);
    let frames: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let size = args.next().unwrap_or_else(|| "1920x1080".into());
    let (w, h) = size.split_once('x').expect("WIDTHxHEIGHT");
    let src = format!(
        "videotestsrc num-buffers={frames} pattern=ball ! video/x-raw,format=I420,width={w},height={h},framerate=25/1"
    );
    println!("{}", mediaai_common::bench::adapter_line());
    // `video/x-raw` capsfilters keep frames in system memory: the per-element round trip.
    let sys = "video/x-raw";
    let chains: [(&str, String); 7] = [
        ("source alone", format!("{src} ! fakesink")),
        (
            "vhsrestore alone",
            format!("{src} ! vhsrestore backend=gpu ! {sys} ! fakesink"),
        ),
        (
            "gpublur alone",
            format!("{src} ! gpublur region=frame backend=gpu ! fakesink"),
        ),
        (
            "qcfingerprint alone",
            format!("{src} ! qcfingerprint backend=gpu ! fakesink"),
        ),
        (
            "chain, round trips",
            format!(
                "{src} ! vhsrestore backend=gpu ! {sys} ! gpublur region=frame backend=gpu ! {sys} ! qcfingerprint backend=gpu ! fakesink"
            ),
        ),
        (
            "chain, GPU frames",
            format!(
                "{src} ! vhsrestore backend=gpu ! gpublur region=frame backend=gpu ! qcfingerprint backend=gpu ! wgpudownload ! fakesink"
            ),
        ),
        (
            "chain, CPU",
            format!(
                "{src} ! vhsrestore backend=cpu ! gpublur region=frame backend=cpu ! qcfingerprint backend=cpu ! fakesink"
            ),
        ),
    ];
    println!("{frames} frames {w}x{h} I420, two passes");
    println!(
        "{:<22} {:>9} {:>9} {:>13} {:>9} {:>9}",
        "pipeline", "fps", "fps (2)", "cpu ms/frame", "uploads", "readbacks"
    );
    let mut results = Vec::new();
    for (name, description) in &chains {
        let a = run(description, frames).unwrap_or_else(|e| panic!("{e}"));
        let b = run(description, frames).unwrap_or_else(|e| panic!("{e}"));
        println!(
            "{name:<22} {:>9.1} {:>9.1} {:>13.2} {:>9.2} {:>9.2}",
            a.fps,
            b.fps,
            (a.cpu_ms + b.cpu_ms) / 2.0,
            b.uploads,
            b.downloads
        );
        results.push((a.fps + b.fps) / 2.0);
    }
    let slowest = results[1..4].iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "GPU-frame chain / slowest element alone: {:.2}x; round-trip chain / slowest: {:.2}x; GPU-frame chain / round trips: {:.2}x",
        results[5] / slowest,
        results[4] / slowest,
        results[5] / results[4]
    );
}
