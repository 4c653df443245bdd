//! What a client and a room are configured with: `ClientConfig`, `Argon2Params`,
//! `RoomSettings`, `HistoryPolicy`, and `RelayAddress`. Defaults are zfc-client's own (read from
//! its `Default`s, never restated), so an app that passes nothing gets production settings.

use pyo3::prelude::*;
use zfc_client::{Clock, Randomness};
use zfc_core::HistoryPolicy as CoreHistory;
use zfc_core::pickle::Argon2Params as CoreArgon2;

use crate::error::OrRaise;

/// Argon2id's cost for the passphrase key. The default is the production one; anything below
/// the floor is refused unless `ClientConfig(insecure_weak_kdf_for_tests=True)`.
#[pyclass(frozen, eq, module = "zfc")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    #[pyo3(get)]
    pub m_cost_kib: u32,
    /// Passes.
    #[pyo3(get)]
    pub t_cost: u32,
    /// Lanes.
    #[pyo3(get)]
    pub p_cost: u32,
}

#[pymethods]
impl Argon2Params {
    #[new]
    // Literal defaults, so that Python's signature shows them; a test holds them to zfc-core's.
    #[pyo3(signature = (*, m_cost_kib = 65536, t_cost = 3, p_cost = 1))]
    fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Self {
        Self { m_cost_kib, t_cost, p_cost }
    }

    fn __repr__(&self) -> String {
        format!("Argon2Params(m_cost_kib={}, t_cost={}, p_cost={})", self.m_cost_kib, self.t_cost, self.p_cost)
    }
}

impl From<Argon2Params> for CoreArgon2 {
    fn from(p: Argon2Params) -> Self {
        Self { m_cost_kib: p.m_cost_kib, t_cost: p.t_cost, p_cost: p.p_cost }
    }
}

/// How a client behaves. Keyword-only; the defaults are what apps use.
#[pyclass(frozen, module = "zfc")]
#[derive(Clone)]
pub struct ClientConfig {
    pub inner: zfc_client::ClientConfig,
}

#[pymethods]
impl ClientConfig {
    #[new]
    #[pyo3(signature = (
        *,
        connection_per_room = false,
        keepalive_interval_ms = 30_000,
        connect_timeout_ms = 15_000,
        reconnect_initial_ms = 500,
        reconnect_max_ms = 60_000,
        kdf = None,
        insecure_weak_kdf_for_tests = false,
        seed_for_tests = None,
        manual_clock = false,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        connection_per_room: bool,
        keepalive_interval_ms: u64,
        connect_timeout_ms: u64,
        reconnect_initial_ms: u64,
        reconnect_max_ms: u64,
        kdf: Option<PyRef<'_, Argon2Params>>,
        insecure_weak_kdf_for_tests: bool,
        seed_for_tests: Option<Vec<u8>>,
        manual_clock: bool,
    ) -> Self {
        let d = zfc_client::ClientConfig::default();
        Self {
            inner: zfc_client::ClientConfig {
                connection_per_room,
                keepalive_interval_ms,
                connect_timeout_ms,
                reconnect_initial_ms,
                reconnect_max_ms,
                kdf: kdf.map_or(d.kdf, |k| (*k).into()),
                insecure_weak_kdf_for_tests,
                randomness: match seed_for_tests {
                    Some(seed) => Randomness::SeededForTests { seed },
                    None => Randomness::Os,
                },
                clock: if manual_clock { Clock::Manual } else { Clock::System },
            },
        }
    }

    /// One connection per room instead of one per relay.
    #[getter]
    fn connection_per_room(&self) -> bool {
        self.inner.connection_per_room
    }
    /// Keep-alive interval on an established connection, ms (0: none).
    #[getter]
    fn keepalive_interval_ms(&self) -> u64 {
        self.inner.keepalive_interval_ms
    }
    /// How long a dial may take, ms.
    #[getter]
    fn connect_timeout_ms(&self) -> u64 {
        self.inner.connect_timeout_ms
    }
    /// First wait before dialling again, ms (doubles per failure).
    #[getter]
    fn reconnect_initial_ms(&self) -> u64 {
        self.inner.reconnect_initial_ms
    }
    /// Longest wait between dials, ms.
    #[getter]
    fn reconnect_max_ms(&self) -> u64 {
        self.inner.reconnect_max_ms
    }
    /// Argon2id's cost for a new state or passphrase.
    #[getter]
    fn kdf(&self) -> Argon2Params {
        let k = self.inner.kdf;
        Argon2Params { m_cost_kib: k.m_cost_kib, t_cost: k.t_cost, p_cost: k.p_cost }
    }
    /// Whether a KDF below the production floor is allowed (tests only).
    #[getter]
    fn insecure_weak_kdf_for_tests(&self) -> bool {
        self.inner.insecure_weak_kdf_for_tests
    }
    /// Whether randomness comes from a fixed seed (tests only) rather than the OS.
    #[getter]
    fn seeded_for_tests(&self) -> bool {
        matches!(self.inner.randomness, Randomness::SeededForTests { .. })
    }
    /// Whether time is the newest `now_ms` passed in rather than the system clock.
    #[getter]
    fn manual_clock(&self) -> bool {
        matches!(self.inner.clock, Clock::Manual)
    }

    fn __repr__(&self) -> String {
        let c = &self.inner;
        format!(
            "ClientConfig(connection_per_room={}, keepalive_interval_ms={}, connect_timeout_ms={}, reconnect_initial_ms={}, reconnect_max_ms={}, kdf={}, insecure_weak_kdf_for_tests={}, seeded_for_tests={}, manual_clock={})",
            py_bool(c.connection_per_room),
            c.keepalive_interval_ms,
            c.connect_timeout_ms,
            c.reconnect_initial_ms,
            c.reconnect_max_ms,
            self.kdf().__repr__(),
            py_bool(c.insecure_weak_kdf_for_tests),
            py_bool(self.seeded_for_tests()),
            py_bool(self.manual_clock()),
        )
    }
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// Who may read history from before they joined.
#[pyclass(frozen, eq, eq_int, module = "zfc")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum HistoryPolicy {
    /// A newcomer reads from the start of the epoch before the commit that added it.
    #[pyo3(name = "SINCE_LAST_EPOCH")]
    SinceLastEpoch,
    /// A newcomer reads nothing sent before it joined.
    #[pyo3(name = "SINCE_JOIN")]
    SinceJoin,
}

