//! Boundaries and branches of the relay's rules that mutation testing (cargo-mutants over
//! relay/record.rs and commit.rs) showed no other test pinned down.

use super::relay_attacks::{craft_message, join_request};
use super::*;
use crate::frame::*;
use crate::invite::invite_keys;
use crate::relay::Reject;
use crate::room::{Roster, RosterEntry};

fn code(r: Reject) -> Result<u64, u16> {
    Err(r.code())
}

/// An owner-signed commit for the next epoch on the owner's current view.
fn owner_commit(r: &mut Room, change: Change, roster: &Roster, mode: KeyMode, shares: &[MemberNo]) -> Vec<u8> {
    let key = sign_key(r, OWNER);
    let commit = Commit {
        roster_digest: roster.digest(),
        change,
        key_mode: mode,
        shares: shares.iter().map(|m| Share { member: *m, enc: [9; 32], ct: vec![0; 48] }).collect(),
        ..next_commit(r)
    };
    Signed::sign(commit, &key).encode()
}

/// A room (manual approval) where a joiner confirmed but the owner went offline before adding
/// it: the relay holds a Confirmed join. Returns the room, the joiner's key and its invite.
fn confirmed_join(seed: u64) -> (Room, [u8; 32], [u8; 32]) {
    let mut r = manual(seed);
    let inv = r.invite().unwrap();
    let joiner = r.start_join("joiner", &inv).unwrap();
    let jpk = r.member(joiner).unwrap().sign_public().unwrap();
    // The owner approves and then drops off before the confirmation reaches it.
    let out = r.owner().approve_join(jpk, &mut ChaCha20Rng::seed_from_u64(seed + 1)).unwrap();
    r.sim.apply(OWNER, out);
    r.sim.step(OWNER);
    r.sim.disconnect(OWNER);
    r.sim.run();
    r.sim.connect(OWNER);
    r.sim.slots[OWNER].inbox.clear();
    r.sim.slots[OWNER].outbox.clear();
    (r, jpk.to_bytes(), inv.invite_pk().to_bytes())
}

#[test]
fn a_member_who_left_is_refused_before_its_removal() {
    let (mut r, bob, carol) = room_of_three(41);
    let m = craft_message(&mut r, bob, 0, 7).encode();
    r.sim.disconnect(OWNER); // the owner cannot remove bob yet
    r.by_member(bob, |m, _| m.leave()).unwrap();
    assert_eq!(submit(&mut r, carol, m), code(Reject::NotMember));
}

#[test]
fn an_invite_is_valid_up_to_and_including_its_expiry_second() {
    let mut r = room(42, HistoryPolicy::SinceLastEpoch);
    let inv = r.invite().unwrap();
    r.sim.now = inv.expires_at;
    let j = r.start_join("on time", &inv).unwrap();
    assert!(r.member(j).unwrap().is_joined());
}

#[test]
fn a_joiner_key_already_in_the_room_or_pending_is_refused() {
    let (mut r, bob, _) = room_of_three(43);
    let inv = r.invite().unwrap();
    let keys = invite_keys(&inv.room_id, &inv.token);
    let bob_key = sign_key(&mut r, bob);
    let kx = crate::crypto::KxKey::generate(&mut r.sim.rng).public();
    let req = crate::join::build_request(&inv, &keys, &bob_key, kx, kx, "bob again", &mut r.sim.rng).unwrap();
    assert_eq!(submit(&mut r, bob, req.encode()), code(Reject::BadChange));
    // The same new key on two invites: the second request is refused while the first is pending.
    let (first, joiner) = join_request(&inv, &keys, &mut r.sim.rng);
    r.sim.disconnect(OWNER);
    assert_eq!(submit(&mut r, bob, first.encode()), Ok(0));
    let inv2 =
        r.owner().invite(NOW, 60, "ws://x", [1; 32].into(), &mut ChaCha20Rng::seed_from_u64(1)).map(|(i, out)| {
            r.sim.slots[OWNER].outbox.extend(out.to_relay.into_iter().map(|r| r.bytes));
            i
        });
    let inv2 = inv2.unwrap();
    r.sim.connect(OWNER);
    r.sim.run();
    let keys2 = invite_keys(&inv2.room_id, &inv2.token);
    let kx = crate::crypto::KxKey::generate(&mut r.sim.rng).public();
    let second = crate::join::build_request(&inv2, &keys2, &joiner, kx, kx, "again", &mut r.sim.rng).unwrap();
    assert_eq!(submit(&mut r, bob, second.encode()), code(Reject::BadChange));
}

