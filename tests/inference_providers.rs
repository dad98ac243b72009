//! Where the networks run (`execution-provider`), as a user meets it from `gst-launch-1.0`: the
//! built plugin library in a process of its own per case, since ONNX Runtime and its WebGPU
//! provider are set up once per process. On a machine with no hardware GPU (CI) `auto` runs on
//! the CPU quietly, `webgpu` runs on the CPU with a warning that says why, a missing or damaged
//! provider library is a warning that says what to do, and the detections are the same in
//! every case. `cuda` on the CPU build of ONNX Runtime, and ONNX Runtime's CUDA build where
//! CUDA's libraries are absent (`make gpu-runtime`), fall back the same way. Every case says
//! what ran in its `mediaai-inference` message.

use std::path::PathBuf;
use std::process::Command;

use mediaai_pipelines::{plugin_dir, root, work_dir};

/// What one run of onnxfacedetect on the astronaut photograph said.
#[derive(Debug)]
struct Run {
    /// The `facedetect` messages' face lines (x, y, width, height), in order.
    faces: Vec<String>,
    /// The `mediaai-inference` message.
    inference: String,
    /// Warning messages from the bus.
    warnings: String,
    /// The whole output, for failures.
    output: String,
}

fn detect(provider: &str, library: Option<&PathBuf>) -> Run {
    detect_with(provider, library, None)
}

