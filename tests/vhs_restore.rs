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
            "videotestsrc num-buffers=100 pattern=ball motion=sweep ! video/x-raw,format=I420,width=720,height=576,framerate=50/1 \
             ! interlace top-field-first=true field-pattern=1:1 \
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
    let flags: Vec<String> = String::from_utf8_lossy(&probe.stdout)
        .lines()
        .filter_map(|l| l.split(',').next().map(str::trim).filter(|v| !v.is_empty()))
        .map(str::to_string)
        .collect();
    assert_eq!(flags.len() as u64, video(&b), "a flag per frame: {flags:?}");
    assert!(
        flags.iter().all(|v| v == "0"),
        "encoded progressive: {flags:?}"
    );
    // The fields of the input are 20 ms apart (a ball moving between them combs its edges);
    // the output's rows agree with their neighbours: deinterlaced, not just flagged so.
    let (before, after) = (combing(&clip), combing(&out));
    eprintln!("combing: {before:.1} before, {after:.1} after");
    assert!(
        after < 0.2 * before,
        "combing {after:.1} after restoration, {before:.1} before"
    );
}

/// Mean comb energy of a video's luma: how much each row departs, in the same direction, from
/// both rows around it (weave artefacts of fields from different times), over every frame.
fn combing(video: &std::path::Path) -> f64 {
    let (w, h) = (720usize, 576usize);
    let raw = sh(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(video)
        .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"]));
    let luma = raw.stdout;
    assert!(luma.len() >= w * h, "decoded {} bytes", luma.len());
    let mut sum = 0.0;
    let mut n = 0usize;
    for frame in luma.chunks_exact(w * h) {
        for y in 1..h - 1 {
            for x in 0..w {
                let p = |yy: usize| frame[yy * w + x] as f64;
                let (up, c, down) = (p(y - 1), p(y), p(y + 1));
                sum += ((c - up) * (c - down)).max(0.0);
                n += 1;
            }
        }
    }
    sum / n as f64
}
