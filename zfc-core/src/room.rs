//! The room: its id, its configuration, and its roster.
//!
//! Invariants: a room id is a hash of the owner's two public keys and a salt, so no one without
//! the owner's signing key can open a room under that id; the roster digest covers every member
//! number and signing key in ascending order, so two parties agree on the digest exactly when
//! they agree on who is in the room.

use std::collections::BTreeMap;

use crate::crypto;
use crate::error::{DecodeError, Error};
use crate::frame::MAX_MEMBERS;
use crate::keys::MemberKey;

/// 16-byte room identifier, bound to the owner's keys (see [`room_id_for`]).
pub type RoomId = [u8; 16];
/// A member's number in its room: assigned by the owner when the member is added, never reused.
pub type MemberNo = u32;
/// The owner's member number.
pub const OWNER_MEMBER: MemberNo = 0;

/// Who may read history from before they joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryPolicy {
    /// 0FC's rule as it works: a newcomer reads from the start of the epoch preceding the commit
    /// that added it, the epoch the last commit of any kind opened (a rotation, a removal, an
    /// earlier add). Named `SinceLastRotation` before; the wire value is unchanged.
    SinceLastEpoch = 0,
    /// A newcomer reads nothing sent before it joined: joining rotates to a fresh epoch key.
    SinceJoin = 1,
}

impl HistoryPolicy {
    pub(crate) fn from_u8(v: u8) -> Result<Self, DecodeError> {
        match v {
            0 => Ok(Self::SinceLastEpoch),
            1 => Ok(Self::SinceJoin),
            _ => Err(DecodeError::InvalidValue("history policy")),
        }
    }
}

pub use crate::padding::Padding;

/// The room id for an owner's keys and a salt: the first 16 bytes of
/// `H("zfc v1 room id", owner_sign_pk, owner_kx_pk, salt)`.
pub fn room_id_for(owner_sign_pk: &[u8; 32], owner_kx_pk: &[u8; 32], salt: &[u8; 16]) -> RoomId {
    let h = crypto::hash("zfc v1 room id", &[owner_sign_pk, owner_kx_pk, salt]);
    let mut id = [0u8; 16];
    id.copy_from_slice(&h[..16]);
    id
}

/// How many relay sequence numbers after a periodic or on-demand rotation messages of the
/// previous epoch are still accepted (none after a removal).
pub const ROTATION_GRACE: u64 = 256;

/// Settings of a room, fixed by its owner; members use the parts that concern them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomConfig {
    pub(crate) policy: HistoryPolicy,
    pub(crate) rotate_every: u32,
    pub(crate) retained_epochs: u32,
    pub(crate) padding: Padding,
    pub(crate) auto_approve: bool,
}

impl Default for RoomConfig {
    fn default() -> Self {
        Self {
            policy: HistoryPolicy::SinceLastEpoch,
            rotate_every: 100,
            retained_epochs: 16,
            padding: Padding::default(),
            auto_approve: false,
        }
    }
}

impl RoomConfig {
    /// Starts from the defaults: 0FC's history policy, rotation every 100 messages, 16 epochs
    /// kept, power-of-two padding from 64 bytes, join requests left to the app.
    pub fn builder() -> RoomConfigBuilder {
        RoomConfigBuilder(Self::default())
    }
    /// The history policy.
    pub fn policy(&self) -> HistoryPolicy {
        self.policy
    }
}

/// Builds a [`RoomConfig`].
#[derive(Clone, Debug)]
pub struct RoomConfigBuilder(RoomConfig);

impl RoomConfigBuilder {
    /// Who may read what was sent before they joined.
    pub fn history_policy(mut self, p: HistoryPolicy) -> Self {
        self.0.policy = p;
        self
    }
    /// The owner rotates the epoch key after this many messages in one epoch (at least 1).
    pub fn rotate_every(mut self, n: u32) -> Self {
        self.0.rotate_every = n;
        self
    }
    /// How many past epochs' keys a member keeps before erasing them (at least 1).
    pub fn retained_epochs(mut self, n: u32) -> Self {
        self.0.retained_epochs = n;
        self
    }
    /// Length padding of outgoing messages.
    pub fn padding(mut self, p: Padding) -> Self {
        self.0.padding = p;
        self
    }
    /// Whether the owner grants every valid join request without asking the app.
    pub fn auto_approve(mut self, yes: bool) -> Self {
        self.0.auto_approve = yes;
        self
    }
    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the setting out of range.
    pub fn build(self) -> Result<RoomConfig, Error> {
        if self.0.rotate_every == 0 {
            return Err(Error::InvalidArgument("rotate_every must be at least 1"));
        }
        if self.0.retained_epochs == 0 || self.0.retained_epochs > 1024 {
            return Err(Error::InvalidArgument("retained_epochs must be in 1..=1024"));
        }
        self.0.padding.check()?;
        Ok(self.0)
    }
}

