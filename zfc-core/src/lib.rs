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
//! A whole room on the in-process network of `sim` (feature `sim`: every byte through the link,
//! the rule book and the state machines):
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
//!
//! ## Embedding it: the loop every client runs
//!
//! Over a real connection (spec §16.7: one WebSocket binary message per link record) an app runs
//! the loop below; here the relay is the rule book in process, so that the example runs. The
//! rules it shows: the link is pinned to the relay's key from the invite, and its handshake hash
//! goes to `on_connected`; everything an output asks to send is sent in order on the current
//! connection; the state is saved before any output for which [`Output::must_save`] holds; after
//! a reconnect the party authenticates and resends by itself whatever must still land.
//!
//! ```
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use zfc_core::link::{self, ClientHandshake, RelayKey, Transport};
//! use zfc_core::relay::{RelayConfig, RuleBook};
//! use zfc_core::{Event, Operation, Output, Owner, RoomConfig};
//!
//! let (mut rng, now) = (ChaCha20Rng::seed_from_u64(7), 1_800_000_000);
//! let relay_key = RelayKey::generate(&mut rng);
//! let mut relay = RuleBook::new(RelayConfig::default());
//!
//! // One connection: the link handshake (pinned to the relay's key), then the relay's challenge.
//! let mut connect = |owner: &mut Owner, relay: &mut RuleBook, conn, rng: &mut ChaCha20Rng| {
//!     let (hs, hello) = ClientHandshake::start(&relay_key.public(), rng)?;
//!     let (relay_end, answer) = link::respond(&relay_key, &hello, rng)?;
//!     let client_end = hs.finish(&answer)?;
//!     owner.on_connected(client_end.channel_binding());
//!     let challenge: Vec<Vec<u8>> = relay.connect(conn, client_end.channel_binding(), rng).into_iter().map(|o| o.bytes).collect();
//!     Ok::<_, Box<dyn std::error::Error>>((client_end, relay_end, challenge))
//! };
//! // Sends what an output asks, hands the relay's answers back, until both sides are quiet.
//! let pump = |owner: &mut Owner, relay: &mut RuleBook, link: &mut (Transport, Transport), conn,
//!             first: Output, inbox: Vec<Vec<u8>>, saved: &mut Vec<u8>, rng: &mut ChaCha20Rng| {
//!     let (client, relay_end) = link;
//!     let mut events = Vec::new();
//!     let (mut out, mut inbox) = (first, inbox);
//!     loop {
//!         if out.must_save() {
//!             *saved = owner.pickle().to_vec(); // before anything of it leaves
//!         }
//!         for req in out.request_bytes() {
//!             let record = client.seal(req)?; // one WebSocket binary message
//!             for o in relay.handle(conn, &relay_end.open(&record)?, now)? {
//!                 inbox.push(client.open(&relay_end.seal(&o.bytes)?)?);
//!             }
//!         }
//!         events.append(&mut out.events);
//!         let Some(msg) = (!inbox.is_empty()).then(|| inbox.remove(0)) else { break };
//!         out = owner.handle(&msg, now, rng)?;
//!     }
//!     Ok::<_, Box<dyn std::error::Error>>(events)
//! };
//!
//! let mut saved = Vec::new();
//! let (mut owner, created) = Owner::create(RoomConfig::default(), &mut rng);
//! let (c, r, challenge) = connect(&mut owner, &mut relay, 1, &mut rng)?;
//! let mut link1 = (c, r);
//! let events = pump(&mut owner, &mut relay, &mut link1, 1, created, challenge, &mut saved, &mut rng)?;
//! assert!(events.contains(&Event::OperationLanded { op: Operation::CreateRoom }));
//!
//! // The connection drops with a rotation unsent; on the next one the owner resends it itself.
//! let rotation = owner.rotate(&mut rng)?;
//! assert!(rotation.must_save());
//! relay.disconnect(1);
//! let (c, r, challenge) = connect(&mut owner, &mut relay, 2, &mut rng)?;
//! let mut link2 = (c, r);
//! let events = pump(&mut owner, &mut relay, &mut link2, 2, Output::default(), challenge, &mut saved, &mut rng)?;
//! assert!(events.contains(&Event::OperationLanded { op: Operation::Rotate }));
//! assert_eq!(owner.epoch(), 1);
//! // What was saved restores the owner as it was when it last sent something.
//! assert_eq!(Owner::unpickle(&saved)?.room_id(), owner.room_id());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

pub mod code;
mod commit;
mod epoch;
pub mod error;
pub mod event;
pub mod fingerprint;
mod inflight;
pub mod invite;
mod join;
mod keys;
mod ledger;
pub mod link;
pub mod member;
pub mod message;
pub mod owner;
mod padding;
pub mod party;
pub mod pickle;
pub mod proto;
pub mod relay;
pub mod room;
mod session;
/// The in-process network (feature `sim`; tests, demos and benches).
#[cfg(any(test, feature = "sim"))]
pub mod sim;
mod view;

#[cfg(test)]
mod tests;

pub use code::{ErrorCode, ErrorGroup};
pub use error::{DecodeError, Error};
pub use event::{EpochReason, Event, Failure, Operation, Output, ReceivedMessage, Request, RequestKind};
pub use keys::{ChannelBinding, InviteKey, LogPos, MemberKey, RelayPublicKey};
pub use room::{HistoryPolicy, MemberNo, RoomId};

/// Protocol internals: the signed frames, the wire codec and the primitives' wrappers. Not part
/// of the API (no stability promise): the conformance suite, the fuzzers, the benchmarks and the
/// tests reach them here; apps use [`Owner`], [`Member`] and [`Output`].
#[doc(hidden)]
pub mod internal {
    pub mod crypto;
    pub mod frame;
    pub mod vectors;
    pub mod wire;
}
pub(crate) use internal::{crypto, frame, wire};
pub use invite::Invite;
pub use member::{GoneReason, Member, MemberConfig, MemberConfigBuilder, Phase};
pub use message::Padding;
pub use owner::Owner;
pub use party::Party;
pub use room::{RoomConfig, RoomConfigBuilder, Roster};
