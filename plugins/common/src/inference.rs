//! ONNX Runtime for every plugin: the library is loaded at run time (ort `load-dynamic`), once
//! per process; sessions are built with the execution provider a user asked for and fall back
//! to the CPU with a warning; models are found by name in well-known places.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::ep::ExecutionProvider as _;

/// Where ONNX Runtime inference runs. Providers other than `cpu` need an ONNX Runtime build
/// that has them (see README); when it lacks them the session runs on the CPU with a warning.
/// Elements declare their property type with [`crate::execution_provider_enum!`].
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default)]
pub enum ExecutionProvider {
    #[default]
    Cpu,
    Cuda,
    TensorRt,
    OpenVino,
    CoreMl,
    DirectMl,
}

static ENVIRONMENT: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// Candidate paths of the ONNX Runtime shared library, in the order they are tried.
fn runtime_candidates() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        v.push(PathBuf::from(p));
    }
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
        .map_err(|e| e.as_str())
}

/// Finds a model file: an explicit path wins; otherwise `name` is looked up in
/// `$MEDIAAI_MODEL_DIR`, the source tree's `models/`, and the installed data directory.
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
    dirs.push(Path::new(crate::SOURCE_TREE_ROOT).join("models"));
    dirs.push(PathBuf::from("/usr/local/share/gst-media-ai/models"));
    dirs.push(PathBuf::from("/usr/share/gst-media-ai/models"));
    for d in &dirs {
        let candidate = d.join(name);
        if candidate.is_file() {
            return Ok(candidate);
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
}

fn provider_dispatch(ep: ExecutionProvider) -> Option<(ort::ep::ExecutionProviderDispatch, bool)> {
    use ort::ep;
    Some(match ep {
        ExecutionProvider::Cpu => return None,
        ExecutionProvider::Cuda => (
            ep::CUDA::default().build(),
            ep::CUDA::is_available().unwrap_or(false),
        ),
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

/// Builds a session for `model` on `ep` with `intra_threads` (0: ONNX Runtime's choice).
///
/// A missing provider is not an error: the session runs on the CPU and `fallback_warning` says
/// so. A file ONNX Runtime cannot parse is an error naming the file and how to get it again.
pub fn load_model(
    model: &Path,
    ep: ExecutionProvider,
    intra_threads: usize,
) -> Result<LoadedModel, String> {
    let env = environment()?;
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
    let mut fallback_warning = None;
    if let Some((dispatch, available)) = provider_dispatch(ep) {
        let name = dispatch.name();
        if available {
            match builder.with_execution_providers([dispatch.error_on_failure()]) {
                Ok(b) => builder = b,
                Err(e) => {
                    fallback_warning = Some(format!(
                        "{name} could not be used ({e}); running on the CPU"
                    ));
                    builder = e.recover();
                }
            }
        } else {
            fallback_warning = Some(format!(
                "this ONNX Runtime has no {name}; running on the CPU (point ORT_DYLIB_PATH at a build with it)"
            ));
        }
    }
    let session = builder.commit_from_file(model).map_err(|e| {
        format!(
            "could not load model {}: {e}. The file may be truncated or corrupt: run `make models` to fetch it again",
            model.display()
        )
    })?;
    Ok(LoadedModel {
        session,
        fallback_warning,
    })
}
