//! vhsrestore on a degraded clip made from a real photograph: the astronaut portrait panning at
//! 50 fields per second, interlaced (top field first) and with tape-like noise. Restored with
//! vhsrestore and with FFmpeg's yadif on the same input, both are compared with the clean
//! frames at the first field's time; vhsrestore must win on PSNR.

use std::process::Command;
use std::str::FromStr;

use gst::prelude::*;
use gst_check::Harness;
use gst_video::prelude::*;
use mediaai_testing::{element_messages, load_frame, media, psnr, watch};

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
    degraded_order(src, k, seed, true)
}

/// As `degraded`, top field first or bottom field first (bottom rows from field 2k, top from
/// 2k+1).
fn degraded_order(src: &[Vec<u8>; 3], k: usize, seed: &mut u64, tff: bool) -> (Vec<u8>, Vec<u8>) {
    degraded_by(|t| clean(src, t), k, seed, tff)
}

/// Field time `t` of a zoom into the picture's centre, 1% a field (nearest pixel): no one
/// translation follows it.
fn zoomed(src: &[Vec<u8>; 3], t: usize) -> [Vec<u8>; 3] {
    let zoom = 1.01f32.powi(t as i32);
    std::array::from_fn(|p| {
        let (w, h) = if p == 0 { (W, H) } else { (W / 2, H / 2) };
        let mut out = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let at = |v: usize, n: usize| {
                    let c = n as f32 / 2.0;
                    ((c + (v as f32 - c) / zoom).round() as usize).min(n - 1)
                };
                out[y * w + x] = src[p][at(y, h) * w + at(x, w)];
            }
        }
        out
    })
}

/// As `degraded_order`, fields from `field(t)` (field time `t`).
fn degraded_by(
    field: impl Fn(usize) -> [Vec<u8>; 3],
    k: usize,
    seed: &mut u64,
    tff: bool,
) -> (Vec<u8>, Vec<u8>) {
    let (first, second) = (field(2 * k), field(2 * k + 1));
    let (a, b) = if tff {
        (&first, &second)
    } else {
        (&second, &first)
    };
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
    (frame, first[0].clone())
}

/// The clip's caps: interlaced, top field first.
fn tff_caps() -> String {
    format!(
        "video/x-raw,format=I420,width={W},height={H},framerate=25/1,interlace-mode=interleaved,field-order=top-field-first"
    )
}

/// Runs `frames` (40 ms apart) through `launch` (gst-launch syntax) on `caps`; returns the
/// output buffers.
fn run(launch: &str, caps: &str, frames: &[Vec<u8>]) -> Vec<gst::Buffer> {
    let caps = gst::Caps::from_str(caps).expect("caps parse");
    mediaai_testing::push_frames(launch, &caps, frames)
}

/// `frames` (25p, `caps`) through `vhsrestore props`: every output frame, and the
/// `vhsrestore-levels` messages it posted.
fn restore_reporting(
    props: &str,
    caps: &str,
    frames: &[Vec<u8>],
) -> (Vec<gst::Buffer>, Vec<gst::Structure>) {
    restore_changing(props, caps, frames, |_, _| {})
}

/// [`restore_reporting`], with `change` called on the element before each frame `k` is pushed
/// (properties set while playing).
fn restore_changing(
    props: &str,
    caps: &str,
    frames: &[Vec<u8>],
    change: impl Fn(usize, &gst::Element),
) -> (Vec<gst::Buffer>, Vec<gst::Structure>) {
    let element = gst::parse::launch(&format!("vhsrestore {props}")).expect("vhsrestore parses");
    let mut h = Harness::with_element(&element, Some("sink"), Some("src"));
    let bus = watch(&element);
    h.set_src_caps(gst::Caps::from_str(caps).expect("caps parse"));
    h.play();
    for (k, data) in frames.iter().enumerate() {
        change(k, &element);
        let mut b = gst::Buffer::from_slice(data.clone());
        b.get_mut()
            .unwrap()
            .set_pts(gst::ClockTime::from_mseconds(40 * k as u64));
        h.push(b).unwrap();
    }
    h.push_event(gst::event::Eos::new());
    let out: Vec<gst::Buffer> = std::iter::from_fn(|| h.try_pull()).collect();
    assert_eq!(out.len(), frames.len(), "{props}");
    (out, element_messages(&bus, "vhsrestore-levels"))
}

