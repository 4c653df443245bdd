//! The owner's saved state: its layout (spec §17.2, "owner"), beside the owner; the codec
//! helpers and the sealed envelope are [`crate::pickle`]'s.

use std::collections::{BTreeMap, VecDeque};

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{Asked, Grant, Op, Owner, PendingCommit};
use crate::crypto::KxKey;
use crate::error::{DecodeError, Error};
use crate::frame::{Change, Commit, JoinRequest, Signed};
use crate::inflight::{Flight, Kind, Requests};
use crate::ledger::{Invite, InviteStatus, JoinStage, Ledger, PendingJoin};
use crate::pickle::*;
use crate::room::RoomConfig;
use crate::session::Session;
use crate::wire::{MAX_FRAME_LEN, Reader, Writer};

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
        // Both in key order (BTreeMap): the layout fixes it, and loading checks it.
        let (invites, joins) = (self.ledger.invites(), self.ledger.joins());
        w.u32(invites.len() as u32);
        for (pk, inv) in invites {
            w.fixed(pk).fixed(inv.kept.expose()).u64(inv.expires_at).u8(inv.status as u8);
        }
        w.u32(joins.len() as u32);
        for j in joins.values() {
            let asked = &j.kept;
            w.bytes(&Signed { body: asked.request.clone(), sig: [0; 64] }.encode());
            w.fixed(&asked.request_hash).bytes(asked.name.as_bytes());
            match &j.stage {
                JoinStage::Requested => {
                    w.u8(0);
                }
                JoinStage::Granted(g) => {
                    w.u8(1).fixed(g.export.expose()).fixed(&g.grant_hash);
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
    ///
    /// # Errors
    /// [`Error::State`]([`StateError::WrongKind`]) for a member's blob, [`Error::State`]([`StateError::UnsupportedVersion`]) for a
    /// newer one, [`Error::State`]([`StateError::Malformed`]) for anything else that does not load (spec §17.2). Loading
    /// changes nothing.
    pub fn unpickle(blob: &[u8]) -> Result<Self, Error> {
        Self::unpickle_state(blob).map_err(Error::State)
    }

    fn unpickle_state(blob: &[u8]) -> Result<Self, StateError> {
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
            invites.insert(pk, Invite { expires_at, status, kept: psk });
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
                1 => JoinStage::Granted(Grant { export: get_secret(&mut r)?, grant_hash: r.array()? }),
                2 => JoinStage::Confirmed,
                _ => return Err(DecodeError::InvalidValue("join stage").into()),
            };
            let (joiner, invite_pk) = (request.joiner_sign_pk, request.invite_pk);
            joins.insert(joiner, PendingJoin { invite_pk, stage, kept: Asked { request, request_hash, name } });
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
            ledger: Ledger::restore(invites, joins),
            next_member,
            pending,
            queue,
            deleted,
            share_chain,
            session: Session { requests, ..Session::resumed(next_req) },
        })
    }

    /// The owner state sealed under `password` (Argon2id with `params`, XChaCha20-Poly1305).
    ///
    /// # Errors
    /// [`Error::State`]([`StateError::Argon2Params`]) when `params` lie outside [`Argon2Params::MAX`].
    pub fn seal_state(
        &self,
        password: &[u8],
        params: Argon2Params,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<u8>, Error> {
        Ok(seal(&self.pickle(), password, params, rng)?)
    }

    /// Loads a sealed owner state. A wrong password is [`Error::State`]([`StateError::WrongPassword`]).
    ///
    /// # Errors
    /// [`Error::State`]([`StateError::WrongPassword`]) when the password does not open it (or the blob was
    /// altered); [`Error::State`]([`StateError::Argon2Params`]) for parameters outside the bounds, before any allocation;
    /// then as [`Self::unpickle`].
    pub fn open_state(blob: &[u8], password: &[u8]) -> Result<Self, Error> {
        Ok(Self::unpickle_state(&open(blob, password)?)?)
    }
}
