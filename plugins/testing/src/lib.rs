//! Helpers the test suites of every plugin share: real media from the project's manifest and
//! real pipelines run to the end, quality measures; [`bench`] for the benchmark examples. A
//! dev-dependency of the element crates only, so `gst-check` never links into a plugin.

use std::path::PathBuf;

use gst::prelude::*;

pub mod bench;

/// The process-wide GPU context for a test whose subject is the GPU path: without an adapter
/// the test fails, saying what to install — it never passes without running its subject.
pub fn gpu() -> &'static mediaai_common::gpu::GpuContext {
    use mediaai_common::gpu;
    gpu::context().unwrap_or_else(|e| panic!("{}: {e}", gpu::TESTS_NEED_AN_ADAPTER))
}

/// The source tree (models/, .deps/): two levels above this crate.
const SOURCE_TREE_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// A file fetched by `make media` (models/media.toml); panics with the fix when it is absent.
pub fn media(name: &str) -> PathBuf {
    let p = std::path::Path::new(SOURCE_TREE_ROOT)
        .join(".deps/media")
        .join(name);
    assert!(
        p.is_file(),
        "{} missing: run `make media` first",
        p.display()
    );
    p
}

/// Pushes `frames` (40 ms apart, each 40 ms long) through `launch` (gst-launch syntax) on
/// `caps` in a `gst_check::Harness`, then EOS; the output buffers in the order they came. A
/// warning or error posted on the way fails the caller (a GPU path that fell back to the CPU
/// warns: a comparison of the two would compare the CPU with itself); see
/// [`push_frames_warned`] for a run that expects one.
pub fn push_frames(launch: &str, caps: &gst::Caps, frames: &[Vec<u8>]) -> Vec<gst::Buffer> {
    let (out, warned) = push_frames_warned(launch, caps, frames);
    assert!(warned.is_empty(), "{launch}: {warned:?}");
    out
}

/// A flush as a seek brings it into `h`: flush start, flush stop, and a fresh time segment
/// (what the element holds is dropped; frames after it start a new stream).
pub fn flush(h: &mut gst_check::Harness) {
    h.push_event(gst::event::FlushStart::new());
    h.push_event(gst::event::FlushStop::new(true));
    h.push_event(gst::event::Segment::new(&gst::FormattedSegment::<
        gst::ClockTime,
    >::new()));
}

/// [`push_frames`], with the warnings and errors posted on the way (see [`warnings`]).
pub fn push_frames_warned(
    launch: &str,
    caps: &gst::Caps,
    frames: &[Vec<u8>],
) -> (Vec<gst::Buffer>, Vec<String>) {
    let mut h = gst_check::Harness::new_parse(launch);
    let bus = watch(&h.element().expect("the harness holds the parsed bin"));
    h.set_src_caps(caps.clone());
    h.play();
    for (k, data) in frames.iter().enumerate() {
        let mut b = gst::Buffer::from_slice(data.clone());
        let b_ = b.get_mut().expect("a new buffer is writable");
        b_.set_pts(gst::ClockTime::from_mseconds(40 * k as u64));
        b_.set_duration(gst::ClockTime::from_mseconds(40));
        h.push(b).expect("the element takes the frame");
    }
    h.push_event(gst::event::Eos::new());
    let out = std::iter::from_fn(|| h.try_pull()).collect();
    (out, warnings(&bus))
}

/// Decodes an image file into one video frame of `format` (e.g. "RGBA"), optionally scaled
/// to `size`, through a real GStreamer pipeline.
pub fn load_frame(path: &std::path::Path, format: &str, size: Option<(u32, u32)>) -> gst::Sample {
    gst::init().expect("GStreamer initialises");
    let scale = size
        .map(|(w, h)| {
            format!("! videoscale ! video/x-raw,width={w},height={h},pixel-aspect-ratio=1/1 ")
        })
        .unwrap_or_default();
    let desc = format!(
        "filesrc location=\"{}\" ! decodebin ! videoconvert {scale}! videoconvert ! video/x-raw,format={format} ! fakesink name=sink enable-last-sample=true",
        path.display()
    );
    let (pipeline, _) = run_to_end(&desc).expect("image pipeline runs");
    let sink = pipeline
        .by_name("sink")
        .expect("sink is in the description");
    let sample = sink
        .property::<Option<gst::Sample>>("last-sample")
        .expect("one frame decoded");
    pipeline.set_state(gst::State::Null).expect("to NULL");
    sample
}

