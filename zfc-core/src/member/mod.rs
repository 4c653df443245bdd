//! A member: joins with an invite, then reads and sends room messages, follows the owner's
//! commits, refreshes its key-delivery key, and may leave.
//!
//! ```text
//!  join() ──► AwaitingGrant ──KeyGrant──► AwaitingAdd ──Welcome + Commit(Add)──► Joined
//!                                                             Commit(Remove me) / leave()
//!                                                             / DeleteRoom ──► Gone
//! ```
//! Invariants: the joiner's ephemeral key is erased once the grant is opened; a member erases
//! every key when it is removed, when its Leave has landed, or when the room is deleted (a
//! leaving member keeps its keys until the relay holds its Leave, so that a lost Leave can be
//! resent); a key-delivery key is erased as soon as a share sealed to a newer one opens; every
//! request that must land is resent until settled (`inflight.rs`, spec §9.7).

mod pickle;

use std::collections::BTreeMap;

use rand_core::CryptoRng;

use crate::commit::Followed;
use crate::crypto::{self, KxKey, Secret32, SignKey};
use crate::epoch::{self, Epoch, EpochChain};
use crate::error::Error;
use crate::event::{Event, Failure, Operation, Output, Request};
use crate::fingerprint;
use crate::frame::{
    Change, Commit, Frame, HistoryPolicy, JoinConfirm, KeyGrant, KeyMode, KeyUpdate, Leave, MemberNo, RoomId, Signed,
    Welcome,
};
use crate::inflight::{Flight, Kind, Verdict};
use crate::invite::{Invite, invite_keys};
use crate::join;
use crate::keys::{ChannelBinding, LogPos, MemberKey};
use crate::message::Padding;
use crate::proto::Reject;
use crate::room::{Roster, RosterEntry};
use crate::session::{self, Role, Session};
use crate::view::{Position, RoomView};

/// Where a member stands ([`Member::phase`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Its join request is out; the owner's grant has not come.
    AwaitingGrant,
    /// Granted and confirmed; the Welcome and the commit that adds it have not come.
    AwaitingAdd,
    /// In the room.
    Joined {
        /// Its member number.
        member: MemberNo,
        /// The newest epoch it holds.
        epoch: u32,
        /// The relay position of the commit that added it: its live stream starts there, and
        /// history fetches return what lies below it.
        log_start: LogPos,
        /// Its Leave is submitted and has not landed yet (it sends nothing more).
        leaving: bool,
    },
    /// Out of the room; every key erased.
    Gone(GoneReason),
}

impl Phase {
    /// The member number, when joined.
    pub fn member(self) -> Option<MemberNo> {
        match self {
            Self::Joined { member, .. } => Some(member),
            _ => None,
        }
    }
    /// The newest epoch, when joined.
    pub fn epoch(self) -> Option<u32> {
        match self {
            Self::Joined { epoch, .. } => Some(epoch),
            _ => None,
        }
    }
    /// Where its live stream starts, when joined.
    pub fn log_start(self) -> Option<LogPos> {
        match self {
            Self::Joined { log_start, .. } => Some(log_start),
            _ => None,
        }
    }
    /// Why the member is out of the room, when it is.
    pub fn gone(self) -> Option<GoneReason> {
        match self {
            Self::Gone(reason) => Some(reason),
            _ => None,
        }
    }
}

/// Why a member is no longer in its room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoneReason {
    /// The owner removed it.
    Removed = 0,
    /// It left.
    Left = 1,
    /// The owner deleted the room.
    Deleted = 2,
}

#[derive(Debug)]
pub(crate) struct AwaitingGrant {
    pub room_id: RoomId,
    pub owner_sign_pk: [u8; 32],
    pub psk: Secret32,
    pub sign_key: SignKey,
    pub kx_key: KxKey,
    pub eph: KxKey,
    pub request_hash: [u8; 32],
}

#[derive(Debug)]
pub(crate) struct AwaitingAdd {
    pub room_id: RoomId,
    pub owner_sign_pk: [u8; 32],
    pub policy: HistoryPolicy,
    pub sign_key: SignKey,
    pub kx_key: KxKey,
    pub welcome: Option<Welcome>,
}

