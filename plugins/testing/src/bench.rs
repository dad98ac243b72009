//! What the benchmark examples share: the median of timings, a line naming the adapter, and
//! this process's memory.

/// The median of `values` (the upper one of an even count); NaN for none.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// A memory figure of this process in KiB from `/proc/self/status` (`"VmRSS"`: resident now,
/// `"VmHWM"`: its peak), 0 where it cannot be read.
pub fn memory_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// `adapter: NAME (TYPE, BACKEND)`, or why there is none.
pub fn adapter_line() -> String {
    mediaai_common::gpu::probe_adapter().map_or_else(
        |e| e,
        |a| format!("adapter: {} ({:?}, {:?})", a.name, a.device_type, a.backend),
    )
}
