//! [`Client`]: every room of one user, on relay connections, with its sealed state.
//!
//! Sans-IO in the manner of quinn-proto: the app owns the sockets and the clock. It runs one
//! loop (see the crate docs): take [`Client::poll_save`] and write it, confirm with
//! [`Client::state_saved`]; do what [`Client::poll_transmit`] asks (dial, send, close); feed
//! what the sockets report to [`Client::handle_connected`], [`Client::handle_bytes`] and
//! [`Client::handle_closed`]; wake at [`Client::next_timeout`] and call
//! [`Client::handle_timeout`]; show [`Client::poll_event`]s. Every `now_ms` is Unix time in
//! milliseconds from the system clock (with [`Clock::System`], the client also reads that clock
//! itself; with [`Clock::Manual`] it takes the newest `now_ms` it was given).
//!
//! Invariants: no record that spends state (a sequence number, a key, a join step, a commit)
//! and no acknowledgement leaves before the app confirmed the save that holds the state that
//! made it, so a crash at any point restores a state that neither reuses what left nor loses
//! what was acknowledged; every call takes the client's one lock and no call blocks on I/O.

mod conn;
mod engine;

use std::sync::{Mutex, MutexGuard};

use rand_core::Rng;
use zeroize::Zeroizing;
use zfc_core::pickle::Argon2Params;
use zfc_core::{HistoryPolicy, Invite, Member, MemberKey, Output, Owner, Party, Phase, RoomConfig};

use crate::content::{Content, Envelope};
use crate::event::ClientEvent;
use crate::vault::{Vault, VaultError, VaultOptions};
use crate::{Error, Randomness, RelayAddress};
use conn::RoomId;
use engine::State;

/// Where the client's time comes from.
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system's clock (what apps use).
    #[default]
    System,
    /// The newest `now_ms` the app passed to a `handle_*` call (tests, simulations).
    Manual,
}

/// How a client behaves: a record with defaults, so that every binding exposes it as is.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// One connection per room instead of one per relay: the relay then cannot link a user's
    /// rooms by their connection (spec §15.2 names what it learns otherwise). Default false.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub connection_per_room: bool,
    /// Interval of the keep-alive on an established connection (ms); a keep-alive unanswered
    /// for a whole interval drops the connection. 0: none. Default 30 000.
    #[cfg_attr(feature = "uniffi", uniffi(default = 30000))]
    pub keepalive_interval_ms: u64,
    /// How long dialling and the link handshake may take (ms). Default 15 000.
    #[cfg_attr(feature = "uniffi", uniffi(default = 15000))]
    pub connect_timeout_ms: u64,
    /// First wait before dialling again after a lost connection (ms); doubles per failure.
    /// Default 500.
    #[cfg_attr(feature = "uniffi", uniffi(default = 500))]
    pub reconnect_initial_ms: u64,
    /// Longest wait between dials (ms). Default 60 000.
    #[cfg_attr(feature = "uniffi", uniffi(default = 60000))]
    pub reconnect_max_ms: u64,
    /// The passphrase's Argon2id cost for a new state or a new passphrase. Default
    /// `Argon2Params::DEFAULT`.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub kdf: Argon2Params,
    /// Allows `kdf` below `Vault::KDF_FLOOR`, so that tests run fast. **Never in an app.**
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub insecure_weak_kdf_for_tests: bool,
    /// Where random bytes come from. Default the operating system. (UniFFI 0.32 gives
    /// Kotlin and Swift no default for an enum field, so there `randomness` and `clock` are named.)
    pub randomness: Randomness,
    /// Where time comes from. Default the system's clock.
    pub clock: Clock,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            connection_per_room: false,
            keepalive_interval_ms: 30_000,
            connect_timeout_ms: 15_000,
            reconnect_initial_ms: 500,
            reconnect_max_ms: 60_000,
            kdf: Argon2Params::DEFAULT,
            insecure_weak_kdf_for_tests: false,
            randomness: Randomness::Os,
            clock: Clock::System,
        }
    }
}

/// A new room's settings: a record with defaults (zfc-core's `RoomConfig`).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoomSettings {
    /// Who may read history from before they joined. Default `SinceLastEpoch` (named in Kotlin
    /// and Swift, which UniFFI 0.32 gives no default for an enum field).
    pub history: HistoryPolicy,
    /// Rotate the room key after this many messages of the owner's view (0: never). Default 100.
    #[cfg_attr(feature = "uniffi", uniffi(default = 100))]
    pub rotate_every: u32,
    /// Epoch keys members keep to read late messages. Default 16.
    #[cfg_attr(feature = "uniffi", uniffi(default = 16))]
    pub retained_epochs: u32,
    /// Approve every valid join request without asking. Default false.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub auto_approve: bool,
}

