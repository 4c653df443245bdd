//! Each flow end to end over the simulated relay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

fn member(room: &mut common::Room, id: usize) -> &mut zfc_core::Member {
    room.member(id).unwrap()
}

trait JoinOk {
    fn join_ok(&mut self, name: &str) -> usize;
}

impl JoinOk for common::Room {
    fn join_ok(&mut self, name: &str) -> usize {
        let id = self.join(name).unwrap();
        assert!(self.member(id).unwrap().is_joined(), "{name} did not join");
        id
    }
}

use common::{lenient, room as new_room, strict};
use zfc_core::{EpochReason, Event};

#[test]
fn create_invite_join_chat() {
    let mut room = lenient(1);
    let bob = room.join_ok("bob");
    let carol = room.join_ok("carol");
    assert_eq!(room.owner().roster().len(), 3);
    assert_eq!(member(&mut room, bob).roster().unwrap().len(), 3);
    assert_eq!(room.owner().epoch(), member(&mut room, carol).phase().epoch().unwrap());
    room.texts(bob);
    room.texts(carol);
    room.texts(room.owner);

    room.send(bob, "hi all").unwrap();
    room.send(room.owner, "welcome").unwrap();
    assert_eq!(room.texts(carol), vec!["hi all", "welcome"]);
    assert_eq!(room.texts(bob), vec!["hi all", "welcome"]);
    let owner = room.owner;
    assert_eq!(room.texts(owner), vec!["hi all", "welcome"]);
}

#[test]
fn removal_cuts_the_member_off() {
    let mut room = lenient(2);
    let bob = room.join_ok("bob");
    let carol = room.join_ok("carol");
    room.by_owner(|o, rng| o.remove(1, rng)).unwrap();
    assert!(member(&mut room, bob).phase().gone().is_some());
    assert!(room.sim.take_events(bob).contains(&Event::RemovedFromRoom));
    assert_eq!(member(&mut room, carol).roster().unwrap().len(), 2);
    room.texts(carol);
    room.send(carol, "after removal").unwrap();
    assert_eq!(room.texts(carol), vec!["after removal"]);
    assert!(room.texts(bob).is_empty());
}

#[test]
fn owner_rotates_after_n_messages() {
    let mut room = new_room(3, zfc_core::RoomConfig::builder().auto_approve(true).rotate_every(5).build().unwrap());
    let bob = room.join_ok("bob");
    let e0 = room.owner().epoch();
    for i in 0..5 {
        room.send(bob, &format!("m{i}")).unwrap();
    }
    assert_eq!(room.owner().epoch(), e0 + 1);
    assert_eq!(member(&mut room, bob).phase().epoch(), Some(e0 + 1));
    let evs = room.sim.take_events(bob);
    assert!(evs.contains(&Event::EpochChanged { epoch: e0 + 1, reason: EpochReason::Rotation }));
    room.send(bob, "after rotation").unwrap();
    assert_eq!(room.texts(room.owner).last().map(String::as_str), Some("after rotation"));
}

#[test]
fn newcomer_reads_history_since_last_rotation() {
    let mut room = lenient(4);
    let bob = room.join_ok("bob");
    room.send(bob, "before rotation").unwrap();
    room.by_owner(|o, rng| o.rotate(rng)).unwrap();
    room.send(bob, "since rotation 1").unwrap();
    room.send(room.owner, "since rotation 2").unwrap();
    let dave = room.join_ok("dave");
    room.by_member(dave, |m, _| m.fetch_history(100)).unwrap();
    assert_eq!(room.texts(dave), vec!["since rotation 1", "since rotation 2"]);
}

#[test]
fn newcomer_reads_nothing_before_joining_under_strict_policy() {
    let mut room = strict(5);
    let bob = room.join_ok("bob");
    room.send(bob, "secret past").unwrap();
    let dave = room.join_ok("dave");
    room.by_member(dave, |m, _| m.fetch_history(100)).unwrap();
    assert!(room.texts(dave).is_empty());
    room.send(bob, "hello dave").unwrap();
    assert_eq!(room.texts(dave), vec!["hello dave"]);
}

#[test]
fn offline_member_catches_up_on_reconnect() {
    let mut room = lenient(6);
    let bob = room.join_ok("bob");
    let carol = room.join_ok("carol");
    room.texts(carol);
    room.sim.disconnect(carol);
    room.send(bob, "while you were away").unwrap();
    room.by_owner(|o, rng| o.rotate(rng)).unwrap();
    room.send(bob, "after the rotation").unwrap();
    room.sim.connect(carol);
    room.sim.run();
    assert_eq!(room.texts(carol), vec!["while you were away", "after the rotation"]);
    assert_eq!(member(&mut room, carol).phase().epoch(), room.owner().epoch().into());
}

#[test]
fn member_leaves_and_owner_removes() {
    let mut room = lenient(7);
    let bob = room.join_ok("bob");
    let carol = room.join_ok("carol");
    room.by_member(bob, |m, _| m.leave()).unwrap();
    assert!(member(&mut room, bob).phase().gone().is_some());
    assert_eq!(room.owner().roster().len(), 2);
    assert_eq!(member(&mut room, carol).roster().unwrap().len(), 2);
}

#[test]
fn owner_deletes_room() {
    let mut room = lenient(8);
    let bob = room.join_ok("bob");
    room.by_owner(|o, _| o.delete_room()).unwrap();
    assert!(room.sim.take_events(bob).contains(&Event::RoomDeleted));
    assert_eq!(member(&mut room, bob).phase().gone(), Some(zfc_core::GoneReason::Deleted));
}

#[test]
fn key_update_then_rotation_uses_new_key() {
    let mut room = lenient(9);
    let bob = room.join_ok("bob");
    room.by_member(bob, |m, rng| m.update_key(rng)).unwrap();
    room.by_owner(|o, rng| o.rotate(rng)).unwrap();
    assert_eq!(member(&mut room, bob).phase().epoch(), Some(room.owner().epoch()));
    room.send(bob, "still here").unwrap();
    assert_eq!(room.texts(room.owner).last().map(String::as_str), Some("still here"));
}

#[test]
fn owner_approves_join_by_hand() {
    let mut room = new_room(10, zfc_core::RoomConfig::default());
    let inv = room.invite().unwrap();
    let bob = room.start_join("bob", &inv).unwrap();
    let joiner = room
        .sim
        .take_events(room.owner)
        .into_iter()
        .find_map(|e| match e {
            Event::JoinRequested { joiner, name, .. } => Some((joiner, name)),
            _ => None,
        })
        .expect("join request event");
    assert_eq!(joiner.1, "bob");
    assert!(!member(&mut room, bob).is_joined());
    room.by_owner(|o, rng| o.approve_join(joiner.0, rng)).unwrap();
    assert!(member(&mut room, bob).is_joined());
    assert_eq!(room.owner().fingerprint(1).unwrap(), member(&mut room, bob).fingerprint(1).unwrap());
}
