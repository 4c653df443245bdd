//! State that survives: owner and member state as versioned blobs ("pickles"), and the sealed
//! form under a key from Argon2id over a password.
//!
//! ```text
//! pickle  = magic (4: "ZFCO" owner | "ZFCM" member) || version u16 (2) || fields
//!           (version 2 = version 1's fields || requests in flight; version 1 still loads)
//! sealed  = "ZFCS" || version u8 (1) || m_cost_kib u32 || t_cost u32 || p_cost u32
//!           || salt (16) || nonce (24) || XChaCha20-Poly1305(key, nonce, aad = header, pickle)
//! key     = Argon2id(password, salt, m_cost_kib, t_cost, p_cost) -> 32 bytes
//! ```
//! Invariants: loading never changes anything (a wrong password or a damaged blob is an error
//! and nothing else); the loader refuses Argon2 parameters outside [`Argon2Params::MAX`] before
//! it allocates, so a crafted blob cannot make it allocate gigabytes; a blob written by version 1
//! of the format loads in every later version (fixtures in `tests/fixtures/`). Nonces are random,
//! so restoring an old blob never makes a party reuse one.

use std::collections::{BTreeMap, VecDeque};

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::crypto::{self, KxKey, NONCE_LEN, Secret32, SignKey};
use crate::epoch::{Epoch, EpochChain};
use crate::error::DecodeError;
use crate::frame::{Change, Commit, HistoryPolicy, JoinRequest, MAX_MEMBERS, Signed, Welcome};
use crate::inflight::{Flight, Kind, Requests};
use crate::member::{AwaitingAdd, AwaitingGrant, GoneReason, Joined, Member, MemberState};
use crate::message::{Padding, ReplayWindow};
use crate::owner::{InviteStatus, JoinStage, Op, Owner, OwnerInvite, PendingCommit, PendingJoin};
use crate::room::{RoomConfig, Roster, RosterEntry};
use crate::session::{AuthRetry, Session};
use crate::view::RoomView;
use crate::wire::{MAX_ENVELOPE_LEN, MAX_FRAME_LEN, Reader, Writer};

const OWNER_MAGIC: &[u8; 4] = b"ZFCO";
const MEMBER_MAGIC: &[u8; 4] = b"ZFCM";
const SEALED_MAGIC: &[u8; 4] = b"ZFCS";
const PICKLE_VERSION: u16 = 2;
/// The first version, without requests in flight: still loaded.
const PICKLE_V1: u16 = 1;
/// Most requests in flight a state may hold.
const MAX_FLIGHTS: usize = 1 << 16;
const SEALED_VERSION: u8 = 1;
/// Largest pickle accepted (a 10 000-member owner state fits well below it).
const MAX_PICKLE: usize = 64 * 1024 * 1024;

/// Errors of loading and sealing state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// The blob is not a state of this kind, or is damaged.
    Malformed(DecodeError),
    /// The blob was written by a newer version of the format.
    UnsupportedVersion(u16),
    /// The blob holds the other kind of state (owner vs member).
    WrongKind,
    /// The password does not open the blob (or the blob was altered).
    WrongPassword,
    /// The Argon2 parameters are outside the bounds this loader accepts.
    Argon2Params {
        /// Memory, KiB.
        m_cost_kib: u32,
        /// Iterations.
        t_cost: u32,
        /// Lanes.
        p_cost: u32,
    },
}

impl From<DecodeError> for StateError {
    fn from(e: DecodeError) -> Self {
        Self::Malformed(e)
    }
}

impl core::fmt::Display for StateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "damaged state blob: {e}"),
            Self::UnsupportedVersion(v) => write!(f, "state blob version {v} is newer than this library"),
            Self::WrongKind => f.write_str("state blob holds the other kind of state"),
            Self::WrongPassword => f.write_str("wrong password"),
            Self::Argon2Params { m_cost_kib, t_cost, p_cost } => {
                write!(f, "Argon2 parameters out of bounds (m={m_cost_kib} KiB, t={t_cost}, p={p_cost})")
            }
        }
    }
}