impl Default for RoomSettings {
    fn default() -> Self {
        let c = RoomConfig::default();
        Self { history: c.policy(), rotate_every: 100, retained_epochs: 16, auto_approve: false }
    }
}

/// What the app's sockets must do next.
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Clone, PartialEq, Eq)]
pub enum Transmit {
    /// Open a WebSocket to `url` (spec §16.7) and report it as `conn`.
    Connect {
        /// The id to report the socket's events with.
        conn: u64,
        /// The address, dialled as written.
        url: String,
    },
    /// Send `bytes` as one binary WebSocket message on `conn`.
    Send {
        /// The socket.
        conn: u64,
        /// One link record.
        bytes: Vec<u8>,
    },
    /// Close `conn` (the client no longer uses it).
    Close {
        /// The socket.
        conn: u64,
        /// Why, for logs and the close frame.
        reason: String,
    },
}

impl core::fmt::Debug for Transmit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Connect { conn, url } => write!(f, "Connect {{ conn: {conn}, url: {url} }}"),
            Self::Send { conn, bytes } => write!(f, "Send {{ conn: {conn}, bytes: [{} bytes] }}", bytes.len()),
            Self::Close { conn, reason } => write!(f, "Close {{ conn: {conn}, reason: {reason} }}"),
        }
    }
}

/// The sealed state to write (atomically: a temporary file renamed over the old one), then to
/// confirm with [`Client::state_saved`].
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Clone, PartialEq, Eq)]
pub struct Save {
    /// The sealed client state (spec §17.7).
    pub bytes: Vec<u8>,
    /// Its generation: pass it to [`Client::state_saved`] once written.
    pub generation: u64,
}

impl core::fmt::Debug for Save {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Save {{ generation: {}, bytes: [{} bytes] }}", self.generation, self.bytes.len())
    }
}

/// A room's part in the client.
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomRole {
    /// We own the room.
    Owner,
    /// Our join waits for the owner's grant or for the commit that adds us.
    Joining,
    /// We are a member.
    Member,
    /// We left, were removed, or the room was deleted: nothing more happens in it.
    Gone,
}

/// A room as the app lists it.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomInfo {
    /// The room's id (16 bytes).
    pub room: Vec<u8>,
    /// The relay's address.
    pub relay_url: String,
    /// The relay's key (32 bytes).
    pub relay_key: Vec<u8>,
    /// Our part.
    pub role: RoomRole,
    /// Our member number (0 for the owner), once a member.
    pub member: Option<u32>,
    /// The room's epoch as we know it, once a member or owner.
    pub epoch: Option<u32>,
    /// The room's members (numbers), ours included.
    pub members: Vec<u32>,
}

/// Every room of one user: the facade apps and bindings use. `Send + Sync`: every call takes
/// one lock; none blocks on I/O. After [`Self::close`] every call fails with `CLOSED`.
#[cfg_attr(feature = "uniffi", derive(uniffi::Object))]
pub struct Client {
    state: Mutex<Option<State>>,
}

/// Dropping the client erases its keys as [`Client::close`] does (bindings free it from a
/// finaliser or `AutoCloseable.close()`, never calling `close` first).
impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.state.lock().as_deref() {
            Ok(Some(s)) => write!(f, "Client {{ rooms: {}, connections: {} }}", s.rooms.len(), s.conns.len()),
            _ => f.write_str("Client { closed }"),
        }
    }
}

fn no_room() -> Error {
    Error::Vault(VaultError::NoSuchRoom)
}

fn room_id(room: &[u8]) -> Result<RoomId, Error> {
    room.try_into().map_err(|_| Error::Core(zfc_core::Error::InvalidArgument("a room id is 16 bytes")))
}

fn options(config: &ClientConfig) -> VaultOptions {
    VaultOptions { insecure_weak_kdf_for_tests: config.insecure_weak_kdf_for_tests }
}

