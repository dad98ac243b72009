//! The process-wide wgpu device.
//!
//! Every GPU element in the process shares one adapter, device and queue so that buffers can
//! later pass between elements and so drivers are initialised once. The device is created on
//! first use; failure is remembered so every element gets the same message.
//!
//! Environment:
//! * `MEDIAAI_GPU_ADAPTER`: substring of the adapter name to pick (case-insensitive), or `none`
//!   to behave as if no adapter existed (tests of the CPU fallback use it).
//! * `WGPU_BACKEND`, `WGPU_POWER_PREF`: as wgpu documents them.

use std::cell::{Cell, RefCell};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The shared device and what it is.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter_info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
}

static CONTEXT: OnceLock<Result<GpuContext, String>> = OnceLock::new();

/// Where the device's creation is logged (`GST_DEBUG=mediaai-gpu:4`): one line per process
/// proves that every element shares it.
static CAT: std::sync::LazyLock<gst::DebugCategory> = std::sync::LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediaai-gpu",
        gst::DebugColorFlags::empty(),
        Some("gst-media-ai's shared GPU device"),
    )
});

/// Counts GPU objects (buffers, bind groups, pipelines) created through [`GpuContext`]'s
/// helpers, so tests can prove that nothing is created per frame.
static OBJECTS_CREATED: AtomicU64 = AtomicU64::new(0);

/// Little-endian bytes of 32-bit words, for `queue.write_buffer`.
pub fn words_bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// GPU objects created so far by this process through the helpers of this module.
pub fn objects_created() -> u64 {
    OBJECTS_CREATED.load(Ordering::Relaxed)
}

thread_local! {
    /// wgpu errors raised on this thread (wgpu reports them synchronously, on the thread whose
    /// call failed), and the text of the latest.
    static ERRORS: Cell<u64> = const { Cell::new(0) };
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The device's handler for errors no scope caught: wgpu's default panics, which would take a
/// streaming thread down; this records them for [`GpuContext::checked`] instead.
fn record_error(e: wgpu::Error) {
    ERRORS.with(|n| n.set(n.get() + 1));
    LAST_ERROR.with(|m| *m.borrow_mut() = e.to_string());
}

/// Why a test whose subject is the GPU path fails without an adapter: it must not pass without
/// running its subject, and CI has one (lavapipe).
pub const TESTS_NEED_AN_ADAPTER: &str = "this test checks the GPU path and needs a GPU adapter \
(install mesa-vulkan-drivers for lavapipe, the CPU Vulkan driver CI runs on)";

/// The process-wide context for a test of the GPU path: a test without an adapter fails,
/// saying what to install ([`TESTS_NEED_AN_ADAPTER`]).
#[cfg(test)]
pub(crate) fn test_context() -> &'static GpuContext {
    context().unwrap_or_else(|e| panic!("{TESTS_NEED_AN_ADAPTER}: {e}"))
}

/// The process-wide GPU context, created on the first call.
///
/// Errors say why no device exists (no adapter, adapter disabled, device refused) in words a
/// user can act on; callers with a CPU path fall back to it.
pub fn context() -> Result<&'static GpuContext, &'static str> {
    CONTEXT
        .get_or_init(create_context)
        .as_ref()
        .map_err(|e| e.as_str())
}

/// Whether the shared device exists (or its creation was tried) in this process.
pub fn device_created() -> bool {
    CONTEXT.get().is_some()
}

/// What adapter [`context`] uses or would use, found without creating a device: elements ask
/// this at caps time to choose a path (e.g. skip a software rasteriser) before committing to
/// the GPU.
pub fn probe_adapter() -> Result<wgpu::AdapterInfo, String> {
    static PROBE: OnceLock<Result<wgpu::AdapterInfo, String>> = OnceLock::new();
    if let Some(c) = CONTEXT.get() {
        return c
            .as_ref()
            .map(|c| c.adapter_info.clone())
            .map_err(Clone::clone);
    }
    PROBE
        .get_or_init(|| select_adapter().map(|a| a.get_info()))
        .clone()
}

