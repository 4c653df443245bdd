//! The encrypted client-relay link: `Noise_NK_25519_ChaChaPoly_SHA256` (through `snow`), pinned
//! to the relay's static X25519 key from the invite, sans-IO: bytes in, bytes out.
//!
//! ```text
//!   client                                              relay (RelayKey)
//!   ClientHandshake::start(relay_pk) ── handshake 1 ──►  respond(key, first) ─► Transport
//!   ClientHandshake::finish(answer)  ◄── handshake 2 ──   (answer)
//!   Transport::seal / open           ◄──── records ───►   Transport::seal / open
//! ```
//!
//! Invariants: records are confidential and authenticated to whoever holds the pinned relay key,
//! and nobody else can complete the handshake; the session keys come from ephemeral keys on both
//! sides, so a relay key stolen later does not open a recorded session (forward secrecy); the
//! client is anonymous at this layer and proves its keys later by signing over
//! [`Transport::channel_binding`] (the Noise handshake hash, equal on both ends of one link and
//! different on every other); records open only in the order they were sealed, each once; a
//! message that fails to open changes no state; every link message starts with
//! [`PROTOCOL_VERSION`] and unknown versions are refused, never guessed; randomness comes only
//! from the caller's RNG, so the same seed gives the same bytes on the wire.

use core::cell::Cell;
use core::fmt;

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, SeedableRng};
use zeroize::Zeroizing;

use crate::crypto::{self, KxKey, Secret32};
use crate::keys::{ChannelBinding, RelayPublicKey};
use crate::wire::{MAX_FRAME_LEN, PROTOCOL_VERSION};

/// The Noise protocol name of the link.
pub const NOISE_PARAMS: &str = "Noise_NK_25519_ChaChaPoly_SHA256";

/// Kind bytes of the three link messages (the byte after the version).
pub mod kind {
    /// Handshake message 1, client to relay: [`super::ClientHandshake::start`].
    pub const HANDSHAKE1: u8 = 0x60;
    /// Handshake message 2, relay to client: [`super::respond`].
    pub const HANDSHAKE2: u8 = 0x61;
    /// An encrypted record, either direction: [`super::Transport::seal`].
    pub const RECORD: u8 = 0x62;
}

/// Length of each handshake message: version, kind, ephemeral key (32), empty payload's tag (16).
pub const HANDSHAKE_LEN: usize = HEADER_LEN + DH_LEN + TAG_LEN;

/// Largest plaintext one record carries: a frame of [`MAX_FRAME_LEN`] plus 1 KiB for the
/// request or message that wraps it.
pub const MAX_PLAINTEXT_LEN: usize = MAX_FRAME_LEN + 1024;

/// Largest record: the header, and each chunk's length prefix, flag byte and tag, around
/// [`MAX_PLAINTEXT_LEN`] bytes.
pub const MAX_RECORD_LEN: usize = RECORD_HEADER_LEN + MAX_CHUNKS * CHUNK_OVERHEAD + MAX_PLAINTEXT_LEN;

/// Version and kind bytes.
const HEADER_LEN: usize = 2;
/// Version, kind and the u64 sequence number of a record.
const RECORD_HEADER_LEN: usize = HEADER_LEN + 8;
const DH_LEN: usize = 32;
const TAG_LEN: usize = 16;
/// Noise's bound on one transport message (ciphertext with its tag).
const NOISE_MAX_MSG: usize = 65535;
/// Content bytes in one chunk: a Noise message less its tag and the flag byte.
const CHUNK_CONTENT: usize = NOISE_MAX_MSG - TAG_LEN - 1;
/// u16 length prefix, flag byte, tag.
const CHUNK_OVERHEAD: usize = 2 + 1 + TAG_LEN;
/// Smallest chunk ciphertext: the flag byte and the tag.
const MIN_CHUNK_CT: usize = 1 + TAG_LEN;
const MAX_CHUNKS: usize = MAX_PLAINTEXT_LEN.div_ceil(CHUNK_CONTENT);
/// Flag byte opening each chunk's plaintext: more chunks of this record follow.
const FLAG_MORE: u8 = 0;
/// Flag byte opening each chunk's plaintext: this chunk ends the record.
const FLAG_LAST: u8 = 1;
/// Noise prologue: binds the protocol and its version into the handshake hash.
const PROLOGUE: [u8; 9] = [b'z', b'f', b'c', b' ', b'l', b'i', b'n', b'k', PROTOCOL_VERSION];

