//! # zfc-relay
//!
//! The zfc reference relay and the tools around it. The relay is I/O and storage around
//! [`zfc_core::relay::RuleBook`]; it makes no protocol decision of its own.
//!
//! - [`server`]: WebSocket listener, the link, per-connection limits.
//! - [`hub`]: the thread that owns the rule book, with group commit to the [`store`].
//! - [`store`]: the durable journal (SQLite; a trait for other backends).
//! - [`client`]: the client's end over real sockets (SOCKS5 included), used by the `zfc`
//!   command, the conformance suite ([`conformance`]) and the load generator.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

pub mod client;
pub mod conformance;
pub mod fsutil;
pub mod hub;
pub mod keyfile;
pub mod load;
pub mod server;
pub mod store;
