//! pipelines/denoise-audio.sh end to end: real speech with noise, alone and muxed with an H.264
//! video track; the video comes out byte for byte as it went in, the audio keeps its length,
//! and a WAV keeps every sample.

use std::path::Path;
use std::process::Command;

use mediaai_pipelines::{assert_same_streams, plugin_dir, root, sh, streams, work_dir};
use mediaai_testing::{alsa_speech, read_wav, si_sdr, write_wav};

/// MD5 of every decoded video frame of `file`: equal lists mean the pictures were copied, not
/// re-encoded (the parser may still repeat the parameter sets in-band).
fn video_frames(file: &Path) -> Vec<String> {
    let out = sh(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file)
        .args(["-map", "0:v:0", "-f", "framemd5", "-"]));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next().map(|h| h.trim().to_string()))
        .collect()
}

#[test]
fn denoise_audio_keeps_the_video_untouched_and_the_audio_length() {
    let dir = work_dir("denoise-audio");
    let speech = root().join(".deps/media/alsa-Front_Center.wav");
    let noise = root().join(".deps/media/alsa-Noise.wav");
    // Noisy speech (noise mixed at a third of its level) with 40 frames of H.264 video.
    let clip = dir.join("clip.mp4");
    sh(Command::new("gst-launch-1.0").args(["-q", "-e"]).args(
        format!(
            "audiomixer name=m ! audioconvert ! avenc_aac ! aacparse ! queue ! mp4mux name=mux ! filesink location={} \
             filesrc location={} ! wavparse ! audioconvert ! m. \
             filesrc location={} ! wavparse ! audioconvert ! volume volume=0.3 ! m. \
             videotestsrc num-buffers=35 ! video/x-raw,width=320,height=240,framerate=25/1 ! x264enc ! h264parse ! queue ! mux.",
            clip.display(),
            speech.display(),
            noise.display()
        )
        .split_whitespace(),
    ));
    let result = dir.join("denoised.mp4");
    sh(Command::new(root().join("pipelines/denoise-audio.sh"))
        .arg(&clip)
        .arg(&result));
    let (a, b) = (streams(&clip), streams(&result));
    assert_eq!(a.len(), 2, "{a:?}");
    assert_same_streams(&a, &b);
    let (va, vb) = (video_frames(&clip), video_frames(&result));
    assert_eq!(va.len(), 35);
    assert!(va == vb, "the video pictures are copied, not re-encoded");

    // WAV to WAV keeps every sample, and makes noisy speech cleaner: the eight announcements
    // (11.4 s) with the noise at 5 dB SNR.
    let clean = alsa_speech();
    let noise = read_wav(&noise).2;
    let energy = |x: &[f32]| x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>();
    let gain = (energy(&clean) / energy(&noise) * (noise.len() as f64 / clean.len() as f64)
        / 10f64.powf(0.5))
    .sqrt() as f32;
    let noisy: Vec<f32> = clean
        .iter()
        .zip(noise.iter().cycle())
        .map(|(s, n)| s + gain * n)
        .collect();
    let wav = dir.join("noisy.wav");
    write_wav(&wav, 48_000, 1, &noisy);
    let out = dir.join("denoised.wav");
    sh(Command::new(root().join("pipelines/denoise-audio.sh"))
        .arg(&wav)
        .arg(&out));
    let denoised = read_wav(&out).2;
    assert_eq!(denoised.len(), noisy.len(), "every sample comes back");
    let noisy = read_wav(&wav).2;
    let (before, after) = (si_sdr(&noisy, &clean), si_sdr(&denoised, &clean));
    assert!(after > before + 1.0, "SI-SDR {before:.1} -> {after:.1} dB");
}

#[test]
fn denoise_audio_rejects_a_file_without_audio() {
    let dir = work_dir("denoise-audio-noaudio");
    let clip = dir.join("video.mp4");
    sh(Command::new("gst-launch-1.0").args(["-q", "-e"]).args(
        format!(
            "videotestsrc num-buffers=10 ! x264enc ! h264parse ! mp4mux ! filesink location={}",
            clip.display()
        )
        .split_whitespace(),
    ));
    let out = Command::new(root().join("pipelines/denoise-audio.sh"))
        .arg(&clip)
        .arg(dir.join("out.wav"))
        .env("GST_PLUGIN_PATH", plugin_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no audio stream"));
}
