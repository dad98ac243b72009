//! What the benchmark examples share: the median of timings and a line naming the adapter.

/// The median of `values` (the upper one of an even count); NaN for none.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// `adapter: NAME (TYPE, BACKEND)`, or why there is none.
pub fn adapter_line() -> String {
    crate::gpu::probe_adapter().map_or_else(
        |e| e,
        |a| format!("adapter: {} ({:?}, {:?})", a.name, a.device_type, a.backend),
    )
}