/// One member as the roster records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterEntry {
    /// Ed25519 member key.
    pub sign_pk: MemberKey,
    /// X25519 key-delivery key (the owner keeps it current; others may hold a stale one).
    pub kx_pk: [u8; 32],
}

/// Who is in the room, by member number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roster {
    members: BTreeMap<MemberNo, RosterEntry>,
    /// Member number of each signing key: keys are unique in a roster, and a welcome's roster of
    /// n members must be checked in O(n log n), not O(n²).
    by_key: BTreeMap<MemberKey, MemberNo>,
    /// Generation of each member's newest key update (absent: none yet).
    kx_generations: BTreeMap<MemberNo, u32>,
}

impl Roster {
    /// A roster holding only the owner.
    pub(crate) fn with_owner(sign_pk: [u8; 32], kx_pk: [u8; 32]) -> Self {
        let sign_pk = MemberKey::from_bytes(sign_pk);
        let mut members = BTreeMap::new();
        members.insert(crate::frame::OWNER_MEMBER, RosterEntry { sign_pk, kx_pk });
        let by_key = BTreeMap::from([(sign_pk, crate::frame::OWNER_MEMBER)]);
        Self { members, by_key, kx_generations: BTreeMap::new() }
    }
    /// The entry of a member.
    pub fn get(&self, m: MemberNo) -> Option<&RosterEntry> {
        self.members.get(&m)
    }
    /// Whether `m` is in the roster.
    pub fn contains(&self, m: MemberNo) -> bool {
        self.members.contains_key(&m)
    }
    /// The member holding signing key `pk`.
    pub fn find(&self, pk: &MemberKey) -> Option<MemberNo> {
        self.by_key.get(pk).copied()
    }
    /// Members in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = (MemberNo, &RosterEntry)> {
        self.members.iter().map(|(m, e)| (*m, e))
    }
    /// Number of members, owner included.
    pub fn len(&self) -> usize {
        self.members.len()
    }
    /// Whether the roster is empty (never true of a live room).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
    /// The largest member number in use.
    pub fn max_member(&self) -> MemberNo {
        self.members.keys().next_back().copied().unwrap_or(0)
    }
    pub(crate) fn insert(&mut self, m: MemberNo, e: RosterEntry) -> Result<(), Error> {
        if self.members.len() >= MAX_MEMBERS {
            return Err(Error::RoomFull);
        }
        if self.members.contains_key(&m) || self.find(&e.sign_pk).is_some() {
            return Err(Error::InvalidArgument("member number or key already in roster"));
        }
        self.by_key.insert(e.sign_pk, m);
        self.members.insert(m, e);
        Ok(())
    }
    pub(crate) fn remove(&mut self, m: MemberNo) -> Option<RosterEntry> {
        self.kx_generations.remove(&m);
        let removed = self.members.remove(&m);
        if let Some(e) = &removed {
            self.by_key.remove(&e.sign_pk);
        }
        removed
    }
    /// The generation of member `m`'s newest key update (0: none).
    pub fn kx_generation(&self, m: MemberNo) -> u32 {
        self.kx_generations.get(&m).copied().unwrap_or(0)
    }
    pub(crate) fn set_kx(&mut self, m: MemberNo, kx_pk: [u8; 32], generation: u32) {
        if let Some(e) = self.members.get_mut(&m) {
            e.kx_pk = kx_pk;
            self.kx_generations.insert(m, generation);
        }
    }
    /// `H("zfc v1 roster", (u32 member || sign_pk) for each member ascending)`.
    pub fn digest(&self) -> [u8; 32] {
        let mut buf = Vec::with_capacity(self.members.len() * 36);
        for (m, e) in &self.members {
            buf.extend_from_slice(&m.to_be_bytes());
            buf.extend_from_slice(e.sign_pk.as_bytes());
        }
        crypto::hash("zfc v1 roster", &[&buf])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_digest_depends_on_membership_and_order_free() {
        let mut a = Roster::with_owner([1; 32], [2; 32]);
        let d0 = a.digest();
        a.insert(3, RosterEntry { sign_pk: [3; 32].into(), kx_pk: [0; 32] }).unwrap();
        let d1 = a.digest();
        assert_ne!(d0, d1);
        a.set_kx(3, [9; 32], 1);
        assert_eq!(a.digest(), d1, "key-delivery keys are not part of the digest");
        a.remove(3);
        assert_eq!(a.digest(), d0);
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let mut a = Roster::with_owner([1; 32], [2; 32]);
        assert!(a.insert(4, RosterEntry { sign_pk: [1; 32].into(), kx_pk: [0; 32] }).is_err());
        assert!(a.insert(0, RosterEntry { sign_pk: [5; 32].into(), kx_pk: [0; 32] }).is_err());
    }

    #[test]
    fn config_builder_refuses_zero_rotation() {
        assert!(RoomConfig::builder().rotate_every(0).build().is_err());
        assert!(RoomConfig::builder().retained_epochs(0).build().is_err());
    }
}