#[derive(Debug)]
pub(crate) struct Joined {
    pub view: RoomView,
    /// Key-delivery keys, newest first: the last one a share opened with, and the ones announced
    /// since (at most [`MAX_KX_KEYS`] in all).
    pub kx_keys: Vec<KxKey>,
    /// Generation of our newest key update (0: none yet).
    pub kx_generation: u32,
    /// Epochs entered since our last key update.
    pub epochs_since_refresh: u32,
    /// Our Leave is submitted and not yet landed: we send nothing more, and keep our keys until
    /// the relay holds it.
    pub leaving: bool,
}

#[derive(Debug)]
pub(crate) enum MemberState {
    AwaitingGrant(Box<AwaitingGrant>),
    AwaitingAdd(Box<AwaitingAdd>),
    Joined(Box<Joined>),
    Gone(RoomId, GoneReason),
}

/// A member of one room (not the owner).
#[derive(Debug)]
pub struct Member {
    pub(crate) state: MemberState,
    pub(crate) padding: Padding,
    pub(crate) retained_epochs: u32,
    /// Announce a fresh key-delivery key after this many epochs (0: only when asked).
    pub(crate) key_refresh_every: u32,
    /// The connection, authentication and requests in flight.
    pub(crate) session: Session,
}

/// Most key-delivery keys a member holds at once (its current one and those announced since).
pub const MAX_KX_KEYS: usize = 4;

/// Our own key update, seen in the log, is ahead of our state (we were restored from an older
/// backup): adopt its generation, so that our next update is not refused as stale. The keys
/// announced since the backup are lost: shares sealed to them do not open, and the member must
/// rejoin (key-delivery keys are random so that a leaked state stops opening shares once the
/// member refreshes its key).
fn catch_up_own_key_update(j: &mut Joined, generation: u32) {
    j.kx_generation = j.kx_generation.max(generation);
}

/// A member's settings ([`Member::join_with`], [`Member::reconfigure`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberConfig {
    retained_epochs: u32,
    key_refresh_every: u32,
    padding: Padding,
}

impl Default for MemberConfig {
    fn default() -> Self {
        Self { retained_epochs: 16, key_refresh_every: DEFAULT_KEY_REFRESH_EPOCHS, padding: Padding::default() }
    }
}

impl MemberConfig {
    /// Starts from the defaults: 16 past epochs kept, a fresh key-delivery key every
    /// [`DEFAULT_KEY_REFRESH_EPOCHS`] epochs, power-of-two padding from 64 bytes.
    pub fn builder() -> MemberConfigBuilder {
        MemberConfigBuilder(Self::default())
    }
    /// A builder starting from these settings.
    pub fn to_builder(&self) -> MemberConfigBuilder {
        MemberConfigBuilder(self.clone())
    }
}

/// Builds a [`MemberConfig`].
#[derive(Clone, Debug)]
pub struct MemberConfigBuilder(MemberConfig);

impl MemberConfigBuilder {
    /// How many past epochs' keys to keep before erasing them (1..=1024).
    pub fn retained_epochs(mut self, n: u32) -> Self {
        self.0.retained_epochs = n;
        self
    }
    /// Announce a fresh key-delivery key every `n` epochs (0: only on [`Member::update_key`]).
    /// A leaked member state then opens no key share older than the last refresh the owner used.
    pub fn key_refresh_every(mut self, n: u32) -> Self {
        self.0.key_refresh_every = n;
        self
    }
    /// The padding of outgoing messages.
    pub fn padding(mut self, padding: Padding) -> Self {
        self.0.padding = padding;
        self
    }
    /// The settings.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the retained epochs are outside 1..=1024.
    pub fn build(self) -> Result<MemberConfig, Error> {
        if self.0.retained_epochs == 0 || self.0.retained_epochs > 1024 {
            return Err(Error::InvalidArgument("retained epochs must be in 1..=1024"));
        }
        Ok(self.0)
    }
}

/// Default of [`MemberConfigBuilder::key_refresh_every`].
pub const DEFAULT_KEY_REFRESH_EPOCHS: u32 = 8;

impl Member {
    /// Starts joining with `invite`: fresh member keys and ephemeral key, and a join request
    /// for the relay. `name` is shown to the owner.
    ///
    /// # Errors
    /// [`Error::InviteExpired`] when `now` is past the invite's expiry; [`Error::InvalidArgument`]
    /// for a name too long to seal.
    pub fn join(invite: &Invite, name: &str, now: u64, rng: &mut impl CryptoRng) -> Result<(Self, Output), Error> {
        Self::join_with(MemberConfig::default(), invite, name, now, rng)
    }

