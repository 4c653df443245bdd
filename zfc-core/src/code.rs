//! Error codes: one stable number, name and [`ErrorGroup`] per outcome, in one table ([`TABLE`])
//! that every binding reads or is checked against (the C ABI's `zfc_result`, later Python and
//! Kotlin).
//!
//! Every error value of this crate has a code ([`ErrorCode::error_code`]): [`Error`],
//! [`DecodeError`], [`StateError`], [`LinkError`] and [`Reject`]. The impls below match each enum
//! exhaustively (no `_` arm), so a new variant does not compile until it has a code. Several
//! variants may share a code (every [`DecodeError`] but a version or length is
//! [`MALFORMED`]); a code never means two things.
//!
//! Ranges:
//!
//! | codes | what |
//! |---|---|
//! | 0 | success (`ZFC_OK`); never an error code |
//! | 1-99 | API use, and the binding boundary (a NULL argument, a caught panic) |
//! | 100-199 | malformed input |
//! | 200-299 | protocol: the peer, the relay, an invite, the room |
//! | 300-399 | saved state |
//! | 400-499 | the link to the relay |
//! | 1000-66535 | relay refusals: [`RELAY_BASE`] + the relay's [`Reject`] code, known or not |
//!
//! **The table is append-only.** A code keeps its number, name and meaning forever; a code no
//! longer produced stays in the table (a binding may still receive it from an older peer or
//! library). A new outcome gets a new code: the next free number of its range (e.g. 230, 306,
//! 411), or a new hundred below 1000 (500-999 are free); never a number in the relay range, which
//! belongs to [`Reject`] codes. Rows stay in ascending order of code.

use crate::error::{DecodeError, Error};
use crate::link::LinkError;
use crate::pickle::StateError;
use crate::relay::Reject;

/// What a caller should do about an error: the variants of every error type fall into these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorGroup {
    /// Bytes from the network (another party through the relay, or the relay itself) failed a
    /// check: malformed, forged, replayed, out of order, for another room or epoch. Nothing
    /// changed. Log it and go on; do not branch on the detail. A relay that skips or repeats log
    /// positions (`RELAY_GAP`, `RELAY_REPLAY`): reconnect, the party resumes from its position.
    /// `FORK_DETECTED` means the owner or the relay forked the room: tell the user.
    PeerMisbehaved,
    /// The call was wrong: a bad argument, or an operation this party cannot do in its state
    /// (not the owner, not joined, no such member or join, a message too long, the room full).
    /// Nothing changed; fix the call, retrying it as is will fail again.
    ApiMisuse,
    /// An invite was refused or is malformed (unknown, used, expired, revoked, wrong token). Tell
    /// the user; a new invite is needed.
    Invite,
    /// The room is gone for this party: removed, left, or deleted by the owner. Stop using it;
    /// its keys are erased, and its saved state can be deleted.
    RoomGone,
    /// This side's own state or the library itself: a saved state that does not load (wrong
    /// password, damaged, from a newer version, of the other kind, Argon2 parameters out of
    /// bounds), a counter at its end, a caught panic or an error this version does not classify.
    /// Ask for the password again, upgrade, or restore a backup; after a panic, free the handles
    /// involved and load the last saved state.
    LocalState,
    /// The encrypted link to the relay failed (handshake, record authentication, order, nonces
    /// used up). Drop the connection and open a new one; the party resends what must land. A
    /// handshake that fails again, or `LINK_INVALID_KEY`, means the pinned relay key is wrong.
    Link,
    /// The relay refused a request ([`RELAY_BASE`] + its [`Reject`] code, including codes this
    /// version does not know). The party already retries or fails the operation as the spec says
    /// (§9.7); show the refusal.
    RelayRefused,
    /// The connection is over: the relay closes it (a request that does not decode, is too large,
    /// or comes from an unknown connection). A relay host closes it; a client reconnects and
    /// authenticates, and the party resends what must land.
    Closed,
}

impl ErrorGroup {
    /// Every group, for tables and tests.
    pub const ALL: &'static [ErrorGroup] = &[
        Self::PeerMisbehaved,
        Self::ApiMisuse,
        Self::Invite,
        Self::RoomGone,
        Self::LocalState,
        Self::Link,
        Self::RelayRefused,
        Self::Closed,
    ];

    /// The group's stable name, e.g. `"PeerMisbehaved"`, for bindings.
    pub fn name(self) -> &'static str {
        match self {
            Self::PeerMisbehaved => "PeerMisbehaved",
            Self::ApiMisuse => "ApiMisuse",
            Self::Invite => "Invite",
            Self::RoomGone => "RoomGone",
            Self::LocalState => "LocalState",
            Self::Link => "Link",
            Self::RelayRefused => "RelayRefused",
            Self::Closed => "Closed",
        }
    }
}

