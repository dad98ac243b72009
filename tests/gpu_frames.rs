//! Frames that stay on the GPU between the collection's elements (`memory:WgpuBuffer`, issue
//! 17): the same bytes as the same chain in system memory, one upload and one readback per
//! frame for the whole chain, correct pixels for stock elements that map GPU frames, a fall
//! back to system memory around a foreign element, nothing lost to EOS, flushes or caps changes
//! with GPU frames held, and no GPU object made per frame.
//!
//! The plugin is registered statically here so the test can read the transfer and GPU-object
//! counters of the one `mediaai-common` in the process. lavapipe in CI.

use std::sync::Mutex;

use std::str::FromStr;

use gst::prelude::*;
use mediaai_common::{gpu, gpumemory};
use mediaai_pipelines::wait_for_eos;

/// The counters are process-wide: tests that read them run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const W: u32 = 320;
const H: u32 = 240;
const FRAMES: u64 = 24;

fn init() -> std::sync::MutexGuard<'static, ()> {
    gst::init().unwrap();
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| gstmediaai::plugin_register_static().expect("plugin registers"));
    mediaai_testing::gpu();
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn source(caps: &str) -> String {
    format!("videotestsrc num-buffers={FRAMES} pattern=ball ! {caps}")
}

fn i420() -> String {
    format!("video/x-raw,format=I420,width={W},height={H},framerate=25/1")
}

/// Runs `description` (ending in `appsink`-less `fakesink name=sink`) and returns every
/// frame's bytes, mapped as the sink got them, in order.
fn frames(description: &str) -> Vec<Vec<u8>> {
    let pipeline = gst::parse::launch(description)
        .unwrap_or_else(|e| panic!("{description}: {e}"))
        .downcast::<gst::Pipeline>()
        .unwrap();
    let sink = pipeline.by_name("sink").expect("a sink named sink");
    sink.set_property("signal-handoffs", true);
    let out = std::sync::Arc::new(Mutex::new(Vec::new()));
    let o = out.clone();
    sink.connect("handoff", false, move |args| {
        let buffer = args[1].get::<gst::Buffer>().expect("a buffer");
        let map = buffer.map_readable().expect("every frame maps");
        o.lock().unwrap().push(map.to_vec());
        None
    });
    pipeline.set_state(gst::State::Playing).unwrap();
    let result = wait_for_eos(&pipeline, 120);
    pipeline.set_state(gst::State::Null).unwrap();
    result.unwrap_or_else(|e| panic!("{description}: {e}"));
    let frames = std::mem::take(&mut *out.lock().unwrap());
    frames
}

/// The caps negotiated on `element`'s sink pad in `description`, after one frame.
fn sink_caps(description: &str, element: &str) -> gst::Caps {
    let pipeline = gst::parse::launch(description)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let result = wait_for_eos(&pipeline, 120);
    let caps = pipeline
        .by_name(element)
        .unwrap()
        .static_pad("sink")
        .unwrap()
        .current_caps()
        .expect("negotiated");
    pipeline.set_state(gst::State::Null).unwrap();
    result.unwrap();
    caps
}

#[test]
fn a_chain_of_every_gpu_element_on_gpu_frames_gives_the_system_memory_bytes_with_one_transfer_each_way(
) {
    let _serial = init();
    let chain = |between: &str| {
        format!(
            "{} ! vhsrestore name=v backend=gpu {between} ! upscale method=spatial backend=gpu {between} \
             ! gpublur name=b region=frame backend=gpu {between} ! qcfingerprint name=q backend=gpu ! wgpudownload \
             ! fakesink name=sink",
            source(&i420())
        )
    };
    let (up, down) = (gpumemory::uploads(), gpumemory::downloads());
    let on_gpu = frames(&chain(""));
    let transfers = (gpumemory::uploads() - up, gpumemory::downloads() - down);
    assert_eq!(
        transfers,
        (FRAMES, FRAMES),
        "one upload and one readback per frame for the whole chain"
    );
    let in_memory = frames(&chain("! video/x-raw"));
    assert_eq!(on_gpu.len() as u64, FRAMES, "every frame");
    assert!(
        on_gpu == in_memory,
        "GPU frames give the system-memory bytes"
    );
    let caps = sink_caps(&chain(""), "q");
    assert!(
        gpumemory::caps_on_gpu(&caps),
        "frames stayed on the GPU: {caps}"
    );
    // Without upscale (whose GPU path may differ from its CPU path by a level), the chain on
    // GPU frames gives the CPU chain's bytes.
    let three = |backend: &str, tail: &str| {
        frames(&format!(
            "{} ! vhsrestore backend={backend} ! gpublur region=frame backend={backend} ! qcfingerprint backend={backend} {tail} ! fakesink name=sink",
            source(&i420())
        ))
    };
    assert!(
        three("gpu", "! wgpudownload") == three("cpu", ""),
        "the CPU chain's bytes"
    );
}

