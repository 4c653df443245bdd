//! Every frame of the protocol: its fields, its wire layout and who signs it.
//!
//! A frame is `version (u8) || kind (u8) || body || signature (64)`; the signature is Ed25519
//! over `label || 0x00 || version || kind || body`, with one label per kind. Encoding is
//! canonical (fixed widths, no optional fields), so decoding and re-encoding give the same bytes,
//! and the signed bytes are recomputed from the decoded fields.
//!
//! Invariant: a decoded frame is well-formed, never authentic; authenticity is the job of the
//! party that knows which key must have signed it.

use crate::crypto::{self, NONCE_LEN, SIG_LEN, SignKey};
use crate::error::DecodeError;
use crate::wire::{MAX_FRAME_LEN, Reader, Writer};

pub use crate::room::{HistoryPolicy, MemberNo, OWNER_MEMBER, RoomId};

/// Frame kind bytes.
pub mod kind {
    /// [`super::CreateRoom`]
    pub const CREATE_ROOM: u8 = 0x01;
    /// [`super::RegisterInvite`]
    pub const REGISTER_INVITE: u8 = 0x02;
    /// [`super::RevokeInvite`]
    pub const REVOKE_INVITE: u8 = 0x03;
    /// [`super::JoinRequest`]
    pub const JOIN_REQUEST: u8 = 0x04;
    /// [`super::KeyGrant`]
    pub const KEY_GRANT: u8 = 0x05;
    /// [`super::JoinConfirm`]
    pub const JOIN_CONFIRM: u8 = 0x06;
    /// [`super::Commit`]
    pub const COMMIT: u8 = 0x07;
    /// [`super::Message`]
    pub const MESSAGE: u8 = 0x08;
    /// [`super::KeyUpdate`]
    pub const KEY_UPDATE: u8 = 0x09;
    /// [`super::Leave`]
    pub const LEAVE: u8 = 0x0A;
    /// [`super::DeleteRoom`]
    pub const DELETE_ROOM: u8 = 0x0B;
    /// [`super::Welcome`]
    pub const WELCOME: u8 = 0x0C;
}

/// Largest sealed introduction in a join request.
pub const MAX_INTRO_CT: usize = 512;
/// Largest sealed payload of a key grant.
pub const MAX_GRANT_CT: usize = 256;
/// Largest room message ciphertext.
pub const MAX_MESSAGE_CT: usize = 128 * 1024 + 64;
/// Largest number of members a room may hold (owner included).
pub const MAX_MEMBERS: usize = 10_000;
/// Largest sealed key share.
pub const MAX_SHARE_CT: usize = 96;

/// The body of a signed frame: its kind, its signature label, and its fields.
pub trait Body: Sized {
    /// The kind byte.
    const KIND: u8;
    /// The signature's domain label.
    const LABEL: &'static str;
    /// Writes the fields.
    #[doc(hidden)]
    fn write(&self, w: &mut Writer);
    /// Reads the fields.
    #[doc(hidden)]
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
    /// The room the frame belongs to.
    fn room_id(&self) -> &RoomId;
}

/// A frame body with the signature over it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed<T: Body> {
    /// The fields.
    pub body: T,
    /// Ed25519 signature over the label and the encoded body.
    pub sig: [u8; SIG_LEN],
}

impl<T: Body> Signed<T> {
    /// Signs `body` with `key`.
    pub(crate) fn sign(body: T, key: &SignKey) -> Self {
        let sig = key.sign(T::LABEL, &unsigned(&body));
        Self { body, sig }
    }
    /// Whether the signature verifies under `public`.
    pub fn verify(&self, public: &[u8; 32]) -> bool {
        crypto::verify(public, T::LABEL, &unsigned(&self.body), &self.sig)
    }
    /// The wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::frame(T::KIND);
        self.body.write(&mut w);
        w.fixed(&self.sig);
        w.finish()
    }
    /// Parses the wire bytes (no signature check).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::frame(bytes, T::KIND)?;
        let body = T::read(&mut r)?;
        let sig = r.array()?;
        r.finish()?;
        Ok(Self { body, sig })
    }
}

