//! Flow cases: whole room lives through the zfc-core state machines, each party on its own
//! connection.

use std::time::Duration;

use rand_core::SeedableRng;
use zfc_core::{Event, HistoryPolicy, Invite, Member, Owner, RoomConfig};

use super::code::{INVITE_USED, NOT_MEMBER};
use super::{Case, Outcome, Target, ensure};
use crate::client::session::now;
use crate::client::{Party, Session};

/// A connected party and what it has seen.
pub struct Peer {
    /// Its session.
    pub s: Session,
    /// Message texts read, in order.
    pub texts: Vec<String>,
    /// Every event.
    pub events: Vec<Event>,
}

impl Peer {
    fn new(s: Session) -> Self {
        Self { s, texts: Vec::new(), events: Vec::new() }
    }
    fn drain(&mut self) {
        for e in self.s.take_events() {
            if let Event::Message(m) = &e {
                self.texts.push(String::from_utf8_lossy(&m.content).into_owned());
            }
            self.events.push(e);
        }
    }
    fn joined(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Event::Joined { .. }))
    }
    fn removed(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Event::RemovedFromRoom))
    }
    fn refusals(&self) -> Vec<u16> {
        self.events
            .iter()
            .filter_map(|e| if let Event::Rejected { reason, .. } = e { Some(reason.code()) } else { None })
            .collect()
    }
}

/// The log position of the newest accepted submission among a peer's events.
fn last_accepted(p: &Peer) -> Option<u64> {
    p.events.iter().rev().find_map(|e| match e {
        Event::Accepted { seq, .. } if seq.get() > 0 => Some(seq.get()),
        _ => None,
    })
}

/// Log positions of the raw deliveries a recorded session received.
fn raw_deliveries(s: &Session) -> Vec<u64> {
    s.raw
        .iter()
        .flatten()
        .filter_map(|m| if let zfc_core::relay::RelayMessage::Deliver { seq, .. } = m { Some(*seq) } else { None })
        .collect()
}

/// The refusal codes among the relay messages a recorded session received (the state machines
/// keep the answers to their own authentication to themselves).
fn raw_refusals(s: &Session) -> Vec<u16> {
    s.raw
        .iter()
        .flatten()
        .filter_map(|m| if let zfc_core::relay::RelayMessage::Rejected { code, .. } = m { Some(*code) } else { None })
        .collect()
}

fn e(x: impl std::fmt::Display) -> String {
    x.to_string()
}

/// Pumps every peer in turn until `done` holds or `wait` passes.
pub async fn drive(peers: &mut [&mut Peer], wait: Duration, done: impl Fn(&[&mut Peer]) -> bool) -> Outcome {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        for p in peers.iter_mut() {
            p.drain();
        }
        if done(peers) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err("the room did not reach the expected state in time".into());
        }
        for p in peers.iter_mut() {
            while p.s.pump(Duration::from_millis(15)).await.map_err(e)? {}
        }
    }
}

/// Creates a room (auto-approving joins) and returns its owner.
pub async fn create(t: &Target, policy: HistoryPolicy) -> Result<Peer, String> {
    let config = RoomConfig::builder().history_policy(policy).auto_approve(true).build().map_err(e)?;
    let mut rng = rand_chacha::ChaCha20Rng::from_rng(&mut rand_core::UnwrapErr(getrandom::SysRng));
    let (owner, out) = Owner::create(config, &mut rng);
    let mut s = Session::connect(Party::Owner(Box::new(owner)), &t.relay, &t.key, None, t.wait).await.map_err(e)?;
    s.take_events(); // the room does not exist yet: the first authentication is refused
    s.apply(out).await.map_err(e)?;
    s.settle(t.wait).await.map_err(e)?;
    let mut p = Peer::new(s);
    p.drain();
    ensure(p.refusals().is_empty(), || format!("creation refused: {:?}", p.refusals()))?;
    Ok(p)
}

/// A fresh invite from the owner.
pub async fn invite(t: &Target, owner: &mut Peer) -> Result<Invite, String> {
    let mut inv = None;
    let (relay, key) = (t.relay.clone(), t.key);
    owner
        .s
        .with_owner(|o, rng| {
            let (i, out) = o.invite(now(), 3600, &relay, key.into(), rng)?;
            inv = Some(i);
            Ok(out)
        })
        .await
        .map_err(e)?;
    owner.s.settle(t.wait).await.map_err(e)?;
    inv.ok_or_else(|| "no invite".into())
}

