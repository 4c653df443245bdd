//! What members and the owner refuse when the relay (or a member) misbehaves. Each test would
//! accept a forged frame if its check were deleted.

use super::*;
use crate::crypto::{self, NONCE_LEN};
use crate::error::Error;
use crate::event::Event;
use crate::frame::*;
use crate::message::{Padding, Sealer};

fn craft(r: &mut Room, id: PartyId, epoch_delta: u32, seq: u32, text: &[u8]) -> Signed<Message> {
    let v = view(r, id);
    let cur = v.chain.current().unwrap();
    let key = cur.key.clone().unwrap();
    let padding = Padding::default();
    let sk = v.sign_key.clone();
    let sealer = Sealer {
        room_id: v.room_id,
        epoch: cur.number + epoch_delta,
        sender: v.me,
        seq,
        key: &key,
        sign_key: &sk,
        padding: &padding,
    };
    sealer.seal(text, &mut r.sim.rng).unwrap()
}

fn rejected(out: Result<crate::event::Output, Error>) -> Error {
    out.expect("in-order frame is consumed").rejection().cloned().expect("frame rejected")
}

fn snapshot(r: &mut Room, id: PartyId) -> (u32, usize, Vec<(u32, Option<u32>)>) {
    let v = view(r, id);
    let windows = v.chain.epochs.values().flat_map(|e| e.windows.iter().map(|(m, w)| (*m, w.parts().0))).collect();
    (v.chain.current_number(), v.roster.len(), windows)
}

#[test]
fn forged_sender_signature_is_detected() {
    let (mut r, bob, carol) = room_of_three(21);
    let mut m = craft(&mut r, bob, 0, 0, b"hi");
    let stranger = crate::crypto::SignKey::generate(&mut r.sim.rng);
    m = Signed::sign(m.body, &stranger);
    let before = snapshot(&mut r, carol);
    assert_eq!(rejected(deliver(&mut r, carol, m.encode())), Error::BadSignature);
    assert_eq!(snapshot(&mut r, carol), before);
    // The stream goes on: the next genuine message is read.
    let genuine = craft(&mut r, bob, 0, 0, b"genuine").encode();
    let out = deliver(&mut r, carol, genuine).unwrap();
    assert_eq!(out.messages().map(|m| m.content.clone()).collect::<Vec<_>>(), vec![b"genuine".to_vec()]);
}

#[test]
fn unknown_sender_is_detected() {
    let (mut r, bob, carol) = room_of_three(22);
    let mut m = craft(&mut r, bob, 0, 0, b"hi");
    m.body.sender = 99;
    let bob_key = sign_key(&mut r, bob);
    let m = Signed::sign(m.body, &bob_key);
    assert_eq!(rejected(deliver(&mut r, carol, m.encode())), Error::UnknownSender(99));
}

#[test]
fn tampered_ciphertext_is_detected_even_when_signed() {
    // A member signs a ciphertext it altered: the signature verifies, the AEAD does not.
    let (mut r, bob, carol) = room_of_three(23);
    let mut m = craft(&mut r, bob, 0, 0, b"hi");
    m.body.ct[0] ^= 1;
    let bob_key = sign_key(&mut r, bob);
    let m = Signed::sign(m.body, &bob_key);
    let before = snapshot(&mut r, carol);
    assert_eq!(rejected(deliver(&mut r, carol, m.encode())), Error::Forged);
    assert_eq!(snapshot(&mut r, carol), before);
}

#[test]
fn replay_by_the_relay_is_detected() {
    let (mut r, bob, carol) = room_of_three(24);
    let m = craft(&mut r, bob, 0, 0, b"once").encode();
    assert!(deliver(&mut r, carol, m.clone()).unwrap().rejection().is_none());
    assert_eq!(rejected(deliver(&mut r, carol, m)), Error::Replay { sender: 1, seq: 0 });
}

#[test]
fn reordering_beyond_the_window_is_detected() {
    let (mut r, bob, carol) = room_of_three(25);
    let late = craft(&mut r, bob, 0, 10, b"late").encode();
    let m = craft(&mut r, bob, 0, 200, b"far ahead").encode();
    assert!(deliver(&mut r, carol, m).unwrap().rejection().is_none());
    assert_eq!(rejected(deliver(&mut r, carol, late)), Error::TooOld { sender: 1, seq: 10, newest: 200 });
    let near = craft(&mut r, bob, 0, 190, b"within window").encode();
    assert!(deliver(&mut r, carol, near).unwrap().rejection().is_none());
}

