//! upscale on a real photograph: the astronaut portrait taken down by the scale and brought
//! back by the network, by the spatial path and by videoscale's bilinear; the network must
//! come closest to the original, the spatial path next.

use gst::prelude::*;
use gst_check::Harness;
use gst_video::prelude::*;
use mediaai_testing::{psnr, push_frames};

mod common;
use common::{astronaut, bytes, five_frames, init};

/// Pushes `frames` copies of `data` (40 ms apart) through `launch`; the output buffers.
fn run(launch: &str, caps: &gst::Caps, data: &[u8], frames: u64) -> Vec<gst::Buffer> {
    push_frames(launch, caps, &vec![data.to_vec(); frames as usize])
}

/// A `side`x`side` RGBx frame averaged over blocks of `k`x`k` pixels.
fn box_down(rgbx: &[u8], side: usize, k: usize) -> Vec<u8> {
    let small = side / k;
    let mut out = vec![0u8; small * small * 4];
    for y in 0..small {
        for x in 0..small {
            for c in 0..4 {
                let mut sum = 0u32;
                for dy in 0..k {
                    for dx in 0..k {
                        sum += rgbx[((y * k + dy) * side + x * k + dx) * 4 + c] as u32;
                    }
                }
                out[(y * small + x) * 4 + c] = ((sum + (k * k / 2) as u32) / (k * k) as u32) as u8;
            }
        }
    }
    out
}

/// The bytes of `b`'s pixels, plane by plane and row by row, without the rows' padding.
fn visible(b: &gst::Buffer, info: &gst_video::VideoInfo) -> Vec<u8> {
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(b.as_ref(), info).unwrap();
    let mut out = Vec::new();
    for p in 0..frame.n_planes() {
        let stride = frame.plane_stride()[p as usize] as usize;
        let row = frame.comp_width(p) as usize * frame.comp_pstride(p) as usize;
        let data = frame.plane_data(p).unwrap();
        for y in 0..frame.comp_height(p) as usize {
            out.extend_from_slice(&data[y * stride..][..row]);
        }
    }
    out
}

#[test]
fn the_network_beats_the_spatial_path_which_beats_bilinear() {
    init();
    for scale in [2u32, 4] {
        // The original, and it taken down by averaging each scale x scale block (a camera's
        // or a good scaler's low-pass, not a point sampling that aliases).
        let (reference, _) = astronaut("RGBx", 256, 256);
        let (_, caps) = astronaut("RGBx", 256 / scale, 256 / scale);
        let small = box_down(&reference, 256, scale as usize);
        let mut scores = Vec::new();
        for launch in [
            format!("upscale scale={scale} method=neural"),
            format!("upscale scale={scale} method=spatial"),
            "videoscale method=bilinear ! capsfilter caps=video/x-raw,width=256,height=256"
                .to_string(),
        ] {
            let out = run(&launch, &caps, &small, 1);
            assert_eq!(out.len(), 1, "{launch}");
            let got = bytes(&out[0]);
            assert_eq!(got.len(), reference.len(), "{launch}: 256x256 out");
            scores.push(psnr(&got, &reference));
        }
        eprintln!(
            "{scale}x: neural {:.2} dB, spatial {:.2} dB, bilinear {:.2} dB",
            scores[0], scores[1], scores[2]
        );
        assert!(
            scores[0] > scores[1] && scores[1] > scores[2],
            "{scale}x: {scores:?}"
        );
    }
}

#[test]
fn batch_size_and_tiles_per_inference_change_no_byte_nor_the_order() {
    init();
    // 300x200: three by two tiles of 128, the last ones partial; five frames, so batches of 3
    // and 8 end part-full at EOS, and tiles of one inference come from several frames.
    let (frames, caps) = five_frames("RGBx", 300, 200);
    let reference = push_frames("upscale batch-size=1 tiles-per-inference=1", &caps, &frames);
    assert_eq!(reference.len(), 5);
    for launch in [
        "upscale batch-size=3 tiles-per-inference=8",
        "upscale batch-size=8 tiles-per-inference=64",
        "upscale batch-size=2",
    ] {
        let out = push_frames(launch, &caps, &frames);
        assert_eq!(out.len(), 5, "{launch}: every frame out");
        for (k, (a, b)) in out.iter().zip(&reference).enumerate() {
            assert_eq!(a.pts(), Some(gst::ClockTime::from_mseconds(40 * k as u64)));
            assert!(bytes(a) == bytes(b), "{launch}: frame {k} differs");
        }
    }
}

