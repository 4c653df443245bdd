//! The sealed client state (spec §17.7): the per-room pickles, each with the relay its room lives
//! on, in one container, sealed under a key derived from the passphrase once.
//!
//! ```text
//! vault    = "ZFCC" || version u8 (1) || m_cost_kib u32 || t_cost u32 || p_cost u32 || salt (16)
//!            || manifest item || u32 n || n × entry item          (entries in the manifest's order)
//! item     = nonce (24, fresh per seal) || u32 len || XChaCha20-Poly1305(key, nonce, aad, pt)
//! entry    pt = u16 url_len || relay url || relay key (32) || the room's pickle
//!          aad = header || "zfc v1 vault entry" || room_id || kind
//! manifest pt = u64 generation || u32 n || n × (room_id (16) || kind u8 || SHA-256(entry item))
//!          aad = header || "zfc v1 vault manifest"
//! key      = Argon2id(passphrase, salt, m, t, p) -> 32 bytes
//! ```
//!
//! Why this shape: the key is derived once (create, open, passphrase change), so a save costs
//! AEADs, not an Argon2 run; each room is sealed apart and a save re-seals only the rooms that
//! changed, reusing the others' sealed bytes as they are; the manifest, sealed on every save,
//! lists every room with the hash of its sealed entry, so no entry of another save can be swapped
//! in and no room dropped or added without the open failing. Not covered: the whole file replaced
//! by an older one (rollback); [`Vault::generation`] lets an app that keeps the counter elsewhere
//! notice.
//!
//! The crash-safe order (spec §17.6): a call that spends state hands back the state to persist;
//! put it here ([`Vault::put_room`]), [`Vault::seal`], write the blob atomically, and only then
//! write the records that spend it.

mod error;
mod format;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;
use zfc_core::pickle::Argon2Params;
use zfc_core::pickle::StateError;
use zfc_core::{Member, Owner};

use crate::RelayAddress;
pub use error::VaultError;
use format::{Header, Key, Row};

/// A room's id as zfc-core has it.
type RoomId = [u8; 16];

/// Which party a room's pickle holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoomKind {
    /// The room's owner ([`Owner::pickle`]).
    Owner,
    /// A member or joiner ([`Member::pickle`]).
    Member,
}

impl RoomKind {
    /// Its byte in the container (spec §17.7).
    fn code(self) -> u8 {
        match self {
            Self::Owner => 0,
            Self::Member => 1,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Owner),
            1 => Some(Self::Member),
            _ => None,
        }
    }

    /// The magic its pickles start with (spec §17.2).
    fn magic(self) -> &'static [u8; 4] {
        match self {
            Self::Owner => b"ZFCO",
            Self::Member => b"ZFCM",
        }
    }
}

/// Options of a vault: a record with defaults, so that every binding exposes it as is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VaultOptions {
    /// Lets [`Vault::create`] and [`Vault::change_passphrase`] seal with Argon2 parameters below
    /// [`Vault::KDF_FLOOR`] (down to `Argon2Params::MIN`), so that tests run fast. **Never set
    /// it in an app**: a stolen vault sealed that way falls to a passphrase guessing attack.
    /// Loading never needs it (an opened vault keeps its parameters; see
    /// [`Vault::kdf_below_floor`]).
    pub insecure_weak_kdf_for_tests: bool,
}

/// One room as the vault holds it: an owned copy.
#[derive(Clone, PartialEq, Eq)]
pub struct RoomEntry {
    /// The room's id (16 bytes).
    pub room_id: Vec<u8>,
    /// Which party the pickle holds.
    pub kind: RoomKind,
    /// The relay the room lives on: the address to dial and the link key it must prove.
    pub relay: RelayAddress,
    /// The pickle, as `Owner::pickle` / `Member::pickle` wrote it (every key of the party:
    /// zeroized on drop); load it with `Owner::unpickle` / `Member::unpickle`.
    pub pickle: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for RoomEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RoomEntry")
            .field("room_id", &hex(&self.room_id))
            .field("kind", &self.kind)
            .field("relay", &self.relay)
            .field("pickle", &format_args!("[redacted, {} bytes]", self.pickle.len()))
            .finish()
    }
}

