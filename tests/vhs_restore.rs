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

/// The CPU paths' row kernels are built for AVX-512 (vhsrestore's), AVX2 and the baseline
/// (SSE2), and the widest the CPU has runs (`MEDIAAI_SIMD` caps it): every build must give the
/// same bytes, as the compiler never contracts or reorders float arithmetic. vhsrestore
/// (deinterlacing, block motion, denoising along it, levels) and upscale's spatial path (AVX2
/// at most), run once per cap in processes of their own (the cap is read once per process),
/// on a moving zone plate.
#[test]
fn every_vector_build_gives_the_same_bytes() {
    let dir = work_dir("vector-builds");
    let pipelines = [
        (
            "vhsrestore",
            "videotestsrc num-buffers=8 pattern=zone-plate kx2=20 ky2=20 kt=3 kxt=2 \
             ! video/x-raw,format=I420,width=720,height=576,framerate=25/1,interlace-mode=interleaved \
             ! vhsrestore black-level=24 white-level=220",
        ),
        (
            "upscale",
            "videotestsrc num-buffers=4 pattern=zone-plate kx2=20 ky2=20 kt=3 \
             ! video/x-raw,format=I420,width=320,height=240 ! upscale method=spatial backend=cpu",
        ),
    ];
    for (name, launch) in pipelines {
        let mut runs: Vec<(&str, String, Vec<u8>)> = Vec::new();
        for cap in ["sse2", "avx2", "avx512"] {
            let file = dir.join(format!("{name}-{cap}.raw"));
            let line = format!("{launch} ! filesink location={}", file.display());
            let out = sh(Command::new("gst-launch-1.0")
                .arg("-q")
                .args(line.split_whitespace())
                .env("MEDIAAI_SIMD", cap)
                .env("GST_DEBUG", "mediaai-simd:4")
                .env("GST_DEBUG_NO_COLOR", "1"));
            let log = String::from_utf8_lossy(&out.stderr).to_string();
            let used = log
                .lines()
                .find_map(|l| l.split("vector instructions: up to ").nth(1))
                .and_then(|l| l.split_whitespace().next())
                .unwrap_or_else(|| panic!("{name} ({cap}): no vector build logged:\n{log}"))
                .to_string();
            runs.push((cap, used, std::fs::read(&file).unwrap()));
        }
        let used: Vec<&str> = runs.iter().map(|r| r.1.as_str()).collect();
        eprintln!("{name}: MEDIAAI_SIMD=sse2, avx2, avx512 allowed {used:?}");
        assert_eq!(used[0], "Baseline", "{name}: MEDIAAI_SIMD=sse2 honoured");
        let mut distinct = used.clone();
        distinct.dedup();
        assert!(
            distinct.len() >= 2,
            "{name}: this CPU has no AVX2, so there is only one build to compare ({used:?})"
        );
        for (cap, used, bytes) in &runs[1..] {
            assert!(!bytes.is_empty(), "{name}: output");
            assert!(
                *bytes == runs[0].2,
                "{name}: the {used} build ({cap}) gives other bytes than the baseline"
            );
        }
    }
}

/// On the GPU with `pipelined` a frame is read back once the next one is submitted; when its
/// readback fails (injected: `MEDIAAI_FAULT=vhsrestore-readback`) it is restored on the CPU
/// from the frames it kept, with a warning, and the stream goes on there: every frame comes
/// out, the same bytes as the CPU path's from the start (the denoisers start afresh with it).
#[test]
fn a_frame_whose_gpu_readback_fails_is_restored_on_the_cpu() {
    let dir = work_dir("vhs-readback");
    let launch = |backend: &str, file: &std::path::Path| {
        format!(
            "videotestsrc num-buffers=10 pattern=ball motion=sweep \
             ! video/x-raw,format=I420,width=320,height=240,framerate=25/1,interlace-mode=interleaved \
             ! vhsrestore backend={backend} pipelined=on ! video/x-raw ! filesink location={}",
            file.display()
        )
    };
    let (cpu, gpu) = (dir.join("cpu.raw"), dir.join("gpu.raw"));
    sh(Command::new("gst-launch-1.0")
        .arg("-q")
        .args(launch("cpu", &cpu).split_whitespace()));
    let out = sh(Command::new("gst-launch-1.0")
        .args(launch("gpu", &gpu).split_whitespace())
        .env("MEDIAAI_FAULT", "vhsrestore-readback"));
    let printed = mediaai_pipelines::printed(&out);
    assert!(
        printed.contains("continuing on the CPU") && printed.contains("readback failed"),
        "a warning says what happened:\n{printed}"
    );
    let (a, b) = (std::fs::read(&cpu).unwrap(), std::fs::read(&gpu).unwrap());
    assert_eq!(a.len(), 10 * 320 * 240 * 3 / 2, "every frame");
    assert!(
        a == b,
        "the frames restored on the CPU after the failed readback"
    );
}
