//! qcaudio against FFmpeg's silencedetect and ebur128 on the same real speech (the ALSA
//! announcements): 4 s of speech, 3 s of digital silence, 4 s of the same speech driven into
//! clipping, 1 s of speech. Silence must agree within a millisecond, integrated loudness
//! within 0.5 LU, and clipping must be found only where it is.

use std::path::{Path, PathBuf};
use std::process::Command;

use gst::prelude::*;
use mediaai_testing::{alsa_speech, run_to_end, watch, write_wav};

mod common;

const RATE: usize = 48_000;

/// Numbers FFmpeg prints after `key`, in order.
fn ffmpeg_values(text: &str, key: &str) -> Vec<f64> {
    text.split(key)
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

/// `samples` (interleaved, `channels`) written to `wav` as 48 kHz audio and run through
/// qcaudio to the end: the element messages posted.
fn through_qcaudio(wav: &Path, channels: u16, samples: &[f32]) -> Vec<gst::Structure> {
    gst::init().unwrap();
    gstqc::plugin_register_static().expect("plugin registers");
    write_wav(wav, RATE as u32, channels, samples);
    let (pipeline, messages) = run_to_end(&format!(
        "filesrc location={} ! wavparse ! qcaudio ! fakesink",
        wav.display()
    ))
    .unwrap();
    pipeline.set_state(gst::State::Null).unwrap();
    messages
}

/// A fresh temporary folder for test `name`.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qcaudio-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `qc-event` runs of `kind` among `messages`: (start, end) in seconds, and the channel.
fn runs(messages: &[gst::Structure], kind: &str) -> Vec<(f64, f64, Option<u32>)> {
    messages
        .iter()
        .filter(|s| s.name() == "qc-event" && s.get::<&str>("kind").unwrap() == kind)
        .map(|s| {
            let t = |f: &str| s.get::<gst::ClockTime>(f).unwrap().nseconds() as f64 / 1e9;
            (t("start"), t("end"), s.get::<u32>("channel").ok())
        })
        .collect()
}

#[test]
fn silence_loudness_and_clipping_agree_with_ffmpeg() {
    gst::init().unwrap();
    gstqc::plugin_register_static().expect("plugin registers");
    let speech = alsa_speech();
    let mut audio = Vec::new();
    audio.extend_from_slice(&speech[..4 * RATE]);
    audio.extend(std::iter::repeat_n(0.0, 3 * RATE));
    audio.extend(speech[4 * RATE..8 * RATE].iter().map(|s| s * 8.0));
    audio.extend_from_slice(&speech[8 * RATE..9 * RATE]);
    let dir = std::env::temp_dir().join(format!("qcaudio-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("test.wav");
    write_wav(&wav, RATE as u32, 1, &audio);

    let (pipeline, messages) = run_to_end(&format!(
        "filesrc location={} ! wavparse ! qcaudio report-location={} ! fakesink",
        wav.display(),
        dir.join("report.json").display()
    ))
    .unwrap();
    // Stopping after EOS makes no second final entry (nor message).
    pipeline.set_state(gst::State::Null).unwrap();
    let report = std::fs::read_to_string(dir.join("report.json")).unwrap();
    let final_entries = report.matches("\"final\":true").count();
    let events = |kind: &str| -> Vec<(f64, f64)> {
        messages
            .iter()
            .filter(|s| s.name() == "qc-event" && s.get::<&str>("kind").unwrap() == kind)
            .map(|s| {
                let t = |f: &str| s.get::<gst::ClockTime>(f).unwrap().nseconds() as f64 / 1e9;
                (t("start"), t("end"))
            })
            .collect()
    };
    let finals: Vec<f64> = messages
        .iter()
        .filter(|s| s.name() == "qcaudio" && s.get::<bool>("final").unwrap())
        .map(|s| s.get::<f64>("integrated").unwrap())
        .collect();
    let integrated = *finals.first().expect("a final loudness message");
    assert_eq!(
        (finals.len(), final_entries),
        (1, 1),
        "one final message and entry"
    );

    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-i"])
        .arg(&wav)
        .args([
            "-af",
            "silencedetect=n=-60dB:d=2,ebur128",
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    std::fs::remove_dir_all(&dir).ok();
    let text = String::from_utf8_lossy(&out.stderr);
    let (starts, ends) = (
        ffmpeg_values(&text, "silence_start:"),
        ffmpeg_values(&text, "silence_end:"),
    );
    let ff_integrated = *ffmpeg_values(&text, " I:").last().expect("ebur128 summary");

    let silence = events("silence");
    eprintln!("silence ours {silence:?}, ffmpeg {starts:?}..{ends:?}; integrated ours {integrated:.2}, ffmpeg {ff_integrated:.2}");
    assert_eq!(silence.len(), 1);
    assert_eq!((starts.len(), ends.len()), (1, 1));
    assert!((silence[0].0 - starts[0]).abs() < 0.001 && (silence[0].1 - ends[0]).abs() < 0.001);
    assert!(
        (integrated - ff_integrated).abs() < 0.5,
        "integrated {integrated} vs {ff_integrated}"
    );
    let clipping = events("clipping");
    assert!(!clipping.is_empty(), "the driven section clips");
    assert!(
        clipping.iter().all(|&(a, b)| a >= 7.0 && b <= 11.0),
        "clipping only in the driven section: {clipping:?}"
    );
}

/// qcaudio's final true peak and loudness range against FFmpeg's `ebur128=peak=true` on the
/// same files: real speech, stereo noise with a slow loudness swell (full-band, as music's
/// cymbals and distortion are), and the speech driven into clipping (its inter-sample peaks
/// above full scale). Within 0.1 dB and 0.1 LU.
#[test]
fn true_peak_and_loudness_range_agree_with_ffmpeg() {
    gst::init().unwrap();
    gstqc::plugin_register_static().expect("plugin registers");
    let speech = alsa_speech();
    let mut seed = 9u64;
    let mut noise = Vec::with_capacity(20 * RATE * 2);
    let mut smooth = [0f32; 2];
    for n in 0..20 * RATE {
        let swell = 0.2 + 0.6 * (n as f32 / RATE as f32 * 0.9).sin().abs();
        for s in &mut smooth {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let white = (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            // Tilted towards the lows, still full-band.
            *s = 0.6 * *s + white;
            noise.push(*s * swell * 0.8);
        }
    }
    let clipped: Vec<f32> = speech.iter().map(|s| (s * 8.0).clamp(-1.0, 1.0)).collect();
    let dir = temp_dir("tp");
    for (name, channels, samples) in [
        ("speech", 1u16, &speech),
        ("noise", 2, &noise),
        ("clipped", 1, &clipped),
    ] {
        let wav = dir.join(format!("{name}.wav"));
        let messages = through_qcaudio(&wav, channels, samples);
        let last = messages
            .iter()
            .rfind(|s| s.name() == "qcaudio" && s.get::<bool>("final").unwrap())
            .expect("a final message");
        let (true_peak, lra) = (
            last.get::<f64>("max-true-peak").unwrap(),
            last.get::<f64>("loudness-range").unwrap(),
        );
        let out = Command::new("ffmpeg")
            .args(["-hide_banner", "-nostats", "-i"])
            .arg(&wav)
            .args([
                "-af",
                "ebur128=peak=true:metadata=1,ametadata=mode=print:file=-",
                "-f",
                "null",
                "-",
            ])
            .output()
            .expect("ffmpeg runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let last_value = |key: &str| -> f64 {
            *ffmpeg_values(&text.replace('=', " "), key)
                .last()
                .expect("ffmpeg's metadata")
        };
        let ff_true_peak = 20.0 * last_value("lavfi.r128.true_peak ").log10();
        let ff_lra = last_value("lavfi.r128.LRA ");
        eprintln!(
            "{name}: true peak ours {true_peak:.3} dBTP, ffmpeg {ff_true_peak:.3}; LRA ours {lra:.2} LU, ffmpeg {ff_lra:.2}"
        );
        assert!((true_peak - ff_true_peak).abs() < 0.1, "{name} true peak");
        assert!((lra - ff_lra).abs() < 0.1, "{name} LRA");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Stereo speech with its right channel inverted from 2 s to 5 s and a DC offset of 0.05 on
/// the left: one `out-of-phase` event over the inverted stretch (to the 100 ms block), the
/// lowest phase correlation near −1, the DC offset reported.
#[test]
fn an_inverted_channel_and_a_dc_offset_are_reported() {
    gst::init().unwrap();
    gstqc::plugin_register_static().expect("plugin registers");
    let speech = alsa_speech();
    let mut audio = Vec::with_capacity(7 * RATE * 2);
    for (n, &s) in speech[..7 * RATE].iter().enumerate() {
        let inverted = (2 * RATE..5 * RATE).contains(&n);
        audio.push(s * 0.8 + 0.05);
        audio.push(if inverted { -s * 0.8 } else { s * 0.8 });
    }
    let dir = temp_dir("phase");
    let messages = through_qcaudio(&dir.join("stereo.wav"), 2, &audio);
    std::fs::remove_dir_all(&dir).ok();
    let runs = runs(&messages, "out-of-phase");
    let intervals: Vec<&gst::StructureRef> = messages
        .iter()
        .filter(|s| s.name() == "qcaudio")
        .map(|s| s.as_ref())
        .collect();
    let lowest = intervals
        .iter()
        .map(|s| s.get::<f64>("phase-correlation").unwrap())
        .fold(1.0, f64::min);
    let dc = intervals
        .iter()
        .map(|s| s.get::<f64>("dc-offset").unwrap())
        .fold(0.0, f64::max);
    eprintln!("out of phase {runs:?}, lowest correlation {lowest:.3}, DC offset {dc:.4}");
    assert_eq!(runs.len(), 1, "{runs:?}");
    // Quiet blocks (pauses in the speech) have no phase: the run may start or end at a word.
    assert!((runs[0].0 - 2.0).abs() <= 0.35 && (runs[0].1 - 5.0).abs() <= 0.35);
    assert!(lowest < -0.95);
    assert!((dc - 0.05).abs() < 0.003, "{dc}");
}

/// Buffers of 100 ms whose timestamps stray: one 200 ms late (a gap), one 50 ms early (a
/// jump back), then after a new segment one far away (a new timeline: nothing). Exactly the
/// gap and the jump are reported, with where the samples before them ended.
#[test]
fn timestamp_gaps_and_jumps_are_reported() {
    gst::init().unwrap();
    gstqc::plugin_register_static().expect("plugin registers");
    let mut h = gst_check::Harness::new("qcaudio");
    let bus = watch(&h.element().unwrap());
    h.set_src_caps_str("audio/x-raw,format=F32LE,rate=48000,channels=1,layout=interleaved");
    h.play();
    let speech = alsa_speech();
    let ms = gst::ClockTime::from_mseconds;
    let push = |h: &mut gst_check::Harness, k: usize, pts: gst::ClockTime| {
        let samples = &speech[k * 4800..(k + 1) * 4800];
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut b = gst::Buffer::from_slice(bytes);
        b.get_mut().unwrap().set_pts(pts);
        h.push(b).unwrap();
    };
    for k in 0..5 {
        push(&mut h, k, ms(100 * k as u64));
    }
    // Late by 200 ms: the samples before ended at 500 ms.
    push(&mut h, 5, ms(700));
    // Then 50 ms early: the samples before ended at 800 ms.
    push(&mut h, 6, ms(750));
    push(&mut h, 7, ms(850));
    let mut segment = gst::FormattedSegment::<gst::ClockTime>::new();
    segment.set_start(ms(10_000));
    h.push_event(gst::event::Segment::new(&segment));
    push(&mut h, 8, ms(10_000));
    push(&mut h, 9, ms(10_100));
    h.push_event(gst::event::Eos::new());
    assert_eq!(
        common::timestamp_events(&bus),
        [
            ("timestamp-gap".to_string(), 500, 700),
            ("timestamp-jump".to_string(), 750, 800)
        ]
    );
}

/// Stereo speech with the right channel dead from 2 s to 6 s: one `channel-silence` event for
/// channel 1 over that stretch (to the nearest word: pauses silent in both channels neither
/// end nor start it), none for channel 0.
#[test]
fn a_dead_channel_is_reported() {
    gst::init().unwrap();
    gstqc::plugin_register_static().expect("plugin registers");
    let speech = alsa_speech();
    let mut audio = Vec::with_capacity(8 * RATE * 2);
    for (n, &s) in speech[..8 * RATE].iter().enumerate() {
        audio.push(s);
        audio.push(if (2 * RATE..6 * RATE).contains(&n) {
            0.0
        } else {
            s
        });
    }
    let dir = temp_dir("dead");
    let runs = runs(
        &through_qcaudio(&dir.join("stereo.wav"), 2, &audio),
        "channel-silence",
    );
    std::fs::remove_dir_all(&dir).ok();
    eprintln!("channel silence {runs:?}");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].2, Some(1));
    assert!((runs[0].0 - 2.0).abs() <= 0.35 && (runs[0].1 - 6.0).abs() <= 0.35);
}
