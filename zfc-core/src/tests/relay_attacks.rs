//! What the relay refuses. Each test would pass a forged frame if its check were deleted.

use super::*;
use crate::crypto::{KxKey, Secret32};
use crate::frame::*;
use crate::invite::{Invite, InviteKeys, invite_keys};
use crate::join;
use crate::message::{Padding, Sealer};
use crate::relay::Reject;

fn code(r: Reject) -> Result<u64, u16> {
    Err(r.code())
}

/// A join request built with `keys` but claiming `claimed_invite_pk`.
pub(super) fn join_request(
    invite: &Invite,
    keys: &InviteKeys,
    rng: &mut ChaCha20Rng,
) -> (Signed<JoinRequest>, SignKey) {
    let joiner = SignKey::generate(rng);
    let kx = KxKey::generate(rng);
    let eph = KxKey::generate(rng);
    let req = join::build_request(invite, keys, &joiner, kx.public(), eph.public(), "mallory", rng).unwrap();
    (req, joiner)
}

#[test]
fn token_reuse_is_refused() {
    let mut r = room(1, HistoryPolicy::SinceLastEpoch);
    let inv = r.invite().unwrap();
    let bob = r.start_join("bob", &inv).unwrap();
    assert!(r.member(bob).unwrap().is_joined());
    let mallory = r.start_join("mallory", &inv).unwrap();
    assert!(!r.member(mallory).unwrap().is_joined());
    assert_eq!(
        r.relay_rejections(mallory).first(),
        Some(&Reject::InviteUsed.code()),
        "then authentication as a non-member fails too"
    );
}

#[test]
fn unknown_token_is_refused() {
    let mut r = room(2, HistoryPolicy::SinceLastEpoch);
    let mut inv = r.invite().unwrap();
    inv.token = Secret32::from_bytes([0x55; 32]);
    let mallory = r.start_join("mallory", &inv).unwrap();
    assert_eq!(
        r.relay_rejections(mallory).first(),
        Some(&Reject::InviteUnknown.code()),
        "then authentication as a non-member fails too"
    );
    assert_eq!(r.sim.relay.member_count(&inv.room_id), Some(1));
}

#[test]
fn expired_token_is_refused_by_relay_and_joiner() {
    let mut r = room(3, HistoryPolicy::SinceLastEpoch);
    let inv = r.invite().unwrap();
    assert_eq!(
        crate::member::Member::join(&inv, "late", inv.expires_at + 1, &mut r.sim.rng).err(),
        Some(crate::Error::InviteExpired)
    );
    let (m, out) = crate::member::Member::join(&inv, "late", r.sim.now, &mut r.sim.rng).unwrap();
    r.sim.now = inv.expires_at + 1;
    let id = r.sim.add("late", crate::party::Party::Member(Box::new(m)), out);
    r.sim.connect(id);
    r.sim.run();
    assert_eq!(
        r.relay_rejections(id).first(),
        Some(&Reject::InviteExpired.code()),
        "then authentication as a non-member fails too"
    );
}

#[test]
fn revoked_invite_is_refused() {
    let mut r = room(4, HistoryPolicy::SinceLastEpoch);
    let inv = r.invite().unwrap();
    r.by_owner(|o, _| o.revoke_invite(inv.invite_pk())).unwrap();
    let mallory = r.start_join("mallory", &inv).unwrap();
    assert_eq!(
        r.relay_rejections(mallory).first(),
        Some(&Reject::InviteRevoked.code()),
        "then authentication as a non-member fails too"
    );
}

#[test]
fn join_without_the_token_is_refused_even_with_the_commitment() {
    // Mallory saw the commitment (a public key) but not the token: she signs with her own key.
    let mut r = room(5, HistoryPolicy::SinceLastEpoch);
    let inv = r.invite().unwrap();
    let fake = invite_keys(&inv.room_id, &Secret32::from_bytes([9; 32]));
    let (mut req, _) = join_request(&inv, &fake, &mut r.sim.rng);
    req.body.invite_pk = inv.invite_pk().to_bytes();
    let forged = Signed::sign(req.body, &fake.sign);
    let bob = r.join("bob").unwrap();
    assert_eq!(submit(&mut r, bob, forged.encode()), code(Reject::WrongToken));
}

