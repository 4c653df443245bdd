//! The content envelope carried inside room messages (spec §21): an application layer above the
//! protocol.
//!
//! The protocol seals a message's content as opaque bytes (spec §8); zfc clients put an
//! [`Envelope`] there: a version byte, a type code, the sender's *claimed* time and a
//! length-prefixed body.
//!
//! ```text
//! version u8 (0x01) | type u16 | sent_at_ms u64 (0: no claim) | u32 length | body
//! ```
//!
//! [`Envelope::decode`] is total: bytes that are not a valid envelope come back as
//! [`Content::NotEnvelope`] with every byte, a well-formed envelope of a type this version does
//! not know as [`Content::Other`]; nothing is an error and no message is lost.
//! [`Envelope::encode`] refuses what a receiver would not decode as given ([`ContentError`]).
//! Neither alters a string: sanitising for display is the UI's duty (spec §21.6).

use std::fmt;

use zfc_core::message::MAX_CONTENT_LEN;

/// The envelope version this code writes and reads (spec §21.1).
pub const VERSION: u8 = 0x01;
/// Bytes before the body: version (1), type (2), claimed time (8), body length (4).
pub const HEADER_LEN: usize = 15;
/// The largest envelope: the protocol's bound on a message's content (spec §8.1, §12).
pub const MAX_ENCODED_LEN: usize = MAX_CONTENT_LEN;
/// The largest body of any type: what the envelope bound leaves after the header.
pub const MAX_BODY_LEN: usize = MAX_ENCODED_LEN - HEADER_LEN;
/// The largest display name, in bytes of UTF-8: the join introduction's bound (spec §12).
pub const MAX_DISPLAY_NAME_LEN: usize = 128;
/// The largest room topic, in bytes of UTF-8.
pub const MAX_TOPIC_LEN: usize = 512;

/// Type code of [`Content::Text`].
pub const TYPE_TEXT: u16 = 0x0001;
/// Type code of [`Content::DisplayName`].
pub const TYPE_DISPLAY_NAME: u16 = 0x0002;
/// Type code of [`Content::Topic`].
pub const TYPE_TOPIC: u16 = 0x0003;

/// What a room message carries (spec §21.2).
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Content {
    /// A chat message (type 0x0001). Untrusted text: sanitise before display (spec §21.6).
    Text {
        /// The message, as the sender wrote it; may span lines.
        body: String,
    },
    /// The name the sender wants shown for itself (type 0x0002); it names the message's
    /// authenticated sender, never anyone else. Empty: the sender withdraws its name.
    DisplayName {
        /// The name, at most [`MAX_DISPLAY_NAME_LEN`] bytes; unverified and not unique.
        name: String,
    },
    /// The room's topic (type 0x0003). Clients honour it only from the owner, member 0
    /// (spec §21.4). Empty: no topic.
    Topic {
        /// The topic, at most [`MAX_TOPIC_LEN`] bytes.
        topic: String,
    },
    /// A well-formed envelope of a type this version does not know: kept, to be shown as
    /// unsupported, never dropped.
    Other {
        /// The type code, none of the `TYPE_*` constants.
        type_code: u16,
        /// The body, uninterpreted.
        body: Vec<u8>,
    },
    /// Content that is not an envelope at all (raw bytes from another app, a later envelope
    /// version, a malformed or over-long envelope), with every byte as received.
    NotEnvelope {
        /// The message's whole content.
        bytes: Vec<u8>,
    },
}

impl Content {
    /// The type code this content is written with; `None` for [`Content::NotEnvelope`].
    pub fn type_code(&self) -> Option<u16> {
        match self {
            Content::Text { .. } => Some(TYPE_TEXT),
            Content::DisplayName { .. } => Some(TYPE_DISPLAY_NAME),
            Content::Topic { .. } => Some(TYPE_TOPIC),
            Content::Other { type_code, .. } => Some(*type_code),
            Content::NotEnvelope { .. } => None,
        }
    }
}

/// A message's content with the sender's claimed time (spec §21.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Envelope {
    /// What the message carries.
    pub content: Content,
    /// When the sender says it sent the message, Unix milliseconds: the sender's unauthenticated
    /// claim, never an order (the log orders messages) and shown, if at all, as claimed
    /// (spec §21.3). `None`: no claim (written as 0), and always for [`Content::NotEnvelope`].
    pub claimed_sent_at_ms: Option<u64>,
}