#[test]
fn cross_room_splicing_is_detected() {
    let (mut r, bob, carol) = room_of_three(26);
    let (mut other, bob2, _) = room_of_three(27);
    let foreign = craft(&mut other, bob2, 0, 0, b"from another room");
    // Same sender number, re-signed by bob's key in this room: the room id still differs.
    let bob_key = sign_key(&mut r, bob);
    let spliced = Signed::sign(foreign.body, &bob_key);
    assert_eq!(rejected(deliver(&mut r, carol, spliced.encode())), Error::WrongRoom);
    // And a whole delivery addressed to another room is refused before anything is consumed.
    let rid_other = room_id(&mut other);
    let next = view(&mut r, carol).live_next;
    let out = inject(&mut r, carol, RelayMessage::Deliver { room_id: rid_other, seq: next, frame: vec![] });
    assert_eq!(out.err(), Some(Error::WrongRoom));
    assert_eq!(view(&mut r, carol).live_next, next);
}

#[test]
fn unknown_epoch_is_detected() {
    let (mut r, bob, carol) = room_of_three(28);
    let m = craft(&mut r, bob, 1, 0, b"from the future").encode();
    let known = view(&mut r, carol).chain.current_number();
    assert_eq!(rejected(deliver(&mut r, carol, m)), Error::UnknownEpoch { known, got: known + 1 });
}

#[test]
fn relay_gaps_and_repeats_are_detected_without_consuming() {
    let (mut r, bob, carol) = room_of_three(29);
    let m = craft(&mut r, bob, 0, 0, b"x").encode();
    let v = view(&mut r, carol);
    let (rid, next) = (v.room_id, v.live_next);
    let gap = inject(&mut r, carol, RelayMessage::Deliver { room_id: rid, seq: next + 2, frame: m.clone() });
    assert_eq!(gap.err(), Some(Error::RelayGap { expected: next, got: next + 2 }));
    assert_eq!(view(&mut r, carol).live_next, next);
    let again = inject(&mut r, carol, RelayMessage::Deliver { room_id: rid, seq: next - 1, frame: m });
    assert_eq!(again.err(), Some(Error::RelayReplay { expected: next, got: next - 1 }));
}

