//! Time per stage on one SD frame (720x576 luma plane, noise):
//! `cargo run --release -p gst-plugin-vhsrestore --example vhs_stage_bench [FRAMES]`.
//! Milliseconds per call, median over the frames, on every core the thread pool has.

use gstvhsrestore::stages::{self, Denoise, Fields, Finish, Levels, Linear, Padded, Plane, Source};
use mediaai_testing::bench::median;
use std::time::Instant;

fn time(frames: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..frames)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

fn main() {
    let frames = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let (w, h) = (720, 576);
    let mut seed = 1u32;
    let mut noise = || -> Vec<u8> {
        (0..w * h)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((i % w) as u32 / 3 + (seed >> 28)) as u8
            })
            .collect()
    };
    let f: Vec<Vec<u8>> = (0..3).map(|_| noise()).collect();
    let p = |i: usize| Plane::tight(&f[i], w, h);
    // The element deinterlaces from copies of its frames padded for reads along the motion.
    let padded: Vec<Padded> = (0..3)
        .map(|i| {
            let mut c = Padded::default();
            c.fill(p(i), stages::PAD);
            c
        })
        .collect();
    let mut copy = Padded::default();
    let pad_ms = time(frames, || copy.fill(p(0), stages::PAD));
    let mut out = vec![0u8; w * h];
    let q = |i: usize| padded[i].plane();
    let fields = Fields {
        cur: q(0),
        before: q(1),
        after: q(2),
        prev: q(1),
        next: q(2),
        keep: 1,
        shift: [0; 2],
    };
    let di = time(frames, || stages::deinterlace(fields, &mut out, w));
    let moved = Fields {
        shift: [4, 8],
        ..fields
    };
    let di_moved = time(frames, || stages::deinterlace(moved, &mut out, w));
    let far = Fields {
        shift: [15, 30],
        ..fields
    };
    let di_far = time(frames, || stages::deinterlace(far, &mut out, w));
    let mut row = |source: Source<Plane>, strength: f64, map: Linear, motion: [f32; 2]| {
        let mut dn = Denoise::new(strength, w, h);
        let finish = Finish {
            map,
            ..Finish::default()
        };
        time(frames, || {
            dn.set_motion(motion);
            stages::restore(source, &mut out, w, &mut dn, finish)
        })
    };
    let dn_ms = row(Source::Copy(p(0)), 8.0, Linear::default(), [0.0; 2]);
    let dn_moved = row(Source::Copy(p(0)), 8.0, Linear::default(), [-3.3, 1.6]);
    let mut global = stages::GlobalMotion::new();
    let gm = time(frames, || {
        global.next(p(0), 0, 2);
    });
    // Block motion between one field of two frames (the temporal denoiser's vectors).
    let field = |i: usize| Plane {
        stride: 2 * w,
        height: h / 2,
        ..p(i)
    };
    let mut search = stages::MotionSearch::new(w, h / 2);
    let mut motion = stages::MotionField::default();
    let bm = time(frames, || {
        search.estimate(field(0), field(1), [0, 0], &mut motion)
    });
    let mut k = 0;
    let bm_next = time(frames, || {
        k += 1;
        search.next(field(k % 2), [0, 0], &mut motion);
    });
    let all = row(
        Source::Fields(fields),
        8.0,
        Linear::levels(Levels {
            black: 30.0,
            white: 215.0,
        }),
        [0.0; 2],
    );
    // Block motion: a zoom's vectors, different in every block.
    let (bw, bh) = (stages::MOTION_BLOCK, stages::MOTION_BLOCK);
    let zoom = stages::MotionField {
        cols: w.div_ceil(bw),
        rows: h.div_ceil(bh),
        vectors: (0..h.div_ceil(bh))
            .flat_map(|r| {
                (0..w.div_ceil(bw))
                    .map(move |c| [(c * bw) as f32 * 0.01 - 3.6, (r * bh) as f32 * 0.01 - 2.9])
            })
            .collect(),
        cost: vec![0.0; w.div_ceil(bw) * h.div_ceil(bh)],
    };
    let dn_blocks = {
        let mut dn = Denoise::new(8.0, w, h);
        time(frames, || {
            dn.set_motion_field(&zoom, [bw, bh], [1.0, 1.0]);
            stages::restore(Source::Copy(p(0)), &mut out, w, &mut dn, Finish::default())
        })
    };
    println!(
        "{w}x{h} luma, ms per call (median of {frames}), {} threads",
        rayon::current_num_threads()
    );
    // Chroma bleed on the two 4:2:0 chroma planes of the frame, guided by the luma plane.
    let (cw, ch) = (w / 2, h / 2);
    let mut u = f[1][..cw * ch].to_vec();
    let mut v = f[2][..cw * ch].to_vec();
    let mut bleed = stages::Bleed::new(10.0, cw, ch, (2, 2));
    let bl = time(frames, || bleed.apply(p(0), &mut u, &mut v, cw));
    println!("deinterlace {di:.3}  denoise {dn_ms:.3}  deinterlace+denoise+levels {all:.3}");
    println!("denoise along a motion {dn_moved:.3}, along block motion {dn_blocks:.3}  global motion (one field) {gm:.3}");
    println!("block motion (one field) {bm:.3}, from the last field read {bm_next:.3}");
    println!("deinterlace along a motion of 8 px {di_moved:.3}, of 30 px {di_far:.3}");
    println!("chroma bleed (both 4:2:0 chroma planes) {bl:.3}");
    println!("padded copy of a frame's luma (deinterlacing's input) {pad_ms:.3}");
}
