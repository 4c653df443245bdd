//! Invites and pending joins, kept once for the owner and the relay: each invite's status and
//! expiry, the joins made with it (by joiner key) and their stage, and the checks both make on
//! them, refused with one [`InviteRefusal`] that each side turns into its own error.
//!
//! Invariants: a joiner key has at most one pending join, across all invites; a join is added
//! only after its request's checks (so to an open invite), and an invite revoked or used (for
//! good) drops its joins, so every pending join names an open invite (an owner state loaded from
//! a blob holds what was saved, as it was); a join's stage only moves forward, each step after the
//! check of the step before.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::frame::{JoinRequest, Signed};
use crate::proto::Reject;

/// Where an invite stands. The discriminants are the owner's saved-state bytes (spec §17.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InviteStatus {
    Open = 0,
    Used = 1,
    Revoked = 2,
}

/// An invite by its commitment: expiry, status, and what one side keeps beside it (`I`: the
/// owner its PSK, the relay nothing).
#[derive(Debug)]
pub(crate) struct Invite<I> {
    pub expires_at: u64,
    pub status: InviteStatus,
    pub kept: I,
}

impl<I> Invite<I> {
    /// Why a closed invite takes nothing more.
    pub(crate) fn open(&self) -> Result<(), InviteRefusal> {
        match self.status {
            InviteStatus::Open => Ok(()),
            InviteStatus::Used => Err(InviteRefusal::Used),
            InviteStatus::Revoked => Err(InviteRefusal::Revoked),
        }
    }
}

/// How far a join went; `G` is what the owner keeps of its grant (to check the confirmation).
#[derive(Debug)]
pub(crate) enum JoinStage<G> {
    Requested,
    Granted(G),
    Confirmed,
}

/// A join request made with `invite_pk`, and what one side keeps of it (`J`).
#[derive(Debug)]
pub(crate) struct PendingJoin<J, G> {
    pub invite_pk: [u8; 32],
    pub stage: JoinStage<G>,
    pub kept: J,
}

/// How many joins may wait at once: the relay counts them per invite, the owner in all.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PendingLimit {
    PerInvite(usize),
    InAll(usize),
}

/// Why the ledger refuses a request, a grant, a confirmation or an Add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InviteRefusal {
    Unknown,
    Used,
    Revoked,
    Expired,
    WrongToken,
    BadJoinerSignature,
    KnownJoiner,
    TooManyPending,
    NoPendingJoin,
}

/// The relay's codes (spec §9.6).
impl From<InviteRefusal> for Reject {
    fn from(r: InviteRefusal) -> Self {
        match r {
            InviteRefusal::Unknown => Reject::InviteUnknown,
            InviteRefusal::Used => Reject::InviteUsed,
            InviteRefusal::Revoked => Reject::InviteRevoked,
            InviteRefusal::Expired => Reject::InviteExpired,
            InviteRefusal::WrongToken => Reject::WrongToken,
            InviteRefusal::BadJoinerSignature => Reject::BadSignature,
            InviteRefusal::KnownJoiner => Reject::BadChange,
            InviteRefusal::TooManyPending => Reject::TooManyPendingJoins,
            InviteRefusal::NoPendingJoin => Reject::NoPendingJoin,
        }
    }
}

/// The owner's errors.
impl From<InviteRefusal> for Error {
    fn from(r: InviteRefusal) -> Self {
        match r {
            InviteRefusal::Unknown => Error::InviteUnknown,
            InviteRefusal::Used => Error::InviteUsed,
            InviteRefusal::Revoked => Error::InviteRevoked,
            InviteRefusal::Expired => Error::InviteExpired,
            InviteRefusal::WrongToken => Error::WrongToken,
            InviteRefusal::BadJoinerSignature => Error::BadSignature,
            InviteRefusal::KnownJoiner => Error::Unexpected("joiner key already known"),
            InviteRefusal::TooManyPending => Error::Unexpected("too many pending joins"),
            InviteRefusal::NoPendingJoin => Error::NoSuchJoin,
        }
    }
}

/// One room's invites (by commitment) and pending joins (by joiner key).
#[derive(Debug)]
pub(crate) struct Ledger<I, J, G> {
    invites: BTreeMap<[u8; 32], Invite<I>>,
    joins: BTreeMap<[u8; 32], PendingJoin<J, G>>,
}

impl<I, J, G> Default for Ledger<I, J, G> {
    fn default() -> Self {
        Self { invites: BTreeMap::new(), joins: BTreeMap::new() }
    }
}

impl<I, J, G> Ledger<I, J, G> {
    /// A ledger as saved: the owner's state restores what it pickled, as it was.
    pub(crate) fn restore(
        invites: BTreeMap<[u8; 32], Invite<I>>,
        joins: BTreeMap<[u8; 32], PendingJoin<J, G>>,
    ) -> Self {
        Self { invites, joins }
    }

    /// Invites in commitment order (the order the owner saves them in).
    pub(crate) fn invites(&self) -> &BTreeMap<[u8; 32], Invite<I>> {
        &self.invites
    }
    /// Pending joins in joiner-key order (the order the owner saves them in).
    pub(crate) fn joins(&self) -> &BTreeMap<[u8; 32], PendingJoin<J, G>> {
        &self.joins
    }
    pub(crate) fn invite(&self, invite_pk: &[u8; 32]) -> Option<&Invite<I>> {
        self.invites.get(invite_pk)
    }
    pub(crate) fn join(&self, joiner: &[u8; 32]) -> Option<&PendingJoin<J, G>> {
        self.joins.get(joiner)
    }