impl std::error::Error for StateError {}

/// Argon2id cost parameters of a sealed state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl Argon2Params {
    /// The default for apps: 64 MiB, 3 iterations, 1 lane.
    pub const DEFAULT: Self = Self { m_cost_kib: 64 * 1024, t_cost: 3, p_cost: 1 };
    /// The largest parameters a loader accepts: 1 GiB, 16 iterations, 8 lanes.
    pub const MAX: Self = Self { m_cost_kib: 1024 * 1024, t_cost: 16, p_cost: 8 };
    /// The smallest: 8 KiB per lane, 1 iteration (tests only: far too weak for real use).
    pub const MIN: Self = Self { m_cost_kib: 8, t_cost: 1, p_cost: 1 };

    fn check(self) -> Result<(), StateError> {
        let ok = (Self::MIN.t_cost..=Self::MAX.t_cost).contains(&self.t_cost)
            && (Self::MIN.p_cost..=Self::MAX.p_cost).contains(&self.p_cost)
            && self.m_cost_kib <= Self::MAX.m_cost_kib
            && self.m_cost_kib >= 8 * self.p_cost;
        if ok {
            Ok(())
        } else {
            Err(StateError::Argon2Params { m_cost_kib: self.m_cost_kib, t_cost: self.t_cost, p_cost: self.p_cost })
        }
    }

    #[cfg(test)]
    pub(crate) fn derive_for_vectors(self, password: &[u8], salt: &[u8; 16]) -> [u8; 32] {
        self.derive(password, salt).map(|k| *k.expose()).unwrap_or_default()
    }

    fn derive(self, password: &[u8], salt: &[u8; 16]) -> Result<Secret32, StateError> {
        self.check()?;
        let bad = StateError::Argon2Params { m_cost_kib: self.m_cost_kib, t_cost: self.t_cost, p_cost: self.p_cost };
        let params =
            argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32)).map_err(|_| bad.clone())?;
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        a.hash_password_into(password, salt, out.as_mut()).map_err(|_| bad)?;
        Ok(Secret32::from_bytes(*out))
    }
}

/// Seals a pickle under a password.
pub(crate) fn seal(
    pickle: &[u8],
    password: &[u8],
    params: Argon2Params,
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>, StateError> {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let key = params.derive(password, &salt)?;
    let mut w = Writer::new();
    w.fixed(SEALED_MAGIC).u8(SEALED_VERSION).u32(params.m_cost_kib).u32(params.t_cost).u32(params.p_cost);
    w.fixed(&salt).fixed(&nonce);
    let ct = crypto::seal(&key, &nonce, w.as_slice(), pickle);
    w.fixed(&ct);
    Ok(w.finish())
}

/// Opens a sealed blob; returns the pickle.
pub(crate) fn open(blob: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, StateError> {
    if blob.len() > MAX_PICKLE + 128 {
        return Err(DecodeError::TooLong { len: blob.len(), max: MAX_PICKLE + 128 }.into());
    }
    let mut r = Reader::new(blob);
    if &r.array::<4>()? != SEALED_MAGIC {
        return Err(DecodeError::InvalidValue("sealed state magic").into());
    }
    let version = r.u8()?;
    if version != SEALED_VERSION {
        return Err(StateError::UnsupportedVersion(u16::from(version)));
    }
    let params = Argon2Params { m_cost_kib: r.u32()?, t_cost: r.u32()?, p_cost: r.u32()? };
    params.check()?;
    let salt: [u8; 16] = r.array()?;
    let nonce: [u8; NONCE_LEN] = r.array()?;
    let header_len = blob.len() - r.remaining();
    let header = blob.get(..header_len).ok_or(DecodeError::Truncated)?;
    let ct = r.take(r.remaining())?;
    let key = params.derive(password, &salt)?;
    crypto::open(&key, &nonce, header, ct).ok_or(StateError::WrongPassword)
}

// ---------------------------------------------------------------- field encoders
//
// Decoding is canonical: every blob that loads re-pickles to the same bytes (a fuzzer found
// blobs that did not), so flags are 0 or 1, absent options carry zeros, and every map is written
// and read in strictly ascending key order.

/// A frame body saved with a zero signature (the signature is not kept).
fn unsigned_body<T: crate::frame::Body>(bytes: &[u8]) -> Result<T, DecodeError> {
    let f = Signed::<T>::decode(bytes)?;
    if f.sig != [0; 64] {
        return Err(DecodeError::InvalidValue("saved frame signature"));
    }
    Ok(f.body)
}

fn get_flag(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::InvalidValue("flag")),
    }
}

