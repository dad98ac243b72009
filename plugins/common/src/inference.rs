//! ONNX Runtime for every plugin: the library is loaded at run time (ort `load-dynamic`), once
//! per process; sessions are built with the execution provider a user asked for and fall back
//! to the CPU with a warning; models are found by name in well-known places.
//!
//! GPUs are reached through ONNX Runtime's CUDA execution provider where the ONNX Runtime in
//! use has it and CUDA starts (the `onnxruntime-gpu` build, fetched by `make gpu-runtime`,
//! installed by `meson install` or named by `ORT_DYLIB_PATH`), or through its WebGPU execution
//! provider, a plugin library (`libonnxruntime_providers_webgpu.so`, from the PyPI package
//! `onnxruntime-ep-webgpu`, fetched by `make models`) registered once per process and run on
//! Vulkan. `auto`, the default, takes CUDA, else WebGPU on a hardware GPU, else the CPU. Inputs
//! and outputs are bound to the session ([`BoundInput`]), so an inference allocates no tensor.
//! Elements of one process that name the same group share one session ([`load_shared`]): the
//! model is loaded once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use ort::ep::ExecutionProvider as _;

/// Where ONNX Runtime inference runs. `Auto` takes the CUDA execution provider when the
/// ONNX Runtime in use has it and it starts, else the WebGPU execution provider when it finds
/// a hardware GPU, else the CPU. The others need an ONNX Runtime build that has them
/// (see README); when it lacks them the session runs on the CPU with a warning. Elements
/// declare their property type with [`crate::execution_provider_enum!`].
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default)]
pub enum ExecutionProvider {
    #[default]
    Auto,
    Cpu,
    WebGpu,
    Cuda,
    TensorRt,
    OpenVino,
    CoreMl,
    DirectMl,
}

/// The environment, and the ONNX Runtime library it was loaded from.
static ENVIRONMENT: OnceLock<Result<(ort::environment::Environment, PathBuf), String>> =
    OnceLock::new();
/// The WebGPU execution provider library registered with the environment, or why not.
static WEBGPU: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// File name of the WebGPU execution provider library.
pub const WEBGPU_LIBRARY: &str = "libonnxruntime_providers_webgpu.so";
/// The provider's name in ONNX Runtime.
const WEBGPU_EP: &str = "WebGpuExecutionProvider";

/// Candidate paths of the ONNX Runtime shared library, in the order they are tried.
fn runtime_candidates() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        v.push(PathBuf::from(p));
    }
    // Where `meson install` put it, under the installed plugin's own prefix.
    v.extend(crate::installed_paths("lib/gst-media-ai/libonnxruntime.so"));
    v.push(Path::new(crate::SOURCE_TREE_ROOT).join(".deps/onnxruntime/libonnxruntime.so"));
    // Where `meson install` puts the copy it ships beside the plugins.
    v.push(PathBuf::from(
        "/usr/local/lib/gst-media-ai/libonnxruntime.so",
    ));
    v.push(PathBuf::from("/usr/lib/gst-media-ai/libonnxruntime.so"));
    // Left to the dynamic loader: a system installation.
    v.push(PathBuf::from("libonnxruntime.so.1"));
    v.push(PathBuf::from("libonnxruntime.so"));
    v
}

/// The process-wide ONNX Runtime environment, loading the library on first use.
pub fn environment() -> Result<&'static ort::environment::Environment, &'static str> {
    ENVIRONMENT
        .get_or_init(|| {
            let mut tried = Vec::new();
            for path in runtime_candidates() {
                let is_file_path = path.components().count() > 1;
                if is_file_path && !path.exists() {
                    tried.push(format!("{} (absent)", path.display()));
                    continue;
                }
                match ort::init_from(&path) {
                    Ok(builder) => {
                        return builder
                            .with_name("gst-media-ai")
                            .build()
                            .map(|env| (env, path.clone()))
                            .map_err(|e| format!("ONNX Runtime at {} failed to start: {e}", path.display()));
                    }
                    Err(e) => tried.push(format!("{} ({e})", path.display())),
                }
            }
            Err(format!(
                "ONNX Runtime library not found; tried {}. Run `make deps` in the source tree, or set ORT_DYLIB_PATH to libonnxruntime.so",
                tried.join(", ")
            ))
        })
        .as_ref()
        .map(|(env, _)| env)
        .map_err(|e| e.as_str())
}

/// Candidate paths of the WebGPU execution provider library: `$MEDIAAI_WEBGPU_EP`, beside the
/// ONNX Runtime library in use (where `meson install` puts it), then the model directories
/// (where `make models` puts it in a source tree).
fn webgpu_candidates() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = std::env::var_os("MEDIAAI_WEBGPU_EP").filter(|p| !p.is_empty()) {
        v.push(PathBuf::from(p));
        return v;
    }
    if let Some(Ok((_, runtime))) = ENVIRONMENT.get() {
        if let Some(dir) = runtime.parent().filter(|d| !d.as_os_str().is_empty()) {
            v.push(dir.join(WEBGPU_LIBRARY));
        }
    }
    if let Ok(p) = locate_model(None, WEBGPU_LIBRARY) {
        v.push(p);
    }
    v
}

