//! Attack tests: each check of the design notes, exercised by a crafted frame, so that deleting
//! the check makes a test fail. They live inside the crate to build frames the public API would
//! refuse to build.

mod client_attacks;
mod ledger_rules;
mod member_rules;
mod owner_rules;
mod raw;
mod relay_attacks;
mod relay_book;
mod relay_journal;
mod relay_rules;
mod vector_fields;
mod vector_flips;
mod vectors;
mod view_rules;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::crypto::SignKey;
use crate::frame::{HistoryPolicy, RoomId};
use crate::member::MemberState;
use crate::relay::{ClientRequest, ConnId, RelayConfig, RelayMessage};
use crate::room::RoomConfig;
use crate::sim::{PartyId, Scenario};
use crate::view::RoomView;

pub(crate) const NOW: u64 = 1_800_000_000;
/// The owner is the first party of every scenario.
pub(crate) const OWNER: PartyId = 0;
pub(crate) type Room = Scenario<ChaCha20Rng>;

pub(crate) fn room(seed: u64, policy: HistoryPolicy) -> Room {
    let config = RoomConfig::builder().auto_approve(true).history_policy(policy).build().unwrap();
    Scenario::new(config, RelayConfig::default(), ChaCha20Rng::seed_from_u64(seed), NOW)
}

/// A room with the default configuration: the owner approves each join by hand.
pub(crate) fn manual(seed: u64) -> Room {
    Scenario::new(RoomConfig::default(), RelayConfig::default(), ChaCha20Rng::seed_from_u64(seed), NOW)
}

/// A lenient room with the owner and two joined members.
pub(crate) fn room_of_three(seed: u64) -> (Room, PartyId, PartyId) {
    let mut r = room(seed, HistoryPolicy::SinceLastEpoch);
    let bob = r.join("bob").unwrap();
    let carol = r.join("carol").unwrap();
    assert!(r.member(bob).unwrap().is_joined() && r.member(carol).unwrap().is_joined());
    (r, bob, carol)
}

pub(crate) fn view(r: &mut Room, id: PartyId) -> &mut RoomView {
    if id == r.owner {
        return &mut r.owner().view;
    }
    match &mut r.member(id).unwrap().state {
        MemberState::Joined(j) => &mut j.view,
        _ => panic!("not joined"),
    }
}

pub(crate) fn sign_key(r: &mut Room, id: PartyId) -> SignKey {
    view(r, id).sign_key.clone()
}

pub(crate) fn room_id(r: &mut Room) -> RoomId {
    r.owner().room_id()
}

pub(crate) fn conn(r: &Room, id: PartyId) -> ConnId {
    r.sim.slots[id].conn.unwrap()
}

/// Submits `frame` on party `id`'s connection; `Ok(seq)` if accepted, `Err(code)` if refused.
/// Deliveries the relay makes are routed as usual.
pub(crate) fn submit(r: &mut Room, id: PartyId, frame: Vec<u8>) -> Result<u64, u16> {
    let c = conn(r, id);
    let req = ClientRequest::Submit { req_id: 4242, frame }.encode();
    let out = r.sim.relay.handle(c, &req, r.sim.now).expect("well-formed request");
    let mut verdict = None;
    for o in out {
        match RelayMessage::decode(&o.bytes).unwrap() {
            RelayMessage::Accepted { req_id: 4242, seq } if o.conn == c => verdict = Some(Ok(seq)),
            RelayMessage::Rejected { req_id: 4242, code } if o.conn == c => verdict = Some(Err(code)),
            _ => {
                if let Some(s) = r.sim.slots.iter_mut().find(|s| s.conn == Some(o.conn)) {
                    s.inbox.push_back(o.bytes); // tests reach past the link on purpose
                }
            }
        }
    }
    r.sim.run();
    verdict.expect("the relay answers every submit")
}

/// The `(req_id, frame)` of each Submit among `requests`, in order.
pub(crate) fn submissions<R: AsRef<[u8]>>(requests: impl IntoIterator<Item = R>) -> Vec<(u32, Vec<u8>)> {
    requests
        .into_iter()
        .filter_map(|req| match ClientRequest::decode(req.as_ref()) {
            Ok(ClientRequest::Submit { req_id, frame }) => Some((req_id, frame)),
            _ => None,
        })
        .collect()
}

/// The first Submit in `out`, which must hold one.
pub(crate) fn submitted(out: &crate::event::Output) -> (u32, Vec<u8>) {
    submissions(&out.to_relay).into_iter().next().expect("a submission")
}

/// An unsigned Rotate commit for the owner's next epoch (Fresh, no shares): tests change fields.
pub(crate) fn next_commit(r: &mut Room) -> crate::frame::Commit {
    let v = view(r, OWNER);
    let cur = v.chain.current().unwrap();
    crate::frame::Commit {
        room_id: v.room_id,
        epoch: cur.number + 1,
        prev_epoch_hash: cur.hash,
        roster_digest: v.roster.digest(),
        change: crate::frame::Change::Rotate,
        key_mode: crate::frame::KeyMode::Fresh,
        shares: Vec::new(),
    }
}

/// Hands a relay message straight to a party, as a malicious relay could.
pub(crate) fn inject(
    r: &mut Room,
    id: PartyId,
    msg: RelayMessage,
) -> Result<crate::event::Output, crate::error::Error> {
    let bytes = msg.encode();
    let now = r.sim.now;
    let crate::sim::Slot { party, .. } = &mut r.sim.slots[id];
    let rng = &mut r.sim.rng;
    match party {
        crate::party::Party::Owner(o) => o.handle(&bytes, now, rng),
        crate::party::Party::Member(m) => m.handle(&bytes, rng),
    }
}

/// Delivers `frame` at `id`'s next live position, as a relay could.
pub(crate) fn deliver(r: &mut Room, id: PartyId, frame: Vec<u8>) -> Result<crate::event::Output, crate::error::Error> {
    let v = view(r, id);
    let (room_id, seq) = (v.room_id, v.live_next);
    inject(r, id, RelayMessage::Deliver { room_id, seq, frame })
}

/// A party refuses either by failing the call or by reporting a rejected frame; tests that only
/// care what was refused take both.
pub(crate) fn refusal(got: Result<crate::event::Output, crate::error::Error>) -> Option<crate::error::Error> {
    match got {
        Err(e) => Some(e),
        Ok(o) => o.rejection().cloned(),
    }
}
