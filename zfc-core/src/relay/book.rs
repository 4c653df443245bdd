//! The rule book: connections, authentication, and the dispatch of every request to the room's
//! checks; ordering, fan-out, offline queues and history.
//!
//! Invariants: a connection reads a room's log or directed frames only for a key it proved on
//! that very connection; every accepted log entry gets the next sequence number of its room and
//! goes to every connection subscribed as an active member; a refused request changes nothing.

use std::collections::{BTreeMap, VecDeque};

use rand_core::CryptoRng;

use crate::crypto;
use crate::epoch;
use crate::error::DecodeError;
use crate::frame::{Frame, MemberNo, OWNER_MEMBER, RoomId, Signed};
use crate::keys::ChannelBinding;
use crate::ledger::JoinStage;
use crate::relay::Reject;
use crate::relay::journal::JournalEntry;
use crate::relay::proto::{ClientRequest, RelayMessage, verify_auth};
use crate::relay::record::RoomRecord;
use crate::room::room_id_for;

/// Directed frames per (room, recipient key), each with its queue id.
type DirectQueues = BTreeMap<(RoomId, [u8; 32]), VecDeque<(u64, Vec<u8>)>>;

/// How a frame reaches [`RuleBook::submit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// From a connection, which may or may not create rooms.
    Live { admitted: bool },
    /// From the journal: it was accepted once, so the limits of the day it came are not asked
    /// again (a relay restarted with smaller limits must still start).
    Replay,
}

impl Mode {
    fn limit(self, n: usize) -> usize {
        if self == Self::Replay { usize::MAX } else { n }
    }
}

/// The I/O layer's name for a connection.
pub type ConnId = u64;

/// Bytes for one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The connection.
    pub conn: ConnId,
    /// An encoded [`RelayMessage`].
    pub bytes: Vec<u8>,
}

/// Limits of the rule book.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Join requests an invite may have pending at once.
    pub max_pending_joins_per_invite: usize,
    /// Log entries kept per room (history retention); the oldest go first.
    pub max_log_per_room: usize,
    /// Directed frames queued per recipient.
    pub max_direct_queue: usize,
    /// Largest history fetch answered at once, in entries.
    pub max_fetch: u32,
    /// Largest history fetch answered at once, in frame bytes (at least one entry is sent).
    pub max_fetch_bytes: usize,
    /// Whether anyone may create rooms; when not, only connections that presented one of
    /// [`Self::admission_tokens`].
    pub open_room_creation: bool,
    /// SHA-256 hashes of the operator's admission tokens (see [`admission_hash`]).
    pub admission_tokens: Vec<[u8; 32]>,
}

/// What the relay keeps of an operator-issued admission token: its hash, so that the relay's
/// configuration does not hold the tokens themselves.
pub fn admission_hash(token: &[u8; 32]) -> [u8; 32] {
    crypto::hash("zfc v1 admission", &[token.as_slice()])
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            max_pending_joins_per_invite: 4,
            max_log_per_room: 100_000,
            max_direct_queue: 1024,
            max_fetch: 1000,
            max_fetch_bytes: 8 * 1024 * 1024,
            open_room_creation: true,
            admission_tokens: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Owner,
    Member(MemberNo),
    Joiner,
}

#[derive(Debug)]
struct Conn {
    challenge: [u8; 32],
    channel_binding: [u8; 32],
    subs: Vec<(RoomId, [u8; 32], Role)>,
    admitted: bool,
}

/// The relay's state machine: rooms, rosters, invites, logs, queues and connections.
#[derive(Debug, Default)]
pub struct RuleBook {
    config: RelayConfig,
    rooms: BTreeMap<RoomId, RoomRecord>,
    /// Directed frames per (room, recipient key): (id, frame).
    direct: DirectQueues,
    next_direct: u64,
    conns: BTreeMap<ConnId, Conn>,
}

