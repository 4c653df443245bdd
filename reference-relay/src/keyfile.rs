//! The relay's static link key: generated on first start, kept in the data directory (mode 0600),
//! and printed as the public key that invites carry.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, UnwrapErr};
use zeroize::Zeroizing;
use zfc_core::link::RelayKey;

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
            // Written aside, synced, then renamed and the directory synced: a crash leaves no key
            // or the whole key, never a short file.
            let tmp = dir.join(format!("{KEY_FILE}.tmp"));
            let _ = fs::remove_file(&tmp);
            let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
            f.write_all(Zeroizing::new(key.to_bytes()).as_slice())?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            fs::File::open(dir)?.sync_all()?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

/// The public key in hex and in eight groups for reading aloud.
pub fn describe(key: &RelayKey) -> (String, String) {
    let hex = hex::encode(key.public());
    let groups: Vec<&str> = (0..8).filter_map(|i| hex.get(i * 8..i * 8 + 8)).collect();
    (hex.clone(), groups.join(" "))
}
