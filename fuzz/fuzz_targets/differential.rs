//! libFuzzer entry for `rumba_fuzz::differential` (interpreter ≡ plan evaluator ≡ JIT).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rumba_fuzz::differential(data));
