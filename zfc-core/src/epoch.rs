//! Epochs: the key schedule, the chain of owner-signed commits, key shares, and which epochs'
//! messages a party still accepts.
//!
//! Invariants: an epoch's message key is bound to the hash of the commit that opened it, so two
//! parties holding different commits for one epoch number cannot read each other; keys older
//! than the retention window are erased, and with them the replay state of their epoch;
//! after a removal no message of an earlier epoch is accepted.

use std::collections::BTreeMap;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::crypto::{self, KxKey, Secret32};
use crate::error::Error;
use crate::frame::{Change, Commit, MemberNo, Message, RoomId, Share};
use crate::message::{self, ReplayWindow};
use crate::room::ROTATION_GRACE;

/// `H("zfc v1 epoch", frame)`: the hash of the frame that opened an epoch (the room creation
/// for epoch 0, the commit for the others).
pub(crate) fn epoch_hash(frame_bytes: &[u8]) -> [u8; 32] {
    crypto::hash("zfc v1 epoch", &[frame_bytes])
}

/// The secret of a `Derived` epoch: `HKDF(salt = H("zfc v1 commit header", header),
/// ikm = previous secret, info = "zfc v1 derived epoch secret")`.
pub(crate) fn derived_secret(prev: &Secret32, commit: &Commit) -> Secret32 {
    let salt = crypto::hash("zfc v1 commit header", &[&commit.header_bytes()]);
    crypto::kdf(&salt, prev.expose(), b"zfc v1 derived epoch secret")
}

fn share_info(room_id: &RoomId, epoch: u32, member: MemberNo) -> Vec<u8> {
    let mut info = b"zfc v1 epoch share".to_vec();
    info.extend_from_slice(room_id);
    info.extend_from_slice(&epoch.to_be_bytes());
    info.extend_from_slice(&member.to_be_bytes());
    info
}

/// Seals `secrets` (concatenated) to one member's key-delivery key with HPKE base mode.
pub(crate) fn seal_share(
    commit_header: &Commit,
    member: MemberNo,
    kx_pk: &[u8; 32],
    secrets: &[&Secret32],
    rng: &mut impl CryptoRng,
) -> Result<Share, Error> {
    let mut pt = Zeroizing::new(Vec::with_capacity(64));
    for s in secrets {
        pt.extend_from_slice(s.expose());
    }
    let info = share_info(&commit_header.room_id, commit_header.epoch, member);
    let sealed = crypto::hpke_seal(kx_pk, &info, &commit_header.header_bytes(), &pt, None, rng)
        .ok_or(Error::InvalidArgument("member key-delivery key is not a valid X25519 key"))?;
    Ok(Share { member, enc: sealed.enc, ct: sealed.ct })
}

/// Opens this member's share with any of its key-delivery keys (the newest first). Returns the
/// new epoch secret and, for a newcomer under the lenient history policy, the previous one.
pub(crate) fn open_share(
    commit: &Commit,
    member: MemberNo,
    keys: &[&KxKey],
) -> Result<(Secret32, Option<Secret32>, usize), Error> {
    let share = commit
        .shares
        .iter()
        .find(|s| s.member == member)
        .ok_or(Error::Unexpected("commit carries no key share for this member"))?;
    let info = share_info(&commit.room_id, commit.epoch, member);
    let aad = commit.header_bytes();
    for (i, k) in keys.iter().enumerate() {
        if let Some((pt, _)) = crypto::hpke_open(k, &share.enc, &info, &aad, &share.ct, None) {
            let take = |range: core::ops::Range<usize>| {
                pt.get(range).map(|b| {
                    let mut a = [0u8; 32];
                    a.copy_from_slice(b);
                    Secret32::from_bytes(a)
                })
            };
            return match pt.len() {
                32 => Ok((take(0..32).ok_or(Error::Forged)?, None, i)),
                64 => Ok((take(0..32).ok_or(Error::Forged)?, take(32..64), i)),
                _ => Err(Error::Forged),
            };
        }
    }
    Err(Error::Forged)
}

/// The owner's own share key for each epoch comes from a one-way chain indexed by epoch number:
/// `next = KDF(salt = "", ikm = chain, info = "zfc v1 owner share chain")`, and the key of a
/// position is the X25519 secret `KDF(salt = "", ikm = chain, info = "zfc v1 owner share key")`.
/// A restored owner walks forward to the commits it made since its backup; a leaked owner state
/// cannot walk back to the shares of earlier epochs.
#[derive(Clone, Debug)]
pub(crate) struct ShareChain {
    /// The epoch whose share key `chain` gives.
    pub epoch: u32,
    pub chain: Secret32,
}

