//! Replays every fuzz corpus and regression input (`fuzz/corpus/<target>/`,
//! `fuzz/regressions/<target>/`) through the fuzz targets' bodies, as an ordinary test: no
//! fuzzer needed. `ZFC_WRITE_CORPORA=1` writes the seed corpora from genuine traffic and from
//! spec/vectors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs, dead_code)]

#[path = "../../fuzz/src/lib.rs"]
mod harness;

use std::path::PathBuf;

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut out: Vec<(PathBuf, Vec<u8>)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn corpora_and_regressions_replay() {
    if std::env::var("ZFC_WRITE_CORPORA").as_deref() == Ok("1") {
        write_seeds();
    }
    let mut total = 0;
    for (name, body) in harness::TARGETS {
        let seeds = inputs("corpus", name);
        assert!(
            !seeds.is_empty(),
            "no seed corpus for {name}: run ZFC_WRITE_CORPORA=1 cargo test -p zfc-core --test fuzz_corpora"
        );
        for (path, bytes) in seeds.iter().chain(inputs("regressions", name).iter()) {
            let r = std::panic::catch_unwind(|| body(bytes));
            assert!(r.is_ok(), "{name} panicked on {}", path.display());
            total += 1;
        }
    }
    println!("replayed {total} inputs");
}

fn piece(sel: u8, bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![sel, (bytes.len() >> 8) as u8, bytes.len() as u8];
    v.extend_from_slice(&bytes[..bytes.len().min(0xffff)]);
    v
}

fn write_seeds() {
    let m = harness::material();
    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
    for (_, req) in &m.requests {
        seeds.push(("relay_proto", req.clone()));
        if let Ok(zfc_core::relay::ClientRequest::Submit { frame, .. }) = zfc_core::relay::ClientRequest::decode(req) {
            seeds.push(("frame_decode", frame));
        }
    }
    for (_, d) in m.deliveries.iter().take(40) {
        seeds.push(("relay_proto", d.clone()));
    }
    // Member and owner: genuine deliveries in order (selector odd: mutate with an empty script).
    let mut member_script = Vec::new();
    let mut owner_script = Vec::new();
    for (i, (_, d)) in m.deliveries.iter().enumerate().take(60) {
        member_script.extend(piece(((i as u8) << 1) | 1, &[]));
        owner_script.extend(piece(0, d));
    }
    seeds.push(("member_handle", member_script));
    seeds.push(("owner_handle", owner_script));
    for (_, d) in m.deliveries.iter().take(12) {
        seeds.push(("member_handle", piece(0, d)));
    }
    // Relay: the genuine requests in order, then a few raw ones.
    let mut relay_script = Vec::new();
    for (p, _) in m.requests.iter() {
        relay_script.extend(piece(((*p as u8) % 4) | 0b100, &[]));
    }
    seeds.push(("relay_rulebook", relay_script));
    // Journal: the genuine entries in order, and each one alone.
    let journal_script: Vec<u8> = m.journal.iter().flat_map(|_| piece(1, &[])).collect();
    seeds.push(("relay_journal", journal_script));
    for e in m.journal.iter().take(20) {
        seeds.push(("relay_journal", piece(0, e)));
    }
    seeds.push(("state_load", m.owner.clone()));
    seeds.push(("state_load", m.member.clone()));
    for name in ["owner-v1.sealed.hex", "member-v1.sealed.hex"] {
        let text = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name))
            .unwrap();
        seeds.push(("state_load", hex::decode(text.trim()).unwrap()));
    }
    // From spec/vectors: every hex field goes to the decoders, invite strings to the parser.
    let vectors = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors");
    for file in ["frames.json", "messages.json", "hpke.json", "link.json", "invites.json"] {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(vectors.join(file)).unwrap()).unwrap();
        for v in doc["vectors"].as_array().unwrap() {
            for (key, value) in v.as_object().unwrap() {
                let s = value.as_str().unwrap();
                match (file, key.as_str()) {
                    ("invites.json", "uri") => seeds.push(("invite_parse", s.as_bytes().to_vec())),
                    ("link.json", "handshake1" | "handshake2" | "client_to_relay_0" | "relay_to_client_0") => {
                        seeds.push(("link", hex::decode(s).unwrap()))
                    }
                    ("frames.json", "bytes")
                    | ("messages.json", "frame")
                    | ("hpke.json", "join_request" | "key_grant") => {
                        let b = hex::decode(s).unwrap();
                        seeds.push(("frame_decode", b.clone()));
                        seeds.push(("relay_proto", b));
                    }
                    _ => {}
                }
            }
        }
    }
    let mut counts = std::collections::BTreeMap::new();
    for (target, bytes) in seeds {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        let n = counts.entry(target).or_insert(0);
        *n += 1;
        std::fs::write(dir.join(format!("seed-{n:04}")), bytes).unwrap();
    }
}
