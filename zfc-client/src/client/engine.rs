//! The client's state behind the lock: rooms, connections, the vault and the queues; how a
//! zfc-core output becomes saved state, queued records and events; how relay messages reach
//! the rooms of a shared connection.
//!
//! Invariants: a room's state is put in the vault after every call that changed it, before any
//! record of that call is queued; a record of an output that spends state (and every
//! acknowledgement) waits for the save that holds the state that made it; a room message or
//! fetch leaves only after the room's authentication on the socket was accepted.

use std::collections::{BTreeMap, VecDeque};

use rand_chacha::ChaCha20Rng;
use zeroize::Zeroizing;
use zfc_core::link::ClientHandshake;
use zfc_core::proto::{ClientRequest, Reject, RelayMessage};
use zfc_core::{Event, Output, Party, RequestKind};

use super::conn::{ConnKey, Connection, Link, Own, Queued, RoomId, Route};
use super::{ClientConfig, Transmit};
use crate::event::{self, ClientEvent};
use crate::vault::{RoomKind, Vault};
use crate::{Error, RelayAddress};

/// A room the client holds.
pub(super) struct Room {
    pub(super) party: Party,
    pub(super) relay: RelayAddress,
    /// Our messages in flight, by request id.
    pub(super) messages: BTreeMap<u32, MessageInFlight>,
    /// The message [`super::Client::send`] is about to route.
    pub(super) sending: Option<Sending>,
    /// Messages and fetches waiting for the room's authentication on a socket, with the save
    /// generation they need.
    pub(super) held: VecDeque<(zfc_core::Request, u64)>,
    /// The room's authentication on the current socket was accepted.
    pub(super) authenticated: bool,
    /// Log entries were handled since the last acknowledgement.
    pub(super) ack_due: bool,
    /// The party has met a link since it was made or loaded. Until then zfc-core counts the
    /// requests it hands out as sent on the first link, so the client holds them for it.
    pub(super) met_link: bool,
}

/// A message of ours the relay has not answered: kept to send again after a lost socket, and
/// its content to seal again if the relay closed its epoch meanwhile.
pub(super) struct MessageInFlight {
    pub(super) local_id: u64,
    pub(super) bytes: Zeroizing<Vec<u8>>,
    pub(super) needs: u64,
    pub(super) sent: Sending,
    /// The message's (epoch, sequence number): its echo in the room log settles it.
    pub(super) id: Option<(u32, u32)>,
    /// It went again on a later socket (its first answer was lost with the first).
    pub(super) resent: bool,
}

/// The (epoch, sequence number) of the room message a Submit carries.
fn message_id(request: &[u8]) -> Option<(u32, u32)> {
    use zfc_core::internal::frame::Frame;
    let ClientRequest::Submit { frame, .. } = ClientRequest::decode(request).ok()? else { return None };
    match Frame::decode(&frame).ok()? {
        Frame::Message(m) => Some((m.body.epoch, m.body.seq)),
        _ => None,
    }
}

/// A message as the app gave it: its id, its encoded envelope, the room's epoch when it was
/// sealed, and how many times it was sealed.
#[derive(Clone)]
pub(super) struct Sending {
    pub(super) local_id: u64,
    pub(super) envelope: Zeroizing<Vec<u8>>,
    pub(super) epoch: Option<u32>,
    pub(super) seals: u8,
}

/// How many times a message is sealed (the first time, then after epochs the relay closed
/// under it: a removal the sender had not read yet when it sent).
const MAX_SEALS: u8 = 3;

impl Room {
    pub(super) fn kind(&self) -> RoomKind {
        match self.party {
            Party::Owner(_) => RoomKind::Owner,
            Party::Member(_) => RoomKind::Member,
        }
    }

    /// Whether the room still needs a relay connection.
    fn is_live(&self) -> bool {
        match &self.party {
            Party::Owner(_) => true,
            Party::Member(m) => !matches!(m.phase(), zfc_core::Phase::Gone(_)),
        }
    }

    /// Our member number in the room (the owner is 0), once joined.
    fn me(&self) -> Option<u32> {
        match &self.party {
            Party::Owner(_) => Some(0),
            Party::Member(m) => match m.phase() {
                zfc_core::Phase::Joined { member, .. } => Some(member),
                _ => None,
            },
        }
    }