#[test]
fn the_tile_size_changes_the_tiles_not_the_picture() {
    init();
    let (frames, caps) = five_frames("RGBx", 300, 200);
    let reference = push_frames("upscale method=neural", &caps, &frames);
    // Tiles of 48 (many, partial ones at the ends), and one tile holding each frame.
    for launch in [
        "upscale method=neural tile-size=48",
        "upscale method=neural tile-size=320",
    ] {
        let out = push_frames(launch, &caps, &frames);
        assert_eq!(out.len(), 5, "{launch}: every frame out");
        for (k, (a, b)) in out.iter().zip(&reference).enumerate() {
            let most = bytes(a)
                .iter()
                .zip(bytes(b).iter())
                .map(|(x, y)| x.abs_diff(*y))
                .max();
            assert!(most <= Some(1), "{launch}: frame {k} off by {most:?}");
        }
    }
}

/// The half-precision copy a GPU provider loads takes and gives float16 (no casts at its
/// ends): run here on the CPU, it upscales as the float model does, within half precision's
/// rounding (measured: 65 dB, at most a level apart), on several tiles (48) and on one tile
/// per frame.
#[test]
fn the_half_precision_model_with_float16_at_its_ends_upscales_as_the_float_model() {
    init();
    let half = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/waifu2x-photo-x2-fp16.onnx"
    );
    assert!(
        std::path::Path::new(half).is_file(),
        "{half} missing: make models"
    );
    let (frames, caps) = five_frames("RGBx", 120, 80);
    let frames = &frames[..2];
    for tiles in ["tile-size=48", "tile-size=120"] {
        let float = push_frames(&format!("upscale method=neural {tiles}"), &caps, frames);
        let launch = format!("upscale method=neural {tiles} model-location={half}");
        let halves = push_frames(&launch, &caps, frames);
        assert_eq!(halves.len(), 2, "{launch}: every frame out");
        for (k, (a, b)) in halves.iter().zip(&float).enumerate() {
            let (a, b) = (bytes(a), bytes(b));
            let p = psnr(&a, &b);
            let most = a.iter().zip(b.iter()).map(|(x, y)| x.abs_diff(*y)).max();
            assert!(
                p > 55.0 && most <= Some(1),
                "{tiles} frame {k}: {p:.1} dB, off by {most:?} at most"
            );
        }
    }
}