/// Switches Mesa's Vulkan device-select layer off for this process (`NODEVICE_SELECT=1`) unless
/// the user set `NODEVICE_SELECT` or chooses a device with the layer (`MESA_VK_DEVICE_SELECT`).
/// The layer would only probe for a display and, on a headless machine (no
/// `XDG_RUNTIME_DIR`), print `error: XDG_RUNTIME_DIR is invalid or not set in the environment.`
/// from plain `gst-launch-1.0` — an "error" a broadcast operator would act on — while the
/// plugins pick their adapter themselves (`MEDIAAI_GPU_ADAPTER`). Called when the plugin
/// registers, before any Vulkan instance exists and before streaming threads run: the
/// environment is changed while no other thread reads it.
pub fn quiet_device_select_layer() {
    let set = |name: &str| std::env::var_os(name).is_some();
    if !set("NODEVICE_SELECT") && !set("MESA_VK_DEVICE_SELECT") {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
}

/// The adapter `MEDIAAI_GPU_ADAPTER` names, or the platform's default one.
fn select_adapter() -> Result<wgpu::Adapter, String> {
    let wanted = std::env::var("MEDIAAI_GPU_ADAPTER").ok();
    if wanted
        .as_deref()
        .is_some_and(|w| w.eq_ignore_ascii_case("none"))
    {
        return Err("GPU disabled by MEDIAAI_GPU_ADAPTER=none".into());
    }
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = match wanted.as_deref().filter(|w| !w.is_empty()) {
        Some(name) => {
            let name = name.to_ascii_lowercase();
            pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
                .into_iter()
                .find(|a| a.get_info().name.to_ascii_lowercase().contains(&name))
                .ok_or_else(|| {
                    format!(
                        "no GPU adapter matches MEDIAAI_GPU_ADAPTER={name}; unset it to take the default"
                    )
                })?
        }
        None => pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::from_env()
                .unwrap_or(wgpu::PowerPreference::HighPerformance),
            force_fallback_adapter: false,
            compatible_surface: None,
            apply_limit_buckets: false,
        }))
        .map_err(|e| {
            format!(
                "no GPU adapter found ({e}); install a Vulkan driver (mesa-vulkan-drivers gives a CPU one) or use backend=cpu"
            )
        })?,
    };
    Ok(adapter)
}

fn create_context() -> Result<GpuContext, String> {
    let adapter = select_adapter()?;
    let adapter_info = adapter.get_info();
    // Frames need large storage bindings (a 4K frame of vec4<f32> is 130 MB): take what the
    // adapter offers rather than the portable defaults.
    let limits = adapter.limits();
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("mediaai shared device"),
        required_features: wgpu::Features::empty(),
        required_limits: limits.clone(),
        experimental_features: wgpu::ExperimentalFeatures::disabled(),
        memory_hints: wgpu::MemoryHints::Performance,
        trace: wgpu::Trace::Off,
    }))
    .map_err(|e| format!("GPU adapter {} refused a device: {e}", adapter_info.name))?;
    device.on_uncaptured_error(Arc::new(record_error));
    gst::info!(
        CAT,
        "opened the shared GPU device on {} ({:?}, {:?})",
        adapter_info.name,
        adapter_info.backend,
        adapter_info.device_type
    );
    Ok(GpuContext {
        device,
        queue,
        adapter_info,
        limits,
    })
}

/// Where an element that has a GPU and a CPU path runs (its `backend` property, which each
/// plugin declares with [`crate::backend_enum!`]).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default)]
pub enum Backend {
    /// The GPU when a hardware adapter exists, else the CPU (with a warning when there is
    /// none at all).
    #[default]
    Auto,
    /// The GPU, software adapters included; an error when there is none.
    Gpu,
    /// The CPU.
    Cpu,
}

impl Backend {
    /// `auto` on a machine whose adapter is a software rasteriser (lavapipe, llvmpipe): the
    /// same work on the same CPU cores plus an upload and a readback, so the CPU path is
    /// taken. Only the adapter is looked at: no device is created for a path that will not
    /// run.
    pub fn auto_on_software(self) -> bool {
        self == Backend::Auto
            && probe_adapter().is_ok_and(|a| a.device_type == wgpu::DeviceType::Cpu)
    }
}

impl Backend {
    /// Whether an element with this backend can run its GPU path here, so may offer frames
    /// that stay on the GPU (`memory:WgpuBuffer`) downstream: not `cpu`, not `auto` on a
    /// software adapter, and an adapter exists. Only the adapter is looked at.
    pub fn gpu_frames_possible(self) -> bool {
        self != Backend::Cpu && !self.auto_on_software() && probe_adapter().is_ok()
    }

