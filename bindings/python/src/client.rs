//! `zfc.Client`: every room of one user, over `zfc_client::Client`.
//!
//! Thread-safety: a `Client` may be shared between threads. Every call releases the GIL first
//! and only then takes the client's lock (inside zfc-client), so a thread in a long call
//! (Argon2id, a commit for a large room) never holds the GIL while it waits or works, and a
//! thread waiting for the lock never holds the GIL either (no lock-order deadlock with it).

use pyo3::prelude::*;
use pyo3::types::PyType;
use zeroize::Zeroizing;
use zfc_client::Error;

use crate::config::{ClientConfig, RelayAddress, RoomSettings};
use crate::error::OrRaise;
use crate::event::{ClientEvent, Content, RoomInfo, Save, Transmit};

/// Every room of one user: their relay connections and sealed state, and the order of saving
/// and sending. Create or open one, then run its loop (or use `zfc.aio.Client`). Closing it
/// (`close()` or leaving a `with` block) erases its keys; later calls raise `ClosedError`.
#[pyclass(frozen, module = "zfc")]
pub struct Client {
    inner: zfc_client::Client,
}

impl Client {
    /// Runs `f` on the client with the GIL released, then raises its error as Python's.
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&zfc_client::Client) -> Result<T, Error> + Send,
    ) -> PyResult<T> {
        let inner = &self.inner;
        py.detach(|| f(inner)).or_raise(py)
    }
}

fn config_of(config: Option<PyRef<'_, ClientConfig>>) -> zfc_client::ClientConfig {
    config.map(|c| c.inner.clone()).unwrap_or_default()
}

#[pymethods]
impl Client {
    /// A new client with no rooms, its state sealed under `passphrase`. **Slow**: Argon2id
    /// (about 0.1 s with the defaults; the GIL is released meanwhile).
    #[classmethod]
    #[pyo3(signature = (passphrase, *, config = None))]
    fn create(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        passphrase: &[u8],
        config: Option<PyRef<'_, ClientConfig>>,
    ) -> PyResult<Self> {
        let config = config_of(config);
        let inner = py.detach(|| zfc_client::Client::create(config, passphrase)).or_raise(py)?;
        Ok(Self { inner })
    }

    /// The client saved in `blob` (from a `Save`). **Slow**: Argon2id.
    #[classmethod]
    #[pyo3(signature = (blob, passphrase, *, config = None))]
    fn open(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        blob: &[u8],
        passphrase: &[u8],
        config: Option<PyRef<'_, ClientConfig>>,
    ) -> PyResult<Self> {
        let config = config_of(config);
        let inner = py.detach(|| zfc_client::Client::open(config, blob, passphrase)).or_raise(py)?;
        Ok(Self { inner })
    }