/// Registers the WebGPU execution provider library with the environment, once per process;
/// `Err` says why it cannot be used (absent, or a library ONNX Runtime refused).
fn register_webgpu(env: &ort::environment::Environment) -> Result<&'static Path, &'static str> {
    WEBGPU
        .get_or_init(|| {
            let Some(path) = webgpu_candidates().into_iter().find(|p| p.is_file()) else {
                return Err(format!(
                    "the WebGPU execution provider ({WEBGPU_LIBRARY}) is not installed; run `make models` in the source tree, or set MEDIAAI_WEBGPU_EP to its path"
                ));
            };
            let damaged = |why: String| {
                format!(
                    "the WebGPU execution provider could not be loaded: {why}; the file may be truncated or corrupt: run `make models` to fetch it again"
                )
            };
            // A library cut short would kill the process in the dynamic loader (SIGBUS).
            crate::dylib::check_elf(&path).map_err(damaged)?;
            env.register_ep_library("webgpu", &path).map_err(|e| {
                format!(
                    "the WebGPU execution provider at {} could not be loaded ({e}); the file may be truncated or corrupt: run `make models` to fetch it again",
                    path.display()
                )
            })?;
            Ok(path)
        })
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(String::as_str)
}

/// The WebGPU provider's hardware GPU and its vendor, when it found one.
fn webgpu_device(env: &ort::environment::Environment) -> Option<(ort::device::Device<'_>, String)> {
    env.devices().find_map(|d| {
        let hardware = d.hardware_device();
        let ours =
            d.ep().is_ok_and(|ep| ep == WEBGPU_EP) && hardware.ty() == ort::memory::DeviceType::GPU;
        ours.then(|| {
            let vendor = match hardware.vendor() {
                Ok(v) if !v.trim().is_empty() => format!("{} GPU", v.trim()),
                _ => "hardware GPU".to_string(),
            };
            (d, vendor)
        })
    })
}

