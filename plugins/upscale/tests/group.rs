//! Upscalers of one process sharing a network session (`batch-group`); alone in its test
//! binary, so that the process's session count is this test's.

use mediaai_testing::push_frames;

mod common;
use common::{bytes, five_frames, init};

/// Upscalers of one process naming the same `batch-group` load the network once and, running
/// at the same time, each give the bytes an upscaler of its own gives.
#[test]
fn a_batch_group_shares_one_session_and_changes_no_byte() {
    init();
    let (frames, caps) = five_frames("RGBx", 96, 64);
    let reference = push_frames("upscale method=neural batch-size=1", &caps, &frames);
    let before = mediaai_common::inference::sessions_built();
    let streams: Vec<_> = (0..3)
        .map(|_| {
            let (frames, caps) = (frames.clone(), caps.clone());
            std::thread::spawn(move || {
                push_frames(
                    "upscale method=neural batch-size=1 batch-group=upscalers",
                    &caps,
                    &frames,
                )
            })
        })
        .collect();
    for s in streams {
        let out = s.join().expect("a stream's thread panicked");
        assert_eq!(out.len(), 5);
        for (k, (a, b)) in out.iter().zip(&reference).enumerate() {
            assert!(bytes(a) == bytes(b), "frame {k} differs");
        }
    }
    assert_eq!(
        mediaai_common::inference::sessions_built() - before,
        1,
        "three upscalers, one session"
    );
}
