//! Connection-level rules of the rule book (relay/book.rs) that mutation testing showed no other
//! test pinned down: subscriptions, catch-up bounds, fetch bounds, acknowledgements and directed
//! queues. The tests talk to the rule book directly on connections of their own.

use super::raw::*;
use super::*;
use crate::crypto::SignKey;
use crate::frame::*;
use crate::relay::Reject;

#[test]
fn a_closed_connection_is_forgotten() {
    let (mut r, bob, _) = room_of_three(91);
    let c = conn(&r, bob);
    r.sim.relay.disconnect(c);
    let ack = ClientRequest::Ack { room_id: room_id(&mut r), seq: 1 }.encode();
    assert_eq!(r.sim.relay.handle(c, &ack, NOW), Err(Reject::NotAuthenticated));
}

#[test]
fn a_removed_member_catches_up_to_its_removal_and_no_further() {
    let (mut r, bob, carol) = room_of_three(92);
    let carol_key = sign_key(&mut r, carol);
    r.sim.disconnect(carol);
    let room = room_id(&mut r);
    r.send(bob, "m1").unwrap();
    let m1 = r.sim.relay.next_seq(&room).unwrap() - 1;
    r.by_owner(|o, rng| o.remove(2, rng)).unwrap();
    let removal = r.sim.relay.next_seq(&room).unwrap() - 1;
    r.send(bob, "m2").unwrap();
    for (resume, want) in [(m1, vec![m1, removal]), (m1 + 1, vec![removal]), (removal + 1, vec![])] {
        let raw = open(&mut r, 900 + resume);
        let msgs = auth(&mut r, &raw, &carol_key, resume);
        assert_eq!(delivered(&msgs), want, "resuming from {resume}");
        assert!(msgs.iter().any(|m| matches!(m, RelayMessage::Rejected { code: 22, .. })));
    }
}

#[test]
fn authenticating_again_keeps_the_connections_other_identities() {
    let (mut r, bob, carol) = room_of_three(93);
    let (bob_key, carol_key) = (sign_key(&mut r, bob), sign_key(&mut r, carol));
    let raw = open(&mut r, 950);
    auth(&mut r, &raw, &bob_key, 0);
    auth(&mut r, &raw, &carol_key, 0);
    auth(&mut r, &raw, &bob_key, 0);
    // Bob's removal drops bob's subscription only: the connection still reads as carol.
    r.by_owner(|o, rng| o.remove(1, rng)).unwrap();
    let room = room_id(&mut r);
    let next = r.sim.relay.next_seq(&room).unwrap();
    r.send(OWNER, "for carol").unwrap();
    let msgs =
        request(&mut r, &raw, ClientRequest::Fetch { req_id: 5, room_id: room, from: next, until: next + 1, limit: 9 });
    assert_eq!(delivered(&msgs), vec![next], "{msgs:?}");
}

#[test]
fn fetch_returns_exactly_the_range_asked() {
    let (mut r, bob, _) = room_of_three(94);
    for i in 0..5 {
        r.send(bob, &format!("m{i}")).unwrap();
    }
    let room = room_id(&mut r);
    let last = r.sim.relay.next_seq(&room).unwrap() - 1;
    let raw = open(&mut r, 960);
    let key = sign_key(&mut r, bob);
    auth(&mut r, &raw, &key, last + 1);
    let fetch = |from, until, limit| ClientRequest::Fetch { req_id: 7, room_id: room, from, until, limit };
    let done = |msgs: &[RelayMessage]| {
        msgs.iter().find_map(|m| if let RelayMessage::FetchDone { next, .. } = m { Some(*next) } else { None })
    };
    let msgs = request(&mut r, &raw, fetch(last - 3, last, 100));
    assert_eq!(delivered(&msgs), vec![last - 3, last - 2, last - 1]);
    assert_eq!(done(&msgs), Some(last));
    let msgs = request(&mut r, &raw, fetch(last - 3, last + 1, 2));
    assert_eq!(delivered(&msgs), vec![last - 3, last - 2]);
    assert_eq!(done(&msgs), Some(last - 1));
    let msgs = request(&mut r, &raw, fetch(last + 1, last + 5, 2));
    assert_eq!((delivered(&msgs), done(&msgs)), (vec![], Some(last + 1)));
}