impl Client {
    /// A client with no rooms, its state sealed under `passphrase`. **Long**: derives the
    /// passphrase key (Argon2id with `config.kdf`; ~126 ms with the default on the project's
    /// test machine). The first [`Self::poll_save`] hands out the new state.
    ///
    /// # Errors
    /// `WEAK_KDF` below the floor without the test option; `ARGON2_PARAMS`; `INVALID_ARGUMENT`
    /// for a test seed that is not 32 bytes.
    pub fn create(config: ClientConfig, passphrase: &[u8]) -> Result<Self, Error> {
        let mut rng = config.randomness.generator()?;
        let vault = Vault::create_with_rng(passphrase, config.kdf, options(&config), fork(&mut rng))?;
        Ok(Self { state: Mutex::new(Some(State::new(config, vault, rng, 0))) })
    }

    /// A client from its sealed state. **Long**: derives the passphrase key (Argon2id with the
    /// blob's parameters) and loads every room. Connections are dialled from the first call
    /// that looks at the clock ([`Self::handle_timeout`], or any room call).
    ///
    /// # Errors
    /// `WRONG_PASSWORD` (nothing changes: ask again), `STATE_MALFORMED`, `STATE_VERSION`,
    /// `ARGON2_PARAMS`, or a room's pickle error.
    pub fn open(config: ClientConfig, blob: &[u8], passphrase: &[u8]) -> Result<Self, Error> {
        let mut rng = config.randomness.generator()?;
        let vault = Vault::open_with_rng(blob, passphrase, options(&config), fork(&mut rng))?;
        let saved = vault.generation()?;
        let mut state = State::new(config, vault, rng, saved);
        let now = state.now_ms();
        for id in state.vault.rooms()? {
            state.load(room_id(&id)?, now)?;
        }
        Ok(Self { state: Mutex::new(Some(state)) })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Option<State>>, Error> {
        // A panic inside a call (a bug) poisons the lock: the client then reports itself closed
        // rather than run on a state that may be half updated.
        self.state.lock().map_err(|_| Error::Vault(VaultError::Closed))
    }

    /// Runs `f` on the open state, then dials what became due.
    fn with<T>(&self, f: impl FnOnce(&mut State, u64) -> Result<T, Error>) -> Result<T, Error> {
        let mut guard = self.lock()?;
        let state = guard.as_mut().ok_or(Error::Vault(VaultError::Closed))?;
        let now = state.now_ms();
        let out = f(state, now)?;
        state.dial_due(now);
        Ok(out)
    }

    /// Erases every key and room of the client; later calls fail with `CLOSED`. Sockets are the
    /// app's to close.
    pub fn close(&self) {
        // Even after a panic inside a call (a bug: the lock is poisoned) the keys are erased.
        let mut guard = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(mut s) = guard.take() {
            s.vault.close();
        }
    }

    /// Whether [`Self::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.state.lock().map_or(true, |g| g.is_none())
    }

    /// The operator's admission token for `relay` (32 bytes): presented (Admit, spec §6.10) on
    /// every connection to it that carries a room creation. Kept in memory only: set it at
    /// every start. With a token set, a creation refused as restricted is tried again.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a token that is not 32 bytes; `CLOSED`.
    pub fn set_admission_token(&self, relay: &RelayAddress, token: &[u8]) -> Result<(), Error> {
        let token: [u8; 32] =
            token.try_into().map_err(|_| Error::Core(zfc_core::Error::InvalidArgument("a token is 32 bytes")))?;
        self.with(|s, _| {
            s.tokens.insert(relay.clone(), Zeroizing::new(token));
            Ok(())
        })
    }

    // ---- rooms ----

    /// Creates a room on `relay`; returns its id. Its creation leaves on the next connection.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for settings zfc-core refuses; `CLOSED`.
    pub fn create_room(&self, relay: &RelayAddress, settings: RoomSettings) -> Result<Vec<u8>, Error> {
        let config = RoomConfig::builder()
            .history_policy(settings.history)
            .rotate_every(settings.rotate_every)
            .retained_epochs(settings.retained_epochs)
            .auto_approve(settings.auto_approve)
            .build()?;
        self.with(|s, now| {
            let (owner, out) = Owner::create(config, &mut s.rng);
            let id = owner.room_id();
            // The CreateRoom is held for the room's first link (zfc-core counts it as sent
            // there) and leaves ahead of the answer to the challenge.
            s.attach(id, Party::Owner(Box::new(owner)), relay.clone(), now)?;
            s.apply(id, out, now).inspect_err(|_| s.forget(&id))?;
            Ok(id.to_vec())
        })
    }

