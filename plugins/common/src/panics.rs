//! Panics on threads our elements own. GStreamer's Rust bindings catch a panic in a pad
//! function or a state change and turn it into an element error; a thread an element starts
//! itself (a pad task, a warm-up thread) has no such guard: a panic there ends the thread
//! quietly, and a streaming thread waiting for its work hangs the pipeline. [`caught`] runs
//! such a thread's work and turns a panic into an error message the element posts.

/// Runs `f`, returning its value, or the panic's message (in words a user can report) if it
/// panicked.
pub fn caught<R>(what: &str, f: impl FnOnce() -> R) -> Result<R, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        format!("internal error while {what} ({why}): this is a bug, please report it with the pipeline that met it")
    })
}

/// Fault injection for the tests: whether `MEDIAAI_FAULT` names `point` (a comma-separated
/// list), making the code there panic. Read where a worker starts, never per frame.
pub fn fault(point: &str) -> bool {
    std::env::var("MEDIAAI_FAULT").is_ok_and(|v| v.split(',').any(|p| p.trim() == point))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(caught("adding", || 2 + 2), Ok(4));
        let e = caught("upscaling a batch", || -> u8 {
            panic!("index 3 out of range")
        })
        .unwrap_err();
        assert!(
            e.contains("upscaling a batch") && e.contains("index 3 out of range"),
            "{e}"
        );
        let owned = caught("x", || -> u8 { panic!("{} planes", 2) }).unwrap_err();
        assert!(owned.contains("2 planes"), "{owned}");
    }
}
