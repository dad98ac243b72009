//! Many streams through `onnxfacedetect` (and `gpublur`), unpaced or live: total frames per
//! second, each frame's delay, and the process's peak memory. One configuration per run, so
//! that the peak is that configuration's.
//!
//! `cargo run --release -p gst-plugin-mediaai --example streams -- N MODE RAW WIDTHxHEIGHT
//! [live] [CHAIN] [PROPERTIES...]`
//!
//! - RAW: a file of raw I420 frames of that size (decoded beforehand, so decoding is not what
//!   is measured), read by N pipelines at once.
//! - MODE: `separate` (a session per detector), `grouped` (one `batch-group`), `grouped:K` (K
//!   batch groups, the streams dealt over them in turn), or `procs` (one
//!   process per stream, as a supervisor such as systemd or Kubernetes runs channels: this
//!   program runs itself N times with N=1, `separate`, and gathers their figures).
//! - `live`: each stream is paced at 25 fps as a camera sends it (`identity sync=true`, which
//!   makes the pipeline live: no preroll, caps and the first frame come in PLAYING), behind a
//!   capsfilter that says the frames' size, as one after a camera would.
//! - CHAIN: `detect` (the detector alone, the default), `blur` (`onnxfacedetect ! gpublur`,
//!   frames in system memory), `cpu-blur` (the same with `gpublur backend=cpu`: no GPU device
//!   of wgpu's in the process, beside the detector's CUDA context) or `gpu-blur`
//!   (`wgpuupload ! onnxfacedetect ! gpublur !
//!   wgpudownload`: frames on the GPU between the two), or `upscale` (`upscale method=neural`
//!   instead of the detector, the delay counted as frames leave it: HD to UHD live).
//! - PROPERTIES go to every detector, or upscaler (e.g. `interval=1`).
//!
//! Pipelines start together (each on a thread of its own, as independent channels would), and
//! the clock of each starts when it reaches PLAYING. Prints one line: `streams=N mode=...
//! chain=... frames=... seconds=... fps=... peak_rss_mib=... sessions=... batches=...
//! images=...`, and with `live`: `p50_delay_ms=... p99_delay_ms=... max_delay_ms=...
//! late=...` (frames leaving the detector more than 200 ms after their due time, counted from
//! the first frame; measured as frames leave the detector), `hidden=...` (frames the detector marked whole: no measurement covered
//! them) and `shedding=...` (times a detector started shedding work).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use gst::prelude::*;

/// A frame later than this is counted late.
const LATE_MS: u64 = 200;

fn peak_rss_mib() -> f64 {
    mediaai_testing::bench::memory_kib("VmHWM") as f64 / 1024.0
}