    /// [`Self::join`] with settings of the member's own.
    ///
    /// # Errors
    /// As [`Self::join`].
    pub fn join_with(
        config: MemberConfig,
        invite: &Invite,
        name: &str,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<(Self, Output), Error> {
        if now > invite.expires_at {
            return Err(Error::InviteExpired);
        }
        let keys = invite_keys(&invite.room_id, &invite.token);
        let sign_key = SignKey::generate(rng);
        let sign_public = sign_key.public();
        let kx_key = KxKey::generate(rng);
        let eph = join::ephemeral(rng);
        let req = join::build_request(invite, &keys, &sign_key, kx_key.public(), eph.public(), name, rng)?;
        let bytes = req.encode();
        let mut m = Self {
            state: MemberState::AwaitingGrant(Box::new(AwaitingGrant {
                room_id: invite.room_id,
                owner_sign_pk: invite.owner_sign_pk.to_bytes(),
                psk: keys.psk,
                sign_key,
                kx_key,
                eph,
                request_hash: join::request_hash(&bytes),
            })),
            padding: config.padding,
            retained_epochs: config.retained_epochs,
            key_refresh_every: config.key_refresh_every,
            session: Session::for_key(&sign_public),
        };
        let out = m.session.must_land(Kind::JoinRequest, Operation::JoinRequest, bytes);
        Ok((m, out))
    }

    /// The member's settings.
    pub fn config(&self) -> MemberConfig {
        MemberConfig {
            retained_epochs: self.retained_epochs,
            key_refresh_every: self.key_refresh_every,
            padding: self.padding.clone(),
        }
    }

    /// Changes the member's settings: retention from the next epoch, padding from the next
    /// message, key refresh from the next commit.
    pub fn reconfigure(&mut self, config: MemberConfig) {
        if let MemberState::Joined(j) = &mut self.state {
            j.view.chain.retained = config.retained_epochs;
            j.view.padding = config.padding.clone();
        }
        self.retained_epochs = config.retained_epochs;
        self.key_refresh_every = config.key_refresh_every;
        self.padding = config.padding;
    }

    /// Tracks a request that must land.
    fn must_land(&mut self, kind: Kind, op: Operation, frame: Vec<u8>) -> Output {
        self.session.must_land(kind, op, frame)
    }

    /// How many requests that must land wait for the relay (resent on every new connection,
    /// after authentication, until settled).
    pub fn requests_in_flight(&self) -> usize {
        self.session.requests.flights.len()
    }

    /// Whether our Leave was submitted and has not landed yet (we keep our keys until it has).
    pub fn is_leaving(&self) -> bool {
        matches!(&self.state, MemberState::Joined(j) if j.leaving)
    }

    /// The room id.
    pub fn room_id(&self) -> RoomId {
        match &self.state {
            MemberState::AwaitingGrant(s) => s.room_id,
            MemberState::AwaitingAdd(s) => s.room_id,
            MemberState::Joined(j) => j.view.room_id,
            MemberState::Gone(r, _) => *r,
        }
    }
    /// This member's Ed25519 key.
    ///
    /// # Errors
    /// [`Error::Removed`] or [`Error::RoomDeleted`] once gone (the key was erased).
    pub fn sign_public(&self) -> Result<MemberKey, Error> {
        let key = match &self.state {
            MemberState::AwaitingGrant(s) => s.sign_key.public(),
            MemberState::AwaitingAdd(s) => s.sign_key.public(),
            MemberState::Joined(j) => j.view.sign_key.public(),
            MemberState::Gone(..) => self.joined().map(|_| [0; 32])?,
        };
        Ok(MemberKey::from_bytes(key))
    }
    /// Where the member stands: joining, in the room (with its number, epoch and log start),
    /// or gone (and why).
    pub fn phase(&self) -> Phase {
        match &self.state {
            MemberState::AwaitingGrant(_) => Phase::AwaitingGrant,
            MemberState::AwaitingAdd(_) => Phase::AwaitingAdd,
            MemberState::Joined(j) => Phase::Joined {
                member: j.view.me,
                epoch: j.view.chain.current_number(),
                log_start: LogPos(j.view.live_start),
                leaving: j.leaving,
            },
            MemberState::Gone(_, reason) => Phase::Gone(*reason),
        }
    }
    /// Whether the member is in the room.
    pub fn is_joined(&self) -> bool {
        matches!(self.state, MemberState::Joined(_))
    }
    /// The roster.
    ///
    /// # Errors
    /// [`Error::NotJoined`] before joining; [`Error::Removed`] or [`Error::RoomDeleted`] once
    /// gone.
    pub fn roster(&self) -> Result<&Roster, Error> {
        self.joined().map(|j| &j.view.roster)
    }
    /// The fingerprint of a member's key.
    ///
    /// # Errors
    /// [`Error::NotJoined`] before joining, [`Error::Removed`] or [`Error::RoomDeleted`] once
    /// gone; [`Error::NoSuchMember`] when `member` is not in the roster.
    pub fn fingerprint(&self, member: MemberNo) -> Result<String, Error> {
        let j = self.joined()?;
        let e = j.view.roster.get(member).ok_or(Error::NoSuchMember(member))?;
        Ok(fingerprint::fingerprint(&j.view.room_id, &e.sign_pk))
    }

    fn joined(&self) -> Result<&Joined, Error> {
        match &self.state {
            MemberState::Joined(j) => Ok(j),
            MemberState::Gone(_, GoneReason::Deleted) => Err(Error::RoomDeleted),
            MemberState::Gone(..) => Err(Error::Removed),
            _ => Err(Error::NotJoined),
        }
    }
    /// Joined and not leaving: what sending needs.
    fn active_mut(&mut self) -> Result<&mut Joined, Error> {
        Self::active(&mut self.state)
    }
    fn active(state: &mut MemberState) -> Result<&mut Joined, Error> {
        match Self::joined_in(state)? {
            j if j.leaving => Err(Error::Removed),
            j => Ok(j),
        }
    }
    fn joined_mut(&mut self) -> Result<&mut Joined, Error> {
        Self::joined_in(&mut self.state)
    }
    fn joined_in(state: &mut MemberState) -> Result<&mut Joined, Error> {
        match state {
            MemberState::Joined(j) => Ok(j),
            MemberState::Gone(_, GoneReason::Deleted) => Err(Error::RoomDeleted),
            MemberState::Gone(..) => Err(Error::Removed),
            _ => Err(Error::NotJoined),
        }
    }

    /// A new link to the relay is up; `channel_binding` is its handshake hash. Once the relay
    /// accepts the authentication that answers its challenge, every request that must land and
    /// was not settled is sent again. Requests handed out before the first connection are for
    /// the app to send on it; after that, requests handed out while no connection is up may be
    /// dropped: the member resends.
    pub fn on_connected(&mut self, channel_binding: ChannelBinding) {
        self.session.on_connected(channel_binding.to_bytes());
    }

    /// Sends a room message.
    ///
    /// # Errors
    /// [`Error::NotJoined`] before joining; [`Error::Removed`] once gone or while leaving;
    /// [`Error::RoomDeleted`]; [`Error::MessageTooLong`]; [`Error::CounterExhausted`].
    pub fn send(&mut self, content: &[u8], rng: &mut impl CryptoRng) -> Result<Output, Error> {
        Self::active(&mut self.state)?.view.send(&mut self.session, content, rng)
    }

    /// Announces a fresh key-delivery key; the old one is erased once a share sealed to the
    /// new one has opened.
    ///
    /// # Errors
    /// As [`Self::send`] for the member's phase; [`Error::InvalidArgument`] while
    /// [`MAX_KX_KEYS`] keys are held (a commit must use one first); [`Error::CounterExhausted`].
    pub fn update_key(&mut self, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        let j = self.active_mut()?;
        // The owner may already have sealed a share to any announced key: keep them all until
        // one opens, but no more than a few.
        if j.kx_keys.len() >= MAX_KX_KEYS {
            return Err(Error::InvalidArgument("key updates wait for a commit that uses one"));
        }
        let generation = j.kx_generation.checked_add(1).ok_or(Error::CounterExhausted)?;
        let key = KxKey::generate(rng);
        let f = Signed::sign(
            KeyUpdate { room_id: j.view.room_id, member: j.view.me, generation, kx_pk: key.public() },
            &j.view.sign_key,
        );
        j.kx_generation = generation;
        j.epochs_since_refresh = 0;
        j.kx_keys.insert(0, key);
        Ok(self.must_land(Kind::KeyUpdate, Operation::KeyUpdate { generation }, f.encode()))
    }

    /// Leaves the room: tells the relay and the owner. From now on the member sends nothing; it
    /// erases every key once the relay holds the Leave ([`Event::OperationLanded`] with
    /// [`Operation::Leave`], then [`Self::phase`] is `Gone(Left)`), and resends the Leave on every
    /// new connection until then.
    ///
    /// # Errors
    /// [`Error::NotJoined`] before joining; [`Error::Removed`] once gone or already leaving;
    /// [`Error::RoomDeleted`].
    pub fn leave(&mut self) -> Result<Output, Error> {
        let j = self.active_mut()?;
        let f = Signed::sign(Leave { room_id: j.view.room_id, member: j.view.me }, &j.view.sign_key);
        j.leaving = true;
        Ok(self.must_land(Kind::Leave, Operation::Leave, f.encode()))
    }

    /// Out of the room for `reason`: every key is erased and every request in flight settled
    /// (a Leave as landed, anything else as failed).
    fn go(&mut self, reason: GoneReason) -> Output {
        let room = self.room_id();
        self.state = MemberState::Gone(room, reason);
        let code = match reason {
            GoneReason::Deleted => Reject::RoomDeleted,
            GoneReason::Removed | GoneReason::Left => Reject::NotMember,
        };
        let mut out = Output::default();
        for f in self.session.requests.take_where(|_| true) {
            out.events.push(match f.kind {
                Kind::Leave => Event::OperationLanded { op: f.op },
                _ => Event::OperationFailed { op: f.op, reason: Failure::Refused(code.code()) },
            });
        }
        out
    }

    /// A request that landed; a landed Leave ends the member.
    fn on_landed(&mut self, f: Flight) -> Output {
        let mut out = Output::event(Event::OperationLanded { op: f.op });
        if f.kind == Kind::Leave {
            out.extend(self.go(GoneReason::Left));
        }
        out
    }

    /// A request that can never land.
    fn on_failed(&mut self, f: Flight, code: u16) -> Output {
        let mut out = Output::event(Event::OperationFailed { op: f.op, reason: Failure::Refused(code) });
        match f.kind {
            // The key announced by an update that can never land opens nothing.
            Kind::KeyUpdate => {
                if let (Ok(Frame::KeyUpdate(u)), MemberState::Joined(j)) = (Frame::decode(f.frame()), &mut self.state)
                    && j.kx_keys.len() > 1
                {
                    j.kx_keys.retain(|k| k.public() != u.body.kx_pk);
                }
            }
            // Refused for good: the member stops here all the same.
            Kind::Leave => out.extend(self.go(GoneReason::Left)),
            _ => {}
        }
        out
    }

    /// Asks the relay for history before our live stream (what the room's policy allows us).
    ///
    /// # Errors
    /// [`Error::NotJoined`] before joining; [`Error::Removed`] or [`Error::RoomDeleted`] once gone.
    pub fn fetch_history(&mut self, limit: u32) -> Result<Output, Error> {
        Ok(Self::joined_in(&mut self.state)?.view.fetch_history(&mut self.session, limit))
    }

    /// Tells the relay we have read everything processed so far (an empty output before the
    /// first live entry, or when not joined).
    pub fn ack(&self) -> Output {
        self.joined().map(|j| j.view.ack()).unwrap_or_default()
    }

    /// Handles one message from the relay (`rng` feeds the key updates it may make).
    ///
    /// # Errors
    /// A message that does not decode, one for another room, a log position out of order
    /// (`RelayGap`/`RelayReplay`: reconnect, the member resumes from its own position), or a
    /// first commit that fails its checks; the state is unchanged. A frame that fails its checks
    /// in order is not an error: it is reported as [`Event::FrameRejected`].
    pub fn handle(&mut self, bytes: &[u8], rng: &mut impl CryptoRng) -> Result<Output, Error> {
        // The member checks no clock: invite expiry is the owner's and the relay's to check.
        let mut out = session::handle(self, bytes, 0, rng)?;
        let due = match &self.state {
            MemberState::Joined(j) => self.key_refresh_every > 0 && j.epochs_since_refresh >= self.key_refresh_every,
            _ => false,
        };
        if due && let Ok(o) = self.update_key(rng) {
            out.extend(o);
        }
        Ok(out)
    }

    /// The Authenticate for `nonce`: a joiner speaks for its future member key from 0, a member
    /// resumes from its live position; a party that is gone authenticates no more.
    fn authenticate_as(&mut self, nonce: &[u8; 32]) -> Result<Option<Request>, Error> {
        let (key, room, resume) = match &self.state {
            MemberState::AwaitingGrant(s) => (&s.sign_key, s.room_id, 0),
            MemberState::AwaitingAdd(s) => (&s.sign_key, s.room_id, 0),
            MemberState::Joined(j) => (&j.view.sign_key, j.view.room_id, j.view.live_next),
            MemberState::Gone(..) => return Ok(None),
        };
        self.session.authenticate(key, nonce, room, resume).map(Some)
    }

    fn on_direct(&mut self, frame: &[u8]) -> Result<Output, Error> {
        match (Frame::decode(frame)?, &mut self.state) {
            (Frame::KeyGrant(g), MemberState::AwaitingGrant(_)) => self.on_grant(g, frame),
            (Frame::Welcome(w), MemberState::AwaitingAdd(s)) => {
                if w.body.room_id != s.room_id {
                    return Err(Error::WrongRoom);
                }
                if !w.verify(&s.owner_sign_pk) {
                    return Err(Error::BadSignature);
                }
                if w.body.joiner_sign_pk != s.sign_key.public() {
                    return Err(Error::Unexpected("welcome for another joiner"));
                }
                // An Add rebuilt on a later epoch (its first commit lost the epoch) comes with a
                // new Welcome after the stale one: keep the newest.
                if s.welcome.as_ref().is_none_or(|old| w.body.epoch >= old.epoch) {
                    s.welcome = Some(w.body);
                }
                Ok(Output::default())
            }
            // A join step the member is already past, from the owner: a directed frame comes
            // back until acknowledged, and the acknowledgement waits for the state that read
            // it to be saved, so a crash in between brings it to a state that used it.
            (Frame::KeyGrant(g), MemberState::AwaitingAdd(s)) if g.verify(&s.owner_sign_pk) => Ok(Output::default()),
            (Frame::KeyGrant(g), MemberState::Joined(j)) if verify_owner(j, |k| g.verify(k)) => Ok(Output::default()),
            (Frame::Welcome(w), MemberState::Joined(j)) if verify_owner(j, |k| w.verify(k)) => Ok(Output::default()),
            _ => Err(Error::Unexpected("directed frame not expected in this state")),
        }
    }

    fn on_grant(&mut self, g: Signed<KeyGrant>, bytes: &[u8]) -> Result<Output, Error> {
        let MemberState::AwaitingGrant(s) = &self.state else { return Err(Error::Unexpected("grant")) };
        if g.body.room_id != s.room_id {
            return Err(Error::WrongRoom);
        }
        if !g.verify(&s.owner_sign_pk) {
            return Err(Error::BadSignature);
        }
        if g.body.joiner_sign_pk != s.sign_key.public() || g.body.request_hash != s.request_hash {
            return Err(Error::Unexpected("grant answers another request"));
        }
        let (payload, export) = join::open_grant(&g.body, &s.eph, &s.psk)?;
        let tag = join::confirm_tag(&export, &s.request_hash, &join::grant_hash(bytes));
        let confirm = Signed::sign(
            JoinConfirm { room_id: s.room_id, invite_pk: g.body.invite_pk, joiner_sign_pk: s.sign_key.public(), tag },
            &s.sign_key,
        );
        let next = AwaitingAdd {
            room_id: s.room_id,
            owner_sign_pk: s.owner_sign_pk,
            policy: payload.policy,
            sign_key: s.sign_key.clone(),
            kx_key: s.kx_key.clone(),
            welcome: None,
        };
        // Dropping the AwaitingGrant state zeroizes the ephemeral key and the PSK.
        self.state = MemberState::AwaitingAdd(Box::new(next));
        let mut out = Output::event(Event::Granted);
        out.extend(self.must_land(Kind::JoinConfirm, Operation::JoinConfirm, confirm.encode()));
        Ok(out)
    }

    fn on_deliver(&mut self, seq: u64, frame: &[u8]) -> Result<Output, Error> {
        match &mut self.state {
            MemberState::AwaitingAdd(_) => self.on_first_commit(seq, frame),
            MemberState::Joined(j) => {
                if seq >= j.view.live_next
                    && let Ok(Frame::DeleteRoom(f)) = Frame::decode(frame)
                    && j.view.check_delete(&f).is_ok()
                {
                    // Deletion is final and owner-signed: it counts wherever it arrives.
                    let mut out = Output::event(Event::RoomDeleted);
                    out.extend(self.go(GoneReason::Deleted));
                    return Ok(out);
                }
                let pos = j.view.position(seq)?;
                j.view.consume(seq, &pos);
                Ok(match self.on_log(frame, seq, &pos) {
                    Ok(o) => o,
                    Err(error) => Output::event(Event::FrameRejected { position: seq, error }),
                })
            }
            MemberState::Gone(..) => Ok(Output::default()),
            MemberState::AwaitingGrant(_) => Err(Error::NotJoined),
        }
    }

    /// The commit that adds us, with the welcome that came before it, makes us a member.
    fn on_first_commit(&mut self, seq: u64, bytes: &[u8]) -> Result<Output, Error> {
        let MemberState::AwaitingAdd(s) = &self.state else { return Err(Error::NotJoined) };
        let Frame::Commit(f) = Frame::decode(bytes)? else {
            return Err(Error::Unexpected("log entry before the commit that adds us"));
        };
        let c = &f.body;
        if c.room_id != s.room_id {
            return Err(Error::WrongRoom);
        }
        if !f.verify(&s.owner_sign_pk) {
            return Err(Error::BadSignature);
        }
        let me = s.sign_key.public();
        let Change::Add { member, sign_pk, .. } = &c.change else {
            return Err(Error::Unexpected("log entry before the commit that adds us"));
        };
        if *sign_pk != me {
            return Err(Error::Unexpected("commit adds someone else"));
        }
        let w = s.welcome.as_ref().ok_or(Error::Unexpected("commit before its welcome"))?;
        if w.member != *member || w.epoch != c.epoch {
            return Err(Error::ForkDetected);
        }
        let mut roster = Roster::default();
        for (m, pk) in &w.roster {
            roster.insert(*m, RosterEntry { sign_pk: MemberKey::from_bytes(*pk), kx_pk: [0; 32] })?;
        }
        if roster.digest() != c.roster_digest || roster.get(0).map(|e| e.sign_pk.to_bytes()) != Some(s.owner_sign_pk) {
            return Err(Error::ForkDetected);
        }
        let expected_mode = match s.policy {
            HistoryPolicy::SinceLastEpoch => KeyMode::Derived,
            HistoryPolicy::SinceJoin => KeyMode::Fresh,
        };
        if c.key_mode != expected_mode {
            return Err(Error::Unexpected("commit key mode does not match the room policy"));
        }
        let (secret, prev, _) = epoch::open_share(c, *member, &[&s.kx_key])?;
        let mut chain;
        match (c.key_mode, prev) {
            (KeyMode::Derived, Some(prev)) => {
                if !crypto::ct_eq(epoch::derived_secret(&prev, c).expose(), secret.expose()) {
                    return Err(Error::ForkDetected);
                }
                let e_prev = c.epoch.checked_sub(1).ok_or(Error::ForkDetected)?;
                chain = EpochChain::new(
                    Epoch::new(&s.room_id, e_prev, c.prev_epoch_hash, 0, false, prev),
                    self.retained_epochs,
                );
                chain.push(Epoch::new(&s.room_id, c.epoch, epoch::epoch_hash(bytes), seq, false, secret));
            }
            (KeyMode::Fresh, None) => {
                chain = EpochChain::new(
                    Epoch::new(&s.room_id, c.epoch, epoch::epoch_hash(bytes), seq, false, secret),
                    self.retained_epochs,
                );
            }
            _ => return Err(Error::Forged),
        }
        let view = RoomView {
            room_id: s.room_id,
            owner_sign_pk: s.owner_sign_pk,
            policy: s.policy,
            me: *member,
            sign_key: s.sign_key.clone(),
            roster,
            former: BTreeMap::new(),
            chain,
            live_start: seq,
            live_next: seq + 1,
            history_next: None,
            send_seq: (c.epoch, 0),
            padding: self.padding.clone(),
        };
        let epoch_no = c.epoch;
        let member_no = *member;
        let kx_key = s.kx_key.clone();
        self.state = MemberState::Joined(Box::new(Joined {
            view,
            kx_keys: vec![kx_key],
            kx_generation: 0,
            epochs_since_refresh: 0,
            leaving: false,
        }));
        Ok(Output::event(Event::Joined { member: member_no, epoch: epoch_no }))
    }

    fn on_log(&mut self, frame: &[u8], seq: u64, pos: &Position) -> Result<Output, Error> {
        let history = matches!(pos, Position::History);
        let j = Self::joined_in(&mut self.state)?;
        match Frame::decode(frame)? {
            Frame::Message(f) => Ok(Output::event(j.view.receive_message(&f, seq, history)?)),
            // Commits below our live stream predate us: they hold no share for us and their
            // chain is not ours to check.
            Frame::Commit(_) if history => Ok(Output::default()),
            Frame::Commit(f) => self.on_commit(f, frame, seq),
            Frame::KeyUpdate(_) | Frame::Leave(_) if history => Ok(Output::default()),
            Frame::KeyUpdate(f) => {
                let ev = j.view.receive_key_update(&f)?;
                let mut out = Output::event(ev);
                if f.body.member == j.view.me {
                    catch_up_own_key_update(j, f.body.generation);
                    // Our own update in the log, byte for byte: it landed.
                    if let Some(fl) = self.session.requests.take_frame(Kind::KeyUpdate, frame) {
                        out.events.push(Event::OperationLanded { op: fl.op });
                    }
                }
                Ok(out)
            }
            Frame::Leave(f) => {
                let me = f.body.member == j.view.me;
                let mut out = Output::event(j.view.receive_leave(&f)?);
                // Our own Leave in the log, byte for byte: it landed.
                if me && let Some(fl) = self.session.requests.take_frame(Kind::Leave, frame) {
                    out.events.push(Event::OperationLanded { op: fl.op });
                    out.extend(self.go(GoneReason::Left));
                }
                Ok(out)
            }
            Frame::DeleteRoom(f) => {
                j.view.check_delete(&f)?;
                let mut out = Output::event(Event::RoomDeleted);
                out.extend(self.go(GoneReason::Deleted));
                Ok(out)
            }
            _ => Err(Error::Unexpected("frame kind not in a room log")),
        }
    }

    fn on_commit(&mut self, f: Signed<Commit>, bytes: &[u8], seq: u64) -> Result<Output, Error> {
        let j = self.joined_mut()?;
        let keys: Vec<KxKey> = j.kx_keys.clone();
        let key_refs: Vec<&KxKey> = keys.iter().collect();
        match j.view.follow_commit(&f, bytes, seq, &key_refs)? {
            Followed::RemovedUs => {
                let mut out = Output::event(Event::RemovedFromRoom);
                out.extend(self.go(GoneReason::Removed));
                Ok(out)
            }
            Followed::Entered { reason, used_key } => {
                if let Some(used) = used_key {
                    // A share opened with key `used`: every older key can go.
                    j.kx_keys.truncate(used + 1);
                }
                j.epochs_since_refresh = j.epochs_since_refresh.saturating_add(1);
                Ok(Output::event(Event::EpochChanged { epoch: f.body.epoch, reason }))
            }
        }
    }
}

impl Role for Member {
    fn session(&mut self) -> &mut Session {
        &mut self.session
    }
    fn room_id(&self) -> RoomId {
        Member::room_id(self)
    }
    fn authenticate(&mut self, nonce: &[u8; 32]) -> Result<Option<Request>, Error> {
        self.authenticate_as(nonce)
    }
    fn on_direct(&mut self, frame: &[u8], _id: u64, _now: u64, _rng: &mut impl CryptoRng) -> Result<Output, Error> {
        Member::on_direct(self, frame)
    }
    fn on_deliver(&mut self, seq: u64, frame: &[u8], _rng: &mut impl CryptoRng) -> Result<Output, Error> {
        Member::on_deliver(self, seq, frame)
    }
    // The member's answers are all in the table.
    fn decide(&mut self, _flight: &Flight, _code: Option<u16>) -> Verdict {
        Verdict::Final
    }
    fn landed(&mut self, flight: Flight, _rng: &mut impl CryptoRng) -> Result<Output, Error> {
        Ok(self.on_landed(flight))
    }
    fn failed(&mut self, flight: Flight, code: u16, _rng: &mut impl CryptoRng) -> Result<Output, Error> {
        Ok(self.on_failed(flight, code))
    }
    fn auth_refused(&mut self, code: u16) -> Output {
        // A leaving member refused as no member: the relay holds its Leave (or removed it),
        // which is what the Leave asked for.
        if self.is_leaving() && code == Reject::NotMember.code() {
            return self.go(GoneReason::Left);
        }
        Output::default()
    }
}

/// Whether the room owner's key (member 0's) verifies what `check` checks.
fn verify_owner(j: &Joined, check: impl Fn(&[u8; 32]) -> bool) -> bool {
    j.view.roster.get(0).is_some_and(|e| check(e.sign_pk.as_bytes()))
}
