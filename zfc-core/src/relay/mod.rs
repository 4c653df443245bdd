//! The relay's side: the rule book ([`RuleBook`]), a sans-IO state machine that the reference
//! relay wraps with sockets and storage, and its journal. The client-relay requests and the
//! refusals live in [`crate::proto`], shared with clients; they are re-exported here for the
//! relay's code.

mod book;
pub mod journal;
mod record;

pub use crate::proto::{self, ClientRequest, Reject, RelayMessage};
pub use book::{ConnId, Outgoing, RelayConfig, RuleBook, admission_hash};
pub use journal::JournalEntry;