/// A room's relay and pickle and, while neither has changed since, its sealed entry.
struct Room {
    kind: RoomKind,
    relay: RelayAddress,
    pickle: Zeroizing<Vec<u8>>,
    /// `None` until the next save seals it ("dirty").
    sealed: Option<Sealed>,
}

/// A sealed entry as written, and the hash the manifest lists for it.
struct Sealed {
    bytes: Vec<u8>,
    hash: [u8; 32],
}

/// An open vault's contents; dropped (key and pickles zeroized) on close.
struct Inner {
    header: Header,
    key: Key,
    options: VaultOptions,
    /// The last save's counter (0 before the first save of a new vault).
    generation: u64,
    rooms: BTreeMap<RoomId, Room>,
    /// The manifest must change though no room is dirty: a room was removed since the last save
    /// (removals seal nothing), or the vault was never saved.
    manifest_changed: bool,
    rng: ChaCha20Rng,
}

/// The sealed client state: every room's pickle and relay, sealed under one passphrase (spec
/// §17.7).
///
/// The calls named *long* run Argon2id (with the default parameters 126 ms on the project's 2-core
/// test machine, `bench client`; several times that on a phone or in a debug build; run them
/// off the UI thread); every other call is fast: [`Self::seal`] costs one AEAD per room that
/// changed plus one for the manifest. After [`Self::close`] every call fails with
/// [`VaultError::Closed`]. A failed call changes nothing.
pub struct Vault {
    inner: Option<Inner>,
}

