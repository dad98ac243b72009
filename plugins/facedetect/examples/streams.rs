//! Many streams through `onnxfacedetect` in one process, each detector with a session of its
//! own or all in one batch group: total frames per second and the process's peak memory.
//! One configuration per process, so that the peak is that configuration's.
//!
//! `cargo run --release -p gst-plugin-facedetect --example streams -- N grouped|separate RAW
//! WIDTHxHEIGHT [live] [PROPERTIES...]`: RAW is a file of raw I420 frames of that size (decoded
//! beforehand, so decoding is not what is measured), read by N pipelines at once; PROPERTIES
//! go to every detector (e.g. `interval=1`). With `live` each stream is paced at 25 fps as a
//! camera would send it, and each frame's delay from its due time to its leaving the detector
//! is measured (after the first second, while a GPU provider compiles its kernels). Prints one line: `streams=N mode=... frames=... seconds=... fps=...
//! peak_rss_mib=... sessions=... batches=... images=...` and with `live` `max_delay_ms=...
//! p99_delay_ms=... late=...` (frames more than 200 ms behind).

use std::time::Instant;

use gst::prelude::*;

fn peak_rss_mib() -> f64 {
    mediaai_testing::bench::memory_kib("VmHWM") as f64 / 1024.0
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [n, mode, raw, size, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: streams N grouped|separate RAW WIDTHxHEIGHT [live] [PROPERTIES...]".into(),
        );
    };
    let (live, props) = match rest {
        [first, props @ ..] if first == "live" => (true, props),
        props => (false, props),
    };
    let n: usize = n.parse().map_err(|e| format!("N: {e}"))?;
    let group = match mode.as_str() {
        "grouped" => "batch-group=streams",
        "separate" => "",
        other => return Err(format!("mode {other}: grouped or separate")),
    };
    let (w, h) = size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<usize>().ok()?, h.parse::<usize>().ok()?)))
        .ok_or("WIDTHxHEIGHT")?;
    let frame = w * h * 3 / 2;
    let file_frames = std::fs::metadata(raw)
        .map_err(|e| format!("{raw}: {e}"))?
        .len() as usize
        / frame;
    gst::init().map_err(|e| e.to_string())?;
    gstfacedetect::plugin_register_static().map_err(|e| e.to_string())?;
    let props = props.join(" ");
    let pace = if live { "! identity sync=true " } else { "" };
    let delays = std::sync::Arc::new(std::sync::Mutex::new(Vec::with_capacity(n * file_frames)));
    let pipelines = (0..n)
        .map(|_| {
            let desc = format!(
                "filesrc location=\"{raw}\" blocksize={frame} ! rawvideoparse format=i420 width={w} height={h} framerate=25/1 {pace}! onnxfacedetect post-messages=false {group} {props} ! fakesink name=sink sync=false"
            );
            let p = gst::parse::launch(&desc)
                .map_err(|e| e.to_string())?
                .downcast::<gst::Pipeline>()
                .map_err(|_| "not a pipeline".to_string())?;
            if live {
                // Delay of each frame: the pipeline's running time now, less the frame's
                // (its due time: the source segment starts at 0).
                let sink = p.by_name("sink").expect("named sink");
                let delays = delays.clone();
                let weak = p.downgrade();
                sink.static_pad("sink").expect("sink pad").add_probe(
                    gst::PadProbeType::BUFFER,
                    move |_, info| {
                        let (Some(p), Some(buffer)) = (weak.upgrade(), info.buffer()) else {
                            return gst::PadProbeReturn::Ok;
                        };
                        // The first second is left out: a GPU provider compiles its kernels on
                        // the first frames.
                        if let (Some(now), Some(pts)) = (
                            p.current_running_time(),
                            buffer.pts().filter(|&t| t >= gst::ClockTime::SECOND),
                        ) {
                            delays
                                .lock()
                                .expect("no panic under the lock")
                                .push(now.saturating_sub(pts).mseconds());
                        }
                        gst::PadProbeReturn::Ok
                    },
                );
            }
            Ok::<_, String>(p)
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Every pipeline prerolled (models loaded) before the clock starts.
    for p in &pipelines {
        p.set_state(gst::State::Paused).map_err(|e| e.to_string())?;
    }
    for p in &pipelines {
        let (done, ..) = p.state(gst::ClockTime::from_seconds(120));
        done.map_err(|e| format!("preroll: {e}"))?;
    }
    let start = Instant::now();
    for p in &pipelines {
        p.set_state(gst::State::Playing)
            .map_err(|e| e.to_string())?;
    }
    for p in &pipelines {
        let bus = p.bus().expect("a pipeline has a bus");
        let msg = bus
            .timed_pop_filtered(
                gst::ClockTime::from_seconds(3600),
                &[gst::MessageType::Eos, gst::MessageType::Error],
            )
            .ok_or("timed out")?;
        if let gst::MessageView::Error(e) = msg.view() {
            return Err(format!("{} ({:?})", e.error(), e.debug()));
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    for p in &pipelines {
        let _ = p.set_state(gst::State::Null);
    }
    let frames = n * file_frames;
    let (batches, images) = mediaai_common::batching::batches_run();
    print!(
        "streams={n} mode={mode} frames={frames} seconds={seconds:.2} fps={:.1} peak_rss_mib={:.0} sessions={} batches={batches} images={images}",
        frames as f64 / seconds,
        peak_rss_mib(),
        mediaai_common::inference::sessions_built()
    );
    if live {
        let mut d = delays.lock().expect("no panic under the lock").clone();
        d.sort_unstable();
        let at = |q: f64| {
            d.get(((d.len() as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or(0)
        };
        print!(
            " max_delay_ms={} p99_delay_ms={} late={}",
            at(1.0),
            at(0.99),
            d.iter().filter(|&&v| v > 200).count()
        );
    }
    println!();
    Ok(())
}