/// [`detect`] with the ONNX Runtime library `runtime` in place of the default one.
fn detect_with(provider: &str, library: Option<&PathBuf>, runtime: Option<&PathBuf>) -> Run {
    let photo = root().join(".deps/media/astronaut.png");
    assert!(photo.is_file(), "run `make media` first");
    let mut cmd = Command::new("gst-launch-1.0");
    cmd.env("GST_PLUGIN_PATH", plugin_dir())
        .env("GST_REGISTRY", work_dir("providers").join("registry.bin"))
        .arg("-m")
        .args(["filesrc", &format!("location={}", photo.display()), "!"])
        .args([
            "pngdec",
            "!",
            "videoconvert",
            "!",
            "imagefreeze",
            "num-buffers=2",
        ])
        .args(["!", "video/x-raw,format=I420", "!"])
        .args([
            "onnxfacedetect",
            &format!("execution-provider={provider}"),
            "!",
            "fakesink",
        ]);
    if let Some(lib) = library {
        cmd.env("MEDIAAI_WEBGPU_EP", lib);
    }
    if let Some(runtime) = runtime {
        cmd.env("ORT_DYLIB_PATH", runtime);
    }
    let out = cmd.output().expect("gst-launch-1.0 runs");
    let output = mediaai_pipelines::printed(&out);
    assert!(
        out.status.success(),
        "{provider}: pipeline failed ({:?})\n{output}",
        out.status
    );
    assert!(
        !output.contains("panicked"),
        "{provider}: a panic\n{output}"
    );
    let field = |line: &str, name: &str| {
        line.split(&format!("{name}=(int)"))
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .map(str::to_string)
            .unwrap_or_default()
    };
    let faces = output
        .lines()
        .filter(|l| l.contains("facedetect,") && l.contains("track-id"))
        .map(|l| ["x", "y", "width", "height"].map(|n| field(l, n)).join(","))
        .collect();
    let pick = |what: &str| {
        output
            .lines()
            .filter(|l| l.contains(what))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Run {
        faces,
        inference: pick("mediaai-inference"),
        warnings: pick("(warning)"),
        output: output.clone(),
    }
}

/// Faces of `run` within 4 px of `cpu`'s, face for face: what a GPU provider in half precision
/// finds where the CPU found them.
fn same_faces_as(run: &Run, cpu: &Run) {
    assert_eq!(run.faces.len(), cpu.faces.len(), "{}", run.output);
    for (a, b) in run.faces.iter().zip(&cpu.faces) {
        let parse = |f: &str| {
            f.split(',')
                .map(|v| v.parse::<i64>().unwrap())
                .collect::<Vec<_>>()
        };
        let off = parse(a)
            .iter()
            .zip(parse(b))
            .map(|(x, y)| (x - y).abs())
            .max();
        assert!(off.is_some_and(|o| o <= 4), "{a} vs {b}\n{}", run.output);
    }
}

/// `auto` runs on the CPU quietly where there is no hardware GPU (CI), saying why in its
/// message; where there is one it runs there. The same faces either way.
#[test]
fn auto_runs_where_it_can_with_the_same_detections() {
    let cpu = detect("cpu", None);
    assert_eq!(cpu.faces.len(), 2, "a face per frame\n{}", cpu.output);
    assert!(
        cpu.inference.contains("execution-provider=(string)cpu") && cpu.warnings.is_empty(),
        "{}",
        cpu.output
    );
    let auto = detect("auto", None);
    assert!(auto.warnings.is_empty(), "{}", auto.output);
    if auto.inference.contains("execution-provider=(string)webgpu") {
        // A hardware GPU (not CI).
        same_faces_as(&auto, &cpu);
        return;
    }
    assert_eq!(auto.faces, cpu.faces, "{}", auto.output);
    assert!(
        auto.inference.contains("requested=(string)auto")
            && auto.inference.contains("execution-provider=(string)cpu"),
        "{}",
        auto.output
    );
}

/// `webgpu` asked for where it cannot run: the CPU, the same faces, and a warning that says
/// why (each phrase as the bus message escapes it) — a missing or damaged provider library on
/// any machine, no hardware GPU where there is none.
#[test]
fn webgpu_where_it_cannot_run_falls_back_to_the_cpu_saying_why() {
    let cpu = detect("cpu", None);
    assert_eq!(cpu.faces.len(), 2, "a face per frame\n{}", cpu.output);
    let falls_back = |library: Option<&PathBuf>, why: &[&str]| {
        let run = detect("webgpu", library);
        assert_eq!(run.faces, cpu.faces, "{}", run.output);
        assert!(
            run.inference.contains("execution-provider=(string)cpu")
                && why.iter().all(|w| run.warnings.contains(&escaped(w))),
            "expected a warning saying {why:?}\n{}",
            run.output
        );
    };
    // A missing provider library: what to do.
    falls_back(
        Some(&work_dir("providers").join("absent.so")),
        &["not installed", "make models"],
    );
    // A damaged one (cut short, as an interrupted download leaves it): the same.
    let library = root().join("models/libonnxruntime_providers_webgpu.so");
    let bytes = std::fs::read(&library).expect("run `make models` first");
    let damaged = work_dir("providers").join("damaged.so");
    std::fs::write(&damaged, &bytes[..bytes.len() / 3]).unwrap();
    falls_back(Some(&damaged), &["could not be loaded", "make models"]);
    let webgpu = detect("webgpu", None);
    if webgpu
        .inference
        .contains("execution-provider=(string)webgpu")
    {
        // A hardware GPU (not CI).
        same_faces_as(&webgpu, &cpu);
    } else {
        falls_back(None, &["no hardware GPU"]);
    }
}

/// A bus warning's text as `gst-launch-1.0 -m` escapes it.
fn escaped(phrase: &str) -> String {
    phrase.replace(' ', "\\ ")
}

#[test]
fn cuda_where_it_cannot_run_falls_back_to_the_cpu_with_the_same_detections() {
    let cpu = detect("cpu", None);
    assert_eq!(cpu.faces.len(), 2, "a face per frame\n{}", cpu.output);

    // The CPU build has no CUDA provider: a warning that says how to get one.
    let run = detect("cuda", None);
    assert_eq!(run.faces, cpu.faces, "{}", run.output);
    assert!(
        run.inference.contains("execution-provider=(string)cpu")
            && run
                .warnings
                .contains(&escaped("has no CUDAExecutionProvider"))
            && run.warnings.contains("ORT_DYLIB_PATH"),
        "{}",
        run.output
    );

    // The CUDA build (`make gpu-runtime`; `make test` fetches it) where CUDA's libraries are
    // not installed: `auto` carries on quietly, saying why in its message; `cuda` warns with
    // the library that is missing.
    let runtime = root().join(".deps/onnxruntime-gpu/libonnxruntime.so");
    assert!(runtime.is_file(), "run `make gpu-runtime` first");
    let auto = detect_with("auto", None, Some(&runtime));
    if auto.inference.contains("execution-provider=(string)cuda") {
        // CUDA runs here (not CI).
        same_faces_as(&auto, &cpu);
        return;
    }
    assert_eq!(auto.faces, cpu.faces, "{}", auto.output);
    assert!(
        auto.warnings.is_empty() && auto.inference.contains(&escaped("CUDA could not be used")),
        "{}",
        auto.output
    );
    let run = detect_with("cuda", None, Some(&runtime));
    assert_eq!(run.faces, cpu.faces, "{}", run.output);
    assert!(
        run.inference.contains("execution-provider=(string)cpu")
            && run.warnings.contains(&escaped("could not be used"))
            && run
                .warnings
                .contains(&escaped("cannot open shared object file")),
        "{}",
        run.output
    );
}
