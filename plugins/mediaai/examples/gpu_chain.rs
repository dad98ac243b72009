//! Frames that stay on the GPU between elements, beside the same elements with a readback and
//! upload between each (system memory) and beside the CPU paths, on one source in one run, for
//! `vhsrestore ! gpublur ! qcfingerprint`, `upscale method=spatial ! gpublur !
//! qcfingerprint` (from half the size) and `onnxfacedetect ! gpublur` (a photograph):
//! frames per second, CPU seconds per frame (user + system, every thread) and the whole-frame
//! uploads and readbacks per frame that the elements counted.
//!
//! `cargo run --release -p gst-plugin-mediaai --example gpu_chain [FRAMES] [WIDTHxHEIGHT]
//! [PHOTO]` (defaults 300, 1920x1080, `make media`'s astronaut.png; the source is `videotestsrc
//! pattern=ball`, I420, and the photograph frozen into a clip for the detector).

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

/// The frame every buffer of the element named `picture` carries, when set.
static PICTURE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

fn run(description: &str, frames: u64) -> Result<Run, String> {
    let pipeline = gst::parse::launch(description)
        .map_err(|e| format!("{description}: {e}"))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| "not a pipeline".to_string())?;
    if let (Some(src), Some(picture)) = (pipeline.by_name("picture"), PICTURE.get()) {
        paint(&src, picture);
    }
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

/// Writes `picture` into every buffer `src` sends (the source's cost, the same in every row):
/// a photograph as a clip from GStreamer's base elements alone, which the GPU machine has.
fn paint(src: &gst::Element, picture: &'static [u8]) {
    let pad = src.static_pad("src").expect("a source pad");
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(gst::PadProbeData::Buffer(buffer)) = info.data.as_mut() {
            if let Ok(mut map) = buffer.make_mut().map_writable() {
                let n = map.len().min(picture.len());
                map[..n].copy_from_slice(&picture[..n]);
            }
        }
        gst::PadProbeReturn::Ok
    });
}

/// The I420 `w`x`h` frame of `path`: a PNG decoded and scaled (needs `pngdec`), or raw I420 of
/// that size.
fn picture(path: &std::path::Path, w: u32, h: u32) -> Result<Vec<u8>, String> {
    let size = gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, w, h)
        .build()
        .map_err(|e| e.to_string())?
        .size();
    if path.extension().is_some_and(|e| e == "png") {
        let description = format!(
            "filesrc location={} ! pngdec ! videoconvert ! videoscale ! video/x-raw,format=I420,width={w},height={h} ! fakesink name=sink signal-handoffs=true",
            path.display()
        );
        let pipeline = gst::parse::launch(&description)
            .map_err(|e| format!("{description}: {e}"))?
            .downcast::<gst::Pipeline>()
            .map_err(|_| "not a pipeline".to_string())?;
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = pipeline.by_name("sink").expect("named sink");
        let keep = got.clone();
        sink.connect("handoff", false, move |values| {
            if let Ok(buffer) = values[1].get::<gst::Buffer>() {
                if let Ok(map) = buffer.map_readable() {
                    *keep.lock().unwrap() = map.to_vec();
                }
            }
            None
        });
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| e.to_string())?;
        let bus = pipeline.bus().expect("a pipeline has a bus");
        bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        );
        let _ = pipeline.set_state(gst::State::Null);
        let bytes = std::mem::take(&mut *got.lock().unwrap());
        return (bytes.len() >= size)
            .then_some(bytes)
            .ok_or_else(|| format!("{} did not decode", path.display()));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    (bytes.len() == size)
        .then_some(bytes)
        .ok_or_else(|| format!("{}: not raw I420 {w}x{h}", path.display()))
}

/// Times `chains` (name, pipeline after the source) on `src`, two passes each, and prints a
/// table; returns the mean fps of each.
fn table(src: &str, frames: u64, chains: &[(&str, String)]) -> Vec<f64> {
    println!(
        "{:<26} {:>9} {:>9} {:>13} {:>9} {:>9}",
        "pipeline", "fps", "fps (2)", "cpu ms/frame", "uploads", "readbacks"
    );
    let mut fps = Vec::new();
    for (name, chain) in chains {
        let description = format!("{src} ! {chain}");
        let a = run(&description, frames).unwrap_or_else(|e| panic!("{e}"));
        let b = run(&description, frames).unwrap_or_else(|e| panic!("{e}"));
        println!(
            "{name:<26} {:>9.1} {:>9.1} {:>13.2} {:>9.2} {:>9.2}",
            a.fps,
            b.fps,
            (a.cpu_ms + b.cpu_ms) / 2.0,
            b.uploads,
            b.downloads
        );
        fps.push((a.fps + b.fps) / 2.0);
    }
    fps
}

