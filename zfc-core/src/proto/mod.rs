//! The requests a client sends the relay and the messages the relay sends back, carried inside
//! the encrypted link. Signed room frames ([`crate::frame`]) travel inside `Submit`, `Deliver`
//! and `Direct`.
//!
//! This module is the client's as much as the relay's: client code reads it without
//! importing anything of the relay ([`crate::relay`] is the relay's rule book).
//!
//! Invariant: a connection proves which key it speaks for by signing the relay's fresh
//! challenge together with the link's handshake hash, so a proof cannot be replayed on another
//! connection or relayed from one.

mod reject;

pub use reject::Reject;

use crate::crypto::{self, SIG_LEN, SignKey};
use crate::error::DecodeError;
use crate::frame::RoomId;
use crate::wire::{MAX_ENVELOPE_LEN, MAX_FRAME_LEN, Reader, Writer};

/// Kind bytes of client requests (0x20..) and relay messages (0x40..).
pub mod kind {
    /// [`super::ClientRequest::Authenticate`]
    pub const AUTHENTICATE: u8 = 0x20;
    /// [`super::ClientRequest::Submit`]
    pub const SUBMIT: u8 = 0x21;
    /// [`super::ClientRequest::Fetch`]
    pub const FETCH: u8 = 0x22;
    /// [`super::ClientRequest::Ack`]
    pub const ACK: u8 = 0x23;
    /// [`super::ClientRequest::AckDirect`]
    pub const ACK_DIRECT: u8 = 0x24;
    /// [`super::ClientRequest::Admit`]
    pub const ADMIT: u8 = 0x25;
    /// [`super::RelayMessage::Challenge`]
    pub const CHALLENGE: u8 = 0x40;
    /// [`super::RelayMessage::Accepted`]
    pub const ACCEPTED: u8 = 0x41;
    /// [`super::RelayMessage::Rejected`]
    pub const REJECTED: u8 = 0x42;
    /// [`super::RelayMessage::Deliver`]
    pub const DELIVER: u8 = 0x43;
    /// [`super::RelayMessage::Direct`]
    pub const DIRECT: u8 = 0x44;
    /// [`super::RelayMessage::FetchDone`]
    pub const FETCH_DONE: u8 = 0x45;
}

/// Label of the signature in [`ClientRequest::Authenticate`].
pub(crate) const AUTH_LABEL: &str = "zfc v1 authenticate";

/// The bytes an authentication signature covers.
pub(crate) fn auth_signed_bytes(
    challenge: &[u8; 32],
    channel_binding: &[u8; 32],
    room_id: &RoomId,
    identity: &[u8; 32],
    resume_from: u64,
) -> Vec<u8> {
    let mut w = Writer::new();
    w.fixed(challenge).fixed(channel_binding).fixed(room_id).fixed(identity).u64(resume_from);
    w.finish()
}

/// Signs an authentication for `room_id` with `key`.
pub(crate) fn authenticate(
    req_id: u32,
    key: &SignKey,
    challenge: &[u8; 32],
    channel_binding: &[u8; 32],
    room_id: RoomId,
    resume_from: u64,
) -> ClientRequest {
    let identity = key.public();
    let sig = key.sign(AUTH_LABEL, &auth_signed_bytes(challenge, channel_binding, &room_id, &identity, resume_from));
    ClientRequest::Authenticate { req_id, room_id, identity, resume_from, sig }
}

/// What a client sends the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientRequest {
    /// Prove the key `identity` on this connection for `room_id`; then receive its directed
    /// frames and, for members, the room log from `resume_from` (0: from the relay's cursor).
    Authenticate {
        /// Echoed in the answer.
        req_id: u32,
        /// The room.
        room_id: RoomId,
        /// The Ed25519 key proven.
        identity: [u8; 32],
        /// First relay sequence number wanted.
        resume_from: u64,
        /// Signature over challenge, channel binding, room, identity and resume point.
        sig: [u8; SIG_LEN],
    },
    /// A signed frame for the relay to check, order and forward.
    Submit {
        /// Echoed in the answer.
        req_id: u32,
        /// The frame's wire bytes.
        frame: Vec<u8>,
    },
    /// History: log entries with `from <= seq < until`, at most `limit`.
    Fetch {
        /// Echoed in the answer.
        req_id: u32,
        /// The room.
        room_id: RoomId,
        /// First sequence number wanted.
        from: u64,
        /// One past the last wanted.
        until: u64,
        /// Most entries wanted.
        limit: u32,
    },
    /// The client has read the log up to and including `seq`.
    Ack {
        /// The room.
        room_id: RoomId,
        /// Last sequence number read.
        seq: u64,
    },
    /// The client has processed directed frame `id`; the relay may drop it.
    AckDirect {
        /// The room.
        room_id: RoomId,
        /// Its id.
        id: u64,
    },
    /// Present an operator-issued admission token: on a relay where room creation is
    /// restricted, this connection may then create rooms.
    Admit {
        /// Echoed in the answer.
        req_id: u32,
        /// The token.
        token: [u8; 32],
    },
}

