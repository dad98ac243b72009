//! vhsrestore on a degraded clip made from a real photograph: the astronaut portrait panning at
//! 50 fields per second, interlaced (top field first) and with tape-like noise. Restored with
//! vhsrestore and with FFmpeg's yadif on the same input, both are compared with the clean
//! frames at the first field's time; vhsrestore must win on PSNR.

use std::process::Command;

use gst::prelude::*;
use gst_check::Harness;
use mediaai_common::testing::{load_frame, media, psnr};

const W: usize = 512;
const H: usize = 512;
const FRAMES: usize = 12;

fn init() {
    gst::init().unwrap();
    gstvhsrestore::plugin_register_static().expect("plugin registers");
}

/// The astronaut as I420 planes, one Vec per plane.
fn astronaut() -> [Vec<u8>; 3] {
    let sample = load_frame(&media("astronaut.png"), "I420", Some((W as u32, H as u32)));
    let data = sample.buffer().unwrap().map_readable().unwrap().to_vec();
    let (y, c) = (W * H, (W / 2) * (H / 2));
    [
        data[..y].to_vec(),
        data[y..y + c].to_vec(),
        data[y + c..y + 2 * c].to_vec(),
    ]
}

/// Field time `t`: the picture moved 4·t pixels right (edges repeated).
fn clean(src: &[Vec<u8>; 3], t: usize) -> [Vec<u8>; 3] {
    std::array::from_fn(|p| {
        let (w, h, shift) = if p == 0 {
            (W, H, 4 * t)
        } else {
            (W / 2, H / 2, 2 * t)
        };
        let mut out = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                out[y * w + x] = src[p][y * w + x.saturating_sub(shift)];
            }
        }
        out
    })
}

/// Deterministic noise in -amp..=amp.
fn noise(seed: &mut u64, amp: i32) -> i32 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 33) % (2 * amp as u64 + 1)) as i32 - amp
}

/// Interlaced frame k (top rows from field 2k, bottom from 2k+1) with noise, as one I420
/// buffer, and the clean reference (field 2k).
fn degraded(src: &[Vec<u8>; 3], k: usize, seed: &mut u64) -> (Vec<u8>, Vec<u8>) {
    let (a, b) = (clean(src, 2 * k), clean(src, 2 * k + 1));
    let mut frame = Vec::with_capacity(W * H * 3 / 2);
    for p in 0..3 {
        let (w, h) = if p == 0 { (W, H) } else { (W / 2, H / 2) };
        let amp = if p == 0 { 10 } else { 14 };
        for y in 0..h {
            let field = if y % 2 == 0 { &a[p] } else { &b[p] };
            for x in 0..w {
                let v = field[y * w + x] as i32 + noise(seed, amp);
                frame.push(v.clamp(0, 255) as u8);
            }
        }
    }
    (frame, a[0].clone())
}