fn get_opt_u32(r: &mut Reader<'_>) -> Result<Option<u32>, DecodeError> {
    let has = get_flag(r)?;
    let v = r.u32()?;
    match (has, v) {
        (true, v) => Ok(Some(v)),
        (false, 0) => Ok(None),
        (false, _) => Err(DecodeError::InvalidValue("absent value not zero")),
    }
}

fn get_opt_u64(r: &mut Reader<'_>) -> Result<Option<u64>, DecodeError> {
    let has = get_flag(r)?;
    let v = r.u64()?;
    match (has, v) {
        (true, v) => Ok(Some(v)),
        (false, 0) => Ok(None),
        (false, _) => Err(DecodeError::InvalidValue("absent value not zero")),
    }
}

/// Fails unless `key` is above the previous one.
fn ascending<K: Ord + Copy>(last: &mut Option<K>, key: K) -> Result<(), DecodeError> {
    if last.is_some_and(|l| l >= key) {
        return Err(DecodeError::InvalidValue("keys out of order"));
    }
    *last = Some(key);
    Ok(())
}

fn put_opt_secret(w: &mut Writer, s: Option<&Secret32>) {
    match s {
        Some(s) => {
            w.u8(1).fixed(s.expose());
        }
        None => {
            w.u8(0);
        }
    }
}

fn get_opt_secret(r: &mut Reader<'_>) -> Result<Option<Secret32>, DecodeError> {
    match r.u8()? {
        0 => Ok(None),
        1 => Ok(Some(Secret32::from_bytes(r.array()?))),
        _ => Err(DecodeError::InvalidValue("option tag")),
    }
}

fn get_secret(r: &mut Reader<'_>) -> Result<Secret32, DecodeError> {
    Ok(Secret32::from_bytes(r.array()?))
}

fn put_policy(w: &mut Writer, p: HistoryPolicy) {
    w.u8(p as u8);
}

fn get_policy(r: &mut Reader<'_>) -> Result<HistoryPolicy, DecodeError> {
    match r.u8()? {
        0 => Ok(HistoryPolicy::SinceLastEpoch),
        1 => Ok(HistoryPolicy::SinceJoin),
        _ => Err(DecodeError::InvalidValue("history policy")),
    }
}

fn put_padding(w: &mut Writer, p: &Padding) {
    let b = p.bucket_list();
    w.u32(b.len() as u32);
    for x in b {
        w.u32(*x);
    }
}

fn get_padding(r: &mut Reader<'_>) -> Result<Padding, DecodeError> {
    let n = r.count(4, 64)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(r.u32()?);
    }
    Padding::buckets(v).map_err(|_| DecodeError::InvalidValue("padding"))
}

fn put_roster(w: &mut Writer, roster: &Roster) {
    w.u32(roster.len() as u32);
    for (m, e) in roster.iter() {
        w.u32(m).fixed(&e.sign_pk).fixed(&e.kx_pk).u32(roster.kx_generation(m));
    }
}

fn get_roster(r: &mut Reader<'_>) -> Result<Roster, DecodeError> {
    let n = r.count(72, MAX_MEMBERS)?;
    let mut roster = Roster::default();
    let mut last = None;
    for _ in 0..n {
        let m = r.u32()?;
        ascending(&mut last, m)?;
        let e = RosterEntry { sign_pk: r.array()?, kx_pk: r.array()? };
        let generation = r.u32()?;
        let kx = e.kx_pk;
        roster.insert(m, e).map_err(|_| DecodeError::InvalidValue("roster"))?;
        if generation > 0 {
            roster.set_kx(m, kx, generation);
        }
    }
    Ok(roster)
}

