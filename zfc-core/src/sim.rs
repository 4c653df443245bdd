//! An in-process network of parties and a relay rule book, for demos and tests: every byte goes
//! through the encoders, the rule book, the state machines and (when the relay has a key) the
//! encrypted link; only the sockets are left out. Parties may go offline; what they send waits
//! in their outbox and what the relay holds for them waits at the relay (store and forward).

use std::collections::VecDeque;

use rand_core::CryptoRng;

use crate::ChannelBinding;
use crate::error::Error;
use crate::event::{Event, Output};
use crate::link::{self, ClientHandshake, RelayKey, Transport};
use crate::member::Member;
use crate::owner::Owner;
use crate::party::Party;
use crate::relay::{ConnId, JournalEntry, RelayConfig, RuleBook};

/// Most rounds [`Sim::run`] makes before giving up.
pub const MAX_ROUNDS: usize = 10_000;

/// Index of a party in the simulation.
pub type PartyId = usize;

/// One party with its connection and queues.
#[derive(Debug)]
pub struct Slot {
    /// A label for printing.
    pub name: String,
    /// The state machine.
    pub party: Party,
    /// The connection, while online.
    pub conn: Option<ConnId>,
    /// The link's two ends (client, relay) while online, when the relay has a key.
    pub link: Option<(Transport, Transport)>,
    /// Requests not yet handed to the relay.
    pub outbox: VecDeque<Vec<u8>>,
    /// Relay messages not yet handled.
    pub inbox: VecDeque<Vec<u8>>,
    /// Events seen so far (drained by [`Sim::take_events`]).
    pub events: Vec<Event>,
    /// Errors returned by `handle` (relay messages refused outright).
    pub errors: Vec<Error>,
    /// The last state the party handed out for saving: taken, as an app must, before any
    /// output that submits something leaves (when [`Sim::saving`] is on).
    pub saved: Option<Vec<u8>>,
    /// Scripted relay answers: the party's next submissions are answered with these codes
    /// instead of reaching the rule book (a relay that refuses, for tests).
    pub refuse_next: VecDeque<u16>,
}

/// The simulated network.
pub struct Sim<R: CryptoRng> {
    /// The relay's rule book.
    pub relay: RuleBook,
    /// Randomness for every party and the relay.
    pub rng: R,
    /// The clock, Unix seconds.
    pub now: u64,
    /// The parties.
    pub slots: Vec<Slot>,
    /// Every byte string that crossed the network, when [`Self::tracing`] is on (fuzz seeds,
    /// test material).
    pub trace: Vec<Traced>,
    /// Whether to fill [`Self::trace`].
    pub tracing: bool,
    /// The relay's static link key: with one, every connection runs the Noise link and its
    /// handshake hash is the channel binding; without, bindings are random.
    pub relay_key: Option<RelayKey>,
    /// The rule book's durable changes so far, as a persisting relay would write them.
    pub journal: Vec<JournalEntry>,
    /// Whether parties hand out their state for saving before every output that submits
    /// (into [`Slot::saved`]; [`Self::crash`] restores it).
    pub saving: bool,
    next_conn: ConnId,
}

/// One byte string seen on the simulated network.
#[derive(Clone, Debug)]
pub enum Traced {
    /// A client request, from the party, to the relay.
    ToRelay(PartyId, Vec<u8>),
    /// A relay message, to the party.
    ToParty(PartyId, Vec<u8>),
}

impl<R: CryptoRng> Sim<R> {
    /// An empty network with a relay of the given limits.
    pub fn new(config: RelayConfig, rng: R, now: u64) -> Self {
        Self {
            relay: RuleBook::new(config),
            rng,
            now,
            slots: Vec::new(),
            trace: Vec::new(),
            tracing: false,
            relay_key: None,
            journal: Vec::new(),
            saving: false,
            next_conn: 1,
        }
    }

    /// Adds a party, queueing what its creation output asks to send; it starts offline.
    pub fn add(&mut self, name: &str, party: Party, out: Output) -> PartyId {
        let saved = (self.saving && out.must_save()).then(|| party.pickle());
        self.slots.push(Slot {
            name: name.to_string(),
            party,
            conn: None,
            link: None,
            outbox: out.to_relay.into_iter().map(|r| r.bytes).collect(),
            inbox: VecDeque::new(),
            events: out.events,
            errors: Vec::new(),
            saved,
            refuse_next: VecDeque::new(),
        });
        self.slots.len() - 1
    }

    /// Queues a party's output (saving its state first when it submits and saving is on).
    pub fn apply(&mut self, id: PartyId, out: Output) {
        let saving = self.saving;
        if let Some(s) = self.slots.get_mut(id) {
            if saving && out.must_save() {
                s.saved = Some(s.party.pickle());
            }
            s.outbox.extend(out.to_relay.into_iter().map(|r| r.bytes));
            s.events.extend(out.events);
        }
    }

