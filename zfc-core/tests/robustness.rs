//! Every entry point that takes bytes from outside, fed random bytes and mutations of genuine
//! traffic: a typed error or a value, never a panic; and a client call that returns an error
//! leaves the client's state exactly as it was (compared through its pickle).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zfc_core::internal::frame::Frame;
use zfc_core::link::{self, ClientHandshake, RelayKey};
use zfc_core::relay::{ClientRequest, RelayConfig, RelayMessage, RuleBook};
use zfc_core::sim::Traced;
use zfc_core::{Invite, Member, Owner};

/// Genuine traffic of a room's life: (party, to relay?, bytes), and an owner's and a member's
/// pickled state at the end.
type Traffic = (Vec<(usize, bool, Vec<u8>)>, Vec<u8>, Vec<u8>);

fn traffic() -> Traffic {
    let mut room = common::lenient(77);
    room.sim.tracing = true;
    let bob = room.join("bob").unwrap();
    let carol = room.join("carol").unwrap();
    room.send(bob, "hello").unwrap();
    room.by_member(carol, |m, rng| m.update_key(rng)).unwrap();
    room.by_owner(|o, rng| o.rotate(rng)).unwrap();
    room.send(room.owner, "after rotation").unwrap();
    room.by_owner(|o, rng| o.remove(2, rng)).unwrap();
    room.send(bob, "after removal").unwrap();
    let dave = room.join("dave").unwrap();
    room.by_member(dave, |m, _| m.fetch_history(10)).unwrap();
    let trace = room
        .sim
        .trace
        .iter()
        .map(|t| match t {
            Traced::ToRelay(p, b) => (*p, true, b.clone()),
            Traced::ToParty(p, b) => (*p, false, b.clone()),
        })
        .collect();
    let owner = room.owner().pickle().to_vec();
    let member = room.member(bob).unwrap().pickle().to_vec();
    (trace, owner, member)
}

fn mutate(mut bytes: Vec<u8>, how: &[(u16, u8, u8)]) -> Vec<u8> {
    for (pos, op, val) in how {
        if bytes.is_empty() {
            bytes.push(*val);
            continue;
        }
        let i = *pos as usize % bytes.len();
        match op % 4 {
            0 => bytes[i] ^= val | 1,
            1 => bytes.truncate(i),
            2 => bytes.insert(i, *val),
            _ => {
                bytes.remove(i);
            }
        }
    }
    bytes
}

fn feed_everywhere(bytes: &[u8], owner_state: &[u8], member_state: &[u8]) {
    let _ = Frame::decode(bytes);
    let _ = ClientRequest::decode(bytes);
    let _ = RelayMessage::decode(bytes);
    let _ = Invite::parse(&String::from_utf8_lossy(bytes));
    let _ = Owner::unpickle(bytes);
    let _ = Member::unpickle(bytes);
    let _ = Member::open_state(bytes, b"pw");
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let relay_key = RelayKey::generate(&mut rng);
    let _ = link::respond(&relay_key, bytes, &mut rng);
    let (hs, _) = ClientHandshake::start(&relay_key.public(), &mut rng).unwrap();
    let _ = hs.finish(bytes);

    let mut owner = Owner::unpickle(owner_state).unwrap();
    owner.on_connected([3; 32].into());
    let before = owner.pickle();
    if owner.handle(bytes, common::NOW, &mut rng).is_err() {
        assert_eq!(*before, *owner.pickle(), "owner state changed on error");
    }
    let mut member = Member::unpickle(member_state).unwrap();
    member.on_connected([3; 32].into());
    let before = member.pickle();
    if member.handle(bytes, &mut rng).is_err() {
        assert_eq!(*before, *member.pickle(), "member state changed on error");
    }
    let mut relay = RuleBook::new(RelayConfig::default());
    relay.connect(1, [0; 32].into(), &mut rng);
    let _ = relay.handle(1, bytes, common::NOW);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        thread_local!(static T: Traffic = traffic());
        T.with(|(_, o, m)| feed_everywhere(&bytes, o, m));
    }

    #[test]
    fn mutated_traffic_never_panics_nor_changes_state_on_error(
        pick in any::<u16>(),
        how in proptest::collection::vec((any::<u16>(), any::<u8>(), any::<u8>()), 1..4),
    ) {
        thread_local!(static T: Traffic = traffic());
        T.with(|(trace, o, m)| {
            let (_, _, bytes) = &trace[pick as usize % trace.len()];
            let mutated = mutate(bytes.clone(), &how);
            feed_everywhere(&mutated, o, m);
            // Frames inside requests and deliveries too.
            if let Ok(ClientRequest::Submit { frame, .. }) = ClientRequest::decode(bytes) {
                feed_everywhere(&mutate(frame, &how), o, m);
            }
        });
    }
}

/// A genuine delivery with any single bit flipped reaches the member at the right position: the
/// member never reads it; it drops it as a typed error or refuses the whole message unchanged.
#[test]
fn mutated_deliveries_in_position_are_dropped_cleanly() {
    let mut room = common::lenient(78);
    let bob = room.join("bob").unwrap();
    let carol = room.join("carol").unwrap();
    let state = room.member(carol).unwrap().pickle().to_vec();
    room.sim.tracing = true;
    room.send(bob, "one").unwrap();
    let delivered: Vec<Vec<u8>> = room
        .sim
        .trace
        .iter()
        .filter_map(|t| match t {
            Traced::ToParty(p, b) if *p == carol => Some(b.clone()),
            _ => None,
        })
        .filter(|b| matches!(RelayMessage::decode(b), Ok(RelayMessage::Deliver { .. })))
        .collect();
    let genuine = delivered.last().unwrap().clone();
    let RelayMessage::Deliver { room_id, seq, frame } = RelayMessage::decode(&genuine).unwrap() else { panic!() };
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    // The genuine frame is read from that state.
    let mut m = Member::unpickle(&state).unwrap();
    let read = m.handle(&genuine, &mut rng).unwrap();
    assert_eq!(read.messages().count(), 1);
    for i in 0..frame.len() {
        for bit in [0x01u8, 0x80] {
            let mut m = Member::unpickle(&state).unwrap();
            let mut f = frame.clone();
            f[i] ^= bit;
            let msg = RelayMessage::Deliver { room_id, seq, frame: f }.encode();
            match m.handle(&msg, &mut rng) {
                Ok(out) => assert!(out.messages().next().is_none(), "flip at {i} accepted"),
                Err(_) => assert_eq!(*m.pickle(), *state),
            }
        }
    }
}
