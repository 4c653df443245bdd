//! The native module of the `zfc` Python package, `zfc._zfc`: thin classes over zfc-client
//! (the facade every binding wraps, so Python fails with the same codes as C and Kotlin). The
//! pure-Python package `python/zfc` re-exports it and adds the asyncio client.
//!
//! Invariant: every call releases the GIL before it takes a zfc-client lock, and no Rust panic
//! crosses into Python as anything but PyO3's `PanicException`.

mod client;
mod config;
mod error;
mod event;
mod invite;
mod testing;

use pyo3::prelude::*;

/// The table of error codes this version knows: `(code, name, group, text)` per row, the same
/// numbers C's `zfc_result` and Kotlin's `ZfcException.code` report.
#[pyfunction]
fn error_codes() -> Vec<(u32, &'static str, &'static str, &'static str)> {
    zfc_core::code::TABLE.iter().map(|e| (e.code, e.name, e.group.name(), e.text)).collect()
}

#[pymodule]
fn _zfc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    error::register(m)?;
    m.add_class::<config::Argon2Params>()?;
    m.add_class::<config::ClientConfig>()?;
    m.add_class::<config::HistoryPolicy>()?;
    m.add_class::<config::RoomSettings>()?;
    m.add_class::<config::RelayAddress>()?;
    m.add_class::<event::Save>()?;
    m.add_class::<event::Transmit>()?;
    m.add_class::<event::RoomRole>()?;
    m.add_class::<event::RoomInfo>()?;
    m.add_class::<event::Content>()?;
    m.add_class::<event::RoomMessage>()?;
    m.add_class::<event::EpochChange>()?;
    m.add_class::<event::RoomOperation>()?;
    m.add_class::<event::ClientEvent>()?;
    m.add_class::<client::Client>()?;
    m.add_class::<invite::InviteInfo>()?;
    m.add_function(wrap_pyfunction!(invite::parse_invite, m)?)?;
    m.add_function(wrap_pyfunction!(invite::fingerprint, m)?)?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    testing::register(m)?;
    Ok(())
}