    /// Starts joining with an invite link (`zfc://join?...`); `name` is shown to the owner.
    /// Returns the room's id.
    ///
    /// # Errors
    /// `INVITE_MALFORMED`, `INVITE_EXPIRED`, `ROOM_EXISTS` when the client holds the room,
    /// `INVALID_ARGUMENT` for a name too long or an invite whose relay address is not ws(s);
    /// `CLOSED`.
    pub fn join_room(&self, invite: &str, name: &str) -> Result<Vec<u8>, Error> {
        let invite = Invite::parse(invite)?;
        let relay = RelayAddress::new(&invite.relay_addr, invite.relay_pk.as_bytes())?;
        self.with(|s, now| {
            if s.rooms.contains_key(&invite.room_id) {
                return Err(Error::Vault(VaultError::RoomExists));
            }
            let (member, out) = Member::join(&invite, name, now / 1000, &mut s.rng)?;
            let id = member.room_id();
            s.attach(id, Party::Member(Box::new(member)), relay, now)?;
            s.apply(id, out, now).inspect_err(|_| s.forget(&id))?;
            Ok(id.to_vec())
        })
    }

    /// Runs an owner's call on `room` and applies its output.
    fn owner_call<T>(
        &self,
        room: &[u8],
        f: impl FnOnce(
            &mut Owner,
            &RelayAddress,
            u64,
            &mut rand_chacha::ChaCha20Rng,
        ) -> Result<(T, Output), zfc_core::Error>,
    ) -> Result<T, Error> {
        let id = room_id(room)?;
        self.with(|s, now| {
            let r = s.rooms.get_mut(&id).ok_or_else(no_room)?;
            let Party::Owner(o) = &mut r.party else { return Err(Error::Core(zfc_core::Error::NotOwner)) };
            let (value, out) = f(o, &r.relay, now, &mut s.rng)?;
            s.apply(id, out, now)?;
            Ok(value)
        })
    }

    /// Runs a member's call on `room` and applies its output.
    fn member_call<T>(
        &self,
        room: &[u8],
        f: impl FnOnce(&mut Member, &mut rand_chacha::ChaCha20Rng) -> Result<(T, Output), zfc_core::Error>,
    ) -> Result<T, Error> {
        let id = room_id(room)?;
        self.with(|s, now| {
            let r = s.rooms.get_mut(&id).ok_or_else(no_room)?;
            let Party::Member(m) = &mut r.party else {
                return Err(Error::Core(zfc_core::Error::InvalidArgument("the owner has no member call")));
            };
            let (value, out) = f(m, &mut s.rng)?;
            s.apply(id, out, now)?;
            Ok(value)
        })
    }

    /// (Owner) A new invite link for `room`, valid `ttl_secs`; its registration leaves now.
    ///
    /// # Errors
    /// `NOT_OWNER`, `NO_SUCH_ROOM`, `ROOM_DELETED`, `CLOSED`.
    pub fn invite(&self, room: &[u8], ttl_secs: u64) -> Result<String, Error> {
        self.owner_call(room, |o, relay, now, rng| {
            let (invite, out) = o.invite(now / 1000, ttl_secs, relay.url(), relay.public_key(), rng)?;
            Ok((invite.to_uri(), out))
        })
    }

    /// (Owner) Revokes an invite by its 32-byte key (`RegisterInvite` in events names it).
    ///
    /// # Errors
    /// `INVITE_UNKNOWN`, `NOT_OWNER`, `NO_SUCH_ROOM`, `INVALID_ARGUMENT`, `CLOSED`.
    pub fn revoke_invite(&self, room: &[u8], invite_key: &[u8]) -> Result<(), Error> {
        let key = key32(invite_key)?;
        self.owner_call(room, |o, _, _, _| Ok(((), o.revoke_invite(zfc_core::InviteKey::from_bytes(key))?)))
    }

    /// (Owner) Approves a join request (`JoinRequested.joiner`).
    ///
    /// # Errors
    /// `NO_PENDING_JOIN`, `NOT_OWNER`, `NO_SUCH_ROOM`, `INVALID_ARGUMENT`, `CLOSED`.
    pub fn approve_join(&self, room: &[u8], joiner: &[u8]) -> Result<(), Error> {
        let key = MemberKey::from_bytes(key32(joiner)?);
        self.owner_call(room, |o, _, _, rng| Ok(((), o.approve_join(key, rng)?)))
    }

