//! [`Error`]: the one error type of zfc-client, so that C, Python and Kotlin report the same
//! outcome with the same number.
//!
//! Invariant: every value has a code of `zfc_core::code::TABLE` (the shared, append-only table)
//! and an [`ErrorGroup`]; the part errors ([`zfc_core::Error`], [`VaultError`],
//! [`ContentError`]) keep their own codes inside it, so wrapping never changes a number.

use core::fmt;

use zfc_core::code::{ErrorCode, ErrorGroup};

use crate::content::ContentError;
use crate::vault::VaultError;

/// Why a zfc-client call failed. A failed call changes nothing.
///
/// Bindings map [`Self::group`] to their exception classes and carry [`Self::code`] on them;
/// Rust callers may match the part that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The protocol refused the call or the bytes (zfc-core's error: a peer's frame, the link,
    /// a room's state, an invite).
    Core(zfc_core::Error),
    /// The sealed client state: wrong passphrase, damaged, closed, an unknown room.
    Vault(VaultError),
    /// A message's content could not be encoded (too long, or not encodable as given).
    Content(ContentError),
}

impl Error {
    /// The stable code (`zfc_core::code::TABLE`; C's `zfc_result`, Python's and Kotlin's
    /// `.code`).
    pub fn code(&self) -> u32 {
        self.error_code()
    }

    /// What a caller should do about it.
    pub fn group(&self) -> ErrorGroup {
        self.error_group()
    }

    /// The code's stable name (e.g. `"WRONG_PASSWORD"`); `None` only for a relay refusal this
    /// version does not know.
    pub fn name(&self) -> Option<&'static str> {
        self.error_name()
    }
}

impl ErrorCode for Error {
    fn error_code(&self) -> u32 {
        match self {
            Self::Core(e) => e.error_code(),
            Self::Vault(e) => e.error_code(),
            Self::Content(e) => e.error_code(),
        }
    }
}

impl From<zfc_core::Error> for Error {
    fn from(e: zfc_core::Error) -> Self {
        Self::Core(e)
    }
}

impl From<VaultError> for Error {
    fn from(e: VaultError) -> Self {
        Self::Vault(e)
    }
}

impl From<ContentError> for Error {
    fn from(e: ContentError) -> Self {
        Self::Content(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Core(e) => e.fmt(f),
            Self::Vault(e) => e.fmt(f),
            Self::Content(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Core(e) => Some(e),
            Self::Vault(e) => Some(e),
            Self::Content(e) => Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use zfc_core::code;
    use zfc_core::pickle::StateError;

    /// One value of every part's variants (the parts' own `error_code` matches are exhaustive).
    fn samples() -> Vec<Error> {
        let content = [
            ContentError::TextTooLong { len: 2, max: 1 },
            ContentError::DisplayNameTooLong { len: 2, max: 1 },
            ContentError::TopicTooLong { len: 2, max: 1 },
            ContentError::OtherTooLong { len: 2, max: 1 },
            ContentError::KnownTypeAsOther { type_code: 1 },
            ContentError::NotAnEnvelope,
            ContentError::ZeroTimestamp,
        ];
        let p = (1, 1, 1);
        let vault = [
            VaultError::WrongPassphrase,
            VaultError::Malformed("x".into()),
            VaultError::UnsupportedVersion(2),
            VaultError::Argon2Params { m_cost_kib: p.0, t_cost: p.1, p_cost: p.2 },
            VaultError::WeakKdf { m_cost_kib: p.0, t_cost: p.1, p_cost: p.2 },
            VaultError::Closed,
            VaultError::NoSuchRoom,
            VaultError::RoomExists,
            VaultError::InvalidArgument("x".into()),
            VaultError::Random("x".into()),
            VaultError::State(zfc_core::Error::State(StateError::WrongPassword)),
        ];
        let core = [zfc_core::Error::Forged, zfc_core::Error::NotJoined, zfc_core::Error::InviteUsed];
        let mut out: Vec<Error> = content.into_iter().map(Error::from).collect();
        out.extend(vault.into_iter().map(Error::from));
        out.extend(core.into_iter().map(Error::from));
        out
    }

    #[test]
    fn every_value_has_a_code_of_the_shared_table_and_keeps_its_part_s_number() {
        for e in samples() {
            let row = code::entry(e.code()).unwrap();
            assert_eq!(Some(row.name), e.name(), "{e:?}");
            assert_eq!(row.group, e.group(), "{e:?}");
            let inner = match &e {
                Error::Core(c) => c.error_code(),
                Error::Vault(v) => v.error_code(),
                Error::Content(c) => c.error_code(),
            };
            assert_eq!(e.code(), inner, "wrapping changed the number of {e:?}");
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn groups_callers_act_on() {
        let g = |e: Error| e.group();
        assert_eq!(g(VaultError::WrongPassphrase.into()), ErrorGroup::LocalState);
        assert_eq!(g(VaultError::Closed.into()), ErrorGroup::ApiMisuse);
        assert_eq!(g(ContentError::ZeroTimestamp.into()), ErrorGroup::ApiMisuse);
        assert_eq!(g(zfc_core::Error::Forged.into()), ErrorGroup::PeerMisbehaved);
        assert_eq!(Error::from(ContentError::TopicTooLong { len: 2, max: 1 }).name(), Some("MESSAGE_TOO_LONG"));
        assert_eq!(Error::from(VaultError::WeakKdf { m_cost_kib: 8, t_cost: 1, p_cost: 1 }).code(), code::WEAK_KDF);
    }
}
