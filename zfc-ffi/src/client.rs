//! `zfc_client`: every room of one user over `zfc-client`'s facade, the one set of room exports
//! apps use (the facade owns randomness, the clock, connections, saving order and resends).
//!
//! Unlike the other handles, a `zfc_client` may be used from several threads at once: the facade
//! takes its own lock in every call.

use std::ffi::c_char;

use ::zfc_client::{Client, ClientConfig, Clock, Randomness, RelayAddress, RoomRole, RoomSettings};
use zfc_core::HistoryPolicy;
use zfc_core::pickle::Argon2Params;

use crate::boundary::{free_handle, into_handle};
use crate::client_event::{zfc_client_event, zfc_transmit};
use crate::handles::zfc_buf;
use crate::result::zfc_result;

/// A client: every room of one user, their relay connections and their sealed state.
pub struct zfc_client {
    inner: Client,
}

/// The library's version, `MAJOR.MINOR.PATCH` (static, NUL-terminated; not to be freed). An app
/// loading the shared library at run time compares it with the header it was built against.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_version() -> *const c_char {
    ffi_value!(std::ptr::null(), { VERSION.as_ptr() })
}

/// The package version with its NUL.
const VERSION: &std::ffi::CStr =
    match std::ffi::CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };

/// How a client runs. Start from `zfc_client_config_default` and change what you need.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct zfc_client_config {
    /// One connection per room instead of one per relay (the relay cannot link the rooms by
    /// connection; spec §15.2 lists what it still sees).
    pub connection_per_room: bool,
    /// Keep-alive interval on an idle connection, ms (0: none).
    pub keepalive_interval_ms: u64,
    /// How long dialling and the link handshake may take, ms.
    pub connect_timeout_ms: u64,
    /// First reconnect delay, ms (doubles up to `reconnect_max_ms`).
    pub reconnect_initial_ms: u64,
    /// Longest reconnect delay, ms.
    pub reconnect_max_ms: u64,
    /// Argon2id memory for sealing the state, KiB.
    pub kdf_m_cost_kib: u32,
    /// Argon2id passes.
    pub kdf_t_cost: u32,
    /// Argon2id lanes.
    pub kdf_p_cost: u32,
    /// TESTS ONLY: accept Argon2 parameters below the production floor.
    pub insecure_weak_kdf_for_tests: bool,
    /// TESTS ONLY: a 32-byte seed for every random choice (NULL: the operating system's
    /// randomness, what apps use). Read during the create/open call only.
    pub seed_for_tests: *const u8,
    /// Take time from the `now_ms` of the `zfc_client_handle_*` calls instead of the system
    /// clock (tests, simulations).
    pub manual_clock: bool,
}

/// Writes the defaults (what apps use) to `*config_out`.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_config_default(config_out: *mut zfc_client_config) -> zfc_result {
    ffi!({
        out_check!(config_out);
        let d = ClientConfig::default();
        out_write!(
            config_out,
            zfc_client_config {
                connection_per_room: d.connection_per_room,
                keepalive_interval_ms: d.keepalive_interval_ms,
                connect_timeout_ms: d.connect_timeout_ms,
                reconnect_initial_ms: d.reconnect_initial_ms,
                reconnect_max_ms: d.reconnect_max_ms,
                kdf_m_cost_kib: d.kdf.m_cost_kib,
                kdf_t_cost: d.kdf.t_cost,
                kdf_p_cost: d.kdf.p_cost,
                insecure_weak_kdf_for_tests: false,
                seed_for_tests: std::ptr::null(),
                manual_clock: false,
            }
        );
        zfc_result::ZFC_OK
    })
}

/// A new room's settings. Start from `zfc_room_settings_default`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct zfc_room_settings {
    /// What a newcomer may read: 0 since the last epoch (0FC's rule), 1 nothing before joining.
    pub history: u32,
    /// Rotate the room key after this many messages in one epoch.
    pub rotate_every: u32,
    /// How many past epochs' keys members keep.
    pub retained_epochs: u32,
    /// Approve every join with a valid invite without asking.
    pub auto_approve: bool,
}