    /// (Owner) Refuses a join request.
    ///
    /// # Errors
    /// As [`Self::approve_join`].
    pub fn reject_join(&self, room: &[u8], joiner: &[u8]) -> Result<(), Error> {
        let key = MemberKey::from_bytes(key32(joiner)?);
        self.owner_call(room, |o, _, _, _| Ok(((), o.reject_join(key)?)))
    }

    /// (Owner) Removes a member. **Can be long** in a large room (one key share per member).
    ///
    /// # Errors
    /// `NO_SUCH_MEMBER`, `NOT_OWNER`, `NO_SUCH_ROOM`, `CLOSED`.
    pub fn remove_member(&self, room: &[u8], member: u32) -> Result<(), Error> {
        self.owner_call(room, |o, _, _, rng| Ok(((), o.remove(member, rng)?)))
    }

    /// (Owner) Rotates the room key. **Can be long** in a large room.
    ///
    /// # Errors
    /// `NOT_OWNER`, `NO_SUCH_ROOM`, `ROOM_DELETED`, `CLOSED`.
    pub fn rotate(&self, room: &[u8]) -> Result<(), Error> {
        self.owner_call(room, |o, _, _, rng| Ok(((), o.rotate(rng)?)))
    }

    /// (Owner) Deletes the room for everyone.
    ///
    /// # Errors
    /// `NOT_OWNER`, `NO_SUCH_ROOM`, `ROOM_DELETED`, `CLOSED`.
    pub fn delete_room(&self, room: &[u8]) -> Result<(), Error> {
        self.owner_call(room, |o, _, _, _| Ok(((), o.delete_room()?)))
    }

    /// (Member) Announces a fresh key-delivery key.
    ///
    /// # Errors
    /// `NOT_JOINED`, `NO_SUCH_ROOM`, `CLOSED`.
    pub fn update_key(&self, room: &[u8]) -> Result<(), Error> {
        self.member_call(room, |m, rng| Ok(((), m.update_key(rng)?)))
    }

    /// (Member) Leaves the room; it keeps reading until the leave landed.
    ///
    /// # Errors
    /// `NOT_JOINED`, `NO_SUCH_ROOM`, `CLOSED`.
    pub fn leave(&self, room: &[u8]) -> Result<(), Error> {
        self.member_call(room, |m, _| Ok(((), m.leave()?)))
    }

    /// (Member) Asks for up to `limit` log entries before what the member has read.
    ///
    /// # Errors
    /// `NOT_JOINED`, `NO_SUCH_ROOM`, `CLOSED`.
    pub fn fetch_history(&self, room: &[u8], limit: u32) -> Result<(), Error> {
        self.member_call(room, |m, _| Ok(((), m.fetch_history(limit)?)))
    }

    /// Sends `content` to `room`; returns the id `MessageSent` / `MessageRefused` will name. The
    /// sender's clock goes with it as its claim (none while a manual clock still reads 0).
    ///
    /// # Errors
    /// `MESSAGE_TOO_LONG`, `NOT_JOINED`, `ROOM_DELETED`, `NO_SUCH_ROOM`, `CLOSED`.
    pub fn send(&self, room: &[u8], content: Content) -> Result<u64, Error> {
        let id = room_id(room)?;
        self.with(|s, now| {
            // A manual clock nobody has set yet reads 0, which the envelope cannot claim.
            let bytes = Envelope { content, claimed_sent_at_ms: (now != 0).then_some(now) }.encode()?;
            let local_id = s.next_local_id;
            let r = s.rooms.get_mut(&id).ok_or_else(no_room)?;
            let out = r.party.send(&bytes, &mut s.rng)?;
            s.next_local_id += 1;
            let envelope = Zeroizing::new(bytes);
            r.sending = Some(engine::Sending { local_id, envelope, epoch: r.epoch(), seals: 1 });
            s.apply(id, out, now)?;
            Ok(local_id)
        })
    }

    /// [`Self::send`] of a text.
    ///
    /// # Errors
    /// As [`Self::send`].
    pub fn send_text(&self, room: &[u8], text: &str) -> Result<u64, Error> {
        self.send(room, Content::Text { body: text.to_owned() })
    }

