//! Helpers of the end-to-end tests: where the plugins were built, scratch folders, running
//! commands with the plugins on the path, and probing the files they write.

pub mod fuzzing;
pub mod privacy;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Waits up to `seconds` for `pipeline` to reach EOS; `Err` with the error it posted, or why
/// it did not end.
pub fn wait_for_eos(pipeline: &gst::Pipeline, seconds: u64) -> Result<(), String> {
    use gst::prelude::*;
    let bus = pipeline.bus().ok_or("the pipeline has no bus")?;
    match bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(seconds),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    ) {
        None => Err(format!("no EOS within {seconds} s")),
        Some(msg) => match msg.view() {
            gst::MessageView::Error(e) => Err(format!("{} ({:?})", e.error(), e.debug())),
            _ => Ok(()),
        },
    }
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The project's plugin library: every element in one file (see plugins/mediaai).
pub const PLUGIN: &str = "libgstmediaai.so";

/// The folder cargo built the plugin library into (target/<profile>).
pub fn plugin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    assert!(
        dir.join(PLUGIN).is_file(),
        "{PLUGIN} not in {}: build the plugins first (make test does)",
        dir.display()
    );
    dir
}

pub fn work_dir(name: &str) -> PathBuf {
    let d = root().join("target/test-media").join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// What a finished command printed: its standard output, then its standard error.
pub fn printed(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn sh(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .env("GST_PLUGIN_PATH", plugin_dir())
        .output()
        .expect("command starts");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// (codec_type, frames, duration in s) per stream, counted by decoding.
pub fn streams(file: &Path) -> Vec<(String, u64, f64)> {
    let out = sh(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-show_entries",
            "stream=codec_type,nb_read_frames,duration",
            "-of",
            "csv=p=0",
        ])
        .arg(file));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                f[2].parse().unwrap_or(0),
                f[1].parse().unwrap_or(0.0),
            )
        })
        .collect()
}

/// Same stream kinds in the same order, each lasting as long within 50 ms.
pub fn assert_same_streams(a: &[(String, u64, f64)], b: &[(String, u64, f64)]) {
    assert_eq!(a.len(), b.len(), "same streams: {a:?} vs {b:?}");
    for (sa, sb) in a.iter().zip(b) {
        assert_eq!(sa.0, sb.0);
        assert!(
            (sa.2 - sb.2).abs() < 0.05,
            "{} duration {} vs {}",
            sa.0,
            sa.2,
            sb.2
        );
    }
}

/// A 3 s 320x240 clip with sound in `dir`, remuxed with its index at its start (as
/// `faststart` writes delivery files) and that file cut to half its bytes, as an interrupted
/// copy leaves it: (the whole indexed file, the cut one). A cut file plays to where its bytes
/// stop without an error.
pub fn truncated_clip(dir: &Path) -> (PathBuf, PathBuf) {
    let clip = dir.join("clip.mp4");
    sh(Command::new(root().join("scripts/make-clip.sh"))
        .arg(&clip)
        .args(["320x240", "3", "audio"]));
    let indexed = dir.join("indexed.mp4");
    sh(Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(&clip)
        .args(["-c", "copy", "-movflags", "+faststart"])
        .arg(&indexed));
    let bytes = std::fs::read(&indexed).unwrap();
    let cut = dir.join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    (indexed, cut)
}

/// `pipelines/batch.sh gather OUTDIR`: its exit status and the manifest's rows
/// ([`manifest_rows`]).
pub fn gather_batch(outdir: &Path) -> (i32, Vec<(String, String, String, String)>) {
    let status = Command::new(root().join("pipelines/batch.sh"))
        .arg("gather")
        .arg(outdir)
        .output()
        .expect("batch.sh runs");
    (status.status.code().unwrap_or(-1), manifest_rows(outdir))
}

/// The rows of a `pipelines/batch.sh` manifest after its header: (input file name, status,
/// frames in, frames out).
pub fn manifest_rows(outdir: &Path) -> Vec<(String, String, String, String)> {
    std::fs::read_to_string(outdir.join("manifest.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let name = f[1]
                .trim_matches('"')
                .rsplit('/')
                .next()
                .unwrap()
                .to_string();
            (name, f[3].into(), f[5].into(), f[6].into())
        })
        .collect()
}

/// Frames of `file` in which onnxfacedetect finds a face with confidence above 0.5. The
/// astronaut's face scores above 0.8; what the blur leaves is a head-shaped blob that scores
/// at most about 0.35, which is not a face anyone can recognise.
pub fn frames_with_faces(file: &Path) -> usize {
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

/// The names of the files in `dir` that `keep` accepts (what a script left behind).
pub fn names_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| keep(n))
        .collect()
}