fn put_chain(w: &mut Writer, c: &EpochChain) {
    w.u32(c.retained).u32(c.epochs.len() as u32);
    for e in c.epochs.values() {
        w.u32(e.number).fixed(&e.hash).u64(e.start_seq).u8(u8::from(e.closes_previous));
        put_opt_secret(w, e.secret.as_ref());
        put_opt_secret(w, e.key.as_ref());
        w.u32(e.messages).u32(e.windows.len() as u32);
        for (m, win) in &e.windows {
            let (newest, seen) = win.parts();
            w.u32(*m);
            match newest {
                Some(n) => w.u8(1).u32(n),
                None => w.u8(0).u32(0),
            };
            w.u64(seen);
        }
    }
}

fn get_chain(r: &mut Reader<'_>) -> Result<EpochChain, DecodeError> {
    let retained = r.u32()?;
    if retained == 0 || retained > 1024 {
        return Err(DecodeError::InvalidValue("retained epochs"));
    }
    let n = r.count(50, 1025)?;
    let mut epochs = BTreeMap::new();
    let mut last_epoch = None;
    for _ in 0..n {
        let number = r.u32()?;
        ascending(&mut last_epoch, number)?;
        let hash = r.array()?;
        let start_seq = r.u64()?;
        let closes_previous = get_flag(r)?;
        let secret = get_opt_secret(r)?;
        let key = get_opt_secret(r)?;
        let messages = r.u32()?;
        let nw = r.count(17, MAX_MEMBERS)?;
        let mut windows = BTreeMap::new();
        let mut last = None;
        for _ in 0..nw {
            let m = r.u32()?;
            ascending(&mut last, m)?;
            let newest = get_opt_u32(r)?;
            let seen = r.u64()?;
            windows.insert(m, ReplayWindow::from_parts(newest, seen));
        }
        epochs.insert(number, Epoch { number, hash, start_seq, closes_previous, secret, key, windows, messages });
    }
    if epochs.is_empty() {
        return Err(DecodeError::InvalidValue("no epoch"));
    }
    Ok(EpochChain { epochs, retained })
}

/// A view, and the party's request counter (saved in the view's layout, §17.2).
fn put_view(w: &mut Writer, v: &RoomView, next_req: u32) {
    w.fixed(&v.room_id).fixed(&v.owner_sign_pk);
    put_policy(w, v.policy);
    w.u32(v.me).fixed(v.sign_key.seed().expose());
    put_roster(w, &v.roster);
    w.u32(v.former.len() as u32);
    for (m, (pk, e)) in &v.former {
        w.u32(*m).fixed(pk).u32(*e);
    }
    put_chain(w, &v.chain);
    w.u64(v.live_start).u64(v.live_next);
    match v.history_next {
        Some(h) => w.u8(1).u64(h),
        None => w.u8(0).u64(0),
    };
    w.u32(v.send_seq.0).u32(v.send_seq.1);
    put_padding(w, &v.padding);
    w.u32(next_req);
}

/// A view, and the request counter saved with it.
fn get_view(r: &mut Reader<'_>) -> Result<(RoomView, u32), DecodeError> {
    let room_id = r.array()?;
    let owner_sign_pk = r.array()?;
    let policy = get_policy(r)?;
    let me = r.u32()?;
    let sign_key = SignKey::from_seed(&get_secret(r)?);
    let roster = get_roster(r)?;
    let nf = r.count(40, MAX_MEMBERS * 16)?;
    let mut former = BTreeMap::new();
    let mut last = None;
    for _ in 0..nf {
        let m = r.u32()?;
        ascending(&mut last, m)?;
        former.insert(m, (r.array()?, r.u32()?));
    }
    let chain = get_chain(r)?;
    let live_start = r.u64()?;
    let live_next = r.u64()?;
    let history_next = get_opt_u64(r)?;
    let send_seq = (r.u32()?, r.u32()?);
    let padding = get_padding(r)?;
    let next_req = r.u32()?;
    let view = RoomView {
        room_id,
        owner_sign_pk,
        policy,
        me,
        sign_key,
        roster,
        former,
        chain,
        live_start,
        live_next,
        history_next,
        send_seq,
        padding,
    };
    Ok((view, next_req))
}

