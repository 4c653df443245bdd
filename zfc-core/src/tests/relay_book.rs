//! Connection-level rules of the rule book (relay/book.rs) that mutation testing showed no other
//! test pinned down: subscriptions, catch-up bounds, fetch bounds, acknowledgements and directed
//! queues. The tests talk to the rule book directly on connections of their own.

use super::*;
use crate::crypto::SignKey;
use crate::relay::Reject;
use crate::relay::proto::authenticate;

/// A raw connection to the rule book.
struct Raw {
    conn: ConnId,
    challenge: [u8; 32],
    binding: [u8; 32],
}

fn open(r: &mut Room, conn: ConnId) -> Raw {
    let binding = [conn as u8; 32];
    let out = r.sim.relay.connect(conn, binding, &mut r.sim.rng);
    let Ok(RelayMessage::Challenge { nonce }) = RelayMessage::decode(&out[0].bytes) else { panic!("no challenge") };
    Raw { conn, challenge: nonce, binding }
}

/// Sends `req` on `raw` and returns the messages for that connection.
fn request(r: &mut Room, raw: &Raw, req: ClientRequest) -> Vec<RelayMessage> {
    let out = r.sim.relay.handle(raw.conn, &req.encode(), NOW).expect("a well-formed request");
    out.into_iter().filter(|o| o.conn == raw.conn).map(|o| RelayMessage::decode(&o.bytes).unwrap()).collect()
}

fn auth(r: &mut Room, raw: &Raw, key: &SignKey, resume_from: u64) -> Vec<RelayMessage> {
    let room = room_id(r);
    request(r, raw, authenticate(1, key, &raw.challenge, &raw.binding, room, resume_from))
}

fn delivered(msgs: &[RelayMessage]) -> Vec<u64> {
    msgs.iter().filter_map(|m| if let RelayMessage::Deliver { seq, .. } = m { Some(*seq) } else { None }).collect()
}

fn directs(msgs: &[RelayMessage]) -> Vec<u64> {
    msgs.iter().filter_map(|m| if let RelayMessage::Direct { id, .. } = m { Some(*id) } else { None }).collect()
}

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
    match ClientRequest::decode(&out.to_relay[0]).unwrap() {
        ClientRequest::Submit { frame, .. } => frame,
        other => panic!("{other:?}"),
    }
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
