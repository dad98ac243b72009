//! gpublur with no GPU adapter (forced through MEDIAAI_GPU_ADAPTER=none): `auto` falls back to
//! the CPU path, `gpu` is an element error that says what to do. Its own test binary, so the
//! process-wide GPU context is created with the variable set.

use gst::prelude::*;
use mediaai_testing::run_to_end;

fn init() {
    // SAFETY: set before any thread of this process reads the environment's GPU choice.
    std::env::set_var("MEDIAAI_GPU_ADAPTER", "none");
    gst::init().unwrap();
    gstgpublur::plugin_register_static().expect("plugin registers");
}

#[test]
fn auto_falls_back_to_the_cpu_and_gpu_fails_clearly() {
    init();
    let (p, _) = run_to_end("videotestsrc num-buffers=3 ! video/x-raw,format=RGBA,width=64,height=48 ! gpublur region=frame ! fakesink")
        .expect("auto runs on the CPU");
    p.set_state(gst::State::Null).unwrap();
    let err = run_to_end("videotestsrc num-buffers=3 ! video/x-raw,format=RGBA,width=64,height=48 ! gpublur backend=gpu region=frame ! fakesink")
        .expect_err("backend=gpu fails without an adapter");
    assert!(err.contains("backend=auto"), "{err}");
}
