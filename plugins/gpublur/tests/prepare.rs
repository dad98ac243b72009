//! The blur's GPU passes are compiled going to PAUSED, not when the first frame's caps come (in
//! a live pipeline they come with the first frame, which would wait for the compiler). Its own
//! test binary: the passes are compiled once per process.

use gst::prelude::*;

#[test]
fn the_passes_are_compiled_going_to_paused_and_not_for_the_cpu() {
    gst::init().unwrap();
    gstgpublur::plugin_register_static().expect("plugin registers");
    mediaai_common::gpu::probe_adapter().expect("a Vulkan adapter (lavapipe in CI)");
    let to_paused = |backend: &str| {
        let e = gst::ElementFactory::make("gpublur")
            .property_from_str("backend", backend)
            .build()
            .unwrap();
        e.set_state(gst::State::Paused)
            .expect("gpublur goes to PAUSED");
        e.set_state(gst::State::Null).unwrap();
    };
    to_paused("cpu");
    assert!(
        !gstgpublur::gpu::prepared(),
        "backend=cpu compiled GPU passes"
    );
    to_paused("gpu");
    assert!(
        gstgpublur::gpu::prepared(),
        "backend=gpu did not compile its passes at start"
    );
}
