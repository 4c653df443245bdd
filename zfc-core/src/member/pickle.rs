//! The member's saved state: its layout (spec §17.2, "member"), beside the member; the codec
//! helpers and the sealed envelope are [`crate::pickle`]'s.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{AwaitingAdd, AwaitingGrant, GoneReason, Joined, Member, MemberState};
use crate::crypto::{KxKey, SignKey};
use crate::error::{DecodeError, Error};
use crate::frame::{Signed, Welcome};
use crate::inflight::Requests;
use crate::pickle::*;
use crate::session::{AuthRetry, Session};
use crate::wire::{MAX_FRAME_LEN, Reader, Writer};

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
    ///
    /// # Errors
    /// [`Error::State`]([`StateError::WrongKind`]) for an owner's blob, [`Error::State`]([`StateError::UnsupportedVersion`]) for a
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

    /// Loads a sealed member state. A wrong password is [`Error::State`]([`StateError::WrongPassword`]).
    ///
    /// # Errors
    /// [`Error::State`]([`StateError::WrongPassword`]) when the password does not open it (or the blob was
    /// altered); [`Error::State`]([`StateError::Argon2Params`]) for parameters outside the bounds, before any allocation;
    /// then as [`Self::unpickle`].
    pub fn open_state(blob: &[u8], password: &[u8]) -> Result<Self, Error> {
        Ok(Self::unpickle_state(&open(blob, password)?)?)
    }
}