/// How far forward a restored owner walks its share chain.
pub(crate) const MAX_SHARE_CHAIN_WALK: u32 = 4096;

impl ShareChain {
    /// The chain position for `epoch`, walking forward; `None` for an epoch behind the chain or
    /// too far ahead.
    pub(crate) fn at(&self, epoch: u32) -> Option<ShareChain> {
        if epoch < self.epoch || epoch - self.epoch > MAX_SHARE_CHAIN_WALK {
            return None;
        }
        let mut chain = self.chain.clone();
        for _ in self.epoch..epoch {
            chain = crypto::kdf(&[], chain.expose(), b"zfc v1 owner share chain");
        }
        Some(ShareChain { epoch, chain })
    }
    /// The share key of this position.
    pub(crate) fn key(&self) -> KxKey {
        KxKey::from_secret(crypto::kdf(&[], self.chain.expose(), b"zfc v1 owner share key"))
    }
}

/// What a party holds of one epoch.
#[derive(Debug)]
pub(crate) struct Epoch {
    pub number: u32,
    pub hash: [u8; 32],
    /// Relay sequence number of the commit that opened it (0 when unknown: epochs a newcomer
    /// learned of from its share).
    pub start_seq: u64,
    /// Whether the commit that opened it closed the previous epoch at once (a removal).
    pub closes_previous: bool,
    /// The epoch secret, kept only while this is the newest epoch (a derived successor needs it).
    pub secret: Option<Secret32>,
    /// The message key; `None` once erased.
    pub key: Option<Secret32>,
    pub windows: BTreeMap<MemberNo, ReplayWindow>,
    /// Messages accepted in this epoch (the owner rotates after `rotate_every`).
    pub messages: u32,
}

impl Epoch {
    pub(crate) fn new(
        room_id: &RoomId,
        number: u32,
        hash: [u8; 32],
        start_seq: u64,
        closes_previous: bool,
        secret: Secret32,
    ) -> Self {
        let key = message::message_key(&secret, &hash, room_id, number);
        Self {
            number,
            hash,
            start_seq,
            closes_previous,
            secret: Some(secret),
            key: Some(key),
            windows: BTreeMap::new(),
            messages: 0,
        }
    }
}

/// The epochs a party knows, newest last, with their keys for the retention window.
#[derive(Debug)]
pub(crate) struct EpochChain {
    pub epochs: BTreeMap<u32, Epoch>,
    pub retained: u32,
}

impl EpochChain {
    pub(crate) fn new(first: Epoch, retained: u32) -> Self {
        let mut epochs = BTreeMap::new();
        epochs.insert(first.number, first);
        Self { epochs, retained }
    }

    pub(crate) fn current(&self) -> Option<&Epoch> {
        self.epochs.values().next_back()
    }
    pub(crate) fn current_number(&self) -> u32 {
        self.current().map(|e| e.number).unwrap_or(0)
    }
    pub(crate) fn current_mut(&mut self) -> Option<&mut Epoch> {
        self.epochs.values_mut().next_back()
    }

    /// Adds the next epoch, erases the previous epoch's secret and keys beyond retention.
    pub(crate) fn push(&mut self, e: Epoch) {
        if let Some(prev) = self.current_mut() {
            prev.secret = None;
        }
        self.epochs.insert(e.number, e);
        while self.epochs.len() > self.retained as usize + 1 {
            self.epochs.pop_first();
        }
    }

    /// The epoch in force at relay sequence number `seq`: the newest one opened at or before it.
    fn epoch_at(&self, seq: u64) -> Option<&Epoch> {
        self.epochs.values().rev().find(|e| e.start_seq <= seq)
    }

    /// Checks that a message of `msg.epoch` at relay position `seq` may be accepted and that
    /// its sequence number is fresh; returns the message key. Changes nothing.
    pub(crate) fn check(&self, msg: &Message, seq: u64) -> Result<&Secret32, Error> {
        let known = self.current_number();
        let in_force = self.epoch_at(seq).map(|e| e.number).unwrap_or(known);
        if msg.epoch > in_force {
            return Err(Error::UnknownEpoch { known: in_force, got: msg.epoch });
        }
        if msg.epoch < in_force {
            let next = self.epochs.get(&(msg.epoch + 1));
            let in_grace = msg.epoch + 1 == in_force
                && next.is_some_and(|n| !n.closes_previous && seq.saturating_sub(n.start_seq) <= ROTATION_GRACE);
            if !in_grace {
                return Err(Error::EpochClosed { epoch: msg.epoch });
            }
        }
        let Some(epoch) = self.epochs.get(&msg.epoch) else {
            let oldest = self.epochs.keys().next().copied().unwrap_or(0);
            return Err(if msg.epoch < oldest {
                Error::EpochExpired { epoch: msg.epoch }
            } else {
                Error::UnknownEpoch { known, got: msg.epoch }
            });
        };
        let key = epoch.key.as_ref().ok_or(Error::EpochExpired { epoch: msg.epoch })?;
        if let Some(w) = epoch.windows.get(&msg.sender) {
            w.check(msg.sender, msg.seq)?;
        }
        Ok(key)
    }

