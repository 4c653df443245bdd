//! A whole room life through the facade's public loop: an owner and two members, each with two
//! rooms, on one connection per relay and on one connection per room.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Net, config};
use zfc_client::{ClientEvent, RoomOperation, RoomRole, RoomSettings};
use zfc_core::relay::RelayConfig;

fn has(events: &[ClientEvent], f: impl Fn(&ClientEvent) -> bool) -> bool {
    events.iter().any(f)
}

fn landed(events: &[ClientEvent], room: &[u8], op: &RoomOperation) -> bool {
    has(events, |e| matches!(e, ClientEvent::OperationLanded { room: r, op: o } if r == room && o == op))
}

fn room_life(per_room: bool) {
    let mut net = Net::new(RelayConfig::default());
    let relay = net.address();
    let (alice, bob, carol) =
        (net.add(config(1, per_room)), net.add(config(2, per_room)), net.add(config(3, per_room)));

    // Two rooms: one where the owner approves each join, one that approves by itself.
    let r1 = net.client(alice).create_room(&relay, RoomSettings::default()).unwrap();
    let r2 =
        net.client(alice).create_room(&relay, RoomSettings { auto_approve: true, ..RoomSettings::default() }).unwrap();
    net.run();
    let ev = net.take(alice);
    assert!(landed(&ev, &r1, &RoomOperation::CreateRoom) && landed(&ev, &r2, &RoomOperation::CreateRoom), "{ev:?}");
    assert_eq!(net.sockets(alice), if per_room { 2 } else { 1 });

    for (peer, name) in [(bob, "bob"), (carol, "carol")] {
        for room in [&r1, &r2] {
            let invite = net.client(alice).invite(room, 3600).unwrap();
            assert_eq!(net.client(peer).join_room(&invite, name).unwrap(), *room);
        }
    }
    net.run();
    let requests: Vec<Vec<u8>> = net
        .take(alice)
        .into_iter()
        .filter_map(|e| match e {
            ClientEvent::JoinRequested { room, joiner, .. } if room == r1 => Some(joiner),
            _ => None,
        })
        .collect();
    assert_eq!(requests.len(), 2, "two joins to approve in the room that asks");
    for joiner in requests {
        net.client(alice).approve_join(&r1, &joiner).unwrap();
    }
    net.run();
    for peer in [bob, carol] {
        let ev = net.take(peer);
        for room in [&r1, &r2] {
            assert!(has(&ev, |e| matches!(e, ClientEvent::Joined { room: r, .. } if r == room)), "{ev:?}");
            assert_eq!(net.client(peer).room_info(room).unwrap().role, RoomRole::Member);
        }
        assert_eq!(net.sockets(peer), if per_room { 2 } else { 1 });
    }
    assert_eq!(net.client(alice).room_info(&r1).unwrap().members, vec![0, 1, 2]);

    // Messages in both rooms reach everyone, the sender included, each in its room.
    let id = net.client(bob).send_text(&r1, "hello r1").unwrap();
    net.client(carol).send_text(&r2, "hello r2").unwrap();
    net.run();
    for peer in [alice, bob, carol] {
        assert_eq!(net.texts(peer, &r1), vec!["hello r1"]);
        assert_eq!(net.texts(peer, &r2), vec!["hello r2"]);
    }
    assert!(has(&net.peers[bob].events, |e| matches!(e, ClientEvent::MessageSent { local_id, .. } if *local_id == id)));

    // The owner removes carol from r1: she is out of r1 and still in r2.
    net.client(alice).remove_member(&r1, 2).unwrap();
    net.run();
    assert!(landed(&net.peers[alice].events, &r1, &RoomOperation::Remove { member: 2 }));
    assert!(has(&net.peers[carol].events, |e| matches!(e, ClientEvent::RemovedFromRoom { room } if *room == r1)));
    assert_eq!(net.client(carol).room_info(&r1).unwrap().role, RoomRole::Gone);
    net.client(bob).send_text(&r1, "carol cannot read this").unwrap();
    net.client(bob).send_text(&r2, "carol reads this").unwrap();
    net.run();
    assert_eq!(net.texts(carol, &r1), vec!["hello r1"]);
    assert_eq!(net.texts(carol, &r2), vec!["hello r2", "carol reads this"]);
    assert_eq!(net.texts(alice, &r1), vec!["hello r1", "carol cannot read this"]);

    // Bob's network fails; what he sends meanwhile leaves once he is back.
    net.cut(bob);
    net.client(bob).send_text(&r2, "sent offline").unwrap();
    net.run();
    assert!(has(&net.peers[bob].events, |e| matches!(e, ClientEvent::Disconnected { .. })));
    assert_eq!(net.texts(alice, &r2), vec!["hello r2", "carol reads this"]);
    net.advance(1_000);
    assert_eq!(net.texts(alice, &r2), vec!["hello r2", "carol reads this", "sent offline"]);

    // A rotation and a leave land.
    net.client(alice).rotate(&r2).unwrap();
    net.client(bob).leave(&r2).unwrap();
    net.run();
    assert!(landed(&net.peers[alice].events, &r2, &RoomOperation::Rotate));
    assert!(landed(&net.peers[bob].events, &r2, &RoomOperation::Leave));

    // Keep-alives keep quiet connections up and are answered.
    let before = net.submitted.len();
    net.advance(30_000);
    net.advance(30_000);
    assert!(net.submitted.len() > before, "keep-alives went out");
    assert!(!has(&net.peers[alice].events, |e| matches!(e, ClientEvent::Disconnected { .. })));
}

