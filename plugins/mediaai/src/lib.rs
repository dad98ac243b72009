//! GStreamer plugin `mediaai` (`libgstmediaai.so`): every element of the collection.
//!
//! * `onnxfacedetect`: ONNX face detection, detections as region-of-interest metas.
//! * `gpublur`: blur of marked regions or whole frames, wgpu or CPU.
//! * `vhsrestore`: analog tape restoration in one pass.
//! * `audiodenoise`: real-time speech denoising.
//! * `qcfingerprint`, `qcaudio`: quality control statistics, events, fingerprints, reports.
//! * `upscale`: batched neural or spatial super-resolution.
//! * `wgpuupload`, `wgpudownload`: the edges of a run of GPU elements, frames onto the GPU
//!   (`memory:WgpuBuffer`) and back.
//!
//! Why one library: each plugin `.so` links its own copy of `mediaai-common`, so separate
//! libraries would each open a GPU device, and a GPU frame made by one library's code could not
//! be read soundly by another's (Rust types do not cross separately built libraries). One
//! library, as gst-plugins-rs does for `rsvideofx`, gives the process one device, one queue and
//! one GPU memory type; the element crates stay rlibs that applications can also link.

use gst::glib;

mod wgpudownload;
mod wgpuupload;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    mediaai_common::gpu::quiet_device_select_layer();
    if let Some(file) = plugin.filename() {
        mediaai_common::set_plugin_file(file);
    }
    gstfacedetect::register(plugin)?;
    gstgpublur::register(plugin)?;
    gstaudiodenoise::register(plugin)?;
    gstvhsrestore::register(plugin)?;
    gstqc::register(plugin)?;
    gstupscale::register(plugin)?;
    wgpuupload::register(plugin)?;
    wgpudownload::register(plugin)
}

mediaai_common::plugin!(mediaai, plugin_init);
