//! The relay's static link key: generated on first start, kept in the data directory (mode 0600),
//! and printed as the public key that invites carry.

use std::fs;
use std::path::Path;

use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, UnwrapErr};
use zeroize::Zeroizing;
use zfc_core::link::RelayKey;

use crate::fsutil;

const KEY_FILE: &str = "relay.key";

/// Loads the relay key from `dir`, generating and storing one if there is none; (re)writes the
/// public key to `relay.pub` for clients on the same machine.
pub fn load_or_create(dir: &Path) -> std::io::Result<RelayKey> {
    let key = load_or_generate(dir)?;
    fs::write(dir.join("relay.pub"), format!("{}\n", hex::encode(key.public())))?;
    Ok(key)
}

fn load_or_generate(dir: &Path) -> std::io::Result<RelayKey> {
    let path = dir.join(KEY_FILE);
    match fs::read(&path) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            let arr: Zeroizing<[u8; 32]> = Zeroizing::new(bytes.as_slice().try_into().map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{} is not 32 bytes", path.display()))
            })?);
            Ok(RelayKey::from_bytes(*arr))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = RelayKey::generate(&mut ChaCha20Rng::from_rng(&mut UnwrapErr(getrandom::SysRng)));
            let secret = Zeroizing::new(key.to_bytes());
            fsutil::write_atomic(&path, &dir.join(format!("{KEY_FILE}.tmp")), secret.as_slice())?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

/// The public key in hex and in eight groups for reading aloud.
pub fn describe(key: &RelayKey) -> (String, String) {
    let hex = hex::encode(key.public());
    let groups = (0..8).filter_map(|i| hex.get(i * 8..i * 8 + 8)).collect::<Vec<_>>().join(" ");
    (hex, groups)
}

/// A 32-byte key or token written as 64 hex digits (surrounding whitespace ignored).
pub fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    hex::decode(text.trim()).ok()?.try_into().ok()
}
