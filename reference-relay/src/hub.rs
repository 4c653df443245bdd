//! The one thread that owns the rule book and the store: requests from every connection come in
//! through a channel, are handled in batches, the batch's journal is committed in one durable
//! transaction (group commit), and only then do answers and deliveries go out.
//!
//! Invariants: no message leaves for a connection before the journal entries of its batch are
//! durable, so an `Accepted` is never sent for a frame a crash could lose; a storage failure stops
//! the relay rather than letting memory run ahead of the disk.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rand_chacha::ChaCha20Rng;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};
use zfc_core::relay::{ConnId, JournalEntry, Outgoing, Reject, RelayMessage, RuleBook};

use crate::store::{Store, StoreError};

/// Most requests handled per batch (and per transaction).
pub const MAX_BATCH: usize = 512;
/// Bytes a connection may have waiting to be written before the relay drops it as too slow (or
/// as asking for more than a relay should hold for one client).
pub const CONN_QUEUE_BYTES: usize = 256 * 1024 * 1024;

/// A connection's outgoing queue: unbounded in messages, bounded in bytes.
#[derive(Debug, Clone)]
pub struct ConnQueue {
    tx: mpsc::UnboundedSender<ToConn>,
    /// Bytes queued and not yet taken by the connection task.
    pub queued: Arc<AtomicUsize>,
}

impl ConnQueue {
    /// A queue and its receiving end.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<ToConn>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx, queued: Arc::new(AtomicUsize::new(0)) }, rx)
    }

    /// Queues a message; `Err(true)` if the byte budget is spent, `Err(false)` if the connection
    /// is already gone.
    fn push(&self, msg: ToConn) -> Result<(), bool> {
        let len = match &msg {
            ToConn::Send(b) => b.len(),
            ToConn::Close(_) => 0,
        };
        if self.queued.fetch_add(len, Ordering::Relaxed) + len > CONN_QUEUE_BYTES {
            return Err(true);
        }
        self.tx.send(msg).map_err(|_| false)
    }
}

/// What a connection task tells the hub.
#[derive(Debug)]
pub enum ToHub {
    /// A link is up.
    Connect {
        /// The connection.
        conn: ConnId,
        /// The link's handshake hash.
        binding: zfc_core::ChannelBinding,
        /// Where the hub sends this connection's messages.
        tx: ConnQueue,
    },
    /// A decrypted request.
    Request {
        /// The connection.
        conn: ConnId,
        /// The request's bytes.
        bytes: Vec<u8>,
    },
    /// The connection closed.
    Disconnect {
        /// The connection.
        conn: ConnId,
    },
}

/// What the hub tells a connection task.
#[derive(Debug)]
pub enum ToConn {
    /// An encoded relay message to seal and write.
    Send(Vec<u8>),
    /// Close the connection after what was queued before, with this reason.
    Close(String),
}

/// Counters the hub keeps (for logs and the load generator's report).
#[derive(Debug, Default, Clone, Copy)]
pub struct HubStats {
    /// Requests handled.
    pub requests: u64,
    /// Journal entries committed.
    pub entries: u64,
    /// Transactions committed.
    pub commits: u64,
}

/// The rule book with its store and connections.
pub struct Hub {
    book: RuleBook,
    store: Box<dyn Store>,
    conns: HashMap<ConnId, ConnQueue>,
    rng: ChaCha20Rng,
    stats: HubStats,
}

/// Rebuilds a rule book from a store's journal.
pub fn recover(book: &mut RuleBook, store: &mut dyn Store) -> Result<usize, RecoverError> {
    let entries = store.load().map_err(RecoverError::Store)?;
    book.replay_all(&entries).map_err(|(position, reject)| RecoverError::Replay { position, reject })
}

/// Why the relay could not start from its store.
#[derive(Debug)]
pub enum RecoverError {
    /// The store failed.
    Store(StoreError),
    /// A journal entry did not replay: the journal belongs to another configuration or history.
    Replay {
        /// The entry's position, from 1.
        position: usize,
        /// The rule book's refusal.
        reject: Reject,
    },
}

impl std::fmt::Display for RecoverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Store(e) => write!(f, "{e}"),
            Self::Replay { position, reject } => write!(f, "journal entry {position} does not replay: {reject}"),
        }
    }
}

impl std::error::Error for RecoverError {}

impl Hub {
    /// A hub over a recovered rule book.
    pub fn new(book: RuleBook, store: Box<dyn Store>, rng: ChaCha20Rng) -> Self {
        Self { book, store, conns: HashMap::new(), rng, stats: HubStats::default() }
    }

    /// Runs until every sender of `rx` is gone; returns the counters, or the storage failure that
    /// stopped it.
    pub fn run(mut self, mut rx: mpsc::Receiver<ToHub>) -> Result<HubStats, StoreError> {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = rx.blocking_recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(_) => break,
                }
            }
            self.handle_batch(&mut batch)?;
        }
        info!(
            requests = self.stats.requests,
            entries = self.stats.entries,
            commits = self.stats.commits,
            "hub stopped"
        );
        Ok(self.stats)
    }

    fn handle_batch(&mut self, batch: &mut Vec<ToHub>) -> Result<(), StoreError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut journal: Vec<JournalEntry> = Vec::new();
        let mut out: Vec<(ConnId, ToConn)> = Vec::new();
        for msg in batch.drain(..) {
            match msg {
                ToHub::Connect { conn, binding, tx } => {
                    self.conns.insert(conn, tx);
                    let greeting = self.book.connect(conn, binding, &mut self.rng);
                    out.extend(greeting.into_iter().map(|o| (o.conn, ToConn::Send(o.bytes))));
                }
                ToHub::Disconnect { conn } => {
                    self.book.disconnect(conn);
                    self.conns.remove(&conn);
                }
                ToHub::Request { conn, bytes } => {
                    self.stats.requests += 1;
                    match self.book.handle_durable(conn, &bytes, now) {
                        Ok((msgs, entry)) => {
                            journal.extend(entry);
                            out.extend(msgs.into_iter().map(|Outgoing { conn, bytes }| (conn, ToConn::Send(bytes))));
                        }
                        Err(reject) => {
                            // Not a request at all: say why, then close this connection only.
                            debug!(conn, %reject, "closing a connection after a bad request");
                            let why = RelayMessage::Rejected { req_id: 0, code: reject.code() }.encode();
                            out.push((conn, ToConn::Send(why)));
                            out.push((conn, ToConn::Close(format!("bad request: {reject}"))));
                            self.book.disconnect(conn);
                        }
                    }
                }
            }
        }
        if !journal.is_empty() {
            self.store.append(&journal)?;
            self.stats.entries += journal.len() as u64;
            self.stats.commits += 1;
        }
        for (conn, msg) in out {
            let Some(q) = self.conns.get(&conn) else { continue };
            if let Err(over_budget) = q.push(msg) {
                // A client that does not read, or one already closing: dropping its queue closes
                // it, and it resumes from its cursor when it reconnects.
                if over_budget {
                    warn!(conn, "dropping a connection over its queue budget");
                }
                self.conns.remove(&conn);
                self.book.disconnect(conn);
            }
        }
        Ok(())
    }
}
