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

/// A directed frame comes back until it is acknowledged, and the client acknowledges only after
/// the state that read it was saved: after a crash in between, the owner meets a request it
/// already holds. It announces the join again (the app may never have seen it) and changes
/// nothing; another request of the same key is still refused.
#[test]
fn the_owner_announces_a_redelivered_request_again_and_refuses_another_of_a_pending_key() {
    let mut r = manual(302);
    let inv = r.invite().unwrap();
    let keys = invite_keys(&inv.room_id, &inv.token);
    let (req, joiner) = join_request(&inv, &keys, &mut r.sim.rng);
    let room_id = inv.room_id;
    let direct = |id, frame: Vec<u8>| RelayMessage::Direct { room_id, id, frame };
    let announced = |out: &crate::event::Output| {
        out.events
            .iter()
            .filter(|e| matches!(e, crate::event::Event::JoinRequested { name, .. } if name == "mallory"))
            .count()
    };
    let first = inject(&mut r, OWNER, direct(900, req.encode())).unwrap();
    assert_eq!(announced(&first), 1);
    let saved = r.sim.owner(OWNER).unwrap().pickle();
    let again = inject(&mut r, OWNER, direct(900, req.encode())).unwrap();
    assert_eq!(announced(&again), 1, "announced again");
    assert_eq!(again.rejection(), None);
    assert_eq!(r.sim.owner(OWNER).unwrap().pickle(), saved, "nothing changed");

    // The same key with other bytes (another key-exchange key) is another request: refused.
    let kx = crate::crypto::KxKey::generate(&mut r.sim.rng);
    let other =
        crate::join::build_request(&inv, &keys, &joiner, kx.public(), kx.public(), "mallory", &mut r.sim.rng).unwrap();
    let refused = refusal(inject(&mut r, OWNER, direct(901, other.encode())));
    assert_eq!(refused, Some(Error::Unexpected("joiner key already known")));
}