/// Provider options from the environment variable `var`: comma-separated `key=value` pairs,
/// for tuning on a given GPU; none by default.
fn options_from_env(var: &str) -> Vec<(String, String)> {
    std::env::var(var)
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The CUDA provider's options unless `MEDIAAI_CUDA_OPTIONS` sets them. `prefer_nhwc`: cuDNN's
/// channels-last layout, which half-precision convolutions on tensor cores run in (without
/// it each convolution's input and output are transposed). Measured on an H100: upscale's
/// 1080p network in one inference 24.5 ms against 31 ms; the detector at 48 live 1080p
/// streams the same (p99 214 ms either way).
const CUDA_DEFAULTS: [(&str, &str); 1] = [("prefer_nhwc", "1")];

/// The WebGPU provider's session options: `MEDIAAI_WEBGPU_OPTIONS` (e.g.
/// `validationMode=disabled`).
fn webgpu_options() -> Vec<(String, String)> {
    options_from_env("MEDIAAI_WEBGPU_OPTIONS")
        .into_iter()
        .map(|(k, v)| (format!("{WEBGPU_EP}.{k}"), v))
        .collect()
}

/// Whether the WebGPU execution provider is installed and offers a hardware GPU here (what
/// `auto` picks then), or why not.
pub fn webgpu_available() -> Result<String, String> {
    let env = environment()?;
    register_webgpu(env)?;
    webgpu_device(env)
        .map(|(_, vendor)| vendor)
        .ok_or_else(|| "the WebGPU execution provider found no hardware GPU".to_string())
}

/// Finds a model file: an explicit path wins; otherwise `name` is looked up in
/// `$MEDIAAI_MODEL_DIR`, the installed plugin's own prefix (`PREFIX/share/gst-media-ai/models`),
/// the source tree's `models/`, and the system's data directories.
pub fn locate_model(explicit: Option<&str>, name: &str) -> Result<PathBuf, String> {
    if let Some(p) = explicit.filter(|p| !p.is_empty()) {
        let path = PathBuf::from(p);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "model file {p} does not exist; fix model-location, or unset it to use the default {name} (fetched by `make models`)"
            ))
        };
    }
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("MEDIAAI_MODEL_DIR").filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(d));
    }
    dirs.extend(crate::installed_paths("share/gst-media-ai/models"));
    dirs.push(Path::new(crate::SOURCE_TREE_ROOT).join("models"));
    dirs.push(PathBuf::from("/usr/local/share/gst-media-ai/models"));
    dirs.push(PathBuf::from("/usr/share/gst-media-ai/models"));
    for d in &dirs {
        let candidate = d.join(name);
        if candidate.is_file() {
            // Said as a plain path in messages, not `.../plugins/common/../../models/...`.
            return Ok(candidate.canonicalize().unwrap_or(candidate));
        }
    }
    Err(format!(
        "model {name} not found in {}; run `make models` in the source tree (or set model-location / MEDIAAI_MODEL_DIR)",
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// A session and what it ended up running on.
pub struct LoadedModel {
    pub session: ort::session::Session,
    /// Set when the requested provider could not be used and the CPU runs the model instead.
    pub fallback_warning: Option<String>,
    /// The provider that runs the model (`Cpu` after a fallback), and in words, e.g. "WebGPU
    /// (NVIDIA GPU)" or "CPU": for the element's info and bus messages.
    pub provider: ExecutionProvider,
    pub runs_on: String,
    /// The file loaded: the model asked for, or its half-precision copy on a GPU.
    pub model: PathBuf,
    /// Input shapes run already ([`warm_up`]), each with the worst of its steady runs.
    warmed: Vec<(Vec<usize>, Duration)>,
}

impl LoadedModel {
    /// Whether ONNX Runtime runs the model on CPU cores.
    pub fn on_cpu(&self) -> bool {
        self.provider == ExecutionProvider::Cpu
    }

    /// Says once what runs the model: an info line in the debug log and an element message
    /// `mediaai-inference` (`model`, `requested` and `execution-provider`, the nick of the
    /// provider in use, and `device`, in words) on `element`'s bus.
    pub fn announce(
        &self,
        element: &gst::Element,
        cat: gst::DebugCategory,
        requested: ExecutionProvider,
    ) {
        let model = &self.model;
        gst::info!(
            cat,
            obj = element,
            "{} runs on {} (execution-provider={})",
            model.display(),
            self.runs_on,
            requested.nick()
        );
        if matches!(
            self.provider,
            ExecutionProvider::Cuda | ExecutionProvider::TensorRt
        ) {
            gst::info!(cat, obj = element, "{}", crate::cudawait::set_once().said);
        }
        let s = gst::Structure::builder("mediaai-inference")
            .field("model", model.display().to_string())
            .field("requested", requested.nick())
            .field("execution-provider", self.provider.nick())
            .field("device", &self.runs_on)
            .build();
        use gst::prelude::ElementExt;
        let _ = element.post_message(gst::message::Element::builder(s).src(element).build());
    }
}

impl ExecutionProvider {
    /// Whether this provider's sessions take turns on the device ([`DEVICE_WORK`]).
    fn takes_turns(self) -> bool {
        self == ExecutionProvider::WebGpu
    }

    /// The property's nick for this provider.
    pub fn nick(self) -> &'static str {
        match self {
            ExecutionProvider::Auto => "auto",
            ExecutionProvider::Cpu => "cpu",
            ExecutionProvider::WebGpu => "webgpu",
            ExecutionProvider::Cuda => "cuda",
            ExecutionProvider::TensorRt => "tensorrt",
            ExecutionProvider::OpenVino => "openvino",
            ExecutionProvider::CoreMl => "coreml",
            ExecutionProvider::DirectMl => "directml",
        }
    }
}

/// Whether a session asked for `ep` would run on NVIDIA's CUDA or TensorRT provider, as far as
/// can be told without building one: that provider is asked for (`auto` asks for CUDA first)
/// and this ONNX Runtime has it. A session can still fall back (no GPU, no CUDA libraries):
/// its `provider` says. False where ONNX Runtime cannot be found.
pub fn nvidia_provider_offered(ep: ExecutionProvider) -> bool {
    // The providers are asked of the runtime this process loads (not of one found by name).
    if environment().is_err() {
        return false;
    }
    let ep = match ep {
        ExecutionProvider::Auto => ExecutionProvider::Cuda,
        ep => ep,
    };
    matches!(ep, ExecutionProvider::Cuda | ExecutionProvider::TensorRt)
        && matches!(provider_dispatch(ep), Some((_, true)))
}

fn provider_dispatch(ep: ExecutionProvider) -> Option<(ort::ep::ExecutionProviderDispatch, bool)> {
    use ort::ep;
    Some(match ep {
        ExecutionProvider::Cpu | ExecutionProvider::Auto | ExecutionProvider::WebGpu => {
            return None
        }
        ExecutionProvider::Cuda => {
            use ort::ep::ArbitrarilyConfigurableExecutionProvider as _;
            // `MEDIAAI_CUDA_OPTIONS`: the CUDA provider's options (e.g.
            // `cudnn_conv_algo_search=HEURISTIC,prefer_nhwc=0`), over `CUDA_DEFAULTS`.
            let mut options = options_from_env("MEDIAAI_CUDA_OPTIONS");
            for (key, value) in CUDA_DEFAULTS {
                if !options.iter().any(|(k, _)| k == key) {
                    options.push((key.to_string(), value.to_string()));
                }
            }
            let cuda = options
                .into_iter()
                .fold(ep::CUDA::default(), |cuda, (k, v)| {
                    cuda.with_arbitrary_config(k, v)
                });
            (cuda.build(), ep::CUDA::is_available().unwrap_or(false))
        }
        ExecutionProvider::TensorRt => (
            ep::TensorRT::default().build(),
            ep::TensorRT::is_available().unwrap_or(false),
        ),
        ExecutionProvider::OpenVino => (
            ep::OpenVINO::default().build(),
            ep::OpenVINO::is_available().unwrap_or(false),
        ),
        ExecutionProvider::CoreMl => (
            ep::CoreML::default().build(),
            ep::CoreML::is_available().unwrap_or(false),
        ),
        ExecutionProvider::DirectMl => (
            ep::DirectML::default().build(),
            ep::DirectML::is_available().unwrap_or(false),
        ),
    })
}

/// `builder` with `dispatch`'s provider appended, or `builder` as it was and why the provider
/// cannot be used (its library missing, or one it needs).
fn with_provider(
    builder: ort::session::builder::SessionBuilder,
    dispatch: ort::ep::ExecutionProviderDispatch,
) -> (ort::session::builder::SessionBuilder, Option<String>) {
    match builder.with_execution_providers([dispatch.error_on_failure()]) {
        Ok(b) => (b, None),
        Err(e) => {
            let why = reason(&e);
            (e.recover(), Some(why))
        }
    }
}

/// What an ONNX Runtime error says, without the source location and status code it starts
/// with: for a provider library that cannot load, the loader's reason (e.g.
/// "libcublasLt.so.13: cannot open shared object file: No such file or directory").
fn reason(e: &impl std::fmt::Display) -> String {
    let text = e.to_string();
    let tail = match text.rsplit_once("with error: ") {
        Some((_, why)) => why,
        None => text
            .rsplit_once("] : ")
            .map_or(text.as_str(), |(_, why)| why),
    };
    tail.trim().to_string()
}

/// The half-precision copy `make models` makes of `model` (`NAME-fp16.onnx` beside
/// `NAME.onnx`), when it is there.
pub fn half_precision_copy(model: &Path) -> Option<PathBuf> {
    let stem = model.file_stem()?.to_str()?;
    let half = model.with_file_name(format!("{stem}-fp16.onnx"));
    half.is_file().then_some(half)
}

/// Held while anything of this process works on the WebGPU provider's GPU (a session made,
/// an input bound, a run). That provider shares one device among its sessions and does not
/// take concurrent work (CUDA's does: each session has its own stream): two detectors running
/// at once in one process failed on the GPU machine ("CommandEncoder is already finished", 8
/// streams of 1080p, H200) where they now take turns — as one batch group's streams do anyway.
static DEVICE_WORK: Mutex<()> = Mutex::new(());

fn device_work() -> std::sync::MutexGuard<'static, ()> {
    DEVICE_WORK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sessions built in this process so far (tests and benches count model loads with it).
pub fn sessions_built() -> usize {
    SESSIONS_BUILT.load(Ordering::Relaxed)
}

static SESSIONS_BUILT: AtomicUsize = AtomicUsize::new(0);

/// A session several elements may hold: each runs it in turn under the lock.
pub type SharedModel = Arc<Mutex<LoadedModel>>;

/// Live groups by name and load arguments; a group ends when its last element lets go.
static GROUPS: LazyLock<Mutex<HashMap<String, Weak<Mutex<LoadedModel>>>>> =
    LazyLock::new(Default::default);

/// [`load_model`] for an element; with a `group` name, the session that another element of
/// this process loaded under that name with the same arguments, while one still holds it
/// (`true` in the answer: joined rather than loaded). One model in memory for many streams,
/// and on the CPU one set of inference threads rather than one per stream fighting over the
/// cores. Elements that name a group with other arguments (another model, provider or
/// thread count) get a session of their own, as an ungrouped element does on the CPU.
///
/// Ungrouped elements whose sessions run on a GPU share a few: [`DEFAULT_GPU_SESSIONS`], or as
/// many as `MEDIAAI_GPU_SESSIONS` says ([`gpu_sessions`], see [`GpuSessions`]).
pub fn load_shared(
    group: Option<&str>,
    model: &Path,
    ep: ExecutionProvider,
    intra_threads: usize,
    half_on_gpu: bool,
) -> Result<(SharedModel, bool), String> {
    let key = format!(
        "{}\n{}\n{intra_threads}\n{half_on_gpu}",
        model.display(),
        ep.nick()
    );
    let Some(group) = group.filter(|g| !g.is_empty()) else {
        return GPU_SESSIONS.load(&key, ep, gpu_sessions(), || {
            load_model(model, ep, intra_threads, half_on_gpu)
        });
    };
    let key = format!("{group}\n{key}");
    // Held while loading: two elements starting together load the model once.
    let mut groups = GROUPS.lock().expect("group lock is never poisoned");
    groups.retain(|_, g| g.strong_count() > 0);
    if let Some(shared) = groups.get(&key).and_then(Weak::upgrade) {
        return Ok((shared, true));
    }
    let shared = Arc::new(Mutex::new(load_model(
        model,
        ep,
        intra_threads,
        half_on_gpu,
    )?));
    groups.insert(key, Arc::downgrade(&shared));
    Ok((shared, false))
}

/// How many sessions of one model (and load arguments) the ungrouped elements of a process
/// share on a GPU: `MEDIAAI_GPU_SESSIONS`, default [`DEFAULT_GPU_SESSIONS`]; 0 gives every
/// element a session of its own.
pub fn gpu_sessions() -> usize {
    std::env::var("MEDIAAI_GPU_SESSIONS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_GPU_SESSIONS)
}

/// Eight. Since a detector judges a live frame again once its session is free for it (and
/// sheds it when it waited too long), fewer sessions mean more frames hidden whole rather than
/// more delay: on an H200 with 48 live 1080p25 detectors at their defaults, one process, two
/// runs each, 8 sessions held p99 59-63 ms, max 97-108 ms, 477-579 of 9,600 frames hidden
/// whole, starting and running the 8 s clip in 32-33 s; 4 sessions p99 39-44 ms, max 65-75 ms,
/// but 1,787-2,794 hidden, in 19-21 s (README, Live streams). Before that judgement (an H100),
/// 4 held p99 219 ms and 8 p99 239 ms. One stream: max 10 ms, none late. 0 gives every element
/// a session of its own.
pub const DEFAULT_GPU_SESSIONS: usize = 8;

/// The GPU sessions ungrouped elements share ([`load_shared`]). A session on a GPU provider
/// costs seconds to build and warm (and processes build them one at a time: 48 detectors
/// started together took 130 s on an H100) and a copy of the model in device memory, while
/// the device runs a few sessions' work at once as well as many. So the first `limit`
/// elements of a model each build one, in parallel, and later ones join the session fewest
/// elements hold (the answer's `true`), running in turns with them as a batch group's
/// elements do. Sessions that end up on the CPU are not shared: each element keeps its own,
/// as before. With `limit` 0 every element builds its own.
pub struct GpuSessions {
    pools: Mutex<HashMap<String, Pool>>,
    changed: std::sync::Condvar,
}

#[derive(Default)]
struct Pool {
    sessions: Vec<Weak<Mutex<LoadedModel>>>,
    /// Sessions being built now.
    loading: usize,
    /// A session of this key ended up on the CPU: later elements load their own at once.
    on_cpu: bool,
}

static GPU_SESSIONS: LazyLock<GpuSessions> = LazyLock::new(GpuSessions::new);

impl Default for GpuSessions {
    fn default() -> Self {
        Self::new()
    }
}

impl GpuSessions {
    pub fn new() -> Self {
        GpuSessions {
            pools: Mutex::new(HashMap::new()),
            changed: std::sync::Condvar::new(),
        }
    }

    /// A session for `key`: shared, or built by `load` (see the type).
    pub fn load(
        &self,
        key: &str,
        ep: ExecutionProvider,
        limit: usize,
        load: impl FnOnce() -> Result<LoadedModel, String>,
    ) -> Result<(SharedModel, bool), String> {
        if limit == 0 || ep == ExecutionProvider::Cpu {
            return Ok((Arc::new(Mutex::new(load()?)), false));
        }
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let pool = pools.entry(key.to_string()).or_default();
            pool.sessions.retain(|s| s.strong_count() > 0);
            if pool.on_cpu {
                drop(pools);
                return Ok((Arc::new(Mutex::new(load()?)), false));
            }
            if pool.sessions.len() + pool.loading < limit {
                pool.loading += 1;
                break;
            }
            // Join once every session of the limit is built, so that elements starting
            // together spread over them all.
            let least_held = pool
                .sessions
                .iter()
                .filter_map(Weak::upgrade)
                .min_by_key(Arc::strong_count)
                .filter(|_| pool.loading == 0);
            if let Some(shared) = least_held {
                return Ok((shared, true));
            }
            pools = self.changed.wait(pools).unwrap_or_else(|e| e.into_inner());
        }
        drop(pools);
        let loaded = load();
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        let pool = pools.entry(key.to_string()).or_default();
        pool.loading -= 1;
        let answer = loaded.map(|loaded| {
            let on_cpu = loaded.on_cpu();
            let shared = Arc::new(Mutex::new(loaded));
            if on_cpu {
                pool.on_cpu = true;
            } else {
                pool.sessions.push(Arc::downgrade(&shared));
            }
            (shared, false)
        });
        self.changed.notify_all();
        answer
    }
}

/// Builds a session for `model` on `ep` with `intra_threads` (0: ONNX Runtime's choice).
/// With `half_on_gpu`, a session that runs on a GPU loads `model`'s half-precision copy
/// ([`half_precision_copy`]) when there is one and the GPU takes it (else `model`): faster
/// there, within a level of the full-precision network (see models/models.toml).
///
/// A missing provider is not an error: the session runs on the CPU and `fallback_warning` says
/// so. A file ONNX Runtime cannot parse is an error naming the file and how to get it again.
pub fn load_model(
    model: &Path,
    ep: ExecutionProvider,
    intra_threads: usize,
    half_on_gpu: bool,
) -> Result<LoadedModel, String> {
    let env = environment()?;
    SESSIONS_BUILT.fetch_add(1, Ordering::Relaxed);
    let to_msg = |e: &dyn std::fmt::Display| format!("ONNX Runtime session options: {e}");
    // Idle inference threads must not spin: in a pipeline they would steal the cores that
    // decoders, converters and encoders need between two frames.
    let mut builder = ort::session::Session::builder(env)
        .map_err(|e| to_msg(&e))?
        .with_intra_op_spinning(false)
        .map_err(|e| to_msg(&e))?
        .with_inter_op_spinning(false)
        .map_err(|e| to_msg(&e))?;
    if intra_threads > 0 {
        builder = builder
            .with_intra_threads(intra_threads)
            .map_err(|e| to_msg(&e))?;
    }
    let mut cpu_builder = builder.clone();
    let mut fallback_warning = None;
    if nvidia_provider_offered(ep) {
        // Before CUDA starts (appending its provider starts the device's primary context):
        // how runs wait for the GPU (see `cudawait`).
        if let Some(warning) = &crate::cudawait::set_once().warning {
            fallback_warning = Some(warning.clone());
        }
    }
    let (mut provider, mut runs_on) = (ExecutionProvider::Cpu, "CPU".to_string());
    // `auto` tries CUDA first, quietly: most ONNX Runtime builds have none, and one that has
    // it needs CUDA and cuDNN on the library path and an NVIDIA GPU.
    let mut cuda_why = None;
    if ep == ExecutionProvider::Auto {
        if let Some((dispatch, true)) = provider_dispatch(ExecutionProvider::Cuda) {
            let (b, failed) = with_provider(builder, dispatch);
            builder = b;
            match failed {
                None => {
                    provider = ExecutionProvider::Cuda;
                    runs_on = "CUDA".to_string();
                }
                Some(why) => cuda_why = Some(format!("CUDA could not be used: {why}")),
            }
        }
    }
    if provider != ExecutionProvider::Cuda
        && matches!(ep, ExecutionProvider::WebGpu | ExecutionProvider::Auto)
    {
        let device = register_webgpu(env).map_err(str::to_string).and_then(|_| {
            webgpu_device(env)
                .ok_or_else(|| "the WebGPU execution provider found no hardware GPU".to_string())
        });
        match device {
            Ok((device, vendor)) => match builder.with_devices([device], Some(&webgpu_options())) {
                Ok(b) => {
                    builder = b;
                    provider = ExecutionProvider::WebGpu;
                    runs_on = format!("WebGPU ({vendor})");
                }
                Err(e) => {
                    fallback_warning = Some(format!(
                        "the WebGPU execution provider could not be used ({e}); running on the CPU"
                    ));
                    builder = e.recover();
                }
            },
            // `auto` falls back quietly: no GPU is an ordinary machine, not a fault.
            Err(why) if ep == ExecutionProvider::Auto => {
                runs_on = match cuda_why {
                    Some(cuda) => format!("CPU ({cuda}; {why})"),
                    None => format!("CPU ({why})"),
                }
            }
            Err(why) => fallback_warning = Some(format!("{why}; running on the CPU")),
        }
    } else if let Some((dispatch, available)) = provider_dispatch(ep) {
        let name = dispatch.name();
        if available {
            let (b, failed) = with_provider(builder, dispatch);
            builder = b;
            match failed {
                None => {
                    provider = ep;
                    runs_on = name.to_string();
                }
                Some(why) => {
                    fallback_warning = Some(format!(
                        "{name} could not be used ({why}); running on the CPU"
                    ))
                }
            }
        } else {
            fallback_warning = Some(format!(
                "this ONNX Runtime has no {name}; running on the CPU (point ORT_DYLIB_PATH at a build with it)"
            ));
        }
    }
    // Half precision pays on both GPU providers (the 1080p detector on the H200: WebGPU 44
    // fps against 29 in float32, CUDA 110-121 against 91-102; the upscaler on CUDA 62 against
    // 55-58).
    let half = match provider {
        ExecutionProvider::Cpu => None,
        _ if half_on_gpu => half_precision_copy(model),
        _ => None,
    };
    let _device = provider.takes_turns().then(device_work);
    if let Some(half) = half {
        // A GPU without half-precision arithmetic refuses the session: the model as given
        // runs then.
        if let Ok(session) = builder.clone().commit_from_file(&half) {
            return Ok(LoadedModel {
                session,
                fallback_warning,
                provider,
                runs_on: format!("{runs_on}, half precision"),
                model: half,
                warmed: Vec::new(),
            });
        }
    }
    let not_loaded = |e: ort::Error| {
        format!(
            "could not load model {}: {e}. The file may be truncated or corrupt: run `make models` to fetch it again",
            model.display()
        )
    };
    let session = match builder.commit_from_file(model) {
        Ok(session) => session,
        // A provider that registered can still fail on the model or the device (no CUDA
        // device, out of memory): the CPU runs it then, and says why.
        Err(e) if provider != ExecutionProvider::Cpu => {
            let session = cpu_builder.commit_from_file(model).map_err(not_loaded)?;
            fallback_warning = Some(format!(
                "{runs_on} could not run {} ({e}); running on the CPU",
                model.display()
            ));
            provider = ExecutionProvider::Cpu;
            runs_on = "CPU".to_string();
            session
        }
        Err(e) => return Err(not_loaded(e)),
    };
    Ok(LoadedModel {
        session,
        fallback_warning,
        provider,
        runs_on,
        model: model.to_path_buf(),
        warmed: Vec::new(),
    })
}

/// What running a model's input shape for the first time cost, and what a run of it costs
/// after that.
#[derive(Debug, Clone, PartialEq)]
pub struct Warmup {
    pub shape: Vec<usize>,
    /// The first run: on a GPU provider its lazy work (CUDA modules loaded, cuDNN's
    /// convolution algorithms searched, arenas grown for the shape). Zero when another element
    /// of the session had run the shape already.
    pub first: Duration,
    /// The worst of the runs after the first.
    pub steady: Duration,
}

/// Runs done after the first on a GPU provider, the worst of which is the steady cost (the
/// second can still grow an arena). None on the CPU, whose first run costs about what later
/// ones do: its time (an overestimate, if anything) stands for them, and a detector's start
/// on a 1080p stream pays one run, not several.
const STEADY_RUNS_GPU: usize = 3;
const STEADY_RUNS_CPU: usize = 0;

/// Runs `model` on an input of `shape` (zeros) until its lazy first-run work is done, so that
/// no frame waits for it (DESIGN.md, Live operation), and measures a steady run. Once per
/// shape and session: elements sharing a session (a batch group) warm each shape once, and a
/// later call answers what the first measured with `first` zero.
pub fn warm_up(model: &SharedModel, shape: &[usize]) -> Result<Warmup, String> {
    let mut loaded = model.lock().expect("session lock is never poisoned");
    if let Some((_, steady)) = loaded.warmed.iter().find(|(s, _)| s == shape) {
        return Ok(Warmup {
            shape: shape.to_vec(),
            first: Duration::ZERO,
            steady: *steady,
        });
    }
    let mut input = BoundInput::new(&loaded, shape)?;
    let steady_runs = if loaded.on_cpu() {
        STEADY_RUNS_CPU
    } else {
        STEADY_RUNS_GPU
    };
    let mut first = Duration::ZERO;
    let mut steady = Duration::ZERO;
    for run in 0..=steady_runs {
        let started = Instant::now();
        input.run(&mut loaded.session)?;
        let took = started.elapsed();
        if run == 0 {
            first = took;
        }
        if run > 0 || steady_runs == 0 {
            steady = steady.max(took);
        }
    }
    loaded.warmed.push((shape.to_vec(), steady));
    Ok(Warmup {
        shape: shape.to_vec(),
        first,
        steady,
    })
}

/// One input tensor of a fixed shape bound to a session with its outputs (ONNX Runtime's
/// IoBinding): the input is allocated once, and the outputs are allocated by ONNX Runtime on
/// the first run and reused by every later run of the same shape, so an inference allocates
/// no tensor. Outputs are bound to host memory: a device provider copies its results there.
pub struct BoundInput {
    input: HostInput,
    input_name: String,
    binding: ort::session::IoBinding,
    shape: Vec<usize>,
    /// The model's other inputs, bound once with their values (a device provider copies them
    /// there then): kept alive with the binding.
    _constants: Vec<ort::value::Tensor<f32>>,
    /// The input is bound again at each run: a device provider copies a host input when it
    /// is bound, while the CPU reads the bound tensor itself.
    rebind: bool,
    /// Runs take turns on the device ([`ExecutionProvider::takes_turns`]).
    turns: bool,
}

impl BoundInput {
    /// An input of `shape` for `model`'s only input, and every output bound.
    pub fn new(model: &LoadedModel, shape: &[usize]) -> Result<Self, String> {
        Self::with_constants(model, shape, &[])
    }

    /// An input of `shape` for the one input of `model` that `constants` does not name, the
    /// inputs it names bound once to their values (name, shape, values: float32), and every
    /// output bound.
    pub fn with_constants(
        model: &LoadedModel,
        shape: &[usize],
        constants: &[(&str, &[usize], &[f32])],
    ) -> Result<Self, String> {
        let session = &model.session;
        let named = |name: &str| constants.iter().any(|(n, ..)| *n == name);
        let free: Vec<_> = session
            .inputs()
            .iter()
            .filter(|i| !named(i.name()))
            .collect();
        let ([input], true) = (
            free.as_slice(),
            session.inputs().len() == free.len() + constants.len(),
        ) else {
            let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
            return Err(format!(
                "the model's inputs are {names:?}; one was expected besides {:?}",
                constants.iter().map(|(n, ..)| *n).collect::<Vec<_>>()
            ));
        };
        let kind = InputKind::of(input.dtype().tensor_type())?;
        // On CUDA the input and outputs live in page-locked host memory, which the device
        // copies to and from directly (pageable memory goes through a staging copy); where
        // the provider offers none, ordinary host memory.
        let pinned = |memory| {
            use ort::memory::{AllocationDevice, AllocatorType, MemoryInfo};
            let info = MemoryInfo::new(
                AllocationDevice::CUDA_PINNED,
                0,
                AllocatorType::Device,
                memory,
            )
            .ok()
            // Only memory this process can read and write (the tensors are filled and read
            // in place).
            .filter(MemoryInfo::is_cpu_accessible)?;
            let allocator = ort::memory::Allocator::new(session, info.clone()).ok()?;
            Some((allocator, info))
        };
        // Off by default: ONNX Runtime 1.31's CUDA provider refused runs with page-locked
        // inputs and outputs bound on the H200 ("CopyTensorAsync: dst_data != src_data");
        // `MEDIAAI_CUDA_PINNED=1` tries them.
        let on_cuda = model.provider == ExecutionProvider::Cuda
            && std::env::var("MEDIAAI_CUDA_PINNED").is_ok_and(|v| v.trim() == "1");
        let input_pinned = on_cuda
            .then(|| pinned(ort::memory::MemoryType::CPUInput))
            .flatten();
        let output_pinned = on_cuda
            .then(|| pinned(ort::memory::MemoryType::CPUOutput))
            .flatten();
        let default_allocator = ort::memory::Allocator::default();
        let allocator = input_pinned.as_ref().map_or(&default_allocator, |(a, _)| a);
        let not_made = |e: ort::Error| format!("cannot allocate the {shape:?} input tensor: {e}");
        let tensor = match kind {
            InputKind::F32 => HostInput::F32(
                ort::value::Tensor::<f32>::new(allocator, shape.to_vec()).map_err(not_made)?,
            ),
            InputKind::F16 => HostInput::F16(
                ort::value::Tensor::<half::f16>::new(allocator, shape.to_vec())
                    .map_err(not_made)?,
            ),
            InputKind::U8 => HostInput::U8(
                ort::value::Tensor::<u8>::new(allocator, shape.to_vec()).map_err(not_made)?,
            ),
        };
        let turns = model.provider.takes_turns();
        let _device = turns.then(device_work);
        let mut binding = session
            .create_binding()
            .map_err(|e| format!("ONNX Runtime binding: {e}"))?;
        let host = output_pinned.map_or_else(ort::memory::MemoryInfo::default, |(_, info)| info);
        for output in session.outputs() {
            binding
                .bind_output_to_device(output.name(), &host)
                .map_err(|e| format!("ONNX Runtime binding of {}: {e}", output.name()))?;
        }
        tensor
            .bind(&mut binding, input.name())
            .map_err(|e| format!("ONNX Runtime input binding: {e}"))?;
        let mut kept = Vec::with_capacity(constants.len());
        for (name, dims, values) in constants {
            let value = ort::value::Tensor::from_array((dims.to_vec(), values.to_vec()))
                .map_err(|e| format!("the {name} input {dims:?}: {e}"))?;
            binding
                .bind_input(*name, &value)
                .map_err(|e| format!("ONNX Runtime binding of {name}: {e}"))?;
            kept.push(value);
        }
        Ok(BoundInput {
            input: tensor,
            input_name: input.name().to_string(),
            binding,
            shape: shape.to_vec(),
            _constants: kept,
            rebind: !model.on_cpu(),
            turns,
        })
    }

    /// One run of the input as it is, outputs dropped: a new binding's own first-run work
    /// (its outputs allocated, its input's place on the device) done before a frame needs it.
    pub fn prime(&mut self, session: &mut ort::session::Session) -> Result<(), String> {
        self.run(session).map(drop)
    }

    /// The input's shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// What the input's values are.
    pub fn kind(&self) -> InputKind {
        match self.input {
            HostInput::F32(_) => InputKind::F32,
            HostInput::F16(_) => InputKind::F16,
            HostInput::U8(_) => InputKind::U8,
        }
    }

    /// The input's values, to fill before [`Self::run`].
    pub fn data_mut(&mut self) -> InputValues<'_> {
        match &mut self.input {
            HostInput::F32(t) => InputValues::F32(t.extract_tensor_mut().1),
            HostInput::F16(t) => InputValues::F16(t.extract_tensor_mut().1),
            HostInput::U8(t) => InputValues::U8(t.extract_tensor_mut().1),
        }
    }

    /// The input's values as floats, for an element whose networks take floats only; an error
    /// that says so for a model taking another type.
    pub fn floats_mut(&mut self) -> Result<&mut [f32], String> {
        match self.data_mut() {
            InputValues::F32(v) => Ok(v),
            InputValues::F16(_) => {
                Err("the model's input is float16; this element's models take float32".into())
            }
            InputValues::U8(_) => {
                Err("the model's input is uint8; this element's models take float32".into())
            }
        }
    }

    /// Runs `session` (the one this was made for) on the input as it is now (bound again for
    /// a device provider, which copies it there); outputs in the session's order and names.
    pub fn run<'a>(
        &'a mut self,
        session: &'a mut ort::session::Session,
    ) -> Result<ort::session::SessionOutputs<'a>, String> {
        let _device = self.turns.then(device_work);
        if self.rebind {
            self.input
                .bind(&mut self.binding, &self.input_name)
                .map_err(|e| format!("ONNX Runtime input binding: {e}"))?;
        }
        session
            .run_binding(&self.binding)
            .map_err(|e| e.to_string())
    }
}

