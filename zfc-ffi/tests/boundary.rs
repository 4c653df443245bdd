//! Every exported function runs inside the panic boundary: the first statement of the body of
//! each `extern "C" fn` is one of the boundary macros. An export written without it fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn every_export_is_wrapped() {
    let dir = format!("{}/src", env!("CARGO_MANIFEST_DIR"));
    let mut exports = 0;
    let mut unwrapped = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("extern \"C\" fn ") {
            let after = &rest[i..];
            let name: String =
                after["extern \"C\" fn ".len()..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let body_start = after.find('{').unwrap();
            let body = after[body_start + 1..].trim_start();
            exports += 1;
            if !(body.starts_with("ffi!(") || body.starts_with("ffi_value!(") || body.starts_with("ffi_void!(")) {
                unwrapped.push(format!("{}: {name}", path.display()));
            }
            rest = &after[body_start..];
        }
        // Every export must also be `no_mangle`, or C cannot link it.
        assert_eq!(
            text.matches("extern \"C\" fn ").count(),
            text.matches("#[unsafe(no_mangle)]").count(),
            "{}",
            path.display()
        );
    }
    assert!(exports > 40, "found only {exports} exports: the scan is broken");
    assert!(unwrapped.is_empty(), "exports outside the panic boundary: {unwrapped:?}");
}