/// Starts a join with `invite` (the owner need not be online).
pub async fn start_join(t: &Target, invite: &Invite, name: &str) -> Result<Peer, String> {
    let mut rng = rand_chacha::ChaCha20Rng::from_rng(&mut rand_core::UnwrapErr(getrandom::SysRng));
    let (m, out) = Member::join(invite, name, now(), &mut rng).map_err(e)?;
    let mut s = Session::connect(Party::Member(Box::new(m)), &t.relay, &t.key, None, t.wait).await.map_err(e)?;
    s.take_events(); // not a joiner before the request lands
    s.apply(out).await.map_err(e)?;
    s.settle(t.wait).await.map_err(e)?;
    Ok(Peer::new(s))
}

/// Invites and joins a member; the owner (online) approves automatically.
pub async fn join(t: &Target, owner: &mut Peer, others: &mut [&mut Peer], name: &str) -> Result<Peer, String> {
    let inv = invite(t, owner).await?;
    let mut m = start_join(t, &inv, name).await?;
    {
        let mut all: Vec<&mut Peer> = vec![owner, &mut m];
        all.extend(others.iter_mut().map(|p| &mut **p));
        drive(&mut all, t.wait, |ps| ps.get(1).is_some_and(|m| m.joined())).await?;
    }
    Ok(m)
}

/// Sends `text` from `peer` and waits for the relay's verdict.
pub async fn send(t: &Target, peer: &mut Peer, text: &str) -> Outcome {
    let content = text.as_bytes().to_vec();
    match &peer.s.party {
        Party::Owner(_) => peer.s.with_owner(|o, rng| o.send(&content, rng)).await,
        Party::Member(_) => peer.s.with_member(|m, rng| m.send(&content, rng)).await,
    }
    .map_err(e)?;
    peer.s.settle(t.wait).await.map_err(e)
}

/// The flow cases.
pub fn cases() -> Vec<Case> {
    vec![
        case!(owner_and_members_chat_in_one_order),
        case!(offline_member_catches_up),
        case!(newcomer_reads_history_since_last_rotation),
        case!(newcomer_reads_nothing_before_joining_under_strict_policy),
        case!(removed_member_is_cut_off),
        case!(join_request_waits_for_an_offline_owner),
        case!(invite_is_single_use),
        case!(join_traffic_reaches_only_the_owner_and_the_joiner),
    ]
}

async fn owner_and_members_chat_in_one_order(t: &Target) -> Outcome {
    let mut owner = create(t, HistoryPolicy::SinceLastEpoch).await?;
    let mut bob = join(t, &mut owner, &mut [], "bob").await?;
    let mut carol = join(t, &mut owner, &mut [&mut bob], "carol").await?;
    send(t, &mut bob, "one").await?;
    send(t, &mut carol, "two").await?;
    send(t, &mut owner, "three").await?;
    let want = ["one", "two", "three"];
    drive(&mut [&mut owner, &mut bob, &mut carol], t.wait, |ps| ps.iter().all(|p| p.texts.len() >= 3)).await?;
    for p in [&owner, &bob, &carol] {
        ensure(p.texts == want, || format!("read {:?}, want {want:?}", p.texts))?;
    }
    Ok(())
}

async fn offline_member_catches_up(t: &Target) -> Outcome {
    let mut owner = create(t, HistoryPolicy::SinceLastEpoch).await?;
    let bob = join(t, &mut owner, &mut [], "bob").await?;
    let Party::Member(bob_state) = bob.s.close().await else { return Err("bob is not a member".into()) };
    send(t, &mut owner, "while you were away").await?;
    send(t, &mut owner, "and this").await?;
    let s = Session::connect(Party::Member(bob_state), &t.relay, &t.key, None, t.wait).await.map_err(e)?;
    let mut bob = Peer::new(s);
    drive(&mut [&mut bob], t.wait, |ps| ps.iter().all(|p| p.texts.len() >= 2)).await?;
    ensure(bob.texts == ["while you were away", "and this"], || format!("bob read {:?}", bob.texts))
}

