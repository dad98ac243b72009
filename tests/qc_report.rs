//! pipelines/qc-report.sh end to end: a clip with a black stretch gives a complete JSON
//! report with an entry per frame and the black run.

use std::process::Command;

use mediaai_pipelines::{root, sh, work_dir};

#[test]
fn qc_report_finds_the_black_run_and_writes_every_frame() {
    let dir = work_dir("qc-report");
    let clip = dir.join("clip.mp4");
    // 1 s of test pattern, 1 s of black (videotestsrc's black pattern), 1 s of pattern.
    sh(Command::new("gst-launch-1.0").args(["-q", "-e"]).args(
        format!(
            "concat name=c ! x264enc ! h264parse ! mp4mux ! filesink location={} \
             videotestsrc num-buffers=25 pattern=smpte ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 ! c. \
             videotestsrc num-buffers=25 pattern=black ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 ! c. \
             videotestsrc num-buffers=25 pattern=smpte ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 ! c.",
            clip.display()
        )
        .split_whitespace(),
    ));
    let report = dir.join("report.json");
    let out = sh(Command::new(root().join("pipelines/qc-report.sh"))
        .env("QC_OPTS", "black-min-duration=0.5")
        .arg(&clip)
        .arg(&report));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("written to"), "where the page went: {said}");
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.ends_with("\n]}\n"), "a finished report is complete");
    assert_eq!(text.matches("\"pts\":").count(), 75, "an entry per frame");
    let black: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\"event\":\"black\""))
        .collect();
    assert_eq!(black.len(), 1, "one black run: {black:?}");
    // Times as the stream carries them (the MP4's first frame need not be at 0).
    let number = |l: &str, key: &str| -> f64 {
        let at = l.find(key).unwrap() + key.len();
        l[at..].split([',', '}']).next().unwrap().parse().unwrap()
    };
    let first = text.lines().find(|l| l.contains("\"pts\":")).unwrap();
    let first = number(first, "\"pts\":");
    let (start, end) = (number(black[0], "\"start\":"), number(black[0], "\"end\":"));
    assert!(
        (start - first - 1.0).abs() < 0.05,
        "black from 1 s: {start} (first frame {first})"
    );
    assert!((end - start - 1.0).abs() < 0.05, "for 1 s: {start}..{end}");
}

