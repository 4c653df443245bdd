//! `spec/vectors/vault.json`: generated here (zfc-core cannot depend on this crate, so its
//! vector tests and flip test do not see this file), checked against the committed file byte for
//! byte, checked field by field independently of the generator, and flipped field by field as
//! zfc-core's `vector_flips.rs` does. `ZFC_WRITE_VECTORS=1 cargo test -p zfc-client vectors`
//! writes the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Map, Value};
use zfc_core::pickle::Argon2Params;

use super::format::{self, Header, Row};
use super::{RoomKind, Vault, VaultOptions};
use crate::RelayAddress;

const NAME: &str = "vault.json";
const DESCRIPTION: &str = "zfc client state container (spec 17.7): 'ZFCC' || 0x01 || u32 m_cost_kib || u32 t_cost || u32 p_cost || salt (16) || manifest item || u32 n || n entry items; item = nonce (24) || u32 len || XChaCha20-Poly1305(key, nonce, aad, plaintext); entry i: plaintext = u16 url_len || relay_url (UTF-8, 5 to 2048 bytes, ws:// or wss://) || relay_key (32) || the room's pickle, aad = header (33) || 'zfc v1 vault entry' || room_id || kind (0 owner, 1 member); manifest: plaintext = u64 generation || u32 n || n x (room_id || kind || SHA-256(entry item)), aad = header || 'zfc v1 vault manifest'; key = Argon2id v1.3 (passphrase, salt, m, t, p) to 32 bytes. Fields rooms.<i>.* describe entry i, in the container's order (ascending room_id). The pickles are short stand-ins: the container checks only their magic.";
const FORMAT: &str = "UTF-8 JSON: an object with description, format, verify and vectors; each vector is a flat object whose values are all strings: byte strings in lower-case hex, integers in decimal, text as is.";
const VERIFY: &str = "Derive key from passphrase, salt and the costs; encode each room's entry plaintext from relay_url, relay_key and pickle: it must be rooms.<i>.plaintext; seal it with the room's nonce and AAD: the item must be rooms.<i>.entry and its SHA-256 rooms.<i>.entry_hash; encode the manifest from generation and the rows: it must be manifest; seal it with manifest_nonce; header || sealed manifest || u32 room_count || the entries must be vault; opening vault with the passphrase must give the rooms, kinds, relays, pickles and generation.";
const PASSPHRASE: &str = "correct horse battery staple";

/// What a field's value is, and so how the flip test changes it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Text that is not checked against anything (`name`, `passphrase`): not flipped.
    Exempt,
    /// Text that is encoded (a relay address): each character flipped by its lowest bit.
    Text,
    /// A decimal integer: flipped by its lowest bit.
    Decimal,
    /// A byte string in hex: each digit flipped by its lowest bit.
    Hex,
}

/// A field: key, value, kind.
type Field = (String, String, Kind);

/// The two rooms' relays: a member's room on a remote relay, the owner's on the local one.
fn relays() -> [RelayAddress; 2] {
    let key: Vec<u8> = (0x20..0x40).collect();
    [
        RelayAddress::new("wss://relay.example/zfc", &key).unwrap(),
        RelayAddress::new("ws://127.0.0.1:5103", &[0x5a; 32]).unwrap(),
    ]
}

fn hexs(b: &[u8]) -> String {
    hex::encode(b)
}

/// The vector, from a seeded vault: two rooms, one save.
fn generate() -> Vec<Field> {
    let options = VaultOptions { insecure_weak_kdf_for_tests: true };
    let rng = ChaCha20Rng::seed_from_u64(0x7a66_6363);
    let mut v = Vault::create_with_rng(PASSPHRASE.as_bytes(), Argon2Params::MIN, options, rng).unwrap();
    let [remote, local] = relays();
    v.put_room(&[0x22; 16], RoomKind::Member, &remote, b"ZFCM\x00\x02member pickle bytes").unwrap();
    v.put_room(&[0x11; 16], RoomKind::Owner, &local, b"ZFCO\x00\x02owner pickle bytes").unwrap();
    let blob = v.seal().unwrap();
    let inner = v.inner().unwrap();
    let parsed = format::parse(&blob).unwrap();
    let p = inner.header.params;
    let mut f: Vec<Field> = Vec::new();
    let mut put = |k: &str, val: String, kind: Kind| f.push((k.to_owned(), val, kind));
    put("name", "two rooms, first save".into(), Kind::Exempt);
    put("passphrase", PASSPHRASE.into(), Kind::Exempt);
    put("m_cost_kib", p.m_cost_kib.to_string(), Kind::Decimal);
    put("t_cost", p.t_cost.to_string(), Kind::Decimal);
    put("p_cost", p.p_cost.to_string(), Kind::Decimal);
    put("salt", hexs(&inner.header.salt), Kind::Hex);
    put("key", hexs(inner.key.expose()), Kind::Hex);
    put("generation", inner.generation.to_string(), Kind::Decimal);
    put("room_count", inner.rooms.len().to_string(), Kind::Decimal);
    for (i, ((id, room), entry)) in inner.rooms.iter().zip(&parsed.entries).enumerate() {
        let aad = format::entry_aad(parsed.header_bytes, id, room.kind);
        let plaintext = format::open_item(&inner.key, entry, &aad).unwrap();
        put(&format!("rooms.{i}.room_id"), hexs(id), Kind::Hex);
        put(&format!("rooms.{i}.kind"), room.kind.code().to_string(), Kind::Decimal);
        put(&format!("rooms.{i}.relay_url"), room.relay.url().to_owned(), Kind::Text);
        put(&format!("rooms.{i}.relay_key"), hexs(&room.relay.key()), Kind::Hex);
        put(&format!("rooms.{i}.pickle"), hexs(&room.pickle), Kind::Hex);
        put(&format!("rooms.{i}.plaintext"), hexs(&plaintext), Kind::Hex);
        put(&format!("rooms.{i}.nonce"), hexs(&entry[..format::NONCE_LEN]), Kind::Hex);
        put(&format!("rooms.{i}.entry"), hexs(entry), Kind::Hex);
        put(&format!("rooms.{i}.entry_hash"), hexs(&format::entry_hash(entry)), Kind::Hex);
    }
    let manifest = format::open_item(&inner.key, parsed.manifest, &format::manifest_aad(parsed.header_bytes)).unwrap();
    put("manifest_nonce", hexs(&parsed.manifest[..format::NONCE_LEN]), Kind::Hex);
    put("manifest", hexs(&manifest), Kind::Hex);
    put("vault", hexs(&blob), Kind::Hex);
    f
}

