//! Owner behaviours (owner.rs) that mutation testing showed no other test pinned down.

use super::*;
use crate::error::Error;
use crate::event::{Event, Failure, Operation};
use crate::relay::RuleBook;

#[test]
fn the_owner_reports_its_configuration_and_commits_in_flight() {
    let config = RoomConfig::builder().history_policy(HistoryPolicy::SinceJoin).auto_approve(true).build().unwrap();
    let mut r = Scenario::new(config, RelayConfig::default(), ChaCha20Rng::seed_from_u64(101), NOW);
    assert_eq!(r.owner().config().policy(), HistoryPolicy::SinceJoin);
    let out = r.owner().rotate(&mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    assert!(r.owner().commit_in_flight());
    r.sim.apply(OWNER, out);
    r.sim.run();
    assert!(!r.owner().commit_in_flight());
}

#[test]
fn a_relay_that_lost_the_room_gets_it_again_from_create_request() {
    let mut r = room(102, HistoryPolicy::SinceLastEpoch);
    let room = room_id(&mut r);
    r.sim.relay = RuleBook::new(RelayConfig::default());
    r.sim.disconnect(OWNER);
    let out = r.owner().create_request();
    r.sim.apply(OWNER, out);
    r.sim.connect(OWNER);
    r.sim.run();
    assert_eq!(r.sim.relay.member_count(&room), Some(1));
}

#[test]
fn a_deleted_room_refuses_every_owner_action() {
    let mut r = room(103, HistoryPolicy::SinceLastEpoch);
    r.by_owner(|o, _| o.delete_room()).unwrap();
    let rng = &mut ChaCha20Rng::seed_from_u64(2);
    let o = r.owner();
    assert!(matches!(o.invite(NOW, 60, "ws://x", [1; 32].into(), rng), Err(Error::RoomDeleted)));
    assert!(matches!(o.rotate(rng), Err(Error::RoomDeleted)));
    assert!(matches!(o.send(b"x", rng), Err(Error::RoomDeleted)));
    assert!(matches!(o.delete_room(), Err(Error::RoomDeleted)));
}

#[test]
fn invites_name_a_relay_address_that_survives_the_invite_string() {
    let mut r = room(104, HistoryPolicy::SinceLastEpoch);
    let rng = &mut ChaCha20Rng::seed_from_u64(3);
    for bad in ["", "ws://a b", "ws://a&b", "ws://a=b", "ws://é"] {
        assert!(
            matches!(r.owner().invite(NOW, 60, bad, [1; 32].into(), rng), Err(Error::InvalidArgument(_))),
            "{bad:?}"
        );
    }
    assert!(r.owner().invite(NOW, 60, "ws://127.0.0.1:5103/zfc", [1; 32].into(), rng).is_ok());
}

#[test]
fn revoking_or_rejecting_touches_only_that_invites_joins() {
    let mut r = manual(105);
    let (inv_a, inv_b, inv_c) = (r.invite().unwrap(), r.invite().unwrap(), r.invite().unwrap());
    let a = r.start_join("a", &inv_a).unwrap();
    let b = r.start_join("b", &inv_b).unwrap();
    let c = r.start_join("c", &inv_c).unwrap();
    let [pa, pb, pc] = [a, b, c].map(|id| r.member(id).unwrap().sign_public().unwrap());
    r.by_owner(|o, _| o.revoke_invite(inv_a.invite_pk())).unwrap();
    let out = r.owner().reject_join(pc).unwrap();
    assert!(!out.to_relay.is_empty(), "rejecting sends the invite's revocation");
    r.sim.apply(OWNER, out);
    r.sim.run();
    let rng = &mut ChaCha20Rng::seed_from_u64(4);
    assert!(matches!(r.owner().approve_join(pa, rng), Err(Error::NoSuchJoin)));
    assert!(matches!(r.owner().approve_join(pc, rng), Err(Error::NoSuchJoin)));
    assert!(matches!(r.owner().revoke_invite(inv_c.invite_pk()), Err(Error::InviteRevoked)));
    r.by_owner(|o, rng| o.approve_join(pb, rng)).unwrap();
    assert!(r.member(b).unwrap().is_joined());
}

#[test]
fn the_owner_acknowledges_what_it_read() {
    let (mut r, bob, _) = room_of_three(106);
    r.send(bob, "hi").unwrap();
    let room = room_id(&mut r);
    let last = r.sim.relay.next_seq(&room).unwrap() - 1;
    let ack: Vec<_> = r.owner().ack().to_relay.iter().map(|b| ClientRequest::decode(&b.bytes).unwrap()).collect();
    assert_eq!(ack, vec![ClientRequest::Ack { room_id: room, seq: last }]);
}

#[test]
fn a_refused_commit_ends_only_on_its_own_answer_and_is_reported() {
    let (mut r, _, _) = room_of_three(107);
    let out = r.owner().rotate(&mut ChaCha20Rng::seed_from_u64(5)).unwrap();
    let (id, _) = submitted(&out);
    // Another request's refusal keeps it.
    let _ = inject(&mut r, OWNER, RelayMessage::Rejected { req_id: id + 100, code: 41 }).unwrap();
    assert!(r.owner().commit_in_flight());
    // WrongEpoch on a subscribed connection, with no commit for that epoch met in the log before
    // the answer: nothing can explain it any more, so it ends, reported.
    let out = inject(&mut r, OWNER, RelayMessage::Rejected { req_id: id, code: 40 }).unwrap();
    assert!(!r.owner().commit_in_flight());
    let failed = Event::OperationFailed { op: Operation::Rotate, reason: Failure::Refused(40) };
    assert!(out.events.contains(&failed), "{:?}", out.events);
}

#[test]
fn a_wrong_epoch_answer_before_authentication_waits_for_the_log() {
    let (mut r, _, _) = room_of_three(110);
    r.sim.disconnect(OWNER);
    let binding = [7; 32];
    r.owner().on_connected(binding.into());
    // Not authenticated on this connection yet: the log has not been replayed to us.
    let out = r.owner().rotate(&mut ChaCha20Rng::seed_from_u64(5)).unwrap();
    let (id, _) = submitted(&out);
    let out = inject(&mut r, OWNER, RelayMessage::Rejected { req_id: id, code: 40 }).unwrap();
    assert!(r.owner().commit_in_flight(), "kept: the log decides");
    assert!(!out.events.iter().any(|e| matches!(e, Event::OperationFailed { .. })));
}

#[test]
fn an_add_spends_the_invite_for_every_other_join_that_used_it() {
    let mut r = manual(108);
    let (shared, other) = (r.invite().unwrap(), r.invite().unwrap());
    let j1 = r.start_join("j1", &shared).unwrap();
    let j2 = r.start_join("j2", &shared).unwrap();
    let j3 = r.start_join("j3", &other).unwrap();
    let [p1, p2, p3] = [j1, j2, j3].map(|id| r.member(id).unwrap().sign_public().unwrap());
    // All three approved before anything lands.
    for p in [p1, p2, p3] {
        let out = r.owner().approve_join(p, &mut ChaCha20Rng::seed_from_u64(9)).unwrap();
        r.sim.apply(OWNER, out);
    }
    r.sim.run();
    assert!(r.member(j1).unwrap().is_joined() && r.member(j3).unwrap().is_joined());
    assert!(!r.member(j2).unwrap().is_joined(), "two joins on one invite");
    assert!(matches!(r.owner().approve_join(p2, &mut ChaCha20Rng::seed_from_u64(9)), Err(Error::NoSuchJoin)));
    assert!(!r.owner().commit_in_flight());
    assert_eq!(r.owner().epoch(), 2, "one commit per added member, no stray commit");
    assert!(r.relay_rejections(OWNER).iter().all(|c| *c != 46 && *c != 35), "{:?}", r.relay_rejections(OWNER));
}

#[test]
fn a_removal_queued_twice_commits_once() {
    let (mut r, _, _) = room_of_three(109);
    let epoch = r.owner().epoch();
    let first = r.owner().remove(2, &mut ChaCha20Rng::seed_from_u64(10)).unwrap();
    let second = r.owner().remove(2, &mut ChaCha20Rng::seed_from_u64(11)).unwrap();
    r.sim.apply(OWNER, first);
    r.sim.apply(OWNER, second);
    r.sim.run();
    assert_eq!(r.owner().epoch(), epoch + 1);
    assert!(!r.owner().commit_in_flight());
    assert!(r.rejections(OWNER).is_empty(), "{:?}", r.rejections(OWNER));
}

#[test]
fn every_request_says_what_it_is_its_id_and_whether_it_spends_state() {
    use crate::event::RequestKind;
    let (mut r, bob, _) = room_of_three(111);
    let rng = &mut ChaCha20Rng::seed_from_u64(1);
    let decoded_id = |bytes: &[u8]| match ClientRequest::decode(bytes) {
        Ok(ClientRequest::Submit { req_id, .. }) => Some(req_id),
        _ => None,
    };
    let out = r.member(bob).unwrap().send(b"hi", rng).unwrap();
    let [msg] = out.to_relay.as_slice() else { panic!("one request: {out:?}") };
    assert_eq!((msg.kind, msg.req_id, msg.spends), (RequestKind::Message, decoded_id(&msg.bytes), true));
    assert!(out.must_save());
    let out = r.owner().rotate(rng).unwrap();
    let [commit] = out.to_relay.as_slice() else { panic!("one request: {out:?}") };
    assert_eq!(commit.kind, RequestKind::Operation(Operation::Rotate));
    assert_eq!((commit.req_id, commit.spends), (decoded_id(&commit.bytes), true));
    let out = r.member(bob).unwrap().ack();
    let [ack] = out.to_relay.as_slice() else { panic!("one request: {out:?}") };
    assert_eq!((ack.kind, ack.req_id, ack.spends), (RequestKind::Ack, None, false));
    assert!(!out.must_save());
}