    /// The connection drops before the party's unsent requests leave: they are lost.
    pub fn lose_outbox(&mut self, id: PartyId) {
        if let Some(s) = self.slots.get_mut(id) {
            s.outbox.clear();
        }
        self.disconnect(id);
    }

    /// The party's requests reach the relay, then the connection drops before any answer
    /// comes back: the relay acted on them, the party never learns how.
    pub fn lose_answers(&mut self, id: PartyId) {
        let Some(conn) = self.slots.get(id).and_then(|s| s.conn) else { return };
        while let Some(req) = self.slots.get_mut(id).and_then(|s| s.outbox.pop_front()) {
            let req = match self.slots.get_mut(id).and_then(|s| s.link.as_mut()) {
                Some((client, relay)) => match client.seal(&req).and_then(|rec| relay.open(&rec)) {
                    Ok(b) => b,
                    Err(_) => continue,
                },
                None => req,
            };
            self.deliver_to_relay(conn, &req);
        }
        self.disconnect(id);
    }

    /// The party crashes and restarts from the last state it handed out for saving (requires
    /// [`Self::saving`]); it comes back offline, with nothing queued. Returns false when there
    /// was no saved state.
    pub fn crash(&mut self, id: PartyId) -> bool {
        self.disconnect(id);
        let Some(slot) = self.slots.get_mut(id) else { return false };
        let Some(blob) = slot.saved.clone() else { return false };
        let Ok(party) = slot.party.restore_like(&blob) else { return false };
        slot.party = party;
        slot.outbox.clear();
        true
    }

    /// Brings a party online: a fresh connection (a Noise handshake when the relay has a key),
    /// a fresh channel binding, the relay's challenge.
    pub fn connect(&mut self, id: PartyId) {
        let conn = self.next_conn;
        self.next_conn += 1;
        let mut link = None;
        let binding = match &self.relay_key {
            Some(key) => {
                let Ok((hs, first)) = ClientHandshake::start(&key.public(), &mut self.rng) else { return };
                let Ok((relay_end, answer)) = link::respond(key, &first, &mut self.rng) else { return };
                let Ok(client_end) = hs.finish(&answer) else { return };
                let binding = client_end.channel_binding();
                link = Some((client_end, relay_end));
                binding
            }
            None => {
                let mut binding = [0u8; 32];
                self.rng.fill_bytes(&mut binding);
                ChannelBinding::from_bytes(binding)
            }
        };
        let Some(slot) = self.slots.get_mut(id) else { return };
        slot.party.on_connected(binding);
        slot.conn = Some(conn);
        slot.link = link;
        let outgoing = self.relay.connect(conn, binding, &mut self.rng);
        for o in outgoing {
            self.route_to_party(id, o.bytes);
        }
    }

    /// A relay message on its way to party `id`, through the link if there is one.
    fn route_to_party(&mut self, id: PartyId, bytes: Vec<u8>) {
        let Some(slot) = self.slots.get_mut(id) else { return };
        let bytes = match &mut slot.link {
            Some((client, relay)) => match relay.seal(&bytes).and_then(|rec| client.open(&rec)) {
                Ok(b) => b,
                Err(_) => return,
            },
            None => bytes,
        };
        slot.inbox.push_back(bytes);
    }

    /// Replaces the relay by one rebuilt from its journal, as after a crash: every connection
    /// drops. Returns the replay's refusal if the journal does not replay.
    pub fn restart_relay(&mut self, config: RelayConfig) -> Result<(), crate::proto::Reject> {
        let mut relay = RuleBook::new(config);
        relay.replay_all(&self.journal).map_err(|(_, reject)| reject)?;
        for id in 0..self.slots.len() {
            self.disconnect(id);
        }
        self.relay = relay;
        Ok(())
    }

    /// Takes a party offline; what the relay had sent but the party had not handled is lost
    /// with the connection, as on a real network.
    pub fn disconnect(&mut self, id: PartyId) {
        if let Some(slot) = self.slots.get_mut(id) {
            if let Some(c) = slot.conn.take() {
                self.relay.disconnect(c);
            }
            slot.link = None;
            slot.inbox.clear();
        }
    }

    /// Moves traffic until nothing is left to move, or [`MAX_ROUNDS`] rounds have passed (a party
    /// stuck in a reconnect loop must not hang a test). Returns the number of rounds taken.
    pub fn run(&mut self) -> usize {
        let mut steps = 0;
        while steps < MAX_ROUNDS {
            let mut moved = false;
            for id in 0..self.slots.len() {
                moved |= self.step(id);
            }
            if !moved {
                return steps;
            }
            steps += 1;
        }
        steps
    }