fn render(fields: &[Field]) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let body: Vec<String> = fields.iter().map(|(k, v, _)| format!("      \"{}\": \"{}\"", esc(k), esc(v))).collect();
    format!(
        "{{\n  \"description\": \"{}\",\n  \"format\": \"{}\",\n  \"verify\": \"{}\",\n  \"vectors\": [\n    {{\n{}\n    }}\n  ]\n}}\n",
        esc(DESCRIPTION),
        esc(FORMAT),
        esc(VERIFY),
        body.join(",\n")
    )
}

fn path() -> String {
    format!("{}/../spec/vectors/{NAME}", env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------- the check
//
// Uses the code under test (derive, seal, encode, open), never the generator.

fn text<'a>(v: &'a Map<String, Value>, k: &str) -> Result<&'a str, String> {
    v.get(k).and_then(Value::as_str).ok_or_else(|| format!("no field {k}"))
}

fn bytes(v: &Map<String, Value>, k: &str) -> Result<Vec<u8>, String> {
    hex::decode(text(v, k)?).map_err(|e| format!("{k}: {e}"))
}

fn fixed<const N: usize>(v: &Map<String, Value>, k: &str) -> Result<[u8; N], String> {
    bytes(v, k)?.try_into().map_err(|_| format!("{k}: not {N} bytes"))
}

fn num<T: std::str::FromStr>(v: &Map<String, Value>, k: &str) -> Result<T, String> {
    text(v, k)?.parse().map_err(|_| format!("{k}: not a number"))
}

fn same(what: &str, got: &[u8], want: &[u8]) -> Result<(), String> {
    if got == want { Ok(()) } else { Err(format!("{what} differs")) }
}

