//! What the relay knows of one room, and every check it makes on a frame for that room.
//!
//! Invariants: a member enters the roster only through an owner-signed commit naming an
//! invite whose joiner confirmed; every frame is verified against a key the relay already holds
//! (the owner's from room creation, a member's from the commit that added it, an invite's from
//! the owner-signed registration), never against a key the frame itself claims. A check that
//! fails leaves the record untouched. Invites and pending joins, and the checks the owner makes
//! on them too, are the ledger's (`crate::ledger`); the signatures around them are checked here.

use std::collections::{BTreeMap, VecDeque};

use crate::epoch;
use crate::frame::{
    Change, Commit, HistoryPolicy, JoinConfirm, JoinRequest, KeyGrant, KeyMode, MAX_MEMBERS, MemberNo, Message,
    OWNER_MEMBER, Signed, Welcome,
};
use crate::ledger::{JoinStage, Ledger, PendingLimit};
use crate::relay::Reject;
use crate::room::ROTATION_GRACE;

/// How far past a sender's newest sequence number in an epoch (or past 0 for its first) a
/// message may jump; bounds what one sender can make receivers skip.
pub const MAX_SEQ_JUMP: u32 = 1024;

/// The relay keeps nothing beside an invite or a join but what the ledger holds.
pub(crate) type RelayLedger = Ledger<(), (), ()>;

#[derive(Debug, Clone)]
pub(crate) struct MemberRecord {
    pub sign_pk: [u8; 32],
    /// Generation of the member's newest key update (0: none).
    pub kx_generation: u32,
    pub left: bool,
    /// First log position this member may fetch.
    pub floor: u64,
    /// First log position not yet acknowledged.
    pub cursor: u64,
}

#[derive(Debug)]
pub(crate) struct RoomRecord {
    pub owner_sign_pk: [u8; 32],
    pub policy: HistoryPolicy,
    pub members: BTreeMap<MemberNo, MemberRecord>,
    pub next_member: MemberNo,
    pub ledger: RelayLedger,
    pub epoch: u32,
    pub epoch_hash: [u8; 32],
    pub epoch_starts: BTreeMap<u32, u64>,
    pub closes_previous: bool,
    /// Highest sequence number accepted per (epoch, sender), for the current and previous epoch.
    pub senders: BTreeMap<(u32, MemberNo), u32>,
    pub log: VecDeque<(u64, Vec<u8>)>,
    pub next_seq: u64,
    pub deleted: bool,
    /// Members the owner removed: key -> (log position of the removal, their floor). They may
    /// still catch up to their removal, so that they learn of it.
    pub former: BTreeMap<[u8; 32], (u64, u64)>,
    /// The deletion frame and its position, kept so that members offline at the time learn of it.
    pub tombstone: Option<(u64, Vec<u8>)>,
}

/// What accepting a commit changes, computed before anything changes.
pub(crate) struct CommitEffect {
    pub added: Option<(MemberNo, [u8; 32], [u8; 32])>,
    pub removed: Option<MemberNo>,
}

impl RoomRecord {
    pub(crate) fn new(owner_sign_pk: [u8; 32], policy: HistoryPolicy, genesis_hash: [u8; 32]) -> Self {
        let mut members = BTreeMap::new();
        members.insert(
            OWNER_MEMBER,
            MemberRecord { sign_pk: owner_sign_pk, kx_generation: 0, left: false, floor: 1, cursor: 1 },
        );
        Self {
            owner_sign_pk,
            policy,
            members,
            next_member: 1,
            ledger: Ledger::default(),
            epoch: 0,
            epoch_hash: genesis_hash,
            epoch_starts: BTreeMap::from([(0, 1)]),
            closes_previous: false,
            senders: BTreeMap::new(),
            log: VecDeque::new(),
            next_seq: 1,
            deleted: false,
            former: BTreeMap::new(),
            tombstone: None,
        }
    }

    /// A member who may send and read: in the roster and not gone.
    /// Moves `member`'s acknowledgement cursor to just past `seq`: never back, and never past the
    /// log's end (a cursor there would hide frames appended later). Returns the new cursor if it
    /// moved.
    pub(crate) fn advance_cursor(&mut self, member: MemberNo, seq: u64) -> Option<u64> {
        let next_seq = self.next_seq;
        let rec = self.members.get_mut(&member)?;
        let cursor = rec.cursor.max(seq.saturating_add(1)).min(next_seq);
        if cursor == rec.cursor {
            return None;
        }
        rec.cursor = cursor;
        Some(cursor)
    }