#[test]
fn removed_member_reads_nothing_sent_afterwards() {
    let (mut r, bob, carol) = room_of_three(30);
    let bob_epoch = view(&mut r, bob).chain.current_number();
    let bob_key = view(&mut r, bob).chain.current().unwrap().key.clone().unwrap();
    let bob_kx = match &r.member(bob).unwrap().state {
        crate::member::MemberState::Joined(j) => j.kx_keys[0].clone(),
        _ => unreachable!(),
    };
    r.sim.tracing = true;
    r.by_owner(|o, rng| o.remove(1, rng)).unwrap();
    assert_eq!(r.member(bob).unwrap().phase().gone(), Some(crate::member::GoneReason::Removed));
    assert_eq!(r.member(bob).unwrap().send(b"x", &mut ChaCha20Rng::seed_from_u64(0)).err(), Some(Error::Removed));
    r.texts(bob);
    r.send(carol, "after").unwrap();
    assert!(r.texts(bob).is_empty(), "the relay delivers nothing to a removed member");
    // Even with every key it held, the removed member opens nothing sent afterwards.
    let m = craft(&mut r, carol, 0, 1, b"after");
    assert!(m.body.epoch > bob_epoch);
    assert_eq!(crate::message::open(&m.body, &bob_key), Err(Error::Forged));
    let owner_view = view(&mut r, OWNER);
    let last = owner_view.chain.current().unwrap();
    assert!(last.closes_previous);
    // The removal commit carries no share for it, and its key-delivery key opens no share there.
    let removal = r
        .sim
        .trace
        .iter()
        .find_map(|t| match t {
            crate::sim::Traced::ToParty(_, b) => match RelayMessage::decode(b) {
                Ok(RelayMessage::Deliver { frame, .. }) => match Frame::decode(&frame) {
                    Ok(Frame::Commit(c)) if c.body.change == Change::Remove { member: 1 } => Some(c.body),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .expect("the removal commit went out");
    assert!(removal.shares.iter().all(|s| s.member != 1));
    for member in [0, 2] {
        assert_eq!(crate::epoch::open_share(&removal, member, &[&bob_kx]).err(), Some(Error::Forged));
    }
    // (Carol's share does open with carol's key: the check above is about the key, not the share.)
    let carol_kx = match &r.member(carol).unwrap().state {
        crate::member::MemberState::Joined(j) => j.kx_keys.clone(),
        _ => unreachable!(),
    };
    assert!(crate::epoch::open_share(&removal, 2, &carol_kx.iter().collect::<Vec<_>>()).is_ok());
}

#[test]
fn forks_by_the_owner_or_relay_are_detected() {
    let (mut r, _bob, carol) = room_of_three(31);
    let owner_key = sign_key(&mut r, OWNER);
    let good = next_commit(&mut r);
    let before = snapshot(&mut r, carol);
    let mut fork = good.clone();
    fork.prev_epoch_hash = [0; 32];
    assert_eq!(rejected(deliver(&mut r, carol, Signed::sign(fork, &owner_key).encode())), Error::ForkDetected);
    let mut lie = good.clone();
    lie.roster_digest = [0; 32];
    assert_eq!(rejected(deliver(&mut r, carol, Signed::sign(lie, &owner_key).encode())), Error::ForkDetected);
    let mut derived = good.clone();
    derived.key_mode = KeyMode::Derived;
    assert!(matches!(
        rejected(deliver(&mut r, carol, Signed::sign(derived, &owner_key).encode())),
        Error::Unexpected(_)
    ));
    let carol_key = sign_key(&mut r, carol);
    assert_eq!(rejected(deliver(&mut r, carol, Signed::sign(good, &carol_key).encode())), Error::BadSignature);
    assert_eq!(snapshot(&mut r, carol), before);
}

#[test]
fn non_zero_padding_is_refused() {
    let (mut r, bob, carol) = room_of_three(32);
    let v = view(&mut r, bob);
    let cur = v.chain.current().unwrap();
    let key = cur.key.clone().unwrap();
    let mut msg =
        Message { room_id: v.room_id, epoch: cur.number, sender: v.me, seq: 0, nonce: [3; NONCE_LEN], ct: vec![] };
    let mut pt = vec![0u8; 64];
    pt[3] = 2;
    pt[4] = b'h';
    pt[5] = b'i';
    pt[63] = 1;
    msg.ct = crypto::seal(&key, &msg.nonce, &msg.aad(), &pt);
    let sk = v.sign_key.clone();
    let m = Signed::sign(msg, &sk);
    assert!(matches!(rejected(deliver(&mut r, carol, m.encode())), Error::Decode(_)));
}

#[test]
fn owner_refuses_a_confirmation_without_the_grant_secrets() {
    let mut r = manual(33);
    let inv = r.invite().unwrap();
    let mallory = r.start_join("mallory", &inv).unwrap();
    let joiner = r.member(mallory).unwrap().sign_public().unwrap();
    // Mallory goes offline before the grant: the grant waits at the relay.
    r.sim.disconnect(mallory);
    r.by_owner(|o, rng| o.approve_join(joiner, rng)).unwrap();
    let sk = match &r.member(mallory).unwrap().state {
        crate::member::MemberState::AwaitingGrant(s) => s.sign_key.clone(),
        _ => unreachable!(),
    };
    let rid = room_id(&mut r);
    let confirm = Signed::sign(
        JoinConfirm {
            room_id: rid,
            invite_pk: inv.invite_pk().to_bytes(),
            joiner_sign_pk: joiner.to_bytes(),
            tag: [0; 32],
        },
        &sk,
    );
    let out = inject(&mut r, OWNER, RelayMessage::Direct { room_id: rid, id: 999, frame: confirm.encode() }).unwrap();
    assert_eq!(out.rejection(), Some(&Error::Forged));
    assert!(!r.owner().commit_in_flight());
    assert_eq!(r.owner().roster().len(), 1);
}

#[test]
fn owner_refuses_join_requests_without_token_or_key_proof() {
    let mut r = manual(34);
    let inv = r.invite().unwrap();
    let keys = crate::invite::invite_keys(&inv.room_id, &inv.token);
    let joiner = crate::crypto::SignKey::generate(&mut r.sim.rng);
    let kx = crate::crypto::KxKey::generate(&mut r.sim.rng);
    let req = crate::join::build_request(&inv, &keys, &joiner, kx.public(), kx.public(), "m", &mut r.sim.rng).unwrap();
    let rid = inv.room_id;
    let mut claimed = req.body.clone();
    claimed.joiner_sign_pk = crate::crypto::SignKey::generate(&mut r.sim.rng).public();
    let claimed = Signed::sign(claimed, &keys.sign);
    let out = inject(&mut r, OWNER, RelayMessage::Direct { room_id: rid, id: 1, frame: claimed.encode() }).unwrap();
    assert_eq!(out.rejection(), Some(&Error::BadSignature));
    let other = crate::crypto::SignKey::generate(&mut r.sim.rng);
    let unsigned = Signed::sign(req.body.clone(), &other);
    let out = inject(&mut r, OWNER, RelayMessage::Direct { room_id: rid, id: 2, frame: unsigned.encode() }).unwrap();
    assert_eq!(out.rejection(), Some(&Error::WrongToken));
    let out = inject(&mut r, OWNER, RelayMessage::Direct { room_id: rid, id: 3, frame: req.encode() }).unwrap();
    assert!(out.events.iter().any(|e| matches!(e, Event::JoinRequested { .. })));
    let kx2 = crate::crypto::KxKey::generate(&mut r.sim.rng);
    let second =
        crate::join::build_request(&inv, &keys, &joiner, kx2.public(), kx2.public(), "m", &mut r.sim.rng).unwrap();
    let out = inject(&mut r, OWNER, RelayMessage::Direct { room_id: rid, id: 4, frame: second.encode() }).unwrap();
    assert!(matches!(out.rejection(), Some(Error::Unexpected(_))), "a second request for one key");
}

/// A relay that delivers what it should have refused meets the member's own epoch rules: the
/// previous epoch stays open for 256 positions after a rotation, and closes at once on a removal.
#[test]
fn members_close_old_epochs_even_when_the_relay_does_not() {
    let config = RoomConfig::builder().auto_approve(true).rotate_every(10_000).build().unwrap();
    let mut r = Scenario::new(config, RelayConfig::default(), ChaCha20Rng::seed_from_u64(60), NOW);
    let bob = r.join("bob").unwrap();
    let carol = r.join("carol").unwrap();
    let dave = r.join("dave").unwrap();
    let e0 = view(&mut r, carol).chain.current_number();
    let in_grace = craft(&mut r, bob, 0, 50, b"in grace").encode();
    let too_late = craft(&mut r, bob, 0, 51, b"too late").encode();
    r.by_owner(|o, rng| o.rotate(rng)).unwrap();
    let start = view(&mut r, carol).live_next - 1;
    let out = deliver(&mut r, carol, in_grace).unwrap();
    assert_eq!(out.messages().count(), 1, "{:?}", out.rejection());
    while view(&mut r, carol).live_next <= start + 256 {
        r.send(dave, "filler").unwrap();
    }
    assert_eq!(rejected(deliver(&mut r, carol, too_late)), Error::EpochClosed { epoch: e0 });
    // A removal closes the previous epoch at once (a fresh room: injecting consumed a position
    // the relay also used, which would leave carol behind a gap of our own making).
    let (mut r, _bob, carol) = room_of_three(61);
    let e1 = view(&mut r, carol).chain.current_number();
    let before_removal = craft(&mut r, OWNER, 0, 999, b"before removal").encode();
    r.by_owner(|o, rng| o.remove(1, rng)).unwrap();
    assert_eq!(view(&mut r, carol).chain.current_number(), e1 + 1);
    let out = deliver(&mut r, carol, before_removal).unwrap();
    assert_eq!(out.rejection(), Some(&Error::EpochClosed { epoch: e1 }), "{:?}", out.events);
}