#[test]
fn joiner_key_claimed_without_proof_is_refused() {
    let mut r = room(6, HistoryPolicy::SinceLastEpoch);
    let inv = r.invite().unwrap();
    let keys = invite_keys(&inv.room_id, &inv.token);
    let (req, _) = join_request(&inv, &keys, &mut r.sim.rng);
    let victim = SignKey::generate(&mut r.sim.rng);
    let mut body = req.body;
    body.joiner_sign_pk = victim.public(); // claims a key it cannot sign with
    let forged = Signed::sign(body, &keys.sign);
    let owner = r.owner;
    assert_eq!(submit(&mut r, owner, forged.encode()), code(Reject::BadSignature));
}

#[test]
fn rotation_by_a_non_owner_is_refused() {
    let (mut r, bob, _) = room_of_three(7);
    let commit = next_commit(&mut r);
    let bob_key = sign_key(&mut r, bob);
    let rid = room_id(&mut r);
    let before = r.sim.relay.next_seq(&rid);
    assert_eq!(submit(&mut r, bob, Signed::sign(commit, &bob_key).encode()), code(Reject::BadSignature));
    assert_eq!(r.sim.relay.next_seq(&rid), before, "nothing logged");
}

#[test]
fn forged_owner_signatures_are_refused_on_every_owner_frame() {
    let (mut r, bob, _) = room_of_three(8);
    let rid = room_id(&mut r);
    let bob_key = sign_key(&mut r, bob);
    let reg =
        Signed::sign(RegisterInvite { room_id: rid, invite_pk: bob_key.public(), expires_at: NOW + 10 }, &bob_key);
    assert_eq!(submit(&mut r, bob, reg.encode()), code(Reject::BadSignature));
    let del = Signed::sign(DeleteRoom { room_id: rid }, &bob_key);
    assert_eq!(submit(&mut r, bob, del.encode()), code(Reject::BadSignature));
    assert_eq!(r.sim.relay.member_count(&rid), Some(3));
}

#[test]
fn commits_that_do_not_chain_or_lie_about_the_roster_are_refused() {
    let (mut r, bob, _) = room_of_three(9);
    let owner_key = sign_key(&mut r, OWNER);
    let base = next_commit(&mut r);
    let mut stale = base.clone();
    stale.epoch = base.epoch - 1;
    assert_eq!(submit(&mut r, OWNER, Signed::sign(stale, &owner_key).encode()), code(Reject::WrongEpoch));
    let mut fork = base.clone();
    fork.prev_epoch_hash = [0; 32];
    assert_eq!(submit(&mut r, OWNER, Signed::sign(fork, &owner_key).encode()), code(Reject::ForkedChain));
    let mut lie = base.clone();
    lie.roster_digest = [1; 32];
    assert_eq!(submit(&mut r, OWNER, Signed::sign(lie, &owner_key).encode()), code(Reject::RosterMismatch));
    // Shares must reach every member but the owner: none here.
    assert_eq!(submit(&mut r, OWNER, Signed::sign(base.clone(), &owner_key).encode()), code(Reject::BadShares));
    // A removal whose key still reaches the removed member.
    let v = view(&mut r, OWNER);
    let mut roster = v.roster.clone();
    roster.remove(1);
    let mut remove = base.clone();
    remove.change = Change::Remove { member: 1 };
    remove.roster_digest = roster.digest();
    remove.shares = [1u32, 2].iter().map(|m| Share { member: *m, enc: [9; 32], ct: vec![0; 48] }).collect();
    assert_eq!(submit(&mut r, OWNER, Signed::sign(remove.clone(), &owner_key).encode()), code(Reject::BadShares));
    // A derived key on removal would hand the next epoch to the removed member.
    remove.key_mode = KeyMode::Derived;
    remove.shares.clear();
    assert_eq!(submit(&mut r, OWNER, Signed::sign(remove, &owner_key).encode()), code(Reject::BadShares));
    // Adding someone who never went through the join handshake.
    let mut add = base;
    let stranger = SignKey::generate(&mut r.sim.rng).public();
    let v = view(&mut r, OWNER);
    let mut roster = v.roster.clone();
    roster.insert(3, crate::room::RosterEntry { sign_pk: stranger.into(), kx_pk: [0; 32] }).unwrap();
    let stranger_kx = KxKey::generate(&mut r.sim.rng).public();
    let unknown_invite = SignKey::generate(&mut r.sim.rng).public();
    add.change = Change::Add { member: 3, sign_pk: stranger, kx_pk: stranger_kx, invite_pk: unknown_invite };
    add.roster_digest = roster.digest();
    add.key_mode = KeyMode::Derived;
    add.shares = vec![Share { member: 3, enc: [9; 32], ct: vec![0; 80] }];
    assert_eq!(submit(&mut r, OWNER, Signed::sign(add, &owner_key).encode()), code(Reject::InviteUnknown));
    let rid = room_id(&mut r);
    assert_eq!(r.sim.relay.member_count(&rid), Some(3));
    let _ = bob;
}