    /// Records an authenticated message.
    pub(crate) fn accept(&mut self, msg: &Message) {
        if let Some(e) = self.epochs.get_mut(&msg.epoch) {
            e.windows.entry(msg.sender).or_default().accept(msg.seq);
            e.messages = e.messages.saturating_add(1);
        }
    }
}

/// Whether a change closes the previous epoch at once.
pub(crate) fn closes_previous(change: &Change) -> bool {
    matches!(change, Change::Remove { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(number: u32, start_seq: u64, closes_previous: bool) -> Epoch {
        Epoch::new(&[1; 16], number, [number as u8; 32], start_seq, closes_previous, Secret32::from_bytes([7; 32]))
    }

    fn msg(epoch: u32) -> Message {
        Message { room_id: [1; 16], epoch, sender: 1, seq: 0, nonce: [0; 24], ct: Vec::new() }
    }

    #[test]
    fn the_share_chain_walks_forward_only_and_not_too_far() {
        let start = ShareChain { epoch: 10, chain: Secret32::from_bytes([3; 32]) };
        assert!(start.at(9).is_none());
        let same = start.at(10).unwrap();
        assert_eq!(same.chain.expose(), start.chain.expose());
        let next = start.at(11).unwrap();
        assert_ne!(next.chain.expose(), start.chain.expose());
        assert_eq!(next.at(12).unwrap().chain.expose(), start.at(12).unwrap().chain.expose());
        assert!(start.at(10 + MAX_SHARE_CHAIN_WALK).is_some());
        assert!(start.at(10 + MAX_SHARE_CHAIN_WALK + 1).is_none());
        let high = ShareChain { epoch: u32::MAX - 1, chain: Secret32::from_bytes([3; 32]) };
        assert!(high.at(u32::MAX).is_some());
    }

    #[test]
    fn the_chain_keeps_the_retained_epochs_and_the_current_one() {
        let mut chain = EpochChain::new(epoch(0, 1, false), 2);
        for n in 1..=5 {
            chain.push(epoch(n, u64::from(n) * 10, false));
        }
        assert_eq!(chain.epochs.keys().copied().collect::<Vec<_>>(), vec![3, 4, 5]);
        assert!(chain.epochs.values().take(2).all(|e| e.secret.is_none()), "older secrets survive");
        assert!(chain.current().unwrap().secret.is_some());
    }

    #[test]
    fn a_message_of_an_epoch_past_retention_has_expired() {
        let mut chain = EpochChain::new(epoch(0, 1, false), 1);
        for n in 1..=5 {
            chain.push(epoch(n, u64::from(n) * 10, false));
        }
        // Epoch 3 would still be in its grace window at position 45, but its key is gone.
        assert!(matches!(chain.check(&msg(3), 45), Err(Error::EpochExpired { epoch: 3 })));
    }

    #[test]
    fn the_epoch_in_force_is_the_newest_opened_at_or_before_a_position() {
        let mut chain = EpochChain::new(epoch(0, 1, false), 16);
        chain.push(epoch(1, 10, false));
        chain.push(epoch(2, 20, true));
        assert_eq!(chain.epoch_at(9).map(|e| e.number), Some(0));
        assert_eq!(chain.epoch_at(10).map(|e| e.number), Some(1));
        assert_eq!(chain.epoch_at(19).map(|e| e.number), Some(1));
        assert_eq!(chain.epoch_at(20).map(|e| e.number), Some(2));
        // A message of epoch 1 at position 15 is in force; at 20 its epoch was closed by a removal.
        assert!(chain.check(&msg(1), 15).is_ok());
        assert!(matches!(chain.check(&msg(1), 20), Err(Error::EpochClosed { epoch: 1 })));
        // Epoch 2 at position 15 is from the future of that position.
        assert!(matches!(chain.check(&msg(2), 15), Err(Error::UnknownEpoch { known: 1, got: 2 })));
        // Epoch 0 after a plain rotation, within the grace window, is accepted.
        let mut rotated = EpochChain::new(epoch(0, 1, false), 16);
        rotated.push(epoch(1, 10, false));
        assert!(rotated.check(&msg(0), 10 + ROTATION_GRACE).is_ok());
        assert!(matches!(rotated.check(&msg(0), 10 + ROTATION_GRACE + 1), Err(Error::EpochClosed { epoch: 0 })));
    }
}
