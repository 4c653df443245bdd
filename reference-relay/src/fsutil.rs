//! Small file-system helpers shared by the relay's key file and the `zfc` client's state.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Creates `dir` (and its parents) readable by its owner only: it holds keys or sealed state.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Writes `bytes` to `path` through `tmp`: a fresh file of mode 0600, synced, then renamed over
/// `path` and the directory synced, so that a crash leaves the old or the whole new file, never a
/// short one. `tmp` must be in `path`'s directory and unique to its writer.
pub fn write_atomic(path: &Path, tmp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // A leftover from a crash is replaced, not written through: it may be a link or have a looser
    // mode.
    let _ = fs::remove_file(tmp);
    let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(tmp, path)?;
    if let Some(parent) = path.parent() {
        fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}
