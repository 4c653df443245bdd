//! The fuzz targets' bodies, one function per entry point that takes bytes from outside. The
//! cargo-fuzz binaries in `fuzz_targets/` call them; `zfc-core/tests/fuzz_corpora.rs` includes this
//! file and replays every corpus and regression input through them as ordinary tests.
//!
//! Each body attacks the code that ships (no verification switched off): structured inputs start
//! from genuine traffic of a seeded room and mutate it, so the fuzzer reaches past signature checks.
//! Each asserts the invariants that hold for any input: decoding is canonical, and a call that
//! returns an error leaves the party's state exactly as it was.

use std::sync::OnceLock;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zfc_core::internal::frame::Frame;
use zfc_core::link::{self, ClientHandshake, RelayKey};
use zfc_core::relay::{ClientRequest, JournalEntry, RelayConfig, RelayMessage, RuleBook};
use zfc_core::sim::{Scenario, Traced};
use zfc_core::{Invite, Member, Owner, RoomConfig};

const NOW: u64 = 1_800_000_000;

/// A seeded room's genuine traffic and its parties' final states.
pub struct Material {
    /// Client requests seen by the relay, with their sender's party id.
    pub requests: Vec<(usize, Vec<u8>)>,
    /// Relay messages seen by parties.
    pub deliveries: Vec<(usize, Vec<u8>)>,
    /// The owner's state before the traffic's last steps.
    pub owner: Vec<u8>,
    /// A member's state before the traffic's last steps.
    pub member: Vec<u8>,
    /// The rule book's journal of the whole life, encoded, in order.
    pub journal: Vec<Vec<u8>>,
}

/// Plays a seeded room's life once per process.
pub fn material() -> &'static Material {
    static M: OnceLock<Material> = OnceLock::new();
    M.get_or_init(|| {
        let config = RoomConfig::builder().auto_approve(true).rotate_every(6).build().unwrap_or_default();
        let mut room = Scenario::new(config, RelayConfig::default(), ChaCha20Rng::seed_from_u64(0x7a66), NOW);
        let bob = room.join("bob").unwrap_or(1);
        let carol = room.join("carol").unwrap_or(2);
        let owner = room.owner().pickle().to_vec();
        let member = room.member(bob).map(|m| m.pickle().to_vec()).unwrap_or_default();
        room.sim.tracing = true;
        let _ = room.send(bob, "one");
        let _ = room.send(carol, "two");
        let _ = room.by_member(carol, |m, rng| m.update_key(rng));
        let _ = room.by_owner(|o, rng| o.rotate(rng));
        let _ = room.send(room.owner, "three");
        let dave = room.join("dave").unwrap_or(3);
        let _ = room.by_member(dave, |m, _| m.fetch_history(10));
        let _ = room.by_owner(|o, rng| o.remove(2, rng));
        let _ = room.send(bob, "four");
        let _ = room.by_member(bob, |m, _| m.leave());
        let mut requests = Vec::new();
        let mut deliveries = Vec::new();
        for t in &room.sim.trace {
            match t {
                Traced::ToRelay(p, b) => requests.push((*p, b.clone())),
                Traced::ToParty(p, b) => deliveries.push((*p, b.clone())),
            }
        }
        // The room was created before tracing began; the rule-book targets need its creation
        // first, or no genuine request names a room their rule book knows.
        if let Some(JournalEntry::Submitted { frame, .. }) = room.sim.journal.first() {
            requests.insert(0, (room.owner, ClientRequest::Submit { req_id: 1, frame: frame.clone() }.encode()));
        }
        let journal = room.sim.journal.iter().map(|e| e.encode()).collect();
        Material { requests, deliveries, owner, member, journal }
    })
}

/// Any bytes as a signed frame: an error, or a frame that re-encodes to the same bytes.
pub fn frame_decode(data: &[u8]) {
    if let Ok(f) = Frame::decode(data) {
        let re = match &f {
            Frame::CreateRoom(x) => x.encode(),
            Frame::RegisterInvite(x) => x.encode(),
            Frame::RevokeInvite(x) => x.encode(),
            Frame::JoinRequest(x) => x.encode(),
            Frame::KeyGrant(x) => x.encode(),
            Frame::JoinConfirm(x) => x.encode(),
            Frame::Commit(x) => x.encode(),
            Frame::Message(x) => x.encode(),
            Frame::KeyUpdate(x) => x.encode(),
            Frame::Leave(x) => x.encode(),
            Frame::DeleteRoom(x) => x.encode(),
            Frame::Welcome(x) => x.encode(),
        };
        assert_eq!(re, data, "decoding is not canonical");
    }
}