#[test]
fn a_grant_answers_a_request_once() {
    let mut r = manual(44);
    let inv = r.invite().unwrap();
    let joiner = r.start_join("j", &inv).unwrap();
    let jpk = r.member(joiner).unwrap().sign_public().unwrap();
    // The joiner is offline: its join stays granted, not confirmed, while the grant is resent.
    r.sim.disconnect(joiner);
    let out = r.owner().approve_join(jpk, &mut ChaCha20Rng::seed_from_u64(2)).unwrap();
    let (_, frame) = submitted(&out);
    assert_eq!(submit(&mut r, OWNER, frame.clone()), Ok(0));
    assert_eq!(submit(&mut r, OWNER, frame), code(Reject::NoPendingJoin));
}

#[test]
fn a_welcome_must_come_after_the_confirmation_and_describe_the_next_commit() {
    let (mut r, jpk, _) = confirmed_join(45);
    let owner_key = sign_key(&mut r, OWNER);
    let rid = room_id(&mut r);
    let owner_pk = owner_key.public();
    let epoch = view(&mut r, OWNER).chain.current_number();
    let welcome = |member: MemberNo, epoch: u32, roster: Vec<(MemberNo, [u8; 32])>| {
        Signed::sign(Welcome { room_id: rid, joiner_sign_pk: jpk, member, epoch, roster }, &owner_key).encode()
    };
    let good = vec![(0, owner_pk), (1, jpk)];
    assert_eq!(submit(&mut r, OWNER, welcome(1, epoch + 2, good.clone())), code(Reject::BadChange), "wrong epoch");
    assert_eq!(submit(&mut r, OWNER, welcome(0, epoch + 1, vec![(0, jpk)])), code(Reject::BadChange), "owner's number");
    assert_eq!(
        submit(&mut r, OWNER, welcome(MemberNo::MAX, epoch + 1, vec![(0, owner_pk), (MemberNo::MAX, jpk)])),
        code(Reject::BadChange),
        "the number that cannot be followed"
    );
    assert_eq!(
        submit(&mut r, OWNER, welcome(1, epoch + 1, vec![(1, jpk)])),
        code(Reject::BadChange),
        "roster without the owner"
    );
    assert_eq!(submit(&mut r, OWNER, welcome(1, epoch + 1, good)), Ok(0));
    // Before the confirmation there is nothing to welcome.
    let mut r2 = manual(46);
    let inv = r2.invite().unwrap();
    let j = r2.start_join("j", &inv).unwrap();
    let jpk2 = r2.member(j).unwrap().sign_public().unwrap();
    let key2 = sign_key(&mut r2, OWNER);
    let w = Welcome {
        room_id: room_id(&mut r2),
        joiner_sign_pk: jpk2.to_bytes(),
        member: 1,
        epoch: 1,
        roster: vec![(0, key2.public()), (1, jpk2.to_bytes())],
    };
    assert_eq!(submit(&mut r2, OWNER, Signed::sign(w, &key2).encode()), code(Reject::NoPendingJoin));
}

#[test]
fn an_add_needs_a_fresh_number_a_new_key_and_the_confirmed_join_of_that_key() {
    let (mut r, jpk, invite_pk) = confirmed_join(47);
    let kx = crate::crypto::KxKey::generate(&mut r.sim.rng).public();
    let base = view(&mut r, OWNER).roster.clone();
    let owner_pk = sign_key(&mut r, OWNER).public();
    let add = |r: &mut Room, member: MemberNo, sign_pk: [u8; 32]| {
        let mut roster = base.clone();
        let _ = roster.insert(member, RosterEntry { sign_pk: sign_pk.into(), kx_pk: kx });
        let c = owner_commit(
            r,
            Change::Add { member, sign_pk, kx_pk: kx, invite_pk },
            &roster,
            KeyMode::Derived,
            &[member],
        );
        submit(r, OWNER, c)
    };
    assert_eq!(add(&mut r, 0, jpk), code(Reject::BadChange), "a used number");
    assert_eq!(add(&mut r, MemberNo::MAX, jpk), code(Reject::BadChange), "the number that cannot be followed");
    assert_eq!(add(&mut r, 1, owner_pk), code(Reject::BadChange), "a key already in the room");
    let stranger = crate::crypto::SignKey::generate(&mut r.sim.rng).public();
    assert_eq!(add(&mut r, 1, stranger), code(Reject::NoPendingJoin), "a key that never confirmed");
    let rid = room_id(&mut r);
    let next = r.sim.relay.next_seq(&rid).unwrap();
    assert_eq!(add(&mut r, 1, jpk), Ok(next));
}