    /// The room's current epoch, where the party has one.
    pub(super) fn epoch(&self) -> Option<u32> {
        match &self.party {
            Party::Owner(o) => Some(o.epoch()),
            Party::Member(m) => match m.phase() {
                zfc_core::Phase::Joined { epoch, .. } => Some(epoch),
                _ => None,
            },
        }
    }

    /// An owner whose CreateRoom has not landed: it needs Admit where creation is restricted.
    fn awaits_creation(&self) -> bool {
        matches!(&self.party, Party::Owner(o) if o.awaits_creation())
    }
}

pub(super) struct State {
    pub(super) config: ClientConfig,
    pub(super) vault: Vault,
    pub(super) rng: ChaCha20Rng,
    pub(super) rooms: BTreeMap<RoomId, Room>,
    pub(super) conns: Vec<Connection>,
    next_conn: u64,
    pub(super) events: VecDeque<ClientEvent>,
    pub(super) actions: VecDeque<Transmit>,
    /// The newest save generation the app confirmed as written.
    pub(super) saved: u64,
    pub(super) next_local_id: u64,
    pub(super) tokens: BTreeMap<RelayAddress, Zeroizing<[u8; 32]>>,
    /// The last time the app gave (ms), for the manual clock.
    pub(super) last_now_ms: u64,
}

impl State {
    pub(super) fn new(config: ClientConfig, vault: Vault, rng: ChaCha20Rng, saved: u64) -> Self {
        Self {
            config,
            vault,
            rng,
            rooms: BTreeMap::new(),
            conns: Vec::new(),
            next_conn: 1,
            events: VecDeque::new(),
            actions: VecDeque::new(),
            saved,
            next_local_id: 1,
            tokens: BTreeMap::new(),
            last_now_ms: 0,
        }
    }

    pub(super) fn now_ms(&self) -> u64 {
        match self.config.clock {
            super::Clock::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            super::Clock::Manual => self.last_now_ms,
        }
    }

    pub(super) fn set_now(&mut self, now_ms: u64) {
        self.last_now_ms = self.last_now_ms.max(now_ms);
    }

    fn conn_key(&self, room: &RoomId, relay: &RelayAddress) -> ConnKey {
        ConnKey { relay: relay.clone(), room: self.config.connection_per_room.then_some(*room) }
    }

    fn conn_index(&self, key: &ConnKey) -> Option<usize> {
        self.conns.iter().position(|c| &c.key == key)
    }

    fn conn_of_room(&self, room: &RoomId) -> Option<usize> {
        self.conns.iter().position(|c| c.rooms.contains(room))
    }

    pub(super) fn conn_by_id(&self, id: u64) -> Option<usize> {
        (id != 0).then(|| self.conns.iter().position(|c| c.id == id)).flatten()
    }

    /// Adds a room (new, joined or loaded) and puts it on its connection: at once when that
    /// connection's link is up (the relay's challenge is fed to it), else when it comes up.
    pub(super) fn attach(&mut self, id: RoomId, party: Party, relay: RelayAddress, now: u64) -> Result<(), Error> {
        let room = Room {
            party,
            relay: relay.clone(),
            messages: BTreeMap::new(),
            sending: None,
            held: VecDeque::new(),
            authenticated: false,
            ack_due: false,
            met_link: false,
        };
        let live = room.is_live();
        self.rooms.insert(id, room);
        if !live {
            return Ok(());
        }
        let key = self.conn_key(&id, &relay);
        let ci = match self.conn_index(&key) {
            Some(i) => i,
            None => {
                self.conns.push(Connection::new(key, self.config.reconnect_initial_ms));
                self.conns.len() - 1
            }
        };
        let Some(conn) = self.conns.get_mut(ci) else { return Ok(()) };
        conn.rooms.push(id);
        if let Link::Up { transport, .. } = &conn.link {
            let (binding, challenge) = (transport.channel_binding(), conn.challenge.clone());
            self.link_up(ci, id, binding);
            if let Some(challenge) = challenge {
                self.offer_challenge(ci, &[id], &challenge, now)?;
            }
        }
        Ok(())
    }

