//! gpublur on real photographs, on the real GPU path (lavapipe in CI) and the CPU path.

use gst::prelude::*;
use gst_check::Harness;
use gst_video::VideoRegionOfInterestMeta;
use mediaai_testing::{load_frame, media, psnr, run_to_end};

/// The astronaut's face as a detector marks it.
const FACE: (u32, u32, u32, u32) = (182, 58, 88, 120);

fn init() {
    gst::init().unwrap();
    gstgpublur::plugin_register_static().expect("plugin registers");
}

struct Frame {
    caps: gst::Caps,
    buffer: gst::Buffer,
    width: usize,
    height: usize,
}

fn astronaut(format: &str, size: Option<(u32, u32)>, faces: &[(u32, u32, u32, u32)]) -> Frame {
    let sample = load_frame(&media("astronaut.png"), format, size);
    let caps = sample.caps().unwrap().to_owned();
    let info = gst_video::VideoInfo::from_caps(&caps).unwrap();
    let mut buffer = sample.buffer().unwrap().copy_deep().unwrap();
    {
        let b = buffer.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_mseconds(40));
        for f in faces {
            VideoRegionOfInterestMeta::add(b, "face", *f);
        }
    }
    Frame {
        caps,
        buffer,
        width: info.width() as usize,
        height: info.height() as usize,
    }
}

fn blur(frame: &Frame, props: &[(&str, &str)]) -> Vec<u8> {
    init();
    let mut h = Harness::new("gpublur");
    let element = h.element().unwrap();
    for (k, v) in props {
        element.set_property_from_str(k, v);
    }
    // A GPU path that failed falls back to the CPU with a warning: none may come, or a
    // comparison of the two backends compares the CPU with itself.
    let bus = mediaai_testing::watch(&element);
    h.set_src_caps(frame.caps.clone());
    h.play();
    // On the GPU one frame stays in flight (pipelined): EOS sends it out.
    h.push(frame.buffer.clone()).expect("buffer accepted");
    h.push_event(gst::event::Eos::new());
    let out = h.pull().expect("a buffer comes out");
    assert_eq!(out.pts(), frame.buffer.pts(), "timestamps untouched");
    assert_eq!(
        out.iter_meta::<VideoRegionOfInterestMeta>().count(),
        frame
            .buffer
            .iter_meta::<VideoRegionOfInterestMeta>()
            .count(),
        "metas pass through"
    );
    let data = out.map_readable().unwrap().to_vec();
    let warned = mediaai_testing::warnings(&bus);
    assert!(warned.is_empty(), "{props:?}: {warned:?}");
    data
}

fn pixels(frame: &Frame) -> Vec<u8> {
    frame.buffer.map_readable().unwrap().to_vec()
}

/// Sum of squared horizontal neighbour differences of channel 0 over a box.
fn high_frequency(data: &[u8], width: usize, (x, y, w, h): (usize, usize, usize, usize)) -> f64 {
    let mut e = 0.0;
    for yy in y..y + h {
        for xx in x..x + w - 1 {
            let a = data[(yy * width + xx) * 4] as f64;
            let b = data[(yy * width + xx + 1) * 4] as f64;
            e += (a - b) * (a - b);
        }
    }
    e
}

fn max_difference(a: &[u8], b: &[u8]) -> u8 {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0)
}

/// Whether pixel (x, y) is inside the default mask: the ellipse of the box scaled by 1.3.
fn in_default_mask(x: usize, y: usize) -> bool {
    let (fx, fy, fw, fh) = (FACE.0 as f32, FACE.1 as f32, FACE.2 as f32, FACE.3 as f32);
    let (cx, cy) = (fx + fw / 2.0, fy + fh / 2.0);
    let (rx, ry) = (fw * 1.3 / 2.0, fh * 1.3 / 2.0);
    let dx = (x as f32 + 0.5 - cx) / rx;
    let dy = (y as f32 + 0.5 - cy) / ry;
    dx * dx + dy * dy <= 1.0
}

#[test]
fn outside_the_mask_nothing_changes_and_inside_detail_is_gone() {
    let frame = astronaut("RGBA", None, &[FACE]);
    let before = pixels(&frame);
    for backend in ["gpu", "cpu"] {
        let after = blur(&frame, &[("backend", backend)]);
        let mut changed_inside = 0;
        for y in 0..frame.height {
            for x in 0..frame.width {
                let i = (y * frame.width + x) * 4;
                if in_default_mask(x, y) {
                    changed_inside += (before[i..i + 4] != after[i..i + 4]) as usize;
                } else if !in_default_mask(x.saturating_sub(1), y) && !in_default_mask(x + 1, y) {
                    // Pixels on the ellipse's rounding edge may go either way; all others
                    // outside must be bit-identical.
                    assert_eq!(
                        before[i..i + 4],
                        after[i..i + 4],
                        "{backend}: ({x},{y}) outside the mask changed"
                    );
                }
            }
        }
        assert!(
            changed_inside > 5000,
            "{backend}: only {changed_inside} pixels blurred"
        );
        // The face box itself (inside the ellipse's inner rectangle) loses ≥ 90% of its detail.
        let inner = (200, 80, 52, 76);
        let (e0, e1) = (
            high_frequency(&before, frame.width, inner),
            high_frequency(&after, frame.width, inner),
        );
        assert!(
            e1 <= 0.1 * e0,
            "{backend}: high-frequency energy {e1} vs {e0}"
        );
    }
}