#[test]
fn gpu_frames_written_on_the_host_give_the_same_bytes() {
    let _serial = init();
    // Head-switching repair and chroma bleed run on the CPU after the GPU pass, so vhsrestore
    // writes its GPU output frames through a map; gpublur then takes them up again.
    let chain = |between: &str| {
        format!(
            "{} ! vhsrestore backend=gpu head-switch-lines=6 chroma-bleed=0.5 {between} \
             ! gpublur region=frame backend=gpu {between} ! wgpudownload ! fakesink name=sink",
            source(&i420())
        )
    };
    let on_gpu = frames(&chain(""));
    assert_eq!(on_gpu.len() as u64, FRAMES);
    assert!(
        on_gpu == frames(&chain("! video/x-raw")),
        "the system-memory bytes"
    );
}

#[test]
fn onnxfacedetect_samples_gpu_frames_on_the_gpu_and_gpublur_hides_the_face_it_marked() {
    let _serial = init();
    let photo = mediaai_testing::media("astronaut.png");
    let chain = |between: &str| {
        format!(
            "filesrc location={} ! pngdec ! videoconvert ! imagefreeze num-buffers=4 \
             ! video/x-raw,format=I420,framerate=25/1 {between} ! onnxfacedetect name=d {between} \
             ! gpublur backend=gpu {between} ! wgpudownload ! fakesink name=sink",
            photo.display()
        )
    };
    let (up, down) = (gpumemory::uploads(), gpumemory::downloads());
    let on_gpu = frames(&chain("! wgpuupload"));
    // The detector samples GPU frames on the GPU: only the download element reads frames back.
    assert_eq!(
        (gpumemory::uploads() - up, gpumemory::downloads() - down),
        (4, 4),
        "one upload and one readback per frame"
    );
    assert!(
        gpumemory::caps_on_gpu(&sink_caps(&chain("! wgpuupload"), "d")),
        "the detector took GPU frames"
    );
    let in_memory = frames(&chain("! capsfilter caps=video/x-raw"));
    let untouched = frames(&format!(
        "filesrc location={} ! pngdec ! videoconvert ! imagefreeze num-buffers=4 \
         ! video/x-raw,format=I420,framerate=25/1 ! fakesink name=sink",
        photo.display()
    ));
    assert_eq!(on_gpu.len(), 4);
    assert!(on_gpu == in_memory, "the system-memory chain's bytes");
    assert!(on_gpu != untouched, "the face was found and blurred");
}

#[test]
fn stock_elements_that_map_gpu_frames_read_the_right_pixels() {
    let _serial = init();
    let expected = frames(&format!(
        "{} ! gpublur region=frame backend=gpu ! video/x-raw ! videoconvert ! video/x-raw,format=RGBA ! fakesink name=sink",
        source(&i420())
    ));
    // No download element: videoconvert maps the GPU frames itself.
    let got = frames(&format!(
        "{} ! wgpuupload ! gpublur region=frame backend=gpu ! videoconvert ! video/x-raw,format=RGBA ! fakesink name=sink",
        source(&i420())
    ));
    assert_eq!(got.len() as u64, FRAMES);
    assert!(got == expected, "videoconvert reads GPU frames correctly");
    // Raw frames straight to a file sink.
    let dir = mediaai_pipelines::work_dir("gpu-frames");
    let file = dir.join("frames.raw");
    frames(&format!(
        "{} ! wgpuupload ! gpublur region=frame backend=gpu ! tee name=t ! queue ! fakesink name=sink t. ! queue ! filesink location={}",
        source(&i420()),
        file.display()
    ));
    let written = std::fs::read(&file).unwrap();
    let in_memory = frames(&format!(
        "{} ! gpublur region=frame backend=gpu ! fakesink name=sink",
        source(&i420())
    ));
    assert!(
        written == in_memory.concat(),
        "filesink writes the GPU frames' pixels"
    );
}