/// What one run measured: frames, delays (ms) of live frames, frames hidden whole, shedding
/// episodes.
#[derive(Default)]
struct Measured {
    delays: Vec<u64>,
    hidden: u64,
    shedding: u64,
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [n, mode, raw, size, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: streams N separate|grouped[:K]|procs RAW WIDTHxHEIGHT [live] [detect|blur|cpu-blur|gpu-blur|upscale] [PROPERTIES...]".into(),
        );
    };
    let (live, rest) = match rest {
        [first, rest @ ..] if first == "live" => (true, rest),
        rest => (false, rest),
    };
    let (chain, props) = match rest {
        [first, rest @ ..]
            if ["detect", "blur", "cpu-blur", "gpu-blur", "upscale"].contains(&first.as_str()) =>
        {
            (first.as_str(), rest)
        }
        rest => ("detect", rest),
    };
    let n: usize = n.parse().map_err(|e| format!("N: {e}"))?;
    let (w, h) = size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<usize>().ok()?, h.parse::<usize>().ok()?)))
        .ok_or("WIDTHxHEIGHT")?;
    let frame = w * h * 3 / 2;
    let file_frames = std::fs::metadata(raw)
        .map_err(|e| format!("{raw}: {e}"))?
        .len() as usize
        / frame;
    let frames = n * file_frames;
    let started = Instant::now();
    let (measured, sessions, batches, images) = match mode.as_str() {
        "procs" => {
            let m = run_processes(n, raw, size, live, chain, props)?;
            (m, n, 0, 0)
        }
        m if m == "separate" || m == "grouped" || m.starts_with("grouped:") => {
            let groups = match m.strip_prefix("grouped:") {
                Some(k) => k
                    .parse::<usize>()
                    .ok()
                    .filter(|&k| k > 0)
                    .ok_or("grouped:K takes a number of groups above 0")?,
                None => usize::from(m == "grouped"),
            };
            let props = props.join(" ");
            let m = run_pipelines(n, raw, (w, h), frame, live, chain, groups, &props)?;
            let (batches, images) = mediaai_common::batching::batches_run();
            (
                m,
                mediaai_common::inference::sessions_built(),
                batches,
                images,
            )
        }
        other => {
            return Err(format!(
                "mode {other}: separate, grouped, grouped:K or procs"
            ))
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    print!(
        "streams={n} mode={mode} chain={chain} frames={frames} seconds={seconds:.2} fps={:.1} peak_rss_mib={:.0} sessions={sessions} batches={batches} images={images}",
        frames as f64 / seconds,
        peak_rss_mib(),
    );
    if live {
        let mut d = measured.delays;
        d.sort_unstable();
        let at = |q: f64| {
            d.get(((d.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(0)
        };
        print!(
            " p50_delay_ms={} p99_delay_ms={} max_delay_ms={} late={} hidden={} shedding={}",
            at(0.5),
            at(0.99),
            at(1.0),
            d.iter().filter(|&&v| v > LATE_MS).count(),
            measured.hidden,
            measured.shedding
        );
        if std::env::var_os("MEDIAAI_STREAMS_CHILD").is_some() {
            let list: Vec<String> = d.iter().map(u64::to_string).collect();
            print!(" delays_ms={}", list.join(","));
        }
    }
    println!();
    Ok(())
}

/// N pipelines in this process, started together, dealt over `groups` batch groups (0: none);
/// returns what they measured.
#[allow(clippy::too_many_arguments)]
fn run_pipelines(
    n: usize,
    raw: &str,
    (w, h): (usize, usize),
    frame: usize,
    live: bool,
    chain: &str,
    groups: usize,
    props: &str,
) -> Result<Measured, String> {
    gst::init().map_err(|e| e.to_string())?;
    gstmediaai::plugin_register_static().map_err(|e| e.to_string())?;
    let caps = format!("video/x-raw,format=I420,width={w},height={h},framerate=25/1");
    let pace = if live { "! identity sync=true " } else { "" };
    let measured = Arc::new(Mutex::new(Measured::default()));
    let pipelines = (0..n)
        .map(|i| {
            let group = match groups {
                0 => String::new(),
                k => format!("batch-group=streams{}", i % k),
            };
            let detect = format!("onnxfacedetect name=detect post-messages=false {group} {props}");
            let body = match chain {
                "blur" => format!("{detect} ! gpublur"),
                "cpu-blur" => format!("{detect} ! gpublur backend=cpu"),
                "gpu-blur" => format!("wgpuupload ! {detect} ! gpublur ! wgpudownload"),
                "upscale" => format!("upscale name=detect method=neural {group} {props}"),
                _ => detect,
            };
            let desc = format!(
                "filesrc location=\"{raw}\" blocksize={frame} ! rawvideoparse format=i420 width={w} height={h} framerate=25/1 ! {caps} {pace}! {body} ! fakesink name=sink sync=false"
            );
            let p = gst::parse::launch(&desc)
                .map_err(|e| e.to_string())?
                .downcast::<gst::Pipeline>()
                .map_err(|_| "not a pipeline".to_string())?;
            if live {
                watch_delays(&p, measured.clone());
            }
            Ok::<_, String>(p)
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Each pipeline goes to PAUSED on a thread of its own (a detector runs its network's first
    // run then), as independent channels start; a live one does not preroll.
    std::thread::scope(|scope| {
        let started: Vec<_> = pipelines
            .iter()
            .map(|p| {
                scope.spawn(move || {
                    p.set_state(gst::State::Paused)
                        .map_err(|e| format!("to PAUSED: {e}"))?;
                    let (done, ..) = p.state(gst::ClockTime::from_seconds(300));
                    done.map(|_| ()).map_err(|e| format!("preroll: {e}"))
                })
            })
            .collect();
        started
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|_| Err("a start panicked".into())))
            .collect::<Result<Vec<()>, String>>()
    })?;
    for p in &pipelines {
        p.set_state(gst::State::Playing)
            .map_err(|e| e.to_string())?;
    }
    for p in &pipelines {
        let bus = p.bus().expect("a pipeline has a bus");
        loop {
            let msg = bus
                .timed_pop_filtered(
                    gst::ClockTime::from_seconds(3600),
                    &[
                        gst::MessageType::Eos,
                        gst::MessageType::Error,
                        gst::MessageType::Element,
                    ],
                )
                .ok_or("timed out")?;
            match msg.view() {
                gst::MessageView::Error(e) => {
                    return Err(format!("{} ({:?})", e.error(), e.debug()))
                }
                gst::MessageView::Eos(_) => break,
                gst::MessageView::Element(e) => {
                    let starts = e.structure().is_some_and(|s| {
                        s.name() == mediaai_common::live::OVERLOAD_MESSAGE
                            && s.get::<bool>("shedding").unwrap_or(false)
                    });
                    if starts {
                        measured.lock().expect("no panic under the lock").shedding += 1;
                    }
                }
                _ => {}
            }
        }
    }
    for p in &pipelines {
        let _ = p.set_state(gst::State::Null);
    }
    let m = std::mem::take(&mut *measured.lock().expect("no panic under the lock"));
    Ok(m)
}

/// Records each frame's delay as it leaves the detector (the pipeline's running time now less
/// the frame's, its due time: the source's segment starts at 0; `gpublur` after it holds
/// frames back by design, and says so in its latency) and counts frames hidden whole.
fn watch_delays(p: &gst::Pipeline, measured: Arc<Mutex<Measured>>) {
    let detect = p.by_name("detect").expect("named detector");
    let weak = p.downgrade();
    detect.static_pad("src").expect("src pad").add_probe(
        gst::PadProbeType::BUFFER,
        move |_, info| {
            let (Some(p), Some(buffer)) = (weak.upgrade(), info.buffer()) else {
                return gst::PadProbeReturn::Ok;
            };
            let hidden = buffer
                .iter_meta::<gst_video::VideoRegionOfInterestMeta>()
                .any(|m| mediaai_common::roi::is_unmeasured_frame(&m));
            if let (Some(now), Some(pts)) = (p.current_running_time(), buffer.pts()) {
                let mut m = measured.lock().expect("no panic under the lock");
                m.delays.push(now.saturating_sub(pts).mseconds());
                m.hidden += hidden as u64;
            }
            gst::PadProbeReturn::Ok
        },
    );
}

/// N processes of this program, one stream each, started together; gathers their delays.
fn run_processes(
    n: usize,
    raw: &str,
    size: &str,
    live: bool,
    chain: &str,
    props: &[String],
) -> Result<Measured, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let children = (0..n)
        .map(|_| {
            let mut c = std::process::Command::new(&me);
            c.args(["1", "separate", raw, size]);
            if live {
                c.arg("live");
            }
            c.arg(chain).args(props).env("MEDIAAI_STREAMS_CHILD", "1");
            c.stdout(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| format!("{}: {e}", me.display()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut m = Measured::default();
    for child in children {
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let line = String::from_utf8_lossy(&out.stdout).to_string();
        if !out.status.success() {
            return Err(format!("a stream's process failed: {}", line.trim()));
        }
        for field in line.split_whitespace() {
            match field.split_once('=') {
                Some(("delays_ms", list)) => m
                    .delays
                    .extend(list.split(',').filter_map(|v| v.parse::<u64>().ok())),
                Some(("hidden", v)) => m.hidden += v.parse::<u64>().unwrap_or(0),
                Some(("shedding", v)) => m.shedding += v.parse::<u64>().unwrap_or(0),
                _ => {}
            }
        }
    }
    Ok(m)
}