/// Why a link operation failed. Every error leaves the state as it was (a handshake that fails
/// is consumed; start a new one).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkError {
    /// The version byte is not one this implementation speaks.
    UnsupportedVersion(u8),
    /// The kind byte names another link message than the one expected here.
    UnexpectedKind {
        /// Kind expected.
        expected: u8,
        /// Kind found.
        got: u8,
    },
    /// The bytes are not a well-formed link message (wrong length, bad chunk framing).
    Malformed(&'static str),
    /// A message or plaintext is longer than the link allows.
    TooLong {
        /// Length given.
        len: usize,
        /// Largest accepted length.
        max: usize,
    },
    /// The handshake failed: the peer does not hold the pinned relay key, or the message was
    /// altered or made for another link. Drop the connection.
    Handshake,
    /// A record failed authentication: altered, or sealed on another link. Drop the connection.
    Decrypt,
    /// A record's sequence number was already opened: a replay. Drop the connection.
    Replayed {
        /// Sequence number in the record.
        seq: u64,
        /// Sequence number expected next.
        expected: u64,
    },
    /// A record's sequence number is ahead of the next one expected: a record was dropped or
    /// reordered. Drop the connection.
    OutOfOrder {
        /// Sequence number in the record.
        seq: u64,
        /// Sequence number expected next.
        expected: u64,
    },
    /// The relay public key is a low-order point, which would let anyone impersonate the relay.
    /// The invite is bad.
    InvalidKey,
    /// This direction of the link has used up its nonces; open a new link.
    Exhausted,
    /// The Noise implementation refused its setup (a bug, not a peer's doing).
    Internal(&'static str),
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedVersion(v) => write!(f, "unsupported link version {v}"),
            Self::UnexpectedKind { expected, got } => {
                write!(f, "expected link message kind {expected:#04x}, got {got:#04x}")
            }
            Self::Malformed(what) => write!(f, "malformed link message: {what}"),
            Self::TooLong { len, max } => write!(f, "link message of {len} bytes exceeds {max}"),
            Self::Handshake => f.write_str("link handshake failed"),
            Self::Decrypt => f.write_str("link record failed authentication"),
            Self::Replayed { seq, expected } => {
                write!(f, "replayed link record {seq} (expected {expected})")
            }
            Self::OutOfOrder { seq, expected } => {
                write!(f, "out-of-order link record {seq} (expected {expected})")
            }
            Self::InvalidKey => f.write_str("relay key is a low-order point"),
            Self::Exhausted => f.write_str("link nonces exhausted"),
            Self::Internal(what) => write!(f, "link setup failed: {what}"),
        }
    }
}

impl std::error::Error for LinkError {}

/// The relay's static link key (X25519), zeroized on drop; `Debug` shows only the public half.
#[derive(Clone)]
pub struct RelayKey(KxKey);

impl RelayKey {
    /// A fresh key from `rng`.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        Self(KxKey::generate(rng))
    }
    /// The key from its 32 secret bytes (as returned by [`Self::to_bytes`]).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(KxKey::from_secret(Secret32::from_bytes(bytes)))
    }
    /// The 32 **secret** bytes, for the relay's own key storage only; zeroize the copy after use.
    pub fn to_bytes(&self) -> [u8; 32] {
        *self.0.secret().expose()
    }
    /// The public key clients pin (the invite's `relay_key`).
    pub fn public(&self) -> RelayPublicKey {
        RelayPublicKey::from_bytes(self.0.public())
    }
}

impl fmt::Debug for RelayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelayKey {{ public: {}, secret: [redacted] }}", crypto::hex_short(self.public().as_bytes()))
    }
}

/// The client's half-done handshake: [`Self::start`] sends handshake 1, [`Self::finish`] reads
/// the relay's handshake 2.
pub struct ClientHandshake {
    noise: snow::HandshakeState,
}

impl fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientHandshake { .. }")
    }
}

impl ClientHandshake {
    /// Starts a link to the relay whose static public key is `relay_pk`. Returns the handshake
    /// state and handshake 1, to send to the relay.
    ///
    /// # Errors
    /// [`LinkError::InvalidKey`] for a relay key of low order; [`LinkError::Internal`] if the
    /// Noise library fails.
    pub fn start(relay_pk: &RelayPublicKey, rng: &mut impl CryptoRng) -> Result<(Self, Vec<u8>), LinkError> {
        let relay_pk = relay_pk.as_bytes();
        if is_low_order(relay_pk) {
            return Err(LinkError::InvalidKey);
        }
        let mut noise = builder(rng)?
            .remote_public_key(relay_pk)
            .map_err(|_| LinkError::Internal("remote key"))?
            .build_initiator()
            .map_err(|_| LinkError::Internal("build initiator"))?;
        let mut body = [0u8; DH_LEN + TAG_LEN];
        let n = noise.write_message(&[], &mut body).map_err(|_| LinkError::Internal("write handshake 1"))?;
        if n != body.len() {
            return Err(LinkError::Internal("handshake 1 length"));
        }
        Ok((Self { noise }, handshake_message(kind::HANDSHAKE1, &body)))
    }