    /// Erases every key and drops every connection; later calls raise `ClosedError`. Idempotent.
    fn close(&self, py: Python<'_>) {
        let inner = &self.inner;
        py.detach(|| inner.close());
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    /// Sets (or replaces) the admission token sent to `relay` before a room is created there.
    fn set_admission_token(&self, py: Python<'_>, relay: PyRef<'_, RelayAddress>, token: &[u8]) -> PyResult<()> {
        let relay = relay.inner.clone();
        self.call(py, |c| c.set_admission_token(&relay, token))
    }

    /// Creates a room on `relay`; returns its 16-byte id. The creation lands once connected.
    #[pyo3(signature = (relay, settings = None))]
    fn create_room(
        &self,
        py: Python<'_>,
        relay: PyRef<'_, RelayAddress>,
        settings: Option<PyRef<'_, RoomSettings>>,
    ) -> PyResult<Vec<u8>> {
        let relay = relay.inner.clone();
        let settings = settings.map(|s| s.inner).unwrap_or_default();
        self.call(py, |c| c.create_room(&relay, settings))
    }

    /// Asks to join the room of `invite` as `name` (shown to the owner); returns the room id.
    fn join_room(&self, py: Python<'_>, invite: &str, name: &str) -> PyResult<Vec<u8>> {
        let invite = Zeroizing::new(invite.to_owned());
        self.call(py, |c| c.join_room(&invite, name))
    }

    /// Imports a version-1 single-room sealed state (`ZFCS`) on `relay`; returns the room id.
    /// **Slow**: Argon2id.
    fn import_room(
        &self,
        py: Python<'_>,
        blob: &[u8],
        passphrase: &[u8],
        relay: PyRef<'_, RelayAddress>,
    ) -> PyResult<Vec<u8>> {
        let relay = relay.inner.clone();
        self.call(py, |c| c.import_room(blob, passphrase, &relay))
    }

    /// A new invite to `room` (owner), valid for `ttl_secs`: a secret to hand to one person.
    #[pyo3(signature = (room, ttl_secs = 86_400))]
    fn invite(&self, py: Python<'_>, room: &[u8], ttl_secs: u64) -> PyResult<String> {
        self.call(py, |c| c.invite(room, ttl_secs))
    }

    /// Revokes the invite whose key is `invite_key` (owner).
    fn revoke_invite(&self, py: Python<'_>, room: &[u8], invite_key: &[u8]) -> PyResult<()> {
        self.call(py, |c| c.revoke_invite(room, invite_key))
    }

    /// Approves the pending join of `joiner` (owner). **Slow in a large room**: a commit.
    fn approve_join(&self, py: Python<'_>, room: &[u8], joiner: &[u8]) -> PyResult<()> {
        self.call(py, |c| c.approve_join(room, joiner))
    }

    /// Rejects the pending join of `joiner` (owner).
    fn reject_join(&self, py: Python<'_>, room: &[u8], joiner: &[u8]) -> PyResult<()> {
        self.call(py, |c| c.reject_join(room, joiner))
    }

    /// Removes `member` (owner). **Slow in a large room**: a commit to every other member.
    fn remove_member(&self, py: Python<'_>, room: &[u8], member: u32) -> PyResult<()> {
        self.call(py, |c| c.remove_member(room, member))
    }

    /// Rotates the room key (owner). **Slow in a large room**.
    fn rotate(&self, py: Python<'_>, room: &[u8]) -> PyResult<()> {
        self.call(py, |c| c.rotate(room))
    }

    /// Deletes the room (owner).
    fn delete_room(&self, py: Python<'_>, room: &[u8]) -> PyResult<()> {
        self.call(py, |c| c.delete_room(room))
    }

    /// Replaces this member's sending key (member).
    fn update_key(&self, py: Python<'_>, room: &[u8]) -> PyResult<()> {
        self.call(py, |c| c.update_key(room))
    }

    /// Leaves the room (member).
    fn leave(&self, py: Python<'_>, room: &[u8]) -> PyResult<()> {
        self.call(py, |c| c.leave(room))
    }

    /// Fetches up to `limit` earlier messages this party may read.
    #[pyo3(signature = (room, limit = 100))]
    fn fetch_history(&self, py: Python<'_>, room: &[u8], limit: u32) -> PyResult<()> {
        self.call(py, |c| c.fetch_history(room, limit))
    }

    /// Sends `content`; returns the local id that `MessageSent` / `MessageRefused` will name.
    fn send(&self, py: Python<'_>, room: &[u8], content: PyRef<'_, Content>) -> PyResult<u64> {
        let content = zfc_client::content::Content::from(&*content);
        self.call(py, |c| c.send(room, content))
    }

    /// Sends a text message; returns its local id.
    fn send_text(&self, py: Python<'_>, room: &[u8], text: &str) -> PyResult<u64> {
        self.call(py, |c| c.send_text(room, text))
    }

    /// Drops a room this party is gone from (or any room) from the state.
    fn forget_room(&self, py: Python<'_>, room: &[u8]) -> PyResult<()> {
        self.call(py, |c| c.forget_room(room))
    }

    /// Every room's id.
    fn rooms(&self, py: Python<'_>) -> PyResult<Vec<Vec<u8>>> {
        self.call(py, |c| c.rooms())
    }

    /// What this party knows of `room`.
    fn room_info(&self, py: Python<'_>, room: &[u8]) -> PyResult<RoomInfo> {
        self.call(py, |c| c.room_info(room)).map(Into::into)
    }

    /// The fingerprint of `member`'s key in `room`, to compare out of band.
    fn fingerprint(&self, py: Python<'_>, room: &[u8], member: u32) -> PyResult<String> {
        self.call(py, |c| c.fingerprint(room, member))
    }

    /// Re-seals the state under `new`; returns the save to write. **Slow**: Argon2id, twice.
    fn change_passphrase(&self, py: Python<'_>, current: &[u8], new: &[u8]) -> PyResult<Save> {
        self.call(py, |c| c.change_passphrase(current, new)).map(Save::from)
    }

    /// The next state to write, if any: write it atomically, then call `state_saved`.
    fn poll_save(&self, py: Python<'_>) -> PyResult<Option<Save>> {
        self.call(py, |c| c.poll_save()).map(|s| s.map(Save::from))
    }

    /// The save of `generation` is written: the records that waited for it may leave.
    fn state_saved(&self, py: Python<'_>, generation: u64) -> PyResult<()> {
        self.call(py, |c| c.state_saved(generation))
    }

    /// Whether records wait for a save not yet confirmed.
    fn waits_for_save(&self, py: Python<'_>) -> PyResult<bool> {
        self.call(py, |c| c.waits_for_save())
    }

    /// The next thing the sockets must do, if any.
    fn poll_transmit(&self, py: Python<'_>) -> PyResult<Option<Transmit>> {
        self.call(py, |c| c.poll_transmit()).map(|t| t.map(Into::into))
    }

    /// The next event, if any.
    fn poll_event(&self, py: Python<'_>) -> PyResult<Option<ClientEvent>> {
        match self.call(py, |c| c.poll_event())? {
            Some(e) => ClientEvent::from_client(py, e).map(Some),
            None => Ok(None),
        }
    }

    /// Socket `conn` opened.
    fn handle_connected(&self, py: Python<'_>, conn: u64, now_ms: u64) -> PyResult<()> {
        self.call(py, |c| c.handle_connected(conn, now_ms))
    }

    /// Socket `conn` received one binary message.
    fn handle_bytes(&self, py: Python<'_>, conn: u64, data: &[u8], now_ms: u64) -> PyResult<()> {
        self.call(py, |c| c.handle_bytes(conn, data, now_ms))
    }

    /// Socket `conn` closed or failed.
    fn handle_closed(&self, py: Python<'_>, conn: u64, now_ms: u64) -> PyResult<()> {
        self.call(py, |c| c.handle_closed(conn, now_ms))
    }

    /// When (Unix ms) to call `handle_timeout`, if anything waits for time.
    fn next_timeout(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        self.call(py, |c| c.next_timeout())
    }

    /// Time passed: dials, keep-alives and backoff that are due.
    fn handle_timeout(&self, py: Python<'_>, now_ms: u64) -> PyResult<()> {
        self.call(py, |c| c.handle_timeout(now_ms))
    }

    fn __repr__(&self) -> String {
        if self.inner.is_closed() { "<zfc.Client closed>".into() } else { "<zfc.Client>".into() }
    }
}