impl From<HistoryPolicy> for CoreHistory {
    fn from(h: HistoryPolicy) -> Self {
        match h {
            HistoryPolicy::SinceLastEpoch => Self::SinceLastEpoch,
            HistoryPolicy::SinceJoin => Self::SinceJoin,
        }
    }
}

impl From<CoreHistory> for HistoryPolicy {
    fn from(h: CoreHistory) -> Self {
        match h {
            CoreHistory::SinceJoin => Self::SinceJoin,
            // SinceLastEpoch, and a policy a later zfc-core adds (shown as the default).
            _ => Self::SinceLastEpoch,
        }
    }
}

/// A new room's settings. Keyword-only; defaults are zfc-client's.
#[pyclass(frozen, module = "zfc")]
#[derive(Clone, Copy)]
pub struct RoomSettings {
    pub inner: zfc_client::RoomSettings,
}

#[pymethods]
impl RoomSettings {
    #[new]
    #[pyo3(signature = (*, history = None, rotate_every = None, retained_epochs = None, auto_approve = false))]
    fn new(
        history: Option<PyRef<'_, HistoryPolicy>>,
        rotate_every: Option<u32>,
        retained_epochs: Option<u32>,
        auto_approve: bool,
    ) -> Self {
        let d = zfc_client::RoomSettings::default();
        Self {
            inner: zfc_client::RoomSettings {
                history: history.map_or(d.history, |h| (*h).into()),
                rotate_every: rotate_every.unwrap_or(d.rotate_every),
                retained_epochs: retained_epochs.unwrap_or(d.retained_epochs),
                auto_approve,
            },
        }
    }
    /// Who may read history from before they joined.
    #[getter]
    fn history(&self) -> HistoryPolicy {
        self.inner.history.into()
    }
    /// Rotate after this many messages (0: never).
    #[getter]
    fn rotate_every(&self) -> u32 {
        self.inner.rotate_every
    }
    /// Epoch keys members keep to read late messages.
    #[getter]
    fn retained_epochs(&self) -> u32 {
        self.inner.retained_epochs
    }
    /// Approve every valid join request without asking.
    #[getter]
    fn auto_approve(&self) -> bool {
        self.inner.auto_approve
    }
}

/// A relay's `ws://` or `wss://` URL and its pinned 32-byte link key, checked once.
#[pyclass(frozen, eq, hash, module = "zfc")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RelayAddress {
    pub inner: zfc_client::RelayAddress,
}

#[pymethods]
impl RelayAddress {
    #[new]
    fn new(py: Python<'_>, url: &str, key: &[u8]) -> PyResult<Self> {
        zfc_client::RelayAddress::new(url, key).or_raise(py).map(|inner| Self { inner })
    }
    /// The URL.
    #[getter]
    fn url(&self) -> String {
        self.inner.url().to_owned()
    }
    /// The pinned link key.
    #[getter]
    fn key(&self) -> Vec<u8> {
        self.inner.key()
    }
    fn __repr__(&self) -> String {
        format!("RelayAddress({:?}, key={})", self.inner.url(), zfc_core::internal::crypto::to_hex(&self.inner.key()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_python_defaults_are_zfc_cores() {
        let d = Argon2Params::new(65536, 3, 1);
        assert_eq!(CoreArgon2::from(d), CoreArgon2::DEFAULT);
        // The keyword defaults of ClientConfig(), as its signature spells them.
        let py = ClientConfig::new(false, 30_000, 15_000, 500, 60_000, None, false, None, false).inner;
        assert_eq!(py, zfc_client::ClientConfig::default());
    }
}
