//! Result codes: the C face of `zfc_core::code`, the one table of stable numbers, names and
//! groups (append-only; never reused). `zfc_result` stays a Rust enum for cbindgen; the tests
//! below check it against the table both ways, so the two cannot drift.

use std::ffi::c_char;

use zfc_core::code::ErrorCode;
use zfc_core::error::{DecodeError, Error};
use zfc_core::link::LinkError;
use zfc_core::pickle::StateError;
use zfc_core::relay::Reject;

/// The outcome of a call: `ZFC_OK` or an error. Ranges: 1-99 API use, 100-199 malformed input,
/// 200-299 protocol (the peer, the relay or an invite), 300-399 saved state, 400-499 link,
/// 1000-1999 relay refusals that close a connection (1000 + the relay's reject code).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum zfc_result {
    /// Success.
    ZFC_OK = 0,
    /// A required pointer argument was NULL.
    ZFC_ERR_NULL_ARGUMENT = 1,
    /// A string argument is not valid UTF-8.
    ZFC_ERR_INVALID_UTF8 = 2,
    /// An argument is out of range (the call's documentation says which).
    ZFC_ERR_INVALID_ARGUMENT = 3,
    /// An index is past the end.
    ZFC_ERR_INDEX = 4,
    /// The object was closed (its keys erased): every call after `close` fails so.
    ZFC_ERR_CLOSED = 5,
    /// An error this version does not classify.
    ZFC_ERR_UNKNOWN = 98,
    /// A panic inside the library was caught at the boundary; free the handles involved.
    ZFC_ERR_PANIC = 99,
    /// Bytes that do not decode.
    ZFC_ERR_MALFORMED = 100,
    /// A protocol version this library does not speak.
    ZFC_ERR_UNSUPPORTED_VERSION = 101,
    /// Input longer than allowed.
    ZFC_ERR_TOO_LONG = 102,
    /// A signature does not verify.
    ZFC_ERR_BAD_SIGNATURE = 200,
    /// A ciphertext failed authentication.
    ZFC_ERR_FORGED = 201,
    /// The frame belongs to another room.
    ZFC_ERR_WRONG_ROOM = 202,
    /// An epoch this party never had a key for.
    ZFC_ERR_UNKNOWN_EPOCH = 203,
    /// An epoch whose key was erased.
    ZFC_ERR_EPOCH_EXPIRED = 204,
    /// A message under a closed epoch.
    ZFC_ERR_EPOCH_CLOSED = 205,
    /// A replayed message.
    ZFC_ERR_REPLAY = 206,
    /// A message beyond the reordering window.
    ZFC_ERR_TOO_OLD = 207,
    /// A sender outside the roster.
    ZFC_ERR_UNKNOWN_SENDER = 208,
    /// The relay skipped log positions: reconnect and resume.
    ZFC_ERR_RELAY_GAP = 209,
    /// The relay repeated a log position: reconnect and resume.
    ZFC_ERR_RELAY_REPLAY = 210,
    /// The epoch chain or roster disagrees: the room forked.
    ZFC_ERR_FORK_DETECTED = 211,
    /// A frame not expected in this state.
    ZFC_ERR_UNEXPECTED = 212,
    /// A malformed invite string.
    ZFC_ERR_BAD_INVITE = 213,
    /// An invite the owner never issued.
    ZFC_ERR_INVITE_UNKNOWN = 214,
    /// An invite already used.
    ZFC_ERR_INVITE_USED = 215,
    /// An expired invite.
    ZFC_ERR_INVITE_EXPIRED = 216,
    /// A revoked invite.
    ZFC_ERR_INVITE_REVOKED = 217,
    /// A join request without the invite's token.
    ZFC_ERR_WRONG_TOKEN = 218,
    /// The call needs the owner.
    ZFC_ERR_NOT_OWNER = 219,
    /// The call needs a joined member.
    ZFC_ERR_NOT_JOINED = 220,
    /// This member was removed or left.
    ZFC_ERR_REMOVED = 221,
    /// The room was deleted.
    ZFC_ERR_ROOM_DELETED = 222,
    /// No member has that number.
    ZFC_ERR_NO_SUCH_MEMBER = 223,
    /// A message longer than allowed.
    ZFC_ERR_MESSAGE_TOO_LONG = 224,
    /// A counter would overflow.
    ZFC_ERR_COUNTER_EXHAUSTED = 225,
    /// The room is full.
    ZFC_ERR_ROOM_FULL = 226,
    /// No pending join has that key.
    ZFC_ERR_NO_SUCH_JOIN = 227,
    /// The client holds no room with that id.
    ZFC_ERR_NO_SUCH_ROOM = 228,
    /// The client already holds that room.
    ZFC_ERR_ROOM_EXISTS = 229,
    /// The password does not open the saved state.
    ZFC_ERR_WRONG_PASSWORD = 300,
    /// The saved state is damaged.
    ZFC_ERR_STATE_MALFORMED = 301,
    /// The saved state comes from a newer version.
    ZFC_ERR_STATE_VERSION = 302,
    /// The saved state is of the other kind (owner vs member).
    ZFC_ERR_STATE_KIND = 303,
    /// Argon2 parameters out of bounds.
    ZFC_ERR_ARGON2_PARAMS = 304,
    /// Sealing with Argon2 parameters below the production minimum, without the test option.
    ZFC_ERR_WEAK_KDF = 305,
    /// A link message of an unknown version.
    ZFC_ERR_LINK_VERSION = 400,
    /// A link message of an unexpected kind.
    ZFC_ERR_LINK_KIND = 401,
    /// A malformed link message.
    ZFC_ERR_LINK_MALFORMED = 402,
    /// A link message too long.
    ZFC_ERR_LINK_TOO_LONG = 403,
    /// The link handshake failed (not the pinned relay, or altered).
    ZFC_ERR_LINK_HANDSHAKE = 404,
    /// A link record failed authentication.
    ZFC_ERR_LINK_DECRYPT = 405,
    /// A replayed link record.
    ZFC_ERR_LINK_REPLAYED = 406,
    /// A link record out of order.
    ZFC_ERR_LINK_OUT_OF_ORDER = 407,
    /// The relay key is a low-order point.
    ZFC_ERR_LINK_INVALID_KEY = 408,
    /// The link used up its nonces.
    ZFC_ERR_LINK_EXHAUSTED = 409,
    /// The link's setup failed.
    ZFC_ERR_LINK_INTERNAL = 410,
    /// The relay must close this connection: the request did not decode.
    ZFC_ERR_RELAY_MALFORMED = 1001,
    /// The relay must close this connection: the request is too large.
    ZFC_ERR_RELAY_TOO_LARGE = 1002,
    /// The relay must close this connection: unknown connection.
    ZFC_ERR_RELAY_NOT_AUTHENTICATED = 1021,
}

