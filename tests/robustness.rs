//! Reliability of every element (issue 9, first part): state churn with buffers flowing, and
//! every property written at its bounds and defaults while buffers flow. The elements run as
//! users load them: the plugin files cargo built, registered in this process.

use std::time::{Duration, Instant};

use gst::prelude::*;
use mediaai_pipelines::plugin_dir;

/// Each element in a small live-ish pipeline of real sources (a test pattern or tone), as
/// `gst-launch-1.0` would take it; the element is named `e`.
const PIPELINES: [(&str, &str); 7] = [
    (
        "onnxfacedetect",
        "videotestsrc is-live=false ! video/x-raw,width=160,height=120,framerate=25/1 ! onnxfacedetect name=e ! fakesink name=sink",
    ),
    (
        "gpublur",
        "videotestsrc ! video/x-raw,format=RGBA,width=160,height=120,framerate=25/1 ! gpublur name=e ! fakesink name=sink",
    ),
    (
        "audiodenoise",
        "audiotestsrc wave=pink-noise samplesperbuffer=480 ! audio/x-raw,format=F32LE,rate=48000,channels=1 ! audiodenoise name=e ! fakesink name=sink",
    ),
    (
        "vhsrestore",
        "videotestsrc pattern=ball ! video/x-raw,format=I420,width=160,height=120,framerate=25/1,interlace-mode=interleaved ! vhsrestore name=e ! fakesink name=sink",
    ),
    (
        "qcfingerprint",
        "videotestsrc pattern=ball ! video/x-raw,format=I420,width=160,height=120,framerate=25/1 ! qcfingerprint name=e ! fakesink name=sink",
    ),
    (
        "qcaudio",
        "audiotestsrc samplesperbuffer=480 ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! qcaudio name=e ! fakesink name=sink",
    ),
    (
        "upscale",
        "videotestsrc pattern=ball ! video/x-raw,format=RGBx,width=32,height=24,framerate=25/1 ! upscale name=e ! fakesink name=sink",
    ),
];

fn init() {
    gst::init().unwrap();
    static LOADED: std::sync::Once = std::sync::Once::new();
    LOADED.call_once(|| {
        let dir = plugin_dir();
        for lib in [
            "libgstfacedetect.so",
            "libgstgpublur.so",
            "libgstaudiodenoise.so",
            "libgstvhsrestore.so",
            "libgstqcfingerprint.so",
            "libgstupscale.so",
        ] {
            let plugin = gst::Plugin::load_file(dir.join(lib)).expect("plugin loads");
            gst::Registry::get()
                .add_plugin(&plugin)
                .expect("plugin registers");
        }
    });
}

/// A sink that counts the buffers it is handed.
fn counting(pipeline: &gst::Pipeline) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sink = pipeline.by_name("sink").unwrap();
    sink.set_property("signal-handoffs", true);
    let c = count.clone();
    sink.connect("handoff", false, move |_| {
        c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        None
    });
    count
}