/// What a network's input values are: floats, or 8-bit levels that the network scales itself
/// (a model whose input is uint8, as `centerface-fp16.onnx`: a quarter of the bytes a frame
/// moves to a GPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputKind {
    #[default]
    F32,
    /// Half-precision floats: a half-precision model without casts at its ends (half the
    /// bytes of float32 to and from a GPU, and the same values, which it casts to half
    /// precision itself).
    F16,
    U8,
}

impl InputKind {
    /// The kind of a model input of element type `ty`; an error naming it for another.
    pub fn of(ty: Option<ort::value::TensorElementType>) -> Result<Self, String> {
        use ort::value::TensorElementType as T;
        match ty {
            Some(T::Float32) => Ok(InputKind::F32),
            Some(T::Float16) => Ok(InputKind::F16),
            Some(T::Uint8) => Ok(InputKind::U8),
            other => Err(format!(
                "the model's input is {other:?}; float32, float16 or uint8 (8-bit levels) was expected"
            )),
        }
    }
}

/// A host input tensor of either kind.
enum HostInput {
    F32(ort::value::Tensor<f32>),
    F16(ort::value::Tensor<half::f16>),
    U8(ort::value::Tensor<u8>),
}

impl HostInput {
    fn bind(&self, binding: &mut ort::session::IoBinding, name: &str) -> ort::Result<()> {
        match self {
            HostInput::F32(t) => binding.bind_input(name, t),
            HostInput::F16(t) => binding.bind_input(name, t),
            HostInput::U8(t) => binding.bind_input(name, t),
        }
    }
}

