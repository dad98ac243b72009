//! qcaudio against FFmpeg's silencedetect and ebur128 on the same real speech (the ALSA
//! announcements): 4 s of speech, 3 s of digital silence, 4 s of the same speech driven into
//! clipping, 1 s of speech. Silence must agree within a millisecond, integrated loudness
//! within 0.5 LU, and clipping must be found only where it is.

use std::process::Command;

use gst::prelude::*;
use mediaai_testing::{alsa_speech, run_to_end, write_wav};

const RATE: usize = 48_000;

/// Numbers FFmpeg prints after `key`, in order.
fn ffmpeg_values(text: &str, key: &str) -> Vec<f64> {
    text.split(key)
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn silence_loudness_and_clipping_agree_with_ffmpeg() {
    gst::init().unwrap();
    gstqcfingerprint::plugin_register_static().expect("plugin registers");
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