/// Writes the default room settings to `*settings_out`.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_room_settings_default(settings_out: *mut zfc_room_settings) -> zfc_result {
    ffi!({
        out_check!(settings_out);
        let d = RoomSettings::default();
        out_write!(
            settings_out,
            zfc_room_settings {
                history: d.history as u32,
                rotate_every: d.rotate_every,
                retained_epochs: d.retained_epochs,
                auto_approve: d.auto_approve,
            }
        );
        zfc_result::ZFC_OK
    })
}

/// The facade's configuration from C's; `seed` was read by the caller.
fn config(c: &zfc_client_config, seed: Option<&[u8; 32]>) -> ClientConfig {
    ClientConfig {
        connection_per_room: c.connection_per_room,
        keepalive_interval_ms: c.keepalive_interval_ms,
        connect_timeout_ms: c.connect_timeout_ms,
        reconnect_initial_ms: c.reconnect_initial_ms,
        reconnect_max_ms: c.reconnect_max_ms,
        kdf: Argon2Params { m_cost_kib: c.kdf_m_cost_kib, t_cost: c.kdf_t_cost, p_cost: c.kdf_p_cost },
        insecure_weak_kdf_for_tests: c.insecure_weak_kdf_for_tests,
        randomness: match seed {
            Some(s) => Randomness::SeededForTests { seed: s.to_vec() },
            None => Randomness::Os,
        },
        clock: if c.manual_clock { Clock::Manual } else { Clock::System },
    }
}

/// Reads the config and its optional seed.
macro_rules! arg_config {
    ($p:expr) => {{
        let c: &zfc_client_config = arg_ref!($p);
        let seed = if c.seed_for_tests.is_null() { None } else { Some(arg_array!(c.seed_for_tests, 32)) };
        config(c, seed)
    }};
}

/// Maps a facade result to a result code, writing nothing on error.
macro_rules! try_client {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return zfc_result::from(e),
        }
    };
}

/// A UTF-8 check's result, or ZFC_ERR_INVALID_UTF8.
macro_rules! try_utf8 {
    ($e:expr) => {
        match $e {
            Ok(s) => s,
            Err(_) => return zfc_result::ZFC_ERR_INVALID_UTF8,
        }
    };
}
/// Creates a client with no rooms, its state sealed under `passphrase`. **Blocking**: derives
/// the passphrase key (Argon2id, ~130 ms with the defaults): never on a UI thread. The first
/// `zfc_client_poll_save` hands out the new state.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_create(
    config: *const zfc_client_config,
    passphrase: *const u8,
    passphrase_len: usize,
    client_out: *mut *mut zfc_client,
) -> zfc_result {
    ffi!({
        let config = arg_config!(config);
        let pass = arg_bytes!(passphrase, passphrase_len);
        out_check!(client_out);
        let inner = try_client!(Client::create(config, pass));
        out_write!(client_out, into_handle(zfc_client { inner }));
        zfc_result::ZFC_OK
    })
}

/// Opens a client from its sealed state. **Blocking** (Argon2id). ZFC_ERR_WRONG_PASSWORD
/// changes nothing: ask again.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_open(
    config: *const zfc_client_config,
    state: *const u8,
    state_len: usize,
    passphrase: *const u8,
    passphrase_len: usize,
    client_out: *mut *mut zfc_client,
) -> zfc_result {
    ffi!({
        let config = arg_config!(config);
        let blob = arg_bytes!(state, state_len);
        let pass = arg_bytes!(passphrase, passphrase_len);
        out_check!(client_out);
        let inner = try_client!(Client::open(config, blob, pass));
        out_write!(client_out, into_handle(zfc_client { inner }));
        zfc_result::ZFC_OK
    })
}

/// Erases every key the client holds; later calls return ZFC_ERR_CLOSED. The handle stays valid
/// until `zfc_client_free`.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_close(client: *const zfc_client) -> zfc_result {
    ffi!({
        arg_ref!(client).inner.close();
        zfc_result::ZFC_OK
    })
}