impl core::fmt::Debug for Vault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Some(i) = &self.inner else {
            return f.write_str("Vault { closed }");
        };
        let owners = i.rooms.values().filter(|r| r.kind == RoomKind::Owner).count();
        f.debug_struct("Vault")
            .field("rooms", &i.rooms.len())
            .field("owner_rooms", &owners)
            .field("generation", &i.generation)
            .field("params", &i.header.params)
            .field("unsaved", &i.unsaved())
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// The least Argon2id cost [`Self::create`] and [`Self::change_passphrase`] accept without
    /// [`VaultOptions::insecure_weak_kdf_for_tests`]: 19 MiB, 2 iterations, 1 lane, OWASP's
    /// minimum for Argon2id (Password Storage Cheat Sheet). Apps should use
    /// `Argon2Params::DEFAULT` (64 MiB, t = 3: RFC 9106's second recommended option, with one
    /// lane). Memory and iterations must each reach the floor.
    pub const KDF_FLOOR: Argon2Params = Argon2Params { m_cost_kib: 19 * 1024, t_cost: 2, p_cost: 1 };

    /// An empty vault under `passphrase`. **Long**: derives the key (Argon2id with `params`).
    ///
    /// # Errors
    /// [`VaultError::Argon2Params`] outside zfc-core's bounds; [`VaultError::WeakKdf`] below
    /// [`Self::KDF_FLOOR`] without the test option; [`VaultError::Random`].
    pub fn create(passphrase: &[u8], params: Argon2Params, options: VaultOptions) -> Result<Self, VaultError> {
        Self::create_with_rng(passphrase, params, options, os_rng()?)
    }

    /// [`Self::create`] drawing salt and nonces from `rng` (tests and vectors seed it).
    pub(crate) fn create_with_rng(
        passphrase: &[u8],
        params: Argon2Params,
        options: VaultOptions,
        mut rng: ChaCha20Rng,
    ) -> Result<Self, VaultError> {
        check_floor(params, options)?;
        let header = Header { params, salt: salt(&mut rng) };
        let key = format::derive(passphrase, &header)?;
        Ok(Self {
            inner: Some(Inner {
                header,
                key,
                options,
                generation: 0,
                rooms: BTreeMap::new(),
                manifest_changed: true,
                rng,
            }),
        })
    }

    /// Opens a sealed vault. **Long**: derives the key (Argon2id with the blob's parameters,
    /// any within zfc-core's bounds: the floor applies to sealing, not loading). The rooms'
    /// pickles are checked for their kind's magic, not loaded: `Owner::unpickle` /
    /// `Member::unpickle` do that when the client loads a room.
    ///
    /// # Errors
    /// In the order of spec §17.7: [`VaultError::Malformed`] (also for a `ZFCS` single-room
    /// blob: import it), [`VaultError::UnsupportedVersion`], [`VaultError::Argon2Params`] (before
    /// any allocation or derivation), [`VaultError::WrongPassphrase`], then
    /// [`VaultError::Malformed`] for an entry that does not match the manifest or whose relay
    /// part is malformed.
    pub fn open(blob: &[u8], passphrase: &[u8], options: VaultOptions) -> Result<Self, VaultError> {
        Self::open_with_rng(blob, passphrase, options, os_rng()?)
    }

    pub(crate) fn open_with_rng(
        blob: &[u8],
        passphrase: &[u8],
        options: VaultOptions,
        rng: ChaCha20Rng,
    ) -> Result<Self, VaultError> {
        let parsed = format::parse(blob)?;
        let key = format::derive(passphrase, &parsed.header)?;
        let manifest = format::open_item(&key, parsed.manifest, &format::manifest_aad(parsed.header_bytes))
            .ok_or(VaultError::WrongPassphrase)?;
        let (generation, rows) = format::parse_manifest(&manifest)?;
        if rows.len() != parsed.entries.len() {
            return Err(VaultError::malformed("the manifest lists another number of rooms"));
        }
        let mut rooms = BTreeMap::new();
        for (row, entry) in rows.iter().zip(&parsed.entries) {
            let hash = format::entry_hash(entry);
            if !bool::from(hash.ct_eq(&row.hash)) {
                return Err(VaultError::malformed("a room's entry does not match the manifest"));
            }
            let pt = format::open_item(&key, entry, &format::entry_aad(parsed.header_bytes, &row.room_id, row.kind))
                .ok_or_else(|| VaultError::malformed("a room's entry does not open"))?;
            let (relay, pickle) = format::parse_entry(&pt)?;
            if !pickle.starts_with(row.kind.magic()) {
                return Err(VaultError::malformed("a room's pickle is not of its kind"));
            }
            let sealed = Sealed { bytes: entry.to_vec(), hash };
            let pickle = Zeroizing::new(pickle.to_vec());
            rooms.insert(row.room_id, Room { kind: row.kind, relay, pickle, sealed: Some(sealed) });
        }
        Ok(Self {
            inner: Some(Inner { header: parsed.header, key, options, generation, rooms, manifest_changed: false, rng }),
        })
    }

    /// Stores a room's pickle and the relay it lives on (a new room, or the room's newer state);
    /// the next [`Self::seal`] seals it. Call it with the state a zfc-core call hands back,
    /// before its records leave. The relay given replaces the one held, if it differs (the room
    /// moved, or its relay's address or key changed): the vault keeps what it is told last.
    ///
    /// # Errors
    /// [`VaultError::InvalidArgument`] for a room id that is not 16 bytes, or a pickle that is
    /// not of `kind` (its magic) or longer than zfc-core loads; [`VaultError::RoomExists`] when
    /// the vault holds the room as the other kind; [`VaultError::Closed`].
    pub fn put_room(
        &mut self,
        room_id: &[u8],
        kind: RoomKind,
        relay: &RelayAddress,
        pickle: &[u8],
    ) -> Result<(), VaultError> {
        let inner = self.inner_mut()?;
        let id = room_id_of(room_id)?;
        if !pickle.starts_with(kind.magic()) {
            return Err(VaultError::InvalidArgument(format!("the pickle is not of kind {kind:?}")));
        }
        if pickle.len() > format::MAX_PICKLE {
            return Err(VaultError::InvalidArgument("the pickle is longer than zfc-core loads".into()));
        }
        match inner.rooms.get(&id) {
            Some(r) if r.kind != kind => return Err(VaultError::RoomExists),
            None if inner.rooms.len() >= format::MAX_ROOMS => {
                return Err(VaultError::InvalidArgument("the vault is full".into()));
            }
            _ => {}
        }
        let room = Room { kind, relay: relay.clone(), pickle: Zeroizing::new(pickle.to_vec()), sealed: None };
        inner.rooms.insert(id, room);
        Ok(())
    }

    /// [`Self::put_room`] with the owner's id and pickle, on `relay`.
    ///
    /// # Errors
    /// As [`Self::put_room`].
    pub fn put_owner(&mut self, owner: &Owner, relay: &RelayAddress) -> Result<(), VaultError> {
        self.put_room(&owner.room_id(), RoomKind::Owner, relay, &owner.pickle())
    }

    /// [`Self::put_room`] with the member's id and pickle, on `relay`.
    ///
    /// # Errors
    /// As [`Self::put_room`].
    pub fn put_member(&mut self, member: &Member, relay: &RelayAddress) -> Result<(), VaultError> {
        self.put_room(&member.room_id(), RoomKind::Member, relay, &member.pickle())
    }

    /// Drops a room and its keys; the next [`Self::seal`] leaves it out.
    ///
    /// # Errors
    /// [`VaultError::NoSuchRoom`], [`VaultError::InvalidArgument`], [`VaultError::Closed`].
    pub fn remove_room(&mut self, room_id: &[u8]) -> Result<(), VaultError> {
        let inner = self.inner_mut()?;
        inner.rooms.remove(&room_id_of(room_id)?).ok_or(VaultError::NoSuchRoom)?;
        inner.manifest_changed = true;
        Ok(())
    }

    /// An owned copy of a room: kind, relay and pickle; `None` if the vault does not hold it.
    ///
    /// # Errors
    /// [`VaultError::InvalidArgument`], [`VaultError::Closed`].
    pub fn room(&self, room_id: &[u8]) -> Result<Option<RoomEntry>, VaultError> {
        let inner = self.inner()?;
        let id = room_id_of(room_id)?;
        Ok(inner.rooms.get(&id).map(|r| RoomEntry {
            room_id: id.to_vec(),
            kind: r.kind,
            relay: r.relay.clone(),
            pickle: r.pickle.clone(),
        }))
    }

    /// The relay a room lives on, without copying its pickle; `None` if the vault does not hold
    /// the room.
    ///
    /// # Errors
    /// [`VaultError::InvalidArgument`], [`VaultError::Closed`].
    pub fn relay(&self, room_id: &[u8]) -> Result<Option<RelayAddress>, VaultError> {
        let inner = self.inner()?;
        Ok(inner.rooms.get(&room_id_of(room_id)?).map(|r| r.relay.clone()))
    }

    /// The ids of every room held, in ascending order.
    ///
    /// # Errors
    /// [`VaultError::Closed`].
    pub fn rooms(&self) -> Result<Vec<Vec<u8>>, VaultError> {
        Ok(self.inner()?.rooms.keys().map(|id| id.to_vec()).collect())
    }

    /// The counter of the last save (or of the save that was opened): every [`Self::seal`]
    /// writes one more. An app that keeps it outside the vault (a keystore) can tell that the
    /// whole file was replaced by an older one, which the vault itself cannot.
    ///
    /// # Errors
    /// [`VaultError::Closed`].
    pub fn generation(&self) -> Result<u64, VaultError> {
        Ok(self.inner()?.generation)
    }

    /// The Argon2id parameters the vault is sealed with.
    ///
    /// # Errors
    /// [`VaultError::Closed`].
    pub fn params(&self) -> Result<Argon2Params, VaultError> {
        Ok(self.inner()?.header.params)
    }

    /// Whether the parameters are below [`Self::KDF_FLOOR`] (a vault opened from an old or a
    /// test blob): [`Self::change_passphrase`], even to the same passphrase, raises them.
    ///
    /// # Errors
    /// [`VaultError::Closed`].
    pub fn kdf_below_floor(&self) -> Result<bool, VaultError> {
        Ok(below_floor(self.inner()?.header.params))
    }

    /// Whether anything changed since the last [`Self::seal`] (or since creation).
    ///
    /// # Errors
    /// [`VaultError::Closed`].
    pub fn has_unsaved_changes(&self) -> Result<bool, VaultError> {
        Ok(self.inner()?.unsaved())
    }

    /// The sealed vault to persist (write it atomically: write, fsync, rename). No Argon2: one
    /// AEAD per room changed since the last seal, each with a fresh nonce, and one for the
    /// manifest; the other rooms' sealed entries are written as they were.
    ///
    /// # Errors
    /// [`VaultError::Closed`].
    pub fn seal(&mut self) -> Result<Vec<u8>, VaultError> {
        Ok(self.inner_mut()?.seal())
    }

    /// Changes the passphrase and the Argon2id parameters (also to raise the parameters of an
    /// old blob: pass the same passphrase). **Long**: two Argon2id runs (checking `current`,
    /// deriving the new key). A new salt; every room is sealed again. Returns the sealed vault:
    /// persist it; until then the file on disk opens with the old passphrase.
    ///
    /// # Errors
    /// [`VaultError::Argon2Params`], [`VaultError::WeakKdf`] (for `params`),
    /// [`VaultError::WrongPassphrase`] when `current` is not the vault's passphrase,
    /// [`VaultError::Random`], [`VaultError::Closed`]; nothing changes then.
    pub fn change_passphrase(
        &mut self,
        current: &[u8],
        new: &[u8],
        params: Argon2Params,
    ) -> Result<Vec<u8>, VaultError> {
        let inner = self.inner_mut()?;
        check_floor(params, inner.options)?;
        let check = format::derive(current, &inner.header)?;
        if !bool::from(check.expose().ct_eq(inner.key.expose())) {
            return Err(VaultError::WrongPassphrase);
        }
        let header = Header { params, salt: salt(&mut inner.rng) };
        let key = format::derive(new, &header)?;
        inner.header = header;
        inner.key = key;
        for room in inner.rooms.values_mut() {
            room.sealed = None;
        }
        Ok(inner.seal())
    }

    /// Imports a single-room sealed state (zfc-core's `ZFCS` envelope, spec §17.3, any pickle
    /// version it loads, e.g. version 1) as a room on `relay` (the envelope does not name its
    /// relay) and returns its room id; the next [`Self::seal`] adds it. **Long**: opens it with zfc-core (`Owner::open_state`; a member's blob takes a second
    /// Argon2id run, `Member::open_state`, as the envelope does not say which party it holds).
    ///
    /// # Errors
    /// [`VaultError::State`] with zfc-core's error (a wrong password is
    /// `Error::State(StateError::WrongPassword)`); [`VaultError::RoomExists`] when the vault
    /// already holds the room (an import never overwrites a newer state); [`VaultError::Closed`].
    pub fn import_sealed_room(
        &mut self,
        blob: &[u8],
        password: &[u8],
        relay: &RelayAddress,
    ) -> Result<Vec<u8>, VaultError> {
        self.inner()?;
        let (id, kind, pickle) = match Owner::open_state(blob, password) {
            Ok(owner) => (owner.room_id(), RoomKind::Owner, owner.pickle()),
            Err(zfc_core::Error::State(StateError::WrongKind)) => {
                let member = Member::open_state(blob, password).map_err(VaultError::State)?;
                (member.room_id(), RoomKind::Member, member.pickle())
            }
            Err(e) => return Err(VaultError::State(e)),
        };
        if self.inner()?.rooms.contains_key(&id) {
            return Err(VaultError::RoomExists);
        }
        self.put_room(&id, kind, relay, &pickle)?;
        Ok(id.to_vec())
    }

    /// Erases the key and every room (zeroized); every later call fails with
    /// [`VaultError::Closed`]. Closing again does nothing. What was not sealed and persisted is
    /// lost.
    pub fn close(&mut self) {
        self.inner = None;
    }

    /// Whether [`Self::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.is_none()
    }

    fn inner(&self) -> Result<&Inner, VaultError> {
        self.inner.as_ref().ok_or(VaultError::Closed)
    }

    fn inner_mut(&mut self) -> Result<&mut Inner, VaultError> {
        self.inner.as_mut().ok_or(VaultError::Closed)
    }
}

