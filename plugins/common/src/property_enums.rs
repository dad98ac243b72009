//! Property enums several elements share, declared once here and registered by each element's
//! crate under its own GType name (`GstVhsRestoreBackend`, `GstGpuBlurBackend`, …).
//!
//! `common` keeps plain Rust enums ([`crate::gpu::Backend`],
//! [`crate::inference::ExecutionProvider`]) and each element crate declares its property type
//! with [`backend_enum!`](crate::backend_enum) or
//! [`execution_provider_enum!`](crate::execution_provider_enum), which convert into them. One
//! GType per element keeps each element's `gst-inspect-1.0` page its own and lets the element
//! crates be built as separate plugins too: a GType registered from common code would be
//! registered once per plugin library, and the second registration aborts the process.

/// Declares `$name`, registered as GType `$gtype`: the `backend` property of an element with
/// a GPU and a CPU path (auto, gpu, cpu), convertible into [`crate::gpu::Backend`]. Needs
/// `glib` in scope (`use gst::glib;`).
#[macro_export]
macro_rules! backend_enum {
    ($name:ident, $gtype:literal) => {
        /// Where the element runs: `auto` (a hardware GPU when there is one, else the CPU),
        /// `gpu` (any adapter, software ones included; an error when there is none), `cpu`.
        #[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
        #[repr(u32)]
        #[enum_type(name = $gtype)]
        pub enum $name {
            #[default]
            #[enum_value(name = "GPU when available, else CPU", nick = "auto")]
            Auto = 0,
            #[enum_value(name = "GPU only", nick = "gpu")]
            Gpu = 1,
            #[enum_value(name = "CPU only", nick = "cpu")]
            Cpu = 2,
        }

        impl From<$name> for $crate::gpu::Backend {
            fn from(b: $name) -> Self {
                match b {
                    $name::Auto => $crate::gpu::Backend::Auto,
                    $name::Gpu => $crate::gpu::Backend::Gpu,
                    $name::Cpu => $crate::gpu::Backend::Cpu,
                }
            }
        }
    };
}

/// Declares `$name`, registered as GType `$gtype`: the `execution-provider` property of an
/// element running ONNX models, convertible into [`crate::inference::ExecutionProvider`].
/// Needs `glib` in scope (`use gst::glib;`).
#[macro_export]
macro_rules! execution_provider_enum {
    ($name:ident, $gtype:literal) => {
        /// Where ONNX Runtime inference runs: `auto` (CUDA where the ONNX Runtime in use has
        /// it and it starts, else the WebGPU execution provider when it finds a hardware GPU,
        /// else the CPU), `cpu`, `webgpu` (any GPU through Vulkan; the CPU with a warning when
        /// there is none). CUDA, TensorRT, OpenVINO, Core ML and DirectML need an ONNX Runtime
        /// build that has them; without them the session runs on the CPU with a warning.
        #[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
        #[repr(u32)]
        #[enum_type(name = $gtype)]
        pub enum $name {
            #[default]
            #[enum_value(
                name = "WebGPU on a hardware GPU when there is one, else CPU",
                nick = "auto"
            )]
            Auto = 7,
            #[enum_value(name = "CPU", nick = "cpu")]
            Cpu = 0,
            #[enum_value(name = "WebGPU (any GPU through Vulkan)", nick = "webgpu")]
            WebGpu = 6,
            #[enum_value(name = "CUDA (NVIDIA)", nick = "cuda")]
            Cuda = 1,
            #[enum_value(name = "TensorRT (NVIDIA)", nick = "tensorrt")]
            TensorRt = 2,
            #[enum_value(name = "OpenVINO (Intel)", nick = "openvino")]
            OpenVino = 3,
            #[enum_value(name = "Core ML (Apple)", nick = "coreml")]
            CoreMl = 4,
            #[enum_value(name = "DirectML (Windows)", nick = "directml")]
            DirectMl = 5,
        }

        impl From<$name> for $crate::inference::ExecutionProvider {
            fn from(e: $name) -> Self {
                use $crate::inference::ExecutionProvider as E;
                match e {
                    $name::Auto => E::Auto,
                    $name::Cpu => E::Cpu,
                    $name::WebGpu => E::WebGpu,
                    $name::Cuda => E::Cuda,
                    $name::TensorRt => E::TensorRt,
                    $name::OpenVino => E::OpenVino,
                    $name::CoreMl => E::CoreMl,
                    $name::DirectMl => E::DirectMl,
                }
            }
        }
    };
}