/// Closes (erasing every key) and frees a client; NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_free(client: *mut zfc_client) {
    ffi_void!({
        // SAFETY: the header requires `client` to be NULL or from zfc_client_create/open, not
        // yet freed, and no other thread to use it any more.
        if let Some(c) = unsafe { client.as_ref() } {
            c.inner.close();
        }
        // SAFETY: as above.
        unsafe { free_handle(client) }
    })
}

/// Sets the operator's 32-byte admission token for the relay at `relay_url` with key
/// `relay_key`: presented (spec §6.10) on connections that create rooms there.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_set_admission_token(
    client: *const zfc_client,
    relay_url: *const c_char,
    relay_key: *const u8,
    token: *const u8,
) -> zfc_result {
    ffi!({
        let c = arg_ref!(client);
        let relay = try_client!(RelayAddress::new(arg_str!(relay_url), arg_array!(relay_key, 32)));
        try_client!(c.inner.set_admission_token(&relay, arg_array!(token, 32)));
        zfc_result::ZFC_OK
    })
}

/// Creates a room on the relay at `relay_url` (`ws://` or `wss://`) whose link key is
/// `relay_key` (32 bytes); `settings` NULL for the defaults. Writes the 16-byte room id.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_create_room(
    client: *const zfc_client,
    relay_url: *const c_char,
    relay_key: *const u8,
    settings: *const zfc_room_settings,
    room_out: *mut u8,
) -> zfc_result {
    ffi!({
        let c = arg_ref!(client);
        let relay = try_client!(RelayAddress::new(arg_str!(relay_url), arg_array!(relay_key, 32)));
        let settings = if settings.is_null() {
            RoomSettings::default()
        } else {
            let s: &zfc_room_settings = arg_ref!(settings);
            let history = match s.history {
                0 => HistoryPolicy::SinceLastEpoch,
                1 => HistoryPolicy::SinceJoin,
                _ => return zfc_result::ZFC_ERR_INVALID_ARGUMENT,
            };
            RoomSettings {
                history,
                rotate_every: s.rotate_every,
                retained_epochs: s.retained_epochs,
                auto_approve: s.auto_approve,
            }
        };
        out_check!(room_out);
        let id = try_client!(c.inner.create_room(&relay, settings));
        out_array!(room_out, id);
        zfc_result::ZFC_OK
    })
}

/// Starts joining with an invite link; `name` is shown to the owner. Writes the room id.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_join_room(
    client: *const zfc_client,
    invite: *const c_char,
    name: *const c_char,
    room_out: *mut u8,
) -> zfc_result {
    ffi!({
        let c = arg_ref!(client);
        let (invite, name) = (arg_str!(invite), arg_str!(name));
        out_check!(room_out);
        let id = try_client!(c.inner.join_room(invite, name));
        out_array!(room_out, id);
        zfc_result::ZFC_OK
    })
}

/// (Owner) A new invite link for `room`, valid `ttl_secs`, to `*invite_out` (UTF-8, not
/// NUL-terminated; a secret: zeroized when freed).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_invite(
    client: *const zfc_client,
    room: *const u8,
    ttl_secs: u64,
    invite_out: *mut *mut zfc_buf,
) -> zfc_result {
    ffi!({
        let c = arg_ref!(client);
        let room = arg_array!(room, 16);
        out_check!(invite_out);
        let invite = try_client!(c.inner.invite(room, ttl_secs));
        out_write!(invite_out, zfc_buf::new(invite.into_bytes()));
        zfc_result::ZFC_OK
    })
}

/// The body of a call on one room: checks the handle and the room id, runs `f`, maps its error.
fn on_room(
    client: *const zfc_client,
    room: *const u8,
    f: impl FnOnce(&Client, &[u8; 16]) -> Result<(), ::zfc_client::Error>,
) -> zfc_result {
    let c = arg_ref!(client);
    try_client!(f(&c.inner, arg_array!(room, 16)));
    zfc_result::ZFC_OK
}

/// (Owner) Revokes the invite whose commitment is `key` (from zfc_invite_parse).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_revoke_invite(client: *const zfc_client, room: *const u8, key: *const u8) -> zfc_result {
    ffi!({
        let key = arg_array!(key, 32);
        on_room(client, room, |c, r| c.revoke_invite(r, key))
    })
}

