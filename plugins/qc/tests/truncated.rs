//! A programme cut short: an MP4 whose index is at its start (as `faststart` writes it and
//! as delivery files are), cut to half its bytes as an interrupted copy leaves it. Its
//! demuxer plays what is there and ends early with no error; qcfingerprint and qcaudio must
//! say the stream ended before its container says it should — a `truncated` event, a warning,
//! and a failing verdict under every profile, `none` included — and must not on the whole file.

use std::path::PathBuf;
use std::process::Command;

use gst::prelude::*;
use mediaai_testing::run_to_end_warned;

fn init() {
    gst::init().unwrap();
    gstqc::plugin_register_static().expect("plugin registers");
}

/// 3 s of 320x240 25p H.264 and AAC in an MP4 indexed at its start, whole and cut in half.
fn clips() -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("qc-truncated-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let whole = dir.join("whole.mp4");
    let status = Command::new("gst-launch-1.0")
        .args(["-q", "-e"])
        .args(
            format!(
                "videotestsrc num-buffers=75 pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1 \
                 ! x264enc ! h264parse ! queue ! mp4mux name=mux faststart=true ! filesink location={} \
                 audiotestsrc num-buffers=129 samplesperbuffer=1024 ! audio/x-raw,rate=44100 ! audioconvert \
                 ! avenc_aac ! aacparse ! queue ! mux.",
                whole.display()
            )
            .split_whitespace(),
        )
        .status()
        .expect("gst-launch-1.0 runs");
    assert!(status.success());
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    (whole, cut)
}

/// The `qc-event` kinds, the verdict's `pass` and the warnings of `element` (`qcfingerprint`
/// after the video, `qcaudio` after the sound) with `profile` on `file`.
fn analyse(
    file: &std::path::Path,
    element: &str,
    profile: &str,
) -> (Vec<String>, bool, Vec<String>) {
    let branch = match element {
        "qcfingerprint" => "d.video_0 ! queue ! avdec_h264 ! videoconvert",
        _ => "d.audio_0 ! queue ! avdec_aac ! audioconvert",
    };
    let launch = format!(
        "filesrc location={} ! qtdemux name=d {branch} ! {element} profile={profile} ! fakesink",
        file.display()
    );
    let (pipeline, messages, warnings) =
        run_to_end_warned(&launch).unwrap_or_else(|e| panic!("{launch}: {e}"));
    pipeline.set_state(gst::State::Null).unwrap();
    let kinds = messages
        .iter()
        .filter(|s| s.name() == "qc-event")
        .map(|s| s.get::<String>("kind").unwrap())
        .collect();
    let pass = messages
        .iter()
        .find(|s| s.name() == "qc-verdict")
        .map(|s| s.get::<bool>("pass").unwrap())
        .expect("a verdict at the end");
    (kinds, pass, warnings)
}

#[test]
fn a_programme_cut_short_fails_under_every_profile_and_a_whole_one_does_not() {
    init();
    let (whole, cut) = clips();
    for element in ["qcfingerprint", "qcaudio"] {
        let (kinds, pass, warnings) = analyse(&whole, element, "none");
        assert!(
            !kinds.iter().any(|k| k == "truncated"),
            "{element} whole: {kinds:?}"
        );
        assert!(pass && warnings.is_empty(), "{element} whole: {warnings:?}");
        for profile in ["none", "ebu-r128", "dpp"] {
            let (kinds, pass, warnings) = analyse(&cut, element, profile);
            assert!(
                kinds.iter().any(|k| k == "truncated"),
                "{element} {profile}: {kinds:?}"
            );
            assert!(
                !pass,
                "{element} {profile}: the verdict passes a truncated programme"
            );
            assert!(
                warnings.iter().any(|w| w.contains("truncated")),
                "{element} {profile}: {warnings:?}"
            );
        }
    }
}
