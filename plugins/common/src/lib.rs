//! Shared pieces of the gst-media-ai plugins.
//!
//! * [`exclusive`]: lock-free state for real-time streaming threads, atomic `f32` settings.
//! * [`gpu`]: the one wgpu device and queue of the process, created lazily and shared by every
//!   element, with adapter choice from the environment.
//! * [`inference`]: the ONNX Runtime environment (loaded at run time), session building with
//!   execution-provider fallback, and the model locator.
//! * [`pixels`]: float to 8-bit rounding of whole rows, vectorised.
//! * [`roi`]: detections as `GstVideoRegionOfInterestMeta` and back.
//! * [`sampler`]: video frame to planar float tensor conversion without per-frame allocation.
//!
//! Nothing here registers elements; plugins depend on this crate as an rlib.

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
