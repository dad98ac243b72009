//! gpublur under state churn and mid-stream changes: held frames survive caps changes and EOS
//! in order, and pausing and stopping while frames flow ends cleanly.

use gst::prelude::*;
use gst_check::Harness;

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

/// Pauses and stops while frames flow, with frames held for the lookahead.
#[test]
fn state_changes_while_frames_flow_through_the_lookahead() {
    init();
    for i in 0..6 {
        let seen = mediaai_testing::cycle_while_flowing(
            &format!(
                "videotestsrc ! video/x-raw,format=BGRx,width=96,height=64 ! gpublur region=frame lookahead={} ! fakesink name=sink",
                i % 3
            ),
            5,
        );
        assert!(seen >= 25);
    }
}

/// A 96x64 RGBA frame with detail that differs per `seed`, one face region.
fn textured(pts_ms: u64, seed: usize) -> gst::Buffer {
    let (w, h) = (96usize, 64usize);
    let data = (0..w * h * 4)
        .map(|i| ((i * 37 + seed * 101 + (i / (w * 4)) * 13) % 251) as u8)
        .collect::<Vec<_>>();
    let mut b = gst::Buffer::from_mut_slice(data);
    {
        let b = b.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_mseconds(pts_ms));
        b.set_duration(gst::ClockTime::from_mseconds(40));
        gst_video::VideoRegionOfInterestMeta::add(b, "face", (10 + seed as u32, 8, 40, 36));
    }
    b
}

fn gpu_harness(pipelined: bool) -> Harness {
    let mut h = Harness::new("gpublur");
    let e = h.element().unwrap();
    e.set_property_from_str("backend", "gpu");
    e.set_property("pipelined", pipelined);
    h.set_src_caps_str("video/x-raw,format=RGBA,width=96,height=64,framerate=25/1");
    h.play();
    h
}

#[test]
fn pipelined_gpu_frames_come_out_in_order_and_identical_to_unpipelined() {
    init();
    let mut outputs = Vec::new();
    for pipelined in [true, false] {
        let mut h = gpu_harness(pipelined);
        let held = if pipelined { 40 } else { 0 };
        assert_eq!(
            h.query_latency(),
            Some(gst::ClockTime::from_mseconds(held)),
            "one frame in flight at 25 fps when pipelined"
        );
        h.push(textured(0, 0)).unwrap();
        let first = h.try_pull();
        assert_eq!(
            first.is_none(),
            pipelined,
            "the first frame stays in flight"
        );
        for i in 1..8 {
            h.push(textured(40 * i as u64, i)).unwrap();
        }
        h.push_event(gst::event::Eos::new());
        let mut frames = Vec::new();
        let mut first = first;
        for i in 0..8u64 {
            let out = first
                .take()
                .unwrap_or_else(|| h.pull().unwrap_or_else(|_| panic!("frame {i} lost")));
            assert_eq!(out.pts(), Some(gst::ClockTime::from_mseconds(40 * i)));
            assert_eq!(out.duration(), Some(gst::ClockTime::from_mseconds(40)));
            frames.push(out.map_readable().unwrap().to_vec());
        }
        assert!(h.try_pull().is_none(), "no frame duplicated");
        assert_ne!(frames[3], textured(0, 3).map_readable().unwrap().as_slice());
        outputs.push(frames);
    }
    assert!(outputs[0] == outputs[1], "pipelining changes no pixel");
}

#[test]
fn a_flush_drops_the_frame_in_flight_and_the_stream_goes_on() {
    init();
    let mut h = gpu_harness(true);
    for i in 0..3 {
        h.push(textured(40 * i, i as usize)).unwrap();
    }
    for i in 0..2u64 {
        assert_eq!(
            h.pull().unwrap().pts(),
            Some(gst::ClockTime::from_mseconds(40 * i))
        );
    }
    mediaai_testing::flush(&mut h);
    for i in 0..3 {
        h.push(textured(1000 + 40 * i, i as usize)).unwrap();
    }
    h.push_event(gst::event::Eos::new());
    for i in 0..3u64 {
        assert_eq!(
            h.pull().unwrap().pts(),
            Some(gst::ClockTime::from_mseconds(1000 + 40 * i)),
            "after the flush"
        );
    }
    assert!(
        h.try_pull().is_none(),
        "the flushed frame does not come back"
    );
}