/// The copies of the network that take and give whole I420 frames (what CUDA runs for I420
/// frames up to 1920 a side, leaving as I420 or I420_10LE: the conversions, margin and chroma
/// in their graphs) upscale as the tiled float network does, within half precision's
/// rounding: run here on the CPU, on frames whose rows are padded (118 wide: chroma rows of 59
/// in strides of 60), in batches of two with a partial one at the end (padded), under BT.601,
/// BT.709 and full range. Measured: 74-76 dB and at most a level apart in 8 bits, 73-80 dB
/// and at most one of the finer levels in 10. Caps a copy cannot take are an error saying
/// what it takes.
#[test]
fn the_whole_frame_networks_upscale_i420_as_the_tiled_network() {
    init();
    let model = |name: &str| {
        let path = format!("{}/../../models/{name}", env!("CARGO_MANIFEST_DIR"));
        assert!(
            std::path::Path::new(&path).is_file(),
            "{path} missing: make models"
        );
        path
    };
    let (frames, caps) = five_frames("I420", 118, 80);
    let frames = &frames[..3];
    // The model, what it gives, its top level, and how far apart a sample may be.
    let runs = [
        (
            "waifu2x-photo-x2-fp16-i420.onnx",
            gst_video::VideoFormat::I420,
            255.0,
            1,
        ),
        (
            "waifu2x-photo-x2-fp16-i420-10.onnx",
            gst_video::VideoFormat::I42010le,
            1020.0,
            2,
        ),
    ];
    for (name, format, top, apart) in runs {
        let out_info = gst_video::VideoInfo::builder(format, 236, 160)
            .build()
            .unwrap();
        let to = format!("capsfilter caps=video/x-raw,format={}", format.to_str());
        for colorimetry in ["bt601", "bt709", "1:4:0:0"] {
            let mut caps = caps.clone();
            caps.make_mut().set("colorimetry", colorimetry);
            let launch = format!("upscale method=neural tile-size=128 ! {to}");
            let tiled = push_frames(&launch, &caps, frames);
            let launch = format!(
                "upscale method=neural batch-size=2 model-location={} ! {to}",
                model(name)
            );
            let whole = push_frames(&launch, &caps, frames);
            assert_eq!(whole.len(), 3, "{launch}: every frame out");
            for (k, (a, b)) in whole.iter().zip(&tiled).enumerate() {
                assert_eq!(a.pts(), b.pts(), "frame {k}'s timestamp");
                let samples = |b: &gst::Buffer| -> Vec<u16> {
                    let bytes = visible(b, &out_info);
                    match format {
                        gst_video::VideoFormat::I420 => bytes.iter().map(|&v| v as u16).collect(),
                        _ => bytes
                            .chunks_exact(2)
                            .map(|c| u16::from_le_bytes([c[0], c[1]]))
                            .collect(),
                    }
                };
                let (a, b) = (samples(a), samples(b));
                let mse = a
                    .iter()
                    .zip(&b)
                    .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
                    .sum::<f64>()
                    / a.len() as f64;
                let p = 10.0 * (top * top / mse.max(1e-9)).log10();
                let most = a.iter().zip(&b).map(|(x, y)| x.abs_diff(*y)).max().unwrap();
                assert!(
                    p > 60.0 && most <= apart,
                    "{name} {colorimetry} frame {k}: {p:.1} dB, off by {most} at most"
                );
            }
        }
    }
    // RGB frames do not go through them, nor I420 into the other depth.
    let (rgb, rgb_caps) = astronaut("RGBx", 64, 48);
    let (i420, i420_caps) = astronaut("I420", 64, 48);
    let refused = [
        (model(runs[0].0), rgb_caps, rgb, "RGBx"),
        (model(runs[1].0), i420_caps, i420, "I420"),
    ];
    for (path, caps, frame, to) in refused {
        let mut h = Harness::new_parse(&format!(
            "upscale method=neural model-location={path} ! capsfilter caps=video/x-raw,format={to}"
        ));
        let bus = mediaai_testing::watch(&h.element().unwrap());
        h.set_src_caps(caps);
        h.play();
        assert!(
            h.push(gst::Buffer::from_slice(frame)).is_err(),
            "{path} refused"
        );
        let said = mediaai_testing::warnings(&bus);
        assert!(
            said.iter().any(|m| m.contains("takes whole I420 frames")),
            "{path}: {said:?}"
        );
    }
}

#[test]
fn the_gpu_spatial_path_upscales_as_the_cpu_path_does() {
    init();
    mediaai_testing::gpu();
    for (format, scale, (w, h)) in [
        ("RGBx", 2, (90, 60)),
        ("I420", 4, (90, 60)),
        ("RGB", 2, (90, 60)),
        ("I420", 2, (45, 31)),
        ("BGRA", 2, (33, 17)),
    ] {
        let (frames, caps) = five_frames(format, w, h);
        let base = format!("upscale method=spatial scale={scale} sharpness=0.5 batch-size=3");
        let cpu = push_frames(&format!("{base} backend=cpu"), &caps, &frames);
        let gpu = push_frames(&format!("{base} backend=gpu"), &caps, &frames);
        assert_eq!((cpu.len(), gpu.len()), (5, 5), "{format}");
        let info = gst_video::VideoInfo::from_caps(&caps).unwrap();
        let out_info = gst_video::VideoInfo::builder(info.format(), w * scale, h * scale)
            .build()
            .unwrap();
        for (k, (c, g)) in cpu.iter().zip(&gpu).enumerate() {
            let (c, g) = (visible(c, &out_info), visible(g, &out_info));
            let most = c.iter().zip(&g).map(|(a, b)| a.abs_diff(*b)).max();
            let equal = c.iter().zip(&g).filter(|(a, b)| a == b).count();
            eprintln!(
                "{format} {scale}x frame {k}: {:.4}% of bytes equal, at most {most:?} apart",
                100.0 * equal as f64 / c.len() as f64
            );
            let first = c.iter().zip(&g).position(|(a, b)| a.abs_diff(*b) > 1);
            assert!(
                most <= Some(1),
                "{format} frame {k}: GPU and CPU differ by {most:?}, first at byte {first:?} of {}",
                c.len()
            );
        }
    }
}