    /// Attaches room `id` as the vault holds it.
    pub(super) fn load(&mut self, id: RoomId, now: u64) -> Result<(), Error> {
        let entry = self.vault.room(&id)?.ok_or(Error::Vault(crate::vault::VaultError::NoSuchRoom))?;
        let party = match entry.kind {
            RoomKind::Owner => Party::Owner(Box::new(zfc_core::Owner::unpickle(&entry.pickle)?)),
            RoomKind::Member => Party::Member(Box::new(zfc_core::Member::unpickle(&entry.pickle)?)),
        };
        self.attach(id, party, entry.relay, now)
    }

    /// Undoes [`Self::attach`] of a room whose first call failed: nothing of it stays.
    pub(super) fn forget(&mut self, id: &RoomId) {
        self.rooms.remove(id);
        self.detach(id);
        let _ = self.vault.remove_room(id);
    }

    /// Takes a room off its connection (closing the connection when it carried no other).
    pub(super) fn detach(&mut self, id: &RoomId) {
        if let Some(ci) = self.conn_of_room(id) {
            let Some(conn) = self.conns.get_mut(ci) else { return };
            conn.rooms.retain(|r| r != id);
            if conn.rooms.is_empty() {
                if conn.id != 0 {
                    self.actions.push_back(Transmit::Close { conn: conn.id, reason: "no room left".into() });
                }
                self.conns.remove(ci);
            }
        }
    }

    /// The generation the next save will have, when the state has changes not yet saved.
    /// The save that holds the state as it is now: the next one when there are changes not yet
    /// sealed, else the last one handed out (which the app may not have confirmed yet).
    fn pending_generation(&self) -> Result<u64, Error> {
        let sealed = self.vault.generation()?;
        Ok(if self.vault.has_unsaved_changes()? { sealed + 1 } else { sealed })
    }

    /// Puts the room's state in the vault and turns the output into queued records and events.
    pub(super) fn apply(&mut self, id: RoomId, out: Output, now: u64) -> Result<(), Error> {
        let Some(room) = self.rooms.get(&id) else { return Ok(()) };
        self.vault.put_room(&id, room.kind(), &room.relay, &room.party.pickle())?;
        // What spends state, every operation (a resent commit or join step is only as safe as
        // the save that holds it: it may have been made while no save was confirmed) and every
        // acknowledgement wait for the save of the state as it is now.
        let pending = self.pending_generation()?;
        let must_save = out.must_save();
        let ci = self.conn_of_room(&id);
        let Output { to_relay, events } = out;
        for req in to_relay {
            let waits = must_save || matches!(req.kind, RequestKind::Ack | RequestKind::Operation(_));
            self.route_request(ci, id, req, if waits { pending } else { 0 });
        }
        for e in events {
            self.room_event(id, e, now)?;
        }
        Ok(())
    }

    /// Queues one request of a room on its connection, holds it for the room's authentication,
    /// or drops it when zfc-core sends it again by itself on the next connection.
    fn route_request(&mut self, ci: Option<usize>, id: RoomId, req: zfc_core::Request, needs: u64) {
        let Some(room) = self.rooms.get_mut(&id) else { return };
        if req.kind == RequestKind::Message
            && let (Some(sent), Some(req_id)) = (room.sending.take(), req.req_id)
        {
            let bytes = Zeroizing::new(req.bytes.clone());
            let id = message_id(&bytes);
            let m = MessageInFlight { local_id: sent.local_id, bytes, needs, sent, id, resent: false };
            room.messages.insert(req_id, m);
        }
        let conn = ci.and_then(|i| self.conns.get_mut(i)).filter(|c| c.is_up());
        match (req.kind, conn) {
            (RequestKind::Message | RequestKind::Fetch, Some(conn)) if room.authenticated => {
                enqueue(conn, id, req, needs);
            }
            (RequestKind::Message | RequestKind::Fetch, _) => room.held.push_back((req, needs)),
            (RequestKind::Ack, Some(conn)) if room.authenticated => enqueue(conn, id, req, needs),
            (RequestKind::Ack, _) => {}
            (_, Some(conn)) => enqueue(conn, id, req, needs),
            // An operation handed out before the party's first link is sent on that link (it
            // counts as sent there); a later one without a link the party resends by itself
            // once connected. An ack without an authenticated link is covered by the next one.
            (_, None) if !room.met_link => room.held.push_back((req, needs)),
            (_, None) => {}
        }
    }

