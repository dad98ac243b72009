//! qcfingerprint against FFmpeg's blackdetect and freezedetect on the same clip made from a
//! real photograph: 1 s of the astronaut panning, 3 s of noisy black, 3 s of one still frame,
//! 1 s panning again. Both must find the same black and frozen runs within one frame, and
//! the per-frame luma means must agree with signalstats YAVG within 0.5.

use gst::prelude::*;
use std::process::Command;

use mediaai_testing::{load_frame, media, run_to_end, watch};

mod common;

const W: usize = 320;
const H: usize = 240;
const FPS: usize = 25;
const FRAME: f64 = 1.0 / FPS as f64;

/// A photograph at twice the clip's width, as I420.
fn wide_picture(name: &str) -> Vec<u8> {
    gst::init().unwrap();
    let sample = load_frame(&media(name), "I420", Some((2 * W as u32, H as u32)));
    let data = sample.buffer().unwrap().map_readable().unwrap().to_vec();
    data
}

/// The frame at horizontal offset `dx` (even, at most `W`) of a double-width I420 picture.
fn window(wide: &[u8], dx: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(W * H * 3 / 2);
    for y in 0..H {
        f.extend_from_slice(&wide[y * 2 * W + dx..y * 2 * W + dx + W]);
    }
    let (yw, cw, ch) = (2 * W * H, W, H / 2);
    for p in 0..2 {
        let base = yw + p * cw * ch;
        for y in 0..ch {
            let row = base + y * cw + dx / 2;
            f.extend_from_slice(&wide[row..row + W / 2]);
        }
    }
    f
}

/// The clip as raw I420 frames.
fn clip() -> Vec<u8> {
    let wide = wide_picture("astronaut.png");
    let window = |dx: usize| window(&wide, dx);
    let mut seed = 1u32;
    let mut out = Vec::new();
    for k in 0..8 * FPS {
        let t = k / FPS;
        let frame = match t {
            0 | 7 => window(4 * k % W),
            1..=3 => {
                let mut f = vec![128u8; W * H * 3 / 2];
                for v in &mut f[..W * H] {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    *v = 16 + (seed >> 29) as u8;
                }
                f
            }
            _ => window(100),
        };
        out.extend_from_slice(&frame);
    }
    out
}

