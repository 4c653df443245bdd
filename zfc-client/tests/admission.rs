//! Admission (spec §6.10) on a relay that restricts room creation: the facade presents its
//! token (Admit) on a connection that will carry a CreateRoom, waits for the answer, and treats
//! "creation restricted" as final only when it holds no token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Net, config};
use zfc_client::{ClientEvent, RoomOperation, RoomSettings};
use zfc_core::proto::{ClientRequest, Reject};
use zfc_core::relay::{RelayConfig, admission_hash};

const TOKEN: [u8; 32] = [0x5a; 32];

fn restricted() -> Net {
    Net::new(RelayConfig {
        open_room_creation: false,
        admission_tokens: vec![admission_hash(&TOKEN)],
        ..RelayConfig::default()
    })
}

fn admits(net: &Net) -> usize {
    net.submitted.iter().filter(|r| matches!(r, ClientRequest::Admit { .. })).count()
}

fn landed(events: &[ClientEvent], room: &[u8]) -> bool {
    events
        .iter()
        .any(|e| matches!(e, ClientEvent::OperationLanded { room: r, op: RoomOperation::CreateRoom } if r == room))
}

#[test]
fn without_a_token_creation_restricted_is_final() {
    let mut net = restricted();
    let relay = net.address();
    let alice = net.add(config(1, false));
    let room = net.client(alice).create_room(&relay, RoomSettings::default()).unwrap();
    net.run();
    let code = u32::from(Reject::CreationRestricted.code()) + zfc_core::code::RELAY_BASE;
    let ev = net.take(alice);
    assert!(
        ev.iter().any(|e| matches!(e,
            ClientEvent::OperationFailed { room: r, op: RoomOperation::CreateRoom, code: c } if *r == room && *c == code)),
        "{ev:?}"
    );
    assert_eq!(admits(&net), 0, "no token, no Admit");
}

#[test]
fn with_the_token_admit_goes_first_and_the_room_is_created() {
    let mut net = restricted();
    let relay = net.address();
    let alice = net.add(config(1, false));
    net.client(alice).set_admission_token(&relay, &TOKEN).unwrap();
    let r1 = net.client(alice).create_room(&relay, RoomSettings::default()).unwrap();
    net.run();
    assert!(landed(&net.take(alice), &r1));
    // Admit was the first request on the socket, before the CreateRoom.
    assert!(matches!(net.submitted.first(), Some(ClientRequest::Admit { .. })), "{:?}", net.submitted.first());
    assert_eq!(admits(&net), 1);

    // A second room on the admitted socket needs no second Admit.
    let r2 = net.client(alice).create_room(&relay, RoomSettings::default()).unwrap();
    net.run();
    assert!(landed(&net.take(alice), &r2));
    assert_eq!(admits(&net), 1);

    // A member with a token configured but nothing to create presents nothing.
    let bob = net.add(config(2, false));
    net.client(bob).set_admission_token(&relay, &TOKEN).unwrap();
    let invite = net.client(alice).invite(&r1, 3600).unwrap();
    net.run();
    net.client(bob).join_room(&invite, "bob").unwrap();
    net.run();
    assert_eq!(admits(&net), 1);
}

#[test]
fn a_refused_token_is_reported_and_creation_is_retried_until_a_good_one_is_set() {
    let mut net = restricted();
    let relay = net.address();
    let alice = net.add(config(1, false));
    net.client(alice).set_admission_token(&relay, &[0x11; 32]).unwrap();
    let room = net.client(alice).create_room(&relay, RoomSettings::default()).unwrap();
    net.run();
    let ev = net.take(alice);
    assert!(ev.iter().any(|e| matches!(e, ClientEvent::AdmissionRefused { .. })), "{ev:?}");
    assert!(!landed(&ev, &room));
    assert!(
        !ev.iter().any(|e| matches!(e, ClientEvent::OperationFailed { .. })),
        "not final while a token is configured: {ev:?}"
    );
    // The operator hands out the right token; the next connection carries it.
    net.client(alice).set_admission_token(&relay, &TOKEN).unwrap();
    net.advance(60_000);
    assert!(landed(&net.take(alice), &room));
}

/// A token the relay keeps refusing: one report per socket, and the reconnects back off (the
/// delay doubles; nothing was accepted to reset it).
#[test]
fn a_refused_token_backs_off_and_is_reported_once_per_socket() {
    let mut net = restricted();
    let relay = net.address();
    let alice = net.add(config(1, false));
    net.client(alice).set_admission_token(&relay, &[0x11; 32]).unwrap();
    net.client(alice).create_room(&relay, RoomSettings::default()).unwrap();
    net.run();
    for _ in 0..5 {
        let wait = net.client(alice).next_timeout().unwrap().unwrap() - net.now_ms;
        net.advance(wait);
    }
    let ev = net.take(alice);
    let waits: Vec<u64> = ev
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Disconnected { retry_in_ms, .. } => Some(*retry_in_ms),
            _ => None,
        })
        .collect();
    let refusals = ev.iter().filter(|e| matches!(e, ClientEvent::AdmissionRefused { .. })).count();
    assert_eq!(waits, vec![500, 1_000, 2_000, 4_000, 8_000, 16_000], "{ev:?}");
    assert_eq!(refusals, waits.len(), "one report per socket: {ev:?}");
}