/// Requests in flight, in order: each saved Submit as it will be resent.
fn put_requests(w: &mut Writer, requests: &Requests) {
    w.u32(requests.flights.len() as u32);
    for f in &requests.flights {
        w.bytes(&f.request).u8(u8::from(f.announced));
    }
}

fn get_requests(r: &mut Reader<'_>) -> Result<Requests, DecodeError> {
    let n = r.count(5, MAX_FLIGHTS)?;
    let mut requests = Requests::default();
    for _ in 0..n {
        let request = r.bytes(MAX_ENVELOPE_LEN)?.to_vec();
        let announced = get_flag(r)?;
        requests.flights.push_back(Flight::from_request(request, announced)?);
    }
    Ok(requests)
}

/// Reads the header; returns the version (1 or 2).
fn header(r: &mut Reader<'_>, magic: &[u8; 4], other: &[u8; 4]) -> Result<u16, StateError> {
    let m: [u8; 4] = r.array()?;
    if &m == other {
        return Err(StateError::WrongKind);
    }
    if &m != magic {
        return Err(DecodeError::InvalidValue("state magic").into());
    }
    let version = r.u16()?;
    if version != PICKLE_VERSION && version != PICKLE_V1 {
        return Err(StateError::UnsupportedVersion(version));
    }
    Ok(version)
}

// ---------------------------------------------------------------- owner

impl Owner {
    /// The whole owner state as an unencrypted versioned blob (it holds every key: store it
    /// sealed, see [`Self::seal_state`]).
    pub fn pickle(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::new();
        w.fixed(OWNER_MAGIC).u16(PICKLE_VERSION);
        put_view(&mut w, &self.view, self.session.next_req);
        w.fixed(self.kx_key.secret().expose());
        let c = &self.config;
        put_policy(&mut w, c.policy);
        w.u32(c.rotate_every).u32(c.retained_epochs);
        put_padding(&mut w, &c.padding);
        w.u8(u8::from(c.auto_approve));
        w.bytes(&self.create_frame);
        w.u32(self.invites.len() as u32);
        for (pk, inv) in &self.invites {
            w.fixed(pk).fixed(inv.psk.expose()).u64(inv.expires_at).u8(inv.status as u8);
        }
        w.u32(self.joins.len() as u32);
        for j in self.joins.values() {
            w.bytes(&Signed { body: j.request.clone(), sig: [0; 64] }.encode());
            w.fixed(&j.request_hash).bytes(j.name.as_bytes());
            match &j.stage {
                JoinStage::Requested => {
                    w.u8(0);
                }
                JoinStage::Granted { export, grant_hash } => {
                    w.u8(1).fixed(export.expose()).fixed(grant_hash);
                }
                JoinStage::Confirmed => {
                    w.u8(2);
                }
            }
        }
        w.u32(self.next_member);
        match &self.pending {
            Some(p) => {
                w.u8(1).u32(p.req_id).bytes(&p.bytes).fixed(p.secret.expose());
            }
            None => {
                w.u8(0);
            }
        }
        w.u32(self.queue.len() as u32);
        for op in &self.queue {
            match op {
                Op::Add(pk) => w.u8(0).fixed(pk),
                Op::Remove(m) => w.u8(1).u32(*m),
                Op::Rotate => w.u8(2),
            };
        }
        w.u8(u8::from(self.deleted));
        w.u32(self.share_chain.epoch).fixed(self.share_chain.chain.expose());
        // Version 2.
        match self.pending.as_ref().and_then(|p| p.welcome) {
            Some(id) => w.u8(1).u32(id),
            None => w.u8(0).u32(0),
        };
        put_requests(&mut w, &self.session.requests);
        Zeroizing::new(w.finish())
    }