impl core::fmt::Display for ErrorGroup {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// One row of [`TABLE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The stable number.
    pub code: u32,
    /// The stable name, in upper snake case without a prefix (`BAD_SIGNATURE`; C adds
    /// `ZFC_ERR_`).
    pub name: &'static str,
    /// What a caller should do.
    pub group: ErrorGroup,
    /// A short English description (C: `zfc_result_text`).
    pub text: &'static str,
}

/// Codes of relay refusals are this plus the [`Reject`] code.
pub const RELAY_BASE: u32 = 1000;

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $name:ident = $code:literal, $group:ident, $text:literal;)*) => {
        $($(#[doc = $doc])* pub const $name: u32 = $code;)*

        /// Every code this version knows, in ascending order (append-only: see the module doc).
        pub const TABLE: &[Entry] = &[
            $(Entry { code: $code, name: stringify!($name), group: ErrorGroup::$group, text: $text },)*
        ];
    };
}

codes! {
    // 1-99: API use and the binding boundary.
    /// A required pointer argument was NULL.
    NULL_ARGUMENT = 1, ApiMisuse, "a required argument is NULL";
    /// A string argument is not valid UTF-8.
    INVALID_UTF8 = 2, ApiMisuse, "a string argument is not valid UTF-8";
    /// An argument is out of range ([`Error::InvalidArgument`]).
    INVALID_ARGUMENT = 3, ApiMisuse, "an argument is out of range";
    /// An index is past the end.
    INDEX = 4, ApiMisuse, "index out of range";
    /// The object was closed (its keys erased): every call after `close` fails so (zfc-client).
    CLOSED = 5, ApiMisuse, "the object was closed";
    /// An error this version does not classify.
    UNKNOWN = 98, LocalState, "unclassified error";
    /// A panic inside the library was caught at the boundary; free the handles involved.
    PANIC = 99, LocalState, "internal error (a panic was caught at the C boundary)";

    // 100-199: malformed input.
    /// Bytes that do not decode.
    MALFORMED = 100, PeerMisbehaved, "malformed input";
    /// A protocol version this library does not speak.
    UNSUPPORTED_VERSION = 101, PeerMisbehaved, "unsupported protocol version";
    /// Input longer than allowed.
    TOO_LONG = 102, PeerMisbehaved, "input too long";

    // 200-299: protocol.
    /// A signature does not verify.
    BAD_SIGNATURE = 200, PeerMisbehaved, "signature does not verify";
    /// A ciphertext failed authentication.
    FORGED = 201, PeerMisbehaved, "ciphertext failed authentication";
    /// The frame belongs to another room.
    WRONG_ROOM = 202, PeerMisbehaved, "frame belongs to another room";
    /// An epoch this party never had a key for.
    UNKNOWN_EPOCH = 203, PeerMisbehaved, "unknown epoch";
    /// An epoch whose key was erased.
    EPOCH_EXPIRED = 204, PeerMisbehaved, "epoch key already erased";
    /// A message under a closed epoch.
    EPOCH_CLOSED = 205, PeerMisbehaved, "epoch closed";
    /// A replayed message.
    REPLAY = 206, PeerMisbehaved, "replayed message";
    /// A message beyond the reordering window.
    TOO_OLD = 207, PeerMisbehaved, "message beyond the reordering window";
    /// A sender outside the roster.
    UNKNOWN_SENDER = 208, PeerMisbehaved, "sender not in the roster";
    /// The relay skipped log positions: reconnect and resume.
    RELAY_GAP = 209, PeerMisbehaved, "relay skipped log positions";
    /// The relay repeated a log position: reconnect and resume.
    RELAY_REPLAY = 210, PeerMisbehaved, "relay repeated a log position";
    /// The epoch chain or roster disagrees: the room forked.
    FORK_DETECTED = 211, PeerMisbehaved, "room forked (epoch chain or roster digest disagrees)";
    /// A frame not expected in this state.
    UNEXPECTED = 212, PeerMisbehaved, "frame not expected in this state";
    /// A malformed invite string.
    BAD_INVITE = 213, Invite, "malformed invite";
    /// An invite the owner never issued.
    INVITE_UNKNOWN = 214, Invite, "unknown invite";
    /// An invite already used.
    INVITE_USED = 215, Invite, "invite already used";
    /// An expired invite.
    INVITE_EXPIRED = 216, Invite, "invite expired";
    /// A revoked invite.
    INVITE_REVOKED = 217, Invite, "invite revoked";
    /// A join request without the invite's token.
    WRONG_TOKEN = 218, Invite, "wrong invite token";
    /// The call needs the owner.
    NOT_OWNER = 219, ApiMisuse, "only the owner may do this";
    /// The call needs a joined member.
    NOT_JOINED = 220, ApiMisuse, "not a joined member";
    /// This member was removed or left.
    REMOVED = 221, RoomGone, "no longer a member of the room";
    /// The room was deleted.
    ROOM_DELETED = 222, RoomGone, "room deleted";
    /// No member has that number.
    NO_SUCH_MEMBER = 223, ApiMisuse, "no such member";
    /// A message longer than allowed.
    MESSAGE_TOO_LONG = 224, ApiMisuse, "message too long";
    /// A counter would overflow.
    COUNTER_EXHAUSTED = 225, LocalState, "counter exhausted";
    /// The room is full.
    ROOM_FULL = 226, ApiMisuse, "room full";
    /// No pending join has that key.
    NO_SUCH_JOIN = 227, ApiMisuse, "no such pending join";
    /// The client holds no room with that id (zfc-client).
    NO_SUCH_ROOM = 228, ApiMisuse, "no such room";
    /// The client already holds that room (zfc-client: an import never overwrites it).
    ROOM_EXISTS = 229, ApiMisuse, "room already held";

    // 300-399: saved state.
    /// The password does not open the saved state.
    WRONG_PASSWORD = 300, LocalState, "wrong password";
    /// The saved state is damaged.
    STATE_MALFORMED = 301, LocalState, "damaged saved state";
    /// The saved state comes from a newer version.
    STATE_VERSION = 302, LocalState, "saved state from a newer version";
    /// The saved state is of the other kind (owner vs member).
    STATE_KIND = 303, LocalState, "saved state of the other kind";
    /// Argon2 parameters out of bounds.
    ARGON2_PARAMS = 304, LocalState, "Argon2 parameters out of bounds";
    /// Sealing with Argon2 parameters below the production minimum, without the test-only
    /// option (zfc-client, spec §17.7).
    WEAK_KDF = 305, ApiMisuse, "Argon2 parameters below the production minimum";

    // 400-499: the link.
    /// A link message of an unknown version.
    LINK_VERSION = 400, Link, "link: unsupported version";
    /// A link message of an unexpected kind.
    LINK_KIND = 401, Link, "link: unexpected message kind";
    /// A malformed link message.
    LINK_MALFORMED = 402, Link, "link: malformed message";
    /// A link message too long.
    LINK_TOO_LONG = 403, Link, "link: message too long";
    /// The link handshake failed (not the pinned relay, or altered).
    LINK_HANDSHAKE = 404, Link, "link: handshake failed";
    /// A link record failed authentication.
    LINK_DECRYPT = 405, Link, "link: record failed authentication";
    /// A replayed link record.
    LINK_REPLAYED = 406, Link, "link: replayed record";
    /// A link record out of order.
    LINK_OUT_OF_ORDER = 407, Link, "link: record out of order";
    /// The relay key is a low-order point.
    LINK_INVALID_KEY = 408, Link, "link: invalid relay key";
    /// The link used up its nonces.
    LINK_EXHAUSTED = 409, Link, "link: nonces exhausted";
    /// The link's setup failed.
    LINK_INTERNAL = 410, Link, "link: setup failed";

    // 1000 + the relay's reject code (spec §10).
    /// The relay must close this connection: the request did not decode.
    RELAY_MALFORMED = 1001, Closed, "relay: request does not decode; close the connection";
    /// The relay must close this connection: the request is too large.
    RELAY_TOO_LARGE = 1002, Closed, "relay: request too large; close the connection";
    /// The relay refused: no room has that id.
    RELAY_NO_SUCH_ROOM = 1010, RelayRefused, "relay: no such room";
    /// The relay refused: a room with that id exists (or existed).
    RELAY_ROOM_EXISTS = 1011, RelayRefused, "relay: room exists";
    /// The relay refused: the room was deleted.
    RELAY_ROOM_DELETED = 1012, RelayRefused, "relay: room deleted";
    /// The relay refused: the room id is not the hash of the owner's keys and salt.
    RELAY_BAD_ROOM_ID = 1013, RelayRefused, "relay: bad room id";
    /// The relay refused: this client may not create rooms there.
    RELAY_CREATION_RESTRICTED = 1014, RelayRefused, "relay: room creation restricted";
    /// The relay refused: a signature does not verify.
    RELAY_BAD_SIGNATURE = 1020, RelayRefused, "relay: signature does not verify";
    /// The relay must close this connection: unknown connection (or, on a known one, the
    /// connection has not proven a key that may do this).
    RELAY_NOT_AUTHENTICATED = 1021, Closed, "relay: unknown connection; close it";
    /// The relay refused: the signer is not a member of the room.
    RELAY_NOT_MEMBER = 1022, RelayRefused, "relay: not a member";
    /// The relay refused: no invite has that commitment.
    RELAY_INVITE_UNKNOWN = 1030, RelayRefused, "relay: unknown invite";
    /// The relay refused: the invite was already used.
    RELAY_INVITE_USED = 1031, RelayRefused, "relay: invite already used";
    /// The relay refused: the invite expired.
    RELAY_INVITE_EXPIRED = 1032, RelayRefused, "relay: invite expired";
    /// The relay refused: the owner revoked the invite.
    RELAY_INVITE_REVOKED = 1033, RelayRefused, "relay: invite revoked";
    /// The relay refused: the join request was not signed by the invite token's holder.
    RELAY_WRONG_TOKEN = 1034, RelayRefused, "relay: wrong invite token";
    /// The relay refused: no pending join matches.
    RELAY_NO_PENDING_JOIN = 1035, RelayRefused, "relay: no pending join";
    /// The relay refused: the invite has as many pending joins as allowed.
    RELAY_TOO_MANY_PENDING_JOINS = 1036, RelayRefused, "relay: too many pending joins";
    /// The relay refused: the invite commitment is already registered.
    RELAY_INVITE_EXISTS = 1037, RelayRefused, "relay: invite already registered";
    /// The relay refused: the commit's epoch is not the next one.
    RELAY_WRONG_EPOCH = 1040, RelayRefused, "relay: wrong epoch";
    /// The relay refused: the commit does not chain onto the current epoch.
    RELAY_FORKED_CHAIN = 1041, RelayRefused, "relay: commit does not chain";
    /// The relay refused: the commit's roster digest disagrees with its change.
    RELAY_ROSTER_MISMATCH = 1042, RelayRefused, "relay: roster digest mismatch";
    /// The relay refused: the commit's key shares do not cover exactly the members they must.
    RELAY_BAD_SHARES = 1043, RelayRefused, "relay: bad key shares";
    /// The relay refused: the message's epoch is closed.
    RELAY_EPOCH_CLOSED = 1044, RelayRefused, "relay: epoch closed";
    /// The relay refused: the sender already used this sequence number (named apart from
    /// [`RELAY_REPLAY`], 210, the relay repeating a log position).
    RELAY_REPLAYED = 1045, RelayRefused, "relay: replayed sequence number";
    /// The relay refused: the change is not allowed.
    RELAY_BAD_CHANGE = 1046, RelayRefused, "relay: change not allowed";
    /// The relay refused: the room is full.
    RELAY_ROOM_FULL = 1047, RelayRefused, "relay: room full";
    /// The relay refused: the message names an epoch the room has not reached.
    RELAY_UNKNOWN_EPOCH = 1048, RelayRefused, "relay: unknown epoch";
    /// The relay refused: the sequence number jumps too far ahead.
    RELAY_SEQ_JUMP = 1049, RelayRefused, "relay: sequence number jumps ahead";
    /// The relay refused: a queue for an offline recipient is full.
    RELAY_QUEUE_FULL = 1050, RelayRefused, "relay: queue full";
    /// The relay refused: a key update repeats or precedes one already accepted.
    RELAY_STALE_KEY_UPDATE = 1051, RelayRefused, "relay: stale key update";
}

/// The row of `code`, if this version knows it.
pub fn entry(code: u32) -> Option<&'static Entry> {
    TABLE.binary_search_by_key(&code, |e| e.code).ok().and_then(|i| TABLE.get(i))
}

