//! Errors of the client layer ([`Error`]) and of the wire decoder ([`DecodeError`]).
//!
//! Invariant: an operation that returns an error has changed no state.
//! [`Error`] is the one type a client meets: the wire decoder's, the saved state's and the link's
//! errors arrive inside it ([`Error::Decode`], [`Error::State`], [`Error::Link`]), and every value
//! has a stable code and an [`ErrorGroup`] ([`Error::code`], [`Error::group`]). The relay rule
//! book has its own enum, [`crate::proto::Reject`]; a client meets a refusal as an event.

use core::fmt;

use crate::code::{ErrorCode, ErrorGroup};
use crate::link::LinkError;
use crate::pickle::StateError;

/// A frame that could not be decoded; the peer (or the relay) sent bytes that are not a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a field.
    Truncated,
    /// Bytes were left over after the last field.
    TrailingBytes(usize),
    /// The frame is longer than [`crate::wire::MAX_FRAME_LEN`].
    TooLong {
        /// Length of the input.
        len: usize,
        /// Largest accepted length.
        max: usize,
    },
    /// A variable-length field or a count exceeds its bound.
    FieldTooLong {
        /// Declared length or count.
        len: usize,
        /// Its bound.
        max: usize,
    },
    /// The protocol version byte is not one this implementation speaks.
    UnsupportedVersion(u8),
    /// The kind byte names another frame than the one expected here.
    UnexpectedKind {
        /// Kind expected.
        expected: u8,
        /// Kind found.
        got: u8,
    },
    /// The kind byte names no frame at all.
    UnknownKind(u8),
    /// A field holds a value outside its domain (an enum tag, a key that is not a curve point).
    InvalidValue(&'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("frame truncated"),
            Self::TrailingBytes(n) => write!(f, "{n} trailing bytes after frame"),
            Self::TooLong { len, max } => write!(f, "frame of {len} bytes exceeds {max}"),
            Self::FieldTooLong { len, max } => write!(f, "field of {len} exceeds bound {max}"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported protocol version {v}"),
            Self::UnexpectedKind { expected, got } => {
                write!(f, "expected frame kind {expected:#04x}, got {got:#04x}")
            }
            Self::UnknownKind(k) => write!(f, "unknown frame kind {k:#04x}"),
            Self::InvalidValue(what) => write!(f, "invalid value in field {what}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Errors of the owner and member state machines, their saved state and their link.
///
/// Every variant falls into one [`ErrorGroup`] (what to do about it: [`Error::group`]) and has a
/// stable code ([`Error::code`], the numbers every binding shares). The main families: the peer
/// or relay misbehaved (log it and drop the frame), the caller used the API wrongly (fix the
/// call), an invite was refused (tell the user), the room is gone, the saved state does not load,
/// the link failed (reconnect).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a well-formed frame.
    Decode(DecodeError),
    /// A signature did not verify against the key the protocol requires.
    BadSignature,
    /// A ciphertext failed authentication: tampered, or sealed under another key.
    Forged,
    /// The frame belongs to another room than this state's.
    WrongRoom,
    /// A message names an epoch this party never had a key for.
    UnknownEpoch {
        /// Newest epoch this party knows.
        known: u32,
        /// Epoch named by the frame.
        got: u32,
    },
    /// A message names an epoch whose key was already erased (retention window passed).
    EpochExpired {
        /// The epoch named by the frame.
        epoch: u32,
    },
    /// A message under an epoch that a removal closed, or after the rotation grace window.
    EpochClosed {
        /// The epoch named by the frame.
        epoch: u32,
    },
    /// A message whose (epoch, sender, sequence) was already accepted.
    Replay {
        /// The sender's member number.
        sender: u32,
        /// The repeated sequence number.
        seq: u32,
    },
    /// A message older than the reordering window allows.
    TooOld {
        /// The sender's member number.
        sender: u32,
        /// The message's sequence number.
        seq: u32,
        /// The sender's newest accepted sequence number.
        newest: u32,
    },
    /// The sender is not a member of the room in that epoch.
    UnknownSender(u32),
    /// The relay skipped sequence numbers: frames were withheld. Fetch from `expected`.
    RelayGap {
        /// The relay sequence number expected next.
        expected: u64,
        /// The one received.
        got: u64,
    },
    /// The relay sent a sequence number already processed (a replay by the relay).
    RelayReplay {
        /// The relay sequence number expected next.
        expected: u64,
        /// The one received.
        got: u64,
    },
    /// An epoch change does not chain onto the epoch this party holds, or its roster digest
    /// disagrees with the roster it implies: the owner or relay forked the room.
    ForkDetected,
    /// The frame is valid but was addressed to someone else, or is not expected in this state.
    Unexpected(&'static str),
    /// The invite string is malformed.
    BadInvite(&'static str),
    /// The invite token is not one the owner issued.
    InviteUnknown,
    /// The invite token was already used.
    InviteUsed,
    /// The invite token expired.
    InviteExpired,
    /// The owner revoked the invite.
    InviteRevoked,
    /// The invite token does not match (its derived key or PSK is wrong).
    WrongToken,
    /// The operation needs the owner's authority.
    NotOwner,
    /// The operation needs a joined member; this state is not (or no longer) one.
    NotJoined,
    /// This member was removed from the room, or left it.
    Removed,
    /// The room was deleted by its owner.
    RoomDeleted,
    /// The member number names nobody in the roster.
    NoSuchMember(u32),
    /// The message is longer than the room allows.
    MessageTooLong {
        /// Its length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// A per-sender or per-epoch counter would overflow; rotate first.
    CounterExhausted,
    /// The room is full.
    RoomFull,
    /// No pending join request has that id.
    NoSuchJoin,
    /// A parameter is out of range (the argument names which).
    InvalidArgument(&'static str),
    /// A saved state did not load or seal (wrong password, damaged, another kind or version).
    State(StateError),
    /// The encrypted link to the relay failed: drop the connection and open a new one.
    Link(LinkError),
}

impl Error {
    /// The stable code of this error (spec and bindings share the numbers: [`crate::code`]).
    pub fn code(&self) -> u32 {
        self.error_code()
    }

    /// What a caller should do about this error.
    pub fn group(&self) -> ErrorGroup {
        self.error_group()
    }
}

impl From<StateError> for Error {
    fn from(e: StateError) -> Self {
        Self::State(e)
    }
}

impl From<LinkError> for Error {
    fn from(e: LinkError) -> Self {
        Self::Link(e)
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(e) => write!(f, "malformed frame: {e}"),
            Self::BadSignature => f.write_str("signature does not verify"),
            Self::Forged => f.write_str("ciphertext failed authentication"),
            Self::WrongRoom => f.write_str("frame belongs to another room"),
            Self::UnknownEpoch { known, got } => write!(f, "unknown epoch {got} (newest known {known})"),
            Self::EpochExpired { epoch } => write!(f, "key of epoch {epoch} already erased"),
            Self::EpochClosed { epoch } => write!(f, "epoch {epoch} is closed"),
            Self::Replay { sender, seq } => write!(f, "replayed message {seq} of member {sender}"),
            Self::TooOld { sender, seq, newest } => {
                write!(f, "message {seq} of member {sender} is beyond the reorder window (newest {newest})")
            }
            Self::UnknownSender(s) => write!(f, "member {s} is not in the roster"),
            Self::RelayGap { expected, got } => write!(f, "relay skipped from {expected} to {got}"),
            Self::RelayReplay { expected, got } => write!(f, "relay repeated {got} (expected {expected})"),
            Self::ForkDetected => f.write_str("epoch chain or roster digest disagrees: room forked"),
            Self::Unexpected(what) => write!(f, "unexpected frame: {what}"),
            Self::BadInvite(what) => write!(f, "malformed invite: {what}"),
            Self::InviteUnknown => f.write_str("unknown invite"),
            Self::InviteUsed => f.write_str("invite already used"),
            Self::InviteExpired => f.write_str("invite expired"),
            Self::InviteRevoked => f.write_str("invite revoked"),
            Self::WrongToken => f.write_str("wrong invite token"),
            Self::NotOwner => f.write_str("only the owner may do this"),
            Self::NotJoined => f.write_str("not a joined member"),
            Self::Removed => f.write_str("no longer a member of the room"),
            Self::RoomDeleted => f.write_str("room deleted"),
            Self::NoSuchMember(m) => write!(f, "no member {m}"),
            Self::MessageTooLong { len, max } => write!(f, "message of {len} bytes exceeds {max}"),
            Self::CounterExhausted => f.write_str("counter exhausted"),
            Self::RoomFull => f.write_str("room is full"),
            Self::NoSuchJoin => f.write_str("no such pending join"),
            Self::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Self::State(e) => write!(f, "saved state: {e}"),
            Self::Link(e) => write!(f, "link: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            Self::State(e) => Some(e),
            Self::Link(e) => Some(e),
            _ => None,
        }
    }
}