    /// Loads an owner state from [`Self::pickle`]'s output.
    pub fn unpickle(blob: &[u8]) -> Result<Self, StateError> {
        if blob.len() > MAX_PICKLE {
            return Err(DecodeError::TooLong { len: blob.len(), max: MAX_PICKLE }.into());
        }
        let mut r = Reader::new(blob);
        let version = header(&mut r, OWNER_MAGIC, MEMBER_MAGIC)?;
        let (view, next_req) = get_view(&mut r)?;
        let kx_key = KxKey::from_secret(get_secret(&mut r)?);
        let policy = get_policy(&mut r)?;
        let rotate_every = r.u32()?;
        let retained_epochs = r.u32()?;
        let padding = get_padding(&mut r)?;
        let auto_approve = get_flag(&mut r)?;
        let config = RoomConfig::builder()
            .history_policy(policy)
            .rotate_every(rotate_every)
            .retained_epochs(retained_epochs)
            .padding(padding)
            .auto_approve(auto_approve)
            .build()
            .map_err(|_| DecodeError::InvalidValue("room config"))?;
        let create_frame = r.bytes(MAX_FRAME_LEN)?.to_vec();
        let ni = r.count(73, 1 << 20)?;
        let mut invites = BTreeMap::new();
        let mut last = None;
        for _ in 0..ni {
            let pk: [u8; 32] = r.array()?;
            ascending(&mut last, pk)?;
            let psk = get_secret(&mut r)?;
            let expires_at = r.u64()?;
            let status = match r.u8()? {
                0 => InviteStatus::Open,
                1 => InviteStatus::Used,
                2 => InviteStatus::Revoked,
                _ => return Err(DecodeError::InvalidValue("invite status").into()),
            };
            invites.insert(pk, OwnerInvite { psk, expires_at, status });
        }
        let nj = r.count(41, crate::owner::MAX_PENDING_JOINS)?;
        let mut joins = BTreeMap::new();
        let mut last = None;
        for _ in 0..nj {
            let request = unsigned_body::<JoinRequest>(r.bytes(MAX_FRAME_LEN)?)?;
            ascending(&mut last, request.joiner_sign_pk)?;
            let request_hash = r.array()?;
            let name = String::from_utf8(r.bytes(crate::join::MAX_NAME_LEN)?.to_vec())
                .map_err(|_| DecodeError::InvalidValue("name"))?;
            let stage = match r.u8()? {
                0 => JoinStage::Requested,
                1 => JoinStage::Granted { export: get_secret(&mut r)?, grant_hash: r.array()? },
                2 => JoinStage::Confirmed,
                _ => return Err(DecodeError::InvalidValue("join stage").into()),
            };
            joins.insert(request.joiner_sign_pk, PendingJoin { request, request_hash, name, stage });
        }
        let next_member = r.u32()?;
        let mut pending = match r.u8()? {
            0 => None,
            1 => {
                let req_id = r.u32()?;
                let bytes = r.bytes(MAX_FRAME_LEN)?.to_vec();
                let secret = get_secret(&mut r)?;
                let op = match Signed::<Commit>::decode(&bytes)?.body.change {
                    Change::Add { sign_pk, .. } => Op::Add(sign_pk),
                    Change::Remove { member } => Op::Remove(member),
                    Change::Rotate => Op::Rotate,
                };
                Some(PendingCommit { req_id, bytes, secret, op, welcome: None })
            }
            _ => return Err(DecodeError::InvalidValue("pending commit").into()),
        };
        let nq = r.count(1, 1 << 16)?;
        let mut queue = VecDeque::with_capacity(nq);
        for _ in 0..nq {
            queue.push_back(match r.u8()? {
                0 => Op::Add(r.array()?),
                1 => Op::Remove(r.u32()?),
                2 => Op::Rotate,
                _ => return Err(DecodeError::InvalidValue("queued operation").into()),
            });
        }
        let deleted = get_flag(&mut r)?;
        let share_chain = crate::epoch::ShareChain { epoch: r.u32()?, chain: get_secret(&mut r)? };
        let requests = if version == PICKLE_V1 {
            // Version 1 saved only the commit in flight: it is resent like any request.
            let mut requests = Requests::default();
            if let Some(p) = &pending {
                requests.flights.push_back(Flight::from_request(p.request(), true)?);
            }
            requests
        } else {
            let welcome = get_opt_u32(&mut r)?;
            match pending.as_mut() {
                Some(p) => p.welcome = welcome,
                None if welcome.is_some() => return Err(DecodeError::InvalidValue("welcome without commit").into()),
                None => {}
            }
            get_requests(&mut r)?
        };
        if requests.any(|f| matches!(f.kind, Kind::Welcome | Kind::Commit)) && pending.is_none() {
            return Err(DecodeError::InvalidValue("commit in flight").into());
        }
        r.finish()?;
        Ok(Self {
            view,
            kx_key,
            config,
            create_frame,
            invites,
            joins,
            next_member,
            pending,
            queue,
            deleted,
            share_chain,
            session: Session { requests, ..Session::resumed(next_req) },
        })
    }

