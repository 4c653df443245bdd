//! The owner of a room.

use std::ffi::c_char;

use zfc_core::pickle::Argon2Params;
use zfc_core::{HistoryPolicy, Owner, RoomConfig};

use crate::boundary::{free_handle, into_handle};
use crate::handles::{zfc_buf, zfc_rng};
use crate::output::{emit, zfc_output};
use crate::result::zfc_result;

/// The owner of one room (it is also member 0).
pub struct zfc_owner {
    pub(crate) inner: Owner,
}

/// A room's settings. Fill it with zfc_room_config_default, then change fields.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct zfc_room_config {
    /// 0: newcomers read from the epoch in which they were added (0FC's rule); 1: newcomers read
    /// nothing sent before they joined.
    pub history_policy: u8,
    /// Rotate the epoch key after this many messages (at least 1).
    pub rotate_every: u32,
    /// Past epochs whose keys are kept (1..=1024).
    pub retained_epochs: u32,
    /// Grant every valid join request without asking the app.
    pub auto_approve: bool,
}

/// Writes the default settings: policy 0, rotation every 100 messages, 16 epochs kept, joins
/// left to the app.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_room_config_default(config_out: *mut zfc_room_config) -> zfc_result {
    ffi!({
        out_check!(config_out);
        out_write!(
            config_out,
            zfc_room_config { history_policy: 0, rotate_every: 100, retained_epochs: 16, auto_approve: false }
        );
        zfc_result::ZFC_OK
    })
}

fn config(c: &zfc_room_config) -> Result<RoomConfig, zfc_result> {
    let policy = match c.history_policy {
        0 => HistoryPolicy::SinceLastEpoch,
        1 => HistoryPolicy::SinceJoin,
        _ => return Err(zfc_result::ZFC_ERR_INVALID_ARGUMENT),
    };
    RoomConfig::builder()
        .history_policy(policy)
        .rotate_every(c.rotate_every)
        .retained_epochs(c.retained_epochs)
        .auto_approve(c.auto_approve)
        .build()
        .map_err(zfc_result::from)
}

/// Creates a room. `*owner_out` receives the owner; `*output_out` the request that creates the
/// room at the relay (send it once connected).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_create(
    config_in: *const zfc_room_config,
    rng: *mut zfc_rng,
    owner_out: *mut *mut zfc_owner,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let c = arg_ref!(config_in);
        let rng = arg_mut!(rng);
        out_check!(owner_out, output_out);
        let config = match config(c) {
            Ok(c) => c,
            Err(e) => return e,
        };
        let (owner, out) = Owner::create(config, &mut rng.inner);
        out_write!(owner_out, into_handle(zfc_owner { inner: owner }));
        out_write!(output_out, zfc_output::new(out));
        zfc_result::ZFC_OK
    })
}

/// Frees an owner, erasing its keys; NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_free(owner: *mut zfc_owner) {
    ffi_void!({
        // SAFETY: the header requires `owner` to be NULL or from this library, not yet freed.
        unsafe { free_handle(owner) }
    })
}

/// Writes the 16-byte room id.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_room_id(owner: *const zfc_owner, room_id_out: *mut u8) -> zfc_result {
    ffi!({
        let o = arg_ref!(owner);
        out_check!(room_id_out);
        out_array!(room_id_out, o.inner.room_id());
        zfc_result::ZFC_OK
    })
}

/// Writes the newest epoch number.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_epoch(owner: *const zfc_owner, epoch_out: *mut u32) -> zfc_result {
    ffi!({
        let o = arg_ref!(owner);
        out_check!(epoch_out);
        out_write!(epoch_out, o.inner.epoch());
        zfc_result::ZFC_OK
    })
}

/// Writes the number of members, owner included.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_member_count(owner: *const zfc_owner, count_out: *mut usize) -> zfc_result {
    ffi!({
        let o = arg_ref!(owner);
        out_check!(count_out);
        out_write!(count_out, o.inner.roster().len());
        zfc_result::ZFC_OK
    })
}

/// A new link to the relay is up; `channel_binding` is its 32-byte handshake hash
/// (zfc_link_channel_binding). The relay's challenge comes next, through zfc_owner_handle.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_on_connected(owner: *mut zfc_owner, channel_binding: *const u8) -> zfc_result {
    ffi!({
        let o = arg_mut!(owner);
        let b = arg_array!(channel_binding, 32);
        o.inner.on_connected((*b).into());
        zfc_result::ZFC_OK
    })
}

/// Handles one message from the relay (a link record's plaintext). `now` is Unix seconds.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_handle(
    owner: *mut zfc_owner,
    bytes: *const u8,
    len: usize,
    now: u64,
    rng: *mut zfc_rng,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let o = arg_mut!(owner);
        let bytes = arg_bytes!(bytes, len);
        let rng = arg_mut!(rng);
        out_check!(output_out);
        emit(o.inner.handle(bytes, now, &mut rng.inner), output_out)
    })
}