async fn newcomer_reads_history_since_last_rotation(t: &Target) -> Outcome {
    let mut owner = create(t, HistoryPolicy::SinceLastEpoch).await?;
    let mut bob = join(t, &mut owner, &mut [], "bob").await?;
    send(t, &mut bob, "before the rotation").await?;
    owner.s.with_owner(|o, rng| o.rotate(rng)).await.map_err(e)?;
    owner.s.settle(t.wait).await.map_err(e)?;
    let rotated = |p: &Peer| p.events.iter().any(|e| matches!(e, Event::EpochChanged { epoch: 2, .. }));
    drive(&mut [&mut owner, &mut bob], t.wait, |ps| ps.get(1).is_some_and(|b| rotated(b))).await?;
    send(t, &mut bob, "since the rotation").await?;
    let mut dora = join(t, &mut owner, &mut [&mut bob], "dora").await?;
    dora.s.with_member(|m, _| m.fetch_history(100)).await.map_err(e)?;
    dora.s.settle(t.wait).await.map_err(e)?;
    dora.drain();
    ensure(dora.texts.contains(&"since the rotation".to_string()), || format!("dora read {:?}", dora.texts))?;
    ensure(!dora.texts.contains(&"before the rotation".to_string()), || format!("dora read {:?}", dora.texts))
}

async fn newcomer_reads_nothing_before_joining_under_strict_policy(t: &Target) -> Outcome {
    let mut owner = create(t, HistoryPolicy::SinceJoin).await?;
    let mut bob = join(t, &mut owner, &mut [], "bob").await?;
    send(t, &mut bob, "before dora").await?;
    bob.drain();
    let before = last_accepted(&bob).ok_or("bob's message has no position")?;
    let dora = join(t, &mut owner, &mut [&mut bob], "dora").await?;
    // Dora, back on a recorded connection, asks for everything: the relay must not send her a
    // single entry from before her join, even though she could not decrypt it.
    let Party::Member(state) = dora.s.close().await else { return Err("dora is not a member".into()) };
    let s = Session::connect_recorded(Party::Member(state), &t.relay, &t.key, t.wait).await.map_err(e)?;
    let mut dora = Peer::new(s);
    dora.s.with_member(|m, _| m.fetch_history(100)).await.map_err(e)?;
    dora.s.settle(t.wait).await.map_err(e)?;
    send(t, &mut bob, "after dora").await?;
    drive(&mut [&mut owner, &mut bob, &mut dora], t.wait, |ps| ps.get(2).is_some_and(|d| !d.texts.is_empty())).await?;
    ensure(dora.texts == ["after dora"], || format!("dora read {:?}", dora.texts))?;
    let early: Vec<u64> = raw_deliveries(&dora.s).into_iter().filter(|s| *s <= before).collect();
    ensure(early.is_empty(), || format!("the relay sent dora positions {early:?}, from before her join"))
}