    /// The GPU path `make` builds, where this backend wants one: `Ok(None)` for the CPU
    /// (`cpu`, or `auto` on a software adapter, or `auto` when `make` fails: then `fallback`
    /// hears why), `Err` with a message that says what to do when `gpu` was asked for and
    /// `make` failed.
    pub fn open<T>(
        self,
        make: impl FnOnce() -> Result<T, String>,
        fallback: impl FnOnce(&str),
    ) -> Result<Option<T>, String> {
        if self == Backend::Cpu || self.auto_on_software() {
            return Ok(None);
        }
        match make() {
            Ok(gpu) => Ok(Some(gpu)),
            Err(e) if self == Backend::Gpu => Err(format!(
                "backend=gpu but no GPU: {e}; use backend=auto or cpu"
            )),
            Err(e) => {
                fallback(&e);
                Ok(None)
            }
        }
    }
}

impl GpuContext {
    /// A buffer, counted in [`objects_created`].
    pub fn create_buffer(&self, label: &str, size: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        OBJECTS_CREATED.fetch_add(1, Ordering::Relaxed);
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            // Zero-sized buffers are invalid to bind; callers size by caps, which may be tiny.
            size: size.max(16).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT),
            usage,
            mapped_at_creation: false,
        })
    }

    /// A uniform buffer holding `words` (little-endian), counted in [`objects_created`].
    pub fn uniform_buffer(&self, label: &str, words: &[u32]) -> wgpu::Buffer {
        let bytes = words_bytes(words);
        let buffer = self.create_buffer(
            label,
            bytes.len() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        self.queue.write_buffer(&buffer, 0, &bytes);
        buffer
    }

    /// A compute pipeline from WGSL source with an automatic layout, counted in
    /// [`objects_created`].
    pub fn create_compute_pipeline(
        &self,
        label: &str,
        wgsl: &str,
        entry_point: &str,
    ) -> wgpu::ComputePipeline {
        OBJECTS_CREATED.fetch_add(1, Ordering::Relaxed);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(wgsl.into()),
            });
        self.device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: None,
                module: &module,
                entry_point: Some(entry_point),
                compilation_options: Default::default(),
                cache: None,
            })
    }

    /// A bind group of whole buffers at bindings 0..n, counted in [`objects_created`].
    pub fn create_bind_group(
        &self,
        label: &str,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[(u32, &wgpu::Buffer)],
    ) -> wgpu::BindGroup {
        let resources: Vec<(u32, wgpu::BindingResource)> = buffers
            .iter()
            .map(|(binding, buffer)| (*binding, buffer.as_entire_binding()))
            .collect();
        self.create_bind_group_of(label, pipeline, &resources)
    }

    /// A bind group of any resources (buffer ranges among them) at the given bindings,
    /// counted in [`objects_created`].
    pub fn create_bind_group_of(
        &self,
        label: &str,
        pipeline: &wgpu::ComputePipeline,
        resources: &[(u32, wgpu::BindingResource)],
    ) -> wgpu::BindGroup {
        OBJECTS_CREATED.fetch_add(1, Ordering::Relaxed);
        let layout = pipeline.get_bind_group_layout(0);
        let entries: Vec<wgpu::BindGroupEntry> = resources
            .iter()
            .map(|(binding, resource)| wgpu::BindGroupEntry {
                binding: *binding,
                resource: resource.clone(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &layout,
            entries: &entries,
        })
    }

    /// Runs `work`, which records and submits GPU commands on this thread, and turns any wgpu
    /// error it raised (validation, out of memory, a lost device) into `Err` with wgpu's words,
    /// so the caller can fall back rather than panic. Costs two thread-local reads.
    pub fn checked<T>(&self, work: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
        let before = ERRORS.with(Cell::get);
        let out = work();
        if ERRORS.with(Cell::get) != before {
            let message = LAST_ERROR.with(|m| m.borrow().clone());
            return Err(format!("GPU error: {message}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn probing_the_adapter_creates_no_device() {
        // Some adapter or a reason for none: either way no device may be made for it.
        let _ = super::probe_adapter();
        assert!(!super::device_created());
    }
}
