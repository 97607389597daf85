//! libFuzzer entry for `rumba_fuzz::graph_file` (any bytes as a graph file).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rumba_fuzz::graph_file(data));