/// The values of (part of) a network input, to fill: see [`InputKind`].
#[derive(Debug)]
pub enum InputValues<'a> {
    F32(&'a mut [f32]),
    F16(&'a mut [half::f16]),
    U8(&'a mut [u8]),
}

impl<'a> InputValues<'a> {
    pub fn len(&self) -> usize {
        match self {
            InputValues::F32(v) => v.len(),
            InputValues::F16(v) => v.len(),
            InputValues::U8(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values `range` of these (panics outside them, as slicing does).
    pub fn slice(self, range: std::ops::Range<usize>) -> InputValues<'a> {
        match self {
            InputValues::F32(v) => InputValues::F32(&mut v[range]),
            InputValues::F16(v) => InputValues::F16(&mut v[range]),
            InputValues::U8(v) => InputValues::U8(&mut v[range]),
        }
    }

    /// Copies `src` into the first values; an error when the kinds differ or it does not fit.
    pub fn copy_from(&mut self, at: usize, src: &InputBuffer) -> Result<(), String> {
        let len = src.len();
        if at + len > self.len() {
            return Err(format!("{len} values at {at} do not fit {}", self.len()));
        }
        match (self, src) {
            (InputValues::F32(d), InputBuffer::F32(s)) => d[at..at + len].copy_from_slice(s),
            (InputValues::F16(d), InputBuffer::F16(s)) => d[at..at + len].copy_from_slice(s),
            (InputValues::U8(d), InputBuffer::U8(s)) => d[at..at + len].copy_from_slice(s),
            _ => return Err("an image of another input type than the batch's".into()),
        }
        Ok(())
    }
}

/// An input image owned by a stream (a batch group's request): see [`InputKind`].
#[derive(Debug, Clone)]
pub enum InputBuffer {
    F32(Vec<f32>),
    F16(Vec<half::f16>),
    U8(Vec<u8>),
}

impl Default for InputBuffer {
    fn default() -> Self {
        InputBuffer::F32(Vec::new())
    }
}

impl InputBuffer {
    /// `len` zero values of `kind`.
    pub fn zeros(kind: InputKind, len: usize) -> Self {
        match kind {
            InputKind::F32 => InputBuffer::F32(vec![0.0; len]),
            InputKind::F16 => InputBuffer::F16(vec![half::f16::ZERO; len]),
            InputKind::U8 => InputBuffer::U8(vec![0; len]),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            InputBuffer::F32(v) => v.len(),
            InputBuffer::F16(v) => v.len(),
            InputBuffer::U8(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn kind(&self) -> InputKind {
        match self {
            InputBuffer::F32(_) => InputKind::F32,
            InputBuffer::F16(_) => InputKind::F16,
            InputBuffer::U8(_) => InputKind::U8,
        }
    }

    /// The values, to fill.
    pub fn values(&mut self) -> InputValues<'_> {
        match self {
            InputBuffer::F32(v) => InputValues::F32(v),
            InputBuffer::F16(v) => InputValues::F16(v),
            InputBuffer::U8(v) => InputValues::U8(v),
        }
    }
}
