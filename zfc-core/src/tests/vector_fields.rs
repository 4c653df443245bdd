//! What every vector file's generator and checks share (spec §19): the fields' kinds, the JSON
//! the files are written in, reading a field back, and the flips that show a check uses every data
//! field. `vectors.rs` and `vector_flips.rs` use it here; `zfc-client/tests/content_vectors.rs`
//! includes this file (`#[path]`) for `content.json`, whose codec this crate cannot reach, so it
//! needs nothing but std, `serde_json` and `hex`.

use std::fmt::Write as _;

/// How a field's value is written, and so how the flip test changes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Text as is (names, prose, labels, invite strings): not flipped.
    Text,
    /// Bytes in lower-case hex.
    Hex,
    /// An X25519 secret in lower-case hex: the bits clamping clears or sets are not flips.
    X25519Secret,
    /// An integer in decimal.
    Dec,
    /// Integers in decimal separated by commas (empty: no integer).
    DecList,
}

/// A vector's fields as generated: key, value and kind, in order.
pub type Fields = [(String, String, Kind)];

/// One vector of a file: a flat JSON object of strings.
pub type Vector = serde_json::Map<String, serde_json::Value>;
/// A check of one vector.
pub type Check = fn(&Vector) -> Result<(), String>;

/// The `format` of every file, before what a file adds.
pub const FORMAT: &str = "UTF-8 JSON: an object with description, format, verify and vectors; each vector is a flat object whose values are all strings: byte strings in lower-case hex, integers in decimal, text as is.";

/// JSON string escaping. Control characters, white space other than U+0020 and invisible
/// format characters (bidirectional controls too) are written as `\uXXXX`, so that the files show
/// them.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let invisible = c.is_control()
            || (c.is_whitespace() && c != ' ')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}');
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            _ if !invisible => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out
}

/// A vector file's text.
pub fn render(description: &str, format: &str, verify: &str, vectors: &[&Fields]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{{");
    let _ = writeln!(out, "  \"description\": \"{}\",", escape(description));
    let _ = writeln!(out, "  \"format\": \"{}\",", escape(format));
    let _ = writeln!(out, "  \"verify\": \"{}\",", escape(verify));
    let _ = writeln!(out, "  \"vectors\": [");
    for (i, v) in vectors.iter().enumerate() {
        let fields: Vec<String> =
            v.iter().map(|(k, val, _)| format!("      \"{}\": \"{}\"", escape(k), escape(val))).collect();
        let comma = if i + 1 < vectors.len() { "," } else { "" };
        let _ = writeln!(out, "    {{\n{}\n    }}{comma}", fields.join(",\n"));
    }
    let _ = writeln!(out, "  ]");
    let _ = writeln!(out, "}}");
    out
}

/// `Ok` if `ok`, else `Err(why())`.
pub fn ensure(ok: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(why()) }
}

/// A field's string.
pub fn text<'a>(v: &'a Vector, k: &str) -> Result<&'a str, String> {
    v.get(k).and_then(|x| x.as_str()).ok_or_else(|| format!("no field {k}"))
}

/// A byte field: lower-case hex only.
pub fn hexf(v: &Vector, k: &str) -> Result<Vec<u8>, String> {
    let s = text(v, k)?;
    ensure(!s.bytes().any(|b| b.is_ascii_uppercase()), || format!("{k}: upper-case hex"))?;
    hex::decode(s).map_err(|e| format!("{k}: {e}"))
}

/// An integer field: canonical decimal.
pub fn decf<T: TryFrom<u64>>(v: &Vector, k: &str) -> Result<T, String> {
    let s = text(v, k)?;
    let n: u64 = s.parse().map_err(|_| format!("{k}: not a decimal integer"))?;
    ensure(n.to_string() == s, || format!("{k}: not canonical decimal"))?;
    T::try_from(n).map_err(|_| format!("{k}: {n} out of range"))
}

// ---------------------------------------------------------------- flips
//
// A hex digit is flipped by its lowest bit; in an X25519 secret, the lowest bits of the first
// byte are cleared by clamping, so its second digit flips bit 3 instead. Every digit of a field
// up to 64 bytes is flipped; of a longer one, the first and last 64 bytes and every seventh
// digit between. An empty byte field becomes `00`, an empty list `1`. A decimal value is flipped
// by its lowest bit.

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

/// What flipping the fields of vectors found.
#[derive(Default)]
pub struct Flips {
    /// Changed vectors tried.
    pub tried: usize,
    /// Of those, the ones the check refused.
    pub caught: usize,
    /// Text fields, which are not flipped.
    pub text_fields: usize,
    /// The changes the check let through: file / vector / field = value.
    pub missed: Vec<String>,
}

impl Flips {
    /// Checks the committed vector `v` of `file` as it is, requires it to hold exactly the fields
    /// `typed` generates, then flips each in turn and runs `check` on the changed vector.
    pub fn flip_every_field(&mut self, file: &str, typed: &Fields, v: &Vector, check: Check) {
        let name = v["name"].as_str().unwrap();
        assert_eq!(v.len(), typed.len(), "{file} {name}: regenerate the vectors");
        check(v).unwrap_or_else(|e| panic!("{file} {name} fails unchanged: {e}"));
        for (key, value, kind) in typed {
            assert_eq!(v[key].as_str(), Some(value.as_str()), "{file} {name} {key}: regenerate the vectors");
            if *kind == Kind::Text {
                self.text_fields += 1;
            }
            for changed in flips(value, *kind) {
                self.tried += 1;
                let mut m = v.clone();
                m.insert(key.clone(), serde_json::Value::String(changed.clone()));
                match check(&m) {
                    Err(_) => self.caught += 1,
                    Ok(()) => self.missed.push(format!("{file} / {name} / {key} = {changed}")),
                }
            }
        }
    }

    /// Prints the counts and fails if any flip went unnoticed.
    pub fn report(&self, what: &str) {
        println!("{what}: {} tried, {} caught ({} text fields not flipped)", self.tried, self.caught, self.text_fields);
        assert!(self.missed.is_empty(), "{} flips went unnoticed:\n{}", self.missed.len(), self.missed.join("\n"));
        assert_eq!(self.tried, self.caught);
        assert!(self.tried > 0);
    }
}
