//! Shared pieces of the gst-media-ai plugins.
//!
//! * [`deepfilter`]: DeepFilterNet's real-time runtime, loaded at run time.
//! * [`exclusive`]: lock-free state for real-time streaming threads, atomic `f32` settings.
//! * [`gpu`]: the one wgpu device and queue of the process, created lazily and shared by every
//!   element, with adapter choice from the environment.
//! * [`inference`]: the ONNX Runtime environment (loaded at run time), session building with
//!   execution-provider fallback, and the model locator.
//! * [`pixels`]: float to 8-bit rounding of whole rows, vectorised; AVX2 builds of row
//!   kernels where the CPU has it.
//! * [`roi`]: detections as `GstVideoRegionOfInterestMeta` and back.
//! * [`sampler`]: video frame to planar float tensor conversion without per-frame allocation.
//!
//! Nothing here registers elements; plugins depend on this crate as an rlib.

pub mod bench;
pub mod deepfilter;
pub mod enums;
pub mod exclusive;
pub mod gpu;
pub mod held;
pub mod inference;
pub mod pixels;
pub mod roi;
pub mod sampler;
pub mod templates;
pub mod testing;

/// Where `make deps` / `make models` put ONNX Runtime and the models of a source checkout.
/// Used as the last fallback only, so installed plugins never depend on it.
pub(crate) const SOURCE_TREE_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Defines a plugin of this project: `plugin!(name, init)` is `gst::plugin_define!` with the
/// crate's description, version, licence and origin, the same for every plugin.
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
            env!("CARGO_PKG_REPOSITORY"),
            env!("BUILD_REL_DATE")
        );
    };
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
