//! upscale on a real photograph: the astronaut portrait taken down by the scale and brought
//! back by the network, by the spatial path and by videoscale's bilinear; the network must
//! come closest to the original, the spatial path next.

use gst_check::Harness;
use mediaai_common::testing::{load_frame, media, psnr};

fn init() {
    gst::init().unwrap();
    gstupscale::plugin_register_static().expect("plugin registers");
}

/// The astronaut as one `format` frame of `w`x`h`, and its caps.
fn astronaut(format: &str, w: u32, h: u32) -> (Vec<u8>, gst::Caps) {
    let sample = load_frame(&media("astronaut.png"), format, Some((w, h)));
    let data = sample.buffer().unwrap().map_readable().unwrap().to_vec();
    let mut caps = sample.caps().unwrap().to_owned();
    caps.make_mut().set("framerate", gst::Fraction::new(25, 1));
    (data, caps)
}

/// Pushes `frames` copies of `data` (40 ms apart) through `launch`; the output buffers.
fn run(launch: &str, caps: &gst::Caps, data: &[u8], frames: u64) -> Vec<gst::Buffer> {
    let mut h = Harness::new_parse(launch);
    h.set_src_caps(caps.clone());
    h.play();
    for k in 0..frames {
        let mut b = gst::Buffer::from_slice(data.to_vec());
        let b_ = b.get_mut().unwrap();
        b_.set_pts(gst::ClockTime::from_mseconds(40 * k));
        b_.set_duration(gst::ClockTime::from_mseconds(40));
        h.push(b).unwrap();
    }
    h.push_event(gst::event::Eos::new());
    std::iter::from_fn(|| h.try_pull()).collect()
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

fn bytes(b: &gst::Buffer) -> Vec<u8> {
    b.map_readable().unwrap().to_vec()
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
fn batching_tiles_changes_nothing() {
    init();
    // 300x200: three by two tiles of 128, the last ones partial.
    let (small, caps) = astronaut("RGBx", 300, 200);
    let one = run("upscale batch-size=1", &caps, &small, 1);
    let eight = run("upscale batch-size=8", &caps, &small, 1);
    assert_eq!(bytes(&one[0]), bytes(&eight[0]));
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
        let session = inference::load_model(&model, Default::default(), 0)
            .unwrap()
            .session;
        let mut n = Neural::new(session, 8, tile, 4, w, h, 2);
        let mut out = vec![0f32; 12 * w * h];
        n.run(&planar, w, h, 2, &mut out).unwrap();
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
    let out = run("upscale model-location=/nonexistent.onnx", &caps, &small, 1);
    assert_eq!(out.len(), 1, "auto falls back to the spatial path");
    let mut h = Harness::new_parse("upscale method=neural model-location=/nonexistent.onnx");
    h.set_src_caps(caps.clone());
    h.play();
    assert!(
        h.push(gst::Buffer::from_slice(small)).is_err(),
        "neural without a model"
    );
}