    /// The owner state sealed under `password` (Argon2id with `params`, XChaCha20-Poly1305).
    pub fn seal_state(
        &self,
        password: &[u8],
        params: Argon2Params,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<u8>, StateError> {
        seal(&self.pickle(), password, params, rng)
    }

    /// Loads a sealed owner state. A wrong password is [`StateError::WrongPassword`].
    pub fn open_state(blob: &[u8], password: &[u8]) -> Result<Self, StateError> {
        Self::unpickle(&open(blob, password)?)
    }
}

// ---------------------------------------------------------------- member

impl Member {
    /// The whole member state as an unencrypted versioned blob (it holds every key: store it
    /// sealed, see [`Self::seal_state`]).
    pub fn pickle(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::new();
        w.fixed(MEMBER_MAGIC).u16(PICKLE_VERSION);
        put_padding(&mut w, &self.padding);
        w.u32(self.retained_epochs).u32(self.session.next_req).u32(self.key_refresh_every);
        match self.session.auth.retry_after {
            Some(r) => w.u8(1).u32(r),
            None => w.u8(0).u32(0),
        };
        match &self.state {
            MemberState::AwaitingGrant(s) => {
                w.u8(0).fixed(&s.room_id).fixed(&s.owner_sign_pk).fixed(s.psk.expose());
                w.fixed(s.sign_key.seed().expose()).fixed(s.kx_key.secret().expose()).fixed(s.eph.secret().expose());
                w.fixed(&s.request_hash);
            }
            MemberState::AwaitingAdd(s) => {
                w.u8(1).fixed(&s.room_id).fixed(&s.owner_sign_pk);
                put_policy(&mut w, s.policy);
                w.fixed(s.sign_key.seed().expose()).fixed(s.kx_key.secret().expose());
                match &s.welcome {
                    Some(wel) => {
                        w.u8(1).bytes(&Signed { body: wel.clone(), sig: [0; 64] }.encode());
                    }
                    None => {
                        w.u8(0);
                    }
                }
            }
            MemberState::Joined(j) => {
                w.u8(2);
                put_view(&mut w, &j.view, self.session.next_req);
                w.u32(j.kx_keys.len() as u32);
                for k in &j.kx_keys {
                    w.fixed(k.secret().expose());
                }
                w.u32(j.kx_generation).u32(j.epochs_since_refresh);
            }
            MemberState::Gone(room, reason) => {
                w.u8(3).fixed(room).u8(*reason as u8);
            }
        }
        // Version 2.
        w.u8(u8::from(self.is_leaving()));
        put_requests(&mut w, &self.session.requests);
        Zeroizing::new(w.finish())
    }