#[test]
fn latency_is_reported_for_the_batch_and_frames_wait_for_it() {
    init();
    // The spatial path on the CPU takes frames one by one: one frame of latency.
    for (batch, method, frames) in [
        (1u64, "neural", 1),
        (4, "neural", 7),
        (4, "spatial backend=cpu", 1),
    ] {
        // What the element adds to upstream's latency: the rest of a batch coming in, and the
        // batch upscaled (for the network: its duration, or a frame and the network's steady
        // run when that is longer).
        let pipeline = gst::parse::launch(&format!(
            "videotestsrc is-live=true ! video/x-raw,format=RGBx,width=32,height=24,framerate=25/1 ! upscale name=u method={method} batch-size={batch} ! fakesink"
        ))
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
        pipeline.set_state(gst::State::Playing).unwrap();
        let (ok, _, _) = pipeline.state(gst::ClockTime::from_seconds(10));
        assert!(ok.is_ok(), "batch {batch}: the pipeline plays");
        let u = pipeline.by_name("u").unwrap();
        let min = |pad: gst::Pad| {
            let mut q = gst::query::Latency::new();
            assert!(pad.query(&mut q), "latency query answered");
            q.result().1
        };
        let upstream = min(u.static_pad("sink").unwrap().peer().unwrap());
        let ours = min(u.static_pad("src").unwrap());
        pipeline.set_state(gst::State::Null).unwrap();
        let ours = ours - upstream;
        let frames = gst::ClockTime::from_mseconds(40 * frames);
        if method == "neural" && batch == 1 {
            // A frame and the network's steady run, measured when the caps came: more than
            // the frame alone.
            assert!(
                ours > frames && ours < frames + gst::ClockTime::from_seconds(1),
                "{method} batch {batch}: {ours}"
            );
        } else if method == "neural" {
            // The rest of the batch, then the batch's duration or a frame and the run, if
            // longer.
            assert!(
                ours >= frames && ours < frames + gst::ClockTime::from_seconds(1),
                "{method} batch {batch}: {ours}"
            );
        } else {
            assert_eq!(ours, frames, "{method} batch {batch}");
        }
    }
    // Three frames of a batch of four are held until EOS, then all come out.
    let (frames, caps) = five_frames("RGBx", 32, 24);
    let mut h = Harness::new_parse("upscale method=neural batch-size=4");
    h.set_src_caps(caps);
    h.play();
    for (k, data) in frames.iter().take(3).enumerate() {
        let mut b = gst::Buffer::from_slice(data.clone());
        b.get_mut()
            .unwrap()
            .set_pts(gst::ClockTime::from_mseconds(40 * k as u64));
        h.push(b).unwrap();
    }
    assert_eq!(std::iter::from_fn(|| h.try_pull()).count(), 0, "held");
    h.push_event(gst::event::Eos::new());
    assert_eq!(
        std::iter::from_fn(|| h.try_pull()).count(),
        3,
        "drained at EOS"
    );
}

#[test]
fn tiles_of_any_size_give_the_whole_frame_result() {
    use gstupscale::neural::Neural;
    use mediaai_common::inference;
    let (w, h) = (96, 72);
    let (rgbx, _) = astronaut("RGBx", w as u32, h as u32);
    let mut planar = vec![0f32; 3 * w * h];
    for (i, p) in rgbx.chunks_exact(4).enumerate() {
        for c in 0..3 {
            planar[c * w * h + i] = p[c] as f32 / 255.0;
        }
    }
    let model = inference::locate_model(None, "waifu2x-photo-x2.onnx").unwrap();
    let mut results = Vec::new();
    // One tile holding the frame, then tiles of 40 and 25 pixels (partial ones at the ends).
    for tile in [128, 40, 25] {
        let loaded = inference::load_model(&model, Default::default(), 0, false).unwrap();
        let model = std::sync::Arc::new(std::sync::Mutex::new(loaded));
        let mut n = Neural::new(model, 8, tile, 4, 1, w, h, 2);
        let mut out = [vec![0f32; 12 * w * h]];
        n.run(&[&planar], w, h, 2, &mut out).unwrap();
        let [out] = out;
        results.push(out);
    }
    for (tile, r) in [40, 25].iter().zip(&results[1..]) {
        let most = r
            .iter()
            .zip(&results[0])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            most < 1e-4,
            "tiles of {tile}: {most} from the whole frame's result"
        );
    }
}