pub(super) fn craft_message(r: &mut Room, id: PartyId, epoch_delta: i64, seq: u32) -> Signed<Message> {
    let v = view(r, id);
    let cur = v.chain.current().unwrap();
    let epoch = (i64::from(cur.number) + epoch_delta) as u32;
    let key = cur.key.clone().unwrap();
    let padding = Padding::default();
    let sealer = Sealer {
        room_id: v.room_id,
        epoch,
        sender: v.me,
        seq,
        key: &key,
        sign_key: &v.sign_key.clone(),
        padding: &padding,
    };
    sealer.seal(b"crafted", &mut r.sim.rng).unwrap()
}

#[test]
fn replayed_message_is_refused() {
    let (mut r, bob, _) = room_of_three(10);
    let m = craft_message(&mut r, bob, 0, 0).encode();
    assert!(submit(&mut r, bob, m.clone()).is_ok());
    assert_eq!(submit(&mut r, bob, m), code(Reject::Replay));
    let older = craft_message(&mut r, bob, 0, 0).encode();
    assert_eq!(submit(&mut r, bob, older), code(Reject::Replay), "a new message may not reuse a number");
}

#[test]
fn message_from_a_non_member_is_refused() {
    let (mut r, bob, _) = room_of_three(11);
    let mut m = craft_message(&mut r, bob, 0, 0);
    m.body.sender = 77;
    let stranger = SignKey::generate(&mut r.sim.rng);
    let m = Signed::sign(m.body, &stranger);
    assert_eq!(submit(&mut r, bob, m.encode()), code(Reject::NotMember));
}

#[test]
fn message_signed_by_another_member_is_refused() {
    let (mut r, bob, carol) = room_of_three(12);
    let m = craft_message(&mut r, bob, 0, 0);
    let carol_key = sign_key(&mut r, carol);
    let m = Signed::sign(m.body, &carol_key);
    assert_eq!(submit(&mut r, carol, m.encode()), code(Reject::BadSignature));
}

#[test]
fn removed_member_cannot_send_and_old_epoch_closes_on_removal() {
    let (mut r, bob, carol) = room_of_three(13);
    let bob_msg = craft_message(&mut r, bob, 0, 5).encode();
    let carol_old = craft_message(&mut r, carol, 0, 5).encode();
    r.by_owner(|o, rng| o.remove(1, rng)).unwrap();
    assert!(r.member(bob).unwrap().phase().gone().is_some());
    let carol_conn = carol;
    assert_eq!(submit(&mut r, carol_conn, bob_msg), code(Reject::NotMember));
    assert_eq!(submit(&mut r, carol, carol_old), code(Reject::EpochClosed), "no grace after a removal");
}

#[test]
fn previous_epoch_has_a_grace_window_after_rotation_only() {
    let (mut r, bob, _) = room_of_three(14);
    let old = craft_message(&mut r, bob, 0, 9).encode();
    r.by_owner(|o, rng| o.rotate(rng)).unwrap();
    assert!(submit(&mut r, bob, old).is_ok(), "in flight during a rotation: accepted");
    let future = craft_message(&mut r, bob, 3, 0).encode();
    assert_eq!(submit(&mut r, bob, future), code(Reject::UnknownEpoch));
}

#[test]
fn truncated_oversized_and_unversioned_frames_are_refused() {
    let (mut r, bob, _) = room_of_three(15);
    let m = craft_message(&mut r, bob, 0, 0).encode();
    for cut in [0, 1, 2, 10, m.len() - 1] {
        assert_eq!(submit(&mut r, bob, m[..cut].to_vec()), code(Reject::Malformed), "cut at {cut}");
    }
    let mut v2 = m.clone();
    v2[0] = 2;
    assert_eq!(submit(&mut r, bob, v2), code(Reject::Malformed));
    let mut long = m;
    long.push(0);
    assert_eq!(submit(&mut r, bob, long), code(Reject::Malformed));
    let c = conn(&r, bob);
    let huge = vec![1u8; crate::wire::MAX_ENVELOPE_LEN + 1];
    assert_eq!(r.sim.relay.handle(c, &huge, NOW).err(), Some(Reject::TooLarge));
    assert_eq!(r.sim.relay.handle(c, &[1, 0x7f], NOW).err(), Some(Reject::Malformed));
}

