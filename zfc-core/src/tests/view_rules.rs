//! Boundaries of the client's view (view.rs, join.rs) that mutation testing showed no other test
//! pinned down.

use super::*;
use crate::error::Error;
use crate::event::Event;
use crate::frame::*;
use crate::party::Party;
use crate::relay::Reject;
use crate::view::Position;

#[test]
fn a_joiner_that_authenticated_too_early_authenticates_again_after_its_request() {
    // Over real sockets a client authenticates before it submits: the relay refuses (not a
    // joiner yet), and the joiner must authenticate again once its request is accepted, or it
    // never hears the grant.
    let mut r = room(81, HistoryPolicy::SinceLastEpoch);
    let inv = r.invite().unwrap();
    let (m, out) = crate::member::Member::join(&inv, "early", NOW, &mut r.sim.rng).unwrap();
    let id = r.sim.add("early", Party::Member(Box::new(m)), crate::event::Output::default());
    r.sim.tracing = true;
    r.sim.connect(id);
    r.sim.run();
    assert!(r.rejections(id).is_empty(), "{:?}", r.rejections(id));
    // The relay refused the authentication; the answer to the session's own request stays
    // inside (the app sent no request it could match it to).
    let refused = r.sim.trace.iter().any(|t| {
        matches!(t, crate::sim::Traced::ToParty(p, b) if *p == id
            && matches!(RelayMessage::decode(b), Ok(RelayMessage::Rejected { code, .. }) if code == Reject::NotMember.code()))
    });
    assert!(refused, "the relay did not refuse the early authentication");
    assert!(r.relay_rejections(id).is_empty(), "{:?}", r.relay_rejections(id));
    r.sim.apply(id, out);
    r.sim.run();
    assert!(r.member(id).unwrap().is_joined(), "the joiner did not authenticate again");
}