impl ClientRequest {
    /// Wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Authenticate { req_id, room_id, identity, resume_from, sig } => {
                let mut w = Writer::frame(kind::AUTHENTICATE);
                w.u32(*req_id).fixed(room_id).fixed(identity).u64(*resume_from).fixed(sig);
                w.finish()
            }
            Self::Submit { req_id, frame } => {
                let mut w = Writer::frame(kind::SUBMIT);
                w.u32(*req_id).bytes(frame);
                w.finish()
            }
            Self::Fetch { req_id, room_id, from, until, limit } => {
                let mut w = Writer::frame(kind::FETCH);
                w.u32(*req_id).fixed(room_id).u64(*from).u64(*until).u32(*limit);
                w.finish()
            }
            Self::Ack { room_id, seq } => {
                let mut w = Writer::frame(kind::ACK);
                w.fixed(room_id).u64(*seq);
                w.finish()
            }
            Self::AckDirect { room_id, id } => {
                let mut w = Writer::frame(kind::ACK_DIRECT);
                w.fixed(room_id).u64(*id);
                w.finish()
            }
            Self::Admit { req_id, token } => {
                let mut w = Writer::frame(kind::ADMIT);
                w.u32(*req_id).fixed(token);
                w.finish()
            }
        }
    }

    /// Parses wire bytes.
    ///
    /// # Errors
    /// [`DecodeError`] for bytes that are not one well-formed request (spec §6.1); the nested
    /// frame is not decoded.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::open_bounded(bytes, MAX_ENVELOPE_LEN)?;
        let req = match r.u8()? {
            kind::AUTHENTICATE => Self::Authenticate {
                req_id: r.u32()?,
                room_id: r.array()?,
                identity: r.array()?,
                resume_from: r.u64()?,
                sig: r.array()?,
            },
            kind::SUBMIT => Self::Submit { req_id: r.u32()?, frame: r.bytes(MAX_FRAME_LEN)?.to_vec() },
            kind::FETCH => {
                Self::Fetch { req_id: r.u32()?, room_id: r.array()?, from: r.u64()?, until: r.u64()?, limit: r.u32()? }
            }
            kind::ACK => Self::Ack { room_id: r.array()?, seq: r.u64()? },
            kind::ACK_DIRECT => Self::AckDirect { room_id: r.array()?, id: r.u64()? },
            kind::ADMIT => Self::Admit { req_id: r.u32()?, token: r.array()? },
            other => return Err(DecodeError::UnknownKind(other)),
        };
        r.finish()?;
        Ok(req)
    }
}

/// Whether an authentication signature verifies.
pub(crate) fn verify_auth(
    challenge: &[u8; 32],
    channel_binding: &[u8; 32],
    room_id: &RoomId,
    identity: &[u8; 32],
    resume_from: u64,
    sig: &[u8; SIG_LEN],
) -> bool {
    crypto::verify(
        identity,
        AUTH_LABEL,
        &auth_signed_bytes(challenge, channel_binding, room_id, identity, resume_from),
        sig,
    )
}

