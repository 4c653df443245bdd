//! The container's bytes (spec §17.7): header, sealed items, manifest, the key derivation and
//! the parser. No state: [`super::Vault`] decides what is sealed when.

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};
use zfc_core::pickle::Argon2Params;

use super::{RoomKind, VaultError};
use crate::RelayAddress;

/// The container's magic: "zfc client".
pub(super) const MAGIC: &[u8; 4] = b"ZFCC";
/// zfc-core's single-room sealed envelope (§17.3): named in the error of opening one here.
const SEALED_ROOM_MAGIC: &[u8; 4] = b"ZFCS";
/// The container's version.
pub(super) const VERSION: u8 = 1;
/// magic 4 || version 1 || m, t, p 3 × 4 || salt 16.
pub(super) const HEADER_LEN: usize = 33;
pub(super) const SALT_LEN: usize = 16;
pub(super) const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Most rooms a vault holds.
pub(super) const MAX_ROOMS: usize = 1 << 16;
/// Largest pickle (zfc-core's loader refuses longer ones, spec §17.2).
pub(super) const MAX_PICKLE: usize = 64 * 1024 * 1024;
/// Shortest relay address an entry holds: `ws://` (what [`RelayAddress::new`] accepts at least).
const MIN_URL_LEN: usize = 5;
/// An entry's relay part at its longest: url_len 2 || url || key 32.
const MAX_RELAY: usize = 2 + RelayAddress::MAX_URL_LEN + 32;
/// Largest entry plaintext: the relay part, then the pickle.
const MAX_ENTRY: usize = MAX_RELAY + MAX_PICKLE;
/// A manifest row: room id 16 || kind 1 || entry hash 32.
const ROW_LEN: usize = 16 + 1 + 32;
/// Largest manifest plaintext: generation 8 || count 4 || rows.
const MAX_MANIFEST: usize = 8 + 4 + MAX_ROOMS * ROW_LEN;
/// The AEADs' domain labels (spec §18): an entry can never be read as the manifest or the reverse.
const MANIFEST_LABEL: &[u8] = b"zfc v1 vault manifest";
const ENTRY_LABEL: &[u8] = b"zfc v1 vault entry";

/// The passphrase key: derived once per create, open or passphrase change; boxed so that moves
/// leave no copies, zeroized on drop, never printed.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(super) struct Key(Box<[u8; 32]>);

impl Key {
    pub(super) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Key([redacted])")
    }
}

/// What the header fixes: the costs and the salt, both until the passphrase changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Header {
    pub(super) params: Argon2Params,
    pub(super) salt: [u8; SALT_LEN],
}

impl Header {
    pub(super) fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        for n in [self.params.m_cost_kib, self.params.t_cost, self.params.p_cost] {
            out.extend_from_slice(&n.to_be_bytes());
        }
        out.extend_from_slice(&self.salt);
        out
    }
}

#[cfg(test)]
thread_local! {
    /// Argon2id runs on this thread: the test that a save derives nothing counts them.
    pub(super) static DERIVATIONS: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// zfc-core's bounds (spec §17.3), checked before any Argon2 work or allocation.
pub(super) fn check_bounds(p: Argon2Params) -> Result<(), VaultError> {
    let (min, max) = (Argon2Params::MIN, Argon2Params::MAX);
    let ok = (min.t_cost..=max.t_cost).contains(&p.t_cost)
        && (min.p_cost..=max.p_cost).contains(&p.p_cost)
        && p.m_cost_kib <= max.m_cost_kib
        && u64::from(p.m_cost_kib) >= 8 * u64::from(p.p_cost);
    if ok { Ok(()) } else { Err(bounds_error(p)) }
}

fn bounds_error(p: Argon2Params) -> VaultError {
    VaultError::Argon2Params { m_cost_kib: p.m_cost_kib, t_cost: p.t_cost, p_cost: p.p_cost }
}

/// key = Argon2id v1.3 (passphrase, salt, m, t, p) -> 32 bytes: the one slow step.
pub(super) fn derive(passphrase: &[u8], header: &Header) -> Result<Key, VaultError> {
    let p = header.params;
    check_bounds(p)?;
    #[cfg(test)]
    DERIVATIONS.with(|n| n.set(n.get() + 1));
    let params = argon2::Params::new(p.m_cost_kib, p.t_cost, p.p_cost, Some(32)).map_err(|_| bounds_error(p))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Key(Box::new([0u8; 32]));
    argon.hash_password_into(passphrase, &header.salt, key.0.as_mut()).map_err(|_| bounds_error(p))?;
    Ok(key)
}

/// AAD of the manifest: header || label.
pub(super) fn manifest_aad(header: &[u8]) -> Vec<u8> {
    [header, MANIFEST_LABEL].concat()
}

/// AAD of a room's entry: header || label || room id || kind, so an entry opens only as the
/// room and kind it was sealed for, in this vault under this passphrase.
pub(super) fn entry_aad(header: &[u8], room_id: &[u8; 16], kind: RoomKind) -> Vec<u8> {
    [header, ENTRY_LABEL, room_id.as_slice(), &[kind.code()]].concat()
}

/// A sealed item: nonce (24, fresh) || u32 len || XChaCha20-Poly1305(key, nonce, aad, pt).
pub(super) fn seal_item(key: &Key, aad: &[u8], pt: &[u8], rng: &mut impl CryptoRng) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    seal_item_with(key, &nonce, aad, pt)
}

