//! Link settings of the shared library.

fn main() {
    // Android 15+ devices with 16 KB pages refuse to load a `.so` whose LOAD segments are
    // aligned to 4 KB; GNU ld's default on x86-64 and aarch64 Linux is 4 KB. 16 KB alignment
    // also loads on 4 KB-page systems, so every Linux and Android build gets it
    // (scripts/test-kotlin.sh checks it with readelf).
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,max-page-size=16384");
    }
}