/// `key:value` pairs FFmpeg prints, in order.
fn ffmpeg_values(text: &str, key: &str) -> Vec<f64> {
    text.split(key)
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

/// (kind, start, end) of the report's events.
fn report_events(report: &str) -> Vec<(String, f64, f64)> {
    report
        .lines()
        .filter(|l| l.contains("\"event\""))
        .map(|l| {
            let field = |name: &str| {
                let at = l.find(&format!("\"{name}\":")).unwrap() + name.len() + 3;
                l[at..]
                    .split([',', '}'])
                    .next()
                    .unwrap()
                    .trim_matches('"')
                    .to_string()
            };
            (
                field("event"),
                field("start").parse().unwrap(),
                field("end").parse().unwrap(),
            )
        })
        .collect()
}

/// The GPU path measures a frame while the CPU accounts the one before; its report (every
/// frame's statistics and fingerprint, the black and freeze events, whose reference moves as
/// the picture moves) is the CPU path's, byte for byte.
#[test]
fn the_gpu_path_one_frame_behind_writes_the_cpu_report() {
    mediaai_testing::gpu();
    let dir = std::env::temp_dir().join(format!("qc-gpu-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let raw = dir.join("clip.yuv");
    std::fs::write(&raw, clip()).unwrap();
    let report = |backend: &str| {
        let path = dir.join(format!("{backend}.json"));
        gstqc::plugin_register_static().expect("plugin registers");
        let launch = format!(
            "filesrc location={} blocksize={} ! rawvideoparse format=i420 width={W} height={H} \
             framerate={FPS}/1 ! qcfingerprint backend={backend} freeze-min-duration=0.5 \
             black-min-duration=0.5 report-location={} ! fakesink",
            raw.display(),
            W * H * 3 / 2,
            path.display()
        );
        let (pipeline, _, warned) =
            mediaai_testing::run_to_end_warned(&launch).unwrap_or_else(|e| panic!("{launch}: {e}"));
        pipeline.set_state(gst::State::Null).unwrap();
        // A GPU path that failed goes on on the CPU with a warning: then the reports would
        // both be the CPU's.
        assert!(warned.is_empty(), "{backend}: {warned:?}");
        std::fs::read_to_string(&path).unwrap()
    };
    let (cpu, gpu) = (report("cpu"), report("gpu"));
    std::fs::remove_dir_all(&dir).ok();
    let events = report_events(&cpu);
    assert!(
        events.iter().any(|e| e.0 == "freeze") && events.iter().any(|e| e.0 == "black"),
        "the clip has black and frozen runs: {events:?}"
    );
    assert_eq!(
        cpu.lines().filter(|l| l.contains("\"fp\"")).count(),
        8 * FPS,
        "every frame reported"
    );
    assert!(cpu == gpu, "the GPU report is the CPU report");
}

#[test]
fn black_freeze_and_luma_mean_agree_with_ffmpeg() {
    let dir = std::env::temp_dir().join(format!("qc-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let raw = dir.join("clip.yuv");
    std::fs::write(&raw, clip()).unwrap();
    let report = dir.join("report.json");

    let messages = run(&format!(
        "filesrc location={} blocksize={} ! rawvideoparse format=i420 width={W} height={H} \
         framerate={FPS}/1 ! qcfingerprint report-location={} ! fakesink",
        raw.display(),
        W * H * 3 / 2,
        report.display()
    ))
    .iter()
    .filter(|s| s.name() == "qcfingerprint")
    .count();
    assert!(messages >= 7, "a message a second, got {messages}");
    let report_text = std::fs::read_to_string(&report).unwrap();
    let ours = report_events(&report_text);
    let our_means: Vec<f64> = report_text
        .lines()
        .filter_map(|l| {
            l.split("\"mean\":[")
                .nth(1)?
                .split(',')
                .next()?
                .parse()
                .ok()
        })
        .collect();

    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-s",
        ])
        .arg(format!("{W}x{H}"))
        .args(["-r", &FPS.to_string(), "-i"])
        .arg(&raw)
        .args([
            "-vf",
            "signalstats,blackdetect=d=2,freezedetect=d=2,metadata=mode=print",
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    let text = String::from_utf8_lossy(&out.stderr);
    let black = (
        ffmpeg_values(&text, "black_start:"),
        ffmpeg_values(&text, "black_end:"),
    );
    let freeze = (
        ffmpeg_values(&text, "lavfi.freezedetect.freeze_start="),
        ffmpeg_values(&text, "lavfi.freezedetect.freeze_end="),
    );
    let yavg = ffmpeg_values(&text, "lavfi.signalstats.YAVG=");
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(our_means.len(), 8 * FPS, "a report entry per frame");
    assert_eq!(yavg.len(), 8 * FPS, "signalstats per frame");
    let worst = our_means
        .iter()
        .zip(&yavg)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        worst < 0.5,
        "luma mean within 0.5 of signalstats YAVG, worst {worst}"
    );
    eprintln!("ours {ours:?}\nffmpeg black {black:?} freeze {freeze:?}");

    let find = |kind: &str| -> Vec<(f64, f64)> {
        ours.iter()
            .filter(|e| e.0 == kind)
            .map(|e| (e.1, e.2))
            .collect()
    };
    for (kind, (starts, ends)) in [("black", black), ("freeze", freeze)] {
        let got = find(kind);
        assert_eq!(got.len(), 1, "{kind}: one run, got {got:?}");
        assert_eq!(starts.len(), 1, "ffmpeg found one {kind} run");
        let (start, end) = got[0];
        assert!(
            (start - starts[0]).abs() <= FRAME + 1e-6,
            "{kind} start {start} vs {}",
            starts[0]
        );
        let ff_end = ends.first().copied().unwrap_or(8.0);
        assert!(
            (end - ff_end).abs() <= FRAME + 1e-6,
            "{kind} end {end} vs {ff_end}"
        );
    }
}

#[test]
fn buffers_pass_untouched_and_undelayed() {
    gst::init().unwrap();
    gstqc::plugin_register_static().expect("plugin registers");
    let mut h = gst_check::Harness::new("qcfingerprint");
    h.set_src_caps_str("video/x-raw,format=I420,width=64,height=48,framerate=25/1");
    h.play();
    for k in 0..5u64 {
        let data: Vec<u8> = (0..64 * 48 * 3 / 2)
            .map(|i| (i as u64 * 7 + k) as u8)
            .collect();
        let mut b = gst::Buffer::from_mut_slice(data.clone());
        b.get_mut()
            .unwrap()
            .set_pts(gst::ClockTime::from_mseconds(40 * k));
        let ptr = b.as_ptr();
        h.push(b).unwrap();
        // Out before the next one goes in: no delay; the same buffer, not a copy.
        let out = h.try_pull().expect("out at once");
        assert_eq!(out.as_ptr(), ptr);
        assert_eq!(out.map_readable().unwrap().as_slice(), data.as_slice());
        assert_eq!(out.pts(), Some(gst::ClockTime::from_mseconds(40 * k)));
    }
}

/// Runs `launch` and returns the `qc-match` messages of its qcfingerprint: (matched,
/// reference offset in ns plus the stream's first timestamp, i.e. where in the reference the
/// stream's first frame lies).
fn matches(launch: &str) -> Vec<(bool, Option<i64>)> {
    let messages = run(launch);
    // The first interval message carries the stream's first timestamp (an MP4's need not be 0).
    let start = messages
        .iter()
        .find(|s| s.name() == "qcfingerprint")
        .and_then(|s| s.get::<gst::ClockTime>("timestamp").ok())
        .map_or(0, |t| t.nseconds() as i64);
    messages
        .iter()
        .filter(|s| s.name() == "qc-match")
        .map(|s| {
            let offset = s.get::<i64>("reference-offset").ok();
            (s.get::<bool>("matched").unwrap(), offset.map(|o| o + start))
        })
        .collect()
}

/// Runs `launch` to its end; its element messages.
fn run(launch: &str) -> Vec<gst::Structure> {
    gstqc::plugin_register_static().expect("plugin registers");
    let (pipeline, messages) = run_to_end(launch).unwrap_or_else(|e| panic!("{launch}: {e}"));
    pipeline.set_state(gst::State::Null).unwrap();
    messages
}

#[test]
fn fingerprints_find_reencoded_scaled_and_colour_shifted_copies_and_nothing_else() {
    let dir = std::env::temp_dir().join(format!("qc-match-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Reference: the astronaut panning 1 px a frame for 8 s (no two frames alike).
    let wide = wide_picture("astronaut.png");
    let frames: Vec<u8> = (0..8 * FPS).flat_map(|k| window(&wide, k)).collect();
    let raw = dir.join("reference.yuv");
    std::fs::write(&raw, frames).unwrap();
    let report = dir.join("reference.json");
    let raw_in = |path: &std::path::Path| {
        format!(
            "filesrc location={} blocksize={} ! rawvideoparse format=i420 width={W} height={H} framerate={FPS}/1",
            path.display(),
            W * H * 3 / 2
        )
    };
    matches(&format!(
        "{} ! qcfingerprint report-location={} ! fakesink",
        raw_in(&raw),
        report.display()
    ));
    // Copies from 2 s on: re-encoded, scaled to a half and a quarter, colour-shifted.
    let copy = |name: &str, filter: &str| {
        let out = dir.join(format!("{name}.mp4"));
        let status = Command::new("ffmpeg")
            .args([
                "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s",
            ])
            .arg(format!("{W}x{H}"))
            .args(["-r", &FPS.to_string(), "-ss", "2", "-i"])
            .arg(&raw)
            .args([
                "-vf", filter, "-c:v", "libx264", "-crf", "30", "-pix_fmt", "yuv420p",
            ])
            .arg(&out)
            .status()
            .expect("ffmpeg runs");
        assert!(status.success());
        out
    };
    let variants = [
        ("re-encoded", copy("reencoded", "null")),
        ("half size", copy("half", "scale=160:120")),
        ("quarter size", copy("quarter", "scale=80:60")),
        (
            "colour-shifted",
            copy("colour", "eq=brightness=0.08:contrast=1.2:saturation=1.5"),
        ),
    ];
    let frame = 1_000_000_000 / FPS as i64;
    for (name, file) in &variants {
        let got = matches(&format!(
            "filesrc location={} ! decodebin ! videoconvert ! video/x-raw,format=I420 ! qcfingerprint reference={} ! fakesink",
            file.display(),
            report.display()
        ));
        eprintln!("{name}: {got:?}");
        let offsets: Vec<i64> = got.iter().filter_map(|m| m.1).collect();
        assert!(!offsets.is_empty(), "{name}: matched");
        for o in offsets {
            assert!(
                (o - 2_000_000_000).abs() <= frame,
                "{name}: offset {o} ns, 2 s expected"
            );
        }
    }
    // An unrelated clip: the coffee photograph panning the same way.
    let coffee = wide_picture("coffee.png");
    let other: Vec<u8> = (0..6 * FPS).flat_map(|k| window(&coffee, k)).collect();
    let other_raw = dir.join("other.yuv");
    std::fs::write(&other_raw, other).unwrap();
    let got = matches(&format!(
        "{} ! qcfingerprint reference={} ! fakesink",
        raw_in(&other_raw),
        report.display()
    ));
    std::fs::remove_dir_all(&dir).ok();
    assert!(got.iter().all(|m| !m.0), "unrelated: {got:?}");
}

/// The GPU path's measurements are the CPU path's: statistics, fingerprint and difference
/// exactly, the pixels out of the legal range exactly, the flash grid's cells within float
/// rounding (the second frame has a patch of illegal chroma).
#[test]
fn the_gpu_path_gives_the_cpu_statistics_fingerprint_and_difference_exactly() {
    use gstqc::fingerprint::Fingerprinter;
    use gstqc::flashes::FlashDetector;
    use gstqc::gamut::Gamut;
    use gstqc::gpu::{GpuAnalysis, GridSampling, Source};
    use gstqc::stats::{self, finalize, Analyser, FrameStats, Plane};
    let wide = wide_picture("astronaut.png");
    fn planes(frame: &[u8]) -> [Plane<'_>; 3] {
        let (y, c) = (W * H, W * H / 4);
        [
            Plane::tight(&frame[..y], W, H),
            Plane::tight(&frame[y..y + c], W / 2, H / 2),
            Plane::tight(&frame[y + c..y + 2 * c], W / 2, H / 2),
        ]
    }
    let (first, mut second) = (window(&wide, 37), window(&wide, 45));
    for y in 0..H / 4 {
        let row = W * H + y * W / 2;
        second[row..row + W / 4].fill(250);
    }
    let mut gamut = Gamut::new(0.299, 0.114, W, H);
    let (mut cpu_flashes, mut gpu_flashes) = (
        FlashDetector::new(0.299, 0.114),
        FlashDetector::new(0.299, 0.114),
    );
    let mut fingerprinter = Fingerprinter::new(W, H);
    let (column_cell, row_cell, steps) = fingerprinter.sampling();
    let (column_cell, row_cell) = (column_cell.to_vec(), row_cell.to_vec());
    let layout = gstqc::gpu::i420_planes(W, H);
    let mut gpu = GpuAnalysis::new(
        first.len(),
        layout,
        GridSampling {
            column_cell: &column_cell,
            row_cell: &row_cell,
            steps,
        },
        &gamut,
        &cpu_flashes,
    )
    .expect("a GPU adapter (lavapipe in CI)");
    let sizes = [(W, H), (W / 2, H / 2), (W / 2, H / 2)];
    for (i, frame) in [&first, &second].into_iter().enumerate() {
        let mut cpu = FrameStats::default();
        Analyser::new(H).measure(planes(frame), 37, &mut cpu);
        let cpu_hash = fingerprinter.hash(planes(frame)[0]);
        let m = gpu.measure(Source::Host(frame)).unwrap();
        let mut stats = FrameStats::default();
        finalize(m.histograms, 37, &mut stats);
        assert_eq!(stats, cpu, "frame {i}: statistics");
        let grid = m.grid.to_vec();
        let differences = m.differences.map(<[u32]>::to_vec);
        let out_of_range = gamut.measure(planes(frame)).any;
        assert_eq!(
            m.out_of_range as u64, out_of_range,
            "frame {i}: out of range"
        );
        assert!(
            i == 0 || out_of_range > 1000,
            "the patch is illegal: {out_of_range}"
        );
        cpu_flashes.frame(0, 1, planes(frame));
        gpu_flashes.frame_from_sums(0, 1, m.cells);
        let ((cl, cr), (gl, gr)) = (cpu_flashes.cell_values(), gpu_flashes.cell_values());
        for (c, g) in cl.iter().chain(cr).zip(gl.iter().chain(gr)) {
            assert!((c - g).abs() < 1e-4, "frame {i}: flash cell {c} vs {g}");
        }
        assert_eq!(
            fingerprinter.hash_of_sums(&grid),
            cpu_hash,
            "frame {i}: fingerprint"
        );
        match differences {
            None => assert_eq!(i, 0, "only the first frame has no reference"),
            Some(d) => {
                let expected = stats::mean_abs_difference(planes(&first), planes(frame));
                assert!(expected > 0.0);
                let got = stats::mean_abs_difference_of_rows(&d, gpu.rows(), sizes);
                assert_eq!(got, expected, "frame {i}: difference");
            }
        }
        gpu.keep_as_reference();
    }
}

#[test]
fn the_measurement_shaders_validate_with_naga() {
    mediaai_testing::validate_wgsl(include_str!("../../../shaders/qc_grid.wgsl"));
    mediaai_testing::validate_wgsl(include_str!("../../../shaders/qc_difference.wgsl"));
    mediaai_testing::validate_wgsl(include_str!("../../../shaders/qc_compliance.wgsl"));
}

#[test]
fn the_histogram_shader_validates_with_naga() {
    mediaai_testing::validate_wgsl(include_str!("../../../shaders/qc_histogram.wgsl"));
}

/// Frames at 25/s whose timestamps stray: a frame missing after 200 ms (a gap of 40 ms), one
/// repeated timestamp (a jump back of 40 ms), then after a new segment a far timeline
/// (nothing). Exactly the gap and the jump are reported.
#[test]
fn timestamp_gaps_and_jumps_are_reported() {
    gst::init().unwrap();
    gstqc::plugin_register_static().expect("plugin registers");
    let mut h = gst_check::Harness::new("qcfingerprint");
    let bus = watch(&h.element().unwrap());
    h.set_src_caps_str("video/x-raw,format=I420,width=64,height=48,framerate=25/1");
    h.play();
    let ms = gst::ClockTime::from_mseconds;
    let push = |h: &mut gst_check::Harness, t: u64| {
        let mut b = gst::Buffer::from_mut_slice(vec![128u8; 64 * 48 * 3 / 2]);
        b.get_mut().unwrap().set_pts(ms(t));
        h.push(b).unwrap();
    };
    for t in [0, 40, 80, 120, 160, 240, 280, 280, 320] {
        push(&mut h, t);
    }
    let mut segment = gst::FormattedSegment::<gst::ClockTime>::new();
    segment.set_start(ms(60_000));
    h.push_event(gst::event::Segment::new(&segment));
    push(&mut h, 60_000);
    push(&mut h, 60_040);
    h.push_event(gst::event::Eos::new());
    assert_eq!(
        common::timestamp_events(&bus),
        [
            ("timestamp-gap".to_string(), 200, 240),
            ("timestamp-jump".to_string(), 280, 320)
        ]
    );
}

/// The legal range (EBU R103): GStreamer's colour bars at 75% and a photograph are legal (no
/// gamut event; no pixel out of range in the bars, a few in the photograph, where 4:2:0
/// chroma straddles saturated edges, well within the 1% tolerated); its gamut checkers and
/// its colour wheel are not, and each makes a gamut event carrying the share of pixels out of
/// range; on the CPU and the GPU path alike.
#[test]
fn illegal_colours_are_gamut_events_and_legal_pictures_pass() {
    gst::init().unwrap();
    let caps = "video/x-raw,format=I420,width=320,height=240,framerate=25/1";
    let photo = media("astronaut.png");
    for (source, illegal) in [
        ("videotestsrc pattern=smpte75 num-buffers=10".to_string(), None),
        (
            format!(
                "filesrc location={} ! pngdec ! imagefreeze num-buffers=10 ! videoconvert ! videoscale",
                photo.display()
            ),
            None,
        ),
        ("videotestsrc pattern=gamut num-buffers=10".to_string(), Some(0.5)),
        ("videotestsrc pattern=colors num-buffers=10".to_string(), Some(0.76)),
    ]
    .into_iter()
    .flat_map(|(source, illegal)| ["cpu", "gpu"].map(|b| (format!("{source} ! {caps} ! qcfingerprint backend={b}"), illegal)))
    {
        let messages = run(&format!("{source} ! fakesink"));
        let gamut_max = messages
            .iter()
            .filter(|s| s.name() == "qcfingerprint")
            .map(|s| s.get::<f64>("gamut-max").unwrap())
            .fold(0.0, f64::max);
        let events: Vec<f64> = messages
            .iter()
            .filter(|s| s.name() == "qc-event" && s.get::<&str>("kind").unwrap() == "gamut")
            .map(|s| s.get::<f64>("share").unwrap())
            .collect();
        eprintln!("{source}: gamut-max {gamut_max:.4}, events {events:?}");
        match illegal {
            None => assert!(gamut_max < 0.005 && events.is_empty(), "{source}"),
            Some(share) => {
                assert_eq!(events.len(), 1, "{source}");
                assert!((events[0] - share).abs() < 0.01, "{source}: {events:?}");
                assert_eq!(gamut_max, events[0]);
            }
        }
    }
}

/// Photosensitive flashes (BT.1702 / Ofcom): a rectangle over 20% or 30% of the screen
/// flashing black and white at 2, 3, 4 and 10 Hz for three seconds. Exactly the clips flashing
/// more than three times a second over more than a quarter of the screen fail: a `flash`
/// event each, with its rate and area.
#[test]
fn flashing_fails_exactly_above_three_a_second_over_a_quarter_of_the_screen() {
    gst::init().unwrap();
    gstqc::plugin_register_static().expect("plugin registers");
    let (w, h) = (320usize, 180usize);
    // On the CPU and on the GPU path (lavapipe in CI).
    for (hz, area, backend) in [2.0f64, 3.0, 4.0, 10.0]
        .into_iter()
        .flat_map(|hz| [(hz, 0.2f64), (hz, 0.3)])
        .flat_map(|(hz, area)| [(hz, area, "cpu"), (hz, area, "gpu")])
    {
        let mut harness = gst_check::Harness::new("qcfingerprint");
        harness
            .element()
            .unwrap()
            .set_property_from_str("backend", backend);
        let bus = watch(&harness.element().unwrap());
        harness.set_src_caps_str(&format!(
            "video/x-raw,format=I420,width={w},height={h},framerate=25/1"
        ));
        harness.play();
        let side = area.sqrt();
        let (rw, rh) = ((w as f64 * side) as usize, (h as f64 * side) as usize);
        for k in 0..75u64 {
            let on = ((k as f64 / 25.0 * hz * 2.0 + 1e-9).floor() as u64).is_multiple_of(2);
            let mut frame = vec![128u8; w * h * 3 / 2];
            for y in 0..h {
                for x in 0..w {
                    let inside = (w - rw) / 2 <= x
                        && x < (w + rw) / 2
                        && (h - rh) / 2 <= y
                        && y < (h + rh) / 2;
                    frame[y * w + x] = match (inside, on) {
                        (true, true) => 235,
                        (true, false) => 16,
                        (false, _) => 100,
                    };
                }
            }
            let mut b = gst::Buffer::from_mut_slice(frame);
            b.get_mut()
                .unwrap()
                .set_pts(gst::ClockTime::from_mseconds(40 * k));
            harness.push(b).unwrap();
        }
        harness.push_event(gst::event::Eos::new());
        let flashes: Vec<(f64, f64)> = mediaai_testing::element_messages(&bus, "qc-event")
            .iter()
            .filter(|s| s.get::<&str>("kind").unwrap() == "flash")
            .map(|s| (s.get::<f64>("rate").unwrap(), s.get::<f64>("area").unwrap()))
            .collect();
        eprintln!("{hz} Hz over {area} ({backend}): {flashes:?}");
        let fails = hz > 3.0 && area > 0.25;
        assert_eq!(flashes.len(), fails as usize, "{hz} Hz over {area}");
        for (rate, measured) in flashes {
            assert!(rate > 3.0 && rate <= hz, "{hz} Hz: rate {rate}");
            assert!((measured - area).abs() < 0.03, "{hz} Hz: area {measured}");
        }
    }
}
