//! The relay's side: the client-relay requests ([`proto`]), the refusals ([`Reject`]) and the
//! rule book ([`RuleBook`]), a sans-IO state machine that the reference relay wraps with
//! sockets and storage.

mod book;
pub mod journal;
pub mod proto;
mod record;
mod reject;

pub use book::{ConnId, Outgoing, RelayConfig, RuleBook, admission_hash};
pub use journal::JournalEntry;
pub use proto::{ClientRequest, RelayMessage};
pub use reject::Reject;
