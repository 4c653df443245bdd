//! Why the relay refuses a request: one code per check, stable on the wire.

use core::fmt;

macro_rules! rejects {
    ($($(#[doc = $doc:literal])* $name:ident = $code:literal,)*) => {
        /// A relay's refusal, sent to the client as its `u16` code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Reject {
            $($(#[doc = $doc])* $name,)*
            /// A code this version does not know (a later relay's): clients treat it as a
            /// refusal to retry later (spec §9.7). [`Reject::from`] never wraps a known code in it.
            Unknown(u16),
        }

        impl Reject {
            /// The wire code.
            pub fn code(self) -> u16 {
                match self {
                    $(Self::$name => $code,)*
                    Self::Unknown(code) => code,
                }
            }
            /// The refusal a code names, if this version knows it.
            pub fn from_code(code: u16) -> Option<Self> {
                match code {
                    $($code => Some(Self::$name),)*
                    _ => None,
                }
            }
            /// Every refusal this version knows, for tables and tests.
            pub const ALL: &'static [Reject] = &[$(Self::$name,)*];
        }

        impl From<u16> for Reject {
            /// Any wire code: a known refusal, or [`Reject::Unknown`].
            fn from(code: u16) -> Self {
                Self::from_code(code).unwrap_or(Self::Unknown(code))
            }
        }
    };
}

rejects! {
    /// The request or the frame inside it does not decode.
    Malformed = 1,
    /// The request is larger than the relay accepts.
    TooLarge = 2,
    /// No room has that id.
    NoSuchRoom = 10,
    /// A room with that id exists (or existed).
    RoomExists = 11,
    /// The room was deleted.
    RoomDeleted = 12,
    /// The room id is not the hash of the owner's keys and salt.
    BadRoomId = 13,
    /// This relay does not let this client create rooms.
    CreationRestricted = 14,
    /// A signature does not verify against the key the rule requires.
    BadSignature = 20,
    /// The connection has not proven a key that may do this.
    NotAuthenticated = 21,
    /// The signer is not a member of the room (or has left).
    NotMember = 22,
    /// No invite has that commitment.
    InviteUnknown = 30,
    /// The invite was already used.
    InviteUsed = 31,
    /// The invite expired.
    InviteExpired = 32,
    /// The owner revoked the invite.
    InviteRevoked = 33,
    /// The join request was not signed by the holder of the invite token.
    WrongToken = 34,
    /// No pending join matches (or it is in another stage).
    NoPendingJoin = 35,
    /// The invite already has as many pending joins as allowed.
    TooManyPendingJoins = 36,
    /// The invite commitment is already registered.
    InviteExists = 37,
    /// The commit's epoch is not the next one.
    WrongEpoch = 40,
    /// The commit does not chain onto the current epoch.
    ForkedChain = 41,
    /// The commit's roster digest disagrees with the change it makes.
    RosterMismatch = 42,
    /// The commit's key shares do not cover exactly the members they must.
    BadShares = 43,
    /// The message's epoch is closed (after a removal, or past the grace window).
    EpochClosed = 44,
    /// The sender already used this sequence number (or a later one) in this epoch.
    Replay = 45,
    /// The change is not allowed (unknown member, the owner removed, a reused number).
    BadChange = 46,
    /// The room is full.
    RoomFull = 47,
    /// The message names an epoch the room has not reached.
    UnknownEpoch = 48,
    /// The message's sequence number jumps too far ahead of the sender's last one.
    SeqJump = 49,
    /// A key update repeats or precedes one already accepted.
    StaleKeyUpdate = 51,
    /// A queue for an offline recipient is full.
    QueueFull = 50,
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for Reject {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for r in Reject::ALL {
            assert!(seen.insert(r.code()));
            assert_eq!(Reject::from_code(r.code()), Some(*r));
        }
        assert_eq!(Reject::from_code(9999), None);
        assert_eq!(Reject::from(9999), Reject::Unknown(9999));
        assert_eq!(Reject::from(9999).code(), 9999);
        assert_eq!(Reject::from(22), Reject::NotMember);
    }
}
