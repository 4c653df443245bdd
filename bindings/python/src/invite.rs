//! `zfc.parse_invite` and `zfc.fingerprint`: what a user checks out of band, without a client.

use pyo3::prelude::*;
use zeroize::Zeroizing;

use crate::error::OrRaise;

/// An invite's public fields: what to show before joining (its secret token is not here).
#[pyclass(frozen, get_all, eq, module = "zfc")]
#[derive(PartialEq, Eq)]
pub struct InviteInfo {
    /// The room id (16 bytes).
    pub room: Vec<u8>,
    /// The owner's Ed25519 room key.
    pub owner_sign_key: Vec<u8>,
    /// The owner's X25519 room key.
    pub owner_kx_key: Vec<u8>,
    /// The salt binding the room id to the owner's keys.
    pub salt: Vec<u8>,
    /// The invite's public key (what `Client.revoke_invite` names).
    pub invite_key: Vec<u8>,
    /// Expiry, seconds since the Unix epoch.
    pub expires_at_secs: u64,
    /// The relay's URL.
    pub relay_url: String,
    /// The relay's pinned link key.
    pub relay_key: Vec<u8>,
}

#[pymethods]
impl InviteInfo {
    fn __repr__(&self) -> String {
        format!(
            "InviteInfo(room={}, relay_url={:?}, expires_at_secs={})",
            zfc_core::internal::crypto::to_hex(&self.room),
            self.relay_url,
            self.expires_at_secs
        )
    }
}

/// Reads an invite without joining; raises `InviteError` (`BAD_INVITE`) for a malformed one.
#[pyfunction]
pub fn parse_invite(py: Python<'_>, uri: &str) -> PyResult<InviteInfo> {
    let uri = Zeroizing::new(uri.to_owned());
    let i = zfc_client::parse_invite(&uri).or_raise(py)?;
    Ok(InviteInfo {
        room: i.room,
        owner_sign_key: i.owner_sign_key,
        owner_kx_key: i.owner_kx_key,
        salt: i.salt,
        invite_key: i.invite_key,
        expires_at_secs: i.expires_at_secs,
        relay_url: i.relay_url,
        relay_key: i.relay_key,
    })
}

/// The fingerprint of a member's 32-byte signing key in a room (16-byte id), to compare out of
/// band; `Client.fingerprint` gives it by member number.
#[pyfunction]
pub fn fingerprint(py: Python<'_>, room: &[u8], member_key: &[u8]) -> PyResult<String> {
    zfc_client::fingerprint(room, member_key).or_raise(py)
}