/// What the relay sends a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelayMessage {
    /// Sent once when a connection opens: the nonce to sign in `Authenticate`.
    Challenge {
        /// Fresh random bytes.
        nonce: [u8; 32],
    },
    /// Request `req_id` succeeded; `seq` is the room-log position the frame got (0 if the
    /// frame is not logged: directed frames, invites, authentication).
    Accepted {
        /// The request.
        req_id: u32,
        /// Its log position, or 0.
        seq: u64,
    },
    /// Request `req_id` was refused with `code` (see [`crate::relay::Reject`]).
    Rejected {
        /// The request.
        req_id: u32,
        /// Why.
        code: u16,
    },
    /// A room-log entry.
    Deliver {
        /// The room.
        room_id: RoomId,
        /// Its relay sequence number.
        seq: u64,
        /// The frame's wire bytes.
        frame: Vec<u8>,
    },
    /// A frame addressed to this connection's identity alone (join traffic).
    Direct {
        /// The room.
        room_id: RoomId,
        /// Its queue id, to acknowledge.
        id: u64,
        /// The frame's wire bytes.
        frame: Vec<u8>,
    },
    /// A `Fetch` finished; `next` is the first sequence number not sent.
    FetchDone {
        /// The request.
        req_id: u32,
        /// The room.
        room_id: RoomId,
        /// First sequence number not sent.
        next: u64,
    },
}

impl RelayMessage {
    /// Wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Challenge { nonce } => {
                let mut w = Writer::frame(kind::CHALLENGE);
                w.fixed(nonce);
                w.finish()
            }
            Self::Accepted { req_id, seq } => {
                let mut w = Writer::frame(kind::ACCEPTED);
                w.u32(*req_id).u64(*seq);
                w.finish()
            }
            Self::Rejected { req_id, code } => {
                let mut w = Writer::frame(kind::REJECTED);
                w.u32(*req_id).u16(*code);
                w.finish()
            }
            Self::Deliver { room_id, seq, frame } => {
                let mut w = Writer::frame(kind::DELIVER);
                w.fixed(room_id).u64(*seq).bytes(frame);
                w.finish()
            }
            Self::Direct { room_id, id, frame } => {
                let mut w = Writer::frame(kind::DIRECT);
                w.fixed(room_id).u64(*id).bytes(frame);
                w.finish()
            }
            Self::FetchDone { req_id, room_id, next } => {
                let mut w = Writer::frame(kind::FETCH_DONE);
                w.u32(*req_id).fixed(room_id).u64(*next);
                w.finish()
            }
        }
    }

    /// Parses wire bytes.
    ///
    /// # Errors
    /// [`DecodeError`] for bytes that are not one well-formed relay message (spec §6.2).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::open_bounded(bytes, MAX_ENVELOPE_LEN)?;
        let msg = match r.u8()? {
            kind::CHALLENGE => Self::Challenge { nonce: r.array()? },
            kind::ACCEPTED => Self::Accepted { req_id: r.u32()?, seq: r.u64()? },
            kind::REJECTED => Self::Rejected { req_id: r.u32()?, code: r.u16()? },
            kind::DELIVER => {
                Self::Deliver { room_id: r.array()?, seq: r.u64()?, frame: r.bytes(MAX_FRAME_LEN)?.to_vec() }
            }
            kind::DIRECT => Self::Direct { room_id: r.array()?, id: r.u64()?, frame: r.bytes(MAX_FRAME_LEN)?.to_vec() },
            kind::FETCH_DONE => Self::FetchDone { req_id: r.u32()?, room_id: r.array()?, next: r.u64()? },
            other => return Err(DecodeError::UnknownKind(other)),
        };
        r.finish()?;
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_messages_round_trip() {
        let reqs = vec![
            ClientRequest::Submit { req_id: 3, frame: vec![1, 2, 3] },
            ClientRequest::Fetch { req_id: 4, room_id: [2; 16], from: 1, until: 9, limit: 5 },
            ClientRequest::Ack { room_id: [2; 16], seq: 7 },
            ClientRequest::AckDirect { room_id: [2; 16], id: 8 },
            ClientRequest::Authenticate {
                req_id: 1,
                room_id: [3; 16],
                identity: [4; 32],
                resume_from: 2,
                sig: [5; 64],
            },
        ];
        for r in reqs {
            assert_eq!(ClientRequest::decode(&r.encode()).unwrap(), r);
        }
        let msgs = vec![
            RelayMessage::Challenge { nonce: [9; 32] },
            RelayMessage::Accepted { req_id: 1, seq: 2 },
            RelayMessage::Rejected { req_id: 1, code: 30 },
            RelayMessage::Deliver { room_id: [1; 16], seq: 5, frame: vec![0; 10] },
            RelayMessage::Direct { room_id: [1; 16], id: 5, frame: vec![0; 10] },
            RelayMessage::FetchDone { req_id: 2, room_id: [1; 16], next: 6 },
        ];
        for m in msgs {
            assert_eq!(RelayMessage::decode(&m.encode()).unwrap(), m);
        }
    }
}
