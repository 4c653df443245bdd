//! `zfc._testing`: what the package's own tests need and apps never use. An in-process relay
//! (zfc-client's `sim::Relay`: the real rule book behind real links), so that tests drive
//! clients through their public loop without a network.

use std::sync::Mutex;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use zfc_client::content::Envelope;
use zfc_client::sim;
use zfc_core::relay::RelayConfig;

use crate::error::OrRaise;
use crate::event::Content;

/// Link records the relay writes, each with its socket.
type Records = Vec<(u64, Vec<u8>)>;

/// A relay in this process. `open()` a socket per `Transmit.Connect`, pass every
/// `Transmit.Send` to `receive`, and hand each returned record to the client owning its socket.
#[pyclass(frozen, module = "zfc._testing")]
pub struct Relay {
    inner: Mutex<sim::Relay>,
}

impl Relay {
    fn with<T>(&self, f: impl FnOnce(&mut sim::Relay) -> T) -> PyResult<T> {
        let mut r = self.inner.lock().map_err(|_| PyRuntimeError::new_err("the relay panicked earlier"))?;
        Ok(f(&mut r))
    }
}

#[pymethods]
impl Relay {
    /// A relay with default rules; `seed` makes its key.
    #[new]
    #[pyo3(signature = (seed = 99))]
    fn new(seed: u64) -> Self {
        Self { inner: Mutex::new(sim::Relay::new(RelayConfig::default(), seed)) }
    }

    /// Its link key (what clients pin).
    #[getter]
    fn public_key(&self) -> PyResult<Vec<u8>> {
        self.with(|r| r.public_key().to_vec())
    }

    /// A socket reached it; the socket's id.
    fn open(&self) -> PyResult<u64> {
        self.with(sim::Relay::open)
    }

    /// Socket `sock` is gone.
    fn close(&self, sock: u64) -> PyResult<()> {
        self.with(|r| r.close(sock))
    }

    /// Bytes written on `sock` at `now_ms`: returns the records the relay writes, as
    /// `(socket, bytes)` in order, and whether it closed `sock`.
    fn receive(&self, py: Python<'_>, sock: u64, data: &[u8], now_ms: u64) -> PyResult<(Records, bool)> {
        let got = self.with(|r| r.receive(sock, data, now_ms))?.or_raise(py)?;
        Ok((got.records, got.closed))
    }
}

/// The fields of a message as `messages.json` checks them.
type Opened = ([u8; 16], u32, u32, u32, [u8; 24], Vec<u8>, usize, Vec<u8>);

/// Opens a sealed room message `frame` with an epoch `message_key` after verifying it with
/// `sender_sign_pk`: `(room_id, epoch, sender, seq, nonce, aad, padded_len, content)`.
#[pyfunction]
fn open_message(py: Python<'_>, frame: &[u8], message_key: [u8; 32], sender_sign_pk: [u8; 32]) -> PyResult<Opened> {
    let m = zfc_core::internal::vectors::open_message(frame, message_key, &sender_sign_pk)
        .map_err(zfc_client::Error::Core)
        .or_raise(py)?;
    Ok((m.room_id, m.epoch, m.sender, m.seq, m.nonce, m.aad, m.padded_len, m.content.to_vec()))
}

/// Opens a version-1 sealed state envelope with `password`; its plaintext.
#[pyfunction]
fn open_sealed_state(py: Python<'_>, blob: &[u8], password: &[u8]) -> PyResult<Vec<u8>> {
    let pt =
        zfc_core::internal::vectors::open_sealed_state(blob, password).map_err(zfc_client::Error::Core).or_raise(py)?;
    Ok(pt.to_vec())
}

/// Decodes a message's content bytes as events do: `(content, claimed_sent_at_ms)`.
#[pyfunction]
fn decode_content(data: &[u8]) -> (Content, Option<u64>) {
    let e = Envelope::decode(data);
    (e.content.into(), e.claimed_sent_at_ms)
}

/// Encodes `content` with a claimed time as `Client.send` does.
#[pyfunction]
#[pyo3(signature = (content, claimed_sent_at_ms = None))]
fn encode_content(py: Python<'_>, content: PyRef<'_, Content>, claimed_sent_at_ms: Option<u64>) -> PyResult<Vec<u8>> {
    let e = Envelope { content: (&*content).into(), claimed_sent_at_ms };
    e.encode().map_err(zfc_client::Error::from).or_raise(py)
}

/// The Rust side of the Python benchmark (`bench/bench.py`): `n` messages of `size` bytes
/// sent by one member and read by the owner and itself through the in-process relay, every
/// client driven by `sim::Network`'s loop in Rust; seconds taken. The Python side runs the same
/// loop from Python, so the difference is what the binding costs.
#[pyfunction]
fn bench_send_receive(py: Python<'_>, n: u32, size: usize) -> PyResult<f64> {
    py.detach(|| -> Result<f64, zfc_client::Error> {
        let mut net = sim::Network::new(RelayConfig::default(), 7);
        let relay = net.address()?;
        let (owner, member) = (net.add(sim::config(1, false))?, net.add(sim::config(2, false))?);
        let settings = zfc_client::RoomSettings { auto_approve: true, ..Default::default() };
        let room = net.client(owner)?.create_room(&relay, settings)?;
        net.run()?;
        let invite = net.client(owner)?.invite(&room, 3600)?;
        net.client(member)?.join_room(&invite, "member")?;
        net.run()?;
        let text = "x".repeat(size);
        let start = std::time::Instant::now();
        for _ in 0..n {
            net.client(member)?.send_text(&room, &text)?;
            net.run()?;
            net.take(owner);
            net.take(member);
        }
        Ok(start.elapsed().as_secs_f64())
    })
    .or_raise(py)
}

/// The Rust side of the per-call benchmark: `n` calls of `Client::next_timeout` on a client
/// with one room; seconds taken.
#[pyfunction]
fn bench_calls(py: Python<'_>, n: u32) -> PyResult<f64> {
    py.detach(|| -> Result<f64, zfc_client::Error> {
        let client = zfc_client::Client::create(sim::config(1, false), b"bench")?;
        let start = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(client.next_timeout()?);
        }
        Ok(start.elapsed().as_secs_f64())
    })
    .or_raise(py)
}

/// Adds the submodule.
pub fn register(parent: &Bound<'_, PyModule>) -> PyResult<()> {
    let m = PyModule::new(parent.py(), "_testing")?;
    m.add_class::<Relay>()?;
    m.add_function(wrap_pyfunction!(open_message, &m)?)?;
    m.add_function(wrap_pyfunction!(open_sealed_state, &m)?)?;
    m.add_function(wrap_pyfunction!(decode_content, &m)?)?;
    m.add_function(wrap_pyfunction!(encode_content, &m)?)?;
    m.add_function(wrap_pyfunction!(bench_send_receive, &m)?)?;
    m.add_function(wrap_pyfunction!(bench_calls, &m)?)?;
    parent.add_submodule(&m)?;
    Ok(())
}
