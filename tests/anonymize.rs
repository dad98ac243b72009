//! pipelines/anonymize.sh end to end: a clip made from a real photograph goes through decode,
//! onnxfacedetect, gpublur and H.264/AAC encoding; the result keeps every frame, the duration
//! and the audio track, and the detector no longer finds a face in it.

use std::path::Path;
use std::process::Command;

use mediaai_pipelines::privacy::PrivacyClip;
use mediaai_pipelines::{
    assert_same_streams, frames_with_faces, names_in, plugin_dir, root, sh, streams, work_dir,
};

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

/// An MP4 indexed at its start and cut short (an interrupted copy) plays to where its bytes
/// stop with no error: the script says the input is truncated in one line, exits non-zero, and
/// leaves no output file (nor its temporary) that would look like the whole programme.
#[test]
fn a_truncated_input_fails_in_one_line_and_leaves_no_output() {
    let dir = work_dir("truncated");
    let (indexed, cut) = mediaai_pipelines::truncated_clip(&dir);
    let result = dir.join("anonymized.mp4");
    let _ = std::fs::remove_file(&result);
    let out = Command::new(root().join("pipelines/anonymize.sh"))
        .arg(&cut)
        .arg(&result)
        .env("GST_PLUGIN_PATH", plugin_dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "exit status 0:\n{stderr}");
    let lines: Vec<_> = stderr.lines().filter(|l| !l.is_empty()).collect();
    assert!(
        lines.len() == 1 && lines[0].contains("truncated"),
        "one line saying why:\n{stderr}"
    );
    let left = names_in(&dir, |n| n.contains("anonymized"));
    assert!(left.is_empty(), "left behind: {left:?}");
    // The whole file goes through.
    sh(Command::new(root().join("pipelines/anonymize.sh"))
        .arg(&indexed)
        .arg(&result));
    assert!(result.is_file());
}

/// Values out of an element's range or an enum's values, given through the scripts' knobs,
/// are refused before anything runs, saying what is allowed (gst-launch-1.0 itself would warn
/// and take the default, or fail without the list), exit status 2, no output.
#[test]
fn out_of_range_options_are_refused_with_what_is_allowed() {
    let dir = work_dir("options");
    let out_file = dir.join("never.mp4");
    let _ = std::fs::remove_file(&out_file);
    for (knob, value, said) in [
        (
            "BLUR_OPTS",
            "strength=500",
            "gpublur strength=500: out of range (allowed: 0 to 100)",
        ),
        (
            "DETECT_OPTS",
            "threshold=2",
            "onnxfacedetect threshold=2: out of range (allowed: 0 to 1)",
        ),
        (
            "BLUR_OPTS",
            "strength=10 mode=foo",
            "not one of the allowed values: gaussian, mosaic, solid, bokeh",
        ),
        (
            "QC_PROFILE",
            "bogus",
            "profile=bogus: not one of the allowed values: none, ebu-r128",
        ),
    ] {
        let out = Command::new(root().join("pipelines/anonymize.sh"))
            .arg(media_clip())
            .arg(&out_file)
            .env(knob, value)
            .env("GST_PLUGIN_PATH", plugin_dir())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{knob}={value}: {stderr}");
        assert!(stderr.contains(said), "{knob}={value}: {stderr}");
        assert!(!out_file.exists(), "{knob}={value}: an output was written");
    }
}