#[test]
fn a_room_life_on_one_connection_per_relay() {
    room_life(false);
}

#[test]
fn a_room_life_on_one_connection_per_room() {
    room_life(true);
}

/// A member who sends before reading a removal (offline meanwhile) has its message refused
/// (`EpochClosed`: the removal closed the epoch it was sealed in); the client seals it again in
/// the new epoch, and it lands under the same local id.
#[test]
fn a_message_sealed_in_an_epoch_closed_meanwhile_is_sealed_again() {
    let mut net = Net::new(RelayConfig::default());
    let relay = net.address();
    let (alice, bob, carol) = (net.add(config(1, false)), net.add(config(2, false)), net.add(config(3, false)));
    let room =
        net.client(alice).create_room(&relay, RoomSettings { auto_approve: true, ..RoomSettings::default() }).unwrap();
    net.run();
    for (peer, name) in [(bob, "bob"), (carol, "carol")] {
        let invite = net.client(alice).invite(&room, 3600).unwrap();
        net.run();
        net.client(peer).join_room(&invite, name).unwrap();
        net.run();
    }
    net.cut(bob);
    net.client(alice).remove_member(&room, 2).unwrap();
    net.run();
    let id = net.client(bob).send_text(&room, "sent before reading the removal").unwrap();
    net.advance(1_000);
    let ev = net.take(bob);
    assert!(has(&ev, |e| matches!(e, ClientEvent::MessageSent { local_id, .. } if *local_id == id)), "{ev:?}");
    assert!(!has(&ev, |e| matches!(e, ClientEvent::MessageRefused { .. })), "{ev:?}");
    assert_eq!(net.texts(alice, &room).last().map(String::as_str), Some("sent before reading the removal"));
    assert!(net.texts(carol, &room).iter().all(|t| t != "sent before reading the removal"), "carol was removed");
    // It was refused once (the closed epoch), then landed.
    let submits = net
        .submitted
        .iter()
        .filter(|r| matches!(r, zfc_core::proto::ClientRequest::Submit { frame, .. }
            if matches!(zfc_core::internal::frame::Frame::decode(frame), Ok(zfc_core::internal::frame::Frame::Message(m)) if m.body.sender == 1)))
        .count();
    assert_eq!(submits, 2, "sealed twice: in the closed epoch, then in the new one");
}
