//! `backend=auto` decides between the GPU and the CPU path from the adapter alone: on a
//! software rasteriser (lavapipe in CI) it runs the CPU path without ever creating a device.
//! Its own test binary, so no other test has made the process-wide device first.

use mediaai_common::gpu;
use mediaai_testing::run_to_end;

#[test]
fn auto_on_a_software_adapter_creates_no_device() {
    gst::init().unwrap();
    gstgpublur::plugin_register_static().expect("plugin registers");
    let software = gpu::probe_adapter().is_ok_and(|a| a.device_type == wgpu::DeviceType::Cpu);
    let (p, _) = run_to_end(
        "videotestsrc num-buffers=3 ! video/x-raw,format=I420,width=64,height=48 ! gpublur region=frame ! fakesink",
    )
    .expect("auto runs");
    gst::prelude::ElementExt::set_state(&p, gst::State::Null).unwrap();
    // With a hardware adapter the GPU path runs and the device exists.
    assert_eq!(gpu::device_created(), !software);
}
