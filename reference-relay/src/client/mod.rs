//! The client side over real sockets: the link ([`net`]) and a driver for the state machines
//! ([`session`]), shared by the `zfc` command, the conformance suite and the load generator.

pub mod net;
pub mod session;

pub use net::{Link, NetError};
pub use session::{Party, Session, SessionError};