fn main() {
    gst::init().expect("GStreamer initialises");
    gstmediaai::plugin_register_static().expect("the plugin registers");
    let mut args = std::env::args().skip(1);
    let frames: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let size = args.next().unwrap_or_else(|| "1920x1080".into());
    let (w, h) = size.split_once('x').expect("WIDTHxHEIGHT");
    let (w, h): (u32, u32) = (w.parse().expect("a width"), h.parse().expect("a height"));
    let source = |w: u32, h: u32| {
        format!(
            "videotestsrc num-buffers={frames} pattern=ball ! video/x-raw,format=I420,width={w},height={h},framerate=25/1"
        )
    };
    println!("{}", mediaai_testing::bench::adapter_line());
    // `video/x-raw` capsfilters keep frames in system memory: the per-element round trip.
    let sys = "video/x-raw";
    println!("\nvhsrestore ! gpublur ! qcfingerprint: {frames} frames {w}x{h} I420, two passes");
    let fps = table(
        &source(w, h),
        frames,
        &[
            ("source alone", "fakesink".into()),
            (
                "vhsrestore alone",
                format!("vhsrestore backend=gpu ! {sys} ! fakesink"),
            ),
            (
                "gpublur alone",
                "gpublur region=frame backend=gpu ! fakesink".into(),
            ),
            (
                "qcfingerprint alone",
                "qcfingerprint backend=gpu ! fakesink".into(),
            ),
            (
                "chain, round trips",
                format!(
                    "vhsrestore backend=gpu ! {sys} ! gpublur region=frame backend=gpu ! {sys} ! qcfingerprint backend=gpu ! fakesink"
                ),
            ),
            (
                "chain, GPU frames",
                "vhsrestore backend=gpu ! gpublur region=frame backend=gpu ! qcfingerprint backend=gpu ! wgpudownload ! fakesink".into(),
            ),
            (
                "chain, CPU",
                "vhsrestore backend=cpu ! gpublur region=frame backend=cpu ! qcfingerprint backend=cpu ! fakesink".into(),
            ),
        ],
    );
    let slowest = fps[1..4].iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "GPU-frame chain / slowest element alone: {:.2}x; round-trip chain / slowest: {:.2}x; GPU frames / round trips: {:.2}x",
        fps[5] / slowest,
        fps[4] / slowest,
        fps[5] / fps[4]
    );
    let (hw, hh) = (w / 2 / 2 * 2, h / 2 / 2 * 2);
    println!(
        "\nupscale method=spatial ! gpublur ! qcfingerprint: {frames} frames {hw}x{hh} I420 to {}x{}, two passes",
        2 * hw,
        2 * hh
    );
    let fps = table(
        &source(hw, hh),
        frames,
        &[
            ("source alone", "fakesink".into()),
            (
                "upscale alone",
                format!("upscale method=spatial backend=gpu ! {sys} ! fakesink"),
            ),
            (
                "chain, round trips",
                format!(
                    "upscale method=spatial backend=gpu ! {sys} ! gpublur region=frame backend=gpu ! {sys} ! qcfingerprint backend=gpu ! fakesink"
                ),
            ),
            (
                "chain, GPU frames",
                "upscale method=spatial backend=gpu ! gpublur region=frame backend=gpu ! qcfingerprint backend=gpu ! wgpudownload ! fakesink".into(),
            ),
            (
                "chain, CPU",
                "upscale method=spatial backend=cpu ! gpublur region=frame backend=cpu ! qcfingerprint backend=cpu ! fakesink".into(),
            ),
        ],
    );
    println!(
        "GPU-frame chain / upscale alone: {:.2}x; round-trip chain / upscale alone: {:.2}x; GPU frames / round trips: {:.2}x",
        fps[3] / fps[1],
        fps[2] / fps[1],
        fps[3] / fps[2]
    );

    // Anonymisation: the detector samples GPU frames on the GPU and reads back only its
    // network's input; in system memory it samples on the CPU (on the GPU too when its network
    // runs there, execution-provider=auto on a GPU machine) and gpublur uploads. The last row
    // is all CPU: network, sampling and blur.
    let photo = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| mediaai_testing::media("astronaut.png"));
    PICTURE
        .set(picture(&photo, w, h).unwrap_or_else(|e| panic!("{e}")))
        .expect("set once");
    let faces = format!(
        "videotestsrc name=picture num-buffers={frames} pattern=black ! video/x-raw,format=I420,width={w},height={h},framerate=25/1"
    );
    let detect = "onnxfacedetect max-input-size=640";
    println!(
        "\nonnxfacedetect ! gpublur: {frames} frames {w}x{h} I420 of a photograph, detection at 640, two passes"
    );
    let fps = table(
        &faces,
        frames,
        &[
            ("source alone", "fakesink".into()),
            (
                "detector, GPU frames",
                format!("wgpuupload ! {detect} ! gpublur backend=gpu ! wgpudownload ! fakesink"),
            ),
            (
                "detector, round trips",
                format!("{detect} ! {sys} ! gpublur backend=gpu ! {sys} ! fakesink"),
            ),
            (
                "detector, CPU",
                format!("{detect} execution-provider=cpu ! gpublur backend=cpu ! fakesink"),
            ),
        ],
    );
    println!(
        "GPU frames / round trips: {:.2}x; GPU frames / CPU: {:.2}x",
        fps[1] / fps[2],
        fps[1] / fps[3]
    );
}
