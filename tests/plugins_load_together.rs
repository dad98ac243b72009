//! The project's plugin library loaded into one process, as the registry scanner and
//! applications load a folder of plugins: each must register (no type registered twice, no
//! panic while loading) and offer its elements.

use std::process::Command;

use mediaai_pipelines::{plugin_dir, work_dir};

const ELEMENTS: [&str; 9] = [
    "onnxfacedetect",
    "gpublur",
    "audiodenoise",
    "vhsrestore",
    "qcfingerprint",
    "qcaudio",
    "upscale",
    "wgpuupload",
    "wgpudownload",
];

#[test]
fn every_plugin_loads_beside_the_others() {
    // A registry of its own, so that the folder is scanned afresh; no fork, so that every
    // plugin is loaded into this one gst-inspect process.
    let registry = work_dir("load-together").join("registry.bin");
    let _ = std::fs::remove_file(&registry);
    let out = Command::new("gst-inspect-1.0")
        .env("GST_PLUGIN_PATH", plugin_dir())
        .env("GST_REGISTRY", &registry)
        .env("GST_REGISTRY_FORK", "no")
        .output()
        .expect("gst-inspect-1.0 runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "gst-inspect-1.0 failed:\n{stderr}");
    assert!(!stderr.contains("panicked"), "a plugin panicked:\n{stderr}");
    for element in ELEMENTS {
        assert!(
            // "plugin:  element: description"
            stdout
                .lines()
                .any(|l| l.split(':').nth(1).map(str::trim) == Some(element)),
            "{element} missing from the registry:\n{stdout}\n{stderr}"
        );
    }
}
