//! Block motion estimation (the ground of the motion-compensated stages) on a real photograph
//! moved as a camera moves it, under tape-like noise: the vectors found are the motion made
//! (whole pixels, and most blocks' fraction within half a pixel), and a still picture gives
//! still vectors.

use gstvhsrestore::stages::{GlobalMotion, MotionField, MotionSearch, Plane, MOTION_BLOCK};
use mediaai_testing::{load_frame, media};

const W: usize = 720;
const H: usize = 576;
/// The photograph is rendered larger than the picture, so that a moved window stays inside it.
const MARGIN: usize = 40;

/// The astronaut's luma at (W + 2·MARGIN) x (H + 2·MARGIN).
fn photograph() -> Vec<u8> {
    let (bw, bh) = (W + 2 * MARGIN, H + 2 * MARGIN);
    let sample = load_frame(
        &media("astronaut.png"),
        "I420",
        Some((bw as u32, bh as u32)),
    );
    let data = sample.buffer().unwrap().map_readable().unwrap().to_vec();
    data[..bw * bh].to_vec()
}

/// The W x H window of `big` whose top left lies at (MARGIN + dx, MARGIN + dy), bilinear for
/// fractions, with gaussian-like noise of `sigma` levels (a fixed sequence).
fn window(big: &[u8], dx: f32, dy: f32, sigma: f32, seed: u64) -> Vec<u8> {
    let bw = W + 2 * MARGIN;
    let mut state = seed;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let mut out = vec![0u8; W * H];
    for y in 0..H {
        for x in 0..W {
            let (fx, fy) = (MARGIN as f32 + x as f32 + dx, MARGIN as f32 + y as f32 + dy);
            let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
            let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
            let p = |x: usize, y: usize| big[y * bw + x] as f32;
            let v = (p(x0, y0) * (1.0 - ax) + p(x0 + 1, y0) * ax) * (1.0 - ay)
                + (p(x0, y0 + 1) * (1.0 - ax) + p(x0 + 1, y0 + 1) * ax) * ay;
            // The sum of four uniforms: near enough a gaussian for tape noise.
            let n = ((0..4).map(|_| uniform()).sum::<f32>() - 2.0) * sigma * 1.73;
            out[y * W + x] = (v + n).round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// How far `field`'s vectors are from (`vx`, `vy`), over the blocks of `picture` (noise-free)
/// that are not at its edge and have detail to match (a flat block matches anywhere, and keeps a still
/// vector by design): (the median error, the share of blocks within `tolerance`).
fn errors(field: &MotionField, picture: &[u8], vx: f32, vy: f32, tolerance: f32) -> (f32, f32) {
    let detail = |r: usize, c: usize| {
        let (x0, y0) = (c * MOTION_BLOCK, r * MOTION_BLOCK);
        let mut sum = 0u32;
        for y in y0..y0 + MOTION_BLOCK {
            for x in x0..x0 + MOTION_BLOCK {
                let p = picture[y * W + x];
                sum += p.abs_diff(picture[y * W + x + 1]) as u32
                    + p.abs_diff(picture[(y + 1) * W + x]) as u32;
            }
        }
        sum as f32 / (MOTION_BLOCK * MOTION_BLOCK) as f32
    };
    let mut e: Vec<f32> = (1..field.rows - 1)
        .flat_map(|r| (1..field.cols - 1).map(move |c| (r, c)))
        .filter(|&(r, c)| detail(r, c) > 6.0)
        .map(|(r, c)| {
            let [x, y] = field.vectors[r * field.cols + c];
            (x - vx).hypot(y - vy)
        })
        .collect();
    assert!(e.len() > 150, "{} blocks with detail", e.len());
    e.sort_by(f32::total_cmp);
    let within = e.iter().filter(|&&v| v <= tolerance).count() as f32 / e.len() as f32;
    (e[e.len() / 2], within)
}

#[test]
fn block_motion_is_found_to_a_fraction_of_a_pixel_under_noise() {
    let big = photograph();
    let mut search = MotionSearch::new(W, H);
    let mut field = MotionField::default();
    // The picture moved by (vx, vy) between the reference and the current one: a block of the
    // current picture lies (vx, vy) away in the reference. The search starts from the camera's
    // motion as the element finds it (one translation from the pictures' profiles), or, where
    // `seeded` is false, from no motion at all: the blocks walk to it.
    for (vx, vy, sigma, seeded) in [
        (5.25f32, -3.5f32, 4.0f32, true),
        (5.25, -3.5, 4.0, false),
        (-11.0, 2.75, 6.0, true),
        (0.5, 0.0, 4.0, true),
        (19.5, 7.0, 3.0, true),
        (31.0, -12.5, 6.0, true),
    ] {
        let reference = window(&big, 0.0, 0.0, sigma, 1);
        let clean = window(&big, 0.0, 0.0, 0.0, 1);
        let cur = window(&big, vx, vy, sigma, 2);
        let mut global = GlobalMotion::new();
        global.next(Plane::tight(&reference, W, H), 0, 1);
        let camera = global.next(Plane::tight(&cur, W, H), 0, 1).unwrap();
        let seed = if seeded {
            camera.map(|v| v.round() as i32)
        } else {
            [0, 0]
        };
        search.estimate(
            Plane::tight(&cur, W, H),
            Plane::tight(&reference, W, H),
            seed,
            &mut field,
        );
        assert_eq!(
            (field.cols, field.rows),
            (W.div_ceil(MOTION_BLOCK), H.div_ceil(MOTION_BLOCK))
        );
        let (median, within) = errors(&field, &clean, vx, vy, 0.5);
        // The whole pixels right, the fraction within half a pixel for most blocks.
        assert!(
            median <= 0.4 && within >= 0.6,
            "motion ({vx}, {vy}) from {seed:?}, noise {sigma}: median error {median:.2} px, {:.0}% of blocks within 0.5 px",
            within * 100.0
        );
        eprintln!("motion ({vx}, {vy}) from {seed:?}, noise {sigma}: median error {median:.2} px, {:.0}% within 0.5 px", within * 100.0);
    }
    // Still, with fresh noise in each picture: still vectors.
    let (a, b) = (
        window(&big, 0.0, 0.0, 6.0, 3),
        window(&big, 0.0, 0.0, 6.0, 4),
    );
    search.estimate(
        Plane::tight(&a, W, H),
        Plane::tight(&b, W, H),
        [0, 0],
        &mut field,
    );
    let clean = window(&big, 0.0, 0.0, 0.0, 1);
    let (median, within) = errors(&field, &clean, 0.0, 0.0, 0.25);
    assert!(
        median <= 0.1 && within >= 0.85,
        "still: median {median:.2} px, {:.0}% within 0.25 px",
        within * 100.0
    );
}
