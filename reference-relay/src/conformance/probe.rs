//! A raw connection for byte-level cases: requests in, relay messages out, nothing interpreted
//! beyond the envelope.

use ed25519_dalek::{Signer, SigningKey};
use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, UnwrapErr};
use zfc_core::relay::{ClientRequest, RelayMessage};

use super::Target;
use crate::client::{Link, NetError};

/// Signs by hand, as the spec lays it out: the signature covers `label || 0x00 || msg`.
pub fn sign(key: &SigningKey, label: &str, msg: &[u8]) -> [u8; 64] {
    let mut signed = label.as_bytes().to_vec();
    signed.push(0);
    signed.extend_from_slice(msg);
    key.sign(&signed).to_bytes()
}

/// Signs a frame by hand: the signature over `unsigned` ([`sign`]) follows it.
pub fn sign_frame(key: &SigningKey, label: &str, unsigned: &[u8]) -> Vec<u8> {
    [unsigned, sign(key, label, unsigned).as_slice()].concat()
}

/// Replaces a signed frame's signature by `key`'s over the same (possibly edited) bytes.
pub fn resign(key: &SigningKey, label: &str, frame: &[u8]) -> Vec<u8> {
    sign_frame(key, label, frame.get(..frame.len().saturating_sub(64)).unwrap_or_default())
}

/// A fresh Ed25519 key.
pub fn fresh_key() -> SigningKey {
    SigningKey::generate(&mut ChaCha20Rng::from_rng(&mut UnwrapErr(getrandom::SysRng)))
}

/// An open connection with the relay's challenge.
pub struct Probe {
    /// The link.
    pub link: Link,
    /// The relay's challenge.
    pub challenge: [u8; 32],
    /// Relay messages seen that were not answers.
    pub seen: Vec<RelayMessage>,
    next_req: u32,
}

impl Probe {
    /// Connects and reads the challenge.
    pub async fn open(t: &Target) -> Result<Self, String> {
        let mut rng = ChaCha20Rng::from_rng(&mut UnwrapErr(getrandom::SysRng));
        let mut link = Link::connect(&t.relay, &t.key, None, &mut rng).await.map_err(|e| e.to_string())?;
        let first = tokio::time::timeout(t.wait, link.recv()).await.map_err(|_| "no challenge")?;
        match RelayMessage::decode(&first.map_err(|e| e.to_string())?) {
            Ok(RelayMessage::Challenge { nonce }) => Ok(Self { link, challenge: nonce, seen: Vec::new(), next_req: 1 }),
            other => Err(format!("expected a challenge, got {other:?}")),
        }
    }

    /// A fresh request id.
    pub fn req_id(&mut self) -> u32 {
        self.next_req += 1;
        self.next_req
    }

    /// Sends raw request bytes.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.link.send(bytes).await.map_err(|e| e.to_string())
    }

    /// Reads until the answer to `req_id`: `Ok(seq)` if accepted, `Err(code)` if refused.
    pub async fn answer(&mut self, t: &Target, req_id: u32) -> Result<Result<u64, u16>, String> {
        loop {
            let bytes = tokio::time::timeout(t.wait, self.link.recv())
                .await
                .map_err(|_| format!("no answer to request {req_id}"))?
                .map_err(|e| e.to_string())?;
            match RelayMessage::decode(&bytes).map_err(|e| format!("relay message does not decode: {e}"))? {
                RelayMessage::Accepted { req_id: r, seq } if r == req_id => return Ok(Ok(seq)),
                RelayMessage::Rejected { req_id: r, code } if r == req_id => return Ok(Err(code)),
                other => self.seen.push(other),
            }
        }
    }

    /// Submits a frame and returns the verdict.
    pub async fn submit(&mut self, t: &Target, frame: Vec<u8>) -> Result<Result<u64, u16>, String> {
        let req_id = self.req_id();
        self.send(&ClientRequest::Submit { req_id, frame }.encode()).await?;
        self.answer(t, req_id).await
    }

    /// Authenticates `key` for `room_id` with a hand-built signature over challenge, `binding`
    /// (normally this link's handshake hash), room, identity and resume point.
    pub async fn auth_with(
        &mut self,
        t: &Target,
        key: &SigningKey,
        room_id: [u8; 16],
        binding: zfc_core::ChannelBinding,
    ) -> Result<Result<u64, u16>, String> {
        let identity = key.verifying_key().to_bytes();
        let mut signed = Vec::new();
        signed.extend_from_slice(&self.challenge);
        signed.extend_from_slice(binding.as_bytes());
        signed.extend_from_slice(&room_id);
        signed.extend_from_slice(&identity);
        signed.extend_from_slice(&0u64.to_be_bytes());
        let sig = sign(key, "zfc v1 authenticate", &signed);
        let req_id = self.req_id();
        let req = ClientRequest::Authenticate { req_id, room_id, identity, resume_from: 0, sig };
        self.send(&req.encode()).await?;
        self.answer(t, req_id).await
    }

    /// [`Self::auth_with`] bound to this link.
    pub async fn auth(&mut self, t: &Target, key: &SigningKey, room_id: [u8; 16]) -> Result<Result<u64, u16>, String> {
        let binding = self.link.channel_binding();
        self.auth_with(t, key, room_id, binding).await
    }

    /// Expects the relay to close the connection (after at most an error frame); returns the
    /// close reason and the error frame's code.
    pub async fn expect_closed(&mut self, t: &Target) -> Result<(Option<String>, Option<u16>), String> {
        let mut code = None;
        loop {
            match tokio::time::timeout(t.wait, self.link.recv()).await {
                Err(_) => return Err("the relay kept the connection open".into()),
                Ok(Ok(bytes)) => {
                    if let Ok(RelayMessage::Rejected { req_id: 0, code: c }) = RelayMessage::decode(&bytes) {
                        code = Some(c);
                    }
                }
                Ok(Err(NetError::Closed(reason))) => return Ok((reason, code)),
                Ok(Err(_)) => return Ok((None, code)),
            }
        }
    }
}
