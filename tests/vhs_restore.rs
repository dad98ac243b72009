//! pipelines/vhs-restore.sh end to end: an interlaced H.264 clip with audio comes out
//! progressive, with every frame, its duration and its audio track.

use std::process::Command;

use mediaai_pipelines::{assert_same_streams, root, sh, streams, work_dir};

#[test]
fn vhs_restore_keeps_frames_duration_and_audio() {
    let dir = work_dir("vhs-restore");
    let clip = dir.join("tape.mp4");
    sh(Command::new("gst-launch-1.0").args(["-q", "-e"]).args(
        format!(
            "videotestsrc num-buffers=50 pattern=ball ! video/x-raw,format=I420,width=720,height=576,framerate=25/1,interlace-mode=interleaved \
             ! x264enc interlaced=true ! h264parse ! queue ! mp4mux name=mux ! filesink location={} \
             audiotestsrc num-buffers=94 ! audioconvert ! avenc_aac ! aacparse ! queue ! mux.",
            clip.display()
        )
        .split_whitespace(),
    ));
    let out = dir.join("restored.mp4");
    sh(Command::new(root().join("pipelines/vhs-restore.sh"))
        .arg(&clip)
        .arg(&out));
    let (a, b) = (streams(&clip), streams(&out));
    assert_same_streams(&a, &b);
    let video = |s: &[(String, u64, f64)]| s.iter().find(|s| s.0 == "video").unwrap().1;
    assert_eq!(video(&a), video(&b), "every frame");
    assert!(b.iter().any(|s| s.0 == "audio"));
    let probe = sh(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "frame=interlaced_frame",
            "-of",
            "csv=p=0",
        ])
        .arg(&out));
    assert!(
        String::from_utf8_lossy(&probe.stdout)
            .lines()
            .filter_map(|l| l.split(',').next().map(str::trim).filter(|v| !v.is_empty()))
            .all(|v| v == "0"),
        "every output frame is progressive"
    );
}