/// (Owner) Approves the join request of `key` (the joiner of ZFC_CLIENT_EVENT_JOIN_REQUESTED).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_approve_join(client: *const zfc_client, room: *const u8, key: *const u8) -> zfc_result {
    ffi!({
        let key = arg_array!(key, 32);
        on_room(client, room, |c, r| c.approve_join(r, key))
    })
}

/// (Owner) Refuses the join request of `key`.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_reject_join(client: *const zfc_client, room: *const u8, key: *const u8) -> zfc_result {
    ffi!({
        let key = arg_array!(key, 32);
        on_room(client, room, |c, r| c.reject_join(r, key))
    })
}

/// (Owner) Rotates the room key. **Blocking** in a large room (one key share per member).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_rotate(client: *const zfc_client, room: *const u8) -> zfc_result {
    ffi!({ on_room(client, room, |c, r| c.rotate(r)) })
}

/// (Owner) Deletes the room for everyone.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_delete_room(client: *const zfc_client, room: *const u8) -> zfc_result {
    ffi!({ on_room(client, room, |c, r| c.delete_room(r)) })
}

/// (Member) Announces a fresh key-delivery key.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_update_key(client: *const zfc_client, room: *const u8) -> zfc_result {
    ffi!({ on_room(client, room, |c, r| c.update_key(r)) })
}

/// (Member) Leaves the room (it keeps reading until the leave landed).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_leave(client: *const zfc_client, room: *const u8) -> zfc_result {
    ffi!({ on_room(client, room, |c, r| c.leave(r)) })
}

/// Forgets a room: its keys are erased and it leaves the state (nothing is said to the room).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_forget_room(client: *const zfc_client, room: *const u8) -> zfc_result {
    ffi!({ on_room(client, room, |c, r| c.forget_room(r)) })
}

/// (Owner) Removes `member`. **Blocking** in a large room (one key share per member).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_remove_member(client: *const zfc_client, room: *const u8, member: u32) -> zfc_result {
    ffi!({ on_room(client, room, |c, r| c.remove_member(r, member)) })
}

/// (Member) Asks for up to `limit` log entries before what the member has read.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_fetch_history(client: *const zfc_client, room: *const u8, limit: u32) -> zfc_result {
    ffi!({ on_room(client, room, |c, r| c.fetch_history(r, limit)) })
}

/// What `zfc_client_send` sends (spec §21).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum zfc_content_type {
    /// A text message (UTF-8).
    ZFC_CONTENT_TEXT = 1,
    /// The sender's display name (UTF-8).
    ZFC_CONTENT_DISPLAY_NAME = 2,
    /// The room's topic (UTF-8).
    ZFC_CONTENT_TOPIC = 3,
    /// An application's own type (`type_code` from 0x8000), opaque bytes.
    ZFC_CONTENT_OTHER = 4,
    /// (Received only) content that is not an envelope; the raw bytes.
    ZFC_CONTENT_NOT_ENVELOPE = 5,
}

/// Sends content to `room`: `kind` a zfc_content_type (TEXT, DISPLAY_NAME, TOPIC: `body` is
/// UTF-8; OTHER: `type_code` names the application's type). Writes the local id that
/// ZFC_CLIENT_EVENT_MESSAGE_SENT / _REFUSED will name.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_send(
    client: *const zfc_client,
    room: *const u8,
    kind: u32,
    type_code: u16,
    body: *const u8,
    body_len: usize,
    local_id_out: *mut u64,
) -> zfc_result {
    ffi!({
        use ::zfc_client::content::Content;
        let c = arg_ref!(client);
        let room = arg_array!(room, 16);
        let bytes = arg_bytes!(body, body_len);
        out_check!(local_id_out);
        let text = || std::str::from_utf8(bytes).map(str::to_owned);
        let content = match kind {
            1 => Content::Text { body: try_utf8!(text()) },
            2 => Content::DisplayName { name: try_utf8!(text()) },
            3 => Content::Topic { topic: try_utf8!(text()) },
            4 => Content::Other { type_code, body: bytes.to_vec() },
            _ => return zfc_result::ZFC_ERR_INVALID_ARGUMENT,
        };
        let id = try_client!(c.inner.send(room, content));
        out_write!(local_id_out, id);
        zfc_result::ZFC_OK
    })
}

