//! # zfc-client
//!
//! The facade every app and binding (C, Python, Kotlin/Swift) wraps: it owns what apps must not
//! get wrong around [`zfc_core`]'s state machines: randomness and the clock, relay connections
//! carrying several rooms, authentication, admission, keep-alives, acknowledgements, reconnects
//! and resends, the order of saving and sending, and the content carried inside room messages.
//! Sans-IO: bytes from the socket in, link records to write and owned events out; no sockets,
//! threads or async runtime. Every failure is one [`Error`], with the stable code and group that
//! C, Python and Kotlin report.
//!
//! ## The loop an app runs
//!
//! A [`Client`] holds every room of one user in one sealed state (the [`vault`]). The app runs
//! one loop around it; the order inside the loop is what makes a crash at any point safe:
//!
//! ```
//! use zfc_client::{Client, ClientConfig, Clock, Randomness, RelayAddress, RoomSettings, Transmit};
//! # fn main() -> Result<(), zfc_client::Error> {
//! // Tests use a seed, a manual clock and a cheap KDF; apps keep the defaults.
//! let config = ClientConfig {
//!     randomness: Randomness::SeededForTests { seed: vec![7; 32] },
//!     clock: Clock::Manual,
//!     kdf: zfc_core::pickle::Argon2Params::MIN,
//!     insecure_weak_kdf_for_tests: true,
//!     ..ClientConfig::default()
//! };
//! let client = Client::create(config, b"passphrase")?; // Argon2id: takes long with defaults
//! let relay = RelayAddress::new("ws://127.0.0.1:5103", &[9; 32])?; // the relay's pinned key
//! let room = client.create_room(&relay, RoomSettings::default())?;
//!
//! let now_ms = 1_800_000_000_000;
//! client.handle_timeout(now_ms)?; // a manual clock starts at the first time it is given
//! // 1. Write every save (atomically: temp file, fsync, rename) and confirm it: records
//! //    that spend state wait for it, and acknowledgements wait for the state that read.
//! while let Some(save) = client.poll_save()? {
//!     // std::fs::write(..., &save.bytes) etc.
//!     client.state_saved(save.generation)?;
//! }
//! // 2. Do what the client asks of the sockets.
//! let mut dialled = None;
//! while let Some(t) = client.poll_transmit()? {
//!     match t {
//!         Transmit::Connect { conn, url } => dialled = Some((conn, url)), // open a WebSocket
//!         Transmit::Send { .. } => {}  // write the bytes as one binary message
//!         Transmit::Close { .. } => {} // close that socket
//!     }
//! }
//! assert_eq!(dialled.map(|(_, url)| url).as_deref(), Some("ws://127.0.0.1:5103"));
//! // 3. Feed what the sockets report: handle_connected(conn, now), handle_bytes(conn, bytes,
//! //    now), handle_closed(conn, now); 4. wake at next_timeout() for handle_timeout(now);
//! // 5. show the events.
//! assert!(client.next_timeout()?.is_some());
//! while let Some(event) = client.poll_event()? {
//!     println!("{event:?}");
//! }
//! # let _ = room;
//! # Ok(()) }
//! ```
//!
//! Rooms on one relay share one connection (several room authentications on one link) unless
//! [`ClientConfig::connection_per_room`] is set: a relay then cannot tell from the connection
//! which rooms belong to one user (spec §15.2 lists what it still sees). Calls that take long:
//! [`Client::create`], [`Client::open`], [`Client::change_passphrase`] (Argon2id, ~130 ms with
//! the defaults here) and a commit in a large room (an owner's join approval, removal or
//! rotation: one key share per member); bindings run them off an app's UI thread.
//!
//! ## Bindings
//!
//! C wraps this crate in `zfc-ffi`, and so do the Python (PyO3) and Kotlin/Swift packages, none
//! of them over zfc-core directly. With the `uniffi` feature its own types carry UniFFI's
//! derives and its `uniffi_api` module exports every call,
//! so Kotlin and Swift are generated from these types (namespace `zfc`); every binding reports
//! the groups and codes of [`Error`]. Unsigned numbers stay unsigned across UniFFI (member
//! numbers, epochs and sequence numbers are `u32`/`u64` on the wire; a signed mirror would let a
//! caller pass a negative one), and enum-typed fields of the configuration records have no
//! UniFFI default (0.32 cannot express one for Kotlin), so callers there name them.

#![forbid(unsafe_code)]

// UniFFI's scaffolding sits at the crate root (its derives name `crate::UniFfiTag`); the
// namespace `zfc` names the generated Kotlin package and Swift module.
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("zfc");

mod address;
mod client;
pub mod content;
mod error;
mod event;
mod invite;
mod randomness;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(feature = "uniffi")]
pub mod uniffi_api;
pub mod vault;

pub use address::RelayAddress;
pub use client::{Client, ClientConfig, Clock, RoomInfo, RoomRole, RoomSettings, Save, Transmit};
pub use error::Error;
pub use event::{ClientEvent, EpochChange, RoomMessage, RoomOperation};
pub use invite::{InviteInfo, fingerprint, parse_invite};
pub use randomness::Randomness;
pub use zfc_core::code::{ErrorCode, ErrorGroup};