/// Why [`Envelope::encode`] refused an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentError {
    /// A text body longer than [`MAX_BODY_LEN`] bytes.
    TextTooLong {
        /// Its length in bytes.
        len: u64,
        /// The bound.
        max: u64,
    },
    /// A display name longer than [`MAX_DISPLAY_NAME_LEN`] bytes.
    DisplayNameTooLong {
        /// Its length in bytes.
        len: u64,
        /// The bound.
        max: u64,
    },
    /// A topic longer than [`MAX_TOPIC_LEN`] bytes.
    TopicTooLong {
        /// Its length in bytes.
        len: u64,
        /// The bound.
        max: u64,
    },
    /// The body of an unknown type longer than [`MAX_BODY_LEN`] bytes.
    OtherTooLong {
        /// Its length in bytes.
        len: u64,
        /// The bound.
        max: u64,
    },
    /// [`Content::Other`] with the code of a type this version knows: it would decode as that
    /// type, so write the type itself.
    KnownTypeAsOther {
        /// The code.
        type_code: u16,
    },
    /// [`Content::NotEnvelope`] has no encoding: send raw bytes without the codec.
    NotAnEnvelope,
    /// A claimed time of 0, which the wire reserves for "no claim": use `None`.
    ZeroTimestamp,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContentError::TextTooLong { len, max } => write!(f, "text of {len} bytes, at most {max} allowed"),
            ContentError::DisplayNameTooLong { len, max } => {
                write!(f, "display name of {len} bytes, at most {max} allowed")
            }
            ContentError::TopicTooLong { len, max } => write!(f, "topic of {len} bytes, at most {max} allowed"),
            ContentError::OtherTooLong { len, max } => {
                write!(f, "body of {len} bytes for an unknown type, at most {max} allowed")
            }
            ContentError::KnownTypeAsOther { type_code } => {
                write!(f, "type {type_code:#06x} is known: encode it as its own content, not as Other")
            }
            ContentError::NotAnEnvelope => f.write_str("content that is not an envelope has no envelope encoding"),
            ContentError::ZeroTimestamp => f.write_str("a claimed time of 0 means no claim: use None"),
        }
    }
}

impl std::error::Error for ContentError {}

/// Codes of the shared table (`zfc_core::code`): a bound is `MESSAGE_TOO_LONG`, the rest
/// `INVALID_ARGUMENT`.
impl zfc_core::ErrorCode for ContentError {
    fn error_code(&self) -> u32 {
        // Exhaustive: a new variant does not compile until it has a code.
        match self {
            Self::TextTooLong { .. }
            | Self::DisplayNameTooLong { .. }
            | Self::TopicTooLong { .. }
            | Self::OtherTooLong { .. } => zfc_core::code::MESSAGE_TOO_LONG,
            Self::KnownTypeAsOther { .. } | Self::NotAnEnvelope | Self::ZeroTimestamp => {
                zfc_core::code::INVALID_ARGUMENT
            }
        }
    }
}

/// A field's length for the wire if it is at most `max`, else the error `too_long` makes of
/// both.
fn bounded(len: usize, max: usize, too_long: fn(u64, u64) -> ContentError) -> Result<u32, ContentError> {
    let wide = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    match u32::try_from(len) {
        Ok(wire) if len <= max => Ok(wire),
        _ => Err(too_long(wide(len), wide(max))),
    }
}

/// The body as UTF-8 within `max` bytes, or `None`.
fn utf8(body: &[u8], max: usize) -> Option<String> {
    if body.len() > max {
        return None;
    }
    std::str::from_utf8(body).ok().map(str::to_owned)
}

