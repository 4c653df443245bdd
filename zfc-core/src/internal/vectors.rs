//! The steps of `spec/vectors/` that no API reaches, for other languages' vector tests (the
//! Python package's `zfc._testing`): opening a sealed message with a given epoch message key,
//! and a version-1 sealed state envelope with its password. No stability promise.

use zeroize::Zeroizing;

use crate::Error;
use crate::crypto::{Secret32, TAG_LEN};
use crate::frame::{Message, Signed};

/// A room message opened as `messages.json` checks it.
#[derive(Debug)]
pub struct OpenedMessage {
    /// The header: room, epoch, sender, sequence number, nonce.
    pub room_id: [u8; 16],
    /// The epoch.
    pub epoch: u32,
    /// The sender's member number.
    pub sender: u32,
    /// The sender's sequence number.
    pub seq: u32,
    /// The nonce.
    pub nonce: [u8; 24],
    /// The authenticated data (version, kind and the header before the nonce).
    pub aad: Vec<u8>,
    /// The length of the padded plaintext.
    pub padded_len: usize,
    /// The content, without its length prefix and padding.
    pub content: Zeroizing<Vec<u8>>,
}

/// Decodes `frame` as a Message, verifies its signature with `sender_sign_pk` and opens it
/// with `message_key`.
///
/// # Errors
/// `MALFORMED` and friends for bytes that are no Message, `BAD_SIGNATURE`, `FORGED` for a
/// ciphertext the key does not open, a padding that is not zeros.
pub fn open_message(frame: &[u8], message_key: [u8; 32], sender_sign_pk: &[u8; 32]) -> Result<OpenedMessage, Error> {
    let signed = Signed::<Message>::decode(frame)?;
    if !signed.verify(sender_sign_pk) {
        return Err(Error::BadSignature);
    }
    let key = Secret32::from_bytes(message_key);
    let content = crate::message::open(&signed.body, &key)?;
    let m = signed.body;
    Ok(OpenedMessage {
        aad: m.aad(),
        padded_len: m.ct.len().saturating_sub(TAG_LEN),
        room_id: m.room_id,
        epoch: m.epoch,
        sender: m.sender,
        seq: m.seq,
        nonce: m.nonce,
        content,
    })
}

/// Opens a version-1 sealed state envelope (`ZFCS`) with `password`; returns its plaintext.
///
/// # Errors
/// `WRONG_PASSWORD`, `STATE_MALFORMED`, Argon2 parameters out of bounds.
pub fn open_sealed_state(blob: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    Ok(crate::pickle::open(blob, password)?)
}
