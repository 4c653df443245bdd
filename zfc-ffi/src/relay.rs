//! The relay's rule book, for relays written in other languages: feed it each connection's
//! requests (the link's plaintexts) and send what it returns.

use zfc_core::relay::{ConnId, Outgoing, RelayConfig, RuleBook};

use crate::boundary::{free_handle, into_handle};
use crate::handles::zfc_rng;
use crate::result::zfc_result;

/// The relay's state machine: rooms, rosters, invites, logs, queues, connections.
pub struct zfc_relay {
    inner: RuleBook,
}

/// Messages the relay must send, each to one connection, in order.
pub struct zfc_relay_output {
    items: Vec<Outgoing>,
}

/// Creates an empty rule book with the default limits.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_relay_new(relay_out: *mut *mut zfc_relay) -> zfc_result {
    ffi!({
        out_check!(relay_out);
        out_write!(relay_out, into_handle(zfc_relay { inner: RuleBook::new(RelayConfig::default()) }));
        zfc_result::ZFC_OK
    })
}

/// Frees a rule book; NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_relay_free(relay: *mut zfc_relay) {
    ffi_void!({
        // SAFETY: the header requires `relay` to be NULL or from this library, not yet freed.
        unsafe { free_handle(relay) }
    })
}

/// A connection's link is up (`conn` is the caller's name for it, `channel_binding` the link's
/// 32-byte handshake hash). `*output_out` receives the challenge to send.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_relay_connect(
    relay: *mut zfc_relay,
    conn: u64,
    channel_binding: *const u8,
    rng: *mut zfc_rng,
    output_out: *mut *mut zfc_relay_output,
) -> zfc_result {
    ffi!({
        let r = arg_mut!(relay);
        let b = arg_array!(channel_binding, 32);
        let rng = arg_mut!(rng);
        out_check!(output_out);
        let items = r.inner.connect(conn as ConnId, (*b).into(), &mut rng.inner);
        out_write!(output_out, into_handle(zfc_relay_output { items }));
        zfc_result::ZFC_OK
    })
}

/// Handles one request from `conn` at Unix time `now`. Refusals of well-formed requests are
/// answers inside `*output_out`; an error result (ZFC_ERR_RELAY_*) means the bytes were not a
/// request: close that connection (and call zfc_relay_disconnect).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_relay_handle(
    relay: *mut zfc_relay,
    conn: u64,
    bytes: *const u8,
    len: usize,
    now: u64,
    output_out: *mut *mut zfc_relay_output,
) -> zfc_result {
    ffi!({
        let r = arg_mut!(relay);
        let bytes = arg_bytes!(bytes, len);
        out_check!(output_out);
        match r.inner.handle(conn as ConnId, bytes, now) {
            Ok(items) => {
                out_write!(output_out, into_handle(zfc_relay_output { items }));
                zfc_result::ZFC_OK
            }
            Err(reject) => reject.into(),
        }
    })
}

/// A connection closed.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_relay_disconnect(relay: *mut zfc_relay, conn: u64) -> zfc_result {
    ffi!({
        let r = arg_mut!(relay);
        r.inner.disconnect(conn as ConnId);
        zfc_result::ZFC_OK
    })
}

/// Number of messages to send; 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_relay_output_count(output: *const zfc_relay_output) -> usize {
    ffi_value!(0, {
        // SAFETY: the header requires `output` to be NULL or a live output from this library.
        unsafe { output.as_ref() }.map(|o| o.items.len()).unwrap_or(0)
    })
}

/// Message `index`: its connection and bytes (borrowed until `output` is freed).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_relay_output_get(
    output: *const zfc_relay_output,
    index: usize,
    conn_out: *mut u64,
    data_out: *mut *const u8,
    len_out: *mut usize,
) -> zfc_result {
    ffi!({
        let o = arg_ref!(output);
        out_check!(conn_out, data_out, len_out);
        let Some(item) = o.items.get(index) else { return zfc_result::ZFC_ERR_INDEX };
        out_write!(conn_out, item.conn);
        out_write!(data_out, item.bytes.as_ptr());
        out_write!(len_out, item.bytes.len());
        zfc_result::ZFC_OK
    })
}

/// Frees a relay output; NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_relay_output_free(output: *mut zfc_relay_output) {
    ffi_void!({
        // SAFETY: the header requires `output` to be NULL or from this library, not yet freed.
        unsafe { free_handle(output) }
    })
}