/// Version, kind and body: the bytes a frame's signature covers.
pub(crate) fn unsigned<T: Body>(body: &T) -> Vec<u8> {
    let mut w = Writer::frame(T::KIND);
    body.write(&mut w);
    w.finish()
}

fn read_kx_pk(r: &mut Reader<'_>, what: &'static str) -> Result<[u8; 32], DecodeError> {
    let pk: [u8; 32] = r.array()?;
    if !crypto::is_valid_kx_public(&pk) {
        return Err(DecodeError::InvalidValue(what));
    }
    Ok(pk)
}

fn read_sign_pk(r: &mut Reader<'_>, what: &'static str) -> Result<[u8; 32], DecodeError> {
    let pk: [u8; 32] = r.array()?;
    if !crypto::is_valid_sign_public(&pk) {
        return Err(DecodeError::InvalidValue(what));
    }
    Ok(pk)
}

/// The owner opens a room. Signed by the owner's room signing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateRoom {
    /// The room id; must equal [`crate::room::room_id_for`] of the fields below.
    pub room_id: RoomId,
    /// Random salt that makes room ids of one owner key distinct.
    pub salt: [u8; 16],
    /// The owner's Ed25519 room key.
    pub owner_sign_pk: [u8; 32],
    /// The owner's X25519 key to which join requests are sealed.
    pub owner_kx_pk: [u8; 32],
    /// The room's history policy.
    pub policy: HistoryPolicy,
}

impl Body for CreateRoom {
    const KIND: u8 = kind::CREATE_ROOM;
    const LABEL: &'static str = "zfc v1 create room";
    fn write(&self, w: &mut Writer) {
        w.fixed(&self.room_id).fixed(&self.salt).fixed(&self.owner_sign_pk).fixed(&self.owner_kx_pk);
        w.u8(self.policy as u8);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            room_id: r.array()?,
            salt: r.array()?,
            owner_sign_pk: read_sign_pk(r, "owner key")?,
            owner_kx_pk: read_kx_pk(r, "owner key-agreement key")?,
            policy: HistoryPolicy::from_u8(r.u8()?)?,
        })
    }
    fn room_id(&self) -> &RoomId {
        &self.room_id
    }
}

/// The owner registers an invite's commitment (the public key derived from its token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterInvite {
    /// The room.
    pub room_id: RoomId,
    /// The Ed25519 public key derived from the invite token.
    pub invite_pk: [u8; 32],
    /// Expiry, in seconds since the Unix epoch.
    pub expires_at: u64,
}

impl Body for RegisterInvite {
    const KIND: u8 = kind::REGISTER_INVITE;
    const LABEL: &'static str = "zfc v1 register invite";
    fn write(&self, w: &mut Writer) {
        w.fixed(&self.room_id).fixed(&self.invite_pk).u64(self.expires_at);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { room_id: r.array()?, invite_pk: read_sign_pk(r, "invite key")?, expires_at: r.u64()? })
    }
    fn room_id(&self) -> &RoomId {
        &self.room_id
    }
}

/// The owner withdraws an unused invite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokeInvite {
    /// The room.
    pub room_id: RoomId,
    /// The invite's public key.
    pub invite_pk: [u8; 32],
}

impl Body for RevokeInvite {
    const KIND: u8 = kind::REVOKE_INVITE;
    const LABEL: &'static str = "zfc v1 revoke invite";
    fn write(&self, w: &mut Writer) {
        w.fixed(&self.room_id).fixed(&self.invite_pk);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { room_id: r.array()?, invite_pk: read_sign_pk(r, "invite key")? })
    }
    fn room_id(&self) -> &RoomId {
        &self.room_id
    }
}