#[test]
fn timestamps_order_and_formats_are_kept() {
    init();
    for format in ["I420", "BGRx", "RGB"] {
        let (small, caps) = astronaut(format, 64, 48);
        let out = run("upscale", &caps, &small, 5);
        assert_eq!(out.len(), 5, "{format}");
        for (k, b) in out.iter().enumerate() {
            assert_eq!(b.pts(), Some(gst::ClockTime::from_mseconds(40 * k as u64)));
            assert_eq!(b.duration(), Some(gst::ClockTime::from_mseconds(40)));
        }
        let info = gst_video::VideoInfo::from_caps(&caps).unwrap();
        let out_info = gst_video::VideoInfo::builder(info.format(), 128, 96)
            .build()
            .unwrap();
        assert_eq!(out[0].size(), out_info.size(), "{format}: 2x frames");
    }
}

#[test]
fn a_missing_model_is_an_error_for_neural_and_a_fallback_for_auto() {
    init();
    let (small, caps) = astronaut("RGBx", 32, 32);
    let frames = vec![small.clone(); 2];
    let (auto, warned) = mediaai_testing::push_frames_warned(
        "upscale model-location=/nonexistent.onnx",
        &caps,
        &frames,
    );
    assert!(
        warned.len() == 1 && warned[0].contains("/nonexistent.onnx"),
        "auto says once which model is missing: {warned:?}"
    );
    let spatial = push_frames("upscale method=spatial", &caps, &frames);
    assert_eq!(auto.len(), 2);
    for (a, s) in auto.iter().zip(&spatial) {
        assert_eq!(a.size(), 64 * 64 * 4, "upscaled");
        let (a, s) = (a.map_readable().unwrap(), s.map_readable().unwrap());
        assert!(
            a.as_slice() == s.as_slice(),
            "auto without its model is the spatial path"
        );
    }
    let mut h = Harness::new_parse("upscale method=neural model-location=/nonexistent.onnx");
    h.set_src_caps(caps.clone());
    h.play();
    assert!(
        h.push(gst::Buffer::from_slice(small)).is_err(),
        "neural without a model"
    );
}

#[test]
fn the_gpu_engine_gives_the_same_bytes_for_a_batch_as_frame_by_frame() {
    use gstupscale::gpu::GpuSpatial;
    use mediaai_common::sampler::YuvMatrix;
    mediaai_testing::gpu();
    let (frames, _) = five_frames("I420", 46, 30);
    let matrix = YuvMatrix::new(0.299, 0.114, false);
    let (w, h) = (46usize, 30usize);
    let ch = h / 2;
    // The frames as GStreamer lays out I420 of 46x30: rows padded to 4 bytes.
    let planes = |f: &[u8]| -> Vec<(Vec<u8>, usize)> {
        let (ys, cs) = (48, 24);
        let y = f[..ys * h].to_vec();
        let u = f[ys * h..ys * h + cs * ch].to_vec();
        let v = f[ys * h + cs * ch..][..cs * ch].to_vec();
        vec![(y, ys), (u, cs), (v, cs)]
    };
    let run = |batch: usize| -> Vec<Vec<u8>> {
        let gpu =
            GpuSpatial::new(w, h, 2, 0.3, batch, gst_video::VideoFormat::I420, matrix).unwrap();
        let mut out = Vec::new();
        for chunk in frames.chunks(batch) {
            for (k, f) in chunk.iter().enumerate() {
                let p = planes(f);
                let refs: Vec<(&[u8], usize)> = p.iter().map(|(d, s)| (&d[..], *s)).collect();
                gpu.upload(k, &refs).unwrap();
            }
            gpu.run(chunk.len(), |_, bytes| out.push(bytes.to_vec()))
                .unwrap();
        }
        out
    };
    let single = run(1);
    assert_eq!(single.len(), 5);
    for batch in [2, 3, 5] {
        assert!(
            run(batch) == single,
            "batches of {batch} differ from single frames"
        );
    }
}

