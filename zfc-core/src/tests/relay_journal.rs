//! The relay's journal: a rule book rebuilt from it carries on where the old one stopped, and
//! room creation can be restricted to holders of an admission token.

use super::raw::*;
use super::*;
use crate::relay::{JournalEntry, Reject, RuleBook, admission_hash};

fn restart(r: &mut Room) {
    let state = |r: &mut Room| {
        let id = room_id(r);
        (r.sim.relay.next_seq(&id), r.sim.relay.member_count(&id))
    };
    let before = state(r);
    r.sim.restart_relay(RelayConfig::default()).expect("the journal replays");
    assert_eq!(before, state(r));
}

fn reconnect_all(r: &mut Room) {
    for id in 0..r.sim.slots.len() {
        r.sim.connect(id);
    }
    r.sim.run();
}

#[test]
fn a_relay_rebuilt_from_its_journal_carries_on() {
    let (mut r, bob, carol) = room_of_three(71);
    r.send(bob, "before the crash").unwrap();
    r.by_member(carol, |m, rng| m.update_key(rng)).unwrap();
    r.by_owner(|o, rng| o.rotate(rng)).unwrap();
    r.send(carol, "after the rotation").unwrap();
    let _ = (r.texts(bob), r.texts(carol));
    // Bob goes offline; what is sent meanwhile waits at the relay, and must survive the crash.
    r.sim.disconnect(bob);
    r.send(carol, "while bob is away").unwrap();

    restart(&mut r);
    reconnect_all(&mut r);
    assert_eq!(r.texts(bob), vec!["while bob is away"]);
    r.send(bob, "after the restart").unwrap();
    assert_eq!(r.texts(carol), vec!["while bob is away", "after the restart"]);

    // Membership survives too: a removed member stays out after a second restart.
    r.by_owner(|o, rng| o.remove(2, rng)).unwrap(); // carol is member 2
    restart(&mut r);
    reconnect_all(&mut r);
    r.send(bob, "carol is gone").unwrap();
    assert!(!r.texts(carol).contains(&"carol is gone".to_string()));
    assert!(r.member(carol).unwrap().phase().gone().is_some(), "carol never learned of her removal");
}

#[test]
fn a_pending_join_survives_a_restart() {
    let mut r = manual(72);
    let inv = r.invite().unwrap();
    r.sim.disconnect(OWNER);
    let joiner = r.start_join("dora", &inv).unwrap();
    let jpk = r.member(joiner).unwrap().sign_public().unwrap();
    r.sim.restart_relay(RelayConfig::default()).unwrap();
    reconnect_all(&mut r);
    // The owner learns of the request only from the relay's rebuilt directed queue.
    r.by_owner(|o, rng| o.approve_join(jpk, rng)).unwrap();
    r.sim.run();
    assert!(r.member(joiner).unwrap().is_joined());
    r.send(joiner, "hello").unwrap();
    assert_eq!(r.texts(OWNER), vec!["hello"]);
}

#[test]
fn a_journal_from_another_history_does_not_replay() {
    let (mut r, bob, _) = room_of_three(73);
    r.send(bob, "one").unwrap();
    let journal = r.sim.journal.clone();
    let mut fresh = RuleBook::new(RelayConfig::default());
    // Skipping the room's creation: every later frame names a room the book does not hold.
    let skipped = journal.get(1).unwrap();
    assert!(fresh.replay(skipped).is_err());
    assert_eq!(fresh.next_seq(&room_id(&mut r)), None);
    // Replaying the same history twice: the second creation is refused.
    for e in &journal {
        fresh.replay(e).unwrap();
    }
    assert_eq!(fresh.replay(journal.first().unwrap()), Err(Reject::RoomExists));
}

#[test]
fn acks_are_journaled_once_and_never_past_the_log() {
    let (mut r, bob, _) = room_of_three(74);
    r.send(bob, "one").unwrap();
    let room = room_id(&mut r);
    let c = conn(&r, bob);
    let next = r.sim.relay.next_seq(&room).unwrap();
    let ack = ClientRequest::Ack { room_id: room, seq: u64::MAX }.encode();
    let (_, entry) = r.sim.relay.handle_durable(c, &ack, NOW).unwrap();
    assert_eq!(entry, Some(JournalEntry::Acked { room_id: room, member: 1, seq: next - 1 }));
    let (_, again) = r.sim.relay.handle_durable(c, &ack, NOW).unwrap();
    assert_eq!(again, None);
}