    /// Loads a member state from [`Self::pickle`]'s output.
    pub fn unpickle(blob: &[u8]) -> Result<Self, StateError> {
        if blob.len() > MAX_PICKLE {
            return Err(DecodeError::TooLong { len: blob.len(), max: MAX_PICKLE }.into());
        }
        let mut r = Reader::new(blob);
        let version = header(&mut r, MEMBER_MAGIC, OWNER_MAGIC)?;
        let padding = get_padding(&mut r)?;
        let retained_epochs = r.u32()?;
        if retained_epochs == 0 || retained_epochs > 1024 {
            return Err(DecodeError::InvalidValue("retained epochs").into());
        }
        let mut next_req = r.u32()?;
        let key_refresh_every = r.u32()?;
        let join_req = get_opt_u32(&mut r)?;
        let mut state = match r.u8()? {
            0 => MemberState::AwaitingGrant(Box::new(AwaitingGrant {
                room_id: r.array()?,
                owner_sign_pk: r.array()?,
                psk: get_secret(&mut r)?,
                sign_key: SignKey::from_seed(&get_secret(&mut r)?),
                kx_key: KxKey::from_secret(get_secret(&mut r)?),
                eph: KxKey::from_secret(get_secret(&mut r)?),
                request_hash: r.array()?,
            })),
            1 => {
                let room_id = r.array()?;
                let owner_sign_pk = r.array()?;
                let policy = get_policy(&mut r)?;
                let sign_key = SignKey::from_seed(&get_secret(&mut r)?);
                let kx_key = KxKey::from_secret(get_secret(&mut r)?);
                let welcome = match r.u8()? {
                    0 => None,
                    1 => Some(unsigned_body::<Welcome>(r.bytes(MAX_FRAME_LEN)?)?),
                    _ => return Err(DecodeError::InvalidValue("welcome").into()),
                };
                MemberState::AwaitingAdd(Box::new(AwaitingAdd {
                    room_id,
                    owner_sign_pk,
                    policy,
                    sign_key,
                    kx_key,
                    welcome,
                }))
            }
            2 => {
                let (view, view_req) = get_view(&mut r)?;
                // Version 1 and 2 members kept a second counter once joined: the later one wins.
                next_req = next_req.max(view_req);
                let n = r.count(32, crate::member::MAX_KX_KEYS)?;
                let mut kx_keys = Vec::with_capacity(n);
                for _ in 0..n {
                    kx_keys.push(KxKey::from_secret(get_secret(&mut r)?));
                }
                if kx_keys.is_empty() {
                    return Err(DecodeError::InvalidValue("no key-delivery key").into());
                }
                let kx_generation = r.u32()?;
                let epochs_since_refresh = r.u32()?;
                MemberState::Joined(Box::new(Joined {
                    view,
                    kx_keys,
                    kx_generation,
                    epochs_since_refresh,
                    leaving: false,
                }))
            }
            3 => {
                let room = r.array()?;
                let reason = match r.u8()? {
                    0 => GoneReason::Removed,
                    1 => GoneReason::Left,
                    2 => GoneReason::Deleted,
                    _ => return Err(DecodeError::InvalidValue("gone reason").into()),
                };
                MemberState::Gone(room, reason)
            }
            _ => return Err(DecodeError::InvalidValue("member state").into()),
        };
        let requests = if version == PICKLE_V1 {
            Requests::default()
        } else {
            match (get_flag(&mut r)?, &mut state) {
                (true, MemberState::Joined(j)) => j.leaving = true,
                (true, _) => return Err(DecodeError::InvalidValue("leaving").into()),
                (false, _) => {}
            }
            get_requests(&mut r)?
        };
        r.finish()?;
        Ok(Self {
            state,
            padding,
            retained_epochs,
            key_refresh_every,
            session: Session {
                auth: AuthRetry { retry_after: join_req, ..AuthRetry::default() },
                requests,
                ..Session::resumed(next_req)
            },
        })
    }

    /// The member state sealed under `password` (Argon2id with `params`, XChaCha20-Poly1305).
    pub fn seal_state(
        &self,
        password: &[u8],
        params: Argon2Params,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<u8>, StateError> {
        seal(&self.pickle(), password, params, rng)
    }

    /// Loads a sealed member state. A wrong password is [`StateError::WrongPassword`].
    pub fn open_state(blob: &[u8], password: &[u8]) -> Result<Self, StateError> {
        Self::unpickle(&open(blob, password)?)
    }
}