/// Without a delivery profile the report says what it found and gives no verdict, with times
/// from the programme's first frame as FFmpeg's blackdetect, freezedetect and silencedetect give
/// them on the same file, within a frame: an MP4 of 5 s — a moving ramp, black from 1.0 to
/// 2.2 s, the ramp, frozen from 3.2 to 4.6 s, moving again — with a tone silent from 1.5 to
/// 3.5 s.
#[test]
fn without_a_profile_the_report_gives_findings_at_ffmpegs_times() {
    let dir = work_dir("qc-findings");
    let (w, h) = (320usize, 240usize);
    let mut raw = Vec::with_capacity(125 * w * h * 3 / 2);
    for k in 0..125usize {
        let shift = if (80..115).contains(&k) { 80 } else { k };
        let black = (25..55).contains(&k);
        raw.extend((0..w * h).map(|i| {
            if black {
                16
            } else {
                (40 + ((i % w) + 3 * shift) % w / 2) as u8
            }
        }));
        raw.extend(std::iter::repeat_n(128u8, w * h / 2));
    }
    let frames = dir.join("frames.yuv");
    std::fs::write(&frames, raw).unwrap();
    let rate = 48_000;
    let tone: Vec<f32> = (0..5 * rate)
        .map(|n| {
            let t = n as f32 / rate as f32;
            if (1.5..3.5).contains(&t) {
                0.0
            } else {
                0.3 * (2.0 * std::f32::consts::PI * 440.0 * t).sin()
            }
        })
        .collect();
    let wav = dir.join("tone.wav");
    mediaai_testing::write_wav(&wav, rate as u32, 1, &tone);
    let clip = dir.join("clip.mp4");
    sh(Command::new("gst-launch-1.0").args(["-q", "-e"]).args(
        format!(
            "filesrc location={} blocksize={} ! rawvideoparse format=i420 width={w} height={h} \
             framerate=25/1 ! x264enc ! h264parse ! mp4mux name=m ! filesink location={} \
             filesrc location={} ! wavparse ! audioconvert ! avenc_aac ! aacparse ! m.",
            frames.display(),
            w * h * 3 / 2,
            clip.display(),
            wav.display()
        )
        .split_whitespace(),
    ));
    let out = sh(Command::new(root().join("pipelines/qc-report.sh"))
        .env("QC_OPTS", "black-min-duration=0.5 freeze-min-duration=0.5")
        .env("QC_AUDIO_OPTS", "silence-min-duration=0.5")
        .arg(&clip)
        .arg(dir.join("report.json")));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("qc-report: findings (no delivery profile, no verdict): ")
            && !said.contains("PASS"),
        "{said}"
    );
    // Each kind's first run: "black 1.00-2.20 s" or "freeze: 2 runs, the first 1.00-2.20 s"
    // (the black stretch is frozen too, for FFmpeg as here).
    let ours = |kind: &str| -> Vec<f64> {
        let after = said
            .split(&format!("{kind}: "))
            .nth(1)
            .and_then(|r| r.split("the first ").nth(1))
            .or_else(|| said.split(&format!("{kind} ")).nth(1));
        after
            .and_then(|r| r.split(" s").next())
            .map(|r| r.split('-').filter_map(|v| v.parse().ok()).collect())
            .unwrap_or_default()
    };
    let ffmpeg = |filter: &str, stream: &str| -> String {
        let out = Command::new("ffmpeg")
            .args(["-hide_banner", "-i"])
            .arg(&clip)
            .args([stream, filter, "-f", "null", "-"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let theirs = |log: &str, keys: [&str; 2]| -> Vec<f64> {
        keys.iter()
            .filter_map(|k| log.split(k).nth(1)?.split_whitespace().next()?.parse().ok())
            .collect()
    };
    for (kind, filter, stream, keys) in [
        (
            "black",
            "blackdetect=d=0.5",
            "-vf",
            ["black_start:", "black_end:"],
        ),
        (
            "freeze",
            "freezedetect=d=0.5",
            "-vf",
            ["freeze_start:", "freeze_end:"],
        ),
        (
            "silence",
            "silencedetect=d=0.5",
            "-af",
            ["silence_start:", "silence_end:"],
        ),
    ] {
        let (ours, theirs) = (ours(kind), theirs(&ffmpeg(filter, stream), keys));
        assert!(
            ours.len() == 2
                && theirs.len() == 2
                && ours
                    .iter()
                    .zip(&theirs)
                    .all(|(a, b)| (a - b).abs() <= 0.04 + 1e-6),
            "{kind} {ours:?} here, {theirs:?} by FFmpeg\n{said}"
        );
    }
}

/// pipelines/qc-report.sh with the DPP profile on a clip with sound: 1.4 s of gray, 1.2 s
/// flashing black and white, 0.4 s of a colour no RGB can make. The reports fail it for the
/// flashes, the colour and the loudness, and the page beside them, opened in a real browser
/// (headless Chromium), renders with no console error: its verdict names those items, its luma
/// plot holds every frame of the report, its timeline every event, and the events have
/// thumbnails.
#[test]
fn the_qc_page_renders_in_a_browser_with_the_reports_data() {
    let dir = work_dir("qc-page");
    let (w, h) = (320usize, 240usize);
    let mut raw = Vec::with_capacity(75 * w * h * 3 / 2);
    for k in 0..75 {
        // Grey to 1.4 s, flashing to 2.6 s (mid-second: the page's picture of it must be of
        // the flashing), then the impossible colour.
        let (luma, cb, cr) = match k {
            0..35 => (128, 128, 128),
            35..65 if k % 2 == 0 => (235, 128, 128),
            35..65 => (16, 128, 128),
            _ => (128, 250, 250),
        };
        raw.extend(std::iter::repeat_n(luma, w * h));
        raw.extend(std::iter::repeat_n(cb, w * h / 4));
        raw.extend(std::iter::repeat_n(cr, w * h / 4));
    }
    let frames = dir.join("frames.yuv");
    std::fs::write(&frames, raw).unwrap();
    let clip = dir.join("clip.mp4");
    sh(Command::new("gst-launch-1.0").args(["-q", "-e"]).args(
        format!(
            "filesrc location={} blocksize={} ! rawvideoparse format=i420 width={w} height={h} \
             framerate=25/1 ! x264enc ! h264parse ! mp4mux name=m ! filesink location={} \
             audiotestsrc num-buffers=75 samplesperbuffer=1920 volume=0.1 \
             ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! avenc_aac ! aacparse ! m.",
            frames.display(),
            w * h * 3 / 2,
            clip.display()
        )
        .split_whitespace(),
    ));
    let report = dir.join("report.json");
    let out = sh(Command::new(root().join("pipelines/qc-report.sh"))
        .env("QC_PROFILE", "dpp")
        .arg(&clip)
        .arg(&report));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("qc-report: FAIL (dpp)"), "{said}");
    let video = std::fs::read_to_string(&report).unwrap();
    let audio = std::fs::read_to_string(dir.join("report-audio.json")).unwrap();
    let frames_reported = video.matches("\"pts\":").count();
    assert_eq!(frames_reported, 75, "an entry per frame");
    let events = video.matches("\"event\":").count() + audio.matches("\"event\":").count();
    for item in ["flash", "gamut"] {
        assert!(
            video.contains(&format!("\"failure\":\"{item}\"")),
            "{item} fails DPP"
        );
    }
    assert!(audio.contains("\"failure\":\"loudness\""), "{audio}");
    assert!(
        !dir.join("report.thumbs").exists(),
        "the thumbnails are in the page"
    );

    let page = dir.join("report.html");
    let browser = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.canonicalize().unwrap().display()))
        .output()
        .expect("chromium runs (scripts/deps.sh test installs it)");
    assert!(browser.status.success(), "chromium failed");
    let dom = String::from_utf8_lossy(&browser.stdout);
    let log = String::from_utf8_lossy(&browser.stderr);
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console: {console:?}");
    let verdict = dom
        .split("id=\"verdict\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the page states its verdict");
    for item in [
        "FAIL (dpp)",
        "flash",
        "gamut",
        "loudness",
        "LUFS; allowed -23 ± 0.5 LU",
    ] {
        assert!(verdict.contains(item), "{item} in {verdict}");
    }
    assert!(
        dom.contains("Quality control: clip.mp4"),
        "the input's name"
    );
    assert!(
        dom.contains("00:00:01:10"),
        "timecode beside seconds (the flashing from 1.40 s)"
    );
    assert!(
        dom.contains(&format!(
            "data-series=\"mean\" data-count=\"{frames_reported}\""
        )),
        "the luma plot holds every frame"
    );
    assert!(
        dom.contains("class=\"timeline\" width=\"960\""),
        "a timeline"
    );
    assert!(
        dom.contains(&format!("data-count=\"{events}\"")),
        "the timeline holds every event ({events})"
    );
    assert_eq!(
        dom.matches("<rect class=\"event\"").count(),
        events,
        "a bar per event"
    );
    assert!(
        dom.matches("class=\"thumb\"").count() >= 2,
        "a thumbnail at the events"
    );
    assert!(
        dom.contains("audio and video durations"),
        "the durations compared"
    );
    assert!(
        dom.contains("Sound: integrated loudness \u{2212}")
            && dom.contains("LUFS, loudness range")
            && dom.contains("maximum true peak"),
        "the sound in three figures"
    );
    // The flash event's picture is of the flashing (black or white frames), not of the grey
    // second before it.
    let flash_row = dom
        .split("<tr>")
        .find(|r| r.starts_with("<td>flash</td>"))
        .expect("a flash row");
    let jpeg = flash_row
        .split("base64,")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(base64)
        .expect("the flash row has a picture");
    let path = dir.join("flash-thumb.jpg");
    std::fs::write(&path, jpeg).unwrap();
    let sample = mediaai_testing::load_frame(&path, "GRAY8", None);
    let map = sample.buffer().unwrap().map_readable().unwrap();
    let mean = map.iter().map(|&v| v as f64).sum::<f64>() / map.len() as f64;
    assert!(
        !(90.0..170.0).contains(&mean),
        "the flash thumbnail is grey (mean luma {mean:.0}): a picture from before the flashing"
    );
}

/// Standard base64 (as the page embeds its pictures), decoded.
fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    } as u32;
    let bytes: Vec<u8> = text.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().fold(0u32, |n, &c| n << 6 | value(c)) << (6 * (4 - chunk.len()));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// A truncated input (an MP4 indexed at its start, cut in half): the report is written and
/// fails it under the default profile, and the script exits 1 saying the file is truncated.
#[test]
fn a_truncated_input_is_reported_and_the_script_fails() {
    let dir = work_dir("qc-truncated");
    let (_, cut) = mediaai_pipelines::truncated_clip(&dir);
    let out = Command::new(root().join("pipelines/qc-report.sh"))
        .arg(&cut)
        .arg(dir.join("report.json"))
        .env("GST_PLUGIN_PATH", mediaai_pipelines::plugin_dir())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("qc-report: FAIL (none): truncated"),
        "{stdout}"
    );
    assert!(stderr.contains("the file is truncated"), "{stderr}");
    assert!(dir.join("report.html").is_file(), "the report is written");
}
