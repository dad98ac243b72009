//! How a thread that waits for the GPU under ONNX Runtime's CUDA provider waits.
//!
//! CUDA's default (`auto`) spins whenever the machine has more cores than CUDA contexts, so a
//! thread inside a session's run holds a whole core busy for as long as the network runs on
//! the GPU: a 1080p upscale held 1.6 cores at 47 frames a second, and sixteen processes of one
//! stream each (as a supervisor runs channels) held sixteen cores that their decoders, blurs
//! and encoders needed. Before the first CUDA session of a process is built, every GPU's
//! primary context (the one the CUDA runtime, and so ONNX Runtime, uses) is told how to wait,
//! through the driver's own library (`libcuda.so.1`, installed with the driver). The default
//! is `block`: the thread sleeps in the driver and is woken when the work is done.
//! `MEDIAAI_CUDA_WAIT` (`block`, `yield`, `spin`, `auto`) chooses another way; a context that
//! is already running (another library of the process started it) keeps its own.

use std::sync::OnceLock;

/// The ways a CUDA context can wait (the driver's `CU_CTX_SCHED_*` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CudaWait {
    /// The driver's choice: spin while there are more cores than contexts.
    Auto,
    /// Spin on the CPU: the least latency, a core per waiting thread.
    Spin,
    /// Spin, yielding the core to other threads between polls.
    Yield,
    /// Sleep until the GPU's interrupt wakes the thread.
    Block,
}

/// The environment variable that chooses the way.
pub const CUDA_WAIT_VAR: &str = "MEDIAAI_CUDA_WAIT";

impl CudaWait {
    /// The way `value` names, or a message saying which names there are.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "spin" => Ok(Self::Spin),
            "yield" => Ok(Self::Yield),
            "block" | "" => Ok(Self::Block),
            other => Err(format!(
                "{CUDA_WAIT_VAR}={other} is not one of block, yield, spin, auto; CUDA waits blocking"
            )),
        }
    }

    /// Its name, as `MEDIAAI_CUDA_WAIT` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Spin => "spin",
            Self::Yield => "yield",
            Self::Block => "block",
        }
    }

    /// The driver's flag for it.
    pub fn flag(self) -> u32 {
        match self {
            Self::Auto => 0x0,
            Self::Spin => 0x1,
            Self::Yield => 0x2,
            Self::Block => 0x4,
        }
    }
}

/// The outcome of setting the way, once per process: what was set (e.g. "CUDA waits block on
/// 1 GPU"), or why nothing was (no driver library, a context already running), and a warning
/// for a bad `MEDIAAI_CUDA_WAIT`.
#[derive(Debug, Clone)]
pub struct WaitSet {
    pub said: String,
    pub warning: Option<String>,
}

static SET: OnceLock<WaitSet> = OnceLock::new();

/// Tells every GPU's primary context how to wait, the first time it is called in a process
/// (call it before the first CUDA session is built); later calls give the first outcome.
pub fn set_once() -> &'static WaitSet {
    SET.get_or_init(|| {
        let (wait, warning) = match std::env::var(CUDA_WAIT_VAR) {
            Ok(v) => match CudaWait::parse(&v) {
                Ok(w) => (w, None),
                Err(why) => (CudaWait::Block, Some(why)),
            },
            Err(_) => (CudaWait::Block, None),
        };
        let said = set_primary_contexts(wait)
            .unwrap_or_else(|why| format!("CUDA's wait left as the driver's: {why}"));
        WaitSet { said, warning }
    })
}

type CuResult = i32;

/// Sets `wait` on every device's primary context through the driver's library.
fn set_primary_contexts(wait: CudaWait) -> Result<String, String> {
    // SAFETY: the driver's library runs no code of ours when loaded; the symbols below are its
    // stable C API (CUDA 11 and later), called with the signatures it declares.
    unsafe {
        // The driver's state, the flags included, lives as long as its library stays loaded:
        // it stays for the process, as it would once CUDA runs.
        let lib: &'static libloading::Library = Box::leak(Box::new(
            libloading::Library::new("libcuda.so.1").map_err(|e| e.to_string())?,
        ));
        let init: libloading::Symbol<unsafe extern "C" fn(u32) -> CuResult> =
            lib.get(b"cuInit\0").map_err(|e| e.to_string())?;
        let count: libloading::Symbol<unsafe extern "C" fn(*mut i32) -> CuResult> =
            lib.get(b"cuDeviceGetCount\0").map_err(|e| e.to_string())?;
        let device: libloading::Symbol<unsafe extern "C" fn(*mut i32, i32) -> CuResult> =
            lib.get(b"cuDeviceGet\0").map_err(|e| e.to_string())?;
        let state: libloading::Symbol<unsafe extern "C" fn(i32, *mut u32, *mut i32) -> CuResult> =
            lib.get(b"cuDevicePrimaryCtxGetState\0")
                .map_err(|e| e.to_string())?;
        let set: libloading::Symbol<unsafe extern "C" fn(i32, u32) -> CuResult> = lib
            .get(b"cuDevicePrimaryCtxSetFlags_v2\0")
            .map_err(|e| e.to_string())?;
        let r = init(0);
        if r != 0 {
            return Err(format!("cuInit gave {r}"));
        }
        let mut n = 0;
        if count(&mut n) != 0 {
            return Err("the driver counted no devices".to_string());
        }
        let (mut set_on, mut running) = (0, 0);
        for ordinal in 0..n {
            let mut dev = 0;
            let (mut flags, mut active) = (0u32, 0i32);
            if device(&mut dev, ordinal) != 0 || state(dev, &mut flags, &mut active) != 0 {
                continue;
            }
            if active != 0 {
                running += 1;
            } else if set(dev, (flags & !0x7) | wait.flag()) == 0 {
                set_on += 1;
            }
        }
        Ok(format!(
            "CUDA waits ({}) on {set_on} of {n} GPUs{}",
            wait.name(),
            if running > 0 {
                format!(" ({running} already running keep their own)")
            } else {
                String::new()
            }
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ways_parse_and_a_wrong_one_says_which_there_are() {
        assert_eq!(CudaWait::parse("block"), Ok(CudaWait::Block));
        assert_eq!(CudaWait::parse(" Spin "), Ok(CudaWait::Spin));
        assert_eq!(CudaWait::parse("yield"), Ok(CudaWait::Yield));
        assert_eq!(CudaWait::parse("auto"), Ok(CudaWait::Auto));
        assert_eq!(CudaWait::parse(""), Ok(CudaWait::Block));
        let why = CudaWait::parse("sleepy").unwrap_err();
        assert!(
            why.contains("MEDIAAI_CUDA_WAIT=sleepy") && why.contains("block, yield, spin, auto")
        );
        assert_eq!(CudaWait::Block.flag(), 4);
        assert_eq!(CudaWait::Spin.flag(), 1);
    }

    #[test]
    fn without_a_cuda_driver_the_way_is_left_and_nothing_breaks() {
        // CI machines have no NVIDIA driver: the outcome says so and no session is harmed.
        let set = set_once();
        // SAFETY: loading the driver's library runs no code of ours.
        if unsafe { libloading::Library::new("libcuda.so.1") }.is_err() {
            assert!(set.said.contains("left as the driver's"), "{}", set.said);
        } else {
            assert!(set.said.starts_with("CUDA waits (block)"), "{}", set.said);
        }
    }
}