    fn room_event(&mut self, id: RoomId, e: Event, now: u64) -> Result<(), Error> {
        let Some(room) = self.rooms.get_mut(&id) else { return Ok(()) };
        match &e {
            Event::Accepted { req_id, seq } => {
                if let Some(MessageInFlight { local_id, .. }) = room.messages.remove(req_id) {
                    let position = u64::from(*seq);
                    self.events.push_back(ClientEvent::MessageSent { room: id.to_vec(), local_id, position });
                }
                return Ok(());
            }
            Event::Rejected { req_id, reason } => {
                if let Some(m) = room.messages.remove(req_id) {
                    // A copy sent again after a lost answer, refused as a repeat: the first
                    // landed (its place in the log is no longer known here).
                    if m.resent && *reason == Reject::Replay {
                        let (room, local_id) = (id.to_vec(), m.local_id);
                        self.events.push_back(ClientEvent::MessageSent { room, local_id, position: 0 });
                        return Ok(());
                    }
                    // Sealed in an epoch the relay has closed since (a removal we had not read
                    // when sending; we have by now, the relay delivers in order): seal again.
                    let closed = *reason == Reject::EpochClosed;
                    if closed && m.sent.seals < MAX_SEALS && room.epoch() != m.sent.epoch {
                        let again = Sending { epoch: room.epoch(), seals: m.sent.seals + 1, ..m.sent };
                        if let Ok(out) = room.party.send(&again.envelope, &mut self.rng) {
                            room.sending = Some(again);
                            return self.apply(id, out, now);
                        }
                    }
                    let code = event::relay_code(reason.code());
                    self.events.push_back(ClientEvent::MessageRefused {
                        room: id.to_vec(),
                        local_id: m.local_id,
                        code,
                    });
                }
                return Ok(());
            }
            // Our own message back from the log settles it, whatever became of its answer (a
            // copy sent again after a lost answer is then refused, and that refusal ignored).
            Event::Message(m) if Some(m.sender) == room.me() => {
                let mine = room.messages.iter().find(|(_, f)| f.id == Some((m.epoch, m.seq))).map(|(r, _)| *r);
                if let Some(f) = mine.and_then(|r| room.messages.remove(&r)) {
                    let position = m.relay_seq.get();
                    self.events.push_back(ClientEvent::MessageSent {
                        room: id.to_vec(),
                        local_id: f.local_id,
                        position,
                    });
                }
            }
            Event::RemovedFromRoom | Event::RoomDeleted => {
                if let Some(ci) = self.conn_of_room(&id) {
                    // The relay drops the room's subscription; nothing more to say on it.
                    if let Some(conn) = self.conns.get_mut(ci) {
                        conn.waiting_admit.retain(|r| r != &id);
                    }
                }
            }
            _ => {}
        }
        if let Some(ev) = event::from_core(&id, e) {
            self.events.push_back(ev);
        }
        Ok(())
    }

    // ---- sockets ----

    /// Dials every idle connection that is due and carries a live room.
    pub(super) fn dial_due(&mut self, now: u64) {
        for conn in &mut self.conns {
            if let Link::Idle { retry_at } = conn.link
                && retry_at <= now
                && !conn.rooms.is_empty()
            {
                conn.id = self.next_conn;
                self.next_conn += 1;
                conn.link = Link::Dialing { since: now };
                self.actions.push_back(Transmit::Connect { conn: conn.id, url: conn.key.relay.url().to_owned() });
            }
        }
    }

    /// The app's socket `conn` opened: handshake 1 leaves.
    pub(super) fn connected(&mut self, ci: usize, now: u64) -> Result<(), Error> {
        let Some(conn) = self.conns.get_mut(ci) else { return Ok(()) };
        if !matches!(conn.link, Link::Dialing { .. }) {
            return Err(Error::Core(zfc_core::Error::InvalidArgument("the connection is not being dialled")));
        }
        let (hs, hello) = ClientHandshake::start(&conn.key.relay.public_key(), &mut self.rng)
            .map_err(|e| Error::Core(zfc_core::Error::Link(e)))?;
        conn.link = Link::Handshaking { hs: Box::new(hs), since: now };
        self.actions.push_back(Transmit::Send { conn: conn.id, bytes: hello });
        Ok(())
    }