impl zfc_result {
    fn text(self) -> &'static ::std::ffi::CStr {
        match self {
            Self::ZFC_OK => c"success",
            Self::ZFC_ERR_NULL_ARGUMENT => c"a required argument is NULL",
            Self::ZFC_ERR_INVALID_UTF8 => c"a string argument is not valid UTF-8",
            Self::ZFC_ERR_INVALID_ARGUMENT => c"an argument is out of range",
            Self::ZFC_ERR_INDEX => c"index out of range",
            Self::ZFC_ERR_CLOSED => c"the object was closed",
            Self::ZFC_ERR_UNKNOWN => c"unclassified error",
            Self::ZFC_ERR_PANIC => c"internal error (a panic was caught at the C boundary)",
            Self::ZFC_ERR_MALFORMED => c"malformed input",
            Self::ZFC_ERR_UNSUPPORTED_VERSION => c"unsupported protocol version",
            Self::ZFC_ERR_TOO_LONG => c"input too long",
            Self::ZFC_ERR_BAD_SIGNATURE => c"signature does not verify",
            Self::ZFC_ERR_FORGED => c"ciphertext failed authentication",
            Self::ZFC_ERR_WRONG_ROOM => c"frame belongs to another room",
            Self::ZFC_ERR_UNKNOWN_EPOCH => c"unknown epoch",
            Self::ZFC_ERR_EPOCH_EXPIRED => c"epoch key already erased",
            Self::ZFC_ERR_EPOCH_CLOSED => c"epoch closed",
            Self::ZFC_ERR_REPLAY => c"replayed message",
            Self::ZFC_ERR_TOO_OLD => c"message beyond the reordering window",
            Self::ZFC_ERR_UNKNOWN_SENDER => c"sender not in the roster",
            Self::ZFC_ERR_RELAY_GAP => c"relay skipped log positions",
            Self::ZFC_ERR_RELAY_REPLAY => c"relay repeated a log position",
            Self::ZFC_ERR_FORK_DETECTED => c"room forked (epoch chain or roster digest disagrees)",
            Self::ZFC_ERR_UNEXPECTED => c"frame not expected in this state",
            Self::ZFC_ERR_BAD_INVITE => c"malformed invite",
            Self::ZFC_ERR_INVITE_UNKNOWN => c"unknown invite",
            Self::ZFC_ERR_INVITE_USED => c"invite already used",
            Self::ZFC_ERR_INVITE_EXPIRED => c"invite expired",
            Self::ZFC_ERR_INVITE_REVOKED => c"invite revoked",
            Self::ZFC_ERR_WRONG_TOKEN => c"wrong invite token",
            Self::ZFC_ERR_NOT_OWNER => c"only the owner may do this",
            Self::ZFC_ERR_NOT_JOINED => c"not a joined member",
            Self::ZFC_ERR_REMOVED => c"no longer a member of the room",
            Self::ZFC_ERR_ROOM_DELETED => c"room deleted",
            Self::ZFC_ERR_NO_SUCH_MEMBER => c"no such member",
            Self::ZFC_ERR_MESSAGE_TOO_LONG => c"message too long",
            Self::ZFC_ERR_COUNTER_EXHAUSTED => c"counter exhausted",
            Self::ZFC_ERR_ROOM_FULL => c"room full",
            Self::ZFC_ERR_NO_SUCH_JOIN => c"no such pending join",
            Self::ZFC_ERR_NO_SUCH_ROOM => c"no such room",
            Self::ZFC_ERR_ROOM_EXISTS => c"room already held",
            Self::ZFC_ERR_WRONG_PASSWORD => c"wrong password",
            Self::ZFC_ERR_STATE_MALFORMED => c"damaged saved state",
            Self::ZFC_ERR_STATE_VERSION => c"saved state from a newer version",
            Self::ZFC_ERR_STATE_KIND => c"saved state of the other kind",
            Self::ZFC_ERR_ARGON2_PARAMS => c"Argon2 parameters out of bounds",
            Self::ZFC_ERR_WEAK_KDF => c"Argon2 parameters below the production minimum",
            Self::ZFC_ERR_LINK_VERSION => c"link: unsupported version",
            Self::ZFC_ERR_LINK_KIND => c"link: unexpected message kind",
            Self::ZFC_ERR_LINK_MALFORMED => c"link: malformed message",
            Self::ZFC_ERR_LINK_TOO_LONG => c"link: message too long",
            Self::ZFC_ERR_LINK_HANDSHAKE => c"link: handshake failed",
            Self::ZFC_ERR_LINK_DECRYPT => c"link: record failed authentication",
            Self::ZFC_ERR_LINK_REPLAYED => c"link: replayed record",
            Self::ZFC_ERR_LINK_OUT_OF_ORDER => c"link: record out of order",
            Self::ZFC_ERR_LINK_INVALID_KEY => c"link: invalid relay key",
            Self::ZFC_ERR_LINK_EXHAUSTED => c"link: nonces exhausted",
            Self::ZFC_ERR_LINK_INTERNAL => c"link: setup failed",
            Self::ZFC_ERR_RELAY_MALFORMED => c"relay: request does not decode; close the connection",
            Self::ZFC_ERR_RELAY_TOO_LARGE => c"relay: request too large; close the connection",
            Self::ZFC_ERR_RELAY_NOT_AUTHENTICATED => c"relay: unknown connection; close it",
        }
    }

    /// Every code, for tests and for `zfc_result_text`.
    pub const ALL: &'static [zfc_result] = &[
        Self::ZFC_OK,
        Self::ZFC_ERR_NULL_ARGUMENT,
        Self::ZFC_ERR_INVALID_UTF8,
        Self::ZFC_ERR_INVALID_ARGUMENT,
        Self::ZFC_ERR_INDEX,
        Self::ZFC_ERR_CLOSED,
        Self::ZFC_ERR_UNKNOWN,
        Self::ZFC_ERR_PANIC,
        Self::ZFC_ERR_MALFORMED,
        Self::ZFC_ERR_UNSUPPORTED_VERSION,
        Self::ZFC_ERR_TOO_LONG,
        Self::ZFC_ERR_BAD_SIGNATURE,
        Self::ZFC_ERR_FORGED,
        Self::ZFC_ERR_WRONG_ROOM,
        Self::ZFC_ERR_UNKNOWN_EPOCH,
        Self::ZFC_ERR_EPOCH_EXPIRED,
        Self::ZFC_ERR_EPOCH_CLOSED,
        Self::ZFC_ERR_REPLAY,
        Self::ZFC_ERR_TOO_OLD,
        Self::ZFC_ERR_UNKNOWN_SENDER,
        Self::ZFC_ERR_RELAY_GAP,
        Self::ZFC_ERR_RELAY_REPLAY,
        Self::ZFC_ERR_FORK_DETECTED,
        Self::ZFC_ERR_UNEXPECTED,
        Self::ZFC_ERR_BAD_INVITE,
        Self::ZFC_ERR_INVITE_UNKNOWN,
        Self::ZFC_ERR_INVITE_USED,
        Self::ZFC_ERR_INVITE_EXPIRED,
        Self::ZFC_ERR_INVITE_REVOKED,
        Self::ZFC_ERR_WRONG_TOKEN,
        Self::ZFC_ERR_NOT_OWNER,
        Self::ZFC_ERR_NOT_JOINED,
        Self::ZFC_ERR_REMOVED,
        Self::ZFC_ERR_ROOM_DELETED,
        Self::ZFC_ERR_NO_SUCH_MEMBER,
        Self::ZFC_ERR_MESSAGE_TOO_LONG,
        Self::ZFC_ERR_COUNTER_EXHAUSTED,
        Self::ZFC_ERR_ROOM_FULL,
        Self::ZFC_ERR_NO_SUCH_JOIN,
        Self::ZFC_ERR_NO_SUCH_ROOM,
        Self::ZFC_ERR_ROOM_EXISTS,
        Self::ZFC_ERR_WRONG_PASSWORD,
        Self::ZFC_ERR_STATE_MALFORMED,
        Self::ZFC_ERR_STATE_VERSION,
        Self::ZFC_ERR_STATE_KIND,
        Self::ZFC_ERR_ARGON2_PARAMS,
        Self::ZFC_ERR_WEAK_KDF,
        Self::ZFC_ERR_LINK_VERSION,
        Self::ZFC_ERR_LINK_KIND,
        Self::ZFC_ERR_LINK_MALFORMED,
        Self::ZFC_ERR_LINK_TOO_LONG,
        Self::ZFC_ERR_LINK_HANDSHAKE,
        Self::ZFC_ERR_LINK_DECRYPT,
        Self::ZFC_ERR_LINK_REPLAYED,
        Self::ZFC_ERR_LINK_OUT_OF_ORDER,
        Self::ZFC_ERR_LINK_INVALID_KEY,
        Self::ZFC_ERR_LINK_EXHAUSTED,
        Self::ZFC_ERR_LINK_INTERNAL,
        Self::ZFC_ERR_RELAY_MALFORMED,
        Self::ZFC_ERR_RELAY_TOO_LARGE,
        Self::ZFC_ERR_RELAY_NOT_AUTHENTICATED,
    ];
}

