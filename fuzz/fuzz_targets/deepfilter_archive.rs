#![no_main]
// See tests/fuzzing.rs.
libfuzzer_sys::fuzz_target!(|data: &[u8]| mediaai_pipelines::fuzzing::deepfilter_archive(data));