/// A joiner asks to join. The joiner signs the fields with its new member key (proof of that
/// key); the whole, joiner signature included, is signed by the invite key (proof of the token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinRequest {
    /// The room.
    pub room_id: RoomId,
    /// The invite's public key (the relay's handle on the token commitment).
    pub invite_pk: [u8; 32],
    /// The joiner's new Ed25519 member key.
    pub joiner_sign_pk: [u8; 32],
    /// The joiner's X25519 key-delivery key.
    pub joiner_kx_pk: [u8; 32],
    /// The joiner's fresh ephemeral X25519 key, to which the key grant is sealed.
    pub joiner_eph_pk: [u8; 32],
    /// HPKE encapsulated key of the sealed introduction.
    pub intro_enc: [u8; 32],
    /// The introduction (display name), HPKE-sealed to the owner's X25519 key.
    pub intro_ct: Vec<u8>,
    /// The joiner's signature over everything above.
    pub joiner_sig: [u8; SIG_LEN],
}

/// Label of the joiner's own signature inside a join request.
pub(crate) const JOINER_SIG_LABEL: &str = "zfc v1 join request joiner";

impl JoinRequest {
    fn write_fields(&self, w: &mut Writer) {
        w.fixed(&self.room_id).fixed(&self.invite_pk).fixed(&self.joiner_sign_pk);
        w.fixed(&self.joiner_kx_pk).fixed(&self.joiner_eph_pk).fixed(&self.intro_enc);
        w.bytes(&self.intro_ct);
    }
    /// The bytes the joiner's signature covers.
    pub(crate) fn joiner_signed_bytes(&self) -> Vec<u8> {
        let mut w = Writer::frame(Self::KIND);
        self.write_fields(&mut w);
        w.finish()
    }
    /// Whether the joiner's own signature verifies under the key it claims.
    pub fn verify_joiner(&self) -> bool {
        crypto::verify(&self.joiner_sign_pk, JOINER_SIG_LABEL, &self.joiner_signed_bytes(), &self.joiner_sig)
    }
}

impl Body for JoinRequest {
    const KIND: u8 = kind::JOIN_REQUEST;
    const LABEL: &'static str = "zfc v1 join request invite";
    fn write(&self, w: &mut Writer) {
        self.write_fields(w);
        w.fixed(&self.joiner_sig);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            room_id: r.array()?,
            invite_pk: read_sign_pk(r, "invite key")?,
            joiner_sign_pk: read_sign_pk(r, "joiner key")?,
            joiner_kx_pk: read_kx_pk(r, "joiner key-delivery key")?,
            joiner_eph_pk: read_kx_pk(r, "joiner ephemeral key")?,
            intro_enc: r.array()?,
            intro_ct: r.bytes(MAX_INTRO_CT)?.to_vec(),
            joiner_sig: r.array()?,
        })
    }
    fn room_id(&self) -> &RoomId {
        &self.room_id
    }
}

/// The owner's answer to a join request: the welcome, HPKE-sealed (PSK mode, the token's PSK)
/// to the joiner's ephemeral key. Signed by the owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyGrant {
    /// The room.
    pub room_id: RoomId,
    /// The invite answered.
    pub invite_pk: [u8; 32],
    /// The joiner's member key (the relay routes the grant by it).
    pub joiner_sign_pk: [u8; 32],
    /// Hash of the join request this grant answers.
    pub request_hash: [u8; 32],
    /// HPKE encapsulated key (the owner's fresh ephemeral key).
    pub enc: [u8; 32],
    /// The sealed grant payload (policy and epoch).
    pub grant_ct: Vec<u8>,
}

impl Body for KeyGrant {
    const KIND: u8 = kind::KEY_GRANT;
    const LABEL: &'static str = "zfc v1 key grant";
    fn write(&self, w: &mut Writer) {
        w.fixed(&self.room_id).fixed(&self.invite_pk).fixed(&self.joiner_sign_pk);
        w.fixed(&self.request_hash).fixed(&self.enc).bytes(&self.grant_ct);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            room_id: r.array()?,
            invite_pk: read_sign_pk(r, "invite key")?,
            joiner_sign_pk: read_sign_pk(r, "joiner key")?,
            request_hash: r.array()?,
            enc: r.array()?,
            grant_ct: r.bytes(MAX_GRANT_CT)?.to_vec(),
        })
    }
    fn room_id(&self) -> &RoomId {
        &self.room_id
    }
}

