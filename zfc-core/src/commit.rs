//! Following a commit someone else made (for the owner: one it made and no longer remembers, as
//! after a restore from an older backup): every check a receiver makes, then the new epoch.
//!
//! Invariant: a commit changes nothing until the owner's signature, the epoch number, the chain
//! hash, the roster digest, the key mode and the key itself have all checked out.

use crate::crypto::{KxKey, Secret32};
use crate::epoch::{self, Epoch};
use crate::error::Error;
use crate::event::EpochReason;
use crate::frame::{Change, Commit, HistoryPolicy, KeyMode, Signed};
use crate::keys::MemberKey;
use crate::room::RosterEntry;
use crate::view::RoomView;

/// What following a commit did.
pub(crate) enum Followed {
    /// The room is in the commit's epoch.
    Entered {
        /// Why.
        reason: EpochReason,
        /// Index of the key-delivery key that opened our share, if one did.
        used_key: Option<usize>,
    },
    /// The commit removes us; nothing was applied.
    RemovedUs,
}

impl RoomView {
    /// Checks a commit at log position `seq` and enters its epoch. `keys` are our key-delivery
    /// keys, newest first, to open our share of a fresh epoch secret.
    pub(crate) fn follow_commit(
        &mut self,
        f: &Signed<Commit>,
        bytes: &[u8],
        seq: u64,
        keys: &[&KxKey],
    ) -> Result<Followed, Error> {
        let c = &f.body;
        if c.room_id != self.room_id {
            return Err(Error::WrongRoom);
        }
        if !f.verify(&self.owner_sign_pk) {
            return Err(Error::BadSignature);
        }
        let cur = self.chain.current().ok_or(Error::NotJoined)?;
        if Some(c.epoch) != cur.number.checked_add(1) {
            return Err(if c.epoch > cur.number {
                Error::UnknownEpoch { known: cur.number, got: c.epoch }
            } else {
                Error::ForkDetected
            });
        }
        if c.prev_epoch_hash != cur.hash {
            return Err(Error::ForkDetected);
        }
        let mut roster = self.roster.clone();
        let reason = match &c.change {
            Change::Rotate => EpochReason::Rotation,
            Change::Add { member, sign_pk, kx_pk, .. } => {
                // Member numbers are never reused: a former member's number is a fork.
                if self.former.contains_key(member) {
                    return Err(Error::ForkDetected);
                }
                roster
                    .insert(*member, RosterEntry { sign_pk: MemberKey::from_bytes(*sign_pk), kx_pk: *kx_pk })
                    .map_err(|_| Error::ForkDetected)?;
                EpochReason::MemberAdded(*member)
            }
            Change::Remove { member } => {
                roster.remove(*member).ok_or(Error::ForkDetected)?;
                EpochReason::MemberRemoved(*member)
            }
        };
        if roster.digest() != c.roster_digest {
            return Err(Error::ForkDetected);
        }
        if reason == EpochReason::MemberRemoved(self.me) {
            return Ok(Followed::RemovedUs);
        }
        let lenient_add = matches!(c.change, Change::Add { .. }) && self.policy == HistoryPolicy::SinceLastEpoch;
        let (secret, used_key): (Secret32, Option<usize>) = match (c.key_mode, lenient_add) {
            (KeyMode::Fresh, false) => {
                let (s, prev, used) = epoch::open_share(c, self.me, keys)?;
                if prev.is_some() {
                    return Err(Error::Forged);
                }
                (s, Some(used))
            }
            (KeyMode::Derived, true) => {
                let prev = cur.secret.as_ref().ok_or(Error::EpochExpired { epoch: cur.number })?;
                (epoch::derived_secret(prev, c), None)
            }
            (KeyMode::Fresh, true) => {
                return Err(Error::Unexpected("fresh key for an addition under the lenient policy"));
            }
            (KeyMode::Derived, false) => {
                return Err(Error::Unexpected("derived key for a change that needs a fresh one"));
            }
        };
        if let Change::Remove { member } = &c.change
            && let Some(e) = self.roster.get(*member)
        {
            self.former.insert(*member, (e.sign_pk.to_bytes(), c.epoch));
        }
        self.roster = roster;
        let closes = epoch::closes_previous(&c.change);
        self.chain.push(Epoch::new(&self.room_id, c.epoch, epoch::epoch_hash(bytes), seq, closes, secret));
        Ok(Followed::Entered { reason, used_key })
    }
}
