//! Where a client's randomness comes from: the operating system, or a seed for tests.
//!
//! Invariant: every random byte the client uses (link ephemerals, nonces, salts, keys) comes from
//! one ChaCha20 generator seeded here; only [`Randomness::SeededForTests`] makes it repeatable,
//! and that option is named so that no app sets it by accident.

use core::fmt;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zeroize::Zeroizing;

use crate::Error;
use crate::vault::VaultError;

/// The source of a client's randomness: a record field every binding exposes as is.
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Randomness {
    /// The operating system's generator (getrandom). What apps use.
    #[default]
    Os,
    /// A fixed 32-byte seed: the same seed gives the same keys and nonces, so tests and vectors
    /// repeat. **Never in an app**: two clients (or one restarted) with one seed reuse nonces and
    /// share keys.
    SeededForTests {
        /// Exactly 32 bytes.
        seed: Vec<u8>,
    },
}

impl fmt::Debug for Randomness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Os => f.write_str("Os"),
            Self::SeededForTests { .. } => f.write_str("SeededForTests { seed: [redacted] }"),
        }
    }
}

impl Randomness {
    /// A generator from this source.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a seed that is not 32 bytes; `UNKNOWN` when the operating system's
    /// generator fails.
    pub(crate) fn generator(&self) -> Result<ChaCha20Rng, Error> {
        match self {
            Self::Os => ChaCha20Rng::try_from_rng(&mut getrandom::SysRng)
                .map_err(|e| Error::Vault(VaultError::Random(e.to_string()))),
            Self::SeededForTests { seed } => {
                let seed: Zeroizing<[u8; 32]> = Zeroizing::new(seed.as_slice().try_into().map_err(|_| {
                    Error::Vault(VaultError::InvalidArgument(format!("a seed is 32 bytes, not {}", seed.len())))
                })?);
                Ok(ChaCha20Rng::from_seed(*seed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand_core::Rng;

    fn draw(r: &Randomness) -> [u8; 32] {
        let mut out = [0u8; 32];
        r.generator().unwrap().fill_bytes(&mut out);
        out
    }

    #[test]
    fn a_seed_repeats_and_the_os_does_not() {
        let seeded = Randomness::SeededForTests { seed: vec![7; 32] };
        assert_eq!(draw(&seeded), draw(&seeded));
        assert_ne!(draw(&seeded), draw(&Randomness::SeededForTests { seed: vec![8; 32] }));
        assert_ne!(draw(&Randomness::Os), draw(&Randomness::Os));
    }

    #[test]
    fn a_seed_of_another_length_is_refused_and_never_printed() {
        let short = Randomness::SeededForTests { seed: vec![7; 31] };
        assert_eq!(short.generator().err().map(|e| e.code()), Some(zfc_core::code::INVALID_ARGUMENT));
        assert_eq!(
            format!("{:?}", Randomness::SeededForTests { seed: vec![0xab; 32] }),
            "SeededForTests { seed: [redacted] }"
        );
    }
}