/// Any bytes as a client request and as a relay message: canonical when they decode.
pub fn relay_proto(data: &[u8]) {
    if let Ok(r) = ClientRequest::decode(data) {
        assert_eq!(r.encode(), data);
    }
    if let Ok(m) = RelayMessage::decode(data) {
        assert_eq!(m.encode(), data);
    }
}

/// Any bytes as an invite string: parsing either fails or round-trips.
pub fn invite_parse(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(inv) = Invite::parse(s)
    {
        assert_eq!(inv.to_uri(), s.trim());
    }
}

/// Any bytes as a saved state, plain and sealed (a fixed password). A blob of the current
/// version saves back to itself; an older one saves as the current version, which then does.
pub fn state_load(data: &[u8]) {
    let current = data.get(4..6) == Some(&[0, 2]);
    if let Ok(o) = Owner::unpickle(data) {
        let again = o.pickle();
        if current {
            assert_eq!(*again, *data);
        }
        assert_eq!(*Owner::unpickle(&again).map(|o| o.pickle()).unwrap_or_default(), *again);
    }
    if let Ok(m) = Member::unpickle(data) {
        let again = m.pickle();
        if current {
            assert_eq!(*again, *data);
        }
        assert_eq!(*Member::unpickle(&again).map(|m| m.pickle()).unwrap_or_default(), *again);
    }
    let _ = Owner::open_state(data, b"fuzz");
    let _ = Member::open_state(data, b"fuzz");
}

/// Any bytes into both sides of the link: as handshake messages, and as records on an
/// established link, which must stay usable after any refused record.
pub fn link(data: &[u8]) {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let key = RelayKey::from_bytes([0x42; 32]);
    let _ = link::respond(&key, data, &mut rng);
    let Ok((hs, first)) = ClientHandshake::start(&key.public(), &mut rng) else { return };
    let Ok((hs2, _)) = ClientHandshake::start(&key.public(), &mut rng) else { return };
    let _ = hs2.finish(data);
    let Ok((mut relay_end, answer)) = link::respond(&key, &first, &mut rng) else { return };
    let Ok(mut client_end) = hs.finish(&answer) else { return };
    if relay_end.open(data).is_err() {
        let rec = client_end.seal(b"still works").unwrap_or_default();
        assert_eq!(relay_end.open(&rec).ok().as_deref(), Some(&b"still works"[..]));
    }
}

/// Splits fuzz input into (selector, bytes) pieces: u8 selector, u16 length, bytes.
fn pieces(mut data: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while let [sel, hi, lo, rest @ ..] = data {
        let len = (usize::from(*hi) << 8 | usize::from(*lo)).min(rest.len());
        let (piece, tail) = rest.split_at(len);
        out.push((*sel, piece));
        data = tail;
    }
    out
}

/// Mutates `bytes` with the fuzzer's instructions: a flip, a truncation, an insertion.
fn mutate(bytes: &[u8], how: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for op in how.chunks(3) {
        let [kind, pos, val] = [op.first(), op.get(1), op.get(2)].map(|x| x.copied().unwrap_or(0));
        if b.is_empty() {
            b.push(val);
            continue;
        }
        let i = (usize::from(pos) * 257) % b.len();
        match kind % 4 {
            0 => {
                if let Some(x) = b.get_mut(i) {
                    *x ^= val | 1;
                }
            }
            1 => b.truncate(i),
            2 => b.insert(i, val),
            _ => {
                b.remove(i);
            }
        }
    }
    b
}

/// The relay message a piece stands for: a genuine delivery (picked by an odd selector) mutated
/// by the piece's bytes, or the bytes as they are.
fn relay_message(m: &Material, sel: u8, piece: &[u8]) -> Vec<u8> {
    match m.deliveries.get(usize::from(sel >> 1) % m.deliveries.len().max(1)) {
        Some((_, genuine)) if sel & 1 == 1 => mutate(genuine, piece),
        _ => piece.to_vec(),
    }
}

/// Feeds the pieces to a party; an error must leave its state (seen through `pickle`) unchanged.
fn feed<P>(
    data: &[u8],
    party: &mut P,
    pickle: impl Fn(&P) -> Vec<u8>,
    handle: impl Fn(&mut P, &[u8], &mut ChaCha20Rng) -> bool,
) {
    let m = material();
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    for (sel, piece) in pieces(data) {
        let msg = relay_message(m, sel, piece);
        let before = pickle(party);
        if !handle(party, &msg, &mut rng) {
            assert_eq!(before, pickle(party), "state changed on error");
        }
    }
}