pub(super) fn seal_item_with(key: &Key, nonce: &[u8; NONCE_LEN], aad: &[u8], pt: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    // Encryption fails only beyond 256 GiB; an entry is at most MAX_ENTRY.
    let ct = cipher.encrypt(nonce.into(), Payload { msg: pt, aad }).unwrap_or_default();
    let mut out = Vec::with_capacity(NONCE_LEN + 4 + ct.len());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&(ct.len() as u32).to_be_bytes());
    out.extend_from_slice(&ct);
    out
}

/// Opens an item the parser has already cut (nonce || len || ct); `None` when the tag fails.
pub(super) fn open_item(key: &Key, item: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let (nonce, rest) = item.split_first_chunk::<NONCE_LEN>()?;
    let ct = rest.get(4..)?;
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    cipher.decrypt(nonce.into(), Payload { msg: ct, aad }).ok().map(Zeroizing::new)
}

/// An entry's plaintext: u16 url_len || url || relay key 32 || pickle (zeroized on drop: it
/// holds the pickle).
pub(super) fn entry_plaintext(relay: &RelayAddress, pickle: &[u8]) -> Zeroizing<Vec<u8>> {
    let url = relay.url().as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(2 + url.len() + 32 + pickle.len()));
    // RelayAddress holds at most MAX_URL_LEN (2048) bytes: the length fits a u16.
    out.extend_from_slice(&(url.len() as u16).to_be_bytes());
    out.extend_from_slice(url);
    out.extend_from_slice(relay.key_bytes());
    out.extend_from_slice(pickle);
    out
}

/// Reads an entry's plaintext into its relay and its pickle (a part of `pt`). The url's length
/// is checked against its bounds and against what is left before the url is read; a url that is
/// not UTF-8 or that [`RelayAddress::new`] refuses, or a pickle longer than [`MAX_PICKLE`], is
/// malformed.
pub(super) fn parse_entry(pt: &[u8]) -> Result<(RelayAddress, &[u8]), VaultError> {
    let mut r = Reader(pt);
    let url_len = usize::from(u16::from_be_bytes(r.array()?));
    if !(MIN_URL_LEN..=RelayAddress::MAX_URL_LEN).contains(&url_len) {
        return Err(VaultError::malformed("entry: relay address length out of bounds"));
    }
    let url = core::str::from_utf8(r.take(url_len)?)
        .map_err(|_| VaultError::malformed("entry: relay address is not UTF-8"))?;
    let key: [u8; 32] = r.array()?;
    let relay = RelayAddress::new(url, &key).map_err(|_| VaultError::malformed("entry: relay address refused"))?;
    if r.0.len() > MAX_PICKLE {
        return Err(VaultError::malformed("entry: pickle longer than zfc-core loads"));
    }
    Ok((relay, r.0))
}

/// SHA-256 of a sealed entry as stored: what the manifest lists for it.
pub(super) fn entry_hash(entry: &[u8]) -> [u8; 32] {
    Sha256::digest(entry).into()
}

/// One row of the manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Row {
    pub(super) room_id: [u8; 16],
    pub(super) kind: RoomKind,
    pub(super) hash: [u8; 32],
}

/// The manifest's plaintext: u64 generation || u32 n || n × (room id 16 || kind u8 || hash 32).
pub(super) fn manifest(generation: u64, rows: &[Row]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + rows.len() * ROW_LEN);
    out.extend_from_slice(&generation.to_be_bytes());
    out.extend_from_slice(&(rows.len() as u32).to_be_bytes());
    for r in rows {
        out.extend_from_slice(&r.room_id);
        out.push(r.kind.code());
        out.extend_from_slice(&r.hash);
    }
    out
}