    pub(crate) fn active_member(&self, m: MemberNo) -> Result<&MemberRecord, Reject> {
        match self.members.get(&m) {
            Some(r) if !r.left => Ok(r),
            _ => Err(Reject::NotMember),
        }
    }

    pub(crate) fn member_by_key(&self, pk: &[u8; 32]) -> Option<MemberNo> {
        self.members.iter().find(|(_, r)| &r.sign_pk == pk && !r.left).map(|(m, _)| *m)
    }

    pub(crate) fn check_join_request(
        &self,
        f: &Signed<JoinRequest>,
        now: u64,
        max_pending: usize,
    ) -> Result<(), Reject> {
        let member = |pk: &[u8; 32]| self.member_by_key(pk).is_some();
        self.ledger.check_request(f, now, member, PendingLimit::PerInvite(max_pending))?;
        Ok(())
    }

    pub(crate) fn check_grant(&self, f: &Signed<KeyGrant>) -> Result<(), Reject> {
        if !f.verify(&self.owner_sign_pk) {
            return Err(Reject::BadSignature);
        }
        self.ledger.check_grant(&f.body.invite_pk, &f.body.joiner_sign_pk)?;
        Ok(())
    }

    pub(crate) fn check_confirm(&self, f: &Signed<JoinConfirm>) -> Result<(), Reject> {
        let join = self.ledger.pending(&f.body.invite_pk, &f.body.joiner_sign_pk)?;
        // The join is keyed by this key: it is the one the request was signed with.
        if !f.verify(&f.body.joiner_sign_pk) {
            return Err(Reject::BadSignature);
        }
        if !matches!(join.stage, JoinStage::Granted(())) {
            return Err(Reject::NoPendingJoin);
        }
        Ok(())
    }

    pub(crate) fn check_welcome(&self, f: &Signed<Welcome>) -> Result<(), Reject> {
        if !f.verify(&self.owner_sign_pk) {
            return Err(Reject::BadSignature);
        }
        let w = &f.body;
        self.ledger.confirmed(&w.joiner_sign_pk)?;
        // The welcome must describe the roster the next commit will produce: today's plus the
        // joiner, under a number never used before, in the next epoch.
        let mut expected: Vec<(MemberNo, [u8; 32])> = self.members.iter().map(|(m, r)| (*m, r.sign_pk)).collect();
        expected.push((w.member, w.joiner_sign_pk));
        expected.sort_by_key(|(m, _)| *m);
        let fresh_number = w.member >= self.next_member && w.member != MemberNo::MAX;
        if Some(w.epoch) != self.epoch.checked_add(1) || !fresh_number || w.roster != expected {
            return Err(Reject::BadChange);
        }
        Ok(())
    }

