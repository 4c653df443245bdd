//! UniFFI's command-line generator at the version the library pins, so that generated sources
//! match the library: `cargo run -p uniffi-bindgen -- generate --library
//! target/debug/libzfc_ffi.so --language kotlin --out-dir OUT`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