#[test]
fn an_acknowledged_position_is_not_sent_again() {
    let (mut r, bob, _) = room_of_three(95);
    for i in 0..3 {
        r.send(OWNER, &format!("m{i}")).unwrap();
    }
    let room = room_id(&mut r);
    let last = r.sim.relay.next_seq(&room).unwrap() - 1;
    let key = sign_key(&mut r, bob);
    let raw = open(&mut r, 970);
    auth(&mut r, &raw, &key, last);
    request(&mut r, &raw, ClientRequest::Ack { room_id: room, seq: last - 1 });
    let again = open(&mut r, 971);
    assert_eq!(delivered(&auth(&mut r, &again, &key, 0)), vec![last]);
}

/// The JoinRequest frame a new joiner would submit with `invite`.
fn join_request_frame(r: &mut Room, name: &str) -> Vec<u8> {
    let inv = r.invite().unwrap();
    let (_, out) = crate::member::Member::join(&inv, name, NOW, &mut r.sim.rng).unwrap();
    submitted(&out).1
}

#[test]
fn directed_frames_go_to_their_recipient_alone_and_leave_once_acknowledged() {
    let (mut r, _, _) = room_of_three(96);
    let owner_conn = conn(&r, OWNER);
    let frames = [join_request_frame(&mut r, "j1"), join_request_frame(&mut r, "j2")];
    let submitter = open(&mut r, 980);
    for frame in frames {
        let out =
            r.sim.relay.handle(submitter.conn, &ClientRequest::Submit { req_id: 3, frame }.encode(), NOW).unwrap();
        let direct_to: Vec<ConnId> = out
            .iter()
            .filter(|o| matches!(RelayMessage::decode(&o.bytes), Ok(RelayMessage::Direct { .. })))
            .map(|o| o.conn)
            .collect();
        assert_eq!(direct_to, vec![owner_conn], "a join request went to a member's connection");
    }
    let key = sign_key(&mut r, OWNER);
    let first = open(&mut r, 981);
    let ids = directs(&auth(&mut r, &first, &key, 0));
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1], "directed frames share an id");
    let room = room_id(&mut r);
    request(&mut r, &first, ClientRequest::AckDirect { room_id: room, id: ids[0] });
    let second = open(&mut r, 982);
    assert_eq!(directs(&auth(&mut r, &second, &key, 0)), vec![ids[1]]);
}

fn fetch_all(r: &mut Room, raw: &Raw) -> Vec<u64> {
    let room = room_id(r);
    delivered(&request(
        r,
        raw,
        ClientRequest::Fetch { req_id: 8, room_id: room, from: 0, until: u64::MAX, limit: 1000 },
    ))
}

