//! The generator and checker of `spec/vectors/content.json` (spec §21, above the protocol), the
//! twin of `zfc-core/src/tests/vectors.rs` and `vector_flips.rs` for the one file whose codec
//! zfc-core cannot reach, sharing their `vector_fields.rs`:
//! `ZFC_WRITE_VECTORS=1 cargo test -p zfc-client --test content_vectors` writes the file; a plain
//! run regenerates it in memory, requires the committed file to match byte for byte, checks every
//! vector against the codec independently of the generator, and flips every data field to show
//! the check catches each change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

/// Shared with zfc-core's vector tests: field kinds, the files' JSON, reading fields, flips.
#[allow(dead_code)]
#[path = "../../zfc-core/src/tests/vector_fields.rs"]
mod vector_fields;

use vector_fields::{FORMAT, Fields, Flips, Kind, Vector, decf, ensure, hexf, render, text};
use zfc_client::content::{
    Content, Envelope, HEADER_LEN, MAX_DISPLAY_NAME_LEN, MAX_TOPIC_LEN, TYPE_DISPLAY_NAME, TYPE_TEXT, TYPE_TOPIC,
    VERSION,
};

const FILE: &str = "content.json";

const DESCRIPTION: &str = "zfc content envelopes (spec §21): the application layer above the protocol, carried as a room message's content (spec §8). Text, DisplayName and Topic, each with and without a claimed time where it matters, at their bounds, and with strings a UI must sanitise (kept as sent); types this version does not know (kept as other); and content that is not an envelope (raw bytes, another version, malformed or over-long envelopes).";

/// What this file adds to [`FORMAT`].
const FORMAT_NOTE: &str = "In this file content names what bytes decode to: text, display name, topic, other (a type this version does not know) or not an envelope. An envelope lists version, type_code and sent_at_ms (the sender's claimed time in Unix milliseconds; 0: no claim) in decimal, then its body: text, display_name or topic as text, the body of another type in hex (without its length prefix). Content that is not an envelope lists raw, the content as delivered, in hex.";

const VERIFY: &str = "Decode bytes as spec §21.5: it must give exactly the listed content (not an envelope: raw, every byte of bytes, and no claimed time; sent_at_ms 0: no claimed time); for an envelope, encoding the listed fields must give bytes again. Beside name, content and bytes a vector holds only the fields of its content. Not in the file (too large): the Text bound, a body of 65 521 bytes (an envelope of 65 536, spec §21.1); zfc-client's unit tests cover it.";

/// A vector: its fields in order, each with its kind.
struct Obj(Vec<(String, String, Kind)>);

impl Obj {
    fn new(name: &str, content: &str) -> Self {
        Self(vec![("name".into(), name.into(), Kind::Text), ("content".into(), content.into(), Kind::Text)])
    }
    fn field(mut self, k: &str, v: String, kind: Kind) -> Self {
        self.0.push((k.into(), v, kind));
        self
    }
}

/// An envelope vector: the listed fields of `e`, then its encoding.
fn envelope(name: &str, e: &Envelope) -> Obj {
    let (content, body_key, body, kind) = match &e.content {
        Content::Text { body } => ("text", "text", body.clone(), Kind::Text),
        Content::DisplayName { name } => ("display name", "display_name", name.clone(), Kind::Text),
        Content::Topic { topic } => ("topic", "topic", topic.clone(), Kind::Text),
        Content::Other { body, .. } => ("other", "body", hex::encode(body), Kind::Hex),
        _ => panic!("{name}: not an envelope"),
    };
    Obj::new(name, content)
        .field("version", VERSION.to_string(), Kind::Dec)
        .field("type_code", e.content.type_code().unwrap().to_string(), Kind::Dec)
        .field("sent_at_ms", e.claimed_sent_at_ms.unwrap_or(0).to_string(), Kind::Dec)
        .field(body_key, body, kind)
        .field("bytes", hex::encode(e.encode().unwrap()), Kind::Hex)
}

/// A vector of content that is not an envelope.
fn raw(name: &str, bytes: &[u8]) -> Obj {
    Obj::new(name, "not an envelope").field("raw", hex::encode(bytes), Kind::Hex).field(
        "bytes",
        hex::encode(bytes),
        Kind::Hex,
    )
}