/// The joiner proves it opened the grant. Signed by the joiner's member key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinConfirm {
    /// The room.
    pub room_id: RoomId,
    /// The invite used.
    pub invite_pk: [u8; 32],
    /// The joiner's member key.
    pub joiner_sign_pk: [u8; 32],
    /// HMAC proving knowledge of the grant's secrets.
    pub tag: [u8; 32],
}

impl Body for JoinConfirm {
    const KIND: u8 = kind::JOIN_CONFIRM;
    const LABEL: &'static str = "zfc v1 join confirm";
    fn write(&self, w: &mut Writer) {
        w.fixed(&self.room_id).fixed(&self.invite_pk).fixed(&self.joiner_sign_pk).fixed(&self.tag);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            room_id: r.array()?,
            invite_pk: read_sign_pk(r, "invite key")?,
            joiner_sign_pk: read_sign_pk(r, "joiner key")?,
            tag: r.array()?,
        })
    }
    fn room_id(&self) -> &RoomId {
        &self.room_id
    }
}

/// The membership change a commit makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Same roster, new key (periodic or on demand).
    Rotate,
    /// A member joins (the owner-signed membership record).
    Add {
        /// The number the owner assigns.
        member: MemberNo,
        /// The member's Ed25519 key.
        sign_pk: [u8; 32],
        /// The member's X25519 key-delivery key.
        kx_pk: [u8; 32],
        /// The invite consumed.
        invite_pk: [u8; 32],
    },
    /// A member is removed (or has left).
    Remove {
        /// The member removed.
        member: MemberNo,
    },
}

/// How a commit's epoch secret is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyMode {
    /// Derived one-way from the previous epoch secret (only an `Add` under
    /// [`HistoryPolicy::SinceLastEpoch`]); only the newcomer gets a share.
    Derived = 0,
    /// A fresh random secret, sealed to every member but the owner.
    Fresh = 1,
}

/// One member's HPKE-sealed copy of a new epoch secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    /// Recipient.
    pub member: MemberNo,
    /// HPKE encapsulated key.
    pub enc: [u8; 32],
    /// The sealed secret(s).
    pub ct: Vec<u8>,
}

/// The owner moves the room to a new epoch. Signed by the owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The room.
    pub room_id: RoomId,
    /// The new epoch number (previous + 1).
    pub epoch: u32,
    /// Hash of the previous epoch (its commit, or the room creation for epoch 1).
    pub prev_epoch_hash: [u8; 32],
    /// Digest of the roster after the change.
    pub roster_digest: [u8; 32],
    /// The change.
    pub change: Change,
    /// How the secret is made.
    pub key_mode: KeyMode,
    /// Sealed copies of the secret, ascending by member number.
    pub shares: Vec<Share>,
}

impl Commit {
    /// The fields that fix the epoch, shares excluded (input to derived secrets and share AAD).
    pub(crate) fn header_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.fixed(&self.room_id).u32(self.epoch).fixed(&self.prev_epoch_hash).fixed(&self.roster_digest);
        write_change(&mut w, &self.change);
        w.u8(self.key_mode as u8);
        w.finish()
    }
}

fn write_change(w: &mut Writer, c: &Change) {
    match c {
        Change::Rotate => {
            w.u8(0);
        }
        Change::Add { member, sign_pk, kx_pk, invite_pk } => {
            w.u8(1).u32(*member).fixed(sign_pk).fixed(kx_pk).fixed(invite_pk);
        }
        Change::Remove { member } => {
            w.u8(2).u32(*member);
        }
    }
}

