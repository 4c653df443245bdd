//! State that survives: pickles, sealing under a password, fixtures of format version 1, and
//! restoring an old backup.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Room, lenient};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zfc_core::Party;
use zfc_core::pickle::{Argon2Params, StateError};
use zfc_core::{Error, Member, Owner};

const PASSWORD: &[u8] = b"correct horse battery staple";

/// A room whose owner and members have been through joins, messages, a rotation and a removal.
fn lived_room(seed: u64) -> (Room, usize, usize) {
    let mut room = lenient(seed);
    let bob = room.join("bob").unwrap();
    let carol = room.join("carol").unwrap();
    let dave = room.join("dave").unwrap();
    room.send(bob, "one").unwrap();
    room.send(carol, "two").unwrap();
    room.by_owner(|o, rng| o.rotate(rng)).unwrap();
    room.send(room.owner, "three").unwrap();
    room.by_owner(|o, rng| o.remove(3, rng)).unwrap();
    room.send(carol, "four").unwrap();
    assert!(room.member(dave).unwrap().phase().gone().is_some());
    (room, bob, carol)
}

#[test]
fn pickles_round_trip_byte_for_byte() {
    let (mut room, bob, _) = lived_room(1);
    let owner_blob = room.owner().pickle();
    let again = Owner::unpickle(&owner_blob).unwrap().pickle();
    assert_eq!(*owner_blob, *again);
    let member_blob = room.member(bob).unwrap().pickle();
    assert_eq!(*member_blob, *Member::unpickle(&member_blob).unwrap().pickle());
}

#[test]
fn restored_parties_carry_on() {
    let (mut room, bob, carol) = lived_room(2);
    let owner = Owner::unpickle(&room.owner().pickle()).unwrap();
    let bob_state = Member::unpickle(&room.member(bob).unwrap().pickle()).unwrap();
    room.sim.disconnect(room.owner);
    room.sim.disconnect(bob);
    room.sim.slots[room.owner].party = Party::Owner(Box::new(owner));
    room.sim.slots[bob].party = Party::Member(Box::new(bob_state));
    room.sim.connect(room.owner);
    room.sim.connect(bob);
    room.sim.run();
    room.texts(carol);
    room.send(bob, "back from disk").unwrap();
    room.by_owner(|o, rng| o.rotate(rng)).unwrap();
    room.send(room.owner, "and a new epoch").unwrap();
    assert_eq!(room.texts(carol), vec!["back from disk", "and a new epoch"]);
}

#[test]
fn a_restored_old_backup_does_not_reuse_sequence_numbers() {
    let mut room = lenient(3);
    let bob = room.join("bob").unwrap();
    let carol = room.join("carol").unwrap();
    let backup = room.member(bob).unwrap().pickle();
    for i in 0..3 {
        room.send(bob, &format!("before restore {i}")).unwrap();
    }
    room.texts(carol);
    room.sim.disconnect(bob);
    room.sim.slots[bob].party = Party::Member(Box::new(Member::unpickle(&backup).unwrap()));
    room.sim.connect(bob);
    room.sim.run();
    room.send(bob, "after restore").unwrap();
    assert_eq!(room.texts(carol), vec!["after restore"]);
    assert!(room.relay_rejections(bob).is_empty(), "no replayed sequence number reached the relay");
}

#[test]
fn sealed_state_opens_with_the_password_only() {
    let (mut room, bob, _) = lived_room(4);
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let blob = room.member(bob).unwrap().seal_state(PASSWORD, Argon2Params::MIN, &mut rng).unwrap();
    let m = Member::open_state(&blob, PASSWORD).unwrap();
    assert_eq!(*m.pickle(), *room.member(bob).unwrap().pickle());
    assert_eq!(Member::open_state(&blob, b"wrong").err(), Some(Error::State(StateError::WrongPassword)));
    let mut damaged = blob.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    assert_eq!(Member::open_state(&damaged, PASSWORD).err(), Some(Error::State(StateError::WrongPassword)));
    let owner_blob = room.owner().seal_state(PASSWORD, Argon2Params::MIN, &mut rng).unwrap();
    assert_eq!(Member::open_state(&owner_blob, PASSWORD).err(), Some(Error::State(StateError::WrongKind)));
    assert!(Owner::open_state(&owner_blob, PASSWORD).is_ok());
}

