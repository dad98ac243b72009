//! The real-time rule: after caps are set, audio flowing through audiodenoise allocates
//! nothing on the Rust heap (a counting global allocator in this test binary, its own process
//! so no other test allocates meanwhile). Ten seconds of audio flow in 10 ms buffers, at 48 kHz
//! mono (no resampling) and at 44.1 kHz stereo (both resamplers), with voice messages posted,
//! and through the DeepFilterNet engine.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gst::prelude::*;
use gst_check::Harness;

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: as for `dealloc` and `alloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn ten_seconds_of_audio_allocate_nothing() {
    gst::init().unwrap();
    gstaudiodenoise::plugin_register_static().expect("plugin registers");
    for (rate, channels, engine) in [
        (48_000u32, 1usize, "rnnoise"),
        (44_100, 2, "rnnoise"),
        // Our side of the DeepFilterNet path; the runtime's own allocations go to its own
        // allocator and are not seen here.
        (48_000, 1, "deepfilter"),
    ] {
        let mut h = Harness::new("audiodenoise");
        let e = h.element().unwrap();
        e.set_property_from_str("engine", engine);
        e.set_property("message-interval", 100_000_000u64);
        e.set_property("vad-threshold", 0.5f32);
        e.set_property("attenuation-limit", 30f32);
        h.set_src_caps(
            gst_audio::AudioCapsBuilder::new_interleaved()
                .format(gst_audio::AUDIO_FORMAT_F32)
                .rate(rate as i32)
                .channels(channels as i32)
                .build(),
        );
        h.play();
        let frames = rate as usize / 100;
        // Every buffer made before counting starts.
        let buffers: Vec<gst::Buffer> = (0..1100)
            .map(|i| {
                let data: Vec<u8> = (0..frames * channels)
                    .flat_map(|j| (((i * frames + j) as f32 * 0.013).sin() * 0.25).to_le_bytes())
                    .collect();
                let mut b = gst::Buffer::from_mut_slice(data);
                b.get_mut()
                    .unwrap()
                    .set_pts(gst::ClockTime::from_mseconds(10 * i as u64));
                b
            })
            .collect();
        let mut buffers = buffers.into_iter();
        // One second to settle (the first messages, the harness's queues).
        for b in buffers.by_ref().take(100) {
            h.push(b).unwrap();
            while h.try_pull().is_some() {}
        }
        let mut pulled = Vec::with_capacity(2000);
        ALLOCATIONS.store(0, Ordering::SeqCst);
        COUNTING.store(true, Ordering::SeqCst);
        for b in buffers {
            h.push(b).unwrap();
            while let Some(out) = h.try_pull() {
                pulled.push(out);
            }
        }
        COUNTING.store(false, Ordering::SeqCst);
        let n = ALLOCATIONS.load(Ordering::SeqCst);
        assert!(
            pulled.len() >= 990,
            "{rate} Hz: audio flowed ({})",
            pulled.len()
        );
        assert_eq!(
            n, 0,
            "{rate} Hz x{channels}: {n} allocations while 10 s of audio flowed"
        );
        drop(pulled);
    }
    // The counter does see the heap.
    COUNTING.store(true, Ordering::SeqCst);
    std::hint::black_box(vec![1u8; 64]);
    COUNTING.store(false, Ordering::SeqCst);
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), 1);
}