impl zfc_result {
    /// The variant whose value is `code`, a code of `zfc_core::code::TABLE`. Relay refusals other
    /// than the three that close a connection have no variant (C gets them as the `code` of a
    /// `ZFC_EVENT_REJECTED` event): they, and codes of a later version, are `ZFC_ERR_UNKNOWN`.
    fn from_code(code: u32) -> Self {
        Self::ALL.iter().copied().find(|r| *r as u32 == code).unwrap_or(Self::ZFC_ERR_UNKNOWN)
    }
}

/// Every core error converts through its code in `zfc_core::code`, the one table of numbers.
macro_rules! from_core {
    ($($t:ty),*) => {$(
        impl From<$t> for zfc_result {
            fn from(e: $t) -> Self {
                Self::from_code(e.error_code())
            }
        }
    )*};
}

from_core!(DecodeError, Error, StateError, LinkError, Reject, zfc_client::Error);

/// Returns a static, NUL-terminated English description of `result`; unknown codes get
/// "unknown result code". The string must not be freed.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_result_text(result: u32) -> *const c_char {
    ffi_value!(c"internal error".as_ptr(), {
        zfc_result::ALL
            .iter()
            .find(|r| **r as u32 == result)
            .map(|r| r.text().as_ptr())
            .unwrap_or(c"unknown result code".as_ptr())
    })
}

