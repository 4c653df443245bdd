//! A commit the relay never made durable still lands: the relay is made to fail the transaction
//! of the batch holding the owner's removal commit (`ZFC_RELAY_FAIL_COMMIT`, compiled in only with
//! the `fault-injection` feature), stops, is restarted on the same data directory, and the owner's
//! client, reconnecting, has the removal land. Real processes: `zfc-relay` and `zfc` clients.
//!
//! Run with `cargo test -p zfc-relay --features fault-injection --test fault`.
#![cfg(feature = "fault-injection")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Relay, ok, temp_dir, zfc};
use zfc_core::internal::frame::Frame;
use zfc_core::relay::JournalEntry;

/// The commit whose batch the relay fails: the joiners' two Add commits come first, so the third
/// is the owner's removal.
const FAIL_AT: usize = 3;

/// Commit frames in the relay's durable journal (`relay.db`, one encoded entry per row).
fn durable_commits(relay_dir: &Path) -> usize {
    let db = rusqlite::Connection::open(relay_dir.join("relay.db")).unwrap();
    let mut stmt = db.prepare("SELECT entry FROM journal ORDER BY position").unwrap();
    let rows = stmt.query_map([], |row| row.get::<_, Vec<u8>>(0)).unwrap();
    let mut commits = 0;
    for row in rows {
        if let JournalEntry::Submitted { frame, .. } = JournalEntry::decode(&row.unwrap()).unwrap()
            && let Frame::Commit(_) = Frame::decode(&frame).unwrap()
        {
            commits += 1;
        }
    }
    commits
}

#[test]
fn a_removal_whose_commit_was_not_durable_lands_after_the_relay_restarts() {
    let dir = temp_dir("fault");
    let relay_dir = dir.join("relay");
    let fail_at = FAIL_AT.to_string();
    let mut relay = Relay::start_with_env(&relay_dir, "127.0.0.1:0", &[], &[("ZFC_RELAY_FAIL_COMMIT", &fail_at)]);
    let (key, addr) = (relay.key.clone(), relay.listen_addr());
    let common::Three { owner, bob, carol } = common::three_chat(&dir, &relay);
    let before = durable_commits(&relay_dir);
    assert_eq!(before, FAIL_AT - 1, "the fault would not hit the removal's commit");

    // The relay accepts the removal's commit into its batch, fails the batch's transaction and
    // stops: the owner never hears back.
    let removal = zfc(&owner).args(["remove", "2"]).output().unwrap();
    assert!(
        !removal.status.success(),
        "the removal was answered by a relay that could not store it: {}",
        String::from_utf8_lossy(&removal.stdout)
    );
    let status = relay.wait_exit(Duration::from_secs(30)).expect("the relay kept running after a storage failure");
    assert!(!status.success(), "the relay exited cleanly after a storage failure: {status}");
    drop(relay);
    assert_eq!(durable_commits(&relay_dir), before, "the failed batch's commit is in the journal");

    // Restarted without the fault, same address and key (the clients hold both).
    let relay = Relay::start(&relay_dir, &addr, &[]);
    assert_eq!(relay.key, key, "the relay key changed across a restart");
    // The owner reconnects: its removal, never stored, must be sent again and land.
    ok(zfc(&owner).args(["listen", "--seconds", "5"]));
    assert_eq!(durable_commits(&relay_dir), before + 1, "the owner's removal did not land after the restart");

    ok(zfc(&bob).args(["send", "carol", "is", "gone"]));
    let bob_reads = ok(zfc(&bob).args(["listen", "--seconds", "2"]));
    assert!(bob_reads.contains("1: carol is gone"), "{bob_reads}");
    let carol_after = ok(zfc(&carol).args(["listen", "--seconds", "3"]));
    assert!(carol_after.contains("we were removed"), "{carol_after}");
    assert!(!carol_after.contains("is gone"), "carol read after her removal: {carol_after}");
    let owner_members = ok(zfc(&owner).arg("members"));
    // The room line, the owner and bob.
    assert_eq!(owner_members.lines().count(), 3, "the owner's roster after the removal: {owner_members}");
}