    /// One party sends its outbox and handles its inbox. Returns whether anything moved.
    pub fn step(&mut self, id: PartyId) -> bool {
        let mut moved = false;
        let Some(conn) = self.slots.get(id).and_then(|s| s.conn) else { return false };
        while let Some(req) = self.slots.get_mut(id).and_then(|s| s.outbox.pop_front()) {
            moved = true;
            if self.tracing {
                self.trace.push(Traced::ToRelay(id, req.clone()));
            }
            let req = match self.slots.get_mut(id).and_then(|s| s.link.as_mut()) {
                Some((client, relay)) => match client.seal(&req).and_then(|rec| relay.open(&rec)) {
                    Ok(b) => b,
                    Err(_) => continue,
                },
                None => req,
            };
            if let Some(answer) = self.scripted_refusal(id, &req) {
                self.route_to_party(id, answer);
                continue;
            }
            self.deliver_to_relay(conn, &req);
        }
        while let Some(msg) = self.slots.get_mut(id).and_then(|s| s.inbox.pop_front()) {
            moved = true;
            if self.tracing {
                self.trace.push(Traced::ToParty(id, msg.clone()));
            }
            let now = self.now;
            let Some(slot) = self.slots.get_mut(id) else { break };
            match slot.party.handle(&msg, now, &mut self.rng) {
                Ok(out) => {
                    if self.saving && out.must_save() {
                        slot.saved = Some(slot.party.pickle());
                    }
                    slot.outbox.extend(out.to_relay.into_iter().map(|r| r.bytes));
                    slot.events.extend(out.events);
                }
                Err(e @ (Error::RelayGap { .. } | Error::RelayReplay { .. })) => {
                    // What an app does on a gap: reconnect, and resume from its own position.
                    slot.errors.push(e);
                    self.disconnect(id);
                    self.connect(id);
                    return true;
                }
                Err(e) => slot.errors.push(e),
            }
        }
        moved
    }

    /// The scripted answer to `req` from party `id`, if one is due (a Submit only).
    fn scripted_refusal(&mut self, id: PartyId, req: &[u8]) -> Option<Vec<u8>> {
        let Ok(crate::relay::ClientRequest::Submit { req_id, .. }) = crate::relay::ClientRequest::decode(req) else {
            return None;
        };
        let code = self.slots.get_mut(id)?.refuse_next.pop_front()?;
        Some(crate::relay::RelayMessage::Rejected { req_id, code }.encode())
    }

    /// Hands one request to the relay and routes its answers.
    pub fn deliver_to_relay(&mut self, conn: ConnId, req: &[u8]) {
        match self.relay.handle_durable(conn, req, self.now) {
            Ok((outgoing, entry)) => {
                self.journal.extend(entry);
                for o in outgoing {
                    if let Some(id) = self.slots.iter().position(|s| s.conn == Some(o.conn)) {
                        self.route_to_party(id, o.bytes);
                    }
                }
            }
            Err(_) => {
                if let Some(id) = self.slots.iter().position(|s| s.conn == Some(conn)) {
                    self.disconnect(id);
                }
            }
        }
    }

    /// Drains the events a party has seen.
    pub fn take_events(&mut self, id: PartyId) -> Vec<Event> {
        self.slots.get_mut(id).map(|s| std::mem::take(&mut s.events)).unwrap_or_default()
    }

    /// The owner at `id`.
    pub fn owner(&mut self, id: PartyId) -> Option<&mut Owner> {
        match self.slots.get_mut(id).map(|s| &mut s.party) {
            Some(Party::Owner(o)) => Some(o),
            _ => None,
        }
    }

    /// The member at `id`.
    pub fn member(&mut self, id: PartyId) -> Option<&mut Member> {
        match self.slots.get_mut(id).map(|s| &mut s.party) {
            Some(Party::Member(m)) => Some(m),
            _ => None,
        }
    }
}

/// A room on a simulated network, with the steps of a room's life as one-liners: the demo and
/// the tests play scenarios with it.
pub struct Scenario<R: CryptoRng> {
    /// The network.
    pub sim: Sim<R>,
    /// The owner's party id.
    pub owner: PartyId,
    /// The relay address written into invites.
    pub relay_addr: String,
    /// The relay key written into invites.
    pub relay_pk: crate::RelayPublicKey,
}

