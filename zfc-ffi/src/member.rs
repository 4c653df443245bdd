//! A member of a room (or a joiner on its way in).

use std::ffi::c_char;

use zfc_core::{Invite, Member};

use crate::boundary::{free_handle, into_handle};
use crate::handles::{zfc_buf, zfc_rng};
use crate::output::{emit, zfc_output};
use crate::owner::params;
use crate::result::zfc_result;

/// A member of one room, from its join request on.
pub struct zfc_member {
    pub(crate) inner: Member,
}

/// Starts joining with an invite string (NUL-terminated) under the display name `name`
/// (NUL-terminated UTF-8, at most 128 bytes). `*output_out` receives the join request to send.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_join(
    invite: *const c_char,
    name: *const c_char,
    now: u64,
    rng: *mut zfc_rng,
    member_out: *mut *mut zfc_member,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let invite = arg_str!(invite);
        let name = arg_str!(name);
        let rng = arg_mut!(rng);
        out_check!(member_out, output_out);
        let invite = match Invite::parse(invite) {
            Ok(i) => i,
            Err(e) => return e.into(),
        };
        match Member::join(&invite, name, now, &mut rng.inner) {
            Ok((m, out)) => {
                out_write!(member_out, into_handle(zfc_member { inner: m }));
                out_write!(output_out, zfc_output::new(out));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Frees a member, erasing its keys; NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_free(member: *mut zfc_member) {
    ffi_void!({
        // SAFETY: the header requires `member` to be NULL or from this library, not yet freed.
        unsafe { free_handle(member) }
    })
}

/// A new link to the relay is up; `channel_binding` is its 32-byte handshake hash.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_on_connected(member: *mut zfc_member, channel_binding: *const u8) -> zfc_result {
    ffi!({
        let m = arg_mut!(member);
        let b = arg_array!(channel_binding, 32);
        m.inner.on_connected((*b).into());
        zfc_result::ZFC_OK
    })
}

/// Handles one message from the relay (a link record's plaintext). On ZFC_ERR_RELAY_GAP or
/// ZFC_ERR_RELAY_REPLAY, reconnect: the member resumes from its own position.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_handle(
    member: *mut zfc_member,
    bytes: *const u8,
    len: usize,
    rng: *mut zfc_rng,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let m = arg_mut!(member);
        let bytes = arg_bytes!(bytes, len);
        let rng = arg_mut!(rng);
        out_check!(output_out);
        emit(m.inner.handle(bytes, &mut rng.inner), output_out)
    })
}

/// Sends a room message of `len` bytes (ZFC_ERR_NOT_JOINED before joining).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_send(
    member: *mut zfc_member,
    content: *const u8,
    len: usize,
    rng: *mut zfc_rng,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let m = arg_mut!(member);
        let content = arg_bytes!(content, len);
        let rng = arg_mut!(rng);
        out_check!(output_out);
        emit(m.inner.send(content, &mut rng.inner), output_out)
    })
}

/// Leaves the room and erases every key.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_leave(member: *mut zfc_member, output_out: *mut *mut zfc_output) -> zfc_result {
    ffi!({
        let m = arg_mut!(member);
        out_check!(output_out);
        emit(m.inner.leave(), output_out)
    })
}

/// Announces a fresh key-delivery key.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_update_key(
    member: *mut zfc_member,
    rng: *mut zfc_rng,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let m = arg_mut!(member);
        let rng = arg_mut!(rng);
        out_check!(output_out);
        emit(m.inner.update_key(&mut rng.inner), output_out)
    })
}

/// Asks for the next page of history (at most `limit` entries) before our live stream.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_fetch_history(
    member: *mut zfc_member,
    limit: u32,
    output_out: *mut *mut zfc_output,
) -> zfc_result {
    ffi!({
        let m = arg_mut!(member);
        out_check!(output_out);
        emit(m.inner.fetch_history(limit), output_out)
    })
}

/// Writes whether the member is in the room (false while joining and once gone).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_is_joined(member: *const zfc_member, joined_out: *mut bool) -> zfc_result {
    ffi!({
        let m = arg_ref!(member);
        out_check!(joined_out);
        out_write!(joined_out, m.inner.is_joined());
        zfc_result::ZFC_OK
    })
}

/// Writes our member number (ZFC_ERR_NOT_JOINED before joining).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_number(member: *const zfc_member, number_out: *mut u32) -> zfc_result {
    ffi!({
        let m = arg_ref!(member);
        out_check!(number_out);
        match m.inner.phase().member() {
            Some(n) => {
                out_write!(number_out, n);
                zfc_result::ZFC_OK
            }
            None => zfc_result::ZFC_ERR_NOT_JOINED,
        }
    })
}

/// Writes the newest epoch (ZFC_ERR_NOT_JOINED before joining).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_epoch(member: *const zfc_member, epoch_out: *mut u32) -> zfc_result {
    ffi!({
        let m = arg_ref!(member);
        out_check!(epoch_out);
        match m.inner.phase().epoch() {
            Some(e) => {
                out_write!(epoch_out, e);
                zfc_result::ZFC_OK
            }
            None => zfc_result::ZFC_ERR_NOT_JOINED,
        }
    })
}

/// Writes the fingerprint of member `number` (not NUL-terminated).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_fingerprint(
    member: *const zfc_member,
    number: u32,
    fingerprint_out: *mut *mut zfc_buf,
) -> zfc_result {
    ffi!({
        let m = arg_ref!(member);
        out_check!(fingerprint_out);
        match m.inner.fingerprint(number) {
            Ok(f) => {
                out_write!(fingerprint_out, zfc_buf::new(f.into_bytes()));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Seals the member's whole state under `password` (see zfc_owner_seal_state for the costs).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_seal_state(
    member: *const zfc_member,
    password: *const u8,
    password_len: usize,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    rng: *mut zfc_rng,
    state_out: *mut *mut zfc_buf,
) -> zfc_result {
    ffi!({
        let m = arg_ref!(member);
        let pw = arg_bytes!(password, password_len);
        let rng = arg_mut!(rng);
        out_check!(state_out);
        match m.inner.seal_state(pw, params(m_cost_kib, t_cost, p_cost), &mut rng.inner) {
            Ok(b) => {
                out_write!(state_out, zfc_buf::new(b));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Loads a member from a sealed state. A wrong password is ZFC_ERR_WRONG_PASSWORD.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_member_open_state(
    state: *const u8,
    state_len: usize,
    password: *const u8,
    password_len: usize,
    member_out: *mut *mut zfc_member,
) -> zfc_result {
    ffi!({
        let blob = arg_bytes!(state, state_len);
        let pw = arg_bytes!(password, password_len);
        out_check!(member_out);
        match Member::open_state(blob, pw) {
            Ok(m) => {
                out_write!(member_out, into_handle(zfc_member { inner: m }));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}
