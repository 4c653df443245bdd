//! Paths a review of the facade found unguarded, each as the scenario that broke it: operations
//! resent on a new socket before their save, a message whose answer was lost, a relay that
//! skips log positions or challenges twice, acknowledgements after entries that are no
//! messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Net, config};
use zfc_client::{ClientEvent, RoomOperation, RoomSettings};
use zfc_core::internal::frame::Frame;
use zfc_core::proto::{ClientRequest, RelayMessage};
use zfc_core::relay::RelayConfig;

const ALICE: usize = 0;
const BOB: usize = 1;

/// Alice's room with bob in it, everything settled and read.
fn room_of_two() -> (Net, Vec<u8>) {
    let mut net = Net::new(RelayConfig::default());
    let relay = net.address();
    net.add(config(1, false));
    net.add(config(2, false));
    let settings = RoomSettings { auto_approve: true, ..RoomSettings::default() };
    let room = net.client(ALICE).create_room(&relay, settings).unwrap();
    net.run();
    let invite = net.client(ALICE).invite(&room, 3600).unwrap();
    net.run();
    net.client(BOB).join_room(&invite, "bob").unwrap();
    net.run();
    assert_eq!(net.client(BOB).room_info(&room).unwrap().member, Some(1));
    net.take(ALICE);
    net.take(BOB);
    (net, room)
}

fn commits_by(net: &Net, who: usize) -> usize {
    net.submitted
        .iter()
        .zip(&net.submitted_by)
        .filter(|(r, by)| {
            **by == who
                && matches!(r, ClientRequest::Submit { frame, .. } if matches!(Frame::decode(frame), Ok(Frame::Commit(_))))
        })
        .count()
}

/// A commit made while offline is resent by the party itself once the next socket is
/// authenticated; that resend must still wait for the save holding the commit (else a crash
/// before the save signs a second, different commit for the same epoch).
#[test]
fn an_operation_resent_on_a_new_socket_waits_for_its_save() {
    let (mut net, room) = room_of_two();
    let before = commits_by(&net, ALICE);
    net.cut(ALICE);
    net.peers[ALICE].confirm_saves = false;
    net.client(ALICE).rotate(&room).unwrap();
    net.advance(1_000); // back online; the save holding the commit is written but not confirmed
    assert!(net.sockets(ALICE) > 0, "alice reconnected");
    assert_eq!(commits_by(&net, ALICE), before, "the commit left before its save was confirmed");
    assert!(net.client(ALICE).waits_for_save().unwrap());

    net.peers[ALICE].confirm_saves = true;
    let generation = net.peers[ALICE].last_generation.unwrap();
    net.client(ALICE).state_saved(generation).unwrap();
    net.run();
    assert_eq!(commits_by(&net, ALICE), before + 1);
    let ev = net.take(ALICE);
    assert!(ev.iter().any(|e| matches!(e, ClientEvent::OperationLanded { op: RoomOperation::Rotate, .. })), "{ev:?}");
}

/// The relay took bob's message but its answer was lost with the socket: the message goes
/// again on the next socket and is refused as a repeat. Bob must hear it was sent (its echo in
/// the log settles it), never that it was refused, and nobody reads it twice.
#[test]
fn a_message_whose_answer_was_lost_is_reported_sent_once() {
    let (mut net, room) = room_of_two();
    net.peers[BOB].deaf = true;
    let id = net.client(BOB).send_text(&room, "did this land?").unwrap();
    net.run();
    net.peers[BOB].deaf = false;
    net.cut(BOB);
    net.advance(1_000);
    let ev = net.take(BOB);
    let sent: Vec<_> =
        ev.iter().filter(|e| matches!(e, ClientEvent::MessageSent { local_id, .. } if *local_id == id)).collect();
    assert_eq!(sent.len(), 1, "{ev:?}");
    assert!(matches!(sent[0], ClientEvent::MessageSent { position, .. } if *position > 0));
    assert!(!ev.iter().any(|e| matches!(e, ClientEvent::MessageRefused { .. })), "{ev:?}");
    let reads = |net: &Net, who: usize| {
        net.peers[who]
            .events
            .iter()
            .filter(|e| {
                matches!(e, ClientEvent::Message { message, .. }
                if matches!(&message.content, zfc_client::content::Content::Text { body } if body == "did this land?"))
            })
            .count()
    };
    assert_eq!(reads(&net, ALICE), 1, "alice reads it once");
}

/// A relay that skips log positions: the room refuses the entry and the socket is dropped; on
/// the next one the member resumes from its own position and the room goes on.
#[test]
fn a_gap_in_the_log_drops_the_socket_and_the_room_resumes() {
    let (mut net, room) = room_of_two();
    let room_id: [u8; 16] = room.clone().try_into().unwrap();
    let forged = RelayMessage::Deliver { room_id, seq: 1_000, frame: vec![1, 2, 3] }.encode();
    net.inject(BOB, &forged).unwrap();
    let ev = net.take(BOB);
    assert!(ev.iter().any(|e| matches!(e, ClientEvent::Disconnected { .. })), "{ev:?}");
    net.advance(1_000);
    net.client(ALICE).send_text(&room, "still there?").unwrap();
    net.run();
    assert_eq!(net.texts(BOB, &room).last().map(String::as_str), Some("still there?"));
}

/// A second challenge on one socket would make every room authenticate again without bound: it
/// drops the socket instead.
#[test]
fn a_second_challenge_drops_the_socket() {
    let (mut net, _) = room_of_two();
    let before = net.submitted.len();
    net.inject(BOB, &RelayMessage::Challenge { nonce: [7; 32] }.encode()).unwrap();
    let ev = net.take(BOB);
    assert!(ev.iter().any(|e| matches!(e, ClientEvent::Disconnected { .. })), "{ev:?}");
    assert!(
        !net.submitted[before..].iter().any(|r| matches!(r, ClientRequest::Authenticate { .. })),
        "no authentication answered the second challenge on that socket"
    );
}

/// Log entries that are no messages (a rotation's commit) are acknowledged too, so the relay's
/// retention is not held until the next message.
#[test]
fn a_commit_alone_is_acknowledged() {
    let (mut net, room) = room_of_two();
    let acks = |net: &Net| {
        net.submitted
            .iter()
            .zip(&net.submitted_by)
            .filter(|(r, by)| **by == BOB && matches!(r, ClientRequest::Ack { .. }))
            .count()
    };
    let before = acks(&net);
    net.client(ALICE).rotate(&room).unwrap();
    net.run();
    assert!(acks(&net) > before, "bob acknowledged the rotation's commit");
}