#[test]
fn the_owner_cannot_be_removed() {
    let (mut r, _, _) = room_of_three(48);
    let mut roster = view(&mut r, OWNER).roster.clone();
    roster.remove(0);
    let c = owner_commit(&mut r, Change::Remove { member: 0 }, &roster, KeyMode::Fresh, &[1, 2]);
    assert_eq!(submit(&mut r, OWNER, c), code(Reject::BadChange));
}

#[test]
fn the_rotation_grace_window_ends_after_256_positions() {
    let config = RoomConfig::builder().auto_approve(true).rotate_every(10_000).build().unwrap();
    let mut r = Scenario::new(config, RelayConfig::default(), ChaCha20Rng::seed_from_u64(49), NOW);
    let bob = r.join("bob").unwrap();
    let carol = r.join("carol").unwrap();
    let old_a = craft_message(&mut r, bob, 0, 100).encode();
    let old_b = craft_message(&mut r, bob, 0, 101).encode();
    r.by_owner(|o, rng| o.rotate(rng)).unwrap();
    let rid = room_id(&mut r);
    let start = r.sim.relay.next_seq(&rid).unwrap() - 1;
    while r.sim.relay.next_seq(&rid).unwrap() < start + 256 {
        r.send(carol, "filler").unwrap();
    }
    assert_eq!(r.sim.relay.next_seq(&rid).unwrap() - start, 256);
    assert!(submit(&mut r, carol, old_a).is_ok(), "256 positions after the rotation: still in grace");
    assert_eq!(submit(&mut r, carol, old_b), code(Reject::EpochClosed), "257: closed");
}

#[test]
fn sequence_numbers_may_jump_at_most_1024() {
    let (mut r, bob, _) = room_of_three(50);
    let mut at = |seq: u32| {
        let m = craft_message(&mut r, bob, 0, seq).encode();
        submit(&mut r, bob, m)
    };
    assert_eq!(at(1025), code(Reject::SeqJump));
    assert!(at(1024).is_ok());
    assert_eq!(at(2049), code(Reject::SeqJump));
    assert!(at(2048).is_ok());
}

#[test]
fn replay_state_survives_a_rotation() {
    let (mut r, bob, _) = room_of_three(51);
    let m = craft_message(&mut r, bob, 0, 5).encode();
    assert!(submit(&mut r, bob, m.clone()).is_ok());
    r.by_owner(|o, rng| o.rotate(rng)).unwrap();
    assert_eq!(submit(&mut r, bob, m), code(Reject::Replay));
}

#[test]
fn members_tell_a_commit_from_the_future_from_a_fork() {
    let (mut r, _, carol) = room_of_three(52);
    let key = sign_key(&mut r, OWNER);
    let mut c = next_commit(&mut r);
    let known = c.epoch - 1;
    c.epoch = known + 2;
    let deliver = |r: &mut Room, c: &Commit| {
        let frame = Signed::sign(c.clone(), &key).encode();
        let v = view(r, carol);
        let (room_id, seq) = (v.room_id, v.live_next);
        inject(r, carol, RelayMessage::Deliver { room_id, seq, frame }).unwrap().rejection().cloned()
    };
    assert_eq!(deliver(&mut r, &c), Some(crate::error::Error::UnknownEpoch { known, got: known + 2 }));
    c.epoch = known;
    assert_eq!(deliver(&mut r, &c), Some(crate::error::Error::ForkDetected));
}

#[test]
fn an_add_naming_a_revoked_invite_says_so() {
    let (mut r, jpk, invite_pk) = confirmed_join(53);
    let key = sign_key(&mut r, OWNER);
    let rid = room_id(&mut r);
    let revoke = Signed::sign(RevokeInvite { room_id: rid, invite_pk }, &key).encode();
    // The relay drops the confirmed join with the invite; the Add names a revoked invite.
    assert_eq!(submit(&mut r, OWNER, revoke), Ok(0));
    let kx = crate::crypto::KxKey::generate(&mut r.sim.rng).public();
    let mut roster = view(&mut r, OWNER).roster.clone();
    roster.insert(1, RosterEntry { sign_pk: jpk.into(), kx_pk: kx }).unwrap();
    let c = owner_commit(
        &mut r,
        Change::Add { member: 1, sign_pk: jpk, kx_pk: kx, invite_pk },
        &roster,
        KeyMode::Derived,
        &[1],
    );
    assert_eq!(submit(&mut r, OWNER, c), code(Reject::InviteRevoked));
}
