//! Every data field of every vector file is checked: each hex digit of each byte field and each
//! decimal value is flipped in turn (`vector_fields.rs` says how), and the checks of
//! `vectors.rs`, run on the mutated vector, must fail. Text fields (names, prose, labels, invite
//! strings) are not flipped.

use super::vector_fields::Flips;
use super::vectors::{all, check_for, load_json};

/// Files of `spec/vectors/` generated, checked and flipped elsewhere, in `zfc-client`, which this
/// crate cannot reach: `content.json` is above the protocol (spec §21; its twin of this test is
/// `zfc-client/tests/content_vectors.rs`), `vault.json` is the client's sealed state (spec §17.7;
/// `zfc-client/src/vault/vectors.rs`).
const CHECKED_ELSEWHERE: [&str; 2] = ["content.json", "vault.json"];

#[test]
fn every_flip_of_every_vector_field_is_caught() {
    let mut flips = Flips::default();
    for file in all() {
        let json = load_json(file.name);
        let check = check_for(file.name).unwrap();
        let vectors = json["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), file.vectors.len(), "{}: regenerate the vectors", file.name);
        for (typed, v) in file.vectors.iter().zip(vectors) {
            flips.flip_every_field(file.name, &typed.0, v.as_object().unwrap(), check);
        }
    }
    flips.report("vector flips");
}

/// Every file in `spec/vectors/` is flipped here or listed as checked elsewhere: a new file
/// cannot go unchecked.
#[test]
fn every_vector_file_is_flipped_here_or_elsewhere() {
    let dir = format!("{}/../spec/vectors", env!("CARGO_MANIFEST_DIR"));
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut known: Vec<String> = all().iter().map(|f| f.name.to_string()).collect();
    known.extend(CHECKED_ELSEWHERE.iter().map(|n| n.to_string()));
    known.sort();
    assert_eq!(on_disk, known, "a file of spec/vectors is neither in vectors.rs all() nor in CHECKED_ELSEWHERE");
}