/// Where the client stands in a room.
#[repr(C)]
pub struct zfc_room_info {
    /// 1 owner, 2 joining, 3 member, 4 gone (removed, left or deleted).
    pub role: u32,
    /// Our member number (owner 0); meaningful when `role` is 1 or 3.
    pub member: u32,
    /// The current epoch; meaningful when `role` is 1 or 3.
    pub epoch: u32,
    /// How many members the room has as we know it (0 while joining or gone).
    pub member_count: u32,
    /// The relay's link key.
    pub relay_key: [u8; 32],
}

/// Where the client stands in `room`; `*relay_url_out` receives the relay's address (UTF-8,
/// not NUL-terminated; NULL to skip it).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_room_info(
    client: *const zfc_client,
    room: *const u8,
    info_out: *mut zfc_room_info,
    relay_url_out: *mut *mut zfc_buf,
) -> zfc_result {
    ffi!({
        let c = arg_ref!(client);
        let room = arg_array!(room, 16);
        out_check!(info_out);
        let i = try_client!(c.inner.room_info(room));
        let role = match i.role {
            RoomRole::Owner => 1,
            RoomRole::Joining => 2,
            RoomRole::Member => 3,
            RoomRole::Gone => 4,
        };
        let mut relay_key = [0u8; 32];
        crate::client_event::fill(&mut relay_key, &i.relay_key);
        let info = zfc_room_info {
            role,
            member: i.member.unwrap_or(0),
            epoch: i.epoch.unwrap_or(0),
            member_count: u32::try_from(i.members.len()).unwrap_or(u32::MAX),
            relay_key,
        };
        out_write!(info_out, info);
        if !relay_url_out.is_null() {
            out_write!(relay_url_out, zfc_buf::new(i.relay_url.into_bytes()));
        }
        zfc_result::ZFC_OK
    })
}

/// The ids of every room held, 16 bytes each, one after the other, to `*rooms_out`.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_rooms(client: *const zfc_client, rooms_out: *mut *mut zfc_buf) -> zfc_result {
    ffi!({
        let c = arg_ref!(client);
        out_check!(rooms_out);
        let rooms = try_client!(c.inner.rooms());
        out_write!(rooms_out, zfc_buf::new(rooms.concat()));
        zfc_result::ZFC_OK
    })
}

/// `member`'s fingerprint in `room` (text, not NUL-terminated), to compare out of band.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_fingerprint(
    client: *const zfc_client,
    room: *const u8,
    member: u32,
    fingerprint_out: *mut *mut zfc_buf,
) -> zfc_result {
    ffi!({
        let c = arg_ref!(client);
        let room = arg_array!(room, 16);
        out_check!(fingerprint_out);
        let f = try_client!(c.inner.fingerprint(room, member));
        out_write!(fingerprint_out, zfc_buf::new(f.into_bytes()));
        zfc_result::ZFC_OK
    })
}

/// Changes the passphrase. **Blocking** (two Argon2id derivations). The state sealed under the
/// new passphrase goes to `*state_out`: write it, then `zfc_client_state_saved(generation)`.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_change_passphrase(
    client: *const zfc_client,
    current: *const u8,
    current_len: usize,
    new_passphrase: *const u8,
    new_len: usize,
    state_out: *mut *mut zfc_buf,
    generation_out: *mut u64,
) -> zfc_result {
    ffi!({
        let c = arg_ref!(client);
        let (current, new) = (arg_bytes!(current, current_len), arg_bytes!(new_passphrase, new_len));
        out_check!(state_out, generation_out);
        let save = try_client!(c.inner.change_passphrase(current, new));
        out_write!(generation_out, save.generation);
        out_write!(state_out, zfc_buf::new(save.bytes));
        zfc_result::ZFC_OK
    })
}

// ---- the loop ----

