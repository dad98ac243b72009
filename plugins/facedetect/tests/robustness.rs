//! onnxfacedetect under state churn and mid-stream changes: batched frames survive caps
//! changes and EOS in order, and pausing and stopping while frames flow ends cleanly.

use gst::prelude::*;
use gst_check::Harness;

fn init() {
    gst::init().unwrap();
    gstfacedetect::plugin_register_static().expect("plugin registers");
}

fn frame(size: usize, pts_ms: u64) -> gst::Buffer {
    let mut b = gst::Buffer::from_mut_slice(vec![90u8; size]);
    b.get_mut()
        .unwrap()
        .set_pts(gst::ClockTime::from_mseconds(pts_ms));
    b
}

#[test]
fn batched_frames_survive_a_caps_change_and_eos_in_order() {
    init();
    let mut h = Harness::new("onnxfacedetect");
    h.element().unwrap().set_property("batch-size", 4u32);
    h.set_src_caps_str("video/x-raw,format=RGB,width=64,height=48,framerate=25/1");
    h.play();
    for i in 0..6 {
        h.push(frame(64 * 48 * 3, 40 * i)).unwrap();
    }
    h.set_src_caps_str("video/x-raw,format=I420,width=32,height=16,framerate=25/1");
    for i in 6..9 {
        h.push(frame(32 * 16 * 3 / 2, 40 * i)).unwrap();
    }
    h.push_event(gst::event::Eos::new());
    for i in 0..9u64 {
        let out = h.pull().unwrap_or_else(|_| panic!("frame {i} lost"));
        assert_eq!(out.pts(), Some(gst::ClockTime::from_mseconds(40 * i)));
    }
    assert!(h.try_pull().is_none());
}

/// Pauses and stops while frames flow, with batches and intervals holding frames.
#[test]
fn state_changes_while_frames_flow_through_batches() {
    init();
    for i in 0..6 {
        let seen = mediaai_testing::cycle_while_flowing(
            &format!(
                "videotestsrc ! video/x-raw,width=96,height=64 ! onnxfacedetect batch-size={} interval={} ! fakesink name=sink",
                1 + i % 3,
                1 + i % 2
            ),
            4,
        );
        assert!(seen >= 20);
    }
}