#[test]
fn gpu_and_cpu_agree_within_two_levels() {
    // Overlapping regions: the second and third overlap, so pixels are covered twice.
    let frame = astronaut(
        "BGRx",
        None,
        &[FACE, (300, 300, 150, 90), (320, 320, 40, 40)],
    );
    for (mode, pyramid) in [
        ("gaussian", "false"),
        ("gaussian", "true"),
        ("mosaic", "true"),
        ("solid", "true"),
    ] {
        for shape in ["ellipse", "box"] {
            for feather in ["0", "8"] {
                let props = |backend| {
                    [
                        ("backend", backend),
                        ("mode", mode),
                        ("pyramid", pyramid),
                        ("shape", shape),
                        ("strength", "9"),
                        ("feather", feather),
                    ]
                };
                let gpu = blur(&frame, &props("gpu"));
                let cpu = blur(&frame, &props("cpu"));
                let d = max_difference(&gpu, &cpu);
                let case = format!("{mode}/pyramid {pyramid}/{shape}/feather {feather}");
                assert!(d <= 2, "{case}: GPU and CPU differ by {d}");
                assert_ne!(gpu, pixels(&frame), "{case} changed nothing");
            }
        }
    }
}

#[test]
fn feather_fades_the_edge_and_keeps_the_centre() {
    let frame = astronaut("RGBA", None, &[FACE]);
    let before = pixels(&frame);
    let hard = blur(&frame, &[("mode", "solid"), ("shape", "box")]);
    let soft = blur(
        &frame,
        &[("mode", "solid"), ("shape", "box"), ("feather", "10")],
    );
    let at = |d: &[u8], x: usize, y: usize| d[(y * frame.width + x) * 4];
    // The box scaled by 1.3 spans x 168..284 around the face; its centre is black either way.
    let (cx, cy) = (226, 118);
    assert_eq!(at(&soft, cx, cy), 0);
    assert_eq!(at(&hard, cx, cy), 0);
    // Half a pixel inside the left edge the fill has 5% weight: close to the picture.
    let x_edge = 168;
    let original = at(&before, x_edge, cy) as i32;
    assert_eq!(at(&hard, x_edge, cy), 0);
    assert!(
        (at(&soft, x_edge, cy) as i32 - original * 95 / 100).abs() <= 2,
        "{} vs {original}",
        at(&soft, x_edge, cy)
    );
}

#[test]
fn solid_fill_keeps_alpha() {
    let frame = astronaut("ARGB", None, &[FACE]);
    let out = blur(&frame, &[("mode", "solid"), ("shape", "box")]);
    let (cx, cy) = (
        (FACE.0 + FACE.2 / 2) as usize,
        (FACE.1 + FACE.3 / 2) as usize,
    );
    let i = (cy * frame.width + cx) * 4;
    assert_eq!(out[i..i + 4], [255, 0, 0, 0]);
}

#[test]
fn whole_frame_mode_works_on_odd_sizes() {
    let frame = astronaut("RGBA", Some((641, 479)), &[]);
    let before = pixels(&frame);
    let gpu = blur(
        &frame,
        &[("region", "frame"), ("backend", "gpu"), ("strength", "6")],
    );
    let cpu = blur(
        &frame,
        &[("region", "frame"), ("backend", "cpu"), ("strength", "6")],
    );
    assert!(max_difference(&gpu, &cpu) <= 2);
    let all = (0, 0, frame.width, frame.height);
    let (e0, e1) = (
        high_frequency(&before, frame.width, all),
        high_frequency(&gpu, frame.width, all),
    );
    assert!(e1 <= 0.1 * e0, "{e1} vs {e0}");
}

#[test]
fn zero_strength_leaves_the_frame_unchanged() {
    let frame = astronaut("RGBA", None, &[FACE]);
    for mode in ["gaussian", "mosaic"] {
        assert_eq!(
            blur(&frame, &[("strength", "0"), ("mode", mode)]),
            pixels(&frame),
            "{mode}"
        );
    }
}