    /// Drops socket `ci` (the app closed it, or we did), and says so.
    pub(super) fn lose(&mut self, ci: usize, reason: &str, close: bool, now: u64) {
        let max = self.config.reconnect_max_ms;
        let Some(conn) = self.conns.get_mut(ci) else { return };
        let old = conn.id;
        if old == 0 {
            return;
        }
        if close {
            self.actions.push_back(Transmit::Close { conn: old, reason: reason.to_owned() });
        }
        // Our messages whose answers were lost go again on the next socket (same bytes: no new
        // frame is signed, so nothing is spent twice); the relay refuses one it already holds.
        let lost: Vec<(RoomId, u32)> = conn
            .routes
            .iter()
            .flat_map(|(id, routes)| routes.iter().filter(|r| r.kind == RequestKind::Message).map(|r| (r.room, *id)))
            .collect();
        let rooms = conn.rooms.clone();
        let retry_in_ms = conn.drop_socket(now, max);
        let relay = conn.key.relay.url().to_owned();
        for id in rooms {
            if let Some(r) = self.rooms.get_mut(&id) {
                r.authenticated = false;
                // Operations held for a first link that was lost: the party counts them as
                // sent on it and sends them again on the next one by itself.
                if r.met_link {
                    r.held.retain(|(req, _)| matches!(req.kind, RequestKind::Message | RequestKind::Fetch));
                }
            }
        }
        for (id, req_id) in lost.into_iter().rev() {
            if let Some(r) = self.rooms.get_mut(&id)
                && let Some(m) = r.messages.get_mut(&req_id)
            {
                m.resent = true;
                let req = zfc_core::Request {
                    kind: RequestKind::Message,
                    req_id: Some(req_id),
                    spends: false,
                    bytes: m.bytes.to_vec(),
                };
                r.held.push_front((req, m.needs));
            }
        }
        self.events.push_back(ClientEvent::Disconnected { relay, conn: old, reason: reason.to_owned(), retry_in_ms });
    }

    /// Bytes from socket `ci`: the relay's handshake answer, or a link record.
    pub(super) fn receive(&mut self, ci: usize, bytes: &[u8], now: u64) -> Result<(), Error> {
        let Some(conn) = self.conns.get_mut(ci) else { return Ok(()) };
        match &mut conn.link {
            Link::Idle { .. } | Link::Dialing { .. } => {
                self.lose(ci, "bytes before the link handshake", true, now);
                Ok(())
            }
            Link::Handshaking { .. } => {
                let Link::Handshaking { hs, .. } = core::mem::replace(&mut conn.link, Link::Idle { retry_at: 0 })
                else {
                    return Ok(());
                };
                match hs.finish(bytes) {
                    Ok(transport) => {
                        let binding = transport.channel_binding();
                        conn.link = Link::Up { transport: Box::new(transport), since: now };
                        let (relay, id, rooms) = (conn.key.relay.url().to_owned(), conn.id, conn.rooms.clone());
                        self.events.push_back(ClientEvent::Connected { relay, conn: id });
                        for r in rooms {
                            self.link_up(ci, r, binding);
                        }
                        Ok(())
                    }
                    Err(e) => {
                        conn.link = Link::Dialing { since: now };
                        self.lose(ci, &format!("link handshake: {e}"), true, now);
                        Ok(())
                    }
                }
            }
            Link::Up { transport, .. } => match transport.open(bytes) {
                Ok(plain) => self.relay_message(ci, &plain, now),
                Err(e) => {
                    self.lose(ci, &format!("link: {e}"), true, now);
                    Ok(())
                }
            },
        }
    }