#[test]
fn restoration_beats_yadif_on_a_degraded_interlaced_clip() {
    init();
    let src = astronaut();
    let mut seed = 7u64;
    let (inputs, refs): (Vec<Vec<u8>>, Vec<Vec<u8>>) =
        (0..FRAMES).map(|k| degraded(&src, k, &mut seed)).unzip();

    // Ours.
    let mut ours = Vec::new();
    for b in run("vhsrestore", &tff_caps(), &inputs) {
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

#[test]
fn field_order_is_detected_when_the_caps_do_not_say() {
    init();
    let src = astronaut();
    let mut seed = 3u64;
    let (inputs, refs): (Vec<Vec<u8>>, Vec<Vec<u8>>) = (0..FRAMES)
        .map(|k| degraded_order(&src, k, &mut seed, false))
        .unzip();
    let caps = format!(
        "video/x-raw,format=I420,width={W},height={H},framerate=25/1,interlace-mode=interleaved"
    );
    let score = |order: &str| {
        let out = run(&format!("vhsrestore field-order={order}"), &caps, &inputs);
        assert_eq!(out.len(), FRAMES);
        (4..FRAMES)
            .map(|k| psnr(&out[k].map_readable().unwrap()[..W * H], &refs[k]))
            .sum::<f64>()
            / (FRAMES - 4) as f64
    };
    let (auto, bff, tff) = (score("auto"), score("bff"), score("tff"));
    eprintln!("bottom-field-first clip: auto {auto:.2} dB, bff {bff:.2} dB, tff {tff:.2} dB");
    assert!(tff + 0.5 < bff, "the clip is bottom field first");
    assert!(
        auto > bff - 0.1,
        "auto found bottom first: {auto:.2} vs {bff:.2}"
    );
}

/// A 64x48 I420 frame whose even rows are `even` and odd rows `odd` (chroma 128).
fn combed(even: u8, odd: u8) -> Vec<u8> {
    let mut f = vec![128u8; 64 * 48 * 3 / 2];
    for y in 0..48 {
        f[y * 64..(y + 1) * 64].fill(if y % 2 == 0 { even } else { odd });
    }
    f
}

/// Restoration stages other than deinterlacing off, so that what comes out is the
/// deinterlacer's.
const ONLY_DEINTERLACE: [(&str, &str); 4] = [
    ("luma-denoise", "0"),
    ("chroma-denoise", "0"),
    ("dropout-threshold", "0"),
    ("head-switch-lines", "0"),
];

#[test]
fn mixed_streams_deinterlace_only_buffers_flagged_interlaced() {
    init();
    let mut h = Harness::new("vhsrestore");
    for (k, v) in ONLY_DEINTERLACE {
        h.element().unwrap().set_property_from_str(k, v);
    }
    h.set_src_caps_str(
        "video/x-raw,format=I420,width=64,height=48,framerate=25/1,interlace-mode=mixed",
    );
    h.play();
    let interlaced = gst_video::VideoBufferFlags::INTERLACED | gst_video::VideoBufferFlags::TFF;
    // Fields alternating between two levels: interlaced, the top field is kept and the bottom
    // rebuilt to match it; progressive, the frame passes as it is.
    let frames = [
        combed(0, 200),
        combed(200, 0),
        combed(0, 200),
        combed(200, 0),
    ];
    for (k, f) in frames.iter().enumerate() {
        let mut b = gst::Buffer::from_mut_slice(f.clone());
        let b_ = b.get_mut().unwrap();
        b_.set_pts(gst::ClockTime::from_mseconds(40 * k as u64));
        if k < 2 {
            b_.set_video_flags(interlaced);
        }
        h.push(b).unwrap();
    }
    h.push_event(gst::event::Eos::new());
    let out: Vec<gst::Buffer> = std::iter::from_fn(|| h.try_pull()).collect();
    assert_eq!(out.len(), 4);
    for (k, b) in out.iter().enumerate() {
        let m = b.map_readable().unwrap();
        let (row0, row1) = (m[0] as i32, m[64] as i32);
        if k < 2 {
            assert!(
                (row0 - row1).abs() < 20,
                "frame {k} deinterlaced: {row0} {row1}"
            );
        } else {
            assert!(
                m[..64 * 48] == frames[k][..64 * 48],
                "frame {k} passed as it is: rows {row0} {row1}"
            );
        }
        assert_eq!(b.pts(), Some(gst::ClockTime::from_mseconds(40 * k as u64)));
        assert!(
            !b.video_flags()
                .contains(gst_video::VideoBufferFlags::INTERLACED),
            "output is progressive"
        );
    }
}

/// New caps mid-stream (a new size, progressive): the frames held, and the one in flight when
/// pipelined, come out first at the old caps, every frame in order.
#[test]
fn caps_changes_mid_stream_from_interlaced_to_progressive() {
    init();
    for (rate, pipelined) in [
        ("frame", "off"),
        ("field", "off"),
        ("frame", "on"),
        ("field", "on"),
    ] {
        let rate_ = format!("{rate} pipelined={pipelined}");
        let mut h = Harness::new("vhsrestore");
        h.element().unwrap().set_property_from_str("rate", rate);
        h.element()
            .unwrap()
            .set_property_from_str("pipelined", pipelined);
        h.set_src_caps_str(
            "video/x-raw,format=I420,width=64,height=48,framerate=25/1,interlace-mode=interleaved",
        );
        h.play();
        let push = |h: &mut Harness, k: u64, size: usize| {
            let mut b = gst::Buffer::from_mut_slice(vec![(40 * k) as u8; size]);
            let b_ = b.get_mut().unwrap();
            b_.set_pts(gst::ClockTime::from_mseconds(40 * k));
            b_.set_duration(gst::ClockTime::from_mseconds(40));
            h.push(b).unwrap();
        };
        for k in 0..3 {
            push(&mut h, k, 64 * 48 * 3 / 2);
        }
        // New size and progressive: the held frames come out first, at the old caps.
        h.push_event(gst::event::Caps::new(
            &"video/x-raw,format=I420,width=80,height=40,framerate=25/1,interlace-mode=progressive"
                .parse::<gst::Caps>()
                .unwrap(),
        ));
        for k in 3..6 {
            push(&mut h, k, 80 * 40 * 3 / 2);
        }
        h.push_event(gst::event::Eos::new());
        let out: Vec<gst::Buffer> = std::iter::from_fn(|| h.try_pull()).collect();
        let doubled = if rate == "field" { 2 } else { 1 };
        assert_eq!(out.len(), 3 * doubled + 3, "rate {rate_}");
        let mut last = None;
        for (i, b) in out.iter().enumerate() {
            let old = i < 3 * doubled;
            assert_eq!(
                b.size(),
                if old {
                    64 * 48 * 3 / 2
                } else {
                    80 * 40 * 3 / 2
                },
                "rate {rate_}, buffer {i}"
            );
            assert!(b.pts() > last, "in order");
            last = b.pts();
        }
        let caps = h.sinkpad().unwrap().current_caps().unwrap();
        let s = caps.structure(0).unwrap();
        assert_eq!(s.get::<i32>("width").unwrap(), 80);
        assert_eq!(
            s.get::<gst::Fraction>("framerate").unwrap(),
            gst::Fraction::new(25, 1),
            "progressive input keeps its rate"
        );
    }
}

#[test]
fn packed_rgb_restores_like_planar() {
    init();
    let src = astronaut();
    let mut seed = 5u64;
    let (inputs, refs): (Vec<Vec<u8>>, Vec<Vec<u8>>) =
        (0..FRAMES).map(|k| degraded(&src, k, &mut seed)).unzip();
    let luma_psnr = |launch: &str| {
        let out = run(launch, &tff_caps(), &inputs);
        assert_eq!(out.len(), FRAMES, "{launch}");
        (2..FRAMES)
            .map(|k| psnr(&out[k].map_readable().unwrap()[..W * H], &refs[k]))
            .sum::<f64>()
            / (FRAMES - 2) as f64
    };
    // The planar restoration through the same conversions as the packed one (I420 to BGRx and
    // back loses about 1.8 dB at this quality on its own): what packed input can reach.
    let planar = luma_psnr(
        "vhsrestore ! videoconvert ! capsfilter caps=video/x-raw,format=BGRx ! videoconvert ! capsfilter caps=video/x-raw,format=I420",
    );
    let packed = luma_psnr(
        "videoconvert ! capsfilter caps=video/x-raw,format=BGRx ! vhsrestore ! capsfilter caps=video/x-raw,format=BGRx ! videoconvert ! capsfilter caps=video/x-raw,format=I420",
    );
    eprintln!("PSNR luma: I420 then to BGRx and back {planar:.2} dB, BGRx {packed:.2} dB");
    assert!(
        packed > planar - 1.0,
        "BGRx {packed:.2} vs I420 then to BGRx and back {planar:.2}"
    );
}

#[test]
fn a_flush_drops_the_held_frame_and_settings_change_while_playing() {
    init();
    let mut h = Harness::new("vhsrestore");
    h.set_src_caps_str(
        "video/x-raw,format=I420,width=64,height=48,framerate=25/1,interlace-mode=interleaved",
    );
    h.play();
    let push = |h: &mut Harness, k: u64| {
        let mut b = gst::Buffer::from_mut_slice(vec![(20 * k) as u8; 64 * 48 * 3 / 2]);
        b.get_mut()
            .unwrap()
            .set_pts(gst::ClockTime::from_mseconds(40 * k));
        h.push(b).unwrap();
    };
    for k in 0..3 {
        push(&mut h, k);
    }
    // Two out, one held (it waits for its next frame); the flush drops it.
    mediaai_testing::flush(&mut h);
    let element = h.element().unwrap();
    element.set_property("luma-denoise", 30.0f64);
    element.set_property("black-level", 40.0f64);
    element.set_property_from_str("head-switch-lines", "4");
    for k in 3..6 {
        push(&mut h, k);
    }
    h.push_event(gst::event::Eos::new());
    let pts: Vec<u64> = std::iter::from_fn(|| h.try_pull())
        .map(|b| b.pts().unwrap().mseconds())
        .collect();
    assert_eq!(
        pts,
        [0, 40, 120, 160, 200],
        "the held frame (80 ms) dropped by the flush"
    );
}

#[test]
fn the_gpu_path_restores_as_the_cpu_path_does() {
    init();
    let src = astronaut();
    let mut seed = 11u64;
    let mut inputs: Vec<Vec<u8>> = (0..8).map(|k| degraded(&src, k, &mut seed).0).collect();
    // Dropouts: white streaks on top-field rows of some frames.
    for (k, f) in inputs.iter_mut().enumerate().step_by(3) {
        let y = 100 + 4 * k;
        f[y * W + 50..y * W + 90].fill(250);
    }
    // A zoom: the luma denoiser follows block motion.
    let zoom: Vec<Vec<u8>> = (0..8)
        .map(|k| degraded_by(|t| zoomed(&src, t), k, &mut seed, true).0)
        .collect();
    let progressive = format!("video/x-raw,format=I420,width={W},height={H},framerate=25/1");
    let settings = "chroma-shift=-2 black-level=30 white-level=215 saturation=1.1";
    for (caps, props, inputs) in [
        (
            tff_caps(),
            format!("rate=field chroma-bleed=10 {settings}"),
            &inputs,
        ),
        (
            tff_caps(),
            "luma-denoise=0 chroma-denoise=0".to_string(),
            &inputs,
        ),
        (progressive.clone(), settings.to_string(), &inputs),
        (tff_caps(), format!("rate=field {settings}"), &zoom),
        (progressive, settings.to_string(), &zoom),
    ] {
        let cpu = run(&format!("vhsrestore backend=cpu {props}"), &caps, inputs);
        let gpu = run(&format!("vhsrestore backend=gpu {props}"), &caps, inputs);
        assert_eq!(cpu.len(), gpu.len(), "{props}");
        // A frame in flight or none (the default): the same frames, byte for byte.
        let pipelined = run(
            &format!("vhsrestore backend=gpu pipelined=on {props}"),
            &caps,
            inputs,
        );
        assert_eq!(pipelined.len(), gpu.len(), "{props}");
        for (w, g) in pipelined.iter().zip(&gpu) {
            assert_eq!((w.pts(), w.duration()), (g.pts(), g.duration()));
            assert!(
                *w.map_readable().unwrap() == *g.map_readable().unwrap(),
                "{props}: pipelined and not differ"
            );
        }
        let (mut equal, mut total) = (0usize, 0usize);
        for (c, g) in cpu.iter().zip(&gpu) {
            assert_eq!((c.pts(), c.duration()), (g.pts(), g.duration()));
            let (c, g) = (c.map_readable().unwrap(), g.map_readable().unwrap());
            assert_eq!(c.len(), g.len());
            for (a, b) in c.iter().zip(g.iter()) {
                assert!(a.abs_diff(*b) <= 1, "{props}: {a} vs {b}");
                equal += (a == b) as usize;
            }
            total += c.len();
        }
        let share = equal as f64 / total as f64;
        assert!(share > 0.99, "{props}: {share} of the bytes equal");
        eprintln!("{props}: {:.5} of the bytes equal", share);
    }
}

/// Pipelined on the CPU, a thread of the element's own restores each frame while the streaming
/// thread takes in the next: byte for byte the frames of the streaming thread's own restoring,
/// with their timestamps, on every kind of job the GPU parity test runs (field rate, chroma
/// bleed, no denoising, progressive, a zoom followed by block motion, packed RGB).
#[test]
fn a_frame_in_flight_on_the_cpu_gives_the_same_frames() {
    init();
    let src = astronaut();
    let mut seed = 11u64;
    let inputs: Vec<Vec<u8>> = (0..8).map(|k| degraded(&src, k, &mut seed).0).collect();
    let zoom: Vec<Vec<u8>> = (0..8)
        .map(|k| degraded_by(|t| zoomed(&src, t), k, &mut seed, true).0)
        .collect();
    let progressive = format!("video/x-raw,format=I420,width={W},height={H},framerate=25/1");
    // Packed RGB is unpacked by the element's thread too.
    let bgrx = "videoconvert ! capsfilter caps=video/x-raw,format=BGRx !";
    for (caps, before, props, inputs) in [
        (tff_caps(), "", "rate=field chroma-bleed=10", &inputs),
        (tff_caps(), "", "luma-denoise=0 chroma-denoise=0", &inputs),
        (progressive.clone(), "", "chroma-shift=-2", &inputs),
        (tff_caps(), "", "rate=field", &zoom),
        (progressive, "", "", &zoom),
        (tff_caps(), bgrx, "", &inputs),
    ] {
        let launch = |p: &str| format!("{before} vhsrestore backend=cpu pipelined={p} {props}");
        let at_once = run(&launch("off"), &caps, inputs);
        let in_flight = run(&launch("on"), &caps, inputs);
        assert_eq!(in_flight.len(), at_once.len(), "{props}");
        for (a, b) in in_flight.iter().zip(&at_once) {
            assert_eq!((a.pts(), a.duration()), (b.pts(), b.duration()), "{props}");
            assert!(
                *a.map_readable().unwrap() == *b.map_readable().unwrap(),
                "{props}: in flight and not differ"
            );
        }
    }
}

/// Frames in flight (`pipelined=on`): one restored by the element's thread, on the CPU and the
/// GPU, and on the GPU a second read back once the next frame is submitted: reported in the
/// latency, frames out as much later, dropped by a flush, drained at EOS.
#[test]
fn a_frame_in_flight_is_reported_flushed_and_drained() {
    init();
    let src = astronaut();
    let mut seed = 5u64;
    let inputs: Vec<Vec<u8>> = (0..6).map(|k| degraded(&src, k, &mut seed).0).collect();
    let caps = gst::Caps::from_str(&tff_caps()).unwrap();
    for (backend, on) in [("cpu", 2u64), ("gpu", 3)] {
        for (pipelined, held) in [("on", on), ("off", 1)] {
            let mut h = Harness::new("vhsrestore");
            let element = h.element().unwrap();
            element.set_property_from_str("backend", backend);
            element.set_property_from_str("pipelined", pipelined);
            // Frames read back into system memory (left on the GPU, nothing is read back).
            h.set_sink_caps(gst::Caps::builder("video/x-raw").build());
            h.set_src_caps(caps.clone());
            h.play();
            let push = |h: &mut Harness, k: usize| {
                let mut b = gst::Buffer::from_slice(inputs[k].clone());
                b.get_mut()
                    .unwrap()
                    .set_pts(gst::ClockTime::from_mseconds(40 * k as u64));
                h.push(b).unwrap();
            };
            for k in 0..4 {
                push(&mut h, k);
            }
            let case = format!("backend={backend} pipelined={pipelined}");
            // The deinterlacer's next frame, and those in flight when pipelined.
            assert_eq!(
                h.query_latency(),
                Some(gst::ClockTime::from_mseconds(40 * held)),
                "{case}"
            );
            let out: Vec<gst::Buffer> = std::iter::from_fn(|| h.try_pull()).collect();
            assert_eq!(out.len() as u64, 4 - held, "{case}: frames out");
            // A flush drops what is held and in flight; the frames after it come out whole.
            mediaai_testing::flush(&mut h);
            for k in 4..6 {
                push(&mut h, k);
            }
            h.push_event(gst::event::Eos::new());
            let after: Vec<u64> = std::iter::from_fn(|| h.try_pull())
                .map(|b| b.pts().unwrap().mseconds())
                .collect();
            assert_eq!(after, [160, 200], "{case}: drained at EOS");
        }
    }
}

/// `pipelined=auto` (the default) keeps a frame in flight where upstream is not live (a file:
/// throughput), on the CPU and the GPU alike, and none where it is (a camera: the least
/// delay), as the latency the element adds to upstream's says.
#[test]
fn pipelined_auto_keeps_a_frame_in_flight_unless_upstream_is_live() {
    init();
    for (backend, live, held) in [
        ("cpu", false, 2u64),
        ("cpu", true, 1),
        ("gpu", false, 2),
        ("gpu", true, 1),
    ] {
        let pipeline = gst::parse::launch(&format!(
            "videotestsrc is-live={live} pattern=ball \
             ! video/x-raw,format=I420,width=64,height=48,framerate=25/1,interlace-mode=interleaved \
             ! vhsrestore name=v backend={backend} ! fakesink name=sink"
        ))
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        pipeline
            .by_name("sink")
            .unwrap()
            .static_pad("sink")
            .unwrap()
            .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                let _ = tx.try_send(());
                gst::PadProbeReturn::Ok
            });
        pipeline.set_state(gst::State::Playing).unwrap();
        rx.recv_timeout(std::time::Duration::from_secs(20))
            .expect("a frame out");
        let v = pipeline.by_name("v").unwrap();
        let latency = |pad: &gst::Pad, peer: bool| {
            let mut q = gst::query::Latency::new();
            let answered = if peer {
                pad.peer_query(&mut q)
            } else {
                pad.query(&mut q)
            };
            assert!(answered);
            q.result()
        };
        let (live_up, up, _) = latency(&v.static_pad("sink").unwrap(), true);
        let (_, ours, _) = latency(&v.static_pad("src").unwrap(), false);
        pipeline.set_state(gst::State::Null).unwrap();
        assert_eq!(live_up, live);
        assert_eq!(
            ours - up,
            gst::ClockTime::from_mseconds(40 * held),
            "backend={backend} is-live={live}"
        );
    }
}