fn check(v: &Map<String, Value>) -> Result<(), String> {
    let passphrase = text(v, "passphrase")?.as_bytes();
    let params =
        Argon2Params { m_cost_kib: num(v, "m_cost_kib")?, t_cost: num(v, "t_cost")?, p_cost: num(v, "p_cost")? };
    let header = Header { params, salt: fixed(v, "salt")? };
    let header_bytes = header.bytes();
    let key = format::derive(passphrase, &header).map_err(|e| e.to_string())?;
    same("key", key.expose(), &bytes(v, "key")?)?;
    let generation: u64 = num(v, "generation")?;
    let n: usize = num(v, "room_count")?;
    let mut rows = Vec::new();
    let mut entries = Vec::new();
    let mut contents = Vec::new();
    for i in 0..n {
        let room_id: [u8; 16] = fixed(v, &format!("rooms.{i}.room_id"))?;
        let kind = RoomKind::from_code(num(v, &format!("rooms.{i}.kind"))?).ok_or("kind")?;
        let url = text(v, &format!("rooms.{i}.relay_url"))?;
        let relay = RelayAddress::new(url, &bytes(v, &format!("rooms.{i}.relay_key"))?).map_err(|e| e.to_string())?;
        let pickle = bytes(v, &format!("rooms.{i}.pickle"))?;
        let plaintext = format::entry_plaintext(&relay, &pickle);
        same(&format!("rooms.{i}.plaintext"), &plaintext, &bytes(v, &format!("rooms.{i}.plaintext"))?)?;
        let nonce = fixed(v, &format!("rooms.{i}.nonce"))?;
        let aad = format::entry_aad(&header_bytes, &room_id, kind);
        let entry = format::seal_item_with(&key, &nonce, &aad, &plaintext);
        same(&format!("rooms.{i}.entry"), &entry, &bytes(v, &format!("rooms.{i}.entry"))?)?;
        let opened = format::open_item(&key, &entry, &aad).ok_or("entry does not open")?;
        let (opened_relay, opened_pickle) = format::parse_entry(&opened).map_err(|e| e.to_string())?;
        if opened_relay != relay {
            return Err(format!("rooms.{i}: the entry reads back another relay"));
        }
        same("opened pickle", opened_pickle, &pickle)?;
        let hash = format::entry_hash(&entry);
        same(&format!("rooms.{i}.entry_hash"), &hash, &bytes(v, &format!("rooms.{i}.entry_hash"))?)?;
        rows.push(Row { room_id, kind, hash });
        entries.push(entry);
        contents.push((relay, pickle));
    }
    let manifest = format::manifest(generation, &rows);
    same("manifest", &manifest, &bytes(v, "manifest")?)?;
    if format::parse_manifest(&manifest).map_err(|e| e.to_string())? != (generation, rows.clone()) {
        return Err("the manifest reads back otherwise".into());
    }
    let sealed =
        format::seal_item_with(&key, &fixed(v, "manifest_nonce")?, &format::manifest_aad(&header_bytes), &manifest);
    let mut blob = [header_bytes.as_slice(), &sealed].concat();
    blob.extend_from_slice(&(n as u32).to_be_bytes());
    entries.iter().for_each(|e| blob.extend_from_slice(e));
    let vault = bytes(v, "vault")?;
    same("vault", &blob, &vault)?;
    // And the public way in.
    let opened = Vault::open_with_rng(&vault, passphrase, VaultOptions::default(), ChaCha20Rng::seed_from_u64(0))
        .map_err(|e| e.to_string())?;
    if opened.generation().map_err(|e| e.to_string())? != generation {
        return Err("opened generation".into());
    }
    let ids = opened.rooms().map_err(|e| e.to_string())?;
    same("opened room ids", &ids.concat(), &rows.iter().flat_map(|r| r.room_id).collect::<Vec<u8>>())?;
    for (row, (relay, pickle)) in rows.iter().zip(&contents) {
        let e = opened.room(&row.room_id).map_err(|e| e.to_string())?.ok_or("room missing")?;
        if e.kind != row.kind {
            return Err("opened kind".into());
        }
        if e.relay != *relay || opened.relay(&row.room_id).map_err(|e| e.to_string())?.as_ref() != Some(relay) {
            return Err("opened relay".into());
        }
        same("opened pickle", &e.pickle, pickle)?;
    }
    Ok(())
}

fn load() -> Map<String, Value> {
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();
    let vectors = json["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 1);
    vectors[0].as_object().unwrap().clone()
}

#[test]
fn vault_vectors_match_the_committed_file() {
    let text = render(&generate());
    if std::env::var("ZFC_WRITE_VECTORS").as_deref() == Ok("1") {
        std::fs::write(path(), &text).unwrap();
    }
    let committed = std::fs::read_to_string(path()).unwrap();
    assert!(
        committed == text,
        "{NAME} differs from what the code generates: ZFC_WRITE_VECTORS=1 cargo test -p zfc-client vectors"
    );
}

#[test]
fn vault_vectors_check() {
    check(&load()).unwrap();
}

/// As zfc-core's `vector_flips.rs`: every hex digit of every byte field flipped by its lowest
/// bit, every decimal value by its lowest bit, every character of a relay address by its lowest
/// bit; each change must fail the check. The text fields `name` and `passphrase` are exempt.
#[test]
fn every_flip_of_every_vault_vector_field_is_caught() {
    let v = load();
    let fields = generate();
    assert_eq!(v.len(), fields.len(), "regenerate {NAME}");
    let (mut tried, mut missed) = (0usize, Vec::new());
    for (key, value, kind) in &fields {
        assert_eq!(v[key].as_str(), Some(value.as_str()), "regenerate {NAME}: {key}");
        let flip = |i: usize, f: fn(u8) -> u8| {
            let mut b = value.as_bytes().to_vec();
            b[i] = f(b[i]);
            String::from_utf8(b).unwrap()
        };
        let flips: Vec<String> = match kind {
            Kind::Exempt => continue,
            Kind::Decimal => vec![(value.parse::<u64>().unwrap() ^ 1).to_string()],
            Kind::Text => {
                assert!(value.is_ascii(), "{key}: the flips keep ASCII text UTF-8");
                (0..value.len()).map(|i| flip(i, |c| c ^ 1)).collect()
            }
            Kind::Hex => (0..value.len())
                .map(|i| {
                    flip(i, |c| {
                        let d = (c as char).to_digit(16).unwrap() ^ 1;
                        char::from_digit(d, 16).unwrap() as u8
                    })
                })
                .collect(),
        };
        for changed in flips {
            tried += 1;
            let mut m = v.clone();
            m.insert(key.clone(), Value::String(changed.clone()));
            if check(&m).is_ok() {
                missed.push(format!("{key} = {changed}"));
            }
        }
    }
    println!("{NAME}: {tried} changes tried, {} caught", tried - missed.len());
    assert!(missed.is_empty(), "changes not caught: {missed:?}");
}