/// Relay messages for a joined member, genuine or mutated.
pub fn member_handle(data: &[u8]) {
    let Ok(mut member) = Member::unpickle(&material().member) else { return };
    member.on_connected([7; 32].into());
    feed(data, &mut member, |m| m.pickle().to_vec(), |m, msg, rng| m.handle(msg, rng).is_ok());
}

/// Relay messages for the owner, genuine or mutated.
pub fn owner_handle(data: &[u8]) {
    let Ok(mut owner) = Owner::unpickle(&material().owner) else { return };
    owner.on_connected([7; 32].into());
    feed(data, &mut owner, |o| o.pickle().to_vec(), |o, msg, rng| o.handle(msg, NOW, rng).is_ok());
}

/// Requests from several connections into the relay's rule book, replaying the genuine traffic
/// with mutations and interleavings: the relay never panics, and never holds a member the
/// genuine traffic did not add (no member without an owner-signed commit).
pub fn relay_rulebook(data: &[u8]) {
    let m = material();
    let mut relay = RuleBook::new(RelayConfig::default());
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    for conn in 0..4u64 {
        let _ = relay.connect(conn, [conn as u8; 32].into(), &mut rng);
    }
    let mut next_genuine = 0usize;
    for (sel, piece) in pieces(data) {
        let conn = u64::from(sel % 4);
        let req = match sel >> 2 {
            0 => piece.to_vec(),
            1 => {
                // The next genuine request, as sent.
                let r = m.requests.get(next_genuine).map(|(_, b)| b.clone()).unwrap_or_default();
                next_genuine += 1;
                r
            }
            _ => {
                let (_, genuine) = &m.requests[usize::from(sel) % m.requests.len().max(1)];
                mutate(genuine, piece)
            }
        };
        if relay.handle(conn, &req, NOW).is_err() {
            relay.disconnect(conn);
            let _ = relay.connect(conn, [conn as u8; 32].into(), &mut rng);
        }
    }
    // Genuine traffic adds at most owner + bob + carol + dave.
    for room in relay_rooms(&m.requests) {
        if let Some(n) = relay.member_count(&room) {
            assert!(n <= 4, "the relay holds {n} members: one was added without the owner");
        }
    }
}

/// Journal entries, genuine (in order), mutated or raw, replayed into a fresh rule book as a
/// relay does on start: decoding is canonical, a refused entry changes nothing visible, and the
/// replayed rule book never holds a member the genuine traffic did not add.
pub fn relay_journal(data: &[u8]) {
    let m = material();
    let rooms = relay_rooms(&m.requests);
    let mut relay = RuleBook::new(RelayConfig::default());
    let mut next_genuine = 0usize;
    let seen = |relay: &RuleBook| rooms.iter().map(|r| (relay.next_seq(r), relay.member_count(r))).collect::<Vec<_>>();
    for (sel, piece) in pieces(data) {
        let bytes = match sel % 3 {
            0 => piece.to_vec(),
            1 => {
                let e = m.journal.get(next_genuine).cloned().unwrap_or_default();
                next_genuine += 1;
                e
            }
            _ => mutate(&m.journal[usize::from(sel) % m.journal.len().max(1)], piece),
        };
        let Ok(entry) = JournalEntry::decode(&bytes) else { continue };
        assert_eq!(entry.encode(), bytes, "journal decoding is not canonical");
        let before = seen(&relay);
        if relay.replay(&entry).is_err() {
            assert_eq!(before, seen(&relay), "a refused journal entry changed the rule book");
        }
    }
    for room in &rooms {
        if let Some(n) = relay.member_count(room) {
            assert!(n <= 4, "the replayed relay holds {n} members: one was added without the owner");
        }
    }
}

/// Room ids named by the frames of genuine requests (the material's one room). Never empty: the
/// member-count assertions would hold vacuously.
fn relay_rooms(requests: &[(usize, Vec<u8>)]) -> Vec<zfc_core::RoomId> {
    let mut rooms: Vec<zfc_core::RoomId> = requests
        .iter()
        .filter_map(|(_, b)| match ClientRequest::decode(b) {
            Ok(ClientRequest::Submit { frame, .. }) => Frame::decode(&frame).ok().map(|f| *f.room_id()),
            _ => None,
        })
        .collect();
    rooms.sort_unstable();
    rooms.dedup();
    assert!(!rooms.is_empty(), "the material names no room");
    rooms
}

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target by name, for the corpus replay.
pub const TARGETS: &[(&str, Target)] = &[
    ("frame_decode", frame_decode),
    ("relay_proto", relay_proto),
    ("invite_parse", invite_parse),
    ("state_load", state_load),
    ("link", link),
    ("member_handle", member_handle),
    ("owner_handle", owner_handle),
    ("relay_rulebook", relay_rulebook),
    ("relay_journal", relay_journal),
];
