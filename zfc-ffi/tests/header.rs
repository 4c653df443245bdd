//! `include/zfc.h` is what cbindgen (pinned at 0.29.4) makes of the crate: the test fails when
//! the committed header drifts from the code. `ZFC_WRITE_HEADER=1` rewrites it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn header_matches_the_code() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen runs on the crate")
        .write(&mut generated);
    let path = format!("{dir}/include/zfc.h");
    if std::env::var("ZFC_WRITE_HEADER").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/zfc.h drifted from the code: run ZFC_WRITE_HEADER=1 cargo test -p zfc-ffi --test header and review the diff"
    );
}