/// The envelope in `bytes`, or `None` if they are not one (spec §21.5).
fn parse(bytes: &[u8]) -> Option<Envelope> {
    if bytes.len() > MAX_ENCODED_LEN {
        return None;
    }
    let (&[version], rest) = bytes.split_first_chunk::<1>()?;
    if version != VERSION {
        return None;
    }
    let (type_code, rest) = rest.split_first_chunk::<2>()?;
    let (sent_at, rest) = rest.split_first_chunk::<8>()?;
    let (len, body) = rest.split_first_chunk::<4>()?;
    if usize::try_from(u32::from_be_bytes(*len)).ok()? != body.len() {
        return None;
    }
    let content = match u16::from_be_bytes(*type_code) {
        TYPE_TEXT => Content::Text { body: utf8(body, MAX_BODY_LEN)? },
        TYPE_DISPLAY_NAME => Content::DisplayName { name: utf8(body, MAX_DISPLAY_NAME_LEN)? },
        TYPE_TOPIC => Content::Topic { topic: utf8(body, MAX_TOPIC_LEN)? },
        type_code => Content::Other { type_code, body: body.to_vec() },
    };
    let sent_at = u64::from_be_bytes(*sent_at);
    Some(Envelope { content, claimed_sent_at_ms: (sent_at != 0).then_some(sent_at) })
}

impl Envelope {
    /// Decodes a message's content (spec §21.5). Total: bytes that are not a valid envelope give
    /// [`Content::NotEnvelope`] with all of them, an unknown type gives [`Content::Other`].
    pub fn decode(bytes: &[u8]) -> Envelope {
        parse(bytes).unwrap_or_else(|| Envelope {
            content: Content::NotEnvelope { bytes: bytes.to_vec() },
            claimed_sent_at_ms: None,
        })
    }