#[test]
fn the_shader_validates_with_naga() {
    mediaai_testing::validate_wgsl(include_str!("../../../shaders/vhsrestore.wgsl"));
}

/// Chroma 1.3 chroma pixels (2.6 luma pixels) late, blurred and noisy, as a tape leaves it, on
/// a progressive clip: at its defaults the element finds the delay and moves chroma back,
/// closer to the clean chroma than leaving it where it is (`chroma-shift=0`), and about as
/// close as the whole-pixel correction a user would set by hand (`chroma-shift=-1`).
#[test]
fn a_fractional_chroma_delay_is_found_and_undone() {
    init();
    let src = astronaut();
    let (cw, ch) = (W / 2, H / 2);
    let mut seed = 3u64;
    let frames: Vec<Vec<u8>> = (0..6)
        .map(|_| {
            let mut frame = Vec::with_capacity(W * H * 3 / 2);
            frame.extend(
                src[0]
                    .iter()
                    .map(|&v| (v as i32 + noise(&mut seed, 6)).clamp(0, 255) as u8),
            );
            for plane in &src[1..] {
                for y in 0..ch {
                    let row = &plane[y * cw..][..cw];
                    let at = |x: f64| {
                        let x = x.clamp(0.0, (cw - 1) as f64);
                        let (i, f) = (x.floor() as usize, x - x.floor());
                        row[i] as f64 * (1.0 - f) + row[(i + 1).min(cw - 1)] as f64 * f
                    };
                    for x in 0..cw {
                        let v = (-1..=1).map(|k| at(x as f64 - 1.3 + k as f64)).sum::<f64>() / 3.0;
                        frame.push((v as i32 + noise(&mut seed, 8)).clamp(0, 255) as u8);
                    }
                }
            }
            frame
        })
        .collect();
    let caps = format!("video/x-raw,format=I420,width={W},height={H},framerate=25/1");
    let chroma_psnr = |props: &str| {
        let out = run(&format!("vhsrestore {props}"), &caps, &frames);
        assert_eq!(out.len(), frames.len());
        let reference = [src[1].as_slice(), src[2].as_slice()].concat();
        (2..out.len())
            .map(|k| psnr(&out[k].map_readable().unwrap()[W * H..], &reference))
            .sum::<f64>()
            / (out.len() - 2) as f64
    };
    let (found, left, by_hand) = (
        chroma_psnr(""),
        chroma_psnr("chroma-shift=0"),
        chroma_psnr("chroma-shift=-1"),
    );
    eprintln!(
        "chroma PSNR: estimated {found:.2} dB, left {left:.2} dB, by hand (-1) {by_hand:.2} dB"
    );
    assert!(found > left + 0.5, "estimated {found:.2} vs left {left:.2}");
    assert!(
        found > by_hand - 0.2,
        "estimated {found:.2} vs by hand {by_hand:.2}"
    );
}