    /// Imports a room from a single-room sealed state (zfc-core's `ZFCS`, spec §17.3: what
    /// apps and the `zfc` command saved before this client existed) as a room on `relay`, and
    /// returns its id; it connects like any other room. **Long**: one or two Argon2id runs.
    ///
    /// # Errors
    /// `WRONG_PASSWORD` (nothing changes), `STATE_*` for a blob that does not load,
    /// `ROOM_EXISTS` when the client holds the room (an import never overwrites it), `CLOSED`.
    pub fn import_room(&self, blob: &[u8], passphrase: &[u8], relay: &RelayAddress) -> Result<Vec<u8>, Error> {
        self.with(|s, now| {
            let id = room_id(&s.vault.import_sealed_room(blob, passphrase, relay)?)?;
            s.load(id, now).inspect_err(|_| s.forget(&id))?;
            Ok(id.to_vec())
        })
    }

    /// Forgets a room: its keys are erased and the next save leaves it out. For a room that is
    /// gone; forgetting a live room abandons it (its owner must remove us).
    ///
    /// # Errors
    /// `NO_SUCH_ROOM`, `CLOSED`.
    pub fn forget_room(&self, room: &[u8]) -> Result<(), Error> {
        let id = room_id(room)?;
        self.with(|s, _| {
            s.rooms.remove(&id).ok_or_else(no_room)?;
            s.detach(&id);
            s.vault.remove_room(&id)?;
            Ok(())
        })
    }

    /// The ids of every room held.
    ///
    /// # Errors
    /// `CLOSED`.
    pub fn rooms(&self) -> Result<Vec<Vec<u8>>, Error> {
        self.with(|s, _| Ok(s.rooms.keys().map(|id| id.to_vec()).collect()))
    }

    /// One room's part, relay and members.
    ///
    /// # Errors
    /// `NO_SUCH_ROOM`, `INVALID_ARGUMENT`, `CLOSED`.
    pub fn room_info(&self, room: &[u8]) -> Result<RoomInfo, Error> {
        let id = room_id(room)?;
        self.with(|s, _| {
            let r = s.rooms.get(&id).ok_or_else(no_room)?;
            let (role, member, epoch, roster) = match &r.party {
                Party::Owner(o) => (RoomRole::Owner, Some(0), Some(o.epoch()), Some(o.roster())),
                Party::Member(m) => match m.phase() {
                    Phase::Joined { member, epoch, .. } => {
                        (RoomRole::Member, Some(member), Some(epoch), m.roster().ok())
                    }
                    Phase::Gone(_) => (RoomRole::Gone, None, None, None),
                    _ => (RoomRole::Joining, None, None, None),
                },
            };
            let members = roster.map(|r| r.iter().map(|(n, _)| n).collect()).unwrap_or_default();
            Ok(RoomInfo {
                room: id.to_vec(),
                relay_url: r.relay.url().to_owned(),
                relay_key: r.relay.key(),
                role,
                member,
                epoch,
                members,
            })
        })
    }

    /// A member's fingerprint in `room`, to compare out of band.
    ///
    /// # Errors
    /// `NO_SUCH_MEMBER`, `NOT_JOINED`, `NO_SUCH_ROOM`, `CLOSED`.
    pub fn fingerprint(&self, room: &[u8], member: u32) -> Result<String, Error> {
        let id = room_id(room)?;
        self.with(|s, _| {
            let r = s.rooms.get(&id).ok_or_else(no_room)?;
            Ok(match &r.party {
                Party::Owner(o) => o.fingerprint(member)?,
                Party::Member(m) => m.fingerprint(member)?,
            })
        })
    }

    /// Changes the passphrase. **Long**: two Argon2id derivations (checking `current`, deriving
    /// the new key with `config.kdf`). The returned state is sealed under the new passphrase:
    /// write it and confirm it like a [`Self::poll_save`].
    ///
    /// # Errors
    /// `WRONG_PASSWORD` (nothing changes), `WEAK_KDF`, `CLOSED`.
    pub fn change_passphrase(&self, current: &[u8], new: &[u8]) -> Result<Save, Error> {
        self.with(|s, _| {
            let bytes = s.vault.change_passphrase(current, new, s.config.kdf)?;
            let generation = s.vault.generation()?;
            s.queue_acks(generation);
            Ok(Save { bytes, generation })
        })
    }

    // ---- the app's loop ----

