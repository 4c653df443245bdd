//! The tests' view of `zfc_client::sim::Network`: the same network, its calls unwrapped (a test
//! fails where a call fails).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::ops::{Deref, DerefMut};

use zfc_client::sim::Network;
use zfc_client::{Client, ClientConfig, RelayAddress};
use zfc_core::relay::RelayConfig;

pub use zfc_client::sim::config;

pub struct Net(Network);

impl Deref for Net {
    type Target = Network;
    fn deref(&self) -> &Network {
        &self.0
    }
}

impl DerefMut for Net {
    fn deref_mut(&mut self) -> &mut Network {
        &mut self.0
    }
}

impl Net {
    pub fn new(relay_config: RelayConfig) -> Self {
        Self(Network::new(relay_config, 99))
    }
    pub fn address(&self) -> RelayAddress {
        self.0.address().unwrap()
    }
    pub fn add(&mut self, config: ClientConfig) -> usize {
        self.0.add(config).unwrap()
    }
    pub fn client(&self, i: usize) -> &Client {
        self.0.client(i).unwrap()
    }
    pub fn crash(&mut self, i: usize) {
        self.0.crash(i).unwrap()
    }
    pub fn cut(&mut self, i: usize) {
        self.0.cut(i).unwrap()
    }
    pub fn advance(&mut self, ms: u64) {
        self.0.advance(ms).unwrap()
    }
    pub fn run(&mut self) {
        self.0.run().unwrap()
    }
}