    /// A new open invite.
    pub(crate) fn register(&mut self, invite_pk: [u8; 32], expires_at: u64, kept: I) {
        self.invites.insert(invite_pk, Invite { expires_at, status: InviteStatus::Open, kept });
    }

    /// Revokes an open invite; its pending joins go with it.
    pub(crate) fn revoke(&mut self, invite_pk: &[u8; 32]) -> Result<(), InviteRefusal> {
        let invite = self.invites.get_mut(invite_pk).ok_or(InviteRefusal::Unknown)?;
        invite.open()?;
        invite.status = InviteStatus::Revoked;
        self.joins.retain(|_, j| &j.invite_pk != invite_pk);
        Ok(())
    }

    /// An Add of `joiner` with `invite_pk` landed: the invite is spent, and the joins made with
    /// it can never be added.
    pub(crate) fn spend(&mut self, invite_pk: &[u8; 32], joiner: &[u8; 32]) {
        self.joins.remove(joiner);
        self.joins.retain(|_, j| &j.invite_pk != invite_pk);
        if let Some(invite) = self.invites.get_mut(invite_pk) {
            invite.status = InviteStatus::Used;
        }
    }

    /// Checks a join request, in the order both sides answer it: the invite (known, open, not
    /// expired, signed with its token), the joiner's own signature, a key new to the room
    /// (`member`: whether it is in the roster), and room for one more pending join. Returns the
    /// invite it used.
    pub(crate) fn check_request(
        &self,
        f: &Signed<JoinRequest>,
        now: u64,
        member: impl Fn(&[u8; 32]) -> bool,
        limit: PendingLimit,
    ) -> Result<&Invite<I>, InviteRefusal> {
        let r = &f.body;
        let invite = self.invites.get(&r.invite_pk).ok_or(InviteRefusal::Unknown)?;
        invite.open()?;
        if now > invite.expires_at {
            return Err(InviteRefusal::Expired);
        }
        if !f.verify(&r.invite_pk) {
            return Err(InviteRefusal::WrongToken);
        }
        if !r.verify_joiner() {
            return Err(InviteRefusal::BadJoinerSignature);
        }
        if member(&r.joiner_sign_pk) || self.joins.contains_key(&r.joiner_sign_pk) {
            return Err(InviteRefusal::KnownJoiner);
        }
        let (pending, max) = match limit {
            PendingLimit::PerInvite(max) => (self.joins.values().filter(|j| j.invite_pk == r.invite_pk).count(), max),
            PendingLimit::InAll(max) => (self.joins.len(), max),
        };
        if pending >= max {
            return Err(InviteRefusal::TooManyPending);
        }
        Ok(invite)
    }

    /// A checked request becomes a pending join (nothing, if its invite is not registered).
    pub(crate) fn add_join(&mut self, invite_pk: [u8; 32], joiner: [u8; 32], kept: J) {
        if self.invites.contains_key(&invite_pk) {
            self.joins.insert(joiner, PendingJoin { invite_pk, stage: JoinStage::Requested, kept });
        }
    }

    /// `joiner`'s pending join made with `invite_pk`, a known invite.
    pub(crate) fn pending(&self, invite_pk: &[u8; 32], joiner: &[u8; 32]) -> Result<&PendingJoin<J, G>, InviteRefusal> {
        self.invites.get(invite_pk).ok_or(InviteRefusal::Unknown)?;
        self.joins.get(joiner).filter(|j| &j.invite_pk == invite_pk).ok_or(InviteRefusal::NoPendingJoin)
    }

    /// A grant answers a join still only requested, of an open invite. Returns both.
    pub(crate) fn check_grant(
        &self,
        invite_pk: &[u8; 32],
        joiner: &[u8; 32],
    ) -> Result<(&Invite<I>, &PendingJoin<J, G>), InviteRefusal> {
        let invite = self.invites.get(invite_pk).ok_or(InviteRefusal::Unknown)?;
        if invite.status != InviteStatus::Open {
            return Err(InviteRefusal::NoPendingJoin);
        }
        match self.pending(invite_pk, joiner)? {
            join @ PendingJoin { stage: JoinStage::Requested, .. } => Ok((invite, join)),
            _ => Err(InviteRefusal::NoPendingJoin),
        }
    }

    /// An Add names an open invite and a join made with it and confirmed.
    pub(crate) fn check_add(&self, invite_pk: &[u8; 32], joiner: &[u8; 32]) -> Result<(), InviteRefusal> {
        self.invites.get(invite_pk).ok_or(InviteRefusal::Unknown)?.open()?;
        match self.pending(invite_pk, joiner)?.stage {
            JoinStage::Confirmed => Ok(()),
            _ => Err(InviteRefusal::NoPendingJoin),
        }
    }

    /// The join of `joiner`, confirmed: what a Welcome and an Add need.
    pub(crate) fn confirmed(&self, joiner: &[u8; 32]) -> Result<&PendingJoin<J, G>, InviteRefusal> {
        self.joins.get(joiner).filter(|j| matches!(j.stage, JoinStage::Confirmed)).ok_or(InviteRefusal::NoPendingJoin)
    }

    /// Moves a checked join on (nothing, if it is not `joiner`'s join with `invite_pk`).
    pub(crate) fn set_stage(&mut self, invite_pk: &[u8; 32], joiner: &[u8; 32], stage: JoinStage<G>) {
        if let Some(j) = self.joins.get_mut(joiner).filter(|j| &j.invite_pk == invite_pk) {
            j.stage = stage;
        }
    }
}
