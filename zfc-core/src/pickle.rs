//! State that survives: the versioned blobs ("pickles") of owner and member state, and the sealed
//! form under a key from Argon2id over a password. This module holds what both layouts share
//! (header, field codecs, the requests in flight) and the sealing, written once; each party's
//! layout sits beside it (`owner/pickle.rs`, `member/pickle.rs`).
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

use std::collections::BTreeMap;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::crypto::{self, NONCE_LEN, Secret32, SignKey};
use crate::epoch::{Epoch, EpochChain};
use crate::error::DecodeError;
use crate::frame::{HistoryPolicy, MAX_MEMBERS, Signed};
use crate::inflight::{Flight, Requests};
use crate::message::{Padding, ReplayWindow};
use crate::room::{Roster, RosterEntry};
use crate::view::RoomView;
use crate::wire::{MAX_ENVELOPE_LEN, Reader, Writer};

pub(crate) const OWNER_MAGIC: &[u8; 4] = b"ZFCO";
pub(crate) const MEMBER_MAGIC: &[u8; 4] = b"ZFCM";
pub(crate) const SEALED_MAGIC: &[u8; 4] = b"ZFCS";
pub(crate) const PICKLE_VERSION: u16 = 2;
/// The first version, without requests in flight: still loaded.
pub(crate) const PICKLE_V1: u16 = 1;
/// Most requests in flight a state may hold.
pub(crate) const MAX_FLIGHTS: usize = 1 << 16;
pub(crate) const SEALED_VERSION: u8 = 1;
/// Largest pickle accepted (a 10 000-member owner state fits well below it).
pub(crate) const MAX_PICKLE: usize = 64 * 1024 * 1024;

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
pub(crate) fn unsigned_body<T: crate::frame::Body>(bytes: &[u8]) -> Result<T, DecodeError> {
    let f = Signed::<T>::decode(bytes)?;
    if f.sig != [0; 64] {
        return Err(DecodeError::InvalidValue("saved frame signature"));
    }
    Ok(f.body)
}

pub(crate) fn get_flag(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::InvalidValue("flag")),
    }
}

pub(crate) fn get_opt_u32(r: &mut Reader<'_>) -> Result<Option<u32>, DecodeError> {
    let has = get_flag(r)?;
    let v = r.u32()?;
    match (has, v) {
        (true, v) => Ok(Some(v)),
        (false, 0) => Ok(None),
        (false, _) => Err(DecodeError::InvalidValue("absent value not zero")),
    }
}

pub(crate) fn get_opt_u64(r: &mut Reader<'_>) -> Result<Option<u64>, DecodeError> {
    let has = get_flag(r)?;
    let v = r.u64()?;
    match (has, v) {
        (true, v) => Ok(Some(v)),
        (false, 0) => Ok(None),
        (false, _) => Err(DecodeError::InvalidValue("absent value not zero")),
    }
}

/// Fails unless `key` is above the previous one.
pub(crate) fn ascending<K: Ord + Copy>(last: &mut Option<K>, key: K) -> Result<(), DecodeError> {
    if last.is_some_and(|l| l >= key) {
        return Err(DecodeError::InvalidValue("keys out of order"));
    }
    *last = Some(key);
    Ok(())
}

pub(crate) fn put_opt_secret(w: &mut Writer, s: Option<&Secret32>) {
    match s {
        Some(s) => {
            w.u8(1).fixed(s.expose());
        }
        None => {
            w.u8(0);
        }
    }
}

pub(crate) fn get_opt_secret(r: &mut Reader<'_>) -> Result<Option<Secret32>, DecodeError> {
    match r.u8()? {
        0 => Ok(None),
        1 => Ok(Some(Secret32::from_bytes(r.array()?))),
        _ => Err(DecodeError::InvalidValue("option tag")),
    }
}

pub(crate) fn get_secret(r: &mut Reader<'_>) -> Result<Secret32, DecodeError> {
    Ok(Secret32::from_bytes(r.array()?))
}

pub(crate) fn put_policy(w: &mut Writer, p: HistoryPolicy) {
    w.u8(p as u8);
}

pub(crate) fn get_policy(r: &mut Reader<'_>) -> Result<HistoryPolicy, DecodeError> {
    match r.u8()? {
        0 => Ok(HistoryPolicy::SinceLastEpoch),
        1 => Ok(HistoryPolicy::SinceJoin),
        _ => Err(DecodeError::InvalidValue("history policy")),
    }
}

pub(crate) fn put_padding(w: &mut Writer, p: &Padding) {
    let b = p.bucket_list();
    w.u32(b.len() as u32);
    for x in b {
        w.u32(*x);
    }
}

pub(crate) fn get_padding(r: &mut Reader<'_>) -> Result<Padding, DecodeError> {
    let n = r.count(4, 64)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(r.u32()?);
    }
    Padding::buckets(v).map_err(|_| DecodeError::InvalidValue("padding"))
}

pub(crate) fn put_roster(w: &mut Writer, roster: &Roster) {
    w.u32(roster.len() as u32);
    for (m, e) in roster.iter() {
        w.u32(m).fixed(e.sign_pk.as_bytes()).fixed(&e.kx_pk).u32(roster.kx_generation(m));
    }
}

pub(crate) fn get_roster(r: &mut Reader<'_>) -> Result<Roster, DecodeError> {
    let n = r.count(72, MAX_MEMBERS)?;
    let mut roster = Roster::default();
    let mut last = None;
    for _ in 0..n {
        let m = r.u32()?;
        ascending(&mut last, m)?;
        let e = RosterEntry { sign_pk: crate::MemberKey::from_bytes(r.array()?), kx_pk: r.array()? };
        let generation = r.u32()?;
        let kx = e.kx_pk;
        roster.insert(m, e).map_err(|_| DecodeError::InvalidValue("roster"))?;
        if generation > 0 {
            roster.set_kx(m, kx, generation);
        }
    }
    Ok(roster)
}

pub(crate) fn put_chain(w: &mut Writer, c: &EpochChain) {
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

pub(crate) fn get_chain(r: &mut Reader<'_>) -> Result<EpochChain, DecodeError> {
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
pub(crate) fn put_view(w: &mut Writer, v: &RoomView, next_req: u32) {
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
pub(crate) fn get_view(r: &mut Reader<'_>) -> Result<(RoomView, u32), DecodeError> {
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
pub(crate) fn put_requests(w: &mut Writer, requests: &Requests) {
    w.u32(requests.flights.len() as u32);
    for f in &requests.flights {
        w.bytes(&f.request).u8(u8::from(f.announced));
    }
}

pub(crate) fn get_requests(r: &mut Reader<'_>) -> Result<Requests, DecodeError> {
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
pub(crate) fn header(r: &mut Reader<'_>, magic: &[u8; 4], other: &[u8; 4]) -> Result<u16, StateError> {
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
