//! `meson install` into a prefix of its own, as a user installs beside the system's copy: every
//! file lands under the prefix (the plugin too, not in the system's plugin directory), and the
//! installed plugin runs from there, finding its models (`onnxfacekeep`'s included) and ONNX
//! Runtime under its own prefix rather than in the source tree it was built from.

use std::path::{Path, PathBuf};
use std::process::Command;

use mediaai_pipelines::{plugin_dir, root, work_dir, PLUGIN};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the command starts");
    let text = mediaai_pipelines::printed(&out);
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        if path.is_dir() {
            if let Some(found) = find(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

#[test]
fn a_prefix_install_stays_in_its_prefix_and_runs_from_it() {
    let dir = work_dir("install");
    let (build, prefix) = (dir.join("build"), dir.join("prefix"));
    let _ = std::fs::remove_dir_all(&build);
    let _ = std::fs::remove_dir_all(&prefix);
    // The library the suite built and tested, not a release build of its own (minutes).
    let library = plugin_dir().join(PLUGIN);
    run(Command::new("meson")
        .current_dir(root())
        .env("MEDIAAI_PLUGIN_LIBRARY", &library)
        .arg("setup")
        .arg(&build)
        .arg(format!("--prefix={}", prefix.display())));
    run(Command::new("meson")
        .current_dir(root())
        .env("MEDIAAI_PLUGIN_LIBRARY", &library)
        .args(["install", "-C"])
        .arg(&build));
    let installed = run(Command::new("meson")
        .current_dir(root())
        .args(["introspect", "--installed"])
        .arg(&build));
    // `introspect --installed` maps each file of the build or source tree to where it went.
    let prefix = prefix.canonicalize().unwrap();
    let prefix_text = prefix.display().to_string();
    let trees = [root().canonicalize().unwrap(), root()].map(|p| p.display().to_string());
    let outside: Vec<_> = installed
        .split('"')
        .filter(|s| s.starts_with('/') && !trees.iter().any(|t| s.starts_with(t.as_str())))
        .filter(|s| !s.starts_with(&prefix_text))
        .collect();
    assert!(
        outside.is_empty(),
        "installed outside the prefix: {outside:?}"
    );
    let plugin = find(&prefix, PLUGIN).expect("the plugin under the prefix");
    for model in ["centerface.onnx", "dlibface.onnx"] {
        assert!(
            prefix
                .join("share/gst-media-ai/models")
                .join(model)
                .is_file(),
            "{model} installed"
        );
    }

    // The installed plugin alone: no model directory or runtime named, a registry of its own.
    let keep = dir.join("keep");
    std::fs::create_dir_all(&keep).unwrap();
    let photo = root().join(".deps/media/astronaut.png");
    std::fs::copy(&photo, keep.join("astronaut.png")).unwrap();
    let printed = run(Command::new("gst-launch-1.0")
        .env_remove("MEDIAAI_MODEL_DIR")
        .env_remove("ORT_DYLIB_PATH")
        .env("GST_PLUGIN_PATH", plugin.parent().unwrap())
        .env("GST_REGISTRY", dir.join("registry.bin"))
        .arg("-m")
        .args(
            format!(
                "filesrc location={} ! pngdec ! videoconvert ! imagefreeze num-buffers=2 \
                 ! onnxfacedetect ! onnxfacekeep keep-faces={} ! fakesink",
                photo.display(),
                keep.display()
            )
            .split_whitespace(),
        ));
    let models: Vec<_> = printed
        .lines()
        .filter(|l| l.contains("mediaai-inference"))
        .filter_map(|l| l.split("model=(string)").nth(1))
        .map(|r| r.split([',', ';']).next().unwrap().to_string())
        .collect();
    assert_eq!(
        models.len(),
        2,
        "the detector's and the descriptor's models:\n{printed}"
    );
    for m in &models {
        assert!(
            m.starts_with(&format!("{prefix_text}/share/gst-media-ai/models/")),
            "{m} is not the prefix's:\n{printed}"
        );
    }
}
