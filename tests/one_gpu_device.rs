//! One GPU device per process (issue 17): the plugin library loaded the way `gst-launch-1.0`
//! loads it (a registry scan of the folder, nothing linked into the test), a chain of every GPU
//! element of the collection forced onto the GPU, and the shared device opened exactly once.

use std::process::Command;

use mediaai_pipelines::{plugin_dir, work_dir};

#[test]
fn every_gpu_element_in_a_chain_shares_one_device() {
    let registry = work_dir("one-device").join("registry.bin");
    let _ = std::fs::remove_file(&registry);
    let chain = "videotestsrc num-buffers=8 pattern=ball \
        ! video/x-raw,format=I420,width=160,height=120,framerate=25/1 \
        ! vhsrestore backend=gpu ! upscale method=spatial backend=gpu \
        ! gpublur region=frame backend=gpu ! qcfingerprint backend=gpu ! fakesink";
    let out = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(chain.split_whitespace())
        .env("GST_PLUGIN_PATH", plugin_dir())
        .env("GST_REGISTRY", &registry)
        .env("GST_DEBUG", "mediaai-gpu:4")
        .env("GST_DEBUG_NO_COLOR", "1")
        .output()
        .expect("gst-launch-1.0 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the chain failed:\n{stderr}");
    let opened = stderr
        .lines()
        .filter(|l| l.contains("opened the shared GPU device"))
        .count();
    assert_eq!(
        opened, 1,
        "four GPU elements must share one device, {opened} were opened:\n{stderr}"
    );
}
