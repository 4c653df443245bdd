//! Test hooks of the UniFFI bindings: what Kotlin's tests need and apps never use (Python's
//! `zfc._testing` is the same set). An in-process relay ([`TestRelay`]: zfc-client's
//! `sim::Relay`, the real rule book behind real links), so that a test drives clients through
//! their public loop without a network; and the openers of the spec's sealed vectors
//! (`messages.json`, `state.json`), which no client call reaches.
//!
//! Linked into `libzfc_ffi` only with its feature `uniffi-testing`; its Kotlin package is
//! `zfc.testing` and is compiled into the test sources only. An app's library is built with
//! the feature `uniffi` alone and carries none of this.

use std::sync::{Mutex, PoisonError};

use zfc_client::content::{Content, Envelope};
use zfc_client::sim;
use zfc_client::uniffi_api::ZfcError;
use zfc_core::relay::RelayConfig;

uniffi::setup_scaffolding!("zfc_testing");

type Out<T> = Result<T, ZfcError>;

/// One link record the relay writes, on its socket.
#[derive(uniffi::Record)]
pub struct SocketRecord {
    /// The socket it goes out on.
    pub sock: u64,
    /// The record.
    pub bytes: Vec<u8>,
}

/// What the relay did with bytes written on a socket.
#[derive(uniffi::Record)]
pub struct Received {
    /// Records it writes, in order, each on its socket.
    pub records: Vec<SocketRecord>,
    /// It closed the socket written on.
    pub closed: bool,
}

/// A relay in this process. `open()` a socket per `Transmit.Connect`, pass every
/// `Transmit.Send` to `receive`, and hand each returned record to the client owning its socket.
#[derive(uniffi::Object)]
pub struct TestRelay {
    inner: Mutex<sim::Relay>,
}

impl TestRelay {
    fn with<T>(&self, f: impl FnOnce(&mut sim::Relay) -> T) -> T {
        // A test hook: a panic inside the relay (a bug) leaves it usable for the next assert.
        let mut r = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut r)
    }
}

#[uniffi::export]
impl TestRelay {
    /// A relay with default rules; `seed` makes its key.
    #[uniffi::constructor]
    pub fn new(seed: u64) -> Self {
        Self { inner: Mutex::new(sim::Relay::new(RelayConfig::default(), seed)) }
    }

    /// Its link key (what clients pin).
    pub fn public_key(&self) -> Vec<u8> {
        self.with(|r| r.public_key().to_vec())
    }

    /// A socket reached it; the socket's id.
    pub fn open(&self) -> u64 {
        self.with(sim::Relay::open)
    }

    /// Socket `sock` is gone.
    pub fn close(&self, sock: u64) {
        self.with(|r| r.close(sock));
    }

    /// Bytes written on `sock` at `now_ms`.
    pub fn receive(&self, sock: u64, bytes: Vec<u8>, now_ms: u64) -> Out<Received> {
        let got = self.with(|r| r.receive(sock, &bytes, now_ms))?;
        let records = got.records.into_iter().map(|(sock, bytes)| SocketRecord { sock, bytes }).collect();
        Ok(Received { records, closed: got.closed })
    }
}

/// The fields of a sealed message as `messages.json` checks them.
#[derive(uniffi::Record)]
pub struct OpenedMessage {
    /// The room id (16 bytes).
    pub room: Vec<u8>,
    /// The epoch.
    pub epoch: u32,
    /// The sender's member number.
    pub sender: u32,
    /// The sender's sequence number.
    pub seq: u32,
    /// The nonce (24 bytes).
    pub nonce: Vec<u8>,
    /// The authenticated data.
    pub aad: Vec<u8>,
    /// The padded plaintext's length.
    pub padded_len: u64,
    /// The content, without its length prefix and padding.
    pub content: Vec<u8>,
}

fn array<const N: usize>(bytes: &[u8]) -> Out<[u8; N]> {
    bytes.try_into().map_err(|_| {
        ZfcError::from(zfc_client::Error::Core(zfc_core::Error::InvalidArgument("a key must be 32 bytes")))
    })
}

/// Opens a sealed room message `frame` with an epoch `message_key` after verifying it with
/// `sender_sign_pk`.
#[uniffi::export]
pub fn open_message(frame: Vec<u8>, message_key: Vec<u8>, sender_sign_pk: Vec<u8>) -> Out<OpenedMessage> {
    let (key, signer) = (array::<32>(&message_key)?, array::<32>(&sender_sign_pk)?);
    let m = zfc_core::internal::vectors::open_message(&frame, key, &signer).map_err(zfc_client::Error::Core)?;
    Ok(OpenedMessage {
        room: m.room_id.to_vec(),
        epoch: m.epoch,
        sender: m.sender,
        seq: m.seq,
        nonce: m.nonce.to_vec(),
        aad: m.aad,
        padded_len: m.padded_len as u64,
        content: m.content.to_vec(),
    })
}

/// Opens a version-1 sealed state envelope with `password`; its plaintext.
#[uniffi::export]
pub fn open_sealed_state(blob: Vec<u8>, password: Vec<u8>) -> Out<Vec<u8>> {
    let pt = zfc_core::internal::vectors::open_sealed_state(&blob, &password).map_err(zfc_client::Error::Core)?;
    Ok(pt.to_vec())
}

/// A message's content as events carry it, with the sender's claimed time.
#[derive(uniffi::Record)]
pub struct DecodedContent {
    /// The content.
    pub content: Content,
    /// The claimed send time (Unix ms), if any.
    pub claimed_sent_at_ms: Option<u64>,
}

/// Decodes a message's content bytes as events do.
#[uniffi::export]
pub fn decode_content(bytes: Vec<u8>) -> DecodedContent {
    let e = Envelope::decode(&bytes);
    DecodedContent { content: e.content, claimed_sent_at_ms: e.claimed_sent_at_ms }
}

/// Encodes `content` with a claimed time as `Client.send` does.
#[uniffi::export]
pub fn encode_content(content: Content, claimed_sent_at_ms: Option<u64>) -> Out<Vec<u8>> {
    Ok(Envelope { content, claimed_sent_at_ms }.encode().map_err(zfc_client::Error::from)?)
}
