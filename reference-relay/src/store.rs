//! Durable storage of the rule book's journal.
//!
//! Invariant: `append` returns only once its whole batch is durable (all or nothing), and `load`
//! returns every appended entry, in order, exactly once.

use std::path::Path;

use rusqlite::{Connection, params};
use zfc_core::relay::JournalEntry;

/// Why storage failed. The relay stops on any of these: its memory may be ahead of the disk.
#[derive(Debug)]
pub enum StoreError {
    /// The database refused an operation.
    Db(rusqlite::Error),
    /// A stored entry does not decode: the file was damaged or written by something else.
    Corrupt {
        /// The entry's position.
        position: i64,
    },
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Db(e) => write!(f, "storage: {e}"),
            Self::Corrupt { position } => write!(f, "storage: journal entry {position} does not decode"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Db(e)
    }
}

/// Where the relay keeps its journal. SQLite here; a PostgreSQL store implements the same two
/// calls.
pub trait Store: Send {
    /// Every entry appended so far, in order.
    fn load(&mut self) -> Result<Vec<JournalEntry>, StoreError>;
    /// Appends a batch in one durable transaction (group commit).
    fn append(&mut self, batch: &[JournalEntry]) -> Result<(), StoreError>;
}

/// The journal table; opening an existing database keeps its table.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS journal (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    entry BLOB NOT NULL
);";

/// The embedded default: one SQLite file in WAL mode with `synchronous=FULL`, so a committed
/// batch survives `kill -9` and power loss.
pub struct SqliteStore {
    db: Connection,
    #[cfg(feature = "fault-injection")]
    fault: fault::FailCommit,
}

impl SqliteStore {
    /// Opens (creating if needed) `relay.db` in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let db = Connection::open(dir.join("relay.db"))?;
        // A backup tool holding a lock briefly must not stop the relay.
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        db.execute_batch(SCHEMA)?;
        Ok(Self {
            db,
            #[cfg(feature = "fault-injection")]
            fault: fault::FailCommit::from_env(),
        })
    }

    /// An in-memory store, for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        let db = Connection::open_in_memory()?;
        db.execute_batch(SCHEMA)?;
        Ok(Self {
            db,
            #[cfg(feature = "fault-injection")]
            fault: fault::FailCommit::default(),
        })
    }
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Vec<JournalEntry>, StoreError> {
        let mut stmt = self.db.prepare("SELECT position, entry FROM journal ORDER BY position")?;
        let rows = stmt.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?)))?;
        let mut entries = Vec::new();
        for row in rows {
            let (position, bytes) = row?;
            entries.push(JournalEntry::decode(&bytes).map_err(|_| StoreError::Corrupt { position })?);
        }
        Ok(entries)
    }

    fn append(&mut self, batch: &[JournalEntry]) -> Result<(), StoreError> {
        let tx = self.db.transaction()?;
        {
            let mut stmt = tx.prepare_cached("INSERT INTO journal (entry) VALUES (?1)")?;
            for entry in batch {
                stmt.execute(params![entry.encode()])?;
            }
        }
        // Dropping `tx` on this error rolls the whole batch back.
        #[cfg(feature = "fault-injection")]
        self.fault.check(batch)?;
        tx.commit()?;
        Ok(())
    }
}

/// Fault injection, compiled only with the `fault-injection` feature (off by default, so never in
/// a release binary). It exists for `tests/fault.rs`: to prove against real processes that a
/// commit the relay accepted but never made durable is still made to land, the relay must fail
/// exactly that commit's transaction. With `ZFC_RELAY_FAIL_COMMIT=N` in its environment, the
/// append of the batch holding the N-th accepted Commit frame (counted from 1 since the store
/// was opened) fails as a disk I/O error before `COMMIT`: the transaction rolls back, nothing of
/// the batch is written, and the hub stops the relay as on any storage failure. Without the
/// variable nothing changes.
#[cfg(feature = "fault-injection")]
mod fault {
    use zfc_core::internal::frame::Frame;
    use zfc_core::relay::JournalEntry;

    use super::StoreError;

    /// The variable that names the commit to fail.
    const VAR: &str = "ZFC_RELAY_FAIL_COMMIT";

    #[derive(Debug, Default)]
    pub(super) struct FailCommit {
        /// The commit to fail, from 1; `None`: never fail.
        nth: Option<u64>,
        /// Commit frames appended so far (in batches that did not fail).
        seen: u64,
    }

    impl FailCommit {
        #[allow(clippy::panic, reason = "a test-only switch, read once as the relay starts")]
        pub(super) fn from_env() -> Self {
            let nth = std::env::var(VAR).ok().map(|v| match v.trim().parse::<u64>() {
                Ok(n) if n > 0 => n,
                // A typo must not pass as "no fault": the test would then prove nothing.
                _ => panic!("{VAR} must be a number from 1, not {v:?}"),
            });
            Self { nth, seen: 0 }
        }

        /// Counts the batch's commits; fails if the chosen one is among them.
        pub(super) fn check(&mut self, batch: &[JournalEntry]) -> Result<(), StoreError> {
            let Some(nth) = self.nth else { return Ok(()) };
            let is_commit = |e: &&JournalEntry| match e {
                JournalEntry::Submitted { frame, .. } => matches!(Frame::decode(frame), Ok(Frame::Commit(_))),
                _ => false,
            };
            let commits = batch.iter().filter(is_commit).count() as u64;
            if self.seen < nth && nth <= self.seen + commits {
                tracing::error!(commit = nth, "fault injection: failing the batch holding this commit");
                let io = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR);
                return Err(StoreError::Db(rusqlite::Error::SqliteFailure(io, Some(format!("injected: {VAR}={nth}")))));
            }
            self.seen += commits;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: u64) -> Vec<JournalEntry> {
        (0..n).map(|i| JournalEntry::AckedDirect { room_id: [i as u8; 16], id: i }).collect()
    }

    #[test]
    fn batches_come_back_in_order_after_reopening() {
        let dir = std::env::temp_dir().join(format!("zfc-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::fs::remove_file(dir.join("relay.db"));
        let all = entries(10);
        {
            let mut s = SqliteStore::open(&dir).unwrap();
            s.append(&all[..3]).unwrap();
            s.append(&all[3..]).unwrap();
        }
        let mut s = SqliteStore::open(&dir).unwrap();
        assert_eq!(s.load().unwrap(), all);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_entry_is_reported_not_skipped() {
        let mut s = SqliteStore::in_memory().unwrap();
        s.append(&entries(2)).unwrap();
        s.db.execute("UPDATE journal SET entry = x'0160' WHERE position = 2", []).unwrap();
        assert!(matches!(s.load(), Err(StoreError::Corrupt { position: 2 })));
    }
}