impl RuleBook {
    /// An empty relay.
    pub fn new(config: RelayConfig) -> Self {
        Self { config, ..Self::default() }
    }

    /// A connection's link is up; `channel_binding` is its handshake hash. Returns the challenge.
    pub fn connect(
        &mut self,
        conn: ConnId,
        channel_binding: ChannelBinding,
        rng: &mut impl CryptoRng,
    ) -> Vec<Outgoing> {
        let channel_binding = channel_binding.to_bytes();
        let mut challenge = [0u8; 32];
        rng.fill_bytes(&mut challenge);
        self.conns.insert(conn, Conn { challenge, channel_binding, subs: Vec::new(), admitted: false });
        vec![Outgoing { conn, bytes: RelayMessage::Challenge { nonce: challenge }.encode() }]
    }

    /// A connection closed.
    pub fn disconnect(&mut self, conn: ConnId) {
        self.conns.remove(&conn);
    }

    /// The log position the next accepted frame of `room` will get (for tests and storage).
    pub fn next_seq(&self, room: &RoomId) -> Option<u64> {
        self.rooms.get(room).map(|r| r.next_seq)
    }

    /// Subscriptions held over all connections (tests check that removals drop them).
    #[cfg(test)]
    pub(crate) fn subscription_count(&self) -> usize {
        self.conns.values().map(|c| c.subs.len()).sum()
    }

    /// Number of members (owner included) the relay holds for `room`.
    pub fn member_count(&self, room: &RoomId) -> Option<usize> {
        self.rooms.get(room).map(|r| r.members.len())
    }

    /// Handles one request from `conn`. An `Err` means the bytes are not a request at all: the
    /// I/O layer should close that connection. Refusals of well-formed requests are answered
    /// with `Rejected` in the returned messages.
    ///
    /// # Errors
    /// [`Reject::NotAuthenticated`] for an unknown connection, [`Reject::TooLarge`] or
    /// [`Reject::Malformed`] for bytes that are no request: close that connection (spec §6.3).
    pub fn handle(&mut self, conn: ConnId, bytes: &[u8], now: u64) -> Result<Vec<Outgoing>, Reject> {
        self.handle_durable(conn, bytes, now).map(|(out, _)| out)
    }

    /// [`Self::handle`], also returning the change to durable state the request made, if any.
    /// A relay that persists writes the entry durably before it sends any of the messages: an
    /// acknowledged frame then survives a crash, and [`Self::replay`] rebuilds the state.
    ///
    /// # Errors
    /// As [`Self::handle`].
    pub fn handle_durable(
        &mut self,
        conn: ConnId,
        bytes: &[u8],
        now: u64,
    ) -> Result<(Vec<Outgoing>, Option<JournalEntry>), Reject> {
        let Some(c) = self.conns.get(&conn) else {
            return Err(Reject::NotAuthenticated);
        };
        let admitted = self.config.open_room_creation || c.admitted;
        let req = ClientRequest::decode(bytes).map_err(|e| match e {
            DecodeError::TooLong { .. } => Reject::TooLarge,
            _ => Reject::Malformed,
        })?;
        let mut out = Vec::new();
        let mut journal = None;
        match req {
            ClientRequest::Authenticate { req_id, room_id, identity, resume_from, sig } => {
                match self.authenticate(conn, room_id, identity, resume_from, &sig, &mut out) {
                    Ok(()) => out.insert(0, reply(conn, RelayMessage::Accepted { req_id, seq: 0 })),
                    Err(r) => out.push(reply(conn, RelayMessage::Rejected { req_id, code: r.code() })),
                }
            }
            ClientRequest::Submit { req_id, frame } => {
                match self.submit(&frame, now, Mode::Live { admitted }, &mut out) {
                    Ok(seq) => {
                        out.insert(0, reply(conn, RelayMessage::Accepted { req_id, seq }));
                        journal = Some(JournalEntry::Submitted { now, frame });
                    }
                    Err(r) => out.push(reply(conn, RelayMessage::Rejected { req_id, code: r.code() })),
                }
            }
            ClientRequest::Admit { req_id, token } => {
                let hash = admission_hash(&token);
                let known = self.config.admission_tokens.iter().fold(false, |k, t| k | crypto::ct_eq(t, &hash));
                if let (true, Some(c)) = (known, self.conns.get_mut(&conn)) {
                    c.admitted = true;
                    out.push(reply(conn, RelayMessage::Accepted { req_id, seq: 0 }));
                } else {
                    out.push(reply(conn, RelayMessage::Rejected { req_id, code: Reject::CreationRestricted.code() }));
                }
            }
            ClientRequest::Fetch { req_id, room_id, from, until, limit } => {
                if let Err(r) = self.fetch(conn, req_id, room_id, from, until, limit, &mut out) {
                    out.push(reply(conn, RelayMessage::Rejected { req_id, code: r.code() }));
                }
            }
            ClientRequest::Ack { room_id, seq } => journal = self.ack(conn, room_id, seq),
            ClientRequest::AckDirect { room_id, id } => journal = self.ack_direct(conn, room_id, id),
        }
        Ok((out, journal))
    }