impl<R: CryptoRng> Scenario<R> {
    /// Creates a room with `config` and brings its owner online.
    pub fn new(config: crate::room::RoomConfig, relay: RelayConfig, mut rng: R, now: u64) -> Self {
        let (owner, out) = Owner::create(config, &mut rng);
        let relay_key = RelayKey::generate(&mut rng);
        let relay_pk = relay_key.public();
        let mut sim = Sim::new(relay, rng, now);
        sim.relay_key = Some(relay_key);
        let id = sim.add("owner", Party::Owner(Box::new(owner)), out);
        sim.connect(id);
        sim.run();
        Self { sim, owner: id, relay_addr: "ws://127.0.0.1:5103".into(), relay_pk }
    }

    /// The owner.
    pub fn owner(&mut self) -> &mut Owner {
        match self.sim.slots.get_mut(self.owner).map(|s| &mut s.party) {
            Some(Party::Owner(o)) => o,
            _ => unreachable_owner(),
        }
    }

    /// Runs `f` on the owner with the network's RNG, queues its output and runs the network.
    pub fn by_owner(&mut self, f: impl FnOnce(&mut Owner, &mut R) -> Result<Output, Error>) -> Result<(), Error> {
        let Some(Party::Owner(o)) = self.sim.slots.get_mut(self.owner).map(|s| &mut s.party) else {
            return Err(Error::NotOwner);
        };
        let out = f(o, &mut self.sim.rng)?;
        self.sim.apply(self.owner, out);
        self.sim.run();
        Ok(())
    }

    /// Runs `f` on member `id` with the network's RNG, queues its output and runs the network.
    pub fn by_member(
        &mut self,
        id: PartyId,
        f: impl FnOnce(&mut Member, &mut R) -> Result<Output, Error>,
    ) -> Result<(), Error> {
        let Some(Party::Member(m)) = self.sim.slots.get_mut(id).map(|s| &mut s.party) else {
            return Err(Error::NotJoined);
        };
        let out = f(m, &mut self.sim.rng)?;
        self.sim.apply(id, out);
        self.sim.run();
        Ok(())
    }

    /// The member at `id`, if it is one.
    pub fn member(&mut self, id: PartyId) -> Option<&mut Member> {
        self.sim.member(id)
    }

    /// Issues an invite valid for an hour.
    pub fn invite(&mut self) -> Result<crate::invite::Invite, Error> {
        let now = self.sim.now;
        let (addr, pk) = (self.relay_addr.clone(), self.relay_pk);
        let mut invite = None;
        self.by_owner(|o, rng| {
            let (i, out) = o.invite(now, 3600, &addr, pk, rng)?;
            invite = Some(i);
            Ok(out)
        })?;
        invite.ok_or(Error::InviteUnknown)
    }

    /// A joiner comes online with `invite` and sends its request.
    pub fn start_join(&mut self, name: &str, invite: &crate::invite::Invite) -> Result<PartyId, Error> {
        let (m, out) = Member::join(invite, name, self.sim.now, &mut self.sim.rng)?;
        let id = self.sim.add(name, Party::Member(Box::new(m)), out);
        self.sim.connect(id);
        self.sim.run();
        Ok(id)
    }

    /// Invites and joins a member (the room must auto-approve, or the owner approve meanwhile).
    pub fn join(&mut self, name: &str) -> Result<PartyId, Error> {
        let invite = self.invite()?;
        self.start_join(name, &invite)
    }

    /// Party `id` sends a text message.
    pub fn send(&mut self, id: PartyId, text: &str) -> Result<(), Error> {
        if id == self.owner {
            return self.by_owner(|o, rng| o.send(text.as_bytes(), rng));
        }
        self.by_member(id, |m, rng| m.send(text.as_bytes(), rng))
    }

    /// The texts of the messages party `id` received since the last call (drains its events).
    pub fn texts(&mut self, id: PartyId) -> Vec<String> {
        self.sim
            .take_events(id)
            .into_iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(String::from_utf8_lossy(&m.content).into_owned()),
                _ => None,
            })
            .collect()
    }

    /// What `pick` finds in party `id`'s events, without draining them.
    fn find_events<T>(&self, id: PartyId, pick: impl Fn(&Event) -> Option<T>) -> Vec<T> {
        self.sim.slots.get(id).map(|s| s.events.iter().filter_map(&pick).collect()).unwrap_or_default()
    }

    /// The frame rejections party `id` saw, without draining its events.
    pub fn rejections(&self, id: PartyId) -> Vec<Error> {
        self.find_events(id, |e| match e {
            Event::FrameRejected { error, .. } => Some(error.clone()),
            _ => None,
        })
    }

    /// The relay refusal codes party `id` saw, without draining its events.
    pub fn relay_rejections(&self, id: PartyId) -> Vec<u16> {
        self.find_events(id, |e| match e {
            Event::Rejected { reason, .. } => Some(reason.code()),
            _ => None,
        })
    }
}

#[allow(clippy::panic)]
fn unreachable_owner() -> ! {
    panic!("a scenario's owner slot always holds the owner")
}