impl Body for Commit {
    const KIND: u8 = kind::COMMIT;
    const LABEL: &'static str = "zfc v1 commit";
    fn write(&self, w: &mut Writer) {
        w.fixed(&self.room_id).u32(self.epoch).fixed(&self.prev_epoch_hash).fixed(&self.roster_digest);
        write_change(w, &self.change);
        w.u8(self.key_mode as u8);
        w.u32(self.shares.len() as u32);
        for s in &self.shares {
            w.u32(s.member).fixed(&s.enc).bytes(&s.ct);
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let room_id = r.array()?;
        let epoch = r.u32()?;
        let prev_epoch_hash = r.array()?;
        let roster_digest = r.array()?;
        let change = match r.u8()? {
            0 => Change::Rotate,
            1 => Change::Add {
                member: r.u32()?,
                sign_pk: read_sign_pk(r, "member key")?,
                kx_pk: read_kx_pk(r, "member key-delivery key")?,
                invite_pk: read_sign_pk(r, "invite key")?,
            },
            2 => Change::Remove { member: r.u32()? },
            _ => return Err(DecodeError::InvalidValue("change")),
        };
        let key_mode = match r.u8()? {
            0 => KeyMode::Derived,
            1 => KeyMode::Fresh,
            _ => return Err(DecodeError::InvalidValue("key mode")),
        };
        let n = r.count(4 + 32 + 4, MAX_MEMBERS)?;
        let mut shares = Vec::with_capacity(n);
        let mut last: Option<MemberNo> = None;
        for _ in 0..n {
            let member = r.u32()?;
            if last.is_some_and(|l| l >= member) {
                return Err(DecodeError::InvalidValue("share order"));
            }
            last = Some(member);
            shares.push(Share { member, enc: r.array()?, ct: r.bytes(MAX_SHARE_CT)?.to_vec() });
        }
        Ok(Self { room_id, epoch, prev_epoch_hash, roster_digest, change, key_mode, shares })
    }
    fn room_id(&self) -> &RoomId {
        &self.room_id
    }
}

/// A room message. Signed by the sender's member key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The room.
    pub room_id: RoomId,
    /// The epoch whose key sealed it.
    pub epoch: u32,
    /// The sender's member number.
    pub sender: MemberNo,
    /// The sender's sequence number within the epoch, from 0.
    pub seq: u32,
    /// Random XChaCha20 nonce.
    pub nonce: [u8; NONCE_LEN],
    /// Padded plaintext sealed with the epoch's message key; the header above is its AAD.
    pub ct: Vec<u8>,
}

impl Message {
    /// The authenticated data of the AEAD: version, kind, room, epoch, sender, sequence.
    pub(crate) fn aad(&self) -> Vec<u8> {
        let mut w = Writer::frame(Self::KIND);
        w.fixed(&self.room_id).u32(self.epoch).u32(self.sender).u32(self.seq);
        w.finish()
    }
}

impl Body for Message {
    const KIND: u8 = kind::MESSAGE;
    const LABEL: &'static str = "zfc v1 message";
    fn write(&self, w: &mut Writer) {
        w.fixed(&self.room_id).u32(self.epoch).u32(self.sender).u32(self.seq);
        w.fixed(&self.nonce).bytes(&self.ct);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            room_id: r.array()?,
            epoch: r.u32()?,
            sender: r.u32()?,
            seq: r.u32()?,
            nonce: r.array()?,
            ct: r.bytes(MAX_MESSAGE_CT)?.to_vec(),
        })
    }
    fn room_id(&self) -> &RoomId {
        &self.room_id
    }
}

/// A member replaces its key-delivery key. Signed by the member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUpdate {
    /// The room.
    pub room_id: RoomId,
    /// The member.
    pub member: MemberNo,
    /// How many key updates this member made in this room, this one included (from 1): a
    /// replayed or reordered update is refused.
    pub generation: u32,
    /// Its new X25519 key-delivery key.
    pub kx_pk: [u8; 32],
}

impl Body for KeyUpdate {
    const KIND: u8 = kind::KEY_UPDATE;
    const LABEL: &'static str = "zfc v1 key update";
    fn write(&self, w: &mut Writer) {
        w.fixed(&self.room_id).u32(self.member).u32(self.generation).fixed(&self.kx_pk);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            room_id: r.array()?,
            member: r.u32()?,
            generation: r.u32()?,
            kx_pk: read_kx_pk(r, "member key-delivery key")?,
        })
    }
    fn room_id(&self) -> &RoomId {
        &self.room_id
    }
}

/// A member leaves. Signed by the member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leave {
    /// The room.
    pub room_id: RoomId,
    /// The member leaving.
    pub member: MemberNo,
}

