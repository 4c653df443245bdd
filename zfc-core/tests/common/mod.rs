//! Helpers shared by the integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(dead_code)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zfc_core::relay::RelayConfig;
use zfc_core::sim::Scenario;
use zfc_core::{HistoryPolicy, RoomConfig};

pub const NOW: u64 = 1_800_000_000;
pub type Room = Scenario<ChaCha20Rng>;

pub fn room(seed: u64, config: RoomConfig) -> Room {
    Scenario::new(config, RelayConfig::default(), ChaCha20Rng::seed_from_u64(seed), NOW)
}

pub fn lenient(seed: u64) -> Room {
    room(seed, RoomConfig::builder().auto_approve(true).build().unwrap())
}

pub fn strict(seed: u64) -> Room {
    room(seed, RoomConfig::builder().auto_approve(true).history_policy(HistoryPolicy::SinceJoin).build().unwrap())
}
