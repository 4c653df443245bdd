//! The owner: creates the room, issues invites, answers joins, and is the only author of
//! commits (membership and epoch keys). It is also member 0 and chats like any member.
//!
//! Invariants: the owner applies a commit only when the relay hands it back in the room's
//! order, so its view never runs ahead of what members see; at most one commit is in flight,
//! and later membership operations wait in a queue, removals first; a commit counts as landed
//! only when the log entry at its epoch is the commit itself, and one that lost its epoch to
//! another commit is rebuilt on the next; an Add's commit leaves only after its Welcome was
//! accepted; every request that must land is resent until settled (`inflight.rs`); the
//! owner's authority is checked in one place at the relay ([`crate::relay::RuleBook`]) and
//! exercised only here. Invites and join requests are kept, and checked, in the ledger the
//! relay's rule book uses too (`crate::ledger`).

mod pickle;

use std::collections::{BTreeMap, VecDeque};

use rand_core::CryptoRng;

use crate::commit::Followed;
use crate::crypto::{self, KxKey, Secret32, SignKey};
use crate::epoch::{self, Epoch, EpochChain, ShareChain};
use crate::error::Error;
use crate::event::{Event, Failure, Operation, Output, Request, RequestKind};
use crate::fingerprint;
use crate::frame::{
    Change, Commit, CreateRoom, DeleteRoom, Frame, HistoryPolicy, JoinConfirm, JoinRequest, KeyMode, MemberNo,
    OWNER_MEMBER, RegisterInvite, RevokeInvite, RoomId, Signed, Welcome,
};
use crate::inflight::{Flight, Kind, Verdict};
use crate::invite::{Invite, invite_keys};
use crate::join::{self, GrantPayload};
use crate::keys::{ChannelBinding, InviteKey, MemberKey, RelayPublicKey};
use crate::ledger::{JoinStage, Ledger, PendingLimit};
use crate::proto::ClientRequest;
use crate::proto::Reject;
use crate::room::{RoomConfig, Roster, RosterEntry, room_id_for};
use crate::session::{self, Role, Session};
use crate::view::{Position, RoomView};

/// Most join requests the owner holds unanswered at once.
pub const MAX_PENDING_JOINS: usize = 256;

/// What the owner keeps of a join request: the request (its keys, the sealed intro), its hash
/// (bound into the grant and the confirmation) and the name the joiner gave.
#[derive(Debug)]
pub(crate) struct Asked {
    pub request: JoinRequest,
    pub request_hash: [u8; 32],
    pub name: String,
}

/// What the owner keeps of its grant, to check the joiner's confirmation tag.
#[derive(Debug)]
pub(crate) struct Grant {
    pub export: Secret32,
    pub grant_hash: [u8; 32],
}

/// The owner's invites (each with its PSK) and the join requests it holds.
pub(crate) type OwnerLedger = Ledger<Secret32, Asked, Grant>;

/// A membership operation waiting for the commit in flight to land.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    Add([u8; 32]),
    Remove(MemberNo),
    Rotate,
}

impl Op {
    pub(crate) fn operation(&self) -> Operation {
        match self {
            Self::Add(joiner) => Operation::Add { joiner: MemberKey::from_bytes(*joiner) },
            Self::Remove(member) => Operation::Remove { member: *member },
            Self::Rotate => Operation::Rotate,
        }
    }
}

/// The commit in flight: made for the epoch after the owner's current one.
#[derive(Debug)]
pub(crate) struct PendingCommit {
    pub req_id: u32,
    /// The signed commit frame.
    pub bytes: Vec<u8>,
    pub secret: Secret32,
    /// What it carries out (rebuilt on the next epoch if another commit takes this one).
    pub op: Op,
    /// The Welcome's request id while an Add's Welcome waits for its answer: the commit is
    /// submitted only once the relay holds the Welcome.
    pub welcome: Option<u32>,
}

impl PendingCommit {
    pub(crate) fn request(&self) -> Vec<u8> {
        ClientRequest::Submit { req_id: self.req_id, frame: self.bytes.clone() }.encode()
    }
}

/// The room's owner.
#[derive(Debug)]
pub struct Owner {
    pub(crate) view: RoomView,
    pub(crate) kx_key: KxKey,
    pub(crate) config: RoomConfig,
    pub(crate) create_frame: Vec<u8>,
    pub(crate) ledger: OwnerLedger,
    pub(crate) next_member: MemberNo,
    pub(crate) pending: Option<PendingCommit>,
    pub(crate) queue: VecDeque<Op>,
    pub(crate) deleted: bool,
    /// Where the owner's own share keys come from (see [`ShareChain`]).
    pub(crate) share_chain: ShareChain,
    /// The connection, authentication and requests in flight.
    pub(crate) session: Session,
}