#[test]
fn retention_trims_only_what_every_active_member_has_read() {
    let relay = RelayConfig { max_log_per_room: 3, ..RelayConfig::default() };
    let config = RoomConfig::builder().auto_approve(true).build().unwrap();
    let mut r = Scenario::new(config, relay, ChaCha20Rng::seed_from_u64(97), NOW);
    let bob = r.join("bob").unwrap();
    let carol = r.join("carol").unwrap();
    let room = room_id(&mut r);
    for i in 0..4 {
        r.send(OWNER, &format!("m{i}")).unwrap();
    }
    let owner_key = sign_key(&mut r, OWNER);
    let raw = open(&mut r, 990);
    auth(&mut r, &raw, &owner_key, u64::MAX);
    let all = fetch_all(&mut r, &raw);
    assert!(all.len() > 3, "nothing was read, so nothing may go: {all:?}");
    // Everyone reads everything; the next entry trims the log to 3.
    let last = r.sim.relay.next_seq(&room).unwrap() - 1;
    for id in [OWNER, bob, carol] {
        let c = party_conn(&r, id);
        request(&mut r, &c, ClientRequest::Ack { room_id: room, seq: last });
    }
    r.send(OWNER, "trim").unwrap();
    assert_eq!(fetch_all(&mut r, &raw), vec![last - 1, last, last + 1]);
    // Carol stops reading; bob leaves without reading: only carol holds the log now.
    r.by_member(bob, |m, _| m.leave()).unwrap();
    let held = r.sim.relay.next_seq(&room).unwrap();
    r.sim.disconnect(carol);
    for i in 0..5 {
        r.send(OWNER, &format!("n{i}")).unwrap();
    }
    let kept = fetch_all(&mut r, &raw);
    assert!(held > last + 1);
    assert_eq!(kept.first(), Some(&(last + 1)), "the log must start at carol's first unread entry");
    let c = party_conn(&r, OWNER);
    let end = r.sim.relay.next_seq(&room).unwrap() - 1;
    request(&mut r, &c, ClientRequest::Ack { room_id: room, seq: end });
    let carol_key = sign_key(&mut r, carol);
    let carol_raw = open(&mut r, 991);
    auth(&mut r, &carol_raw, &carol_key, u64::MAX);
    request(&mut r, &carol_raw, ClientRequest::Ack { room_id: room, seq: end });
    r.send(OWNER, "last").unwrap();
    assert_eq!(fetch_all(&mut r, &raw).len(), 3, "bob, who left, still holds the log");
}