/// A bus of its own for `element` outside any pipeline (a harness's element), so that the
/// messages it posts can be read with [`element_messages`].
pub fn watch(element: &gst::Element) -> gst::Bus {
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    bus
}

/// The warnings and errors waiting on `bus` (see [`watch`]), in words: a GPU path that failed
/// and fell back to the CPU says so in a warning, so a test comparing the two asserts there is
/// none, or it would compare the CPU with itself.
pub fn warnings(bus: &gst::Bus) -> Vec<String> {
    bus.iter()
        .filter_map(|m| match m.view() {
            gst::MessageView::Warning(w) => {
                Some(format!("warning: {} ({:?})", w.error(), w.debug()))
            }
            gst::MessageView::Error(e) => Some(format!("error: {} ({:?})", e.error(), e.debug())),
            _ => None,
        })
        .collect()
}

/// The structures of the element messages named `name` waiting on `bus`, in order.
pub fn element_messages(bus: &gst::Bus, name: &str) -> Vec<gst::Structure> {
    bus.iter()
        .filter_map(|m| match m.view() {
            gst::MessageView::Element(e) => e
                .structure()
                .filter(|s| s.name() == name)
                .map(|s| s.to_owned()),
            _ => None,
        })
        .collect()
}

/// Runs `launch` (an endless source into a `fakesink name=sink`) and changes its state while
/// buffers flow through it, `cycles` times: PLAYING until three more buffers reached the sink,
/// PAUSED and PLAYING again mid-stream, two more buffers, then NULL with buffers still coming.
/// Panics on an error message or when buffers stop (10 s); returns the buffers seen.
pub fn cycle_while_flowing(launch: &str, cycles: usize) -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    gst::init().expect("GStreamer initialises");
    let pipeline = gst::parse::launch(launch)
        .expect("the launch line parses")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
    let count = std::sync::Arc::new(AtomicU64::new(0));
    let sink = pipeline.by_name("sink").expect("a fakesink named sink");
    sink.set_property("signal-handoffs", true);
    let c = count.clone();
    sink.connect("handoff", false, move |_| {
        c.fetch_add(1, Ordering::Relaxed);
        None
    });
    let bus = pipeline.bus().expect("pipelines have a bus");
    let wait_for = |more: u64, what: &str| {
        let until = count.load(Ordering::Relaxed) + more;
        let started = std::time::Instant::now();
        while count.load(Ordering::Relaxed) < until {
            if let Some(m) =
                bus.timed_pop_filtered(gst::ClockTime::from_mseconds(5), &[gst::MessageType::Error])
            {
                if let gst::MessageView::Error(e) = m.view() {
                    panic!("{launch}: {what}: {} ({:?})", e.error(), e.debug());
                }
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "{launch}: {what}: buffers stopped"
            );
        }
    };
    for cycle in 0..cycles {
        pipeline.set_state(gst::State::Playing).expect("to PLAYING");
        wait_for(3, &format!("cycle {cycle}, playing"));
        pipeline
            .set_state(gst::State::Paused)
            .expect("to PAUSED mid-stream");
        pipeline
            .set_state(gst::State::Playing)
            .expect("back to PLAYING");
        wait_for(2, &format!("cycle {cycle}, after a pause"));
        pipeline
            .set_state(gst::State::Null)
            .expect("to NULL mid-stream");
    }
    count.load(Ordering::Relaxed)
}

/// A pipeline run to its end: the pipeline, its element messages, its warnings in words.
pub type RunToEnd = (gst::Pipeline, Vec<gst::Structure>, Vec<String>);

/// Runs a `gst-launch` style description to EOS and returns the pipeline (still PLAYING, for
/// inspection) with the structures of the element messages posted on the way, or the first
/// error message's text and debug string.
pub fn run_to_end(desc: &str) -> Result<(gst::Pipeline, Vec<gst::Structure>), String> {
    run_to_end_warned(desc).map(|(p, elements, _)| (p, elements))
}