/// A tape whose black was lifted from 16 to 76 (white kept): two shots of photographs at 25p.
/// At its defaults the element finds the lift after 2 s of pictures, corrects it at the cut
/// (the part no picture explains: black 26 levels in) and says so on the bus; the second shot
/// comes out closer to the clean one than with `auto-levels=false`, and a black level set by
/// hand wins over the estimate.
#[test]
fn lost_levels_are_found_reported_and_a_level_set_by_hand_wins() {
    init();
    let lift = |v: u8| (76.0 + (v as f64 - 16.0) * (235.0 - 76.0) / 219.0).round() as u8;
    let shot = |name: &str| {
        let sample = load_frame(&media(name), "I420", Some((W as u32, H as u32)));
        let data = sample.buffer().unwrap().map_readable().unwrap().to_vec();
        data
    };
    let (first, second) = (shot("astronaut.png"), shot("camera.png"));
    let lifted = |clean: &[u8]| -> Vec<u8> {
        let mut seed = 5u64;
        let mut f: Vec<u8> = clean.to_vec();
        for v in &mut f[..W * H] {
            *v = (lift(*v) as i32 + noise(&mut seed, 2)).clamp(0, 255) as u8;
        }
        f
    };
    let frames: Vec<Vec<u8>> = (0..60)
        .map(|k| lifted(if k < 52 { &first } else { &second }))
        .collect();
    let caps = format!("video/x-raw,format=I420,width={W},height={H},framerate=25/1");
    let restore = |props: &str| {
        let (out, messages) = restore_reporting(props, &caps, &frames);
        let last = psnr(
            &out.last().unwrap().map_readable().unwrap()[..W * H],
            &second[..W * H],
        );
        let reports: Vec<(f64, f64, bool)> = messages
            .iter()
            .map(|s| {
                (
                    s.get::<f64>("black").unwrap(),
                    s.get::<f64>("white").unwrap(),
                    s.get::<bool>("shot-change").unwrap(),
                )
            })
            .collect();
        (last, reports)
    };
    let (auto, reports) = restore("");
    let (off, none) = restore("auto-levels=false");
    let (by_hand, hand_reports) = restore("black-level=76");
    eprintln!("luma PSNR of the second shot: auto {auto:.2} dB, off {off:.2} dB, black-level=76 {by_hand:.2} dB; reports {reports:?}");
    assert!(
        none.is_empty(),
        "auto-levels=false reports nothing: {none:?}"
    );
    // A black level set by hand is applied (the PSNR below) while the picture's own estimate
    // is still reported as it was.
    assert_eq!(
        hand_reports, reports,
        "the estimate reported with a level set by hand"
    );
    let &(black, white, at_cut) = reports.last().expect("the estimate is reported");
    assert!(at_cut, "applied at the cut");
    // The lift less the slack (50), less the photograph's own darkest blocks above black.
    assert!((36.0..=52.0).contains(&black), "black {black}");
    assert!(white > 232.0, "white {white}");
    assert!(auto > off + 3.0, "auto {auto:.2} vs off {off:.2}");
    assert!(
        by_hand > auto + 3.0,
        "by hand {by_hand:.2} vs auto {auto:.2}"
    );
}