    /// One relay message on socket `ci`, to the room(s) it concerns.
    fn relay_message(&mut self, ci: usize, plain: &[u8], now: u64) -> Result<(), Error> {
        let msg = match RelayMessage::decode(plain) {
            Ok(m) => m,
            Err(e) => {
                self.lose(ci, &format!("relay message: {e}"), true, now);
                return Ok(());
            }
        };
        let Some(conn) = self.conns.get_mut(ci) else { return Ok(()) };
        match msg {
            RelayMessage::Challenge { .. } => {
                if conn.challenge.is_some() {
                    // One challenge per connection (spec §6.2): another would make every room
                    // authenticate again, without bound.
                    self.lose(ci, "a second challenge on one connection", true, now);
                    return Ok(());
                }
                conn.challenge = Some(plain.to_vec());
                conn.keepalive_at = (self.config.keepalive_interval_ms > 0)
                    .then(|| now.saturating_add(self.config.keepalive_interval_ms));
                let rooms = conn.rooms.clone();
                self.offer_challenge(ci, &rooms, plain, now)
            }
            RelayMessage::Accepted { req_id, .. } | RelayMessage::Rejected { req_id, .. }
                if conn.own.contains_key(&req_id) =>
            {
                let accepted = matches!(msg, RelayMessage::Accepted { .. });
                self.own_answer(ci, req_id, accepted, now)
            }
            RelayMessage::FetchDone { req_id, .. } if conn.own.contains_key(&req_id) => {
                self.own_answer(ci, req_id, true, now)
            }
            RelayMessage::Accepted { req_id, .. }
            | RelayMessage::Rejected { req_id, .. }
            | RelayMessage::FetchDone { req_id, .. } => {
                let Some(route) = conn.take_route(req_id) else { return Ok(()) };
                if let RelayMessage::Rejected { code, .. } = msg
                    && route.kind == RequestKind::Operation(zfc_core::Operation::CreateRoom)
                    && code == Reject::CreationRestricted.code()
                    && self.tokens.contains_key(&conn.key.relay)
                {
                    // With a token configured the refusal is not final: the CreateRoom stays in
                    // flight and goes again, after Admit, on the next socket, after a backoff
                    // that keeps growing (it is not reset: nothing was accepted).
                    if !conn.admit_refused {
                        let relay = conn.key.relay.url().to_owned();
                        self.events.push_back(ClientEvent::AdmissionRefused { relay, code: event::relay_code(code) });
                    }
                    self.lose(ci, "room creation restricted: admission token refused", true, now);
                    return Ok(());
                }
                conn.backoff_ms = self.config.reconnect_initial_ms;
                if route.kind == RequestKind::Authenticate
                    && let Some(room) = self.rooms.get_mut(&route.room)
                {
                    room.authenticated = matches!(msg, RelayMessage::Accepted { .. });
                }
                self.feed(ci, route.room, plain, now)?;
                if route.kind == RequestKind::Authenticate {
                    self.release_held(route.room);
                }
                Ok(())
            }
            RelayMessage::Deliver { room_id, .. } => {
                if !conn.rooms.contains(&room_id) {
                    return Ok(());
                }
                // Every log entry read (a message, a commit, a key update) is acknowledged, so
                // the relay's retention is not pinned until the next message.
                if let Some(room) = self.rooms.get_mut(&room_id) {
                    room.ack_due = true;
                }
                self.feed(ci, room_id, plain, now)
            }
            RelayMessage::Direct { room_id, .. } => {
                if conn.rooms.contains(&room_id) {
                    self.feed(ci, room_id, plain, now)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Hands a relay message from socket `ci` to a room's party and applies what it answers. A
    /// message the party refuses outright (a relay that skips or repeats log positions, or
    /// misbehaves otherwise) changes nothing, is reported, and drops the socket: on the next
    /// one the party resumes from its own position (spec §6.6).
    fn feed(&mut self, ci: usize, id: RoomId, plain: &[u8], now: u64) -> Result<(), Error> {
        let Some(room) = self.rooms.get_mut(&id) else { return Ok(()) };
        match room.party.handle(plain, now / 1000, &mut self.rng) {
            Ok(out) => self.apply(id, out, now),
            Err(error) => {
                let code = zfc_core::ErrorCode::error_code(&error);
                let detail = error.to_string();
                self.events.push_back(ClientEvent::FrameRejected {
                    room: id.to_vec(),
                    position: 0,
                    code,
                    detail: detail.clone(),
                });
                self.lose(ci, &format!("the relay sent what the room refuses: {detail}"), true, now);
                Ok(())
            }
        }
    }

    /// Gives the socket's challenge to `rooms`; rooms that wait to create on a relay where we
    /// hold an admission token get it once our Admit is answered.
    fn offer_challenge(&mut self, ci: usize, rooms: &[RoomId], challenge: &[u8], now: u64) -> Result<(), Error> {
        for id in rooms {
            if !self.wait_for_admit(ci, *id) {
                self.feed(ci, *id, challenge, now)?;
            }
        }
        Ok(())
    }

    /// The relay answered one of our own requests.
    fn own_answer(&mut self, ci: usize, req_id: u32, accepted: bool, now: u64) -> Result<(), Error> {
        let Some(conn) = self.conns.get_mut(ci) else { return Ok(()) };
        match conn.own.remove(&req_id) {
            Some(Own::Admit) => {
                conn.admitted = accepted;
                conn.admit_refused = !accepted;
                if !accepted {
                    let relay = conn.key.relay.url().to_owned();
                    let code = event::relay_code(Reject::CreationRestricted.code());
                    self.events.push_back(ClientEvent::AdmissionRefused { relay, code });
                }
                // The waiting rooms go on either way: where creation is open a refused token
                // does not matter, and where it is restricted the CreateRoom's refusal is
                // caught and retried (see relay_message).
                let waiting = core::mem::take(&mut conn.waiting_admit);
                let challenge = conn.challenge.clone();
                for id in waiting {
                    self.release_before_auth(ci, id);
                    if let Some(challenge) = &challenge {
                        self.feed(ci, id, challenge, now)?;
                    }
                }
                Ok(())
            }
            Some(Own::KeepAlive) | None => {
                conn.backoff_ms = self.config.reconnect_initial_ms;
                Ok(())
            }
        }
    }

    /// Room `id` meets the link of connection `ci`. On the party's first link, what it handed
    /// out before (a CreateRoom, a JoinRequest: the requests that go before authentication)
    /// leaves now, ahead of the answer to the challenge, or after our Admit's answer where we
    /// hold an admission token; its other operations wait for the authentication.
    fn link_up(&mut self, ci: usize, id: RoomId, binding: zfc_core::ChannelBinding) {
        let Some(room) = self.rooms.get_mut(&id) else { return };
        room.party.on_connected(binding);
        if !core::mem::replace(&mut room.met_link, true) && !self.wait_for_admit(ci, id) {
            self.release_before_auth(ci, id);
        }
    }

    /// Whether room `id` must wait for an Admit's answer on connection `ci` (it awaits its
    /// creation, we hold a token for the relay, the socket is not admitted yet); if so the room
    /// is put to wait and the Admit is queued (once per socket).
    fn wait_for_admit(&mut self, ci: usize, id: RoomId) -> bool {
        let Some(conn) = self.conns.get_mut(ci) else { return false };
        let Some(token) = self.tokens.get(&conn.key.relay) else { return false };
        if conn.admitted || !self.rooms.get(&id).is_some_and(Room::awaits_creation) {
            return false;
        }
        if !conn.waiting_admit.contains(&id) {
            conn.waiting_admit.push(id);
        }
        if !conn.own.values().any(|o| *o == Own::Admit) {
            let req_id = conn.own_request(Own::Admit);
            let bytes = ClientRequest::Admit { req_id, token: **token }.encode();
            conn.own_queue.push_back(Zeroizing::new(bytes));
        }
        true
    }

    /// Queues the room's held CreateRoom or JoinRequest (held for its first link).
    fn release_before_auth(&mut self, ci: usize, id: RoomId) {
        let Some(room) = self.rooms.get_mut(&id) else { return };
        let Some(conn) = self.conns.get_mut(ci) else { return };
        let (first, rest): (VecDeque<_>, VecDeque<_>) = room.held.drain(..).partition(|(req, _)| {
            matches!(
                req.kind,
                RequestKind::Operation(zfc_core::Operation::CreateRoom | zfc_core::Operation::JoinRequest)
            )
        });
        room.held = rest;
        for (req, needs) in first {
            enqueue(conn, id, req, needs);
        }
    }

    /// The room's authentication was accepted: its held messages and fetches leave.
    fn release_held(&mut self, id: RoomId) {
        let Some(room) = self.rooms.get_mut(&id) else { return };
        if !room.authenticated {
            return;
        }
        let held: Vec<_> = room.held.drain(..).collect();
        let Some(conn) = self.conn_of_room(&id).and_then(|ci| self.conns.get_mut(ci)) else { return };
        for (req, needs) in held {
            enqueue(conn, id, req, needs);
        }
    }

    // ---- timers ----

    pub(super) fn next_timeout(&self) -> Option<u64> {
        let timeout = self.config.connect_timeout_ms;
        self.conns
            .iter()
            .filter_map(|c| match &c.link {
                Link::Idle { retry_at } => (!c.rooms.is_empty()).then_some(*retry_at),
                Link::Dialing { since } | Link::Handshaking { since, .. } => Some(since.saturating_add(timeout)),
                // Until the challenge, the connect timeout; then the keep-alive.
                Link::Up { since, .. } if c.challenge.is_none() => Some(since.saturating_add(timeout)),
                Link::Up { .. } => c.keepalive_at,
            })
            .min()
    }

    pub(super) fn timeout(&mut self, now: u64) {
        let timeout = self.config.connect_timeout_ms;
        let interval = self.config.keepalive_interval_ms;
        for ci in 0..self.conns.len() {
            let Some(conn) = self.conns.get_mut(ci) else { continue };
            match &conn.link {
                Link::Dialing { since } | Link::Handshaking { since, .. } if since.saturating_add(timeout) <= now => {
                    self.lose(ci, "timed out connecting", true, now);
                }
                Link::Up { since, .. } if conn.challenge.is_none() && since.saturating_add(timeout) <= now => {
                    self.lose(ci, "the relay sent no challenge", true, now);
                }
                Link::Up { .. } if conn.keepalive_at.is_some_and(|t| t <= now) => {
                    if conn.own.values().any(|o| *o == Own::KeepAlive) {
                        // The last keep-alive has had a whole interval: the link is dead.
                        self.lose(ci, "the relay stopped answering", true, now);
                        continue;
                    }
                    let Some(room_id) = conn.rooms.first().copied() else { continue };
                    let req_id = conn.own_request(Own::KeepAlive);
                    // An empty fetch (spec §6.4): answered even when refused, changes nothing.
                    let bytes =
                        ClientRequest::Fetch { req_id, room_id, from: u64::MAX, until: u64::MAX, limit: 0 }.encode();
                    conn.own_queue.push_back(Zeroizing::new(bytes));
                    conn.keepalive_at = Some(now.saturating_add(interval));
                }
                _ => {}
            }
        }
        self.dial_due(now);
    }

    // ---- out ----

    /// The next thing for the app's sockets: actions first, then records whose save is done.
    pub(super) fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(a) = self.actions.pop_front() {
            return Some(a);
        }
        let saved = self.saved;
        for conn in &mut self.conns {
            let Link::Up { transport, .. } = &mut conn.link else { continue };
            // The client's own requests (Admit, keep-alive) spend nothing: they never wait for
            // a save, and Admit must precede the CreateRoom it admits (which is held until then).
            let next = match conn.own_queue.pop_front() {
                Some(own) => Some(own),
                None if conn.queue.front().is_some_and(|q| q.needs_generation <= saved) => {
                    conn.queue.pop_front().map(|q| q.bytes)
                }
                None => None,
            };
            if let Some(bytes) = next {
                match transport.seal(&bytes) {
                    Ok(bytes) => return Some(Transmit::Send { conn: conn.id, bytes }),
                    // Only a counter run out (2^64 records) fails: drop the socket.
                    Err(_) => return Some(Transmit::Close { conn: conn.id, reason: "link counter exhausted".into() }),
                }
            }
        }
        None
    }

    /// Records held for a save: whether any connection waits for one.
    pub(super) fn waits_for_save(&self) -> bool {
        self.conns.iter().any(|c| c.queue.front().is_some_and(|q| q.needs_generation > self.saved))
    }

    /// Acknowledgements of what was read since the last ones, queued to wait for the save that
    /// holds the state that read it.
    pub(super) fn queue_acks(&mut self, generation: u64) {
        let due: Vec<RoomId> =
            self.rooms.iter().filter(|(_, r)| r.ack_due && r.authenticated).map(|(id, _)| *id).collect();
        for id in due {
            let Some(room) = self.rooms.get_mut(&id) else { continue };
            room.ack_due = false;
            let out = room.party.ack();
            let ci = self.conn_of_room(&id);
            for req in out.to_relay {
                self.route_request(ci, id, req, generation);
            }
        }
    }
}

fn enqueue(conn: &mut Connection, id: RoomId, req: zfc_core::Request, needs: u64) {
    if let Some(req_id) = req.req_id {
        conn.add_route(req_id, Route { room: id, kind: req.kind });
    }
    conn.queue.push_back(Queued { bytes: Zeroizing::new(req.bytes), needs_generation: needs });
}