    /// Reads the relay's handshake 2 and returns the established link. Fails with
    /// [`LinkError::Handshake`] unless the answer comes from the holder of the pinned key.
    ///
    /// # Errors
    /// [`LinkError::Handshake`] when the answer does not come from the holder of the pinned key
    /// (or was altered); a format error ([`LinkError::Malformed`], [`LinkError::UnexpectedKind`],
    /// [`LinkError::UnsupportedVersion`]) for bytes that are no handshake answer. Drop the connection.
    pub fn finish(self, response: &[u8]) -> Result<Transport, LinkError> {
        let body = handshake_body(response, kind::HANDSHAKE2)?;
        let ephemeral = ephemeral_of(body)?;
        if is_low_order(&ephemeral) {
            return Err(LinkError::Handshake);
        }
        let mut noise = self.noise;
        let n = noise.read_message(body, &mut []).map_err(|_| LinkError::Handshake)?;
        if n != 0 || !noise.is_handshake_finished() {
            return Err(LinkError::Handshake);
        }
        Transport::new(noise)
    }
}

/// The relay's side of the handshake, in one call: reads handshake 1 with the relay's `key` and
/// returns the established link and handshake 2, to send back. The client is not authenticated
/// here; it proves its keys later over [`Transport::channel_binding`].
///
/// # Errors
/// A format error for bytes that are no first handshake message; [`LinkError::Handshake`]
/// when it does not open under the relay's key.
pub fn respond(key: &RelayKey, first: &[u8], rng: &mut impl CryptoRng) -> Result<(Transport, Vec<u8>), LinkError> {
    let body = handshake_body(first, kind::HANDSHAKE1)?;
    let ephemeral = ephemeral_of(body)?;
    if is_low_order(&ephemeral) {
        return Err(LinkError::Handshake);
    }
    let secret = Zeroizing::new(key.to_bytes());
    let mut noise = builder(rng)?
        .local_private_key(secret.as_slice())
        .map_err(|_| LinkError::Internal("local key"))?
        .build_responder()
        .map_err(|_| LinkError::Internal("build responder"))?;
    let n = noise.read_message(body, &mut []).map_err(|_| LinkError::Handshake)?;
    if n != 0 {
        return Err(LinkError::Handshake);
    }
    let mut answer = [0u8; DH_LEN + TAG_LEN];
    let n = noise.write_message(&[], &mut answer).map_err(|_| LinkError::Internal("write handshake 2"))?;
    if n != answer.len() || !noise.is_handshake_finished() {
        return Err(LinkError::Internal("handshake 2 length"));
    }
    Ok((Transport::new(noise)?, handshake_message(kind::HANDSHAKE2, &answer)))
}

/// An established link, on either side: seals records to the peer and opens the peer's records.
pub struct Transport {
    noise: snow::StatelessTransportState,
    binding: [u8; 32],
    /// Noise nonce of the next chunk sealed; advanced only by a successful seal.
    send_nonce: u64,
    /// Noise nonce of the next chunk expected; advanced only by a successful open.
    recv_nonce: u64,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("channel_binding", &crypto::hex_short(&self.binding))
            .field("send_nonce", &self.send_nonce)
            .field("recv_nonce", &self.recv_nonce)
            .finish_non_exhaustive()
    }
}

impl Transport {
    fn new(noise: snow::HandshakeState) -> Result<Self, LinkError> {
        let binding: [u8; 32] =
            noise.get_handshake_hash().try_into().map_err(|_| LinkError::Internal("handshake hash length"))?;
        let noise = noise.into_stateless_transport_mode().map_err(|_| LinkError::Internal("transport mode"))?;
        Ok(Self { noise, binding, send_nonce: 0, recv_nonce: 0 })
    }