    /// The envelope's one encoding, the content to seal in a message (at most
    /// [`MAX_ENCODED_LEN`] bytes). Refuses a field over its bound, [`Content::Other`] with a
    /// known type code, [`Content::NotEnvelope`] and a claimed time of `Some(0)`.
    pub fn encode(&self) -> Result<Vec<u8>, ContentError> {
        type TooLong = fn(u64, u64) -> ContentError;
        let (type_code, body, max, too_long): (u16, &[u8], usize, TooLong) = match &self.content {
            Content::Text { body } => {
                (TYPE_TEXT, body.as_bytes(), MAX_BODY_LEN, |len, max| ContentError::TextTooLong { len, max })
            }
            Content::DisplayName { name } => (TYPE_DISPLAY_NAME, name.as_bytes(), MAX_DISPLAY_NAME_LEN, |len, max| {
                ContentError::DisplayNameTooLong { len, max }
            }),
            Content::Topic { topic } => {
                (TYPE_TOPIC, topic.as_bytes(), MAX_TOPIC_LEN, |len, max| ContentError::TopicTooLong { len, max })
            }
            Content::Other { type_code, .. } if matches!(*type_code, TYPE_TEXT | TYPE_DISPLAY_NAME | TYPE_TOPIC) => {
                return Err(ContentError::KnownTypeAsOther { type_code: *type_code });
            }
            Content::Other { type_code, body } => {
                (*type_code, body, MAX_BODY_LEN, |len, max| ContentError::OtherTooLong { len, max })
            }
            Content::NotEnvelope { .. } => return Err(ContentError::NotAnEnvelope),
        };
        let len = bounded(body.len(), max, too_long)?;
        let sent_at = match self.claimed_sent_at_ms {
            None => 0,
            Some(0) => return Err(ContentError::ZeroTimestamp),
            Some(t) => t,
        };
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.push(VERSION);
        out.extend_from_slice(&type_code.to_be_bytes());
        out.extend_from_slice(&sent_at.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(body);
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env(content: Content, claimed_sent_at_ms: Option<u64>) -> Envelope {
        Envelope { content, claimed_sent_at_ms }
    }

    fn text(body: &str) -> Content {
        Content::Text { body: body.into() }
    }

    fn not_envelope(bytes: &[u8]) -> Envelope {
        env(Content::NotEnvelope { bytes: bytes.to_vec() }, None)
    }

    /// A header for `type_code` and `sent_at` whose length field says `len`.
    fn header(type_code: u16, sent_at: u64, len: u32) -> Vec<u8> {
        let mut b = vec![VERSION];
        b.extend_from_slice(&type_code.to_be_bytes());
        b.extend_from_slice(&sent_at.to_be_bytes());
        b.extend_from_slice(&len.to_be_bytes());
        b
    }

    fn round_trip(e: &Envelope) -> Vec<u8> {
        let bytes = e.encode().unwrap();
        assert_eq!(&Envelope::decode(&bytes), e);
        bytes
    }

    #[test]
    fn each_type_round_trips_with_the_layout_of_the_spec() {
        let bytes = round_trip(&env(text("hi"), Some(0x0102_0304_0506_0708)));
        assert_eq!(bytes, [&header(1, 0x0102_0304_0506_0708, 2)[..], b"hi"].concat());
        assert_eq!(bytes.len(), HEADER_LEN + 2);
        round_trip(&env(Content::DisplayName { name: "Ålice 🦀".into() }, Some(1)));
        round_trip(&env(Content::Topic { topic: "plans".into() }, Some(u64::MAX)));
        round_trip(&env(Content::Other { type_code: 0, body: vec![] }, None));
        round_trip(&env(Content::Other { type_code: 0x8001, body: vec![0xff, 0] }, Some(7)));
        // Empty strings: an empty message, a withdrawn name, no topic.
        for c in [text(""), Content::DisplayName { name: String::new() }, Content::Topic { topic: String::new() }] {
            assert_eq!(round_trip(&env(c, None)).len(), HEADER_LEN);
        }
    }

    #[test]
    fn no_claim_is_written_as_zero() {
        let bytes = round_trip(&env(text("x"), None));
        assert_eq!(bytes[3..11], [0; 8]);
        assert_eq!(env(text("x"), Some(0)).encode(), Err(ContentError::ZeroTimestamp));
    }

    #[test]
    fn strings_are_not_altered() {
        let hostile = "\u{202e}evil\u{0}\u{1b}[2J\r\nline\u{feff}\u{200b} e\u{301}";
        for c in [
            text(hostile),
            Content::DisplayName { name: "\u{202e}\n\u{7}".into() },
            Content::Topic { topic: hostile.into() },
        ] {
            round_trip(&env(c, Some(5)));
        }
        let bytes = env(text(hostile), None).encode().unwrap();
        assert_eq!(&bytes[HEADER_LEN..], hostile.as_bytes());
    }

    #[test]
    fn every_bound_is_accepted_at_its_value_and_refused_above() {
        type Make = fn(usize) -> Content;
        type TooLong = fn(u64, u64) -> ContentError;
        let cases: [(Make, usize, TooLong); 4] = [
            (|n| text(&"a".repeat(n)), MAX_BODY_LEN, |len, max| ContentError::TextTooLong { len, max }),
            (
                |n| Content::DisplayName { name: "a".repeat(n) },
                MAX_DISPLAY_NAME_LEN,
                |len, max| ContentError::DisplayNameTooLong { len, max },
            ),
            (
                |n| Content::Topic { topic: "a".repeat(n) },
                MAX_TOPIC_LEN,
                |len, max| ContentError::TopicTooLong { len, max },
            ),
            (
                |n| Content::Other { type_code: 9, body: vec![0; n] },
                MAX_BODY_LEN,
                |len, max| ContentError::OtherTooLong { len, max },
            ),
        ];
        for (make, max, too_long) in cases {
            let bytes = round_trip(&env(make(max), Some(1)));
            assert!(bytes.len() <= MAX_ENCODED_LEN);
            let err = env(make(max + 1), Some(1)).encode().unwrap_err();
            assert_eq!(err, too_long(u64::try_from(max + 1).unwrap(), u64::try_from(max).unwrap()));
            assert!(!err.to_string().is_empty());
        }
        assert_eq!(round_trip(&env(text(&"a".repeat(MAX_BODY_LEN)), None)).len(), MAX_ENCODED_LEN);
        // Bounds are bytes, not characters: 64 two-byte characters fill a name.
        round_trip(&env(Content::DisplayName { name: "é".repeat(64) }, None));
        let long = env(Content::DisplayName { name: "é".repeat(65) }, None).encode();
        assert_eq!(long, Err(ContentError::DisplayNameTooLong { len: 130, max: 128 }));
    }

    #[test]
    fn what_has_no_encoding_is_refused() {
        for t in [TYPE_TEXT, TYPE_DISPLAY_NAME, TYPE_TOPIC] {
            let e = env(Content::Other { type_code: t, body: b"x".to_vec() }, None);
            assert_eq!(e.encode(), Err(ContentError::KnownTypeAsOther { type_code: t }));
        }
        assert_eq!(not_envelope(b"raw").encode(), Err(ContentError::NotAnEnvelope));
        assert_eq!(Content::NotEnvelope { bytes: vec![] }.type_code(), None);
        assert_eq!(text("").type_code(), Some(TYPE_TEXT));
    }

    #[test]
    fn what_is_not_an_envelope_is_kept_whole() {
        let good = env(text("hi"), Some(9)).encode().unwrap();
        let mut trailing = good.clone();
        trailing.push(0);
        let mut version_2 = good.clone();
        version_2[0] = 2;
        let mut long_len = good.clone();
        long_len[14] = 3;
        let mut bad_utf8 = header(TYPE_TEXT, 9, 2);
        bad_utf8.extend_from_slice(&[0xc3, 0x28]);
        let mut surrogate = header(TYPE_TOPIC, 9, 3);
        surrogate.extend_from_slice(&[0xed, 0xa0, 0x80]);
        let mut long_name = header(TYPE_DISPLAY_NAME, 9, 129);
        long_name.extend_from_slice(&[b'a'; 129]);
        let mut long_topic = header(TYPE_TOPIC, 9, 513);
        long_topic.extend_from_slice(&[b'a'; 513]);
        let mut huge = header(0x8000, 9, u32::try_from(MAX_BODY_LEN + 1).unwrap());
        huge.extend_from_slice(&vec![0; MAX_BODY_LEN + 1]);
        let huge_len = header(TYPE_TEXT, 9, u32::MAX);
        for raw in [
            &b""[..],
            b"hello",
            &good[..HEADER_LEN - 1],
            &good[..good.len() - 1],
            &trailing,
            &version_2,
            &long_len,
            &bad_utf8,
            &surrogate,
            &long_name,
            &long_topic,
            &huge,
            &huge_len,
        ] {
            assert_eq!(Envelope::decode(raw), not_envelope(raw), "{raw:02x?}");
        }
    }

    fn any_envelope() -> impl Strategy<Value = Envelope> {
        let content = prop_oneof![
            ".{0,40}".prop_map(|body| Content::Text { body }),
            "\\PC{0,30}".prop_map(|name| Content::DisplayName { name }),
            ".{0,80}".prop_map(|topic| Content::Topic { topic }),
            (4u16.., proptest::collection::vec(any::<u8>(), 0..64))
                .prop_map(|(type_code, body)| Content::Other { type_code, body }),
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(|body| Content::Other { type_code: 0, body }),
        ];
        (content, proptest::option::of(1u64..))
            .prop_map(|(content, claimed_sent_at_ms)| Envelope { content, claimed_sent_at_ms })
    }

    /// Bytes near an envelope: a valid header for any type, then anything.
    fn near_envelope() -> impl Strategy<Value = Vec<u8>> {
        (0u16..6, any::<u64>(), proptest::collection::vec(any::<u8>(), 0..40), 0usize..3).prop_map(
            |(type_code, sent_at, body, fix)| {
                let len = u32::try_from(body.len()).unwrap();
                let len = if fix == 0 { len.wrapping_add(1) } else { len };
                [header(type_code, sent_at, len), body].concat()
            },
        )
    }

    proptest! {
        /// Decoding never panics, and is canonical: what decodes to an envelope re-encodes to the
        /// same bytes; anything else comes back whole.
        #[test]
        fn decode_is_total_and_canonical(
            bytes in prop_oneof![proptest::collection::vec(any::<u8>(), 0..300), near_envelope()]
        ) {
            let e = Envelope::decode(&bytes);
            match &e.content {
                Content::NotEnvelope { bytes: raw } => {
                    prop_assert_eq!(raw, &bytes);
                    prop_assert_eq!(e.claimed_sent_at_ms, None);
                }
                _ => prop_assert_eq!(e.encode().unwrap(), bytes),
            }
        }

        /// Every valid envelope decodes from its encoding to itself.
        #[test]
        fn encode_then_decode_is_identity(e in any_envelope()) {
            let bytes = e.encode().unwrap();
            prop_assert!(bytes.len() <= MAX_ENCODED_LEN);
            prop_assert_eq!(Envelope::decode(&bytes), e);
        }
    }
}