#[test]
fn crafted_argon2_parameters_are_refused_before_any_work() {
    let (mut room, bob, _) = lived_room(5);
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let blob = room.member(bob).unwrap().seal_state(PASSWORD, Argon2Params::MIN, &mut rng).unwrap();
    // Header: magic (4), version (1), m_cost (4), t_cost (4), p_cost (4).
    for (offset, value) in [(5usize, u32::MAX), (9, 1_000_000), (13, 1_000)] {
        let mut evil = blob.clone();
        evil[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
        assert!(
            matches!(Member::open_state(&evil, PASSWORD), Err(Error::State(StateError::Argon2Params { .. }))),
            "offset {offset}"
        );
    }
    let mut v2 = blob.clone();
    v2[4] = 2;
    assert_eq!(Member::open_state(&v2, PASSWORD).err(), Some(Error::State(StateError::UnsupportedVersion(2))));
    for cut in [0, 3, 5, 20, 40, 60] {
        assert!(Member::open_state(&blob[..cut], PASSWORD).is_err());
    }
    assert!(
        room.member(bob)
            .unwrap()
            .seal_state(PASSWORD, Argon2Params { m_cost_kib: u32::MAX, t_cost: 1, p_cost: 1 }, &mut rng)
            .is_err()
    );
}

#[test]
fn damaged_pickles_are_errors_not_panics() {
    let (mut room, bob, _) = lived_room(6);
    let blob = room.member(bob).unwrap().pickle();
    for cut in 0..blob.len() {
        assert!(Member::unpickle(&blob[..cut]).is_err(), "prefix {cut} loaded");
    }
    let owner = room.owner().pickle();
    for i in (0..owner.len()).step_by(7) {
        let mut b = owner.to_vec();
        b[i] ^= 0x80;
        let _ = Owner::unpickle(&b);
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    hex::decode(text.trim()).unwrap()
}

/// Version-1 blobs (written before requests in flight were saved) still load.
#[test]
fn version_1_fixtures_load() {
    let owner = Owner::open_state(&fixture("owner-v1.sealed.hex"), PASSWORD).unwrap();
    let member = Member::open_state(&fixture("member-v1.sealed.hex"), PASSWORD).unwrap();
    // What the fixture room looked like when written.
    assert_eq!(owner.epoch(), 5);
    assert_eq!(owner.roster().len(), 3);
    assert_eq!(member.phase().epoch(), Some(5));
    assert_eq!(member.phase().member(), Some(1));
    assert_eq!(member.room_id(), owner.room_id());
    assert_eq!(member.fingerprint(0).unwrap(), owner.fingerprint(0).unwrap());
    assert_eq!((owner.requests_in_flight(), member.requests_in_flight()), (0, 0));
    // Saved again, they are version 2 and load as such.
    let again = Owner::unpickle(&owner.pickle()).unwrap();
    assert_eq!(*again.pickle(), *owner.pickle());
    assert_eq!(again.epoch(), 5);
}

/// Writes the version-2 fixtures when `ZFC_WRITE_FIXTURES=1`; otherwise checks that they load,
/// with their requests in flight, and that today's code writes the same bytes.
#[test]
fn version_2_fixtures_load_with_their_requests_in_flight() {
    let (mut room, bob, _) = lived_room(7);
    // Offline, the owner rotates and bob leaves: both wait to be resent.
    room.sim.disconnect(room.owner);
    room.sim.disconnect(bob);
    room.by_owner(|o, rng| o.rotate(rng)).unwrap();
    room.by_member(bob, |m, _| m.leave()).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let owner_sealed = room.owner().seal_state(PASSWORD, Argon2Params::MIN, &mut rng).unwrap();
    let member_sealed = room.member(bob).unwrap().seal_state(PASSWORD, Argon2Params::MIN, &mut rng).unwrap();
    if std::env::var("ZFC_WRITE_FIXTURES").as_deref() == Ok("1") {
        let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
        std::fs::write(format!("{dir}/owner-v2.sealed.hex"), hex::encode(&owner_sealed) + "\n").unwrap();
        std::fs::write(format!("{dir}/member-v2.sealed.hex"), hex::encode(&member_sealed) + "\n").unwrap();
    }
    let owner = Owner::open_state(&fixture("owner-v2.sealed.hex"), PASSWORD).unwrap();
    let member = Member::open_state(&fixture("member-v2.sealed.hex"), PASSWORD).unwrap();
    assert_eq!(owner.epoch(), 5);
    assert!(owner.commit_in_flight());
    assert_eq!(owner.requests_in_flight(), 1);
    assert!(member.is_leaving());
    assert_eq!(member.requests_in_flight(), 1);
    // While the writer is still at version 2, today's code writes the same bytes.
    assert_eq!(owner_sealed, fixture("owner-v2.sealed.hex"));
    assert_eq!(member_sealed, fixture("member-v2.sealed.hex"));
}

#[test]
fn an_owner_restored_from_an_older_backup_follows_the_commits_it_made_since() {
    let mut room = lenient(8);
    let bob = room.join("bob").unwrap();
    let carol = room.join("carol").unwrap();
    let backup = room.owner().pickle();
    room.by_owner(|o, rng| o.rotate(rng)).unwrap();
    room.by_owner(|o, rng| o.remove(1, rng)).unwrap();
    room.send(carol, "while the owner's disk was old").unwrap();
    let epoch = room.owner().epoch();
    room.sim.disconnect(room.owner);
    room.sim.slots[room.owner].party = Party::Owner(Box::new(Owner::unpickle(&backup).unwrap()));
    room.sim.connect(room.owner);
    room.sim.run();
    assert_eq!(room.owner().epoch(), epoch, "caught up through its own commits");
    assert_eq!(room.owner().roster().len(), 2);
    room.texts(carol);
    room.by_owner(|o, rng| o.rotate(rng)).unwrap();
    room.send(room.owner, "back in charge").unwrap();
    assert_eq!(room.texts(carol), vec!["back in charge"]);
    assert!(room.member(bob).unwrap().phase().gone().is_some());
}

#[test]
fn a_member_restored_from_before_its_key_updates_reports_the_lost_keys() {
    // Key-delivery keys are random, so that a leaked state stops opening shares once the member
    // refreshes. The price: a backup older than the member's last key update cannot open shares
    // sealed to the keys announced since; it reports that, and the member rejoins.
    let mut room = lenient(9);
    let bob = room.join("bob").unwrap();
    let backup = room.member(bob).unwrap().pickle();
    room.by_member(bob, |m, rng| m.update_key(rng)).unwrap();
    room.by_owner(|o, rng| o.rotate(rng)).unwrap();
    room.sim.disconnect(bob);
    room.sim.slots[bob].party = Party::Member(Box::new(Member::unpickle(&backup).unwrap()));
    room.sim.take_events(bob);
    room.sim.connect(bob);
    room.sim.run();
    assert!(room.rejections(bob).contains(&zfc_core::Error::Forged), "{:?}", room.rejections(bob));
    assert!(room.member(bob).unwrap().phase().epoch() < Some(room.owner().epoch()));
    // Its generation caught up from its own update in the log: a new update is not stale.
    room.by_member(bob, |m, rng| m.update_key(rng)).unwrap();
    assert!(room.relay_rejections(bob).is_empty(), "{:?}", room.relay_rejections(bob));
}
