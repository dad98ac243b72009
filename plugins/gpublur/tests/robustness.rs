//! gpublur under state churn and mid-stream changes: held frames survive caps changes and EOS
//! in order, and repeated NULL→PLAYING→NULL cycles with buffers flowing end cleanly.

use gst::prelude::*;
use gst_check::Harness;
use mediaai_common::testing::run_to_end;

fn init() {
    gst::init().unwrap();
    gstgpublur::plugin_register_static().expect("plugin registers");
}

fn frame(w: usize, h: usize, pts_ms: u64) -> gst::Buffer {
    let mut b = gst::Buffer::from_mut_slice(vec![100u8; w * h * 4]);
    {
        let b = b.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_mseconds(pts_ms));
        gst_video::VideoRegionOfInterestMeta::add(
            b,
            "face",
            (2, 2, (w / 2) as u32, (h / 2) as u32),
        );
    }
    b
}

#[test]
fn lookahead_frames_survive_a_caps_change_and_eos_in_order() {
    init();
    for backend in ["gpu", "cpu"] {
        let mut h = Harness::new("gpublur");
        h.element().unwrap().set_property("lookahead", 3u32);
        h.element()
            .unwrap()
            .set_property_from_str("backend", backend);
        h.set_src_caps_str("video/x-raw,format=RGBA,width=64,height=48,framerate=25/1");
        h.play();
        for i in 0..5 {
            h.push(frame(64, 48, 40 * i)).unwrap();
        }
        h.set_src_caps_str("video/x-raw,format=RGBA,width=32,height=16,framerate=25/1");
        for i in 5..9 {
            h.push(frame(32, 16, 40 * i)).unwrap();
        }
        h.push_event(gst::event::Eos::new());
        for i in 0..9u64 {
            let out = h
                .pull()
                .unwrap_or_else(|_| panic!("{backend}: frame {i} lost"));
            assert_eq!(
                out.pts(),
                Some(gst::ClockTime::from_mseconds(40 * i)),
                "{backend}"
            );
            assert_eq!(
                out.size(),
                if i < 5 { 64 * 48 * 4 } else { 32 * 16 * 4 },
                "{backend}: frame {i}"
            );
        }
        assert!(h.try_pull().is_none());
    }
}

#[test]
fn state_cycles_with_buffers_flowing() {
    init();
    for i in 0..30 {
        let (p, _) = run_to_end(&format!(
            "videotestsrc num-buffers=4 ! video/x-raw,format=BGRx,width=96,height=64 ! gpublur region=frame lookahead={} ! fakesink",
            i % 3
        ))
        .expect("pipeline runs");
        p.set_state(gst::State::Null).unwrap();
    }
}