#[test]
fn restoration_beats_yadif_on_a_degraded_interlaced_clip() {
    init();
    let src = astronaut();
    let mut seed = 7u64;
    let (inputs, refs): (Vec<Vec<u8>>, Vec<Vec<u8>>) =
        (0..FRAMES).map(|k| degraded(&src, k, &mut seed)).unzip();

    // Ours.
    let mut h = Harness::new("vhsrestore");
    h.set_src_caps_str(&format!(
        "video/x-raw,format=I420,width={W},height={H},framerate=25/1,interlace-mode=interleaved,field-order=top-field-first"
    ));
    h.play();
    for (k, f) in inputs.iter().enumerate() {
        let mut b = gst::Buffer::from_mut_slice(f.clone());
        let b_ = b.get_mut().unwrap();
        b_.set_pts(gst::ClockTime::from_mseconds(40 * k as u64));
        b_.set_duration(gst::ClockTime::from_mseconds(40));
        h.push(b).unwrap();
    }
    h.push_event(gst::event::Eos::new());
    let mut ours = Vec::new();
    while let Some(b) = h.try_pull() {
        assert_eq!(
            b.pts(),
            Some(gst::ClockTime::from_mseconds(40 * ours.len() as u64)),
            "order and timestamps"
        );
        ours.push(b.map_readable().unwrap()[..W * H].to_vec());
    }
    assert_eq!(ours.len(), FRAMES, "one frame out per frame in");

    // FFmpeg's yadif on the same frames.
    let dir = std::env::temp_dir().join(format!("vhsrestore-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("in.yuv"), dir.join("out.yuv"));
    std::fs::write(&input, inputs.concat()).unwrap();
    let status = Command::new("ffmpeg")
        .args([
            "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s",
        ])
        .arg(format!("{W}x{H}"))
        .args(["-r", "25", "-i"])
        .arg(&input)
        .args([
            "-vf",
            "setfield=tff,yadif=mode=0:parity=tff",
            "-f",
            "rawvideo",
        ])
        .arg(&output)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    let yadif = std::fs::read(&output).unwrap();
    std::fs::remove_dir_all(&dir).ok();

    // Skip the first frames (the denoiser settles); compare luma.
    let mean =
        |frames: &dyn Fn(usize) -> f64| (2..FRAMES).map(frames).sum::<f64>() / (FRAMES - 2) as f64;
    let noisy = mean(&|k| psnr(&inputs[k][..W * H], &refs[k]));
    let ours_psnr = mean(&|k| psnr(&ours[k], &refs[k]));
    let yadif_psnr = mean(&|k| {
        psnr(
            &yadif[k * W * H * 3 / 2..k * W * H * 3 / 2 + W * H],
            &refs[k],
        )
    });
    eprintln!("PSNR luma: interlaced input {noisy:.2} dB, yadif {yadif_psnr:.2} dB, vhsrestore {ours_psnr:.2} dB");
    assert!(
        ours_psnr > yadif_psnr + 0.3,
        "vhsrestore {ours_psnr:.2} vs yadif {yadif_psnr:.2}"
    );
}

#[test]
fn field_rate_doubles_frames_with_exact_timestamps() {
    init();
    let mut h = Harness::new("vhsrestore");
    h.element().unwrap().set_property_from_str("rate", "field");
    h.set_src_caps_str(
        "video/x-raw,format=I420,width=64,height=48,framerate=25/1,interlace-mode=interleaved",
    );
    h.play();
    for k in 0..3u64 {
        let mut b = gst::Buffer::from_mut_slice(vec![(k * 40) as u8; 64 * 48 * 3 / 2]);
        let b_ = b.get_mut().unwrap();
        b_.set_pts(gst::ClockTime::from_mseconds(40 * k));
        b_.set_duration(gst::ClockTime::from_mseconds(40));
        h.push(b).unwrap();
    }
    h.push_event(gst::event::Eos::new());
    let mut n = 0u64;
    while let Some(b) = h.try_pull() {
        assert_eq!(b.pts(), Some(gst::ClockTime::from_mseconds(20 * n)));
        assert_eq!(b.duration(), Some(gst::ClockTime::from_mseconds(20)));
        n += 1;
    }
    assert_eq!(n, 6);
    let caps = h.sinkpad().unwrap().current_caps().unwrap();
    let s = caps.structure(0).unwrap();
    assert_eq!(
        s.get::<gst::Fraction>("framerate").unwrap(),
        gst::Fraction::new(50, 1)
    );
    assert_eq!(s.get::<&str>("interlace-mode").unwrap(), "progressive");
}

#[test]
fn odd_sizes_one_line_frames_and_progressive_input_pass() {
    init();
    for (w, h, mode) in [
        (67usize, 39usize, "interleaved"),
        (16, 1, "interleaved"),
        (33, 21, "progressive"),
    ] {
        let mut hn = Harness::new("vhsrestore");
        let caps: gst::Caps = format!(
            "video/x-raw,format=Y444,width={w},height={h},framerate=25/1,interlace-mode={mode}"
        )
        .parse()
        .unwrap();
        // Rows padded to 4 bytes, as GStreamer lays them out.
        let size = gst_video::VideoInfo::from_caps(&caps).unwrap().size();
        hn.set_src_caps(caps);
        hn.play();
        for k in 0..3u64 {
            let mut b = gst::Buffer::from_mut_slice(vec![100u8; size]);
            b.get_mut()
                .unwrap()
                .set_pts(gst::ClockTime::from_mseconds(40 * k));
            hn.push(b).unwrap();
        }
        hn.push_event(gst::event::Eos::new());
        let mut n = 0;
        while let Some(b) = hn.try_pull() {
            assert_eq!(b.size(), size);
            n += 1;
        }
        assert_eq!(n, 3, "{w}x{h} {mode}");
    }
}