/// A transfer that starts with colour bars: GStreamer's own SMPTE bars (75%, and 100% with
/// their lower parts), then a photograph, all through a tape that squeezed the levels to
/// 30..215 and kept 80% of the saturation, with noise. At its defaults the element reads the
/// levels and saturation off the bars, says so on the bus, and restores the photograph that
/// follows far closer to the clean one than without the bars; levels and saturation set by
/// hand win over the bars'.
#[test]
fn colour_bars_at_the_head_set_the_levels_and_saturation() {
    init();
    let test_pattern = |pattern: &str| {
        let mut h = Harness::new_parse(&format!(
            "videotestsrc pattern={pattern} num-buffers=1 ! capsfilter caps=video/x-raw,format=I420,width={W},height={H}"
        ));
        h.play();
        let frame = h.pull().unwrap().map_readable().unwrap().to_vec();
        frame
    };
    let photo = astronaut().concat();
    let mut seed = 9u64;
    let mut tape = |clean: &[u8]| -> Vec<u8> {
        clean
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let v = v as f64;
                let damaged = if i < W * H {
                    30.0 + (v - 16.0) * (215.0 - 30.0) / 219.0
                } else {
                    128.0 + (v - 128.0) * 0.8
                };
                (damaged.round() as i32 + noise(&mut seed, 3)).clamp(0, 255) as u8
            })
            .collect()
    };
    let caps = format!("video/x-raw,format=I420,width={W},height={H},framerate=25/1");
    for (pattern, name) in [("smpte75", "smpte-75"), ("smpte", "smpte-100")] {
        let bars = test_pattern(pattern);
        let frames: Vec<Vec<u8>> = (0..16)
            .map(|k| tape(if k < 8 { &bars } else { &photo }))
            .collect();
        // Luma and chroma PSNR of the last frame against the clean photograph.
        let restore = |props: &str| {
            let (out, messages) = restore_reporting(props, &caps, &frames);
            let last = out.last().unwrap().map_readable().unwrap().to_vec();
            let quality = (
                psnr(&last[..W * H], &photo[..W * H]),
                psnr(&last[W * H..], &photo[W * H..]),
            );
            (quality, messages)
        };
        let ((luma, chroma), messages) = restore("");
        let ((luma_off, chroma_off), off_messages) = restore("lock-to-bars=false");
        let ((luma_hand, chroma_hand), _) = restore("black-level=16 white-level=235 saturation=1");
        eprintln!(
            "{pattern}: luma {luma:.2} dB (without bars {luma_off:.2}, by hand {luma_hand:.2}), \
             chroma {chroma:.2} dB ({chroma_off:.2}, {chroma_hand:.2})"
        );
        let last = messages.last().expect("the bars are reported");
        eprintln!("{pattern}: {last}");
        assert_eq!(last.get::<&str>("source").unwrap(), "bars");
        assert_eq!(last.get::<&str>("pattern").unwrap(), name);
        let (black, white, saturation) = (
            last.get::<f64>("black").unwrap(),
            last.get::<f64>("white").unwrap(),
            last.get::<f64>("saturation").unwrap(),
        );
        assert!((black - 30.0).abs() < 1.0, "{pattern}: black {black}");
        assert!((white - 215.0).abs() < 1.0, "{pattern}: white {white}");
        assert!(
            (saturation - 0.8).abs() < 0.02,
            "{pattern}: saturation {saturation}"
        );
        assert!(
            off_messages
                .iter()
                .all(|m| m.get::<&str>("source").unwrap() == "picture"),
            "without the lock, no bars"
        );
        assert!(
            luma > luma_off + 6.0,
            "{pattern}: luma {luma:.2} vs {luma_off:.2}"
        );
        assert!(
            chroma > chroma_off + 3.0,
            "{pattern}: chroma {chroma:.2} vs {chroma_off:.2}"
        );
        // Set by hand (here: untouched), the bars change nothing.
        assert!(
            (luma_hand - luma_off).abs() < 0.5 && (chroma_hand - chroma_off).abs() < 0.5,
            "{pattern}: by hand {luma_hand:.2}/{chroma_hand:.2} vs {luma_off:.2}/{chroma_off:.2}"
        );
        // Switched off while playing, after the bars were read: their reading no longer
        // applies to what follows.
        let (out, _) = restore_changing("", &caps, &frames, |k, element| {
            if k == 8 {
                element.set_property("lock-to-bars", false);
            }
        });
        let last = out.last().unwrap().map_readable().unwrap().to_vec();
        let switched_off = psnr(&last[..W * H], &photo[..W * H]);
        assert!(
            (switched_off - luma_off).abs() < 0.5,
            "{pattern}: switched off {switched_off:.2} vs never on {luma_off:.2}"
        );
    }
}