impl Owner {
    /// Creates a room: fresh room keys, a room id bound to them, epoch 0 holding only the owner.
    /// The output carries the `CreateRoom` request for the relay.
    pub fn create(config: RoomConfig, rng: &mut impl CryptoRng) -> (Self, Output) {
        let sign_key = SignKey::generate(rng);
        let sign_key_public = sign_key.public();
        let kx_key = KxKey::generate(rng);
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        let room_id = room_id_for(&sign_key.public(), &kx_key.public(), &salt);
        let create = Signed::sign(
            CreateRoom {
                room_id,
                salt,
                owner_sign_pk: sign_key.public(),
                owner_kx_pk: kx_key.public(),
                policy: config.policy,
            },
            &sign_key,
        );
        let create_frame = create.encode();
        let genesis = Epoch::new(&room_id, 0, epoch::epoch_hash(&create_frame), 1, false, Secret32::random(rng));
        let view = RoomView {
            room_id,
            owner_sign_pk: sign_key.public(),
            policy: config.policy,
            me: OWNER_MEMBER,
            roster: Roster::with_owner(sign_key.public(), kx_key.public()),
            sign_key,
            former: BTreeMap::new(),
            chain: EpochChain::new(genesis, config.retained_epochs),
            live_start: 1,
            live_next: 1,
            history_next: None,
            send_seq: (0, 0),
            padding: config.padding.clone(),
        };
        let mut owner = Self {
            view,
            kx_key,
            config,
            create_frame: create_frame.clone(),
            ledger: Ledger::default(),
            next_member: 1,
            pending: None,
            queue: VecDeque::new(),
            deleted: false,
            share_chain: ShareChain { epoch: 0, chain: Secret32::random(rng) },
            session: Session::for_key(&sign_key_public),
        };
        let out = owner.session.must_land(Kind::CreateRoom, Operation::CreateRoom, create_frame);
        (owner, out)
    }

