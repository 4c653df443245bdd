#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| zfc_fuzz::relay_journal(data));