#[test]
fn roi_types_select_what_is_blurred() {
    let frame = astronaut("RGBA", None, &[FACE]);
    assert_eq!(blur(&frame, &[("roi-types", "person")]), pixels(&frame));
    assert_ne!(
        blur(&frame, &[("roi-types", "person, face")]),
        pixels(&frame)
    );
    assert_ne!(blur(&frame, &[("roi-types", "*")]), pixels(&frame));
}

#[test]
fn boxes_partly_outside_the_frame_are_clamped() {
    let frame = astronaut("RGBA", None, &[(480, 480, 200, 200), (0, 0, 0, 0)]);
    let gpu = blur(&frame, &[("backend", "gpu")]);
    let cpu = blur(&frame, &[("backend", "cpu")]);
    assert!(max_difference(&gpu, &cpu) <= 2);
}

#[test]
fn one_pixel_and_tiny_frames_are_handled() {
    init();
    for size in ["width=1,height=1", "width=3,height=2"] {
        for backend in ["gpu", "cpu"] {
            let desc = format!(
                "videotestsrc num-buffers=2 ! video/x-raw,format=RGBA,{size} ! gpublur region=frame backend={backend} ! fakesink"
            );
            let (p, _) = run_to_end(&desc).unwrap_or_else(|e| panic!("{size} {backend}: {e}"));
            p.set_state(gst::State::Null).unwrap();
        }
    }
}

#[test]
fn non_video_caps_are_refused() {
    init();
    assert!(run_to_end("audiotestsrc num-buffers=1 ! gpublur ! fakesink").is_err());
    assert!(run_to_end(
        "videotestsrc num-buffers=1 ! video/x-raw,format=Y444 ! gpublur ! fakesink"
    )
    .is_err());
}

#[test]
fn every_wgsl_file_compiles_and_validates_with_naga() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shaders");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        // This plugin's passes; other plugins validate their own shaders.
        if !name.starts_with("gpublur_")
            || !name.ends_with(".wgsl")
            || name.ends_with("_common.wgsl")
        {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let full = gstgpublur::gpu::pass_source(&source);
        eprintln!("validating {name}");
        mediaai_testing::validate_wgsl(&full);
        checked += 1;
    }
    assert_eq!(checked, gstgpublur::gpu::PASSES.len());
}

#[test]
fn lookahead_hides_a_face_found_late_and_drains_at_eos() {
    init();
    let plain = astronaut("RGBA", None, &[]);
    let marked = astronaut("RGBA", None, &[FACE]);
    let original = pixels(&plain);
    let mut caps = plain.caps.clone();
    caps.make_mut().set("framerate", gst::Fraction::new(25, 1));
    let mut h = Harness::new("gpublur");
    h.element().unwrap().set_property("lookahead", 2u32);
    h.set_src_caps(caps);
    h.play();
    assert_eq!(
        h.query_latency(),
        Some(gst::ClockTime::from_mseconds(80)),
        "two frames at 25 fps"
    );
    // Only frame 3 carries the face; with a window of ±2 frames 1..=5 must be blurred.
    for i in 0..7u64 {
        let mut b = if i == 3 {
            marked.buffer.copy()
        } else {
            plain.buffer.copy()
        };
        b.get_mut()
            .unwrap()
            .set_pts(gst::ClockTime::from_mseconds(40 * i));
        h.push(b).unwrap();
    }
    h.push_event(gst::event::Eos::new());
    for i in 0..7u64 {
        let out = h.pull().expect("every frame comes out");
        assert_eq!(
            out.pts(),
            Some(gst::ClockTime::from_mseconds(40 * i)),
            "order and timestamps"
        );
        let blurred = out.map_readable().unwrap().as_slice() != original.as_slice();
        assert_eq!(blurred, (1..=5).contains(&i), "frame {i}");
    }
    assert!(h.try_pull().is_none(), "no frame duplicated");
}

#[test]
fn pyramid_stays_close_to_the_direct_blur_and_agrees_across_backends() {
    let frame = astronaut("RGBA", None, &[FACE, (300, 300, 150, 90)]);
    for strength in ["4", "8", "12", "24", "60"] {
        for region in ["frame", "roi"] {
            let props = |backend, pyramid| {
                [
                    ("backend", backend),
                    ("strength", strength),
                    ("region", region),
                    ("pyramid", pyramid),
                    ("shape", "box"),
                ]
            };
            let direct = blur(&frame, &props("cpu", "false"));
            let cpu = blur(&frame, &props("cpu", "true"));
            let gpu = blur(&frame, &props("gpu", "true"));
            let d = max_difference(&gpu, &cpu);
            assert!(
                d <= 2,
                "strength {strength} {region}: GPU and CPU pyramids differ by {d}"
            );
            let p = psnr(&direct, &cpu);
            eprintln!("strength {strength} {region}: pyramid vs direct PSNR {p:.1} dB");
            assert!(
                p >= 35.0,
                "strength {strength} {region}: pyramid vs direct PSNR {p:.1} dB"
            );
        }
    }
}

