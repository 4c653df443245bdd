//! [`RelayAddress`]: where a room lives: the relay's WebSocket address and its pinned link key.
//!
//! Invariant: a `RelayAddress` always holds a `ws://` or `wss://` address of at most
//! [`RelayAddress::MAX_URL_LEN`] bytes without control characters, and a 32-byte key; the
//! connection key of a room is the pair, compared byte for byte (spec §16.7: the address is
//! dialled as written).

use zfc_core::RelayPublicKey;

use crate::Error;
use crate::vault::VaultError;

/// A relay: the address to dial and the X25519 key its link must prove (from the invite, or
/// from the operator's `relay.pub` for an owner).
#[cfg_attr(feature = "uniffi", derive(uniffi::Object))]
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelayAddress {
    url: String,
    key: [u8; 32],
}

impl RelayAddress {
    /// Longest address accepted (bytes of UTF-8).
    pub const MAX_URL_LEN: usize = 2048;

    /// A relay address from its URL and its 32-byte public key.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` ([`VaultError::InvalidArgument`]) when the key is not 32 bytes, or the URL does not start
    /// with `ws://` or `wss://`, is longer than [`Self::MAX_URL_LEN`] or holds a control
    /// character or white space.
    pub fn new(url: &str, key: &[u8]) -> Result<Self, Error> {
        let invalid = |what: &str| Error::Vault(VaultError::InvalidArgument(what.into()));
        let key: [u8; 32] = key.try_into().map_err(|_| invalid("a relay key is 32 bytes"))?;
        let scheme_ok = url.starts_with("ws://") || url.starts_with("wss://");
        if !scheme_ok || url.len() > Self::MAX_URL_LEN || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid("a relay address is ws:// or wss://, at most 2048 bytes, without white space"));
        }
        Ok(Self { url: url.to_owned(), key })
    }

    /// The address to dial, as written.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The relay's link key (32 bytes).
    pub fn key(&self) -> Vec<u8> {
        self.key.to_vec()
    }

    /// The key as stored, for the vault's encoding (spec §17.7).
    pub(crate) fn key_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    /// The key as zfc-core pins it.
    pub fn public_key(&self) -> RelayPublicKey {
        RelayPublicKey::from_bytes(self.key)
    }
}

impl core::fmt::Debug for RelayAddress {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let [a, b, c, d, ..] = self.key;
        write!(f, "RelayAddress({} key {a:02x}{b:02x}{c:02x}{d:02x}…)", self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_websocket_addresses_with_a_32_byte_key() {
        assert!(RelayAddress::new("ws://127.0.0.1:5103", &[7; 32]).is_ok());
        assert!(RelayAddress::new("wss://relay.example/zfc", &[7; 32]).is_ok());
        for (url, key) in [
            ("http://relay", &[7u8; 32][..]),
            ("ws://relay", &[7u8; 31][..]),
            ("ws://re lay", &[7u8; 32][..]),
            ("ws://relay\n", &[7u8; 32][..]),
        ] {
            assert!(matches!(RelayAddress::new(url, key), Err(Error::Vault(VaultError::InvalidArgument(_)))), "{url}");
        }
        let long = format!("ws://{}", "a".repeat(RelayAddress::MAX_URL_LEN));
        assert!(RelayAddress::new(&long, &[7; 32]).is_err());
    }
}