#[test]
fn invite_expiry_is_inclusive_and_revocations_name_the_invites_state() {
    let (mut r, bob, _) = room_of_three(98);
    let room = room_id(&mut r);
    let key = sign_key(&mut r, OWNER);
    let register = |expires_at: u64, pk: [u8; 32]| {
        Signed::sign(RegisterInvite { room_id: room, invite_pk: pk, expires_at }, &key).encode()
    };
    let [pk1, pk2] = [1, 2].map(|s| SignKey::generate(&mut ChaCha20Rng::seed_from_u64(s)).public());
    assert_eq!(submit(&mut r, OWNER, register(NOW - 1, pk1)), Err(Reject::InviteExpired.code()));
    assert_eq!(submit(&mut r, OWNER, register(NOW, pk2)), Ok(0));
    let revoke = |pk: [u8; 32]| Signed::sign(RevokeInvite { room_id: room, invite_pk: pk }, &key).encode();
    assert_eq!(submit(&mut r, OWNER, revoke(pk2)), Ok(0));
    assert_eq!(submit(&mut r, OWNER, revoke(pk2)), Err(Reject::InviteRevoked.code()));
    // Bob's invite was used by his join.
    let bob_pk = r.member(bob).and_then(|m| m.sign_public().ok());
    let bob_invite = r.sim.journal.iter().find_map(|e| match e {
        crate::relay::JournalEntry::Submitted { frame, .. } => match Frame::decode(frame) {
            Ok(Frame::JoinRequest(j)) if Some(j.body.joiner_sign_pk.into()) == bob_pk => Some(j.body.invite_pk),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(submit(&mut r, OWNER, revoke(bob_invite.unwrap())), Err(Reject::InviteUsed.code()));
}

#[test]
fn removals_and_leaves_drop_the_subscriptions() {
    let (mut r, bob, _) = room_of_three(99);
    let before = r.sim.relay.subscription_count();
    r.by_owner(|o, rng| o.remove(2, rng)).unwrap();
    assert_eq!(r.sim.relay.subscription_count(), before - 1);
    r.by_member(bob, |m, _| m.leave()).unwrap();
    assert_eq!(r.sim.relay.subscription_count(), before - 2);
}

#[test]
fn deleting_a_room_leaves_other_rooms_alone() {
    let (mut r, _, _) = room_of_three(100);
    // A second room on the same relay, its owner online, with a join request waiting.
    let config = RoomConfig::builder().build().unwrap();
    let (owner2, out) = crate::owner::Owner::create(config, &mut r.sim.rng);
    let o2 = r.sim.add("owner2", crate::party::Party::Owner(Box::new(owner2)), out);
    r.sim.connect(o2);
    r.sim.run();
    let (inv, out) = {
        let relay_pk = r.relay_pk;
        let Some(o) = r.sim.owner(o2) else { panic!() };
        o.invite(NOW, 600, "ws://x", relay_pk, &mut ChaCha20Rng::seed_from_u64(6)).unwrap()
    };
    r.sim.apply(o2, out);
    r.sim.run();
    r.sim.disconnect(o2);
    let (m, out) = crate::member::Member::join(&inv, "dora", NOW, &mut ChaCha20Rng::seed_from_u64(7)).unwrap();
    let dora = r.sim.add("dora", crate::party::Party::Member(Box::new(m)), out);
    r.sim.connect(dora);
    r.sim.run();
    // Room 1 goes; room 2's owner still gets its join request and its own messages.
    r.by_owner(|o, _| o.delete_room()).unwrap();
    r.sim.take_events(o2);
    r.sim.connect(o2);
    r.sim.run();
    let requested = r.sim.take_events(o2).iter().any(|e| matches!(e, crate::event::Event::JoinRequested { .. }));
    assert!(requested, "room 2's directed queue went with room 1");
    let out = r.sim.owner(o2).unwrap().send(b"still here", &mut ChaCha20Rng::seed_from_u64(8)).unwrap();
    r.sim.apply(o2, out);
    r.sim.run();
    assert_eq!(r.texts(o2), vec!["still here"], "room 2's subscription went with room 1");
    // Dora stayed connected through the deletion: her joiner subscription still gets the grant.
    let pk = r.member(dora).unwrap().sign_public().unwrap();
    let out = r.sim.owner(o2).unwrap().approve_join(pk, &mut ChaCha20Rng::seed_from_u64(9)).unwrap();
    r.sim.apply(o2, out);
    r.sim.run();
    assert!(r.member(dora).unwrap().is_joined(), "room 2's joiner lost its subscription");
}

/// Fetches everything from a room of three equal-sized messages on a relay with `budget` bytes
/// per fetch; returns the positions sent and the frames' length.
fn fetch_with_budget(budget: usize) -> (Vec<u64>, usize) {
    let config = RoomConfig::builder().auto_approve(true).build().unwrap();
    let relay = RelayConfig { max_fetch_bytes: budget, ..RelayConfig::default() };
    let mut r = Scenario::new(config, relay, ChaCha20Rng::seed_from_u64(108), NOW);
    let bob = r.join("bob").unwrap();
    let room = room_id(&mut r);
    let first = r.sim.relay.next_seq(&room).unwrap();
    for i in 0..3 {
        r.send(bob, &format!("m{i}")).unwrap();
    }
    let key = sign_key(&mut r, bob);
    let raw = open(&mut r, 995);
    auth(&mut r, &raw, &key, u64::MAX);
    let msgs = request(
        &mut r,
        &raw,
        ClientRequest::Fetch { req_id: 4, room_id: room, from: first, until: u64::MAX, limit: 100 },
    );
    let len =
        msgs.iter().find_map(|m| if let RelayMessage::Deliver { frame, .. } = m { Some(frame.len()) } else { None });
    let got = delivered(&msgs);
    let next = msgs.iter().find_map(|m| if let RelayMessage::FetchDone { next, .. } = m { Some(*next) } else { None });
    assert_eq!(next, got.last().map(|s| s + 1));
    (got, len.unwrap_or(0))
}

#[test]
fn a_fetch_stops_at_its_byte_budget_but_sends_at_least_one_entry() {
    let (all, len) = fetch_with_budget(usize::MAX);
    assert_eq!(all.len(), 3);
    assert_eq!(fetch_with_budget(1).0.len(), 1, "at least one entry, even over the budget");
    assert_eq!(fetch_with_budget(2 * len).0.len(), 2, "two entries fit a budget of exactly two");
    assert_eq!(fetch_with_budget(2 * len - 1).0.len(), 1);
}