/// The state to write before anything waiting for it may leave: `*state_out` is NULL when
/// nothing changed. Write it atomically (temporary file, fsync, rename), then call
/// `zfc_client_state_saved(generation)`.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_poll_save(
    client: *const zfc_client,
    state_out: *mut *mut zfc_buf,
    generation_out: *mut u64,
) -> zfc_result {
    ffi!({
        let c = arg_ref!(client);
        out_check!(state_out, generation_out);
        match try_client!(c.inner.poll_save()) {
            Some(save) => {
                out_write!(generation_out, save.generation);
                out_write!(state_out, zfc_buf::new(save.bytes));
            }
            None => out_write!(state_out, std::ptr::null_mut()),
        }
        zfc_result::ZFC_OK
    })
}

/// The save of `generation` is written: records waiting for it may leave.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_state_saved(client: *const zfc_client, generation: u64) -> zfc_result {
    ffi!({
        try_client!(arg_ref!(client).inner.state_saved(generation));
        zfc_result::ZFC_OK
    })
}

/// What the sockets must do next, to `*transmit_out` (NULL when nothing may leave now).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_poll_transmit(
    client: *const zfc_client,
    transmit_out: *mut *mut zfc_transmit,
) -> zfc_result {
    ffi!({
        let c = arg_ref!(client);
        out_check!(transmit_out);
        let t = try_client!(c.inner.poll_transmit());
        out_write!(transmit_out, t.map_or(std::ptr::null_mut(), zfc_transmit::new));
        zfc_result::ZFC_OK
    })
}

/// The next event, to `*event_out` (NULL when there is none).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_poll_event(
    client: *const zfc_client,
    event_out: *mut *mut zfc_client_event,
) -> zfc_result {
    ffi!({
        let c = arg_ref!(client);
        out_check!(event_out);
        let e = try_client!(c.inner.poll_event());
        out_write!(event_out, e.map_or(std::ptr::null_mut(), zfc_client_event::new));
        zfc_result::ZFC_OK
    })
}

/// The socket `conn` (from a ZFC_TRANSMIT_CONNECT) is open.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_handle_connected(client: *const zfc_client, conn: u64, now_ms: u64) -> zfc_result {
    ffi!({
        try_client!(arg_ref!(client).inner.handle_connected(conn, now_ms));
        zfc_result::ZFC_OK
    })
}

/// One binary message from socket `conn`. Bytes the link or the protocol refuse drop that
/// socket (a ZFC_TRANSMIT_CLOSE and a disconnection event follow), never the client.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_handle_bytes(
    client: *const zfc_client,
    conn: u64,
    bytes: *const u8,
    len: usize,
    now_ms: u64,
) -> zfc_result {
    ffi!({
        let c = arg_ref!(client);
        try_client!(c.inner.handle_bytes(conn, arg_bytes!(bytes, len), now_ms));
        zfc_result::ZFC_OK
    })
}

/// The socket `conn` closed or failed to open; the client dials again after its backoff.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_handle_closed(client: *const zfc_client, conn: u64, now_ms: u64) -> zfc_result {
    ffi!({
        try_client!(arg_ref!(client).inner.handle_closed(conn, now_ms));
        zfc_result::ZFC_OK
    })
}

/// When `zfc_client_handle_timeout` is due (Unix ms) to `*at_ms_out`; `*has_out` false: none.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_next_timeout(
    client: *const zfc_client,
    has_out: *mut bool,
    at_ms_out: *mut u64,
) -> zfc_result {
    ffi!({
        let c = arg_ref!(client);
        out_check!(has_out, at_ms_out);
        let t = try_client!(c.inner.next_timeout());
        out_write!(has_out, t.is_some());
        out_write!(at_ms_out, t.unwrap_or(0));
        zfc_result::ZFC_OK
    })
}

/// Runs what is due at `now_ms` (Unix ms): dials, connect timeouts, keep-alives.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_handle_timeout(client: *const zfc_client, now_ms: u64) -> zfc_result {
    ffi!({
        try_client!(arg_ref!(client).inner.handle_timeout(now_ms));
        zfc_result::ZFC_OK
    })
}