/// [`run_to_end`], with the warnings posted on the way, in words (see [`warnings`]).
pub fn run_to_end_warned(desc: &str) -> Result<RunToEnd, String> {
    gst::init().expect("GStreamer initialises");
    let pipeline = gst::parse::launch(desc)
        .map_err(|e| format!("parse: {e}"))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| "not a pipeline".to_string())?;
    let bus = pipeline.bus().expect("pipelines have a bus");
    let mut elements = Vec::new();
    let mut warned = Vec::new();
    let result = match pipeline.set_state(gst::State::Playing) {
        Err(_) => {
            Err(first_error(&bus).unwrap_or_else(|| "state change failed without a message".into()))
        }
        Ok(_) => loop {
            let Some(msg) = bus.timed_pop(gst::ClockTime::from_seconds(120)) else {
                break Err("pipeline timed out".into());
            };
            match msg.view() {
                gst::MessageView::Eos(_) => break Ok(()),
                gst::MessageView::Error(e) => {
                    break Err(format!("{} ({:?})", e.error(), e.debug()))
                }
                gst::MessageView::Element(e) => {
                    if let Some(s) = e.structure() {
                        elements.push(s.to_owned());
                    }
                }
                gst::MessageView::Warning(w) => {
                    warned.push(format!("warning: {} ({:?})", w.error(), w.debug()))
                }
                _ => {}
            }
        },
    };
    match result {
        Ok(()) => Ok((pipeline, elements, warned)),
        Err(e) => {
            let _ = pipeline.set_state(gst::State::Null);
            Err(e)
        }
    }
}

fn first_error(bus: &gst::Bus) -> Option<String> {
    while let Some(msg) = bus.pop() {
        if let gst::MessageView::Error(e) = msg.view() {
            return Some(format!("{} ({:?})", e.error(), e.debug()));
        }
    }
    None
}

/// The samples of a WAV file (16-bit PCM or 32-bit float) as `f32` in -1..1, interleaved,
/// with its rate and channel count.
pub fn read_wav(path: &std::path::Path) -> (u32, usize, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WAVE",
        "not a WAV file"
    );
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let (mut at, mut format) = (12, None);
    while at + 8 <= bytes.len() {
        let (id, len) = (&bytes[at..at + 4], u32_at(at + 4) as usize);
        let body = at + 8;
        match id {
            b"fmt " => {
                format = Some((
                    u16_at(body + 2) as usize,
                    u32_at(body + 4),
                    u16_at(body + 14),
                ))
            }
            b"data" => {
                let (channels, rate, bits) = format.expect("fmt chunk before data");
                let end = (body + len).min(bytes.len());
                let data = &bytes[body..end];
                let samples = match bits {
                    16 => data
                        .chunks_exact(2)
                        .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0)
                        .collect(),
                    32 => data
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect(),
                    _ => panic!("{}: {bits}-bit samples", path.display()),
                };
                return (rate, channels, samples);
            }
            _ => {}
        }
        at = body + len + (len & 1);
    }
    panic!("{}: no data chunk", path.display());
}

/// Scale-invariant signal-to-distortion ratio of `estimate` against `reference`, in dB.
pub fn si_sdr(estimate: &[f32], reference: &[f32]) -> f64 {
    let n = estimate.len().min(reference.len());
    let (e, r) = (&estimate[..n], &reference[..n]);
    let dot: f64 = e.iter().zip(r).map(|(a, b)| *a as f64 * *b as f64).sum();
    let energy: f64 = r.iter().map(|b| (*b as f64).powi(2)).sum();
    let alpha = dot / energy.max(1e-20);
    let (mut target, mut noise) = (0.0f64, 0.0f64);
    for (a, b) in e.iter().zip(r) {
        let t = alpha * *b as f64;
        target += t * t;
        noise += (*a as f64 - t).powi(2);
    }
    10.0 * (target / noise.max(1e-20)).log10()
}

/// Writes interleaved `samples` (-1..1) as a 16-bit PCM WAV file.
pub fn write_wav(path: &std::path::Path, rate: u32, channels: u16, samples: &[f32]) {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * channels as u32 * 2).to_le_bytes());
    out.extend_from_slice(&(channels * 2).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes());
    }
    std::fs::write(path, out).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// The eight ALSA announcements (one human voice, 48 kHz mono) back to back: 11.4 s of real
/// speech from `make media`.
pub fn alsa_speech() -> Vec<f32> {
    let mut speech = Vec::new();
    for name in [
        "Front_Center",
        "Front_Left",
        "Front_Right",
        "Rear_Center",
        "Rear_Left",
        "Rear_Right",
        "Side_Left",
        "Side_Right",
    ] {
        let (rate, channels, s) = read_wav(&media(&format!("alsa-{name}.wav")));
        assert_eq!((rate, channels), (48_000, 1), "{name}");
        speech.extend(s);
    }
    speech
}

/// Peak signal-to-noise ratio of two 8-bit images (or planes) in dB.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum::<f64>()
        / a.len().max(1) as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-12)).log10()
}

/// Parses and validates WGSL source with naga, as wgpu will (panics with the error, located).
pub fn validate_wgsl(source: &str) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
}