#[test]
fn the_spatial_shader_is_valid_wgsl() {
    mediaai_testing::validate_wgsl(&format!(
        "{}\n{}",
        mediaai_common::planes::WGSL,
        include_str!("../../../shaders/upscale_spatial.wgsl")
    ));
}

#[test]
fn the_gpu_path_makes_no_gpu_objects_per_frame() {
    init();
    mediaai_testing::gpu();
    let (frames, caps) = five_frames("RGBx", 40, 30);
    let mut h = Harness::new_parse("upscale method=spatial backend=gpu");
    h.set_src_caps(caps);
    h.play();
    let mut push = |k: usize| {
        let mut b = gst::Buffer::from_slice(frames[k].clone());
        b.get_mut()
            .unwrap()
            .set_pts(gst::ClockTime::from_mseconds(40 * k as u64));
        h.push(b).unwrap();
        h.pull().unwrap();
    };
    push(0);
    let before = mediaai_common::gpu::objects_created();
    for k in 1..5 {
        push(k);
    }
    assert_eq!(mediaai_common::gpu::objects_created(), before);
}

/// I420 in, 10-bit out when downstream asks for it (I420_10LE or P010_10LE): the same picture
/// as the 8-bit output at four times the levels (each 10-bit sample within two of four times
/// the 8-bit one, which rounded it), P010 holding the same words in its top bits with Cb and
/// Cr interleaved; and the network's finer levels kept (not every 10-bit sample a multiple of
/// four). Without a 10-bit request the output stays I420.
#[test]
fn ten_bit_output_when_downstream_asks() {
    init();
    let (small, caps) = astronaut("I420", 64, 48);
    for method in ["neural", "spatial"] {
        let launch = |format: &str| {
            format!("upscale method={method} ! capsfilter caps=video/x-raw,format={format}")
        };
        let eight = run(&launch("I420"), &caps, &small, 1);
        let ten = run(&launch("I420_10LE"), &caps, &small, 1);
        let p010 = run(&launch("P010_10LE"), &caps, &small, 1);
        let (w, h) = (128usize, 96usize);
        let info = |f| {
            gst_video::VideoInfo::builder(f, w as u32, h as u32)
                .build()
                .unwrap()
        };
        let planes8 = visible(&eight[0], &info(gst_video::VideoFormat::I420));
        let words = |b: Vec<u8>| -> Vec<u16> {
            b.chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect()
        };
        let planes10 = words(visible(&ten[0], &info(gst_video::VideoFormat::I42010le)));
        assert_eq!(planes10.len(), planes8.len(), "{method}: I420_10LE size");
        let worst = planes8
            .iter()
            .zip(&planes10)
            .map(|(&a, &b)| (4 * a as i32 - b as i32).abs())
            .max()
            .unwrap();
        assert!(worst <= 2, "{method}: 10-bit off 4x the 8-bit by {worst}");
        let finer = planes10.iter().filter(|&&v| v % 4 != 0).count();
        assert!(
            finer > planes10.len() / 4,
            "{method}: {finer} of {} samples between 8-bit levels",
            planes10.len()
        );
        // P010: Y, then Cb Cr pairs; the same samples shifted into the top bits.
        let p = words(visible(&p010[0], &info(gst_video::VideoFormat::P01010le)));
        let (luma, chroma) = (w * h, w * h / 4);
        assert!(
            p.iter().all(|v| v & 0x3f == 0),
            "{method}: P010 low bits clear"
        );
        assert_eq!(
            p[..luma].iter().map(|v| v >> 6).collect::<Vec<_>>(),
            planes10[..luma],
            "{method}: P010 luma"
        );
        for i in 0..chroma {
            assert_eq!(
                p[luma + 2 * i] >> 6,
                planes10[luma + i],
                "{method}: P010 Cb {i}"
            );
            assert_eq!(
                p[luma + 2 * i + 1] >> 6,
                planes10[luma + chroma + i],
                "{method}: P010 Cr {i}"
            );
        }
    }
}