/// The stable name of `code` (e.g. `"BAD_SIGNATURE"`), if this version knows it.
pub fn code_name(code: u32) -> Option<&'static str> {
    entry(code).map(|e| e.name)
}

/// The group of `code`: its row's, or [`ErrorGroup::RelayRefused`] for a relay refusal this
/// version does not know; `None` for any other unknown code (and for 0, success).
pub fn code_group(code: u32) -> Option<ErrorGroup> {
    match entry(code) {
        Some(e) => Some(e.group),
        None => is_relay(code).then_some(ErrorGroup::RelayRefused),
    }
}

/// Whether `code` is in the relay range ([`RELAY_BASE`] + a `u16` reject code).
pub fn is_relay(code: u32) -> bool {
    (RELAY_BASE..=RELAY_BASE + u32::from(u16::MAX)).contains(&code)
}

/// A stable code and group for an error value.
pub trait ErrorCode {
    /// The value's code: a [`TABLE`] row, or [`RELAY_BASE`] + an unknown [`Reject`] code.
    fn error_code(&self) -> u32;

    /// What a caller should do about it.
    fn error_group(&self) -> ErrorGroup {
        // Every code an error value gives is a row or in the relay range (tested).
        code_group(self.error_code()).unwrap_or(ErrorGroup::LocalState)
    }

