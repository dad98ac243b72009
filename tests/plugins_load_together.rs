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

/// Plain `gst-launch-1.0` on a headless machine, as a new user first runs the collection: no
/// `NODEVICE_SELECT`, no `XDG_RUNTIME_DIR` (no display session). Every element that touches the
/// GPU code, at its defaults, prints no `error:` line (Mesa's device-select layer would print
/// "error: XDG_RUNTIME_DIR is invalid" unless the plugin switches it off) and exits 0.
#[test]
fn plain_gst_launch_on_a_headless_machine_prints_no_error_line() {
    let registry = work_dir("headless").join("registry.bin");
    let video = "videotestsrc num-buffers=3 ! video/x-raw,format=I420,width=64,height=48";
    // At the defaults, and with the GPU switched off (the elements then run on the CPU).
    let chains = [
        ("", "gpublur region=frame"),
        ("", "vhsrestore"),
        ("", "upscale method=spatial"),
        ("", "qcfingerprint"),
        ("", "wgpuupload ! gpublur region=frame ! wgpudownload"),
        ("", "onnxfacedetect ! gpublur"),
        ("none", "gpublur region=frame"),
        ("none", "vhsrestore ! qcfingerprint"),
    ];
    for (adapter, chain) in chains {
        let line = format!("{video} ! {chain} ! fakesink");
        let out = Command::new("gst-launch-1.0")
            .env("MEDIAAI_GPU_ADAPTER", adapter)
            .env_remove("NODEVICE_SELECT")
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("MESA_VK_DEVICE_SELECT")
            .env("GST_PLUGIN_PATH", plugin_dir())
            .env("GST_REGISTRY", &registry)
            .arg("-q")
            .args(line.split_whitespace())
            .output()
            .expect("gst-launch-1.0 runs");
        let printed = mediaai_pipelines::printed(&out);
        assert!(out.status.success(), "{line}: failed\n{printed}");
        assert!(
            !printed
                .lines()
                .any(|l| l.to_ascii_lowercase().contains("error:")),
            "{line}: printed an error line\n{printed}"
        );
    }
}
