//! The client side over real sockets: [`driver`] runs the `zfc-client` facade (the `zfc`
//! command); the link ([`net`]) and a driver for the raw state machines ([`session`]) serve the
//! conformance suite, the load generator and the tests that must see frames.

pub mod driver;
pub mod net;
pub mod session;

pub use driver::{Driver, DriverError};
pub use net::{Link, NetError};
pub use session::{Party, Session, SessionError};
