//! Shared pieces of the gst-media-ai plugins.
//!
//! * [`deepfilter`]: DeepFilterNet's real-time runtime, loaded at run time.
//! * [`lockfree`]: state real-time streaming threads reach without a lock, atomic `f32` settings.
//! * [`gpu`]: the one wgpu device and queue of the process, created lazily and shared by every
//!   element, with adapter choice from the environment.
//! * [`gpumemory`]: video frames in GPU buffers between elements (`memory:WgpuBuffer`), read
//!   back when a CPU maps them.
//! * [`gpusampler`]: [`sampler`]'s work on the GPU for frames already there: only the network
//!   input comes back.
//! * [`planes`]: where a frame's planes lie and how its colours convert, described once for
//!   every GPU pass (Rust and WGSL).
//! * [`inference`]: the ONNX Runtime environment (loaded at run time), session building with
//!   execution-provider fallback, and the model locator.
//! * [`panics`]: a panic on a thread an element owns becomes an element error, not a hang.
//! * [`pixels`]: float to 8-bit rounding of whole rows, vectorised; AVX2 builds of row
//!   kernels where the CPU has it.
//! * [`roi`]: detections as `GstVideoRegionOfInterestMeta` and back.
//! * [`sampler`]: video frame to planar float tensor conversion without per-frame allocation.
//!
//! Nothing here registers elements; plugins depend on this crate as an rlib.

pub mod batching;
pub mod cudawait;
pub mod deepfilter;
pub mod dylib;
pub mod frames;
pub mod gpu;
pub mod gpumemory;
pub mod gpusampler;
pub mod held;
pub mod inference;
pub mod live;
pub mod lockfree;
pub mod panics;
pub mod pixels;
pub mod planes;
pub mod property_enums;
pub mod roi;
pub mod sampler;
pub mod scenecut;
pub mod staging;
pub mod templates;

/// Where `make deps` / `make models` put ONNX Runtime and the models of a source checkout.
/// Tried after the installed plugin's own prefix ([`installed_paths`]), so an installed plugin
/// never depends on the tree it was built from.
pub(crate) const SOURCE_TREE_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The plugin library's file, as GStreamer loaded it (see [`set_plugin_file`]).
static PLUGIN_FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Records the file the plugin library was loaded from (`gst::Plugin::filename`), so that an
/// installed plugin finds what `meson install` put beside it under its own prefix.
pub fn set_plugin_file(file: std::path::PathBuf) {
    let _ = PLUGIN_FILE.set(file);
}

/// `relative` (e.g. `share/gst-media-ai/models`) under each directory above the plugin
/// library's own, nearest first: the plugin installed as
/// `PREFIX/lib/x86_64-linux-gnu/gstreamer-1.0/libgstmediaai.so` (or `PREFIX/lib/gstreamer-1.0`,
/// `PREFIX/lib64/...`) finds `PREFIX/relative` among them, wherever PREFIX is. Empty where
/// the plugin was not loaded from a file (registered statically).
pub(crate) fn installed_paths(relative: &str) -> Vec<std::path::PathBuf> {
    let Some(file) = PLUGIN_FILE.get() else {
        return Vec::new();
    };
    file.ancestors()
        .skip(2)
        .take(3)
        .map(|dir| dir.join(relative))
        .collect()
}

/// Defines the collection's plugin library: `plugin!(name, init)` is `gst::plugin_define!` with
/// the crate's description, version, licence and origin. Only `plugins/mediaai` uses it: every
/// element lives in that one library so the process has one copy of this crate, hence one GPU
/// device and one GPU memory type (see [`gpu`]).
#[macro_export]
macro_rules! plugin {
    ($name:ident, $init:ident) => {
        gst::plugin_define!(
            $name,
            env!("CARGO_PKG_DESCRIPTION"),
            $init,
            concat!(env!("CARGO_PKG_VERSION"), "-", env!("COMMIT_ID")),
            "MIT/X11",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_NAME"),
            // No public home yet: GStreamer's own words for that, rather than a made-up URL.
            "Unknown package origin",
            env!("BUILD_REL_DATE")
        );
    };
}

/// How an element crate adds its elements to a plugin.
pub type RegisterElements = fn(&gst::Plugin) -> Result<(), gst::glib::BoolError>;

/// Registers `register`'s elements in a static plugin called `name`, for a program that links
/// an element crate instead of loading the plugin library (the crates' own tests, the
/// benchmarks). Exports no plugin symbol, so the crates stay plain rlibs.
pub fn register_static_plugin(
    name: &str,
    description: &str,
    register: RegisterElements,
) -> Result<(), gst::glib::BoolError> {
    use gst::glib::translate::{from_glib_borrow, ToGlibPtr};

    unsafe extern "C" fn init(
        plugin: *mut gst::ffi::GstPlugin,
        data: gst::glib::ffi::gpointer,
    ) -> gst::glib::ffi::gboolean {
        // SAFETY: `data` is the `RegisterElements` that `register_static_plugin` passed, and
        // `plugin` the live plugin GStreamer hands its init function.
        let register: RegisterElements = unsafe { std::mem::transmute(data) };
        let plugin: gst::glib::translate::Borrowed<gst::Plugin> =
            unsafe { from_glib_borrow(plugin) };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| register(&plugin))) {
            Ok(Ok(())) => gst::glib::ffi::GTRUE,
            _ => gst::glib::ffi::GFALSE,
        }
    }

    gpu::quiet_device_select_layer();
    let version = env!("CARGO_PKG_VERSION");
    let package = "gst-media-ai";
    // SAFETY: every string is NUL-terminated for the call's duration (GStreamer copies them);
    // the user data is a plain function pointer that `init` turns back.
    let ok = unsafe {
        gst::ffi::gst_plugin_register_static_full(
            gst::subclass::MAJOR_VERSION,
            gst::subclass::MINOR_VERSION,
            name.to_glib_none().0,
            description.to_glib_none().0,
            Some(init),
            version.to_glib_none().0,
            "MIT/X11".to_glib_none().0,
            package.to_glib_none().0,
            package.to_glib_none().0,
            "Unknown package origin".to_glib_none().0,
            register as *const () as gst::glib::ffi::gpointer,
        )
    };
    gst::glib::result_from_gboolean!(ok, "Failed to register the static plugin {}", name)
}

/// Element metadata with the project's author line.
pub fn element_metadata(
    long_name: &str,
    classification: &str,
    description: &str,
) -> gst::subclass::ElementMetadata {
    gst::subclass::ElementMetadata::new(
        long_name,
        classification,
        description,
        "gst-media-ai developers",
    )
}
