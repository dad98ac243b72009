//! The leak check of `make soak`: every element through NULL -> PLAYING -> NULL with buffers
//! flowing (each cycle runs a short stream to EOS), CYCLES times (default 10), then a clean
//! exit, so that a leak checker (valgrind's memcheck in `make soak`) sees every block our
//! code allocated per cycle that was never freed. CPU paths only: a software Vulkan driver
//! under valgrind would take hours.
//!
//! `cargo run --profile ci -p mediaai-pipelines --example state_cycles -- [CYCLES]`, with the
//! plugins on GST_PLUGIN_PATH.

use gst::prelude::*;

const CHAINS: [&str; 8] = [
    "videotestsrc num-buffers=6 ! video/x-raw,format=I420,width=64,height=48,framerate=25/1 ! onnxfacedetect batch-size=2 ! fakesink",
    "videotestsrc num-buffers=6 ! video/x-raw,format=RGBA,width=64,height=48,framerate=25/1 ! gpublur backend=cpu region=frame lookahead=2 ! fakesink",
    "videotestsrc num-buffers=6 ! video/x-raw,format=I420,width=64,height=48,framerate=25/1,interlace-mode=interleaved,field-order=top-field-first ! vhsrestore backend=cpu ! fakesink",
    "videotestsrc num-buffers=6 ! video/x-raw,format=I420,width=64,height=48,framerate=25/1 ! qcfingerprint backend=cpu ! fakesink",
    "videotestsrc num-buffers=6 ! video/x-raw,format=RGBx,width=32,height=24,framerate=25/1 ! upscale method=spatial backend=cpu batch-size=4 ! fakesink",
    "videotestsrc num-buffers=2 ! video/x-raw,format=RGBx,width=8,height=8,framerate=25/1 ! upscale method=neural batch-size=2 ! fakesink",
    "audiotestsrc num-buffers=6 samplesperbuffer=480 ! audio/x-raw,format=F32LE,rate=48000,channels=1 ! audiodenoise ! fakesink",
    "audiotestsrc num-buffers=6 samplesperbuffer=480 ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! qcaudio ! fakesink",
];

fn main() {
    let cycles: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    gst::init().expect("GStreamer initialises");
    for chain in CHAINS {
        let pipeline = gst::parse::launch(chain)
            .expect("chain parses")
            .downcast::<gst::Pipeline>()
            .expect("a pipeline");
        for cycle in 0..cycles {
            pipeline.set_state(gst::State::Playing).expect("to PLAYING");
            if let Err(e) = mediaai_pipelines::wait_for_eos(&pipeline, 300) {
                panic!("{chain}: cycle {cycle}: {e}");
            }
            pipeline.set_state(gst::State::Null).expect("to NULL");
        }
        println!("{cycles} cycles: {chain}");
    }
}