/// Denoising follows the noise it measures: on the panning clip with light noise (deviation
/// about 1.2) and with heavy noise (about 9), no one fixed strength fits both — the one for
/// light noise leaves heavy noise, the one for heavy noise blurs light — while the measured
/// strengths come within 0.3 dB of the better of the two on each and well above the worse.
#[test]
fn denoising_follows_the_noise_measured_in_the_picture() {
    init();
    let src = astronaut();
    for amp in [2, 16] {
        let mut seed = 21u64;
        let mut frames = Vec::new();
        let mut clean = Vec::new();
        for k in 0..10 {
            let (first, second) = (self::clean(&src, 2 * k), self::clean(&src, 2 * k + 1));
            let mut frame = Vec::with_capacity(W * H * 3 / 2);
            for p in 0..3 {
                let (w, h) = if p == 0 { (W, H) } else { (W / 2, H / 2) };
                for y in 0..h {
                    let field = if y % 2 == 0 { &first[p] } else { &second[p] };
                    for x in 0..w {
                        let v = field[y * w + x] as i32 + noise(&mut seed, amp);
                        frame.push(v.clamp(0, 255) as u8);
                    }
                }
            }
            frames.push(frame);
            clean.push(first[0].clone());
        }
        let luma_psnr = |props: &str| {
            let out = run(&format!("vhsrestore {props}"), &tff_caps(), &frames);
            (2..out.len())
                .map(|k| psnr(&out[k].map_readable().unwrap()[..W * H], &clean[k]))
                .sum::<f64>()
                / (out.len() - 2) as f64
        };
        let measured = luma_psnr("");
        let light = luma_psnr("luma-denoise=3 chroma-denoise=5");
        let heavy = luma_psnr("luma-denoise=14 chroma-denoise=20");
        eprintln!(
            "noise ±{amp}: measured strengths {measured:.2} dB, fixed for light noise {light:.2} dB, for heavy {heavy:.2} dB"
        );
        assert!(measured > light.max(heavy) - 0.3, "±{amp}: {measured:.2}");
        assert!(measured > light.min(heavy) + 0.5, "±{amp}: {measured:.2}");
    }
}