    /// The room id.
    pub fn room_id(&self) -> RoomId {
        self.view.room_id
    }
    /// The owner's Ed25519 room key.
    pub fn sign_public(&self) -> MemberKey {
        MemberKey::from_bytes(self.view.sign_key.public())
    }
    /// The newest epoch.
    pub fn epoch(&self) -> u32 {
        self.view.chain.current_number()
    }
    /// The roster.
    pub fn roster(&self) -> &Roster {
        &self.view.roster
    }
    /// The room's configuration.
    pub fn config(&self) -> &RoomConfig {
        &self.config
    }
    /// The fingerprint of a member (the owner is member 0).
    ///
    /// # Errors
    /// [`Error::NoSuchMember`] when `member` is not in the roster.
    pub fn fingerprint(&self, member: MemberNo) -> Result<String, Error> {
        let e = self.view.roster.get(member).ok_or(Error::NoSuchMember(member))?;
        Ok(fingerprint::fingerprint(&self.view.room_id, &e.sign_pk))
    }
    /// Whether a commit is waiting for the relay.
    pub fn commit_in_flight(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether the room's CreateRoom has not landed yet (a client holding an admission token
    /// presents it on a connection that will carry it).
    pub fn awaits_creation(&self) -> bool {
        self.session.requests.flights.iter().any(|f| f.kind == Kind::CreateRoom)
    }

    /// How many requests that must land wait for the relay (they are resent on every new
    /// connection, after authentication, until settled).
    pub fn requests_in_flight(&self) -> usize {
        self.session.requests.flights.len()
    }

    /// A new link to the relay is up; `channel_binding` is its handshake hash. The relay's
    /// challenge follows; the owner answers it in [`Self::handle`], and once the relay accepts
    /// that authentication, sends again every request that must land and was not settled.
    /// Requests handed out before the first connection are for the app to send on it; after
    /// that, requests handed out while no connection is up may be dropped: the owner resends.
    pub fn on_connected(&mut self, channel_binding: ChannelBinding) {
        self.session.on_connected(channel_binding.to_bytes());
    }

    /// The request that (re-)creates the room at a relay: it is sent once after creation and
    /// resent until answered; this makes a new one, for a relay that lost the room.
    pub fn create_request(&mut self) -> Output {
        let _ = self.session.requests.take_where(|f| f.kind == Kind::CreateRoom);
        self.session.must_land(Kind::CreateRoom, Operation::CreateRoom, self.create_frame.clone())
    }

    /// Tracks a request that must land.
    fn must_land(&mut self, kind: Kind, op: Operation, frame: Vec<u8>) -> Output {
        self.session.must_land(kind, op, frame)
    }

    fn live(&self) -> Result<(), Error> {
        if self.deleted {
            return Err(Error::RoomDeleted);
        }
        Ok(())
    }

    /// Issues a single-use invite valid for `ttl_secs` from `now`; the output registers its
    /// commitment with the relay.
    ///
    /// # Errors
    /// [`Error::RoomDeleted`] after the room's deletion; [`Error::InvalidArgument`] when `now +
    /// ttl_secs` overflows or `relay_addr` is empty or holds a character an invite string cannot carry.
    pub fn invite(
        &mut self,
        now: u64,
        ttl_secs: u64,
        relay_addr: &str,
        relay_pk: RelayPublicKey,
        rng: &mut impl CryptoRng,
    ) -> Result<(Invite, Output), Error> {
        self.live()?;
        let expires_at = now.checked_add(ttl_secs).ok_or(Error::InvalidArgument("ttl overflows"))?;
        let token = Invite::new_token(rng);
        let keys = invite_keys(&self.view.room_id, &token);
        let invite_pk = keys.sign.public();
        let salt = Signed::<CreateRoom>::decode(&self.create_frame).map(|c| c.body.salt).unwrap_or_default();
        let invite = Invite {
            room_id: self.view.room_id,
            owner_sign_pk: self.sign_public(),
            owner_kx_pk: self.kx_key.public(),
            salt,
            token,
            expires_at,
            relay_addr: relay_addr.to_string(),
            relay_pk,
        };
        if invite.relay_addr.is_empty()
            || !invite.relay_addr.bytes().all(|b| b.is_ascii_graphic() && b != b'&' && b != b'=')
        {
            return Err(Error::InvalidArgument("relay address"));
        }
        let reg =
            Signed::sign(RegisterInvite { room_id: self.view.room_id, invite_pk, expires_at }, &self.view.sign_key);
        self.ledger.register(invite_pk, expires_at, keys.psk);
        Ok((
            invite,
            self.must_land(
                Kind::RegisterInvite,
                Operation::RegisterInvite { invite_pk: invite_pk.into() },
                reg.encode(),
            ),
        ))
    }

    /// Revokes an unused invite (by its commitment, [`Invite::invite_pk`]).
    ///
    /// # Errors
    /// [`Error::RoomDeleted`]; [`Error::InviteUnknown`] for a commitment this owner never issued;
    /// [`Error::InviteUsed`] or [`Error::InviteRevoked`] when the invite is no longer open. Nothing changed.
    pub fn revoke_invite(&mut self, invite_pk: InviteKey) -> Result<Output, Error> {
        let invite_pk = invite_pk.to_bytes();
        self.live()?;
        self.ledger.revoke(&invite_pk)?;
        let f = Signed::sign(RevokeInvite { room_id: self.view.room_id, invite_pk }, &self.view.sign_key);
        Ok(self.must_land(Kind::RevokeInvite, Operation::RevokeInvite { invite_pk: invite_pk.into() }, f.encode()))
    }

    /// Grants a pending join request ([`Event::JoinRequested`]).
    ///
    /// # Errors
    /// [`Error::RoomDeleted`]; [`Error::NoSuchJoin`] when no request of that key waits for an
    /// answer; [`Error::InviteUnknown`] when its invite is not this owner's; an error of sealing the grant
    /// (the joiner's keys, spec §7.4). Nothing changed.
    pub fn approve_join(&mut self, joiner: MemberKey, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        let joiner = joiner.to_bytes();
        self.live()?;
        let invite_pk = self.ledger.join(&joiner).ok_or(Error::NoSuchJoin)?.invite_pk;
        let (invite, join) = self.ledger.check_grant(&invite_pk, &joiner)?;
        let payload = GrantPayload { policy: self.config.policy, epoch: self.view.chain.current_number() };
        let asked = &join.kept;
        let (grant, export) =
            join::seal_grant(&asked.request, asked.request_hash, &invite.kept, &payload, &self.view.sign_key, rng)?;
        let bytes = grant.encode();
        let grant_hash = join::grant_hash(&bytes);
        self.ledger.set_stage(&invite_pk, &joiner, JoinStage::Granted(Grant { export, grant_hash }));
        Ok(self.must_land(Kind::KeyGrant, Operation::Grant { joiner: joiner.into() }, bytes))
    }

    /// Refuses a pending join request and revokes the invite it used.
    ///
    /// # Errors
    /// [`Error::NoSuchJoin`] when no request of that key is held; then as [`Self::revoke_invite`].
    pub fn reject_join(&mut self, joiner: MemberKey) -> Result<Output, Error> {
        let invite_pk = self.ledger.join(joiner.as_bytes()).ok_or(Error::NoSuchJoin)?.invite_pk;
        // Revoking drops every pending join of that invite, this one included.
        self.revoke_invite(invite_pk.into())
    }

    /// Removes a member: a fresh epoch key reaches every remaining member but it.
    ///
    /// # Errors
    /// [`Error::RoomDeleted`]; [`Error::InvalidArgument`] for the owner itself (delete the room
    /// instead); [`Error::NoSuchMember`] when `member` is not in the roster. Nothing changed.
    pub fn remove(&mut self, member: MemberNo, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        self.live()?;
        if member == OWNER_MEMBER {
            return Err(Error::InvalidArgument("the owner cannot remove itself; delete the room"));
        }
        if !self.view.roster.contains(member) {
            return Err(Error::NoSuchMember(member));
        }
        self.enqueue(Op::Remove(member), rng)
    }

    /// Rotates the epoch key now.
    ///
    /// # Errors
    /// [`Error::RoomDeleted`] after the room's deletion.
    pub fn rotate(&mut self, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        self.live()?;
        self.enqueue(Op::Rotate, rng)
    }

    /// Deletes the room: the relay drops it and every member erases its keys.
    ///
    /// # Errors
    /// [`Error::RoomDeleted`] when the room is already deleted.
    pub fn delete_room(&mut self) -> Result<Output, Error> {
        self.live()?;
        let f = Signed::sign(DeleteRoom { room_id: self.view.room_id }, &self.view.sign_key);
        Ok(self.must_land(Kind::DeleteRoom, Operation::DeleteRoom, f.encode()))
    }

    /// Sends a room message.
    ///
    /// # Errors
    /// [`Error::RoomDeleted`]; [`Error::MessageTooLong`] past [`crate::message::MAX_CONTENT_LEN`];
    /// [`Error::CounterExhausted`] when this epoch's sequence numbers ran out (rotate first).
    pub fn send(&mut self, content: &[u8], rng: &mut impl CryptoRng) -> Result<Output, Error> {
        self.live()?;
        self.view.send(&mut self.session, content, rng)
    }

    /// Asks the relay to acknowledge everything read so far (its cursor for this identity); an
    /// empty output when nothing was read yet.
    pub fn ack(&self) -> Output {
        self.view.ack()
    }

    /// Queues a membership operation (an identical one is not queued twice; removals go before
    /// every other kind) and starts it if no commit is in flight. The output says which.
    fn enqueue(&mut self, op: Op, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        let in_flight = self.pending.as_ref().is_some_and(|p| p.op == op);
        if !in_flight && !self.queue.contains(&op) {
            self.queue_op(op.clone(), false);
        }
        if self.pending.is_some() {
            return Ok(Output::event(Event::OperationQueued { op: op.operation() }));
        }
        Ok(self.pump(rng))
    }

    /// Puts `op` in the queue: a removal after the removals already queued and before anything
    /// else; another kind at the back, or at the front (`front`: it lost its epoch and goes
    /// first among its kind).
    fn queue_op(&mut self, op: Op, front: bool) {
        let removal = matches!(op, Op::Remove(_));
        let at = if removal || front {
            let removals = self.queue.iter().take_while(|o| matches!(o, Op::Remove(_))).count();
            if removal && !front {
                removals
            } else if removal {
                0
            } else {
                removals
            }
        } else {
            self.queue.len()
        };
        self.queue.insert(at.min(self.queue.len()), op);
    }

    /// Starts the next queued operation if no commit is in flight. An operation that became
    /// moot is reported: a removal of a member already gone as landed, anything else that
    /// cannot be built as failed.
    fn pump(&mut self, rng: &mut impl CryptoRng) -> Output {
        let mut out = Output::default();
        while self.pending.is_none() {
            let Some(op) = self.queue.pop_front() else { break };
            match self.make_commit(&op, rng) {
                Ok(o) => out.extend(o),
                Err(Error::NoSuchMember(m)) if op == Op::Remove(m) => {
                    out.events.push(Event::OperationLanded { op: op.operation() })
                }
                Err(error) => {
                    out.events.push(Event::OperationFailed { op: op.operation(), reason: Failure::Invalid(error) })
                }
            }
        }
        out
    }

    fn make_commit(&mut self, op: &Op, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        if self.deleted {
            return Err(Error::RoomDeleted);
        }
        let current = self.view.chain.current().ok_or(Error::NotJoined)?;
        let epoch = current.number.checked_add(1).ok_or(Error::CounterExhausted)?;
        let mut roster = self.view.roster.clone();
        let mut welcome_for: Option<([u8; 32], MemberNo)> = None;
        let (change, mode) = match op {
            Op::Rotate => (Change::Rotate, KeyMode::Fresh),
            Op::Remove(m) => {
                roster.remove(*m).ok_or(Error::NoSuchMember(*m))?;
                (Change::Remove { member: *m }, KeyMode::Fresh)
            }
            Op::Add(joiner) => {
                let r = &self.ledger.confirmed(joiner)?.kept.request;
                let member = self.next_member;
                roster.insert(member, RosterEntry { sign_pk: r.joiner_sign_pk.into(), kx_pk: r.joiner_kx_pk })?;
                welcome_for = Some((r.joiner_sign_pk, member));
                let mode = match self.config.policy {
                    HistoryPolicy::SinceLastEpoch => KeyMode::Derived,
                    HistoryPolicy::SinceJoin => KeyMode::Fresh,
                };
                let change =
                    Change::Add { member, sign_pk: r.joiner_sign_pk, kx_pk: r.joiner_kx_pk, invite_pk: r.invite_pk };
                (change, mode)
            }
        };
        let mut commit = Commit {
            room_id: self.view.room_id,
            epoch,
            prev_epoch_hash: current.hash,
            roster_digest: roster.digest(),
            change,
            key_mode: mode,
            shares: Vec::new(),
        };
        let prev_secret = current.secret.as_ref().ok_or(Error::NotJoined)?;
        match mode {
            KeyMode::Derived => {
                let secret = epoch::derived_secret(prev_secret, &commit);
                if let Some((_, member)) = welcome_for {
                    let kx = roster.get(member).map(|e| e.kx_pk).ok_or(Error::NoSuchMember(member))?;
                    commit.shares.push(epoch::seal_share(&commit, member, &kx, &[&secret, prev_secret], rng)?);
                }
                self.finish_commit(op, commit, secret, roster, welcome_for)
            }
            KeyMode::Fresh => {
                let secret = Secret32::random(rng);
                // The owner seals a share to itself too, to a key of its share chain, so that an
                // owner restored from an older backup can still follow the commits it made since.
                let own = self.share_chain.at(epoch).ok_or(Error::CounterExhausted)?.key().public();
                for (m, e) in roster.iter() {
                    let kx = if m == OWNER_MEMBER { own } else { e.kx_pk };
                    commit.shares.push(epoch::seal_share(&commit, m, &kx, &[&secret], rng)?);
                }
                self.finish_commit(op, commit, secret, roster, welcome_for)
            }
        }
    }

    /// Signs the commit and submits it, or, for an Add, submits the Welcome first and holds the
    /// commit until the relay has accepted it (a joiner must never meet its Add without it).
    fn finish_commit(
        &mut self,
        op: &Op,
        commit: Commit,
        secret: Secret32,
        roster: Roster,
        welcome_for: Option<([u8; 32], MemberNo)>,
    ) -> Result<Output, Error> {
        let epoch = commit.epoch;
        let signed = Signed::sign(commit, &self.view.sign_key);
        let bytes = signed.encode();
        let operation = op.operation();
        let welcome = welcome_for.map(|(joiner_sign_pk, member)| {
            let welcome = Welcome {
                room_id: self.view.room_id,
                joiner_sign_pk,
                member,
                epoch,
                roster: roster.iter().map(|(m, e)| (m, e.sign_pk.to_bytes())).collect(),
            };
            let req_id = self.session.next_req_id();
            (req_id, ClientRequest::Submit { req_id, frame: Signed::sign(welcome, &self.view.sign_key).encode() })
        });
        let req_id = self.session.next_req_id();
        let pending = PendingCommit { req_id, bytes, secret, op: op.clone(), welcome: welcome.as_ref().map(|w| w.0) };
        let out = match welcome {
            Some((w_id, w)) => self.session.requests.track(Kind::Welcome, operation, w_id, w.encode()),
            None => self.session.requests.track(Kind::Commit, operation, req_id, pending.request()),
        };
        self.pending = Some(pending);
        Ok(out)
    }

    /// Decides an answer the table leaves to the owner's state (spec §9.7).
    fn decide_answer(&self, flight: &Flight) -> Verdict {
        match flight.op {
            // Nothing to revoke: landed, unless our registration of it is still to land.
            Operation::RevokeInvite { invite_pk } => {
                let registering = self
                    .session
                    .requests
                    .any(|f| matches!(f.op, Operation::RegisterInvite { invite_pk: pk } if pk == invite_pk));
                if registering { Verdict::Retry } else { Verdict::Landed }
            }
            // The grant moved the join on, or the join ended.
            Operation::Grant { joiner } => match self.ledger.join(joiner.as_bytes()).map(|j| &j.stage) {
                Some(JoinStage::Granted(_) | JoinStage::Confirmed) => Verdict::Landed,
                _ => Verdict::Final,
            },
            // The relay no longer has the member: done, if our roster agrees.
            Operation::Remove { member } if !self.view.roster.contains(member) => Verdict::Landed,
            _ => Verdict::Final,
        }
    }

    /// A request that landed: a Welcome releases its commit; a commit lands when met in the log.
    fn on_landed(&mut self, flight: Flight) -> Output {
        let mut out = Output::default();
        match flight.kind {
            Kind::Welcome => {
                if let Some(p) = self.pending.as_mut().filter(|p| p.welcome == Some(flight.req_id)) {
                    p.welcome = None;
                    let request = p.request();
                    let (op, id) = (flight.op, p.req_id);
                    let sent = self.session.requests.push(Kind::Commit, op, id, request);
                    // Made, and saved, with its Welcome: leaving now spends nothing more.
                    out.to_relay.extend(sent.map(|b| Request::new(RequestKind::Operation(op), Some(id), false, b)));
                }
            }
            Kind::Commit => {}
            _ => out.events.push(Event::OperationLanded { op: flight.op }),
        }
        out
    }

    /// A request that can never land; a commit's (or its Welcome's) frees the queue.
    fn on_failed(&mut self, flight: Flight, code: u16, rng: &mut impl CryptoRng) -> Output {
        let mut out = Output::default();
        let op = flight.op;
        if let Operation::Remove { member } = op
            && !self.view.roster.contains(member)
        {
            out.events.push(Event::OperationLanded { op });
        } else {
            out.events.push(Event::OperationFailed { op, reason: Failure::Refused(self.failure_code(&flight, code)) });
        }
        if matches!(flight.kind, Kind::Welcome | Kind::Commit) {
            self.pending = None;
            out.extend(self.pump(rng));
        }
        out
    }

    /// The code an operation failed with: for a grant refused as NoPendingJoin, whether its
    /// invite was used or revoked, when the owner knows. The invite comes from the grant itself:
    /// using or revoking an invite drops its joins, so the join can no longer name it.
    fn failure_code(&self, flight: &Flight, code: u16) -> u16 {
        let invite_pk = match Frame::decode(flight.frame()) {
            Ok(Frame::KeyGrant(f)) => f.body.invite_pk,
            _ => return code,
        };
        match self.ledger.invite(&invite_pk).map(|i| i.open()) {
            Some(Err(closed)) => Reject::from(closed).code(),
            _ => code,
        }
    }

    /// The room is gone: every request still in flight is settled, and every queued operation
    /// fails.
    fn close_all(&mut self) -> Output {
        let mut out = Output::default();
        let deleted = Failure::Refused(Reject::RoomDeleted.code());
        for f in self.session.requests.take_where(|_| true) {
            let ev = match f.kind {
                Kind::DeleteRoom => Event::OperationLanded { op: f.op },
                // Reported once below, with the commit in flight.
                Kind::Welcome | Kind::Commit => continue,
                _ => Event::OperationFailed { op: f.op, reason: deleted.clone() },
            };
            out.events.push(ev);
        }
        let pending = self.pending.take().map(|p| p.op);
        for op in pending.into_iter().chain(self.queue.drain(..)) {
            out.events.push(Event::OperationFailed { op: op.operation(), reason: deleted.clone() });
        }
        out
    }

    /// Handles one message from the relay. `now` (Unix seconds) checks invite expiry; `rng`
    /// feeds commits the owner makes in response (joins confirmed, members leaving, rotation).
    ///
    /// # Errors
    /// A message that does not decode ([`Error::Decode`]), one for another room
    /// ([`Error::WrongRoom`]), a log position out of order ([`Error::RelayGap`], [`Error::RelayReplay`]:
    /// reconnect, the owner resumes from its own position), or a challenge before [`Self::on_connected`];
    /// nothing changed. A frame that fails its checks in order is no error: it is reported as
    /// [`Event::FrameRejected`].
    pub fn handle(&mut self, bytes: &[u8], now: u64, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        session::handle(self, bytes, now, rng)
    }

    fn on_direct(&mut self, frame: &[u8], now: u64, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        match Frame::decode(frame)? {
            Frame::JoinRequest(f) => self.on_join_request(f, frame, now, rng),
            Frame::JoinConfirm(f) => self.on_join_confirm(f, rng),
            _ => Err(Error::Unexpected("directed frame the owner does not take")),
        }
    }

    fn on_join_request(
        &mut self,
        f: Signed<JoinRequest>,
        bytes: &[u8],
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<Output, Error> {
        let r = &f.body;
        if r.room_id != self.view.room_id {
            return Err(Error::WrongRoom);
        }
        // The same request again: the relay delivers a directed frame until it is acknowledged,
        // and the acknowledgement leaves only after the state that read it was saved, so a
        // crash in between brings it back to a state that holds it. It changes nothing; a join
        // still waiting for the app is announced again (the app may never have seen it).
        let hash = join::request_hash(bytes);
        if let Some(join) = self.ledger.join(&r.joiner_sign_pk)
            && crypto::ct_eq(&join.kept.request_hash, &hash)
        {
            let joiner = r.joiner_sign_pk;
            return Ok(match join.stage {
                JoinStage::Requested => Output::event(Event::JoinRequested {
                    joiner: joiner.into(),
                    name: join.kept.name.clone(),
                    fingerprint: fingerprint::fingerprint(&self.view.room_id, &joiner.into()),
                }),
                JoinStage::Granted(_) | JoinStage::Confirmed => Output::default(),
            });
        }
        let roster = &self.view.roster;
        let member = |pk: &[u8; 32]| roster.find(&(*pk).into()).is_some();
        let invite = self.ledger.check_request(&f, now, member, PendingLimit::InAll(MAX_PENDING_JOINS))?;
        let name = join::open_intro(r, &self.kx_key, &invite.kept)?;
        let (invite_pk, joiner) = (r.invite_pk, r.joiner_sign_pk);
        let fingerprint = fingerprint::fingerprint(&self.view.room_id, &joiner.into());
        let asked = Asked { request: f.body, request_hash: hash, name: name.clone() };
        self.ledger.add_join(invite_pk, joiner, asked);
        if self.config.auto_approve {
            return self.approve_join(joiner.into(), rng);
        }
        Ok(Output::event(Event::JoinRequested { joiner: joiner.into(), name, fingerprint }))
    }

    fn on_join_confirm(&mut self, f: Signed<JoinConfirm>, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        let c = &f.body;
        if c.room_id != self.view.room_id {
            return Err(Error::WrongRoom);
        }
        // Not the ledger's checks: the owner knows the join by its key alone, and the tag is
        // what proves the joiner opened the grant.
        if !f.verify(&c.joiner_sign_pk) {
            return Err(Error::BadSignature);
        }
        // A confirmation delivered again after a crash (see on_join_request): its Add is
        // already queued, or landed.
        let known = self.view.roster.find(&c.joiner_sign_pk.into()).is_some();
        let join = match self.ledger.join(&c.joiner_sign_pk) {
            Some(j) if matches!(j.stage, JoinStage::Confirmed) => return Ok(Output::default()),
            Some(j) => j,
            None if known => return Ok(Output::default()),
            None => return Err(Error::NoSuchJoin),
        };
        if c.invite_pk != join.invite_pk {
            return Err(Error::Unexpected("confirmation names another invite"));
        }
        let JoinStage::Granted(grant) = &join.stage else {
            return Err(Error::Unexpected("confirmation without a grant"));
        };
        let expected = join::confirm_tag(&grant.export, &join.kept.request_hash, &grant.grant_hash);
        if !crypto::ct_eq(&expected, &c.tag) {
            return Err(Error::Forged);
        }
        self.ledger.set_stage(&c.invite_pk, &c.joiner_sign_pk, JoinStage::Confirmed);
        self.enqueue(Op::Add(c.joiner_sign_pk), rng)
    }

    fn on_log(&mut self, frame: &[u8], seq: u64, pos: &Position, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        let history = matches!(pos, Position::History);
        match Frame::decode(frame)? {
            Frame::Message(f) => {
                let ev = self.view.receive_message(&f, seq, history)?;
                let mut out = Output::event(ev);
                let over = self.view.chain.current().is_some_and(|e| e.messages >= self.config.rotate_every);
                if over && self.pending.is_none() && !self.queue.contains(&Op::Rotate) {
                    out.extend(self.enqueue(Op::Rotate, rng)?);
                }
                Ok(out)
            }
            Frame::Commit(_) => self.on_own_commit(frame, seq, rng),
            Frame::KeyUpdate(f) => Ok(Output::event(self.view.receive_key_update(&f)?)),
            Frame::Leave(f) => {
                let ev = self.view.receive_leave(&f)?;
                let mut out = Output::event(ev);
                if self.view.roster.contains(f.body.member) {
                    out.extend(self.enqueue(Op::Remove(f.body.member), rng)?);
                }
                Ok(out)
            }
            Frame::DeleteRoom(f) => {
                self.view.check_delete(&f)?;
                self.deleted = true;
                self.view.erase_keys();
                let mut out = Output::event(Event::RoomDeleted);
                out.extend(self.close_all());
                Ok(out)
            }
            _ => Err(Error::Unexpected("frame kind not in a room log")),
        }
    }

    /// A commit in the log: ours, made now or before a restore from an older backup. The owner
    /// follows it with the checks every member makes (its own share opens with its room key).
    fn on_own_commit(&mut self, bytes: &[u8], seq: u64, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        let Frame::Commit(f) = Frame::decode(bytes)? else { return Err(Error::ForkDetected) };
        let position = self.share_chain.at(f.body.epoch).ok_or(Error::ForkDetected)?;
        let reason = match self.view.follow_commit(&f, bytes, seq, &[&position.key()])? {
            Followed::Entered { reason, .. } => reason,
            Followed::RemovedUs => return Err(Error::ForkDetected),
        };
        // Earlier positions of the chain are erased: a later leak cannot reopen those shares.
        self.share_chain = position;
        let mut out = Output::event(Event::EpochChanged { epoch: f.body.epoch, reason });
        // The commit in flight, if any, was made for this epoch number: it is this one, or it
        // lost the epoch (to a commit we made before a restore from an older backup) and its
        // operation is rebuilt on the next epoch. Byte equality decides, not the answer.
        if let Some(p) = self.pending.take() {
            let ids = [Some(p.req_id), p.welcome];
            let _ = self.session.requests.take_where(|fl| ids.contains(&Some(fl.req_id)));
            if p.bytes == bytes {
                out.events.push(Event::OperationLanded { op: p.op.operation() });
            } else {
                self.queue_op(p.op, true);
            }
        }
        // Queued operations this commit made moot: done if it did what they asked, failed if
        // it made them impossible.
        let mut moot = Vec::new();
        match &f.body.change {
            Change::Rotate => {}
            Change::Add { member, sign_pk, invite_pk, .. } => {
                self.next_member = self.next_member.max(member.saturating_add(1));
                // The invite is spent: other requests that used it can never be added.
                self.ledger.spend(invite_pk, sign_pk);
                let ledger = &self.ledger;
                self.queue.retain(|op| match op {
                    Op::Add(pk) if ledger.join(pk).is_none() => {
                        moot.push((op.clone(), pk == sign_pk));
                        false
                    }
                    _ => true,
                });
            }
            Change::Remove { member } => {
                let before = self.queue.len();
                self.queue.retain(|op| op != &Op::Remove(*member));
                if self.queue.len() != before {
                    moot.push((Op::Remove(*member), true));
                }
            }
        }
        for (op, done) in moot {
            out.events.push(match done {
                true => Event::OperationLanded { op: op.operation() },
                false => {
                    Event::OperationFailed { op: op.operation(), reason: Failure::Refused(Reject::InviteUsed.code()) }
                }
            });
        }
        out.extend(self.pump(rng));
        Ok(out)
    }
}

impl Role for Owner {
    fn session(&mut self) -> &mut Session {
        &mut self.session
    }
    fn room_id(&self) -> RoomId {
        self.view.room_id
    }
    fn authenticate(&mut self, nonce: &[u8; 32]) -> Result<Option<Request>, Error> {
        let v = &self.view;
        self.session.authenticate(&v.sign_key, nonce, v.room_id, v.live_next).map(Some)
    }
    fn on_direct(&mut self, frame: &[u8], _id: u64, now: u64, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        Owner::on_direct(self, frame, now, rng)
    }
    fn on_deliver(&mut self, seq: u64, frame: &[u8], rng: &mut impl CryptoRng) -> Result<Output, Error> {
        let pos = self.view.position(seq)?;
        self.view.consume(seq, &pos);
        Ok(match self.on_log(frame, seq, &pos, rng) {
            Ok(o) => o,
            Err(error) => Output::event(Event::FrameRejected { position: seq, error }),
        })
    }
    fn decide(&mut self, flight: &Flight, _code: Option<u16>) -> Verdict {
        self.decide_answer(flight)
    }
    fn landed(&mut self, flight: Flight, _rng: &mut impl CryptoRng) -> Result<Output, Error> {
        Ok(self.on_landed(flight))
    }
    fn failed(&mut self, flight: Flight, code: u16, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        Ok(self.on_failed(flight, code, rng))
    }
    // A deleted room refuses us after its tombstone, which settled everything; a room not yet
    // created is authenticated again once its CreateRoom is accepted.
    fn auth_refused(&mut self, _code: u16) -> Output {
        Output::default()
    }
}
