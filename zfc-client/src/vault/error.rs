//! [`VaultError`]: every way a vault call fails, each with a stable code of `zfc_core::code`.

use zfc_core::ErrorCode;
use zfc_core::code;

/// Why a [`Vault`](super::Vault) call failed. Every variant has a stable number of
/// `zfc_core::code::TABLE` ([`ErrorCode::error_code`]); a failed call changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VaultError {
    /// The passphrase does not open the vault (or the part of it that authenticates the rest was
    /// altered). Nothing changed: ask again. Code `WRONG_PASSWORD` (300).
    WrongPassphrase,
    /// The blob is not a vault or is damaged: truncated, trailing bytes, a bad value, an entry
    /// that does not match the manifest (swapped in from another save), or a single-room
    /// `ZFCS` blob (import it instead). Code `STATE_MALFORMED` (301).
    Malformed(String),
    /// The container was written by a newer version of the format. Code `STATE_VERSION` (302).
    UnsupportedVersion(u32),
    /// Argon2 parameters outside the bounds every loader accepts (`Argon2Params::MIN..=MAX`,
    /// spec §17.3), when sealing or loading. Code `ARGON2_PARAMS` (304).
    Argon2Params {
        /// Memory, KiB.
        m_cost_kib: u32,
        /// Iterations.
        t_cost: u32,
        /// Lanes.
        p_cost: u32,
    },
    /// Sealing with parameters below [`Vault::KDF_FLOOR`](super::Vault::KDF_FLOOR) without
    /// [`VaultOptions::insecure_weak_kdf_for_tests`](super::VaultOptions). Code `WEAK_KDF` (305).
    WeakKdf {
        /// Memory, KiB.
        m_cost_kib: u32,
        /// Iterations.
        t_cost: u32,
        /// Lanes.
        p_cost: u32,
    },
    /// The vault was closed: its key and rooms are erased. Code `CLOSED` (5).
    Closed,
    /// The vault holds no room with that id. Code `NO_SUCH_ROOM` (228).
    NoSuchRoom,
    /// The vault already holds that room (an import never overwrites one; a room keeps its
    /// kind). Code `ROOM_EXISTS` (229).
    RoomExists,
    /// An argument is out of range: a room id that is not 16 bytes, a pickle that is not one of
    /// the kind given. Code `INVALID_ARGUMENT` (3).
    InvalidArgument(String),
    /// The operating system's random source failed. Code `UNKNOWN` (98).
    Random(String),
    /// A single-room sealed state did not import (wrong password, damaged, of a newer version):
    /// zfc-core's error, with its own code (e.g. `WRONG_PASSWORD`, 300).
    State(zfc_core::Error),
}

impl VaultError {
    pub(super) fn malformed(why: &str) -> Self {
        Self::Malformed(why.to_owned())
    }
}

impl core::fmt::Display for VaultError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::WrongPassphrase => f.write_str("wrong passphrase"),
            Self::Malformed(why) => write!(f, "damaged client state: {why}"),
            Self::UnsupportedVersion(v) => write!(f, "client state version {v} is newer than this library"),
            Self::Argon2Params { m_cost_kib, t_cost, p_cost } => {
                write!(f, "Argon2 parameters out of bounds (m={m_cost_kib} KiB, t={t_cost}, p={p_cost})")
            }
            Self::WeakKdf { m_cost_kib, t_cost, p_cost } => {
                write!(f, "Argon2 parameters below the production minimum (m={m_cost_kib} KiB, t={t_cost}, p={p_cost})")
            }
            Self::Closed => f.write_str("the vault is closed"),
            Self::NoSuchRoom => f.write_str("no such room in the vault"),
            Self::RoomExists => f.write_str("the vault already holds this room"),
            Self::InvalidArgument(why) => write!(f, "invalid argument: {why}"),
            Self::Random(why) => write!(f, "the operating system's random source failed: {why}"),
            Self::State(e) => write!(f, "sealed room state: {e}"),
        }
    }
}

impl std::error::Error for VaultError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::State(e) => Some(e),
            _ => None,
        }
    }
}

impl ErrorCode for VaultError {
    fn error_code(&self) -> u32 {
        // Exhaustive, as zfc-core's impls: a new variant does not compile until it has a code.
        match self {
            Self::WrongPassphrase => code::WRONG_PASSWORD,
            Self::Malformed(_) => code::STATE_MALFORMED,
            Self::UnsupportedVersion(_) => code::STATE_VERSION,
            Self::Argon2Params { .. } => code::ARGON2_PARAMS,
            Self::WeakKdf { .. } => code::WEAK_KDF,
            Self::Closed => code::CLOSED,
            Self::NoSuchRoom => code::NO_SUCH_ROOM,
            Self::RoomExists => code::ROOM_EXISTS,
            Self::InvalidArgument(_) => code::INVALID_ARGUMENT,
            Self::Random(_) => code::UNKNOWN,
            Self::State(e) => e.error_code(),
        }
    }
}