    /// The state to write before anything waiting for it may leave; `None` when nothing
    /// changed since the last one. Write it atomically, then call [`Self::state_saved`].
    ///
    /// # Errors
    /// `CLOSED`.
    pub fn poll_save(&self) -> Result<Option<Save>, Error> {
        self.with(|s, _| {
            if !s.vault.has_unsaved_changes()? {
                return Ok(None);
            }
            let bytes = s.vault.seal()?;
            let generation = s.vault.generation()?;
            s.queue_acks(generation);
            Ok(Some(Save { bytes, generation }))
        })
    }

    /// The save of `generation` is written: records waiting for it may leave.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a generation never handed out; `CLOSED`.
    pub fn state_saved(&self, generation: u64) -> Result<(), Error> {
        self.with(|s, _| {
            if generation > s.vault.generation()? {
                return Err(Error::Core(zfc_core::Error::InvalidArgument("a save generation never handed out")));
            }
            s.saved = s.saved.max(generation);
            Ok(())
        })
    }

    /// Whether records wait for a save the app has not confirmed.
    ///
    /// # Errors
    /// `CLOSED`.
    pub fn waits_for_save(&self) -> Result<bool, Error> {
        self.with(|s, _| Ok(s.waits_for_save() || s.vault.has_unsaved_changes()?))
    }

    /// What the sockets must do next; `None` when nothing may leave now.
    ///
    /// # Errors
    /// `CLOSED`.
    pub fn poll_transmit(&self) -> Result<Option<Transmit>, Error> {
        self.with(|s, _| Ok(s.poll_transmit()))
    }

    /// The next event; `None` when there is none.
    ///
    /// # Errors
    /// `CLOSED`.
    pub fn poll_event(&self) -> Result<Option<ClientEvent>, Error> {
        self.with(|s, _| Ok(s.events.pop_front()))
    }

    /// The socket `conn` (from `Transmit::Connect`) is open.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a socket the client is not dialling; `CLOSED`.
    pub fn handle_connected(&self, conn: u64, now_ms: u64) -> Result<(), Error> {
        self.with(|s, _| {
            s.set_now(now_ms);
            let ci = s.conn_by_id(conn).ok_or(Error::Core(zfc_core::Error::InvalidArgument("unknown connection")))?;
            s.connected(ci, now_ms)
        })
    }

    /// One binary WebSocket message from socket `conn`. Bytes the link or the protocol refuse
    /// drop the socket (a `Transmit::Close` and a `Disconnected` event), never the client.
    /// Bytes for a socket the client has since dropped are ignored.
    ///
    /// # Errors
    /// `CLOSED`; a local failure (`STATE_*`) saving the room's state.
    pub fn handle_bytes(&self, conn: u64, bytes: &[u8], now_ms: u64) -> Result<(), Error> {
        self.with(|s, _| {
            s.set_now(now_ms);
            match s.conn_by_id(conn) {
                Some(ci) => s.receive(ci, bytes, now_ms),
                None => Ok(()),
            }
        })
    }

    /// The socket `conn` closed or failed to open; the client dials again after its backoff.
    ///
    /// # Errors
    /// `CLOSED`.
    pub fn handle_closed(&self, conn: u64, now_ms: u64) -> Result<(), Error> {
        self.with(|s, _| {
            s.set_now(now_ms);
            if let Some(ci) = s.conn_by_id(conn) {
                s.lose(ci, "the socket closed", false, now_ms);
            }
            Ok(())
        })
    }

    /// When [`Self::handle_timeout`] is due (Unix ms); `None`: no timer.
    ///
    /// # Errors
    /// `CLOSED`.
    pub fn next_timeout(&self) -> Result<Option<u64>, Error> {
        self.with(|s, _| Ok(s.next_timeout()))
    }

    /// Runs what is due at `now_ms`: dials, connect timeouts, keep-alives.
    ///
    /// # Errors
    /// `CLOSED`.
    pub fn handle_timeout(&self, now_ms: u64) -> Result<(), Error> {
        self.with(|s, _| {
            s.set_now(now_ms);
            s.timeout(now_ms);
            Ok(())
        })
    }
}

fn key32(bytes: &[u8]) -> Result<[u8; 32], Error> {
    bytes.try_into().map_err(|_| Error::Core(zfc_core::Error::InvalidArgument("a key is 32 bytes")))
}

/// A generator for the vault drawn from the client's, so that one seed drives both.
fn fork(rng: &mut rand_chacha::ChaCha20Rng) -> rand_chacha::ChaCha20Rng {
    let mut seed = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(seed.as_mut());
    <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed(*seed)
}

/// The client is shared across threads by every binding.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Client>();
};