/// An envelope written by hand: header for `type_code` with a length field of `len`, then `body`.
fn laid(type_code: u16, sent_at: u64, len: usize, body: &[u8]) -> Vec<u8> {
    let mut b = vec![VERSION];
    b.extend_from_slice(&type_code.to_be_bytes());
    b.extend_from_slice(&sent_at.to_be_bytes());
    b.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
    b.extend_from_slice(body);
    b
}

/// 2026-01-01T00:00:00Z in Unix milliseconds: every vector's claimed time but one.
const T: u64 = 1_767_225_600_000;

fn vectors() -> Vec<Obj> {
    let e = |content, at| Envelope { content, claimed_sent_at_ms: at };
    let text = |s: &str| Content::Text { body: s.into() };
    let hello = e(text("Hello, room!"), Some(T)).encode().unwrap();
    let other = |type_code, body: &[u8]| Content::Other { type_code, body: body.to_vec() };
    let mut version_2 = hello.clone();
    version_2[0] = 2;
    vec![
        envelope("text", &e(text("Hello, room!"), Some(T))),
        envelope("text without a claimed time", &e(text("no clock"), None)),
        envelope("text in several scripts", &e(text("Grüße, мир, 世界 🦀"), Some(T + 1))),
        // What a UI must neutralise, kept as sent (no tab or line feed: the C tests read the
        // files flattened into lines, scripts/vectors-to-tsv.py).
        envelope(
            "text with controls, a bidi override and invisible characters, not altered",
            &e(text("\u{202e}gnp.exe\u{202c} \u{7}\u{1b}[2J\u{200b}\u{feff}e\u{301}\u{0}"), Some(T)),
        ),
        envelope("empty text", &e(text(""), Some(T))),
        envelope("display name", &e(Content::DisplayName { name: "Alice".into() }, Some(T))),
        envelope(
            "display name at the bound: 128 bytes, 64 characters",
            &e(Content::DisplayName { name: "é".repeat(MAX_DISPLAY_NAME_LEN / 2) }, Some(T)),
        ),
        envelope(
            "empty display name: the sender withdraws its name",
            &e(Content::DisplayName { name: "".into() }, Some(T)),
        ),
        envelope("topic", &e(Content::Topic { topic: "Release planning, week 12".into() }, Some(T))),
        envelope(
            "topic at the bound: 512 bytes",
            &e(Content::Topic { topic: "topic 0123456789 ".repeat(30) + "ok" }, Some(T)),
        ),
        envelope("empty topic: no topic", &e(Content::Topic { topic: "".into() }, None)),
        envelope("unknown type 0x0004: kept", &e(other(4, &[1, 2, 3, 4, 5]), Some(T))),
        envelope("private-use type 0x8001: kept", &e(other(0x8001, b"zfc"), Some(T))),
        envelope("reserved type 0x0000, empty body: kept", &e(other(0, &[]), None)),
        raw("empty content", &[]),
        raw("raw text from an app without envelopes", b"hello"),
        raw("version 2", &version_2),
        raw("header one byte short", &hello[..HEADER_LEN - 1]),
        raw("body length past the end", &hello[..hello.len() - 1]),
        raw("trailing byte", &[&hello[..], &[0]].concat()),
        raw("text not UTF-8", &laid(TYPE_TEXT, T, 2, &[0xc3, 0x28])),
        raw("text with an overlong UTF-8 form", &laid(TYPE_TEXT, T, 2, &[0xc0, 0xaf])),
        raw("topic with a UTF-16 surrogate", &laid(TYPE_TOPIC, T, 3, &[0xed, 0xa0, 0x80])),
        raw(
            "display name over the bound: 129 bytes",
            &laid(TYPE_DISPLAY_NAME, T, MAX_DISPLAY_NAME_LEN + 1, &[b'a'; MAX_DISPLAY_NAME_LEN + 1]),
        ),
        raw("topic over the bound: 513 bytes", &laid(TYPE_TOPIC, T, MAX_TOPIC_LEN + 1, &[b't'; MAX_TOPIC_LEN + 1])),
    ]
}