    /// The channel binding: the Noise handshake hash, the same on both ends of this link and
    /// different on every other link. Clients sign over it to prove their keys to the relay.
    pub fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::from_bytes(self.binding)
    }

    /// Seals `plaintext` (at most [`MAX_PLAINTEXT_LEN`] bytes) into one record for the peer.
    ///
    /// # Errors
    /// [`LinkError::TooLong`] past the largest plaintext a record carries.
    pub fn seal(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, LinkError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(LinkError::TooLong { len: plaintext.len(), max: MAX_PLAINTEXT_LEN });
        }
        // An empty plaintext still makes one (empty, final) chunk.
        let pieces: Vec<&[u8]> =
            if plaintext.is_empty() { vec![plaintext] } else { plaintext.chunks(CHUNK_CONTENT).collect() };
        let chunk_count = pieces.len();
        let first = self.send_nonce;
        // Nonce u64::MAX is reserved by Noise, so the last usable nonce is u64::MAX - 1.
        let next = u64::try_from(chunk_count)
            .ok()
            .and_then(|c| first.checked_add(c))
            .filter(|n| *n < u64::MAX)
            .ok_or(LinkError::Exhausted)?;

        let mut record = Vec::with_capacity(RECORD_HEADER_LEN + chunk_count * CHUNK_OVERHEAD + plaintext.len());
        record.push(PROTOCOL_VERSION);
        record.push(kind::RECORD);
        record.extend_from_slice(&first.to_be_bytes());
        // Both buffers sized to the largest chunk (the first), not to Noise's 64 KiB maximum:
        // records are mostly small, and allocating and zeroizing 64 KiB per record was most of a
        // relay's cost per delivered message.
        let largest = pieces.first().map_or(0, |p| p.len());
        let mut buf = Zeroizing::new(Vec::with_capacity(largest + 1));
        let mut ct = vec![0u8; (largest + 1 + TAG_LEN).min(NOISE_MAX_MSG)];
        let mut nonce = first;
        for (i, content) in pieces.into_iter().enumerate() {
            buf.clear();
            buf.push(if i + 1 == chunk_count { FLAG_LAST } else { FLAG_MORE });
            buf.extend_from_slice(content);
            let n = self.noise.write_message(nonce, &buf, &mut ct).map_err(|_| LinkError::Internal("seal chunk"))?;
            let sealed = ct.get(..n).ok_or(LinkError::Internal("seal chunk length"))?;
            let len = u16::try_from(n).map_err(|_| LinkError::Internal("seal chunk length"))?;
            record.extend_from_slice(&len.to_be_bytes());
            record.extend_from_slice(sealed);
            nonce = nonce.checked_add(1).ok_or(LinkError::Exhausted)?;
        }
        self.send_nonce = next;
        Ok(record)
    }

    /// Opens one record from the peer. On any error nothing changes: the next genuine record
    /// still opens.
    ///
    /// # Errors
    /// [`LinkError::TooLong`], a format error, [`LinkError::Decrypt`] for a record altered or sealed
    /// on another link, [`LinkError::Replayed`] for one already opened. Nothing changed; drop the
    /// connection.
    pub fn open(&mut self, record: &[u8]) -> Result<Vec<u8>, LinkError> {
        if record.len() > MAX_RECORD_LEN {
            return Err(LinkError::TooLong { len: record.len(), max: MAX_RECORD_LEN });
        }
        let rest = check_header(record, kind::RECORD)?;
        let (seq, mut rest) = rest.split_first_chunk::<8>().ok_or(LinkError::Malformed("truncated record header"))?;
        let seq = u64::from_be_bytes(*seq);
        let expected = self.recv_nonce;
        if seq < expected {
            return Err(LinkError::Replayed { seq, expected });
        }
        if seq > expected {
            return Err(LinkError::OutOfOrder { seq, expected });
        }

        // Plaintext is shorter than the record, so this never reallocates (no stray copies).
        let mut out = Zeroizing::new(Vec::with_capacity(record.len()));
        // Every chunk's plaintext is shorter than the record: no need for Noise's 64 KiB maximum
        // (zeroed here and zeroized again on drop, for every record).
        let mut buf = Zeroizing::new(vec![0u8; record.len().min(NOISE_MAX_MSG)]);
        let mut nonce = expected;
        let mut chunks = 0usize;
        loop {
            if chunks == MAX_CHUNKS {
                return Err(LinkError::Malformed("too many chunks"));
            }
            let (len, after) = rest.split_first_chunk::<2>().ok_or(LinkError::Malformed("truncated chunk length"))?;
            let len = usize::from(u16::from_be_bytes(*len));
            if len < MIN_CHUNK_CT {
                return Err(LinkError::Malformed("chunk shorter than its tag"));
            }
            let (ct, after) = after.split_at_checked(len).ok_or(LinkError::Malformed("truncated chunk"))?;
            if nonce == u64::MAX {
                return Err(LinkError::Exhausted);
            }
            let n = self.noise.read_message(nonce, ct, &mut buf).map_err(|_| LinkError::Decrypt)?;
            let (flag, content) = buf.get(..n).and_then(<[u8]>::split_first).ok_or(LinkError::Decrypt)?;
            chunks += 1;
            nonce = nonce.checked_add(1).ok_or(LinkError::Exhausted)?;
            rest = after;
            match *flag {
                FLAG_LAST => {
                    out.extend_from_slice(content);
                    break;
                }
                FLAG_MORE if content.len() == CHUNK_CONTENT => out.extend_from_slice(content),
                FLAG_MORE => return Err(LinkError::Malformed("short chunk before the last")),
                _ => return Err(LinkError::Malformed("unknown chunk flag")),
            }
        }
        if !rest.is_empty() {
            return Err(LinkError::Malformed("bytes after the last chunk"));
        }
        if out.len() > MAX_PLAINTEXT_LEN {
            return Err(LinkError::TooLong { len: out.len(), max: MAX_PLAINTEXT_LEN });
        }
        if nonce == u64::MAX {
            return Err(LinkError::Exhausted);
        }
        self.recv_nonce = nonce;
        Ok(core::mem::take(&mut *out))
    }
}

/// A `snow` builder for the link, whose only randomness is a generator seeded from `rng`.
fn builder(rng: &mut impl CryptoRng) -> Result<snow::Builder<'static>, LinkError> {
    let params: snow::params::NoiseParams = NOISE_PARAMS.parse().map_err(|_| LinkError::Internal("noise params"))?;
    let mut seed = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(seed.as_mut_slice());
    let resolver = SeededResolver { seed: Cell::new(Some(seed)) };
    snow::Builder::with_resolver(params, Box::new(resolver))
        .prologue(&PROLOGUE)
        .map_err(|_| LinkError::Internal("prologue"))
}

