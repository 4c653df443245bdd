//! A lean in-process network for benchmarks: the owner, the members a benchmark keeps, transient
//! joiners and the relay's rule book, with no link encryption (the link is measured by the load
//! generator) and the work of each side timed apart.
//!
//! `zfc_core::sim` keeps every party it ever saw; rooms of 10 000 members need joiners that leave
//! the process once they have joined, and a member that joins last so that it does not follow
//! 10 000 add commits.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use zfc_core::relay::{ConnId, RelayConfig, RuleBook};
use zfc_core::{Error, Event, Member, Output, Owner, RoomConfig};

/// Unix time the benchmarks run at.
pub const NOW: u64 = 1_800_000_000;

/// The owner's connection.
pub const OWNER: ConnId = 1;

/// A party on the network.
#[derive(Debug)]
pub enum Party {
    /// The room's owner.
    Owner(Box<Owner>),
    /// A member or joiner.
    Member(Box<Member>),
}

/// Time spent by each side since the last [`Net::take_times`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Times {
    /// In the owner's calls.
    pub owner: Duration,
    /// In members' and joiners' calls.
    pub members: Duration,
    /// In the rule book.
    pub relay: Duration,
}

/// The network.
#[derive(Debug)]
pub struct Net {
    /// The relay.
    pub relay: RuleBook,
    /// Randomness for everyone.
    pub rng: ChaCha20Rng,
    parties: BTreeMap<ConnId, Party>,
    to_relay: VecDeque<(ConnId, Vec<u8>)>,
    to_party: VecDeque<(ConnId, Vec<u8>)>,
    events: BTreeMap<ConnId, Vec<Event>>,
    /// What the relay sent to detached parties' connections.
    recorded: BTreeMap<ConnId, Vec<Vec<u8>>>,
    times: Times,
    next_conn: ConnId,
}

impl Net {
    /// A room with `config`, its owner online; the relay has generous limits.
    pub fn new(config: RoomConfig, seed: u64) -> Result<Self, Error> {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let (owner, out) = Owner::create(config, &mut rng);
        let relay_config = RelayConfig { max_log_per_room: 1_000_000, ..RelayConfig::default() };
        let mut net = Self {
            relay: RuleBook::new(relay_config),
            rng,
            parties: BTreeMap::new(),
            to_relay: VecDeque::new(),
            to_party: VecDeque::new(),
            events: BTreeMap::new(),
            recorded: BTreeMap::new(),
            times: Times::default(),
            next_conn: OWNER,
        };
        let conn = net.add(Party::Owner(Box::new(owner)), out);
        debug_assert_eq!(conn, OWNER);
        net.run()?;
        Ok(net)
    }

    /// Adds a party with the output of its creation and connects it; returns its connection.
    pub fn add(&mut self, mut party: Party, out: Output) -> ConnId {
        let conn = self.next_conn;
        self.next_conn += 1;
        let mut binding = [0u8; 32];
        self.rng.fill_bytes(&mut binding);
        let binding = zfc_core::ChannelBinding::from_bytes(binding);
        match &mut party {
            Party::Owner(o) => o.on_connected(binding),
            Party::Member(m) => m.on_connected(binding),
        }
        self.parties.insert(conn, party);
        for o in self.relay.connect(conn, binding, &mut self.rng) {
            self.to_party.push_back((o.conn, o.bytes));
        }
        self.to_relay.extend(out.to_relay.into_iter().map(|r| (conn, r.bytes)));
        self.events.entry(conn).or_default().extend(out.events);
        conn
    }

    /// Takes a party off the network (and out of memory).
    pub fn drop_party(&mut self, conn: ConnId) -> Option<Party> {
        self.relay.disconnect(conn);
        self.events.remove(&conn);
        self.recorded.remove(&conn);
        self.parties.remove(&conn)
    }

    /// Takes a party out of the network but leaves its connection open at the relay: what the
    /// relay sends it from now on is kept for [`Self::take_recorded`].
    pub fn detach(&mut self, conn: ConnId) -> Option<Party> {
        self.recorded.insert(conn, Vec::new());
        self.parties.remove(&conn)
    }

    /// What the relay sent to a detached party since it was detached.
    pub fn take_recorded(&mut self, conn: ConnId) -> Vec<Vec<u8>> {
        self.recorded.get_mut(&conn).map(std::mem::take).unwrap_or_default()
    }

    /// Runs `f` on the party on `conn` with the network's randomness, queues its output and runs
    /// the network.
    fn act(
        &mut self,
        conn: ConnId,
        f: impl FnOnce(&mut Party, &mut ChaCha20Rng) -> Result<Output, Error>,
    ) -> Result<(), Error> {
        let party = self.parties.get_mut(&conn).ok_or(Error::NotJoined)?;
        let out = f(party, &mut self.rng)?;
        self.apply(conn, out);
        self.run()
    }

    /// [`Self::act`] on the owner.
    pub fn by_owner(
        &mut self,
        f: impl FnOnce(&mut Owner, &mut ChaCha20Rng) -> Result<Output, Error>,
    ) -> Result<(), Error> {
        self.act(OWNER, |party, rng| match party {
            Party::Owner(owner) => f(owner, rng),
            Party::Member(_) => Err(Error::NotOwner),
        })
    }