fn path() -> String {
    format!("{}/../spec/vectors/{FILE}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn content_vectors_regenerate_byte_for_byte() {
    let vectors = vectors();
    let fields: Vec<&Fields> = vectors.iter().map(|v| &v.0[..]).collect();
    let text = render(DESCRIPTION, &format!("{FORMAT} {FORMAT_NOTE}"), VERIFY, &fields);
    if std::env::var("ZFC_WRITE_VECTORS").as_deref() == Ok("1") {
        std::fs::write(path(), &text).unwrap();
    }
    let committed = std::fs::read_to_string(path()).unwrap();
    assert!(
        committed == text,
        "{FILE} differs from what the code generates: run ZFC_WRITE_VECTORS=1 cargo test -p zfc-client --test content_vectors and review the diff"
    );
}

// ---------------------------------------------------------------- checks: the codec, never the
// generator.

/// The envelope the listed fields describe, and the names of those fields.
fn listed(v: &Vector) -> Result<(Envelope, Vec<&'static str>), String> {
    let content = text(v, "content")?;
    if content == "not an envelope" {
        let bytes = hexf(v, "raw")?;
        return Ok((Envelope { content: Content::NotEnvelope { bytes }, claimed_sent_at_ms: None }, vec!["raw"]));
    }
    ensure(decf::<u8>(v, "version")? == VERSION, || "version: not the version of spec §21.1".into())?;
    let type_code = decf::<u16>(v, "type_code")?;
    let known = |want: u16| ensure(type_code == want, || format!("{content} has type {want}, not {type_code}"));
    let (content, field) = match content {
        "text" => (Content::Text { body: text(v, "text")?.into() }, "text"),
        "display name" => (Content::DisplayName { name: text(v, "display_name")?.into() }, "display_name"),
        "topic" => (Content::Topic { topic: text(v, "topic")?.into() }, "topic"),
        "other" => (Content::Other { type_code, body: hexf(v, "body")? }, "body"),
        other => return Err(format!("unknown content {other:?}")),
    };
    if let Some(want) = content.type_code() {
        known(want)?;
    }
    let sent_at: u64 = decf(v, "sent_at_ms")?;
    let envelope = Envelope { content, claimed_sent_at_ms: (sent_at != 0).then_some(sent_at) };
    Ok((envelope, vec!["version", "type_code", "sent_at_ms", field]))
}

fn check(v: &Vector) -> Result<(), String> {
    let bytes = hexf(v, "bytes")?;
    let (want, fields) = listed(v)?;
    let own = |k: &str| ["name", "content", "bytes"].contains(&k) || fields.contains(&k);
    if let Some(k) = v.keys().find(|k| !own(k)) {
        return Err(format!("{k}: no field of this content"));
    }
    let got = Envelope::decode(&bytes);
    ensure(got == want, || format!("decodes to {got:?}, the vector says {want:?}"))?;
    if !matches!(want.content, Content::NotEnvelope { .. }) {
        let encoded = want.encode().map_err(|e| format!("encoding the listed fields: {e}"))?;
        ensure(encoded == bytes, || format!("the listed fields encode to {}", hex::encode(&encoded)))?;
    }
    Ok(())
}

fn load() -> Vec<Vector> {
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();
    json["vectors"].as_array().unwrap().iter().map(|v| v.as_object().unwrap().clone()).collect()
}

#[test]
fn content_vectors_decode_and_encode() {
    let vectors = load();
    assert!(!vectors.is_empty());
    for v in &vectors {
        check(v).unwrap_or_else(|e| panic!("{}: {e}", v["name"]));
    }
}

#[test]
fn every_flip_of_every_content_vector_field_is_caught() {
    let generated = vectors();
    let committed = load();
    assert_eq!(committed.len(), generated.len(), "{FILE}: regenerate the vectors");
    let mut flips = Flips::default();
    for (typed, v) in generated.iter().zip(&committed) {
        flips.flip_every_field(FILE, &typed.0, v, check);
    }
    flips.report("content vector flips");
}
