//! Nothing GPU-side is created per frame: the debug counter of `mediaai_common::gpu` stays flat
//! after the first frame. Its own test binary, so no other test creates objects meanwhile.

use gst::prelude::*;
use gst_check::Harness;

#[test]
fn gpu_objects_are_made_once_per_caps_not_per_frame() {
    gst::init().unwrap();
    gstgpublur::plugin_register_static().expect("plugin registers");
    let mut h = Harness::new("gpublur");
    h.element().unwrap().set_property_from_str("backend", "gpu");
    h.set_src_caps_str("video/x-raw,format=RGBA,width=320,height=240,framerate=25/1");
    h.play();
    let frame = || {
        let mut b = gst::Buffer::from_mut_slice(vec![128u8; 320 * 240 * 4]);
        gst_video::VideoRegionOfInterestMeta::add(b.get_mut().unwrap(), "face", (40, 30, 100, 120));
        b
    };
    // Pipelined: each frame comes out when the next one has been submitted.
    h.push(frame()).unwrap();
    h.push_and_pull(frame()).unwrap();
    let after_first = mediaai_common::gpu::objects_created();
    assert!(after_first > 0);
    for _ in 0..20 {
        h.push_and_pull(frame()).unwrap();
    }
    h.push_event(gst::event::Eos::new());
    h.pull().unwrap();
    assert_eq!(mediaai_common::gpu::objects_created(), after_first);
}
