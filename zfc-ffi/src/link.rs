//! The encrypted client-relay link (Noise NK to the relay's pinned key).

use zfc_core::link::{self, ClientHandshake, RelayKey, Transport};

use crate::boundary::{free_handle, into_handle, take_handle};
use crate::handles::{zfc_buf, zfc_rng};
use crate::result::zfc_result;

/// The relay's static link key (secret).
pub struct zfc_relay_key {
    inner: RelayKey,
}

/// A client's handshake in progress.
pub struct zfc_link_handshake {
    inner: ClientHandshake,
}

/// An established link, on either side.
pub struct zfc_link {
    inner: Transport,
}

/// Creates a fresh relay key.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_relay_key_new(rng: *mut zfc_rng, key_out: *mut *mut zfc_relay_key) -> zfc_result {
    ffi!({
        let rng = arg_mut!(rng);
        out_check!(key_out);
        out_write!(key_out, into_handle(zfc_relay_key { inner: RelayKey::generate(&mut rng.inner) }));
        zfc_result::ZFC_OK
    })
}

/// Loads a relay key from its 32 secret bytes (as stored by the relay).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_relay_key_from_secret(secret: *const u8, key_out: *mut *mut zfc_relay_key) -> zfc_result {
    ffi!({
        let s = arg_array!(secret, 32);
        out_check!(key_out);
        out_write!(key_out, into_handle(zfc_relay_key { inner: RelayKey::from_bytes(*s) }));
        zfc_result::ZFC_OK
    })
}

/// Writes the 32-byte public key (what invites carry).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_relay_key_public(key: *const zfc_relay_key, public_out: *mut u8) -> zfc_result {
    ffi!({
        let k = arg_ref!(key);
        out_check!(public_out);
        out_array!(public_out, k.inner.public().to_bytes());
        zfc_result::ZFC_OK
    })
}

/// Frees a relay key, erasing it; NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_relay_key_free(key: *mut zfc_relay_key) {
    ffi_void!({
        // SAFETY: the header requires `key` to be NULL or from this library, not yet freed.
        unsafe { free_handle(key) }
    })
}

/// Client: starts a link to the relay whose public key is `relay_pk`. `*message_out` receives
/// handshake 1 (send it), `*handshake_out` the state for zfc_link_client_finish.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_link_client_start(
    relay_pk: *const u8,
    rng: *mut zfc_rng,
    handshake_out: *mut *mut zfc_link_handshake,
    message_out: *mut *mut zfc_buf,
) -> zfc_result {
    ffi!({
        let pk = arg_array!(relay_pk, 32);
        let rng = arg_mut!(rng);
        out_check!(handshake_out, message_out);
        match ClientHandshake::start(&(*pk).into(), &mut rng.inner) {
            Ok((hs, msg)) => {
                out_write!(handshake_out, into_handle(zfc_link_handshake { inner: hs }));
                out_write!(message_out, zfc_buf::new(msg));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Client: finishes the handshake with the relay's answer. CONSUMES `handshake` (it is freed
/// whatever the result; do not free it again). `*link_out` receives the link.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_link_client_finish(
    handshake: *mut zfc_link_handshake,
    answer: *const u8,
    answer_len: usize,
    link_out: *mut *mut zfc_link,
) -> zfc_result {
    ffi!({
        if handshake.is_null() {
            return zfc_result::ZFC_ERR_NULL_ARGUMENT;
        }
        // SAFETY: the header requires a live handshake from zfc_link_client_start and states that
        // this call consumes it; it is taken back exactly once, here.
        let hs = unsafe { take_handle(handshake) };
        let answer = arg_bytes!(answer, answer_len);
        out_check!(link_out);
        match hs.inner.finish(answer) {
            Ok(t) => {
                out_write!(link_out, into_handle(zfc_link { inner: t }));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Frees a handshake that will not be finished; NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_link_handshake_free(handshake: *mut zfc_link_handshake) {
    ffi_void!({
        // SAFETY: the header requires `handshake` to be NULL or live and not yet consumed.
        unsafe { free_handle(handshake) }
    })
}

/// Relay: answers handshake 1 with `key`. `*link_out` receives the link, `*answer_out`
/// handshake 2 (send it).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_link_respond(
    key: *const zfc_relay_key,
    message: *const u8,
    message_len: usize,
    rng: *mut zfc_rng,
    link_out: *mut *mut zfc_link,
    answer_out: *mut *mut zfc_buf,
) -> zfc_result {
    ffi!({
        let k = arg_ref!(key);
        let msg = arg_bytes!(message, message_len);
        let rng = arg_mut!(rng);
        out_check!(link_out, answer_out);
        match link::respond(&k.inner, msg, &mut rng.inner) {
            Ok((t, answer)) => {
                out_write!(link_out, into_handle(zfc_link { inner: t }));
                out_write!(answer_out, zfc_buf::new(answer));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Writes the link's 32-byte channel binding (pass it to zfc_*_on_connected / zfc_relay_connect).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_link_channel_binding(link: *const zfc_link, binding_out: *mut u8) -> zfc_result {
    ffi!({
        let l = arg_ref!(link);
        out_check!(binding_out);
        out_array!(binding_out, l.inner.channel_binding().to_bytes());
        zfc_result::ZFC_OK
    })
}

/// Seals `len` bytes into one record for the peer.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_link_seal(
    link: *mut zfc_link,
    plaintext: *const u8,
    len: usize,
    record_out: *mut *mut zfc_buf,
) -> zfc_result {
    ffi!({
        let l = arg_mut!(link);
        let pt = arg_bytes!(plaintext, len);
        out_check!(record_out);
        match l.inner.seal(pt) {
            Ok(r) => {
                out_write!(record_out, zfc_buf::new(r));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Opens one record from the peer. Any error means: drop the connection.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_link_open(
    link: *mut zfc_link,
    record: *const u8,
    len: usize,
    plaintext_out: *mut *mut zfc_buf,
) -> zfc_result {
    ffi!({
        let l = arg_mut!(link);
        let rec = arg_bytes!(record, len);
        out_check!(plaintext_out);
        match l.inner.open(rec) {
            Ok(p) => {
                out_write!(plaintext_out, zfc_buf::new(p));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Frees a link; NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_link_free(link: *mut zfc_link) {
    ffi_void!({
        // SAFETY: the header requires `link` to be NULL or from this library, not yet freed.
        unsafe { free_handle(link) }
    })
}
