//! Each flow end to end over the simulated relay.

mod common;

use common::Room;
use zfc_core::{Event, EpochReason};

#[test]
fn create_invite_join_chat() {
    let mut room = Room::lenient(1);
    let bob = room.join("bob");
    let carol = room.join("carol");
    assert_eq!(room.owner().roster().len(), 3);
    assert_eq!(room.member(bob).roster().unwrap().len(), 3);
    assert_eq!(room.owner().epoch(), room.member(carol).epoch().unwrap());
    room.texts(bob);
    room.texts(carol);
    room.texts(room.owner);

    room.send(bob, "hi all");
    room.send(room.owner, "welcome");
    assert_eq!(room.texts(carol), vec!["hi all", "welcome"]);
    assert_eq!(room.texts(bob), vec!["hi all", "welcome"]);
    let owner = room.owner;
    assert_eq!(room.texts(owner), vec!["hi all", "welcome"]);
}

#[test]
fn removal_cuts_the_member_off() {
    let mut room = Room::lenient(2);
    let bob = room.join("bob");
    let carol = room.join("carol");
    let out = room.with_owner(|o, rng| o.remove(1, rng)).unwrap();
    room.sim.apply(room.owner, out);
    room.sim.run();
    assert!(room.member(bob).gone().is_some());
    assert!(room.sim.take_events(bob).contains(&Event::RemovedFromRoom));
    assert_eq!(room.member(carol).roster().unwrap().len(), 2);
    room.texts(carol);
    room.send(carol, "after removal");
    assert_eq!(room.texts(carol), vec!["after removal"]);
    assert!(room.texts(bob).is_empty());
}

#[test]
fn owner_rotates_after_n_messages() {
    let mut room = Room::new(3, zfc_core::RoomConfig::builder().auto_approve(true).rotate_every(5).build().unwrap());
    let bob = room.join("bob");
    let e0 = room.owner().epoch();
    for i in 0..5 {
        room.send(bob, &format!("m{i}"));
    }
    assert_eq!(room.owner().epoch(), e0 + 1);
    assert_eq!(room.member(bob).epoch(), Some(e0 + 1));
    let evs = room.sim.take_events(bob);
    assert!(evs.contains(&Event::EpochChanged { epoch: e0 + 1, reason: EpochReason::Rotation }));
    room.send(bob, "after rotation");
    assert_eq!(room.texts(room.owner).last().map(String::as_str), Some("after rotation"));
}

#[test]
fn newcomer_reads_history_since_last_rotation() {
    let mut room = Room::lenient(4);
    let bob = room.join("bob");
    room.send(bob, "before rotation");
    let out = room.with_owner(|o, rng| o.rotate(rng)).unwrap();
    room.sim.apply(room.owner, out);
    room.sim.run();
    room.send(bob, "since rotation 1");
    room.send(room.owner, "since rotation 2");
    let dave = room.join("dave");
    let out = room.with_member(dave, |m, _| m.fetch_history(100)).unwrap();
    room.sim.apply(dave, out);
    room.sim.run();
    assert_eq!(room.texts(dave), vec!["since rotation 1", "since rotation 2"]);
}

#[test]
fn newcomer_reads_nothing_before_joining_under_strict_policy() {
    let mut room = Room::strict(5);
    let bob = room.join("bob");
    room.send(bob, "secret past");
    let dave = room.join("dave");
    let out = room.with_member(dave, |m, _| m.fetch_history(100)).unwrap();
    room.sim.apply(dave, out);
    room.sim.run();
    assert!(room.texts(dave).is_empty());
    room.send(bob, "hello dave");
    assert_eq!(room.texts(dave), vec!["hello dave"]);
}

#[test]
fn offline_member_catches_up_on_reconnect() {
    let mut room = Room::lenient(6);
    let bob = room.join("bob");
    let carol = room.join("carol");
    room.texts(carol);
    room.sim.disconnect(carol);
    room.send(bob, "while you were away");
    let out = room.with_owner(|o, rng| o.rotate(rng)).unwrap();
    room.sim.apply(room.owner, out);
    room.sim.run();
    room.send(bob, "after the rotation");
    room.sim.connect(carol);
    room.sim.run();
    assert_eq!(room.texts(carol), vec!["while you were away", "after the rotation"]);
    assert_eq!(room.member(carol).epoch(), room.owner().epoch().into());
}

#[test]
fn member_leaves_and_owner_removes() {
    let mut room = Room::lenient(7);
    let bob = room.join("bob");
    let carol = room.join("carol");
    let out = room.with_member(bob, |m, _| m.leave()).unwrap();
    room.sim.apply(bob, out);
    room.sim.run();
    assert!(room.member(bob).gone().is_some());
    assert_eq!(room.owner().roster().len(), 2);
    assert_eq!(room.member(carol).roster().unwrap().len(), 2);
}

#[test]
fn owner_deletes_room() {
    let mut room = Room::lenient(8);
    let bob = room.join("bob");
    let out = room.with_owner(|o, _| o.delete_room()).unwrap();
    room.sim.apply(room.owner, out);
    room.sim.run();
    assert!(room.sim.take_events(bob).contains(&Event::RoomDeleted));
    assert_eq!(room.member(bob).gone(), Some(zfc_core::GoneReason::Deleted));
}

#[test]
fn key_update_then_rotation_uses_new_key() {
    let mut room = Room::lenient(9);
    let bob = room.join("bob");
    let out = room.with_member(bob, |m, rng| m.update_key(rng)).unwrap();
    room.sim.apply(bob, out);
    room.sim.run();
    let out = room.with_owner(|o, rng| o.rotate(rng)).unwrap();
    room.sim.apply(room.owner, out);
    room.sim.run();
    assert_eq!(room.member(bob).epoch(), Some(room.owner().epoch()));
    room.send(bob, "still here");
    assert_eq!(room.texts(room.owner).last().map(String::as_str), Some("still here"));
}

#[test]
fn owner_approves_join_by_hand() {
    let mut room = Room::new(10, zfc_core::RoomConfig::default());
    let inv = room.invite();
    let bob = room.start_join("bob", &inv);
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
    assert!(!room.member(bob).is_joined());
    let out = room.with_owner(|o, rng| o.approve_join(joiner.0, rng)).unwrap();
    room.sim.apply(room.owner, out);
    room.sim.run();
    assert!(room.member(bob).is_joined());
    assert_eq!(room.owner().fingerprint(1).unwrap(), room.member(bob).fingerprint(1).unwrap());
}