/// Resolves DH, cipher and hash to `snow`'s default (pure Rust) implementations, and the RNG to
/// a ChaCha20 generator seeded from the caller's RNG. The seed is handed out once: a second
/// request for an RNG gets none, so no stream is ever reused.
struct SeededResolver {
    seed: Cell<Option<Zeroizing<[u8; 32]>>>,
}

impl snow::resolvers::CryptoResolver for SeededResolver {
    fn resolve_rng(&self) -> Option<Box<dyn snow::types::Random>> {
        let seed = self.seed.take()?;
        Some(Box::new(SeededRandom(ChaCha20Rng::from_seed(*seed))))
    }
    fn resolve_dh(&self, choice: &snow::params::DHChoice) -> Option<Box<dyn snow::types::Dh>> {
        snow::resolvers::DefaultResolver.resolve_dh(choice)
    }
    fn resolve_hash(&self, choice: &snow::params::HashChoice) -> Option<Box<dyn snow::types::Hash>> {
        snow::resolvers::DefaultResolver.resolve_hash(choice)
    }
    fn resolve_cipher(&self, choice: &snow::params::CipherChoice) -> Option<Box<dyn snow::types::Cipher>> {
        snow::resolvers::DefaultResolver.resolve_cipher(choice)
    }
}

struct SeededRandom(ChaCha20Rng);

impl snow::types::Random for SeededRandom {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), snow::Error> {
        rand_core::Rng::fill_bytes(&mut self.0, dest);
        Ok(())
    }
}

fn handshake_message(kind: u8, body: &[u8; DH_LEN + TAG_LEN]) -> Vec<u8> {
    let mut m = Vec::with_capacity(HANDSHAKE_LEN);
    m.push(PROTOCOL_VERSION);
    m.push(kind);
    m.extend_from_slice(body);
    m
}

/// Checks the version and kind bytes; returns what follows them.
fn check_header(bytes: &[u8], expected: u8) -> Result<&[u8], LinkError> {
    let ([version, got], rest) = bytes.split_first_chunk::<2>().ok_or(LinkError::Malformed("truncated header"))?;
    if *version != PROTOCOL_VERSION {
        return Err(LinkError::UnsupportedVersion(*version));
    }
    if *got != expected {
        return Err(LinkError::UnexpectedKind { expected, got: *got });
    }
    Ok(rest)
}

/// The Noise message inside a handshake message of kind `expected`, which has exactly
/// [`HANDSHAKE_LEN`] bytes (the payload is always empty).
fn handshake_body(bytes: &[u8], expected: u8) -> Result<&[u8], LinkError> {
    if bytes.len() > HANDSHAKE_LEN {
        return Err(LinkError::TooLong { len: bytes.len(), max: HANDSHAKE_LEN });
    }
    let body = check_header(bytes, expected)?;
    if bytes.len() != HANDSHAKE_LEN {
        return Err(LinkError::Malformed("handshake message length"));
    }
    Ok(body)
}

fn ephemeral_of(body: &[u8]) -> Result<[u8; 32], LinkError> {
    body.first_chunk::<DH_LEN>().copied().ok_or(LinkError::Malformed("handshake message length"))
}