#[test]
fn a_foreign_element_between_makes_the_chain_fall_back_to_system_memory_with_the_same_output() {
    let _serial = init();
    let chain = |between: &str| {
        format!(
            "{} ! vhsrestore backend=gpu {between} ! videoflip method=horizontal-flip ! gpublur name=b region=frame backend=gpu ! qcfingerprint backend=gpu ! fakesink name=sink",
            source(&i420())
        )
    };
    let caps = sink_caps(&chain(""), "b");
    assert!(
        !gpumemory::caps_on_gpu(&caps),
        "system memory after videoflip: {caps}"
    );
    let got = frames(&chain(""));
    let expected = frames(&chain("! video/x-raw"));
    assert_eq!(got.len() as u64, FRAMES);
    assert!(got == expected, "output unchanged by the fall back");
}

/// Waits until `count()` reaches `n`, for at most a minute.
fn wait_until(count: impl Fn() -> u64, n: u64, what: &str) {
    let start = std::time::Instant::now();
    while count() < n {
        assert!(start.elapsed().as_secs() < 60, "{what}: stopped before {n}");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// A `fakesink name=sink` of `pipeline` counting the buffers it gets.
fn counting_sink(pipeline: &gst::Pipeline) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
    let sink = pipeline.by_name("sink").unwrap();
    sink.set_property("signal-handoffs", true);
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c = count.clone();
    sink.connect("handoff", false, move |_| {
        c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        None
    });
    count
}

/// Counts the buffers through `pad` since the last FLUSH_STOP there, and keeps their sizes
/// and timestamps.
fn count_since_flush(pad: &gst::Pad) -> std::sync::Arc<Mutex<Vec<(u64, usize)>>> {
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    pad.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_FLUSH,
        move |_, info| {
            match &info.data {
                Some(gst::PadProbeData::Buffer(b)) => {
                    let size = b.map_readable().map_or(0, |m| m.size());
                    s.lock()
                        .unwrap()
                        .push((b.pts().map_or(u64::MAX, |t| t.nseconds()), size));
                }
                Some(gst::PadProbeData::Event(e)) if e.type_() == gst::EventType::FlushStop => {
                    s.lock().unwrap().clear();
                }
                _ => {}
            }
            gst::PadProbeReturn::Ok
        },
    );
    seen
}