#[test]
fn bokeh_blurs_with_small_and_large_discs_alike_on_gpu_and_cpu() {
    let frame = astronaut("RGBA", None, &[FACE]);
    let before = pixels(&frame);
    let all = (0, 0, frame.width, frame.height);
    for strength in ["3", "40"] {
        let props = |backend| {
            [
                ("backend", backend),
                ("mode", "bokeh"),
                ("region", "frame"),
                ("strength", strength),
            ]
        };
        let gpu = blur(&frame, &props("gpu"));
        let cpu = blur(&frame, &props("cpu"));
        let d = max_difference(&gpu, &cpu);
        assert!(d <= 2, "bokeh {strength}: GPU and CPU differ by {d}");
        let (e0, e1) = (
            high_frequency(&before, frame.width, all),
            high_frequency(&gpu, frame.width, all),
        );
        assert!(
            e1 <= 0.3 * e0,
            "bokeh {strength}: high-frequency energy {e1} vs {e0}"
        );
    }
}

/// Byte offset of luma (x, y) and of the chroma samples of its 2×2 block.
fn yuv_offsets(info: &gst_video::VideoInfo, x: usize, y: usize) -> (usize, [usize; 2]) {
    let (off, st) = (info.offset(), info.stride());
    let luma = off[0] + y * st[0] as usize + x;
    let (cx, cy) = (x / 2, y / 2);
    let chroma = match info.format() {
        gst_video::VideoFormat::Nv12 => {
            let o = off[1] + cy * st[1] as usize + 2 * cx;
            [o, o + 1]
        }
        _ => [
            off[1] + cy * st[1] as usize + cx,
            off[2] + cy * st[2] as usize + cx,
        ],
    };
    (luma, chroma)
}

#[test]
fn yuv_frames_blur_on_the_gpu_like_the_cpu_and_nothing_outside_changes() {
    for format in ["I420", "NV12", "YV12"] {
        for size in [None, Some((641, 479))] {
            let (sx, sy) = size.map_or((1.0, 1.0), |(w, h)| (w as f32 / 512.0, h as f32 / 512.0));
            let face = (
                (FACE.0 as f32 * sx) as u32,
                (FACE.1 as f32 * sy) as u32,
                (FACE.2 as f32 * sx) as u32,
                (FACE.3 as f32 * sy) as u32,
            );
            let frame = astronaut(format, size, &[face, (20, 21, 9, 7)]);
            let info = gst_video::VideoInfo::from_caps(&frame.caps).unwrap();
            let before = pixels(&frame);
            let case = format!("{format} {}x{}", frame.width, frame.height);
            for mode in ["gaussian", "mosaic", "solid"] {
                let props = |backend| [("backend", backend), ("mode", mode), ("shape", "box")];
                let gpu = blur(&frame, &props("gpu"));
                let cpu = blur(&frame, &props("cpu"));
                let d = max_difference(&gpu, &cpu);
                assert!(d <= 2, "{case} {mode}: GPU and CPU differ by {d}");
                // Boxes scaled by mask-scale 1.3 about their centres, widened by a pixel.
                let near = |x: usize, y: usize| {
                    [face, (20, 21, 9, 7)].iter().any(|&(fx, fy, fw, fh)| {
                        let (cx, cy) = (fx as f32 + fw as f32 / 2.0, fy as f32 + fh as f32 / 2.0);
                        (x as f32 + 0.5 - cx).abs() <= fw as f32 * 0.65 + 2.0
                            && (y as f32 + 0.5 - cy).abs() <= fh as f32 * 0.65 + 2.0
                    })
                };
                for out in [&gpu, &cpu] {
                    let mut changed = 0;
                    for y in 0..frame.height {
                        for x in 0..frame.width {
                            let (l, c) = yuv_offsets(&info, x, y);
                            if near(x, y) {
                                changed += (out[l] != before[l]) as usize;
                            } else {
                                assert_eq!(out[l], before[l], "{case} {mode}: luma ({x},{y})");
                                if x % 2 == 0 && y % 2 == 0 {
                                    assert_eq!(
                                        [out[c[0]], out[c[1]]],
                                        [before[c[0]], before[c[1]]],
                                        "{case} {mode}: chroma of ({x},{y})"
                                    );
                                }
                            }
                        }
                    }
                    assert!(
                        changed > 3000,
                        "{case} {mode}: {changed} luma bytes changed"
                    );
                }
                if mode == "solid" {
                    let (l, c) = yuv_offsets(
                        &info,
                        (face.0 + face.2 / 2) as usize,
                        (face.1 + face.3 / 2) as usize & !1,
                    );
                    assert_eq!(
                        [gpu[l], gpu[c[0]], gpu[c[1]]],
                        [16, 128, 128],
                        "{case}: YUV black"
                    );
                }
            }
        }
    }
}