impl Body for Leave {
    const KIND: u8 = kind::LEAVE;
    const LABEL: &'static str = "zfc v1 leave";
    fn write(&self, w: &mut Writer) {
        w.fixed(&self.room_id).u32(self.member);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { room_id: r.array()?, member: r.u32()? })
    }
    fn room_id(&self) -> &RoomId {
        &self.room_id
    }
}

/// The owner deletes the room. Signed by the owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteRoom {
    /// The room.
    pub room_id: RoomId,
}

impl Body for DeleteRoom {
    const KIND: u8 = kind::DELETE_ROOM;
    const LABEL: &'static str = "zfc v1 delete room";
    fn write(&self, w: &mut Writer) {
        w.fixed(&self.room_id);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { room_id: r.array()? })
    }
    fn room_id(&self) -> &RoomId {
        &self.room_id
    }
}

/// The roster a newcomer starts from, sent with the commit that adds it. Signed by the owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Welcome {
    /// The room.
    pub room_id: RoomId,
    /// The newcomer's member key (the relay routes the welcome by it).
    pub joiner_sign_pk: [u8; 32],
    /// The newcomer's member number.
    pub member: MemberNo,
    /// The epoch the adding commit opens.
    pub epoch: u32,
    /// The roster after the addition, ascending: member number and signing key.
    pub roster: Vec<(MemberNo, [u8; 32])>,
}

impl Body for Welcome {
    const KIND: u8 = kind::WELCOME;
    const LABEL: &'static str = "zfc v1 welcome";
    fn write(&self, w: &mut Writer) {
        w.fixed(&self.room_id).fixed(&self.joiner_sign_pk).u32(self.member).u32(self.epoch);
        w.u32(self.roster.len() as u32);
        for (m, pk) in &self.roster {
            w.u32(*m).fixed(pk);
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let room_id = r.array()?;
        let joiner_sign_pk = read_sign_pk(r, "joiner key")?;
        let member = r.u32()?;
        let epoch = r.u32()?;
        let n = r.count(36, MAX_MEMBERS)?;
        let mut roster = Vec::with_capacity(n);
        for _ in 0..n {
            let m = r.u32()?;
            if roster.last().is_some_and(|(l, _)| *l >= m) {
                return Err(DecodeError::InvalidValue("roster order"));
            }
            // Not validated as a curve point here (§2.7): every roster key was validated in the
            // Add commit that brought it in, the relay checks the roster against its own, and
            // n point decompressions were most of a newcomer's cost in a large room.
            roster.push((m, r.array()?));
        }
        Ok(Self { room_id, joiner_sign_pk, member, epoch, roster })
    }
    fn room_id(&self) -> &RoomId {
        &self.room_id
    }
}

/// Any signed frame, decoded by its kind byte.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Frame {
    CreateRoom(Signed<CreateRoom>),
    RegisterInvite(Signed<RegisterInvite>),
    RevokeInvite(Signed<RevokeInvite>),
    JoinRequest(Signed<JoinRequest>),
    KeyGrant(Signed<KeyGrant>),
    JoinConfirm(Signed<JoinConfirm>),
    Commit(Signed<Commit>),
    Message(Signed<Message>),
    KeyUpdate(Signed<KeyUpdate>),
    Leave(Signed<Leave>),
    DeleteRoom(Signed<DeleteRoom>),
    Welcome(Signed<Welcome>),
}