/// Returns a static, NUL-terminated name of a relay refusal code (the `code` of a
/// `ZFC_EVENT_REJECTED` event), e.g. "InviteUsed"; unknown codes get "unknown".
#[unsafe(no_mangle)]
pub extern "C" fn zfc_reject_name(code: u16) -> *const c_char {
    ffi_value!(c"unknown".as_ptr(), {
        macro_rules! names {
            ($($n:ident),*) => {
                match Reject::from_code(code) {
                    $(Some(Reject::$n) => concat!(stringify!($n), "\0").as_ptr() as *const c_char,)*
                    _ => c"unknown".as_ptr(),
                }
            };
        }
        names!(
            Malformed,
            TooLarge,
            NoSuchRoom,
            RoomExists,
            RoomDeleted,
            BadRoomId,
            CreationRestricted,
            BadSignature,
            NotAuthenticated,
            NotMember,
            InviteUnknown,
            InviteUsed,
            InviteExpired,
            InviteRevoked,
            WrongToken,
            NoPendingJoin,
            TooManyPendingJoins,
            InviteExists,
            WrongEpoch,
            ForkedChain,
            RosterMismatch,
            BadShares,
            EpochClosed,
            Replay,
            BadChange,
            RoomFull,
            UnknownEpoch,
            SeqJump,
            StaleKeyUpdate,
            QueueFull
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zfc_core::code::{self, ErrorGroup};

    #[test]
    fn codes_are_unique_and_have_text() {
        let mut seen = std::collections::BTreeSet::new();
        for r in zfc_result::ALL {
            assert!(seen.insert(*r as u32), "{r:?} reuses a code");
            assert!(!r.text().to_bytes().is_empty());
        }
    }

    #[test]
    fn every_result_is_a_core_code() {
        for r in zfc_result::ALL {
            if *r == zfc_result::ZFC_OK {
                assert_eq!(*r as u32, 0);
                assert_eq!(code::entry(0), None);
                continue;
            }
            let entry = code::entry(*r as u32);
            assert!(entry.is_some(), "{r:?} = {} is not in zfc_core::code::TABLE", *r as u32);
            if let Some(e) = entry {
                assert_eq!(format!("{r:?}"), format!("ZFC_ERR_{}", e.name), "name of {}", e.code);
                assert_eq!(r.text().to_str(), Ok(e.text), "text of {r:?}");
            }
        }
    }

    #[test]
    fn every_core_code_is_a_result() {
        for e in code::TABLE {
            let r = zfc_result::from_code(e.code);
            if e.group == ErrorGroup::RelayRefused {
                // C gets these as the code of a ZFC_EVENT_REJECTED event, named by zfc_reject_name.
                assert_eq!(r, zfc_result::ZFC_ERR_UNKNOWN, "{} has a zfc_result", e.name);
            } else {
                assert_eq!(r as u32, e.code, "{} ({}) has no zfc_result variant", e.name, e.code);
            }
        }
    }

    #[test]
    fn core_errors_convert_through_the_table() {
        assert_eq!(zfc_result::from(DecodeError::Truncated), zfc_result::ZFC_ERR_MALFORMED);
        assert_eq!(zfc_result::from(DecodeError::UnsupportedVersion(9)), zfc_result::ZFC_ERR_UNSUPPORTED_VERSION);
        assert_eq!(
            zfc_result::from(Error::Decode(DecodeError::TooLong { len: 2, max: 1 })),
            zfc_result::ZFC_ERR_TOO_LONG
        );
        assert_eq!(zfc_result::from(Error::InvalidArgument("x")), zfc_result::ZFC_ERR_INVALID_ARGUMENT);
        assert_eq!(zfc_result::from(Error::NoSuchJoin), zfc_result::ZFC_ERR_NO_SUCH_JOIN);
        assert_eq!(
            zfc_result::from(StateError::Malformed(DecodeError::Truncated)),
            zfc_result::ZFC_ERR_STATE_MALFORMED
        );
        assert_eq!(zfc_result::from(LinkError::Exhausted), zfc_result::ZFC_ERR_LINK_EXHAUSTED);
        assert_eq!(zfc_result::from(Reject::TooLarge), zfc_result::ZFC_ERR_RELAY_TOO_LARGE);
        assert_eq!(zfc_result::from(Reject::NotAuthenticated), zfc_result::ZFC_ERR_RELAY_NOT_AUTHENTICATED);
        // As before the table: refusals that do not close a connection have no zfc_result.
        assert_eq!(zfc_result::from(Reject::InviteUsed), zfc_result::ZFC_ERR_UNKNOWN);
        assert_eq!(zfc_result::from(Reject::Unknown(999)), zfc_result::ZFC_ERR_UNKNOWN);
    }

    #[test]
    fn every_reject_has_a_name() {
        for r in Reject::ALL {
            // SAFETY: zfc_reject_name returns a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(zfc_reject_name(r.code())) };
            assert_eq!(name.to_str().ok(), Some(format!("{r:?}").as_str()));
        }
    }
}