#[test]
fn room_ids_cannot_be_squatted() {
    let (mut r, bob, _) = room_of_three(16);
    let rid = room_id(&mut r);
    let mallory = SignKey::generate(&mut r.sim.rng);
    let create = CreateRoom {
        room_id: rid,
        salt: [0; 16],
        owner_sign_pk: mallory.public(),
        owner_kx_pk: [1; 32],
        policy: HistoryPolicy::SinceJoin,
    };
    assert_eq!(submit(&mut r, bob, Signed::sign(create, &mallory).encode()), code(Reject::BadRoomId));
    let again = r.owner().create_frame.clone();
    assert_eq!(submit(&mut r, bob, again), code(Reject::RoomExists));
}

#[test]
fn authentication_must_be_signed_on_this_connection() {
    let (mut r, bob, carol) = room_of_three(17);
    let rid = room_id(&mut r);
    let bob_key = sign_key(&mut r, bob);
    let c = conn(&r, carol);
    // A proof for another channel binding (e.g. replayed from another connection) fails.
    let req = crate::relay::proto::authenticate(9, &bob_key, &[0; 32], &[1; 32], rid, 0).encode();
    let out = r.sim.relay.handle(c, &req, NOW).unwrap();
    let msgs: Vec<RelayMessage> = out.iter().map(|o| RelayMessage::decode(&o.bytes).unwrap()).collect();
    assert_eq!(msgs, vec![RelayMessage::Rejected { req_id: 9, code: Reject::BadSignature.code() }]);
    // A stranger's valid proof of its own key gets no access to the room.
    let stranger = SignKey::generate(&mut r.sim.rng);
    r.sim.disconnect(carol);
    r.sim.connect(carol);
    let challenge = match RelayMessage::decode(r.sim.slots[carol].inbox.front().unwrap()).unwrap() {
        RelayMessage::Challenge { nonce } => nonce,
        _ => panic!(),
    };
    let c = conn(&r, carol);
    let binding = r.member(carol).unwrap().session.binding.unwrap();
    let req = crate::relay::proto::authenticate(10, &stranger, &challenge, &binding, rid, 0).encode();
    let out = r.sim.relay.handle(c, &req, NOW).unwrap();
    let msgs: Vec<RelayMessage> = out.iter().map(|o| RelayMessage::decode(&o.bytes).unwrap()).collect();
    assert_eq!(msgs, vec![RelayMessage::Rejected { req_id: 10, code: Reject::NotMember.code() }]);
    let fetch = ClientRequest::Fetch { req_id: 11, room_id: rid, from: 0, until: u64::MAX, limit: 10 }.encode();
    let out = r.sim.relay.handle(c, &fetch, NOW).unwrap();
    let msgs: Vec<RelayMessage> = out.iter().map(|o| RelayMessage::decode(&o.bytes).unwrap()).collect();
    assert_eq!(msgs, vec![RelayMessage::Rejected { req_id: 11, code: Reject::NotAuthenticated.code() }]);
}

#[test]
fn grants_and_welcomes_need_the_owner_and_a_pending_join() {
    let (mut r, bob, _) = room_of_three(18);
    let rid = room_id(&mut r);
    let bob_key = sign_key(&mut r, bob);
    let unknown_invite = SignKey::generate(&mut r.sim.rng).public();
    let stranger = SignKey::generate(&mut r.sim.rng).public();
    let grant = KeyGrant {
        room_id: rid,
        invite_pk: unknown_invite,
        joiner_sign_pk: stranger,
        request_hash: [0; 32],
        enc: [0; 32],
        grant_ct: vec![],
    };
    assert_eq!(submit(&mut r, bob, Signed::sign(grant.clone(), &bob_key).encode()), code(Reject::BadSignature));
    let owner_key = sign_key(&mut r, OWNER);
    assert_eq!(submit(&mut r, bob, Signed::sign(grant, &owner_key).encode()), code(Reject::InviteUnknown));
    let welcome = Welcome { room_id: rid, joiner_sign_pk: stranger, member: 9, epoch: 9, roster: vec![] };
    assert_eq!(submit(&mut r, bob, Signed::sign(welcome, &owner_key).encode()), code(Reject::NoPendingJoin));
    let confirm =
        JoinConfirm { room_id: rid, invite_pk: unknown_invite, joiner_sign_pk: bob_key.public(), tag: [0; 32] };
    assert_eq!(submit(&mut r, bob, Signed::sign(confirm, &bob_key).encode()), code(Reject::InviteUnknown));
}