#[test]
fn eos_flushes_and_caps_changes_with_gpu_frames_held_lose_nothing() {
    let _serial = init();
    // gpublur holds two GPU frames for its lookahead, vhsrestore one.
    let description = format!(
        "videotestsrc name=src num-buffers=90 pattern=ball ! capsfilter name=cf caps={} ! vhsrestore backend=gpu \
         ! gpublur lookahead=2 region=frame backend=gpu ! qcfingerprint backend=gpu ! wgpudownload ! fakesink name=sink sync=false",
        i420()
    );
    let pipeline = gst::parse::launch(&description)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let input = count_since_flush(&pipeline.by_name("cf").unwrap().static_pad("src").unwrap());
    let output = count_since_flush(
        &pipeline
            .by_name("sink")
            .unwrap()
            .static_pad("sink")
            .unwrap(),
    );
    pipeline.set_state(gst::State::Playing).unwrap();
    let out_frames = || output.lock().unwrap().len() as u64;
    wait_until(out_frames, 10, "before the caps change");
    // A size change mid-stream: held frames of the old size come out first.
    pipeline.by_name("cf").unwrap().set_property(
        "caps",
        gst::Caps::from_str(&format!(
            "video/x-raw,format=I420,width={},height={},framerate=25/1",
            W / 2,
            H / 2
        ))
        .unwrap(),
    );
    wait_until(out_frames, 20, "after the caps change");
    // Once frames of the new size come out, every frame of the old size that went in came out
    // before them, in order; and the new size's first frame is the first that went in.
    let big = (W * H * 3 / 2) as usize;
    let wait = std::time::Instant::now();
    while !output.lock().unwrap().iter().any(|(_, size)| *size != big) {
        assert!(
            wait.elapsed() < std::time::Duration::from_secs(20),
            "no frame of the new size"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    {
        let (input, output) = (input.lock().unwrap(), output.lock().unwrap());
        let old = |v: &[(u64, usize)]| -> Vec<u64> {
            v.iter()
                .filter(|(_, s)| *s == big)
                .map(|(t, _)| *t)
                .collect()
        };
        assert!(old(&input).len() >= 10, "frames of the old size went in");
        assert_eq!(
            old(&output),
            old(&input),
            "the old size's frames, all, in order"
        );
        let first_new = |v: &[(u64, usize)]| v.iter().find(|(_, s)| *s != big).map(|f| f.0);
        assert_eq!(
            first_new(&output),
            first_new(&input),
            "the new size from its first frame"
        );
    }
    // A flushing seek with GPU frames in flight, then the stream to its end.
    assert!(pipeline
        .seek_simple(gst::SeekFlags::FLUSH, gst::ClockTime::from_seconds(1))
        .is_ok());
    let result = wait_for_eos(&pipeline, 60);
    pipeline.set_state(gst::State::Null).unwrap();
    result.unwrap();
    let (input, output) = (input.lock().unwrap(), output.lock().unwrap());
    assert!(!output.is_empty(), "frames after the flush");
    assert_eq!(
        output.len(),
        input.len(),
        "frames out = frames in after the flush"
    );
    let small = (W / 2 * H / 2 * 3 / 2) as usize;
    assert!(
        output.iter().all(|(_, size)| *size == small),
        "the new size"
    );
    assert!(
        output.windows(2).all(|w| w[0].0 < w[1].0),
        "timestamps in order"
    );
}

#[test]
fn gpu_frames_make_no_gpu_object_per_frame() {
    let _serial = init();
    let description = format!(
        "videotestsrc name=src num-buffers=-1 pattern=ball ! {} ! vhsrestore backend=gpu \
         ! onnxfacedetect max-input-size=160 ! gpublur region=frame backend=gpu \
         ! qcfingerprint backend=gpu ! wgpudownload ! fakesink name=sink sync=false",
        i420()
    );
    let pipeline = gst::parse::launch(&description)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let count = counting_sink(&pipeline);
    let frames = || count.load(std::sync::atomic::Ordering::SeqCst);
    pipeline.set_state(gst::State::Playing).unwrap();
    // Pools fill and every pooled frame has been read back once by then.
    wait_until(frames, 30, "warm-up");
    let before = gpu::objects_created();
    wait_until(frames, 90, "steady state");
    let after = gpu::objects_created();
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(after, before, "GPU objects made while GPU frames flowed");
}

#[test]
fn gpu_frame_chains_survive_state_cycles_with_frames_flowing() {
    let _serial = init();
    let description = format!(
        "videotestsrc pattern=ball ! {} ! wgpuupload ! gpublur lookahead=1 region=frame backend=gpu \
         ! qcfingerprint backend=gpu ! wgpudownload ! fakesink name=sink sync=false",
        i420()
    );
    let pipeline = gst::parse::launch(&description)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let count = counting_sink(&pipeline);
    let frames = || count.load(std::sync::atomic::Ordering::SeqCst);
    let bus = pipeline.bus().unwrap();
    for cycle in 0..30 {
        pipeline.set_state(gst::State::Playing).unwrap();
        wait_until(frames, frames() + 3, &format!("cycle {cycle}"));
        if let Some(m) = bus.pop_filtered(&[gst::MessageType::Error]) {
            panic!("cycle {cycle}: {m:?}");
        }
        let state = if cycle % 2 == 0 {
            gst::State::Null
        } else {
            gst::State::Ready
        };
        pipeline.set_state(state).unwrap();
    }
    pipeline.set_state(gst::State::Null).unwrap();
}