#[test]
fn restricted_creation_needs_an_admission_token() {
    let token = [0x5a; 32];
    let config = RelayConfig {
        open_room_creation: false,
        // The same token twice (an operator's slip) still admits.
        admission_tokens: vec![admission_hash(&token), admission_hash(&token)],
        ..RelayConfig::default()
    };
    let mut r = Scenario::new(RoomConfig::default(), config, ChaCha20Rng::seed_from_u64(75), NOW);
    let room = room_id(&mut r);
    assert_eq!(r.sim.relay.next_seq(&room), None, "the room was created without a token");
    let create = r.owner().create_request();
    let owner = party_conn(&r, OWNER);
    let submit = |r: &mut Room, req_id: u32, req: ClientRequest| {
        request(r, &owner, req).into_iter().find_map(|m| match m {
            RelayMessage::Accepted { req_id: id, .. } if id == req_id => Some(Ok(())),
            RelayMessage::Rejected { req_id: id, code } if id == req_id => Some(Err(code)),
            _ => None,
        })
    };
    let (_, frame) = submissions(&create.to_relay).remove(0);
    let creation = |frame: &Vec<u8>| ClientRequest::Submit { req_id: 9, frame: frame.clone() };
    assert_eq!(submit(&mut r, 9, creation(&frame)), Some(Err(Reject::CreationRestricted.code())));
    let wrong = ClientRequest::Admit { req_id: 8, token: [0x5b; 32] };
    assert_eq!(submit(&mut r, 8, wrong), Some(Err(Reject::CreationRestricted.code())));
    assert_eq!(submit(&mut r, 9, creation(&frame)), Some(Err(Reject::CreationRestricted.code())));
    let right = ClientRequest::Admit { req_id: 8, token };
    assert_eq!(submit(&mut r, 8, right), Some(Ok(())));
    assert_eq!(submit(&mut r, 9, creation(&frame)), Some(Ok(())));
    assert_eq!(r.sim.relay.next_seq(&room), Some(1));
}

#[test]
fn a_relay_restarted_with_smaller_limits_still_replays_its_journal() {
    let mut r = manual(76);
    let inv = r.invite().unwrap();
    r.sim.disconnect(OWNER);
    // Two joins pending on one invite, two directed frames waiting for the owner.
    r.start_join("a", &inv).unwrap();
    r.start_join("b", &inv).unwrap();
    let small = RelayConfig { max_pending_joins_per_invite: 1, max_direct_queue: 1, ..RelayConfig::default() };
    r.sim.restart_relay(small).expect("the journal replays under smaller limits");
    // The limits hold for what comes next.
    let c = r.start_join("c", &inv).unwrap();
    assert_eq!(r.relay_rejections(c).first(), Some(&Reject::TooManyPendingJoins.code()));
}

#[test]
fn an_acknowledged_directed_frame_stays_gone_after_a_restart() {
    let mut r = manual(77);
    let inv = r.invite().unwrap();
    r.sim.disconnect(OWNER);
    r.start_join("dora", &inv).unwrap();
    r.sim.connect(OWNER);
    r.sim.run();
    let requested = |r: &mut Room| {
        r.sim.take_events(OWNER).iter().filter(|e| matches!(e, crate::event::Event::JoinRequested { .. })).count()
    };
    assert_eq!(requested(&mut r), 1);
    assert!(r.sim.journal.iter().any(|e| matches!(e, JournalEntry::AckedDirect { .. })));
    restart(&mut r);
    // At the relay: a fresh owner connection is sent no directed frame.
    let key = sign_key(&mut r, OWNER);
    let raw = open(&mut r, 77);
    let sent = directs(&auth(&mut r, &raw, &key, u64::MAX));
    assert_eq!(sent.len(), 0, "the acknowledged join request is queued again after the restart");
    reconnect_all(&mut r);
    assert_eq!(requested(&mut r), 0, "the join request came back after the restart");
}

#[test]
fn replaying_one_acknowledgement_keeps_the_other_directed_frames() {
    let (mut r, _, _) = room_of_three(78);
    let invites = [r.invite().unwrap(), r.invite().unwrap()];
    r.sim.disconnect(OWNER);
    // Two join requests queue for the offline owner.
    let mut frames = Vec::new();
    for (inv, name) in invites.iter().zip(["j1", "j2"]) {
        let (_, out) = crate::member::Member::join(inv, name, NOW, &mut r.sim.rng).unwrap();
        frames.push(out.to_relay[0].bytes.clone());
    }
    let _ = r.sim.relay.connect(70, [0; 32].into(), &mut r.sim.rng);
    for f in &frames {
        r.sim.deliver_to_relay(70, f);
    }
    // The owner acknowledges the first only, on a raw connection.
    let key = sign_key(&mut r, OWNER);
    let room = room_id(&mut r);
    let owner_directs = |r: &mut Room, conn: ConnId| {
        let raw = open(r, conn);
        directs(&auth(r, &raw, &key, u64::MAX))
    };
    let ids = owner_directs(&mut r, 71);
    assert_eq!(ids.len(), 2);
    let ack = ClientRequest::AckDirect { room_id: room, id: ids[0] }.encode();
    let (_, entry) = r.sim.relay.handle_durable(71, &ack, NOW).unwrap();
    r.sim.journal.extend(entry);
    restart(&mut r);
    assert_eq!(owner_directs(&mut r, 72), vec![ids[1]]);
}