    /// The code's stable name; `None` only for a relay refusal this version does not know.
    fn error_name(&self) -> Option<&'static str> {
        code_name(self.error_code())
    }
}

impl ErrorCode for DecodeError {
    fn error_code(&self) -> u32 {
        match self {
            Self::UnsupportedVersion(_) => UNSUPPORTED_VERSION,
            Self::TooLong { .. } => TOO_LONG,
            Self::Truncated
            | Self::TrailingBytes(_)
            | Self::FieldTooLong { .. }
            | Self::UnexpectedKind { .. }
            | Self::UnknownKind(_)
            | Self::InvalidValue(_) => MALFORMED,
        }
    }
}

impl ErrorCode for Error {
    fn error_code(&self) -> u32 {
        match self {
            Self::Decode(d) => d.error_code(),
            Self::BadSignature => BAD_SIGNATURE,
            Self::Forged => FORGED,
            Self::WrongRoom => WRONG_ROOM,
            Self::UnknownEpoch { .. } => UNKNOWN_EPOCH,
            Self::EpochExpired { .. } => EPOCH_EXPIRED,
            Self::EpochClosed { .. } => EPOCH_CLOSED,
            Self::Replay { .. } => REPLAY,
            Self::TooOld { .. } => TOO_OLD,
            Self::UnknownSender(_) => UNKNOWN_SENDER,
            Self::RelayGap { .. } => RELAY_GAP,
            Self::RelayReplay { .. } => RELAY_REPLAY,
            Self::ForkDetected => FORK_DETECTED,
            Self::Unexpected(_) => UNEXPECTED,
            Self::BadInvite(_) => BAD_INVITE,
            Self::InviteUnknown => INVITE_UNKNOWN,
            Self::InviteUsed => INVITE_USED,
            Self::InviteExpired => INVITE_EXPIRED,
            Self::InviteRevoked => INVITE_REVOKED,
            Self::WrongToken => WRONG_TOKEN,
            Self::NotOwner => NOT_OWNER,
            Self::NotJoined => NOT_JOINED,
            Self::Removed => REMOVED,
            Self::RoomDeleted => ROOM_DELETED,
            Self::NoSuchMember(_) => NO_SUCH_MEMBER,
            Self::MessageTooLong { .. } => MESSAGE_TOO_LONG,
            Self::CounterExhausted => COUNTER_EXHAUSTED,
            Self::RoomFull => ROOM_FULL,
            Self::NoSuchJoin => NO_SUCH_JOIN,
            Self::InvalidArgument(_) => INVALID_ARGUMENT,
            Self::State(e) => e.error_code(),
            Self::Link(e) => e.error_code(),
        }
    }
}