/// Whether an X25519 public key has small order (on the curve or its twist). Multiplying by any
/// clamped scalar, a multiple of the cofactor that is not one of either large prime order,
/// gives zero exactly for those points.
fn is_low_order(public: &[u8; 32]) -> bool {
    const PROBE: [u8; 32] = [0x5a; 32];
    x25519_dalek::x25519(PROBE, *public) == [0u8; 32]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    struct Run {
        relay_key: RelayKey,
        first: Vec<u8>,
        answer: Vec<u8>,
        client: Transport,
        relay: Transport,
    }

    fn handshake(seed: u64) -> Run {
        let mut r = rng(seed);
        let relay_key = RelayKey::generate(&mut r);
        let (hs, first) = ClientHandshake::start(&relay_key.public(), &mut r).unwrap();
        let (relay, answer) = respond(&relay_key, &first, &mut r).unwrap();
        let client = hs.finish(&answer).unwrap();
        Run { relay_key, first, answer, client, relay }
    }

    #[test]
    fn handshake_and_both_directions() {
        let Run { first, answer, mut client, mut relay, .. } = handshake(1);
        assert_eq!(first.len(), HANDSHAKE_LEN);
        assert_eq!(answer.len(), HANDSHAKE_LEN);
        assert_eq!(&first[..2], &[PROTOCOL_VERSION, kind::HANDSHAKE1]);
        assert_eq!(&answer[..2], &[PROTOCOL_VERSION, kind::HANDSHAKE2]);
        assert_eq!(client.channel_binding(), relay.channel_binding());
        assert_ne!(client.channel_binding().to_bytes(), [0u8; 32]);

        for i in 0..5u8 {
            let up = client.seal(&[i; 100]).unwrap();
            assert_eq!(&up[..2], &[PROTOCOL_VERSION, kind::RECORD]);
            assert_eq!(up.len(), RECORD_HEADER_LEN + CHUNK_OVERHEAD + 100);
            assert_eq!(relay.open(&up).unwrap(), vec![i; 100]);
            let down = relay.seal(&[i ^ 0xff; 7]).unwrap();
            assert_eq!(client.open(&down).unwrap(), vec![i ^ 0xff; 7]);
        }
        // A record does not open in the direction it was sealed (both counters are at 5 here).
        let mine = client.seal(b"to relay").unwrap();
        assert_eq!(client.open(&mine), Err(LinkError::Decrypt));
        assert_eq!(relay.open(&mine).unwrap(), b"to relay");
        let empty = client.seal(&[]).unwrap();
        assert_eq!(empty.len(), RECORD_HEADER_LEN + CHUNK_OVERHEAD);
        assert_eq!(relay.open(&empty).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn links_differ_in_binding_and_keys() {
        let a = handshake(1);
        let mut b = handshake(2);
        assert_ne!(a.client.channel_binding(), b.client.channel_binding());
        let mut a_client = a.client;
        let rec = a_client.seal(b"x").unwrap();
        assert_eq!(b.relay.open(&rec), Err(LinkError::Decrypt));
    }

    #[test]
    fn same_seed_same_bytes() {
        let run = |seed| {
            let mut r = handshake(seed);
            let up = r.client.seal(b"hello relay").unwrap();
            let down = r.relay.seal(b"hello client").unwrap();
            (r.first, r.answer, up, down, r.client.channel_binding())
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn wrong_relay_key_fails_cleanly() {
        let mut r = rng(3);
        let real = RelayKey::generate(&mut r);
        let other = RelayKey::generate(&mut r);
        let (hs, first) = ClientHandshake::start(&other.public(), &mut r).unwrap();
        assert_eq!(respond(&real, &first, &mut r).err(), Some(LinkError::Handshake));
        // An impostor holding another key answers; the client refuses it.
        let (_, answer) = respond(&other, &first, &mut r).unwrap();
        let (hs2, _) = ClientHandshake::start(&real.public(), &mut r).unwrap();
        assert_eq!(hs2.finish(&answer).err(), Some(LinkError::Handshake));
        // The real answer completes the handshake it belongs to.
        assert!(hs.finish(&answer).is_ok());
    }

    #[test]
    fn low_order_keys_refused() {
        let mut r = rng(4);
        for bad in [[0u8; 32], {
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        }] {
            assert_eq!(ClientHandshake::start(&bad.into(), &mut r).err(), Some(LinkError::InvalidKey));
        }
        // A client ephemeral that is a low-order point is refused by the relay.
        let key = RelayKey::generate(&mut r);
        let mut first = vec![PROTOCOL_VERSION, kind::HANDSHAKE1];
        first.extend_from_slice(&[0u8; DH_LEN + TAG_LEN]);
        assert_eq!(respond(&key, &first, &mut r).err(), Some(LinkError::Handshake));
    }

    #[test]
    fn tampered_records_change_nothing() {
        let Run { mut client, mut relay, .. } = handshake(5);
        let rec = client.seal(b"genuine one").unwrap();
        // A flipped bit in every byte position of the record fails and leaves no trace.
        for i in 0..rec.len() {
            for bit in 0..8 {
                let mut bad = rec.clone();
                bad[i] ^= 1 << bit;
                assert!(relay.open(&bad).is_err(), "byte {i} bit {bit}");
            }
        }
        assert_eq!(relay.open(&rec).unwrap(), b"genuine one");
        let rec2 = client.seal(b"genuine two").unwrap();
        assert_eq!(relay.open(&rec2).unwrap(), b"genuine two");
    }

    #[test]
    fn truncated_and_extended_records_change_nothing() {
        let Run { mut client, mut relay, .. } = handshake(6);
        // Every prefix of a one-chunk record.
        let small = client.seal(b"small one").unwrap();
        for cut in 0..small.len() {
            assert!(relay.open(&small[..cut]).is_err(), "cut {cut}");
        }
        assert_eq!(relay.open(&small).unwrap(), b"small one");
        // A two-chunk record: prefixes around the header and the chunk boundary, and a sample.
        let rec = client.seal(&vec![9u8; 3 * CHUNK_CONTENT / 2]).unwrap();
        let boundary = RECORD_HEADER_LEN + 2 + CHUNK_CONTENT + 1 + TAG_LEN;
        let cuts = (0..40).chain(boundary - 20..boundary + 40).chain((0..rec.len()).step_by(4999));
        for cut in cuts.chain(rec.len() - 20..rec.len()) {
            assert!(relay.open(&rec[..cut]).is_err(), "cut {cut}");
        }
        let mut longer = rec.clone();
        longer.push(0);
        assert_eq!(relay.open(&longer), Err(LinkError::Malformed("bytes after the last chunk")));
        // Dropping the last chunk (cut at the chunk boundary) is refused: its flag said more follow.
        assert_eq!(relay.open(&rec[..boundary]), Err(LinkError::Malformed("truncated chunk length")));
        assert_eq!(relay.open(&rec).unwrap(), vec![9u8; 3 * CHUNK_CONTENT / 2]);
    }

    #[test]
    fn failure_in_a_later_chunk_changes_nothing() {
        let Run { mut client, mut relay, .. } = handshake(19);
        let msg = vec![5u8; CHUNK_CONTENT + 10];
        let rec = client.seal(&msg).unwrap();
        // The first chunk authenticates, the second does not: the record fails as a whole.
        let mut bad = rec.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(relay.open(&bad), Err(LinkError::Decrypt));
        assert_eq!(relay.open(&rec).unwrap(), msg);
        let next = client.seal(b"next").unwrap();
        assert_eq!(relay.open(&next).unwrap(), b"next");
    }

    #[test]
    fn nonce_exhaustion_refused() {
        let Run { mut client, mut relay, .. } = handshake(20);
        client.send_nonce = u64::MAX - 2;
        relay.recv_nonce = u64::MAX - 2;
        let rec = client.seal(b"last one").unwrap();
        assert_eq!(relay.open(&rec).unwrap(), b"last one");
        assert_eq!(client.seal(b"one more"), Err(LinkError::Exhausted));
        assert_eq!(client.seal(&vec![0u8; 2 * CHUNK_CONTENT]), Err(LinkError::Exhausted));
        assert_eq!(client.send_nonce, u64::MAX - 1);
    }

    #[test]
    fn replayed_and_reordered_records_refused() {
        let Run { mut client, mut relay, .. } = handshake(7);
        let r1 = client.seal(b"one").unwrap();
        let r2 = client.seal(b"two").unwrap();
        let r3 = client.seal(b"three").unwrap();
        assert_eq!(relay.open(&r2), Err(LinkError::OutOfOrder { seq: 1, expected: 0 }));
        assert_eq!(relay.open(&r1).unwrap(), b"one");
        assert_eq!(relay.open(&r1), Err(LinkError::Replayed { seq: 0, expected: 1 }));
        assert_eq!(relay.open(&r3), Err(LinkError::OutOfOrder { seq: 2, expected: 1 }));
        assert_eq!(relay.open(&r2).unwrap(), b"two");
        assert_eq!(relay.open(&r2), Err(LinkError::Replayed { seq: 1, expected: 2 }));
        assert_eq!(relay.open(&r3).unwrap(), b"three");
        // A stale record relabelled with the expected sequence number does not decrypt.
        let r4 = client.seal(b"four").unwrap();
        let mut relabelled = r1.clone();
        relabelled[2..10].copy_from_slice(&3u64.to_be_bytes());
        assert_eq!(relay.open(&relabelled), Err(LinkError::Decrypt));
        assert_eq!(relay.open(&r4).unwrap(), b"four");
    }

    #[test]
    fn large_message_round_trips() {
        let Run { mut client, mut relay, .. } = handshake(8);
        let big: Vec<u8> = (0..MAX_FRAME_LEN).map(|i| (i % 251) as u8).collect();
        let rec = client.seal(&big).unwrap();
        assert!(rec.len() <= MAX_RECORD_LEN);
        assert_eq!(relay.open(&rec).unwrap(), big);
        let biggest = vec![0xabu8; MAX_PLAINTEXT_LEN];
        let rec = relay.seal(&biggest).unwrap();
        assert_eq!(rec.len(), MAX_RECORD_LEN);
        assert_eq!(client.open(&rec).unwrap(), biggest);
        assert_eq!(
            client.seal(&vec![0u8; MAX_PLAINTEXT_LEN + 1]),
            Err(LinkError::TooLong { len: MAX_PLAINTEXT_LEN + 1, max: MAX_PLAINTEXT_LEN })
        );
        // Records keep flowing after large ones (nonces advanced by the chunk count).
        let after = client.seal(b"after").unwrap();
        assert_eq!(relay.open(&after).unwrap(), b"after");
    }

    #[test]
    fn crafted_records_bounded() {
        let Run { mut relay, .. } = handshake(9);
        let mut huge = vec![PROTOCOL_VERSION, kind::RECORD];
        huge.resize(MAX_RECORD_LEN + 1, 0xff);
        assert!(matches!(relay.open(&huge), Err(LinkError::TooLong { .. })));
        // A chunk length pointing past the end, a chunk too short for its tag, no chunk at all.
        let mut past = vec![PROTOCOL_VERSION, kind::RECORD];
        past.extend_from_slice(&0u64.to_be_bytes());
        let header = past.clone();
        past.extend_from_slice(&u16::MAX.to_be_bytes());
        past.extend_from_slice(&[0u8; 40]);
        assert_eq!(relay.open(&past), Err(LinkError::Malformed("truncated chunk")));
        let mut short = header.clone();
        short.extend_from_slice(&3u16.to_be_bytes());
        short.extend_from_slice(&[0u8; 3]);
        assert_eq!(relay.open(&short), Err(LinkError::Malformed("chunk shorter than its tag")));
        assert_eq!(relay.open(&header), Err(LinkError::Malformed("truncated chunk length")));
        assert_eq!(relay.open(&[]), Err(LinkError::Malformed("truncated header")));
    }

    #[test]
    fn handshake_prefixes_and_bit_flips_error() {
        let mut r = rng(10);
        let key = RelayKey::generate(&mut r);
        let (_, first) = ClientHandshake::start(&key.public(), &mut r).unwrap();
        for cut in 0..first.len() {
            assert!(respond(&key, &first[..cut], &mut r).is_err(), "cut {cut}");
        }
        for i in 0..first.len() {
            for bit in 0..8 {
                let mut bad = first.clone();
                bad[i] ^= 1 << bit;
                assert!(respond(&key, &bad, &mut r).is_err(), "byte {i} bit {bit}");
            }
        }
        let mut longer = first.clone();
        longer.push(0);
        assert!(respond(&key, &longer, &mut r).is_err());

        // The answer: each variation against a fresh copy of the same client handshake.
        let mut answer_of = |seed| {
            let mut cr = rng(seed);
            let (hs, first) = ClientHandshake::start(&key.public(), &mut cr).unwrap();
            let (_, answer) = respond(&key, &first, &mut r).unwrap();
            (hs, answer, seed)
        };
        let (_, answer, seed) = answer_of(11);
        let fresh = || ClientHandshake::start(&key.public(), &mut rng(seed)).unwrap().0;
        for cut in 0..answer.len() {
            assert!(fresh().finish(&answer[..cut]).is_err(), "cut {cut}");
        }
        for i in 0..answer.len() {
            for bit in 0..8 {
                let mut bad = answer.clone();
                bad[i] ^= 1 << bit;
                assert!(fresh().finish(&bad).is_err(), "byte {i} bit {bit}");
            }
        }
        let mut longer = answer.clone();
        longer.push(0);
        assert!(fresh().finish(&longer).is_err());
        assert!(fresh().finish(&answer).is_ok());
        // A handshake message where the other one is expected.
        let (_, first) = ClientHandshake::start(&key.public(), &mut rng(12)).unwrap();
        assert_eq!(
            fresh().finish(&first).err(),
            Some(LinkError::UnexpectedKind { expected: kind::HANDSHAKE2, got: kind::HANDSHAKE1 })
        );
    }

    #[test]
    fn unknown_version_refused() {
        let Run { relay_key, mut first, mut answer, mut client, mut relay } = handshake(13);
        let mut r = rng(14);
        first[0] = 2;
        assert_eq!(respond(&relay_key, &first, &mut r).err(), Some(LinkError::UnsupportedVersion(2)));
        answer[0] = 0;
        let (hs, _) = ClientHandshake::start(&relay_key.public(), &mut r).unwrap();
        assert_eq!(hs.finish(&answer).err(), Some(LinkError::UnsupportedVersion(0)));
        let mut rec = client.seal(b"v").unwrap();
        rec[0] = 2;
        assert_eq!(relay.open(&rec), Err(LinkError::UnsupportedVersion(2)));
        rec[0] = PROTOCOL_VERSION;
        assert_eq!(relay.open(&rec).unwrap(), b"v");
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let Run { relay_key, mut relay, .. } = handshake(15);
        let mut r = rng(16);
        let mut noise = rng(17);
        for len in [0usize, 1, 2, 3, 10, 12, 29, 49, 50, 51, 100, 70_000] {
            for _ in 0..20 {
                let mut bytes = vec![0u8; len];
                rand_core::Rng::fill_bytes(&mut noise, &mut bytes);
                if let Some(b) = bytes.get_mut(0) {
                    *b = PROTOCOL_VERSION;
                }
                for k in [kind::HANDSHAKE1, kind::HANDSHAKE2, kind::RECORD] {
                    if let Some(b) = bytes.get_mut(1) {
                        *b = k;
                    }
                    assert!(respond(&relay_key, &bytes, &mut r).is_err());
                    let (hs, _) = ClientHandshake::start(&relay_key.public(), &mut r).unwrap();
                    assert!(hs.finish(&bytes).is_err());
                    assert!(relay.open(&bytes).is_err());
                }
            }
        }
    }

    #[test]
    fn relay_key_bytes_and_debug() {
        let mut r = rng(18);
        let key = RelayKey::generate(&mut r);
        let again = RelayKey::from_bytes(key.to_bytes());
        assert_eq!(key.public(), again.public());
        let shown = format!("{key:?}");
        assert!(shown.contains("redacted"));
        assert!(!shown.contains(&crypto::to_hex(&key.to_bytes())));
        let (_, first) = ClientHandshake::start(&key.public(), &mut r).unwrap();
        assert!(respond(&again, &first, &mut r).is_ok());
    }
}
