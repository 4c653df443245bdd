//! # zfc-client
//!
//! The facade every app and binding (C, Python, Kotlin/Swift) wraps: it owns what apps must not
//! get wrong around [`zfc_core`]'s state machines: randomness and the clock, relay connections
//! carrying several rooms, authentication, acknowledgements, reconnects and resends, the order of
//! saving and sending, and the content carried inside room messages. Sans-IO: bytes from the
//! socket in, link records to write and owned events out; no sockets, threads or async runtime.
//!
//! Built in parts (issue 13): [`content`], the typed envelope inside room messages (spec §21),
//! and [`vault`], the sealed client state (spec §17.7), come first; the client object, its
//! connections and the timer follow. Every failure is one [`Error`], with the stable code and
//! group that C, Python and Kotlin report.

#![forbid(unsafe_code)]

mod address;
mod client;
pub mod content;
mod error;
mod event;
mod randomness;
pub mod vault;

pub use address::RelayAddress;
pub use client::{Client, ClientConfig, Clock, RoomInfo, RoomRole, RoomSettings, Save, Transmit};
pub use error::Error;
pub use event::{ClientEvent, EpochChange, RoomMessage, RoomOperation};
pub use randomness::Randomness;
pub use zfc_core::code::{ErrorCode, ErrorGroup};
