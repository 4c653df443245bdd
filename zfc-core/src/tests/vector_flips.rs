//! Every data field of every vector file is checked: each hex digit of each byte field and each
//! decimal value is flipped in turn, and the checks of `vectors.rs`, run on the mutated vector,
//! must fail. Text fields (names, prose, labels, invite strings) are not flipped.
//!
//! A hex digit is flipped by its lowest bit; in an X25519 secret, the lowest bits of the first
//! byte are cleared by clamping, so its second digit flips bit 3 instead. Every digit of a field
//! up to 64 bytes is flipped; of a longer one, the first and last 64 bytes and every seventh
//! digit between. An empty byte field becomes `00`, an empty list `1`. A decimal value is flipped
//! by its lowest bit.

use super::vectors::{Kind, all, check_for, load_json};

/// Fields longer than this many hex digits are flipped at a sample of positions.
const FULL: usize = 128;
/// Between the first and last [`FULL`] / 2 bytes, every `STRIDE`-th digit.
const STRIDE: usize = 7;

fn positions(digits: usize) -> Vec<usize> {
    if digits <= FULL {
        return (0..digits).collect();
    }
    (0..digits).filter(|&i| i < FULL || i >= digits - FULL || i % STRIDE == 0).collect()
}

fn flip_digit(value: &str, pos: usize, mask: u8) -> String {
    let mut b = value.as_bytes().to_vec();
    let digit = (b[pos] as char).to_digit(16).unwrap() as u8 ^ mask;
    b[pos] = char::from_digit(u32::from(digit), 16).unwrap() as u8;
    String::from_utf8(b).unwrap()
}

/// Every changed value the flip test tries for a field.
fn flips(value: &str, kind: Kind) -> Vec<String> {
    match kind {
        Kind::Text => Vec::new(),
        Kind::Hex | Kind::X25519Secret if value.is_empty() => vec!["00".into()],
        Kind::Hex => positions(value.len()).into_iter().map(|i| flip_digit(value, i, 1)).collect(),
        Kind::X25519Secret => {
            // Clamping clears bits 0-2 of byte 0 (digit 1) and bit 7 of byte 31 and sets its
            // bit 6 (digit 62, whose lowest bit, bit 4, survives).
            (0..value.len()).map(|i| flip_digit(value, i, if i == 1 { 8 } else { 1 })).collect()
        }
        Kind::Dec => vec![(value.parse::<u64>().unwrap() ^ 1).to_string()],
        Kind::DecList if value.is_empty() => vec!["1".into()],
        Kind::DecList => {
            let items: Vec<u64> = value.split(',').map(|x| x.parse().unwrap()).collect();
            (0..items.len())
                .map(|i| {
                    let mut v = items.clone();
                    v[i] ^= 1;
                    v.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
                })
                .collect()
        }
    }
}

#[test]
fn every_flip_of_every_vector_field_is_caught() {
    let (mut tried, mut caught, mut text_fields) = (0usize, 0usize, 0usize);
    let mut missed = Vec::new();
    for file in all() {
        let json = load_json(file.name);
        let check = check_for(file.name).unwrap();
        let vectors = json["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), file.vectors.len(), "{}: regenerate the vectors", file.name);
        for (typed, v) in file.vectors.iter().zip(vectors) {
            let v = v.as_object().unwrap();
            let name = v["name"].as_str().unwrap();
            assert_eq!(v.len(), typed.0.len(), "{} {name}: regenerate the vectors", file.name);
            check(v).unwrap_or_else(|e| panic!("{} {name} fails unchanged: {e}", file.name));
            for (key, value, kind) in &typed.0 {
                assert_eq!(v[key].as_str(), Some(value.as_str()), "{} {name} {key}: regenerate the vectors", file.name);
                if *kind == Kind::Text {
                    text_fields += 1;
                }
                for changed in flips(value, *kind) {
                    tried += 1;
                    let mut m = v.clone();
                    m.insert(key.clone(), serde_json::Value::String(changed.clone()));
                    match check(&m) {
                        Err(_) => caught += 1,
                        Ok(()) => missed.push(format!("{} / {name} / {key} = {changed}", file.name)),
                    }
                }
            }
        }
    }
    println!("vector flips: {tried} tried, {caught} caught ({text_fields} text fields not flipped)");
    assert!(missed.is_empty(), "{} flips went unnoticed:\n{}", missed.len(), missed.join("\n"));
    assert_eq!(tried, caught);
}
