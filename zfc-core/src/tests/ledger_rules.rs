//! The invite ledger's checks where owner and relay differ: how pending joins are counted, and
//! the owner's names for a known key (no other test sends the owner such a request).

use super::relay_attacks::join_request;
use super::*;
use crate::error::Error;
use crate::invite::invite_keys;
use crate::ledger::{InviteRefusal, Ledger, PendingLimit};

#[test]
fn the_relay_counts_pending_joins_per_invite_and_the_owner_in_all() {
    let mut r = manual(301);
    let (a, b) = (r.invite().unwrap(), r.invite().unwrap());
    let (keys_a, keys_b) = (invite_keys(&a.room_id, &a.token), invite_keys(&b.room_id, &b.token));
    let mut ledger: Ledger<(), (), ()> = Ledger::default();
    ledger.register(a.invite_pk().to_bytes(), a.expires_at, ());
    ledger.register(b.invite_pk().to_bytes(), b.expires_at, ());
    let (first, _) = join_request(&a, &keys_a, &mut r.sim.rng);
    ledger.add_join(a.invite_pk().to_bytes(), first.body.joiner_sign_pk, ());
    let (on_a, _) = join_request(&a, &keys_a, &mut r.sim.rng);
    let (on_b, _) = join_request(&b, &keys_b, &mut r.sim.rng);
    let check = |f, member: bool, limit| ledger.check_request(f, NOW, |_| member, limit).err();
    let too_many = Some(InviteRefusal::TooManyPending);
    assert_eq!(check(&on_a, false, PendingLimit::PerInvite(1)), too_many);
    assert_eq!(check(&on_b, false, PendingLimit::PerInvite(1)), None, "another invite has room");
    assert_eq!(check(&on_b, false, PendingLimit::InAll(1)), too_many);
    assert_eq!(check(&on_b, false, PendingLimit::InAll(2)), None);
    // A known key is refused as such before any count.
    let known = Some(InviteRefusal::KnownJoiner);
    assert_eq!(check(&first, false, PendingLimit::InAll(0)), known, "already pending");
    assert_eq!(check(&on_b, true, PendingLimit::InAll(0)), known, "in the roster");
}

#[test]
fn the_owner_refuses_a_second_request_of_a_pending_key_as_unexpected() {
    let mut r = manual(302);
    let inv = r.invite().unwrap();
    let keys = invite_keys(&inv.room_id, &inv.token);
    let (req, _) = join_request(&inv, &keys, &mut r.sim.rng);
    let room_id = inv.room_id;
    let direct = |id, frame: Vec<u8>| RelayMessage::Direct { room_id, id, frame };
    assert!(inject(&mut r, OWNER, direct(900, req.encode())).is_ok());
    let again = refusal(inject(&mut r, OWNER, direct(901, req.encode())));
    assert_eq!(again, Some(Error::Unexpected("joiner key already known")));
}