/// Issues a single-use invite valid for `ttl_secs` from `now`. `*invite_out` receives the
/// invite string (a bearer secret: whoever holds it may ask to join; not NUL-terminated),
/// `*output_out` the request registering its commitment with the relay.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_invite(
    owner: *mut zfc_owner,
    now: u64,
    ttl_secs: u64,
    relay_addr: *const c_char,
    relay_pk: *const u8,
    rng: *mut zfc_rng,
    invite_out: *mut *mut zfc_buf,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let o = arg_mut!(owner);
        let addr = arg_str!(relay_addr);
        let pk = arg_array!(relay_pk, 32);
        let rng = arg_mut!(rng);
        out_check!(invite_out, output_out);
        match o.inner.invite(now, ttl_secs, addr, (*pk).into(), &mut rng.inner) {
            Ok((invite, out)) => {
                out_write!(invite_out, zfc_buf::new(invite.to_uri().into_bytes()));
                out_write!(output_out, zfc_output::new(out));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Revokes an unused invite by its 32-byte commitment (zfc_invite_parse's `invite_pk`).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_revoke_invite(
    owner: *mut zfc_owner,
    invite_pk: *const u8,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let o = arg_mut!(owner);
        let pk = arg_array!(invite_pk, 32);
        out_check!(output_out);
        emit(o.inner.revoke_invite((*pk).into()), output_out)
    })
}

/// Grants the join request of `joiner` (the `key` of a ZFC_EVENT_JOIN_REQUESTED event).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_approve_join(
    owner: *mut zfc_owner,
    joiner: *const u8,
    rng: *mut zfc_rng,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let o = arg_mut!(owner);
        let j = arg_array!(joiner, 32);
        let rng = arg_mut!(rng);
        out_check!(output_out);
        emit(o.inner.approve_join((*j).into(), &mut rng.inner), output_out)
    })
}

/// Refuses the join request of `joiner` and revokes the invite it used.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_reject_join(
    owner: *mut zfc_owner,
    joiner: *const u8,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let o = arg_mut!(owner);
        let j = arg_array!(joiner, 32);
        out_check!(output_out);
        emit(o.inner.reject_join((*j).into()), output_out)
    })
}

/// Removes member `member`: a fresh epoch key reaches every remaining member but it.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_remove(
    owner: *mut zfc_owner,
    member: u32,
    rng: *mut zfc_rng,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let o = arg_mut!(owner);
        let rng = arg_mut!(rng);
        out_check!(output_out);
        emit(o.inner.remove(member, &mut rng.inner), output_out)
    })
}

/// Rotates the epoch key now.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_rotate(
    owner: *mut zfc_owner,
    rng: *mut zfc_rng,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let o = arg_mut!(owner);
        let rng = arg_mut!(rng);
        out_check!(output_out);
        emit(o.inner.rotate(&mut rng.inner), output_out)
    })
}

/// Deletes the room: the relay drops it and every member erases its keys.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_delete_room(owner: *mut zfc_owner, output_out: *mut *mut zfc_output) -> zfc_result {
    ffi!({
        let o = arg_mut!(owner);
        out_check!(output_out);
        emit(o.inner.delete_room(), output_out)
    })
}

/// Sends a room message of `len` bytes.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_send(
    owner: *mut zfc_owner,
    content: *const u8,
    len: usize,
    rng: *mut zfc_rng,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let o = arg_mut!(owner);
        let content = arg_bytes!(content, len);
        let rng = arg_mut!(rng);
        out_check!(output_out);
        emit(o.inner.send(content, &mut rng.inner), output_out)
    })
}

/// Writes the fingerprint of member `member` (30 digits in groups, not NUL-terminated).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_fingerprint(
    owner: *const zfc_owner,
    member: u32,
    fingerprint_out: *mut *mut zfc_buf,
) -> zfc_result {
    ffi!({
        let o = arg_ref!(owner);
        out_check!(fingerprint_out);
        match o.inner.fingerprint(member) {
            Ok(f) => {
                out_write!(fingerprint_out, zfc_buf::new(f.into_bytes()));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Seals the owner's whole state under `password` with Argon2id(`m_cost_kib`, `t_cost`,
/// `p_cost`) (0, 0, 0 selects the defaults: 64 MiB, 3, 1); `*state_out` receives the blob.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_seal_state(
    owner: *const zfc_owner,
    password: *const u8,
    password_len: usize,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    rng: *mut zfc_rng,
    state_out: *mut *mut zfc_buf,
) -> zfc_result {
    ffi!({
        let o = arg_ref!(owner);
        let pw = arg_bytes!(password, password_len);
        let rng = arg_mut!(rng);
        out_check!(state_out);
        match o.inner.seal_state(pw, params(m_cost_kib, t_cost, p_cost), &mut rng.inner) {
            Ok(b) => {
                out_write!(state_out, zfc_buf::new(b));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}

pub(crate) fn params(m: u32, t: u32, p: u32) -> Argon2Params {
    if (m, t, p) == (0, 0, 0) { Argon2Params::DEFAULT } else { Argon2Params { m_cost_kib: m, t_cost: t, p_cost: p } }
}

/// Loads an owner from a sealed state. A wrong password is ZFC_ERR_WRONG_PASSWORD.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_owner_open_state(
    state: *const u8,
    state_len: usize,
    password: *const u8,
    password_len: usize,
    owner_out: *mut *mut zfc_owner,
) -> zfc_result {
    ffi!({
        let blob = arg_bytes!(state, state_len);
        let pw = arg_bytes!(password, password_len);
        out_check!(owner_out);
        match Owner::open_state(blob, pw) {
            Ok(o) => {
                out_write!(owner_out, into_handle(zfc_owner { inner: o }));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}