#[test]
fn an_owner_that_authenticated_before_creating_authenticates_again() {
    let mut rng = ChaCha20Rng::seed_from_u64(82);
    let config = RoomConfig::builder().auto_approve(true).build().unwrap();
    let (owner, create) = crate::owner::Owner::create(config, &mut rng);
    let mut sim = crate::sim::Sim::new(RelayConfig::default(), rng, NOW);
    let id = sim.add("owner", Party::Owner(Box::new(owner)), crate::event::Output::default());
    sim.connect(id);
    sim.run();
    sim.apply(id, create);
    sim.run();
    let Some(o) = sim.owner(id) else { panic!("owner") };
    let room_id = o.room_id();
    let (inv, out) = o.invite(NOW, 60, "ws://x", [9; 32].into(), &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    sim.apply(id, out);
    let (m, out) = crate::member::Member::join(&inv, "bob", NOW, &mut ChaCha20Rng::seed_from_u64(2)).unwrap();
    let bob = sim.add("bob", Party::Member(Box::new(m)), out);
    sim.connect(bob);
    sim.run();
    // Only an owner subscribed again hears the join request and approves it.
    assert!(sim.member(bob).unwrap().is_joined());
    assert_eq!(sim.relay.member_count(&room_id), Some(2));
}

#[test]
fn history_positions_must_follow_each_other() {
    let (mut r, bob, _) = room_of_three(83);
    let v = view(&mut r, bob);
    v.live_start = 100;
    v.live_next = 100;
    v.history_next = Some(5);
    assert!(matches!(v.position(5), Ok(Position::History)));
    assert!(matches!(v.position(6), Err(Error::RelayGap { expected: 5, got: 6 })));
    assert!(matches!(v.position(4), Err(Error::RelayReplay { expected: 5, got: 4 })));
    v.history_next = None;
    assert!(matches!(v.position(3), Ok(Position::History)));
}

#[test]
fn a_former_member_signs_only_for_epochs_before_its_removal() {
    let (mut r, bob, _) = room_of_three(84);
    let v = view(&mut r, bob);
    let pk = [7; 32];
    v.former.insert(9, (pk, 5));
    assert_eq!(v.sender_key(9, 4).unwrap(), pk);
    assert!(matches!(v.sender_key(9, 5), Err(Error::UnknownSender(9))));
    assert!(matches!(v.sender_key(9, 6), Err(Error::UnknownSender(9))));
}

#[test]
fn reading_an_own_older_message_never_lowers_the_send_counter() {
    let (mut r, bob, _) = room_of_three(85);
    let mut frames = Vec::new();
    for text in ["a", "b", "c"] {
        let out = r.member(bob).unwrap().send(text.as_bytes(), &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
        frames.extend(submissions(&out.to_relay).into_iter().map(|(_, f)| f));
    }
    let before = view(&mut r, bob).send_seq;
    assert_eq!(before.1, 3);
    // The relay hands back the first of the three: the counter stays past all three.
    let out = deliver(&mut r, bob, frames.remove(0)).unwrap();
    assert!(out.messages().count() == 1, "{:?}", out.events);
    assert_eq!(view(&mut r, bob).send_seq, before);
}

#[test]
fn deletion_and_member_frames_must_carry_the_right_signature() {
    let (mut r, bob, carol) = room_of_three(86);
    let room_id = room_id(&mut r);
    // A room deletion signed by a member is not the owner's.
    let (bob_key, carol_key) = (sign_key(&mut r, bob), sign_key(&mut r, carol));
    let forged = Signed::sign(DeleteRoom { room_id }, &bob_key).encode();
    let out = deliver(&mut r, carol, forged).unwrap();
    assert_eq!(out.rejection(), Some(&Error::BadSignature));
    assert!(r.member(carol).unwrap().phase().gone().is_none());
    // A leave for bob signed by carol, and a key update for bob signed by carol.
    let leave = Signed::sign(Leave { room_id, member: 1 }, &carol_key).encode();
    let out = deliver(&mut r, OWNER, leave).unwrap();
    assert_eq!(out.rejection(), Some(&Error::BadSignature));
    assert!(!out.events.iter().any(|e| matches!(e, Event::MemberLeft(_))));
    let kx_pk = crate::crypto::KxKey::generate(&mut ChaCha20Rng::seed_from_u64(4)).public();
    let update = Signed::sign(KeyUpdate { room_id, member: 1, kx_pk, generation: 9 }, &carol_key).encode();
    let out = deliver(&mut r, carol, update).unwrap();
    assert_eq!(out.rejection(), Some(&Error::BadSignature));
}

#[test]
fn ack_names_the_last_live_position_read() {
    let (mut r, bob, _) = room_of_three(87);
    let v = view(&mut r, bob);
    v.live_start = 10;
    v.live_next = 10;
    assert!(v.ack().to_relay.is_empty(), "nothing read yet");
    v.live_next = 11;
    let room_id = v.room_id;
    let ack: Vec<_> = v.ack().to_relay.iter().map(|b| ClientRequest::decode(&b.bytes).unwrap()).collect();
    assert_eq!(ack, vec![ClientRequest::Ack { room_id, seq: 10 }]);
}

#[test]
fn a_deleted_room_leaves_the_owner_no_keys() {
    let (mut r, _, _) = room_of_three(88);
    r.by_owner(|o, _| o.delete_room()).unwrap();
    assert!(view(&mut r, OWNER).chain.epochs.is_empty());
}

#[test]
fn display_names_may_be_128_bytes_and_no_more() {
    let mut r = room(89, HistoryPolicy::SinceLastEpoch);
    let inv = r.invite().unwrap();
    let rng = &mut ChaCha20Rng::seed_from_u64(5);
    assert!(crate::member::Member::join(&inv, &"n".repeat(128), NOW, rng).is_ok());
    assert!(crate::member::Member::join(&inv, &"n".repeat(129), NOW, rng).is_err());
}