impl Inner {
    fn unsaved(&self) -> bool {
        self.manifest_changed || self.rooms.values().any(|r| r.sealed.is_none())
    }

    /// Seals the rooms that changed and a new manifest; assembles the container.
    fn seal(&mut self) -> Vec<u8> {
        let header = self.header.bytes();
        let mut rows = Vec::with_capacity(self.rooms.len());
        for (id, room) in &mut self.rooms {
            let sealed = room.sealed.get_or_insert_with(|| {
                let bytes = format::seal_item(
                    &self.key,
                    &format::entry_aad(&header, id, room.kind),
                    &format::entry_plaintext(&room.relay, &room.pickle),
                    &mut self.rng,
                );
                Sealed { hash: format::entry_hash(&bytes), bytes }
            });
            rows.push(Row { room_id: *id, kind: room.kind, hash: sealed.hash });
        }
        // 2^64 saves are out of reach; saturating keeps the code free of overflow paths.
        self.generation = self.generation.saturating_add(1);
        self.manifest_changed = false;
        let manifest = format::manifest(self.generation, &rows);
        let manifest = format::seal_item(&self.key, &format::manifest_aad(&header), &manifest, &mut self.rng);
        let entries: usize = self.rooms.values().filter_map(|r| r.sealed.as_ref()).map(|s| s.bytes.len()).sum();
        let mut out = Vec::with_capacity(header.len() + manifest.len() + 4 + entries);
        out.extend_from_slice(&header);
        out.extend_from_slice(&manifest);
        out.extend_from_slice(&(self.rooms.len() as u32).to_be_bytes());
        for sealed in self.rooms.values().filter_map(|r| r.sealed.as_ref()) {
            out.extend_from_slice(&sealed.bytes);
        }
        out
    }
}