/// Waits until `count` reaches `n` buffers; panics with the first bus error or after 20 s.
fn flow(pipeline: &gst::Pipeline, count: &std::sync::atomic::AtomicU64, n: u64, what: &str) {
    let bus = pipeline.bus().unwrap();
    let start = Instant::now();
    while count.load(std::sync::atomic::Ordering::Relaxed) < n {
        if let Some(msg) =
            bus.timed_pop_filtered(gst::ClockTime::from_mseconds(5), &[gst::MessageType::Error])
        {
            if let gst::MessageView::Error(e) = msg.view() {
                panic!("{what}: {} ({:?})", e.error(), e.debug());
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what}: {} of {n} buffers after 20 s",
            count.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}

#[test]
fn every_element_survives_200_state_cycles_with_buffers_flowing() {
    init();
    for (element, launch) in PIPELINES {
        let pipeline = gst::parse::launch(launch)
            .unwrap()
            .downcast::<gst::Pipeline>()
            .unwrap();
        let count = counting(&pipeline);
        for cycle in 0..200u64 {
            pipeline.set_state(gst::State::Playing).unwrap_or_else(|e| {
                panic!("{element}: cycle {cycle}: {e:?}");
            });
            // Buffers flow through the element on every cycle.
            let before = count.load(std::sync::atomic::Ordering::Relaxed);
            flow(
                &pipeline,
                &count,
                before + 2,
                &format!("{element} cycle {cycle}"),
            );
            pipeline.set_state(gst::State::Null).unwrap();
        }
        eprintln!(
            "{element}: 200 NULL→PLAYING→NULL cycles, {} buffers",
            count.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}

/// The values worth trying for a property: its bounds and default (numbers), every value
/// (enums, booleans).
fn values(pspec: &glib::ParamSpec) -> Vec<glib::Value> {
    macro_rules! bounds {
        ($t:ty) => {
            if let Some(p) = pspec.downcast_ref::<$t>() {
                return vec![
                    p.minimum().to_value(),
                    p.maximum().to_value(),
                    p.default_value().to_value(),
                ];
            }
        };
    }
    bounds!(glib::ParamSpecInt);
    bounds!(glib::ParamSpecUInt);
    bounds!(glib::ParamSpecInt64);
    bounds!(glib::ParamSpecUInt64);
    bounds!(glib::ParamSpecFloat);
    bounds!(glib::ParamSpecDouble);
    if pspec.downcast_ref::<glib::ParamSpecBoolean>().is_some() {
        return vec![true.to_value(), false.to_value()];
    }
    if let Some(p) = pspec.downcast_ref::<glib::ParamSpecEnum>() {
        let class = p.enum_class();
        let mut all: Vec<glib::Value> = class
            .values()
            .iter()
            .map(|v| class.to_value(v.value()).unwrap())
            .collect();
        all.push(pspec.default_value().clone());
        return all;
    }
    Vec::new()
}

use gst::glib;

#[test]
fn every_property_takes_its_bounds_while_playing() {
    init();
    let mut tried = 0;
    for (element, launch) in PIPELINES {
        let pipeline = gst::parse::launch(launch)
            .unwrap()
            .downcast::<gst::Pipeline>()
            .unwrap();
        let count = counting(&pipeline);
        let e = pipeline.by_name("e").unwrap();
        pipeline.set_state(gst::State::Playing).unwrap();
        flow(&pipeline, &count, 2, element);
        for pspec in e.list_properties() {
            let flags = pspec.flags();
            // Only what may change while playing (the others apply at the next caps).
            if !flags.contains(glib::ParamFlags::WRITABLE)
                || !flags.contains(gst::PARAM_FLAG_MUTABLE_PLAYING)
                || pspec.owner_type() != e.type_()
            {
                continue;
            }
            for value in values(&pspec) {
                e.set_property_from_value(pspec.name(), &value);
                let before = count.load(std::sync::atomic::Ordering::Relaxed);
                flow(
                    &pipeline,
                    &count,
                    before + 2,
                    &format!("{element} {}={value:?}", pspec.name()),
                );
                tried += 1;
            }
            e.set_property_from_value(pspec.name(), pspec.default_value());
        }
        pipeline.set_state(gst::State::Null).unwrap();
    }
    eprintln!("{tried} property values tried while playing");
    assert!(tried > 50, "only {tried} values tried");
}

/// Runs `launch` to EOS; `Err` with the error it posted.
fn run(launch: &str) -> Result<(), String> {
    let pipeline = gst::parse::launch(launch)
        .map_err(|e| format!("parse: {e}"))?
        .downcast::<gst::Pipeline>()
        .unwrap();
    let bus = pipeline.bus().unwrap();
    let result = match pipeline.set_state(gst::State::Playing) {
        Err(e) => Err(format!("state change: {e:?}")),
        Ok(_) => match bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(120),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        ) {
            None => Err("timed out".into()),
            Some(msg) => match msg.view() {
                gst::MessageView::Error(e) => Err(format!("{} ({:?})", e.error(), e.debug())),
                _ => Ok(()),
            },
        },
    };
    pipeline.set_state(gst::State::Null).unwrap();
    result
}

#[test]
fn every_video_element_takes_tiny_odd_and_8k_frames() {
    init();
    // (element, formats it takes)
    let elements = [
        ("onnxfacedetect", "I420"),
        ("onnxfacedetect", "RGBA"),
        ("gpublur", "I420"),
        ("gpublur", "RGBA"),
        ("vhsrestore", "I420"),
        ("vhsrestore", "BGRx"),
        ("qcfingerprint", "I420"),
        ("upscale", "I420"),
        ("upscale", "RGBx"),
    ];
    let mut runs = 0;
    for (element, format) in elements {
        for (w, h, frames) in [
            (1, 1, 3),
            (2, 2, 3),
            (33, 17, 3),
            (7, 480, 3),
            (7680, 4320, 2),
        ] {
            // Upscaled 8K is 16K (a 530 MB RGBx frame): beyond what the element is for; it
            // gets the small and odd sizes.
            if element == "upscale" && w > 4096 {
                continue;
            }
            for interlace in ["progressive", "interleaved"] {
                let launch = format!(
                    "videotestsrc num-buffers={frames} pattern=ball ! video/x-raw,format={format},width={w},height={h},framerate=25/1,interlace-mode={interlace} ! {element} ! fakesink"
                );
                // Frames the element cannot take must be refused with a message, never a
                // panic; the sizes here are all valid, so every run must go through.
                if let Err(e) = run(&launch) {
                    panic!("{launch}: {e}");
                }
                runs += 1;
            }
        }
    }
    eprintln!("{runs} runs of tiny, odd and 8K frames");
}

#[test]
fn the_audio_elements_take_odd_rates_and_channel_counts() {
    init();
    let mut runs = 0;
    for element in ["audiodenoise", "qcaudio"] {
        for (rate, channels) in [(8000, 1), (11025, 2), (44100, 6), (96000, 1), (192000, 2)] {
            for samples in [1, 37, 4096] {
                let launch = format!(
                    "audiotestsrc num-buffers=20 samplesperbuffer={samples} ! audio/x-raw,format=F32LE,rate={rate},channels={channels} ! {element} ! fakesink"
                );
                if let Err(e) = run(&launch) {
                    panic!("{launch}: {e}");
                }
                runs += 1;
            }
        }
    }
    eprintln!("{runs} runs of odd rates, channel counts and buffer sizes");
}

/// Runs the pipeline in `ROBUSTNESS_PIPELINE` (the parent test's child process: the adapter
/// choice is made once per process) and prints `ok` or the error.
#[test]
#[ignore = "run by with_no_gpu_adapter_auto_falls_back_to_the_cpu_and_gpu_says_what_to_do"]
fn no_gpu_child() {
    init();
    let launch = std::env::var("ROBUSTNESS_PIPELINE").expect("run by the parent test");
    match run(&launch) {
        Ok(()) => println!("RESULT ok"),
        Err(e) => println!("RESULT error {e}"),
    }
}

#[test]
fn with_no_gpu_adapter_auto_falls_back_to_the_cpu_and_gpu_says_what_to_do() {
    let pipelines = [
        "videotestsrc num-buffers=3 ! video/x-raw,format=RGBA,width=64,height=48 ! gpublur backend={b} ! fakesink",
        "videotestsrc num-buffers=3 ! video/x-raw,format=I420,width=64,height=48,interlace-mode=interleaved ! vhsrestore backend={b} ! fakesink",
        "videotestsrc num-buffers=3 ! video/x-raw,format=I420,width=64,height=48 ! qcfingerprint backend={b} ! fakesink",
    ];
    for launch in pipelines {
        // This test binary again, running `no_gpu_child` with no adapter.
        let run = |backend: &str| {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--ignored", "--exact", "no_gpu_child", "--nocapture"])
                .env("ROBUSTNESS_PIPELINE", launch.replace("{b}", backend))
                .env("MEDIAAI_GPU_ADAPTER", "none")
                .output()
                .expect("the test binary runs");
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            assert!(
                out.status.success(),
                "{launch} ({backend}): child failed\n{text}"
            );
            text.lines()
                .find_map(|l| l.strip_prefix("RESULT "))
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(run("auto"), "ok", "{launch} (auto)");
        let gpu = run("gpu");
        assert!(
            gpu.starts_with("error")
                && gpu.contains("backend=auto or")
                && !gpu.contains("panicked"),
            "{launch} (gpu): {gpu}"
        );
    }
}