impl Frame {
    /// Parses any signed frame (no signature check).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_FRAME_LEN {
            return Err(DecodeError::TooLong { len: bytes.len(), max: MAX_FRAME_LEN });
        }
        let mut r = Reader::open_any(bytes)?;
        let k = r.u8()?;
        Ok(match k {
            kind::CREATE_ROOM => Self::CreateRoom(Signed::decode(bytes)?),
            kind::REGISTER_INVITE => Self::RegisterInvite(Signed::decode(bytes)?),
            kind::REVOKE_INVITE => Self::RevokeInvite(Signed::decode(bytes)?),
            kind::JOIN_REQUEST => Self::JoinRequest(Signed::decode(bytes)?),
            kind::KEY_GRANT => Self::KeyGrant(Signed::decode(bytes)?),
            kind::JOIN_CONFIRM => Self::JoinConfirm(Signed::decode(bytes)?),
            kind::COMMIT => Self::Commit(Signed::decode(bytes)?),
            kind::MESSAGE => Self::Message(Signed::decode(bytes)?),
            kind::KEY_UPDATE => Self::KeyUpdate(Signed::decode(bytes)?),
            kind::LEAVE => Self::Leave(Signed::decode(bytes)?),
            kind::DELETE_ROOM => Self::DeleteRoom(Signed::decode(bytes)?),
            kind::WELCOME => Self::Welcome(Signed::decode(bytes)?),
            other => return Err(DecodeError::UnknownKind(other)),
        })
    }

    /// The room the frame names.
    pub fn room_id(&self) -> &RoomId {
        match self {
            Self::CreateRoom(f) => f.body.room_id(),
            Self::RegisterInvite(f) => f.body.room_id(),
            Self::RevokeInvite(f) => f.body.room_id(),
            Self::JoinRequest(f) => f.body.room_id(),
            Self::KeyGrant(f) => f.body.room_id(),
            Self::JoinConfirm(f) => f.body.room_id(),
            Self::Commit(f) => f.body.room_id(),
            Self::Message(f) => f.body.room_id(),
            Self::KeyUpdate(f) => f.body.room_id(),
            Self::Leave(f) => f.body.room_id(),
            Self::DeleteRoom(f) => f.body.room_id(),
            Self::Welcome(f) => f.body.room_id(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn msg() -> Message {
        Message { room_id: [1; 16], epoch: 3, sender: 2, seq: 9, nonce: [4; 24], ct: vec![5; 20] }
    }

    #[test]
    fn signed_frames_round_trip_and_reject_any_bit_flip() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let key = SignKey::generate(&mut rng);
        let f = Signed::sign(msg(), &key);
        let bytes = f.encode();
        let back = Signed::<Message>::decode(&bytes).unwrap();
        assert_eq!(back, f);
        assert!(back.verify(&key.public()));
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            if let Ok(g) = Signed::<Message>::decode(&b) {
                assert!(!g.verify(&key.public()), "flip at byte {i} still verifies");
            }
        }
    }

    #[test]
    fn a_signature_of_one_kind_does_not_verify_as_another() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let key = SignKey::generate(&mut rng);
        let leave = Signed::sign(Leave { room_id: [1; 16], member: 5 }, &key);
        let ku = Signed { body: DeleteRoom { room_id: [1; 16] }, sig: leave.sig };
        assert!(!ku.verify(&key.public()));
    }

    #[test]
    fn a_welcome_roster_key_is_not_validated_at_decode_but_its_joiner_key_is() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let owner = SignKey::generate(&mut rng);
        let joiner = SignKey::generate(&mut rng).public();
        // The identity point: it decodes, but is of small order.
        let mut weak_key = [0; 32];
        weak_key[0] = 1;
        assert!(!crypto::is_valid_sign_public(&weak_key));
        let welcome = |joiner_sign_pk| {
            let body = Welcome {
                room_id: [1; 16],
                joiner_sign_pk,
                member: 2,
                epoch: 2,
                roster: vec![(0, owner.public()), (1, weak_key), (2, joiner)],
            };
            Signed::sign(body, &owner).encode()
        };
        assert!(matches!(Frame::decode(&welcome(joiner)), Ok(Frame::Welcome(_))));
        assert_eq!(Frame::decode(&welcome(weak_key)), Err(DecodeError::InvalidValue("joiner key")));
    }

    #[test]
    fn unknown_kind_and_version_are_typed_errors() {
        assert_eq!(Frame::decode(&[1, 0x7f]), Err(DecodeError::UnknownKind(0x7f)));
        assert_eq!(Frame::decode(&[9, 0x08]), Err(DecodeError::UnsupportedVersion(9)));
        assert_eq!(Frame::decode(&[]), Err(DecodeError::Truncated));
    }
}