    /// Checks a commit against the owner's key, the chain, the roster and the shares.
    pub(crate) fn check_commit(&self, f: &Signed<Commit>) -> Result<CommitEffect, Reject> {
        if !f.verify(&self.owner_sign_pk) {
            return Err(Reject::BadSignature);
        }
        let c = &f.body;
        if Some(c.epoch) != self.epoch.checked_add(1) {
            return Err(Reject::WrongEpoch);
        }
        if c.prev_epoch_hash != self.epoch_hash {
            return Err(Reject::ForkedChain);
        }
        let mut roster: BTreeMap<MemberNo, [u8; 32]> = self.members.iter().map(|(m, r)| (*m, r.sign_pk)).collect();
        let mut effect = CommitEffect { added: None, removed: None };
        match &c.change {
            Change::Rotate => {}
            Change::Add { member, sign_pk, invite_pk, .. } => {
                // Numbers are never reused, and MAX is never handed out so the next can't wrap.
                if *member < self.next_member || *member == MemberNo::MAX || roster.values().any(|pk| pk == sign_pk) {
                    return Err(Reject::BadChange);
                }
                let expected_mode = match self.policy {
                    HistoryPolicy::SinceLastEpoch => KeyMode::Derived,
                    HistoryPolicy::SinceJoin => KeyMode::Fresh,
                };
                if c.key_mode != expected_mode {
                    return Err(Reject::BadShares);
                }
                if roster.len() >= MAX_MEMBERS {
                    return Err(Reject::RoomFull);
                }
                self.ledger.check_add(invite_pk, sign_pk)?;
                roster.insert(*member, *sign_pk);
                effect.added = Some((*member, *sign_pk, *invite_pk));
            }
            Change::Remove { member } => {
                if *member == OWNER_MEMBER || roster.remove(member).is_none() {
                    return Err(Reject::BadChange);
                }
                effect.removed = Some(*member);
            }
        }
        let mut buf = Vec::with_capacity(roster.len() * 36);
        for (m, pk) in &roster {
            buf.extend_from_slice(&m.to_be_bytes());
            buf.extend_from_slice(pk);
        }
        if crate::crypto::hash("zfc v1 roster", &[&buf]) != c.roster_digest {
            return Err(Reject::RosterMismatch);
        }
        let share_members: Vec<MemberNo> = c.shares.iter().map(|s| s.member).collect();
        let expected: Vec<MemberNo> = match c.key_mode {
            // Every member, the owner included (its share lets a restored owner follow).
            KeyMode::Fresh => roster.keys().copied().collect(),
            KeyMode::Derived => {
                let lenient = self.policy == HistoryPolicy::SinceLastEpoch;
                match (&effect.added, lenient) {
                    (Some((m, _, _)), true) => vec![*m],
                    _ => return Err(Reject::BadShares),
                }
            }
        };
        if share_members != expected {
            return Err(Reject::BadShares);
        }
        Ok(effect)
    }

    /// Checks a message: sender, signature, epoch, and sequence number.
    pub(crate) fn check_message(&self, f: &Signed<Message>) -> Result<(), Reject> {
        let m = &f.body;
        let sender = self.active_member(m.sender)?;
        if !f.verify(&sender.sign_pk) {
            return Err(Reject::BadSignature);
        }
        if m.epoch > self.epoch {
            return Err(Reject::UnknownEpoch);
        }
        if m.epoch < self.epoch {
            let start = self.epoch_starts.get(&self.epoch).copied().unwrap_or(0);
            let in_grace =
                m.epoch + 1 == self.epoch && !self.closes_previous && self.next_seq - start <= ROTATION_GRACE;
            if !in_grace {
                return Err(Reject::EpochClosed);
            }
        }
        match self.senders.get(&(m.epoch, m.sender)) {
            Some(high) if m.seq <= *high => return Err(Reject::Replay),
            Some(high) if m.seq - *high > MAX_SEQ_JUMP => return Err(Reject::SeqJump),
            None if m.seq > MAX_SEQ_JUMP => return Err(Reject::SeqJump),
            _ => {}
        }
        Ok(())
    }

    /// Applies a checked commit at log position `seq`.
    pub(crate) fn apply_commit(&mut self, f: &Signed<Commit>, bytes: &[u8], effect: &CommitEffect, seq: u64) {
        let c = &f.body;
        if let Some((m, pk, invite_pk)) = effect.added {
            let floor = match self.policy {
                HistoryPolicy::SinceLastEpoch => self.epoch_starts.get(&self.epoch).copied().unwrap_or(seq),
                HistoryPolicy::SinceJoin => seq,
            };
            self.members.insert(m, MemberRecord { sign_pk: pk, kx_generation: 0, left: false, floor, cursor: seq });
            self.next_member = m.saturating_add(1);
            self.ledger.spend(&invite_pk, &pk);
        }
        if let Some(m) = effect.removed
            && let Some(rec) = self.members.remove(&m)
        {
            self.former.insert(rec.sign_pk, (seq, rec.floor));
        }
        self.epoch = c.epoch;
        self.epoch_hash = epoch::epoch_hash(bytes);
        self.epoch_starts.insert(c.epoch, seq);
        self.closes_previous = epoch::closes_previous(&c.change);
        let keep_from = c.epoch.saturating_sub(1);
        self.senders.retain(|(e, _), _| *e >= keep_from);
    }

    pub(crate) fn apply_message(&mut self, m: &Message) {
        let high = self.senders.entry((m.epoch, m.sender)).or_insert(m.seq);
        *high = (*high).max(m.seq);
    }
}
