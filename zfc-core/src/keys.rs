//! The public values a caller passes around, each its own type so that one cannot be given where
//! another is meant: a party's signing key, an invite's commitment, the relay's link key, a
//! link's channel binding, a position in a room's log.
//!
//! Invariant: none of these is secret (they travel in frames, invites and fingerprints), so they
//! are `Copy`, compare in variable time and print in full; the secrets behind them live in
//! `crypto` and zeroize.

use core::fmt;

use crate::crypto;

macro_rules! key32 {
    ($(#[doc = $doc:literal])* $name:ident) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name([u8; 32]);

        impl $name {
            /// The value from its 32 bytes (as on the wire).
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }
            /// Its 32 bytes (as on the wire).
            pub const fn to_bytes(self) -> [u8; 32] {
                self.0
            }
            /// Its 32 bytes, borrowed.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
            /// The value from 64 lower-case hex digits (as [`Display`](fmt::Display) writes
            /// it); `None` for anything else.
            pub fn from_hex(hex: &str) -> Option<Self> {
                crate::invite::hex_array::<32>(hex).ok().map(Self)
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl From<[u8; 32]> for $name {
            fn from(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }
        }

        impl From<$name> for [u8; 32] {
            fn from(v: $name) -> Self {
                v.0
            }
        }

        /// Lower-case hex, all 64 digits.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&crypto::to_hex(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), crypto::hex_short(&self.0))
            }
        }
    };
}

key32! {
    /// A party's Ed25519 public key in one room: the owner's, a member's or a joiner's. The relay
    /// and every member verify the party's frames with it; fingerprints are made from it.
    MemberKey
}

key32! {
    /// An invite's commitment: the Ed25519 public key derived from the invite's token, which the
    /// owner registers with the relay and a joiner signs its request with.
    InviteKey
}

key32! {
    /// The relay's static X25519 public key, pinned by the link (`relay_key` in invites,
    /// `relay.pub` beside a relay).
    RelayPublicKey
}

key32! {
    /// A link's channel binding: the Noise handshake hash, the same at both ends of one link and
    /// different on every other. A party signs its authentication over it, so the signature
    /// cannot be replayed on another connection.
    ChannelBinding
}

/// A position in a room's log (the relay's sequence number of an entry): entries are numbered
/// from 1 in the order the relay accepted them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LogPos(pub u64);

impl LogPos {
    /// The position as a number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for LogPos {
    fn from(v: u64) -> Self {
        Self(v)
    }
}

impl From<LogPos> for u64 {
    fn from(v: LogPos) -> Self {
        v.0
    }
}

impl fmt::Display for LogPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for LogPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogPos({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_anything_else() {
        let k = MemberKey::from_bytes([0xab; 32]);
        let hex = k.to_string();
        assert_eq!(hex.len(), 64);
        assert_eq!(MemberKey::from_hex(&hex), Some(k));
        assert_eq!(MemberKey::from_hex(&hex.to_uppercase()), None);
        assert_eq!(MemberKey::from_hex(&hex[..62]), None);
        assert_eq!(MemberKey::from_hex(&format!("{hex}00")), None);
        assert_eq!(MemberKey::from_hex(&hex.replace('a', "g")), None);
        assert_eq!(format!("{k:?}"), format!("MemberKey({})", crypto::hex_short(&[0xab; 32])));
    }

    #[test]
    fn positions_order_as_numbers() {
        assert!(LogPos(2) < LogPos(10));
        assert_eq!(u64::from(LogPos::from(7)), 7);
        assert_eq!(LogPos(7).to_string(), "7");
    }
}