    /// Replays a journal's entries in order, as a relay does on start ([`Self::replay`] each).
    /// Returns how many replayed, or the position (from 1) and refusal of the first that did not;
    /// the caller then discards this rule book.
    ///
    /// # Errors
    /// The position (from 1) and the refusal of the first entry that does not replay.
    pub fn replay_all<'a>(
        &mut self,
        entries: impl IntoIterator<Item = &'a JournalEntry>,
    ) -> Result<usize, (usize, Reject)> {
        let mut n = 0;
        for e in entries {
            n += 1;
            self.replay(e).map_err(|reject| (n, reject))?;
        }
        Ok(n)
    }

    /// Applies one entry of a journal that [`Self::handle_durable`] returned, on a rule book
    /// built with the same configuration, entries in their order. Frames are checked again (with
    /// the clock they were accepted with); an `Err` means the journal does not belong to this
    /// rule book's history and nothing changed.
    ///
    /// # Errors
    /// The refusal of an entry that does not replay on this rule book; nothing changed.
    pub fn replay(&mut self, entry: &JournalEntry) -> Result<(), Reject> {
        match entry {
            JournalEntry::Submitted { now, frame } => {
                self.submit(frame, *now, Mode::Replay, &mut Vec::new()).map(|_| ())
            }
            JournalEntry::Acked { room_id, member, seq } => {
                let room = self.room_mut(room_id)?;
                if !room.members.contains_key(member) {
                    return Err(Reject::NotMember);
                }
                room.advance_cursor(*member, *seq);
                Ok(())
            }
            JournalEntry::AckedDirect { room_id, id } => {
                self.drop_direct(*room_id, *id, |_| true);
                Ok(())
            }
        }
    }

    fn role_of(room: &RoomRecord, room_id: &RoomId, identity: &[u8; 32], direct: &DirectQueues) -> Option<Role> {
        if identity == &room.owner_sign_pk {
            return Some(Role::Owner);
        }
        if let Some(m) = room.member_by_key(identity) {
            return Some(Role::Member(m));
        }
        if room.ledger.join(identity).is_some() || direct.contains_key(&(*room_id, *identity)) {
            return Some(Role::Joiner);
        }
        None
    }

    fn authenticate(
        &mut self,
        conn: ConnId,
        room_id: RoomId,
        identity: [u8; 32],
        resume_from: u64,
        sig: &[u8; 64],
        out: &mut Vec<Outgoing>,
    ) -> Result<(), Reject> {
        let c = self.conns.get(&conn).ok_or(Reject::NotAuthenticated)?;
        let room = self.rooms.get(&room_id).ok_or(Reject::NoSuchRoom)?;
        if !verify_auth(&c.challenge, &c.channel_binding, &room_id, &identity, resume_from, sig) {
            return Err(Reject::BadSignature);
        }
        if room.deleted {
            // Whoever was in the room learns of the deletion from the owner's own frame.
            if let Some((seq, frame)) = &room.tombstone {
                out.push(reply(conn, RelayMessage::Deliver { room_id, seq: *seq, frame: frame.clone() }));
            }
            return Err(Reject::RoomDeleted);
        }
        if let Some((removed_at, floor)) = room.former.get(&identity) {
            // A removed member catches up to its removal (and no further), then is refused.
            let from = resume_from.max(*floor);
            for (seq, frame) in room.log.iter().filter(|(s, _)| *s >= from && *s <= *removed_at) {
                out.push(reply(conn, RelayMessage::Deliver { room_id, seq: *seq, frame: frame.clone() }));
            }
            return Err(Reject::NotMember);
        }
        let role = Self::role_of(room, &room_id, &identity, &self.direct).ok_or(Reject::NotMember)?;
        if let Some(q) = self.direct.get(&(room_id, identity)) {
            for (id, frame) in q {
                out.push(reply(conn, RelayMessage::Direct { room_id, id: *id, frame: frame.clone() }));
            }
        }
        let member = match role {
            Role::Owner => Some(OWNER_MEMBER),
            Role::Member(m) => Some(m),
            Role::Joiner => None,
        };
        if let Some(m) = member {
            let rec = room.members.get(&m).ok_or(Reject::NotMember)?;
            let from = if resume_from == 0 { rec.cursor } else { resume_from }.max(rec.floor);
            for (seq, frame) in room.log.iter().filter(|(s, _)| *s >= from) {
                out.push(reply(conn, RelayMessage::Deliver { room_id, seq: *seq, frame: frame.clone() }));
            }
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.subs.retain(|(r, id, _)| !(r == &room_id && id == &identity));
            c.subs.push((room_id, identity, role));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn fetch(
        &self,
        conn: ConnId,
        req_id: u32,
        room_id: RoomId,
        from: u64,
        until: u64,
        limit: u32,
        out: &mut Vec<Outgoing>,
    ) -> Result<(), Reject> {
        let room = self.rooms.get(&room_id).ok_or(Reject::NoSuchRoom)?;
        let member = self.subscribed_member(conn, &room_id, room).ok_or(Reject::NotAuthenticated)?;
        let rec = room.members.get(&member).ok_or(Reject::NotMember)?;
        let from = from.max(rec.floor);
        let limit = limit.min(self.config.max_fetch) as usize;
        let mut next = from;
        let mut bytes = 0usize;
        for (seq, frame) in room.log.iter().filter(|(s, _)| *s >= from && *s < until).take(limit) {
            if bytes > 0 && bytes + frame.len() > self.config.max_fetch_bytes {
                break;
            }
            bytes += frame.len();
            out.push(reply(conn, RelayMessage::Deliver { room_id, seq: *seq, frame: frame.clone() }));
            next = seq + 1;
        }
        out.push(reply(conn, RelayMessage::FetchDone { req_id, room_id, next }));
        Ok(())
    }

    fn subscribed_member(&self, conn: ConnId, room_id: &RoomId, room: &RoomRecord) -> Option<MemberNo> {
        let c = self.conns.get(&conn)?;
        c.subs.iter().find_map(|(r, id, role)| {
            if r != room_id {
                return None;
            }
            match role {
                Role::Owner => Some(OWNER_MEMBER),
                Role::Member(m) => room.members.get(m).filter(|rec| &rec.sign_pk == id && !rec.left).map(|_| *m),
                Role::Joiner => None,
            }
        })
    }

    fn ack(&mut self, conn: ConnId, room_id: RoomId, seq: u64) -> Option<JournalEntry> {
        let room = self.rooms.get(&room_id)?;
        let member = self.subscribed_member(conn, &room_id, room)?;
        let cursor = self.rooms.get_mut(&room_id)?.advance_cursor(member, seq)?;
        Some(JournalEntry::Acked { room_id, member, seq: cursor - 1 })
    }

    fn ack_direct(&mut self, conn: ConnId, room_id: RoomId, id: u64) -> Option<JournalEntry> {
        let c = self.conns.get(&conn)?;
        let mine: Vec<[u8; 32]> = c.subs.iter().filter(|(r, _, _)| r == &room_id).map(|(_, i, _)| *i).collect();
        self.drop_direct(room_id, id, |recipient| mine.contains(recipient))
            .then_some(JournalEntry::AckedDirect { room_id, id })
    }

    /// Drops directed frame `id` from the one queue of `room_id` that holds it, if its recipient
    /// passes `may_drop`; an emptied queue goes too (an empty queue would make its key look like
    /// a joiner's). Returns whether a frame was dropped.
    fn drop_direct(&mut self, room_id: RoomId, id: u64, may_drop: impl Fn(&[u8; 32]) -> bool) -> bool {
        let mut emptied = None;
        let mut dropped = false;
        for ((_, recipient), q) in self.direct.range_mut((room_id, [0; 32])..=(room_id, [0xff; 32])) {
            // Queue ids are unique over the relay: at most one queue holds `id`.
            if let Some(pos) = q.iter().position(|(i, _)| *i == id).filter(|_| may_drop(recipient)) {
                q.remove(pos);
                dropped = true;
                if q.is_empty() {
                    emptied = Some(*recipient);
                }
                break;
            }
        }
        if let Some(recipient) = emptied {
            self.direct.remove(&(room_id, recipient));
        }
        dropped
    }

    /// Queues a directed frame for `recipient` and sends it to its connections now.
    fn direct_to(
        &mut self,
        room_id: RoomId,
        recipient: [u8; 32],
        frame: &[u8],
        mode: Mode,
        out: &mut Vec<Outgoing>,
    ) -> Result<(), Reject> {
        // Checked before the entry exists: an empty queue would make its key look like a joiner's.
        let queued = self.direct.get(&(room_id, recipient)).map_or(0, VecDeque::len);
        if queued >= mode.limit(self.config.max_direct_queue) {
            return Err(Reject::QueueFull);
        }
        let q = self.direct.entry((room_id, recipient)).or_default();
        self.next_direct += 1;
        let id = self.next_direct;
        q.push_back((id, frame.to_vec()));
        for (conn, c) in &self.conns {
            if c.subs.iter().any(|(r, i, _)| r == &room_id && i == &recipient) {
                out.push(reply(*conn, RelayMessage::Direct { room_id, id, frame: frame.to_vec() }));
            }
        }
        Ok(())
    }

    /// Appends to the room log and fans the entry out to every subscribed active member.
    fn append(&mut self, room_id: RoomId, frame: &[u8], out: &mut Vec<Outgoing>) -> u64 {
        let Some(room) = self.rooms.get_mut(&room_id) else { return 0 };
        let seq = room.next_seq;
        room.next_seq += 1;
        room.log.push_back((seq, frame.to_vec()));
        // Retention never drops what an active member has not acknowledged: that would strand it
        // behind a gap it cannot repair.
        let unread = room.members.values().filter(|m| !m.left).map(|m| m.cursor).min().unwrap_or(seq);
        while room.log.len() > self.config.max_log_per_room && room.log.front().is_some_and(|(s, _)| *s < unread) {
            room.log.pop_front();
        }
        let room = &*room;
        for (conn, c) in self.conns.iter_mut() {
            // A joiner's subscription becomes a member's once the commit adding it lands.
            for sub in c.subs.iter_mut().filter(|(r, _, _)| r == &room_id) {
                if sub.2 == Role::Joiner
                    && let Some(m) = room.member_by_key(&sub.1)
                {
                    sub.2 = Role::Member(m);
                }
            }
            let reads = c.subs.iter().any(|(r, id, role)| {
                r == &room_id
                    && match role {
                        Role::Owner => true,
                        Role::Member(m) => room.members.get(m).is_some_and(|rec| &rec.sign_pk == id && !rec.left),
                        Role::Joiner => false,
                    }
            });
            if reads {
                out.push(reply(*conn, RelayMessage::Deliver { room_id, seq, frame: frame.to_vec() }));
            }
        }
        seq
    }

    /// Checks a signed frame and applies it; returns its log position (0 if not logged).
    fn submit(&mut self, bytes: &[u8], now: u64, mode: Mode, out: &mut Vec<Outgoing>) -> Result<u64, Reject> {
        let frame = Frame::decode(bytes).map_err(|_| Reject::Malformed)?;
        let room_id = *frame.room_id();
        if let Frame::CreateRoom(f) = &frame {
            if mode == (Mode::Live { admitted: false }) {
                return Err(Reject::CreationRestricted);
            }
            return self.create_room(f, bytes);
        }
        let room = self.rooms.get(&room_id).ok_or(Reject::NoSuchRoom)?;
        if room.deleted {
            return Err(Reject::RoomDeleted);
        }
        match frame {
            Frame::CreateRoom(_) => Err(Reject::RoomExists),
            Frame::RegisterInvite(f) => {
                if !f.verify(&room.owner_sign_pk) {
                    return Err(Reject::BadSignature);
                }
                if room.ledger.invite(&f.body.invite_pk).is_some() {
                    return Err(Reject::InviteExists);
                }
                if now > f.body.expires_at {
                    return Err(Reject::InviteExpired);
                }
                self.room_mut(&room_id)?.ledger.register(f.body.invite_pk, f.body.expires_at, ());
                Ok(0)
            }
            Frame::RevokeInvite(f) => {
                if !f.verify(&room.owner_sign_pk) {
                    return Err(Reject::BadSignature);
                }
                self.room_mut(&room_id)?.ledger.revoke(&f.body.invite_pk)?;
                Ok(0)
            }
            Frame::JoinRequest(f) => {
                room.check_join_request(&f, now, mode.limit(self.config.max_pending_joins_per_invite))?;
                let owner = room.owner_sign_pk;
                self.direct_to(room_id, owner, bytes, mode, out)?;
                self.room_mut(&room_id)?.ledger.add_join(f.body.invite_pk, f.body.joiner_sign_pk, ());
                Ok(0)
            }
            Frame::KeyGrant(f) => {
                room.check_grant(&f)?;
                self.direct_to(room_id, f.body.joiner_sign_pk, bytes, mode, out)?;
                self.room_mut(&room_id)?.ledger.set_stage(
                    &f.body.invite_pk,
                    &f.body.joiner_sign_pk,
                    JoinStage::Granted(()),
                );
                Ok(0)
            }
            Frame::JoinConfirm(f) => {
                room.check_confirm(&f)?;
                let owner = room.owner_sign_pk;
                self.direct_to(room_id, owner, bytes, mode, out)?;
                self.room_mut(&room_id)?.ledger.set_stage(
                    &f.body.invite_pk,
                    &f.body.joiner_sign_pk,
                    JoinStage::Confirmed,
                );
                Ok(0)
            }
            Frame::Welcome(f) => {
                room.check_welcome(&f)?;
                self.direct_to(room_id, f.body.joiner_sign_pk, bytes, mode, out)?;
                Ok(0)
            }
            Frame::Commit(f) => {
                let effect = room.check_commit(&f)?;
                let seq = room.next_seq;
                let removed_key = effect.removed.and_then(|m| room.members.get(&m)).map(|r| r.sign_pk);
                self.room_mut(&room_id)?.apply_commit(&f, bytes, &effect, seq);
                let seq = self.append(room_id, bytes, out);
                if let Some(pk) = removed_key {
                    // The removed member learns of its removal; the commit holds no share for it.
                    for (conn, c) in &self.conns {
                        if c.subs.iter().any(|(r, id, _)| r == &room_id && id == &pk) {
                            out.push(reply(*conn, RelayMessage::Deliver { room_id, seq, frame: bytes.to_vec() }));
                        }
                    }
                    self.drop_subscriptions(&room_id, &pk);
                    self.direct.remove(&(room_id, pk));
                }
                Ok(seq)
            }
            Frame::Message(f) => {
                room.check_message(&f)?;
                self.room_mut(&room_id)?.apply_message(&f.body);
                Ok(self.append(room_id, bytes, out))
            }
            Frame::KeyUpdate(f) => {
                let rec = room.active_member(f.body.member)?;
                if !f.verify(&rec.sign_pk) {
                    return Err(Reject::BadSignature);
                }
                if f.body.generation <= rec.kx_generation {
                    return Err(Reject::StaleKeyUpdate);
                }
                if let Some(rec) = self.room_mut(&room_id)?.members.get_mut(&f.body.member) {
                    rec.kx_generation = f.body.generation;
                }
                Ok(self.append(room_id, bytes, out))
            }
            Frame::Leave(f) => {
                if f.body.member == OWNER_MEMBER {
                    return Err(Reject::BadChange);
                }
                let rec = room.active_member(f.body.member)?;
                if !f.verify(&rec.sign_pk) {
                    return Err(Reject::BadSignature);
                }
                let pk = rec.sign_pk;
                let seq = self.append(room_id, bytes, out);
                if let Some(rec) = self.room_mut(&room_id)?.members.get_mut(&f.body.member) {
                    rec.left = true;
                }
                self.drop_subscriptions(&room_id, &pk);
                Ok(seq)
            }
            Frame::DeleteRoom(f) => {
                if !f.verify(&room.owner_sign_pk) {
                    return Err(Reject::BadSignature);
                }
                let seq = self.append(room_id, bytes, out);
                let room = self.room_mut(&room_id)?;
                room.deleted = true;
                room.tombstone = Some((seq, bytes.to_vec()));
                room.former.clear();
                room.log.clear();
                room.ledger = Default::default();
                room.members.clear();
                self.direct.retain(|(r, _), _| r != &room_id);
                for c in self.conns.values_mut() {
                    c.subs.retain(|(r, _, _)| r != &room_id);
                }
                Ok(seq)
            }
        }
    }

    fn create_room(&mut self, f: &Signed<crate::frame::CreateRoom>, bytes: &[u8]) -> Result<u64, Reject> {
        let b = &f.body;
        if room_id_for(&b.owner_sign_pk, &b.owner_kx_pk, &b.salt) != b.room_id {
            return Err(Reject::BadRoomId);
        }
        if !f.verify(&b.owner_sign_pk) {
            return Err(Reject::BadSignature);
        }
        if self.rooms.contains_key(&b.room_id) {
            return Err(Reject::RoomExists);
        }
        self.rooms.insert(b.room_id, RoomRecord::new(b.owner_sign_pk, b.policy, epoch::epoch_hash(bytes)));
        Ok(0)
    }

    fn room_mut(&mut self, room_id: &RoomId) -> Result<&mut RoomRecord, Reject> {
        self.rooms.get_mut(room_id).ok_or(Reject::NoSuchRoom)
    }

    fn drop_subscriptions(&mut self, room_id: &RoomId, identity: &[u8; 32]) {
        for c in self.conns.values_mut() {
            c.subs.retain(|(r, id, _)| !(r == room_id && id == identity));
        }
    }
}

fn reply(conn: ConnId, msg: RelayMessage) -> Outgoing {
    Outgoing { conn, bytes: msg.encode() }
}