    /// [`Self::act`] on the member on `conn`.
    pub fn by_member(
        &mut self,
        conn: ConnId,
        f: impl FnOnce(&mut Member, &mut ChaCha20Rng) -> Result<Output, Error>,
    ) -> Result<(), Error> {
        self.act(conn, |party, rng| match party {
            Party::Member(member) => f(member, rng),
            Party::Owner(_) => Err(Error::NotJoined),
        })
    }

    /// The owner.
    pub fn owner(&mut self) -> &mut Owner {
        match self.parties.get_mut(&OWNER) {
            Some(Party::Owner(o)) => o,
            _ => unreachable!("benchmarks never drop or detach the owner"),
        }
    }

    /// The member on `conn`.
    pub fn member(&mut self, conn: ConnId) -> Option<&mut Member> {
        match self.parties.get_mut(&conn) {
            Some(Party::Member(m)) => Some(m),
            _ => None,
        }
    }

    /// Queues what a party's call returned.
    pub fn apply(&mut self, conn: ConnId, out: Output) {
        self.to_relay.extend(out.to_relay.into_iter().map(|r| (conn, r.bytes)));
        self.events.entry(conn).or_default().extend(out.events);
    }

    /// Moves traffic until none is left. A party's error stops the run: benchmarks build only
    /// rooms that work.
    pub fn run(&mut self) -> Result<(), Error> {
        loop {
            if let Some((conn, req)) = self.to_relay.pop_front() {
                let t = Instant::now();
                let answer = self.relay.handle(conn, &req, NOW);
                self.times.relay += t.elapsed();
                let out = answer.map_err(|_| Error::Unexpected("relay refused a request's bytes"))?;
                self.to_party.extend(out.into_iter().map(|o| (o.conn, o.bytes)));
            } else if let Some((conn, msg)) = self.to_party.pop_front() {
                let rng = &mut self.rng;
                let t = Instant::now();
                let (out, is_owner) = match self.parties.get_mut(&conn) {
                    Some(Party::Owner(o)) => (o.handle(&msg, NOW, rng)?, true),
                    Some(Party::Member(m)) => (m.handle(&msg, rng)?, false),
                    None => {
                        if let Some(r) = self.recorded.get_mut(&conn) {
                            r.push(msg);
                        }
                        continue;
                    }
                };
                let spent = t.elapsed();
                if is_owner {
                    self.times.owner += spent;
                } else {
                    self.times.members += spent;
                }
                if let Some(e) = out.events.iter().find_map(|e| match e {
                    Event::FrameRejected { error, .. } => Some(error.clone()),
                    _ => None,
                }) {
                    return Err(e);
                }
                self.apply(conn, out);
            } else {
                return Ok(());
            }
        }
    }

    /// Time spent by each side since the last call.
    pub fn take_times(&mut self) -> Times {
        std::mem::take(&mut self.times)
    }

    /// Drains the events of the party on `conn`.
    pub fn take_events(&mut self, conn: ConnId) -> Vec<Event> {
        self.events.get_mut(&conn).map(std::mem::take).unwrap_or_default()
    }

    /// A newcomer joins with a fresh invite (the room auto-approves) and stays online; the time
    /// of its own calls (`Member::join` included) is in [`Times::members`].
    pub fn join(&mut self) -> Result<ConnId, Error> {
        let relay_pk = zfc_core::RelayPublicKey::from_bytes([9u8; 32]);
        let mut invite = None;
        self.by_owner(|owner, rng| {
            let (i, out) = owner.invite(NOW, 3600, "ws://127.0.0.1:5103", relay_pk, rng)?;
            invite = Some(i);
            Ok(out)
        })?;
        let invite = invite.ok_or(Error::InviteUnknown)?;
        let t = Instant::now();
        let (member, out) = Member::join(&invite, "m", NOW, &mut self.rng)?;
        self.times.members += t.elapsed();
        let conn = self.add(Party::Member(Box::new(member)), out);
        self.run()?;
        match self.member(conn) {
            Some(m) if m.is_joined() => Ok(conn),
            _ => Err(Error::Unexpected("the newcomer did not join")),
        }
    }

    /// Grows the room to `members` (owner included) with joiners that leave the process as soon
    /// as they have joined (they stay in the roster).
    pub fn grow_to(&mut self, members: usize) -> Result<(), Error> {
        while self.owner().roster().len() < members {
            let conn = self.join()?;
            self.drop_party(conn);
        }
        Ok(())
    }
}

/// The frame inside a `Submit` request.
pub fn submitted_frame(request: &[u8]) -> Result<Vec<u8>, Error> {
    match zfc_core::relay::ClientRequest::decode(request)? {
        zfc_core::relay::ClientRequest::Submit { frame, .. } => Ok(frame),
        _ => Err(Error::Unexpected("not a Submit request")),
    }
}

/// How many bytes a message frame's signature covers: its label, the separator, and the frame
/// without the 64-byte signature (spec §2.6).
pub fn signed_len(frame: &[u8]) -> usize {
    "zfc v1 message".len() + 1 + frame.len().saturating_sub(64)
}

/// The relay's delivery of `frame` at log position `seq`.
pub fn deliver(room_id: zfc_core::RoomId, seq: u64, frame: Vec<u8>) -> Vec<u8> {
    zfc_core::relay::RelayMessage::Deliver { room_id, seq, frame }.encode()
}

/// The process's resident set size in bytes, from `/proc/self/status` (0 where there is none).
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