async fn removed_member_is_cut_off(t: &Target) -> Outcome {
    let mut owner = create(t, HistoryPolicy::SinceLastEpoch).await?;
    let mut bob = join(t, &mut owner, &mut [], "bob").await?;
    let mut carol = join(t, &mut owner, &mut [&mut bob], "carol").await?;
    let (carol_no, backup) = match &carol.s.party {
        Party::Member(m) => (m.phase().member().ok_or("carol has no number")?, m.pickle()),
        Party::Owner(_) => return Err("carol is the owner".into()),
    };
    owner.s.with_owner(|o, rng| o.remove(carol_no, rng)).await.map_err(e)?;
    owner.s.settle(t.wait).await.map_err(e)?;
    owner.drain();
    let removal = last_accepted(&owner).ok_or("the removal has no position")?;
    drive(&mut [&mut owner, &mut bob, &mut carol], t.wait, |ps| ps.get(2).is_some_and(|c| c.removed())).await?;
    send(t, &mut bob, "carol must not read this").await?;
    drive(&mut [&mut owner, &mut bob, &mut carol], t.wait, |ps| ps.first().is_some_and(|o| !o.texts.is_empty()))
        .await?;
    ensure(carol.texts.is_empty(), || format!("carol read {:?}", carol.texts))?;

    // Carol kept a copy of her keys from before the removal.
    let mut stale = Member::unpickle(&backup).map_err(e)?;
    let mut rng = rand_chacha::ChaCha20Rng::from_rng(&mut rand_core::UnwrapErr(getrandom::SysRng));
    let out = stale.send(b"still here?", &mut rng).map_err(e)?;
    let frame = out
        .to_relay
        .iter()
        .find_map(|r| match zfc_core::relay::ClientRequest::decode(&r.bytes) {
            Ok(zfc_core::relay::ClientRequest::Submit { frame, .. }) => Some(frame),
            _ => None,
        })
        .ok_or("no message frame")?;
    let mut probe = super::Probe::open(t).await?;
    let got = probe.submit(t, frame).await?;
    ensure(got == Err(NOT_MEMBER), || format!("a removed member's message answered {got:?}"))?;
    // Coming back with the copy, she learns of her removal, is refused (NOT_MEMBER), and reads
    // nothing sent after it.
    let s = Session::connect_recorded(Party::Member(Box::new(stale)), &t.relay, &t.key, t.wait).await.map_err(e)?;
    let mut back = Peer::new(s);
    let _ = drive(&mut [&mut back], t.wait / 2, |ps| ps.iter().all(|p| p.removed())).await;
    back.drain();
    let refused = raw_refusals(&back.s);
    ensure(refused.contains(&NOT_MEMBER), || format!("the copy's authentication got {refused:?}"))?;
    ensure(!back.texts.contains(&"carol must not read this".to_string()), || "the copy read after removal".into())?;
    // At the byte level: entries up to her removal (so she learns of it), nothing after.
    let late: Vec<u64> = raw_deliveries(&back.s).into_iter().filter(|s| *s > removal).collect();
    ensure(late.is_empty(), || format!("the relay sent a removed member positions {late:?}, after {removal}"))?;
    ensure(raw_deliveries(&back.s).contains(&removal), || "the removed member was not sent her removal".into())
}

async fn join_traffic_reaches_only_the_owner_and_the_joiner(t: &Target) -> Outcome {
    let mut owner = create(t, HistoryPolicy::SinceLastEpoch).await?;
    let bob = join(t, &mut owner, &mut [], "bob").await?;
    let Party::Member(state) = bob.s.close().await else { return Err("bob is not a member".into()) };
    let s = Session::connect_recorded(Party::Member(state), &t.relay, &t.key, t.wait).await.map_err(e)?;
    let mut bob = Peer::new(s);
    join(t, &mut owner, &mut [&mut bob], "dora").await?;
    let directs =
        bob.s.raw.iter().flatten().filter(|m| matches!(m, zfc_core::relay::RelayMessage::Direct { .. })).count();
    ensure(directs == 0, || format!("a member was sent {directs} directed frames of someone else's join"))
}

async fn join_request_waits_for_an_offline_owner(t: &Target) -> Outcome {
    let mut owner = create(t, HistoryPolicy::SinceLastEpoch).await?;
    let inv = invite(t, &mut owner).await?;
    let Party::Owner(owner_state) = owner.s.close().await else { return Err("not the owner".into()) };
    let mut dora = start_join(t, &inv, "dora").await?;
    let s = Session::connect(Party::Owner(owner_state), &t.relay, &t.key, None, t.wait).await.map_err(e)?;
    let mut owner = Peer::new(s);
    drive(&mut [&mut owner, &mut dora], t.wait, |ps| ps.get(1).is_some_and(|d| d.joined())).await
}

async fn invite_is_single_use(t: &Target) -> Outcome {
    let mut owner = create(t, HistoryPolicy::SinceLastEpoch).await?;
    let inv = invite(t, &mut owner).await?;
    let mut first = start_join(t, &inv, "first").await?;
    drive(&mut [&mut owner, &mut first], t.wait, |ps| ps.get(1).is_some_and(|d| d.joined())).await?;
    let mut second = start_join(t, &inv, "second").await?;
    second.drain();
    ensure(second.refusals().contains(&INVITE_USED), || format!("second join got {:?}", second.refusals()))
}
