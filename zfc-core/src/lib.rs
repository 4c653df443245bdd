//! # zfc-core
//!
//! The zfc protocol for end-to-end encrypted group chat rooms, as sans-IO state machines: no
//! sockets, threads, files, clocks or global RNG. Randomness comes in as a [`rand_core::CryptoRng`]
//! argument and time as Unix seconds; bytes come in, and requests for the relay plus events for
//! the app come out.
//!
//! ```text
//!   app ──send()/approve_join()/remove()──►  Owner / Member  ──Output.to_relay──► link ──► relay
//!   app ◄──────────── Output.events ──────── Owner / Member  ◄──handle(bytes)──── link ◄── relay
//!                                                                   relay = RuleBook (this crate)
//! ```
//!
//! - [`Owner`] creates a room, issues [`Invite`]s, grants joins, and alone signs commits
//!   (membership changes and epoch keys).
//! - [`Member`] joins with an invite, reads and sends messages, follows commits.
//! - [`relay::RuleBook`] is the relay's rule book: every check the relay makes, no I/O.
//!
//! The wire format, key schedule and rules are specified in `spec/PROTOCOL.md`.
//!
//! A whole room on the in-process network of [`sim`] (every byte through the link, the rule book
//! and the state machines):
//!
//! ```
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use zfc_core::relay::RelayConfig;
//! use zfc_core::sim::Scenario;
//! use zfc_core::RoomConfig;
//!
//! let config = RoomConfig::builder().auto_approve(true).build()?;
//! let mut room = Scenario::new(config, RelayConfig::default(), ChaCha20Rng::seed_from_u64(1), 1_800_000_000);
//! let bob = room.join("bob")?;
//! let carol = room.join("carol")?;
//! room.send(bob, "hi")?;
//! assert_eq!(room.texts(carol), vec!["hi"]);
//! assert_eq!(room.texts(bob), vec!["hi"]); // senders see their own messages in the room's order
//! room.by_owner(|owner, rng| owner.remove(1, rng))?; // bob is member 1
//! room.send(carol, "bob cannot read this")?;
//! assert!(room.texts(bob).is_empty());
//! # Ok::<(), zfc_core::Error>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

mod commit;
pub mod crypto;
mod epoch;
pub mod error;
pub mod event;
pub mod fingerprint;
pub mod frame;
mod inflight;
pub mod invite;
mod join;
pub mod link;
pub mod member;
pub mod message;
pub mod owner;
pub mod party;
pub mod pickle;
pub mod proto;
pub mod relay;
pub mod room;
mod session;
pub mod sim;
mod view;

#[cfg(test)]
mod tests;
pub mod wire;

pub use error::{DecodeError, Error};
pub use event::{EpochReason, Event, Failure, Operation, Output, ReceivedMessage, Request, RequestKind};
pub use frame::{HistoryPolicy, MemberNo, RoomId};
pub use invite::Invite;
pub use member::{GoneReason, Member, MemberConfig, MemberConfigBuilder, Phase};
pub use message::Padding;
pub use owner::Owner;
pub use party::Party;
pub use room::{RoomConfig, RoomConfigBuilder, Roster};