impl ErrorCode for StateError {
    fn error_code(&self) -> u32 {
        match self {
            Self::WrongPassword => WRONG_PASSWORD,
            Self::Malformed(_) => STATE_MALFORMED,
            Self::UnsupportedVersion(_) => STATE_VERSION,
            Self::WrongKind => STATE_KIND,
            Self::Argon2Params { .. } => ARGON2_PARAMS,
        }
    }
}

impl ErrorCode for LinkError {
    fn error_code(&self) -> u32 {
        match self {
            Self::UnsupportedVersion(_) => LINK_VERSION,
            Self::UnexpectedKind { .. } => LINK_KIND,
            Self::Malformed(_) => LINK_MALFORMED,
            Self::TooLong { .. } => LINK_TOO_LONG,
            Self::Handshake => LINK_HANDSHAKE,
            Self::Decrypt => LINK_DECRYPT,
            Self::Replayed { .. } => LINK_REPLAYED,
            Self::OutOfOrder { .. } => LINK_OUT_OF_ORDER,
            Self::InvalidKey => LINK_INVALID_KEY,
            Self::Exhausted => LINK_EXHAUSTED,
            Self::Internal(_) => LINK_INTERNAL,
        }
    }
}

impl ErrorCode for Reject {
    /// [`RELAY_BASE`] + the wire code (checked against [`Reject::code`] by the tests).
    fn error_code(&self) -> u32 {
        match *self {
            Self::Malformed => RELAY_MALFORMED,
            Self::TooLarge => RELAY_TOO_LARGE,
            Self::NoSuchRoom => RELAY_NO_SUCH_ROOM,
            Self::RoomExists => RELAY_ROOM_EXISTS,
            Self::RoomDeleted => RELAY_ROOM_DELETED,
            Self::BadRoomId => RELAY_BAD_ROOM_ID,
            Self::CreationRestricted => RELAY_CREATION_RESTRICTED,
            Self::BadSignature => RELAY_BAD_SIGNATURE,
            Self::NotAuthenticated => RELAY_NOT_AUTHENTICATED,
            Self::NotMember => RELAY_NOT_MEMBER,
            Self::InviteUnknown => RELAY_INVITE_UNKNOWN,
            Self::InviteUsed => RELAY_INVITE_USED,
            Self::InviteExpired => RELAY_INVITE_EXPIRED,
            Self::InviteRevoked => RELAY_INVITE_REVOKED,
            Self::WrongToken => RELAY_WRONG_TOKEN,
            Self::NoPendingJoin => RELAY_NO_PENDING_JOIN,
            Self::TooManyPendingJoins => RELAY_TOO_MANY_PENDING_JOINS,
            Self::InviteExists => RELAY_INVITE_EXISTS,
            Self::WrongEpoch => RELAY_WRONG_EPOCH,
            Self::ForkedChain => RELAY_FORKED_CHAIN,
            Self::RosterMismatch => RELAY_ROSTER_MISMATCH,
            Self::BadShares => RELAY_BAD_SHARES,
            Self::EpochClosed => RELAY_EPOCH_CLOSED,
            Self::Replay => RELAY_REPLAYED,
            Self::BadChange => RELAY_BAD_CHANGE,
            Self::RoomFull => RELAY_ROOM_FULL,
            Self::UnknownEpoch => RELAY_UNKNOWN_EPOCH,
            Self::SeqJump => RELAY_SEQ_JUMP,
            Self::QueueFull => RELAY_QUEUE_FULL,
            Self::StaleKeyUpdate => RELAY_STALE_KEY_UPDATE,
            Self::Unknown(code) => RELAY_BASE + u32::from(code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One value of every variant of every error type (the exhaustive matches above are the
    /// compile-time walk; this list checks where those codes land).
    fn samples() -> Vec<(String, u32)> {
        let decode = [
            DecodeError::Truncated,
            DecodeError::TrailingBytes(1),
            DecodeError::TooLong { len: 2, max: 1 },
            DecodeError::FieldTooLong { len: 2, max: 1 },
            DecodeError::UnsupportedVersion(9),
            DecodeError::UnexpectedKind { expected: 1, got: 2 },
            DecodeError::UnknownKind(0xff),
            DecodeError::InvalidValue("x"),
        ];
        let errors = [
            Error::Decode(DecodeError::Truncated),
            Error::BadSignature,
            Error::Forged,
            Error::WrongRoom,
            Error::UnknownEpoch { known: 1, got: 2 },
            Error::EpochExpired { epoch: 1 },
            Error::EpochClosed { epoch: 1 },
            Error::Replay { sender: 1, seq: 1 },
            Error::TooOld { sender: 1, seq: 1, newest: 100 },
            Error::UnknownSender(7),
            Error::RelayGap { expected: 1, got: 3 },
            Error::RelayReplay { expected: 3, got: 1 },
            Error::ForkDetected,
            Error::Unexpected("x"),
            Error::BadInvite("x"),
            Error::InviteUnknown,
            Error::InviteUsed,
            Error::InviteExpired,
            Error::InviteRevoked,
            Error::WrongToken,
            Error::NotOwner,
            Error::NotJoined,
            Error::Removed,
            Error::RoomDeleted,
            Error::NoSuchMember(7),
            Error::MessageTooLong { len: 2, max: 1 },
            Error::CounterExhausted,
            Error::RoomFull,
            Error::NoSuchJoin,
            Error::InvalidArgument("x"),
        ];
        let state = [
            StateError::Malformed(DecodeError::Truncated),
            StateError::UnsupportedVersion(9),
            StateError::WrongKind,
            StateError::WrongPassword,
            StateError::Argon2Params { m_cost_kib: 1, t_cost: 1, p_cost: 1 },
        ];
        let link = [
            LinkError::UnsupportedVersion(9),
            LinkError::UnexpectedKind { expected: 1, got: 2 },
            LinkError::Malformed("x"),
            LinkError::TooLong { len: 2, max: 1 },
            LinkError::Handshake,
            LinkError::Decrypt,
            LinkError::Replayed { seq: 1, expected: 2 },
            LinkError::OutOfOrder { seq: 3, expected: 2 },
            LinkError::InvalidKey,
            LinkError::Exhausted,
            LinkError::Internal("x"),
        ];
        let mut out = Vec::new();
        out.extend(decode.iter().map(|e| (format!("{e:?}"), e.error_code())));
        out.extend(errors.iter().map(|e| (format!("{e:?}"), e.error_code())));
        out.extend(state.iter().map(|e| (format!("{e:?}"), e.error_code())));
        out.extend(link.iter().map(|e| (format!("{e:?}"), e.error_code())));
        out.extend(Reject::ALL.iter().map(|e| (format!("{e:?}"), e.error_code())));
        // The one client error type carries the saved state's and the link's errors with their
        // own codes and groups.
        for e in state.iter().cloned().map(Error::State).chain(link.iter().cloned().map(Error::Link)) {
            let inner = match &e {
                Error::State(s) => (s.error_code(), s.error_group()),
                Error::Link(l) => (l.error_code(), l.error_group()),
                _ => unreachable!("only State and Link built here"),
            };
            assert_eq!((e.code(), e.group()), inner, "{e:?}");
            out.push((format!("{e:?}"), e.code()));
        }
        out
    }

    #[test]
    fn codes_are_ascending_and_unique() {
        for pair in TABLE.windows(2) {
            assert!(pair[0].code < pair[1].code, "{:?} and {:?} out of order or repeated", pair[0], pair[1]);
        }
        let mut names = std::collections::BTreeSet::new();
        for e in TABLE {
            assert!(names.insert(e.name), "{} named twice", e.name);
            assert_ne!(e.code, 0, "0 is success");
            assert!(!e.text.is_empty());
            assert!(e.name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'), "{}", e.name);
            assert_eq!(entry(e.code), Some(e));
            assert_eq!(code_name(e.code), Some(e.name));
            assert_eq!(code_group(e.code), Some(e.group));
        }
    }

    #[test]
    fn every_group_is_used() {
        for g in ErrorGroup::ALL {
            assert!(TABLE.iter().any(|e| e.group == *g), "{g} has no code");
        }
        // ALL lists every group: this match fails to compile when a group is added.
        let n = |g: ErrorGroup| match g {
            ErrorGroup::PeerMisbehaved
            | ErrorGroup::ApiMisuse
            | ErrorGroup::Invite
            | ErrorGroup::RoomGone
            | ErrorGroup::LocalState
            | ErrorGroup::Link
            | ErrorGroup::RelayRefused
            | ErrorGroup::Closed => g.name(),
        };
        let names: std::collections::BTreeSet<_> = ErrorGroup::ALL.iter().map(|g| n(*g)).collect();
        assert_eq!(names.len(), 8);
    }

    #[test]
    fn every_error_value_has_a_known_code() {
        for (what, code) in samples() {
            assert!(entry(code).is_some(), "{what} gives {code}, not in the table");
        }
    }

    #[test]
    fn ranges_keep_their_numbers() {
        // Literal numbers of zfc-ffi's zfc_result before the table moved here: never change.
        let fixed = [
            (NULL_ARGUMENT, 1),
            (INVALID_ARGUMENT, 3),
            (UNKNOWN, 98),
            (PANIC, 99),
            (MALFORMED, 100),
            (TOO_LONG, 102),
            (BAD_SIGNATURE, 200),
            (RELAY_GAP, 209),
            (BAD_INVITE, 213),
            (NO_SUCH_JOIN, 227),
            (WRONG_PASSWORD, 300),
            (ARGON2_PARAMS, 304),
            (CLOSED, 5),
            (NO_SUCH_ROOM, 228),
            (ROOM_EXISTS, 229),
            (WEAK_KDF, 305),
            (LINK_VERSION, 400),
            (LINK_INTERNAL, 410),
            (RELAY_MALFORMED, 1001),
            (RELAY_TOO_LARGE, 1002),
            (RELAY_NOT_AUTHENTICATED, 1021),
        ];
        for (code, literal) in fixed {
            assert_eq!(code, literal);
        }
        assert_eq!(Error::Decode(DecodeError::Truncated).error_code(), 100);
        assert_eq!(Error::Decode(DecodeError::UnsupportedVersion(2)).error_code(), 101);
        assert_eq!(Error::Decode(DecodeError::TooLong { len: 2, max: 1 }).error_code(), 102);
        assert_eq!(Error::BadSignature.error_code(), 200);
        assert_eq!(Error::InvalidArgument("x").error_code(), 3);
        assert_eq!(Error::NoSuchJoin.error_code(), 227);
        assert_eq!(StateError::WrongPassword.error_code(), 300);
        assert_eq!(StateError::Malformed(DecodeError::Truncated).error_code(), 301);
        assert_eq!(LinkError::UnsupportedVersion(2).error_code(), 400);
        assert_eq!(LinkError::Internal("x").error_code(), 410);
        assert_eq!(Reject::Malformed.error_code(), 1001);
        assert_eq!(Reject::NotAuthenticated.error_code(), 1021);
        for (name, literal) in [("NULL_ARGUMENT", 1), ("MALFORMED", 100), ("BAD_SIGNATURE", 200)] {
            assert_eq!(code_name(literal), Some(name));
        }
    }

    #[test]
    fn relay_codes_are_the_base_plus_the_reject_code() {
        for r in Reject::ALL {
            assert_eq!(r.error_code(), RELAY_BASE + u32::from(r.code()), "{r:?}");
            // The row's name is RELAY_ + the refusal's name in upper snake case (but Replay's:
            // RELAY_REPLAY was taken by the relay repeating a log position).
            let mut snake = String::from("RELAY_");
            for (i, c) in format!("{r:?}").chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_uppercase());
            }
            if *r == Reject::Replay {
                snake = "RELAY_REPLAYED".into();
            }
            assert_eq!(r.error_name(), Some(snake.as_str()));
        }
        // Every relay row is a refusal this version knows.
        for e in TABLE.iter().filter(|e| is_relay(e.code)) {
            let code = u16::try_from(e.code - RELAY_BASE).unwrap();
            assert!(Reject::from_code(code).is_some(), "{} names no refusal", e.name);
        }
        assert!(TABLE.iter().all(|e| is_relay(e.code) == (e.code >= RELAY_BASE)));
        // Unknown refusals: 1000 + their code, a relay refusal without a name.
        let later = Reject::from(999);
        assert_eq!(later, Reject::Unknown(999));
        assert_eq!(later.error_code(), 1999);
        assert_eq!(later.error_group(), ErrorGroup::RelayRefused);
        assert_eq!(later.error_name(), None);
        assert_eq!(Reject::Unknown(u16::MAX).error_code(), 66535);
        assert_eq!(Reject::Unknown(u16::MAX).error_group(), ErrorGroup::RelayRefused);
        assert_eq!(Reject::Unknown(1).error_code(), RELAY_MALFORMED);
    }

    #[test]
    fn groups_of_some_codes() {
        assert_eq!(Error::Forged.error_group(), ErrorGroup::PeerMisbehaved);
        assert_eq!(Error::Decode(DecodeError::Truncated).error_group(), ErrorGroup::PeerMisbehaved);
        assert_eq!(Error::NotJoined.error_group(), ErrorGroup::ApiMisuse);
        assert_eq!(Error::InviteUsed.error_group(), ErrorGroup::Invite);
        assert_eq!(Error::Removed.error_group(), ErrorGroup::RoomGone);
        assert_eq!(StateError::WrongPassword.error_group(), ErrorGroup::LocalState);
        assert_eq!(LinkError::Decrypt.error_group(), ErrorGroup::Link);
        assert_eq!(Reject::InviteUsed.error_group(), ErrorGroup::RelayRefused);
        assert_eq!(Reject::TooLarge.error_group(), ErrorGroup::Closed);
        assert_eq!(code_group(0), None);
        assert_eq!(code_name(0), None);
        assert_eq!(code_group(5000), Some(ErrorGroup::RelayRefused));
        assert_eq!(code_group(999), None);
    }
}