/// A run that fails at start (no face in the `KEEP_FACES` photographs) says why in one line,
/// without gst-launch-1.0's own "pipeline doesn't want to preroll", and leaves no output.
#[test]
fn a_failing_start_says_why_alone_and_leaves_no_output() {
    let dir = work_dir("failing-start");
    let keep = dir.join("keep");
    let _ = std::fs::remove_dir_all(&keep);
    std::fs::create_dir_all(&keep).unwrap();
    let out_file = dir.join("never.mp4");
    let _ = std::fs::remove_file(&out_file);
    let out = Command::new(root().join("pipelines/anonymize.sh"))
        .arg(media_clip())
        .arg(&out_file)
        .env("KEEP_FACES", &keep)
        .env("GST_PLUGIN_PATH", plugin_dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<_> = stderr.lines().filter(|l| !l.is_empty()).collect();
    assert!(
        lines.len() == 1 && lines[0].contains("no face found") && !lines[0].contains("preroll"),
        "{stderr}"
    );
    let left = names_in(&dir, |n| n.contains("never"));
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A short clip for runs that must stop before they start.
fn media_clip() -> std::path::PathBuf {
    let clip = work_dir("options").join("clip.mp4");
    if !clip.is_file() {
        sh(Command::new(root().join("scripts/make-clip.sh"))
            .arg(&clip)
            .args(["320x240", "1", "noaudio"]));
    }
    clip
}

/// Files GStreamer cannot read at all — a text file named `.mp4`, an MP4 whose index (at its
/// end) was cut off — fail with the real cause in one line, not as "has no video stream".
#[test]
fn unreadable_inputs_fail_with_the_real_cause() {
    let dir = work_dir("unreadable");
    let text = dir.join("notes.mp4");
    std::fs::write(
        &text,
        "minutes of the meeting
",
    )
    .unwrap();
    let clip = dir.join("clip.mp4");
    sh(Command::new(root().join("scripts/make-clip.sh"))
        .arg(&clip)
        .args(["320x240", "2", "noaudio"]));
    let bytes = std::fs::read(&clip).unwrap();
    let cut = dir.join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    for (input, why) in [
        (&text, "Could not determine type of stream"),
        (&cut, "may be truncated"),
    ] {
        let out = Command::new(root().join("pipelines/anonymize.sh"))
            .arg(input)
            .arg(dir.join("out.mp4"))
            .env("GST_PLUGIN_PATH", plugin_dir())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{input:?}: exit status 0");
        let lines: Vec<_> = stderr.lines().filter(|l| !l.is_empty()).collect();
        assert!(
            lines.len() == 1 && lines[0].contains("not a media file") && lines[0].contains(why),
            "{input:?}: {stderr}"
        );
    }
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

/// GStreamer with the project's elements registered in this process, once.
fn register() {
    gst::init().unwrap();
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| gstmediaai::plugin_register_static().expect("plugin registers"));
}

/// The latency upstream of the element named `sink` once `launch` has prerolled.
fn prerolled_latency(launch: &str) -> gst::ClockTime {
    use gst::prelude::*;
    register();
    let pipeline = gst::parse::launch(launch)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    pipeline.set_state(gst::State::Paused).unwrap();
    let (done, ..) = pipeline.state(gst::ClockTime::from_seconds(30));
    done.expect("the pipeline prerolls");
    // What the sink would be told (a sink answers a latency query itself only when it syncs).
    let sink = pipeline.by_name("sink").expect("a sink named sink");
    let mut query = gst::query::Latency::new();
    assert!(sink.static_pad("sink").unwrap().peer_query(&mut query));
    pipeline.set_state(gst::State::Null).unwrap();
    query.result().1
}

/// A detector that runs every Nth frame tells the blur so (`mediaai-detection-gap`), and the
/// blur holds N frames back without being told (a face is found N−1 frames late at most and
/// seen moving the frame after): a face is hidden from its first frame whatever `interval` is,
/// and the latency says what it costs. A larger `lookahead` set by hand still wins.
#[test]
fn the_blur_holds_back_as_many_frames_as_the_detector_may_be_late() {
    let launch = |detect: &str, blur: &str| {
        format!(
            "videotestsrc num-buffers=8 ! video/x-raw,format=I420,width=64,height=48,framerate=25/1 \
             ! onnxfacedetect {detect} ! gpublur backend=cpu {blur} ! fakesink name=sink"
        )
    };
    let frame = gst::ClockTime::from_mseconds(40);
    // The detector's own (a frame in flight): the blur adds nothing at interval 1.
    let base = prerolled_latency(&launch("interval=1", ""));
    assert_eq!(
        prerolled_latency(&launch("interval=4", "")),
        base + 4 * frame
    );
    assert_eq!(
        prerolled_latency(&launch("interval=2", "lookahead=3")),
        base + 3 * frame
    );
}

/// The privacy contract at defaults (`onnxfacedetect ! gpublur`, no property set): in a clip
/// where faces enter, leave, appear from nowhere, cross, move fast (10% of the frame width per
/// frame) and shrink to 24 px, every face wholly in the picture keeps at most 10% of its
/// detail in every frame.
#[test]
fn at_defaults_every_face_in_every_frame_is_hidden() {
    register();
    let clip = PrivacyClip::new(1);
    let out = mediaai_testing::push_frames("onnxfacedetect ! gpublur", &clip.caps(), &clip.frames);
    assert_eq!(out.len(), clip.frames.len(), "every frame comes out");
    let exposed = clip.exposed(&out);
    assert!(exposed.is_empty(), "faces shown:\n{}", exposed.join("\n"));
}