fn below_floor(p: Argon2Params) -> bool {
    p.m_cost_kib < Vault::KDF_FLOOR.m_cost_kib || p.t_cost < Vault::KDF_FLOOR.t_cost
}

/// Bounds first (a value no loader accepts), then the floor unless the test option is set.
fn check_floor(params: Argon2Params, options: VaultOptions) -> Result<(), VaultError> {
    format::check_bounds(params)?;
    if below_floor(params) && !options.insecure_weak_kdf_for_tests {
        return Err(VaultError::WeakKdf {
            m_cost_kib: params.m_cost_kib,
            t_cost: params.t_cost,
            p_cost: params.p_cost,
        });
    }
    Ok(())
}

fn room_id_of(room_id: &[u8]) -> Result<RoomId, VaultError> {
    room_id.try_into().map_err(|_| VaultError::InvalidArgument(format!("a room id is 16 bytes, not {}", room_id.len())))
}

fn salt(rng: &mut ChaCha20Rng) -> [u8; format::SALT_LEN] {
    let mut salt = [0u8; format::SALT_LEN];
    rand_core::Rng::fill_bytes(rng, &mut salt);
    salt
}

/// A generator seeded from the operating system, for salts and nonces.
fn os_rng() -> Result<ChaCha20Rng, VaultError> {
    crate::Randomness::Os.generator().map_err(|e| match e {
        crate::Error::Vault(v) => v,
        other => VaultError::Random(other.to_string()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