/// Reads a manifest plaintext; rows in strictly ascending room id, nothing after the last.
pub(super) fn parse_manifest(pt: &[u8]) -> Result<(u64, Vec<Row>), VaultError> {
    let mut r = Reader(pt);
    let generation = u64::from_be_bytes(r.array()?);
    let n = r.count(ROW_LEN)?;
    let mut rows: Vec<Row> = Vec::with_capacity(n);
    for _ in 0..n {
        let room_id = r.array()?;
        let [kind] = r.array()?;
        let kind = RoomKind::from_code(kind).ok_or_else(|| VaultError::malformed("manifest: unknown room kind"))?;
        let hash = r.array()?;
        if rows.last().is_some_and(|last| last.room_id >= room_id) {
            return Err(VaultError::malformed("manifest: rooms out of order"));
        }
        rows.push(Row { room_id, kind, hash });
    }
    r.end("manifest")?;
    Ok((generation, rows))
}

/// A container cut into its parts, nothing opened yet.
pub(super) struct Parsed<'a> {
    pub(super) header: Header,
    pub(super) header_bytes: &'a [u8],
    pub(super) manifest: &'a [u8],
    pub(super) entries: Vec<&'a [u8]>,
}

/// The container = header || manifest item || u32 n || n × entry item. Every length is checked
/// against its bound and against what is left before anything is allocated or derived.
pub(super) fn parse(blob: &[u8]) -> Result<Parsed<'_>, VaultError> {
    let mut r = Reader(blob);
    let magic: [u8; 4] = r.array()?;
    if &magic == SEALED_ROOM_MAGIC {
        return Err(VaultError::malformed("a single-room sealed state (ZFCS): import it into a vault"));
    }
    if &magic != MAGIC {
        return Err(VaultError::malformed("not a client state (magic)"));
    }
    let [version] = r.array()?;
    if version != VERSION {
        return Err(VaultError::UnsupportedVersion(u32::from(version)));
    }
    let params = Argon2Params {
        m_cost_kib: u32::from_be_bytes(r.array()?),
        t_cost: u32::from_be_bytes(r.array()?),
        p_cost: u32::from_be_bytes(r.array()?),
    };
    check_bounds(params)?;
    let salt = r.array()?;
    let header_bytes = blob.get(..HEADER_LEN).ok_or_else(truncated)?;
    let manifest = r.item(MAX_MANIFEST)?;
    let n = r.count(NONCE_LEN + 4 + TAG_LEN)?;
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        entries.push(r.item(MAX_ENTRY)?);
    }
    r.end("container")?;
    Ok(Parsed { header: Header { params, salt }, header_bytes, manifest, entries })
}

fn truncated() -> VaultError {
    VaultError::malformed("truncated")
}

/// A cursor over borrowed bytes; every read is checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], VaultError> {
        let (head, rest) = self.0.split_at_checked(n).ok_or_else(truncated)?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], VaultError> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or_else(truncated)?;
        self.0 = rest;
        Ok(*head)
    }

    /// A u32 count of items at least `min_len` bytes each: at most [`MAX_ROOMS`], and no more
    /// than the bytes left can hold (so a crafted count allocates nothing).
    fn count(&mut self, min_len: usize) -> Result<usize, VaultError> {
        let n = u32::from_be_bytes(self.array()?) as usize;
        if n > MAX_ROOMS || n.saturating_mul(min_len) > self.0.len() {
            return Err(VaultError::malformed("room count out of bounds"));
        }
        Ok(n)
    }

    /// A sealed item whose plaintext is at most `max_pt` bytes; returns it whole.
    fn item(&mut self, max_pt: usize) -> Result<&'a [u8], VaultError> {
        let start = self.0;
        let _nonce: [u8; NONCE_LEN] = self.array()?;
        let len = u32::from_be_bytes(self.array()?) as usize;
        if !(TAG_LEN..=max_pt + TAG_LEN).contains(&len) {
            return Err(VaultError::malformed("sealed item length out of bounds"));
        }
        self.take(len)?;
        start.get(..NONCE_LEN + 4 + len).ok_or_else(truncated)
    }

    fn end(&self, what: &str) -> Result<(), VaultError> {
        if self.0.is_empty() { Ok(()) } else { Err(VaultError::Malformed(format!("{what}: trailing bytes"))) }
    }
}
