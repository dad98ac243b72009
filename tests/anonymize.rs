//! pipelines/anonymize.sh end to end: a clip made from a real photograph goes through decode,
//! onnxfacedetect, gpublur and H.264/AAC encoding; the result keeps every frame, the duration
//! and the audio track, and the detector no longer finds a face in it.

use std::path::Path;
use std::process::Command;

use mediaai_pipelines::{assert_same_streams, plugin_dir, root, sh, streams, work_dir};

/// Frames of `file` in which onnxfacedetect finds a face with confidence above 0.5. The
/// astronaut's face scores above 0.8; what the blur leaves is a head-shaped blob that scores
/// at most about 0.35, which is not a face anyone can recognise.
fn frames_with_faces(file: &Path) -> usize {
    let out = sh(Command::new("gst-launch-1.0").arg("-m").args([
        "filesrc",
        &format!("location={}", file.display()),
        "!",
        "decodebin",
        "!",
        "videoconvert",
        "!",
        "onnxfacedetect",
        "threshold=0.5",
        "!",
        "fakesink",
    ]));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("facedetect") && l.contains("track-id"))
        .count()
}

fn anonymize_clip(name: &str, audio: &str) {
    let dir = work_dir(name);
    let clip = dir.join("clip.mp4");
    let result = dir.join("anonymized.mp4");
    sh(Command::new(root().join("scripts/make-clip.sh"))
        .arg(&clip)
        .args(["640x360", "3", audio]));
    sh(Command::new(root().join("pipelines/anonymize.sh"))
        .arg(&clip)
        .arg(&result));

    let (a, b) = (streams(&clip), streams(&result));
    assert_same_streams(&a, &b);
    for (sa, sb) in a.iter().zip(&b) {
        if sa.0 == "video" {
            assert_eq!(sa.1, sb.1, "video frame count");
        }
    }
    assert_eq!(b.iter().any(|s| s.0 == "audio"), audio == "audio");
    let (before, after) = (frames_with_faces(&clip), frames_with_faces(&result));
    assert!(
        before >= 70,
        "the clip shows a face in most of its 75 frames ({before})"
    );
    assert_eq!(after, 0, "faces still found after anonymisation");
}

#[test]
fn anonymize_keeps_frames_duration_and_audio_and_hides_the_face() {
    anonymize_clip("with-audio", "audio");
}

#[test]
fn anonymize_works_without_an_audio_track() {
    anonymize_clip("no-audio", "noaudio");
}

#[test]
fn anonymize_rejects_unreadable_input_clearly() {
    let out = Command::new(root().join("pipelines/anonymize.sh"))
        .args(["/nonexistent/in.mp4", "/tmp/never-written.mp4"])
        .env("GST_PLUGIN_PATH", plugin_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

/// `anonymize.sh` as a user at a terminal runs it (under `script`, which gives it one): a
/// progress line and a last line on stderr, no `error:` line even where the Vulkan loader's
/// device-select layer would print one; `QUIET=1` says nothing; a pipeline that fails says so
/// in one line and exits non-zero.
#[test]
fn anonymize_reports_progress_on_a_terminal_and_failures_in_one_line() {
    let dir = work_dir("progress");
    let clip = dir.join("clip.mp4");
    sh(Command::new(root().join("scripts/make-clip.sh"))
        .arg(&clip)
        .args(["320x180", "2", "noaudio"]));
    let script = root().join("pipelines/anonymize.sh");
    let at_terminal = |env: &str, out: &Path| {
        let cmd = format!(
            "{env} '{}' '{}' '{}'",
            script.display(),
            clip.display(),
            out.display()
        );
        let run = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("GST_PLUGIN_PATH", plugin_dir())
            .env_remove("NODEVICE_SELECT")
            .output()
            .expect("script (util-linux) runs");
        (
            run.status.success(),
            String::from_utf8_lossy(&run.stdout).to_string(),
        )
    };

    let (ok, text) = at_terminal("", &dir.join("out.mp4"));
    assert!(ok, "{text}");
    assert!(text.contains("anonymize: done in"), "{text}");
    assert!(
        !text.contains("error:"),
        "an error line in a normal run:\n{text}"
    );

    let (ok, text) = at_terminal("QUIET=1", &dir.join("quiet.mp4"));
    assert!(ok, "{text}");
    assert!(text.trim().is_empty(), "QUIET=1 printed:\n{text}");

    let failed = Command::new(&script)
        .arg(&clip)
        .arg("/nonexistent/dir/out.mp4")
        .env("GST_PLUGIN_PATH", plugin_dir())
        .env_remove("NODEVICE_SELECT")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
    assert!(
        stderr.starts_with("anonymize: failed: Could not open file"),
        "{stderr}"
    );
}
