//! The join handshake's cryptography: the sealed join request, the key grant sealed to the
//! joiner's ephemeral key under the token's PSK, and the confirmation tag.
//!
//! Invariants: the grant key comes from a fresh owner ephemeral (HPKE's) and a fresh joiner
//! ephemeral, mixed with the token's PSK: a later leak of either party's long-term keys, or of
//! the token, does not open a grant once both ephemerals are erased. The confirmation can only be
//! computed by whoever opened the grant (it keys on the HPKE exporter secret).

use rand_core::CryptoRng;

use crate::crypto::{self, KxKey, Psk, Secret32, SignKey};
use crate::error::Error;
use crate::frame::{self, HistoryPolicy, JoinRequest, KeyGrant, RoomId, Signed};
use crate::invite::{Invite, InviteKeys};
use crate::wire::{Reader, Writer};

/// Longest display name a joiner may send, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 128;

fn intro_info(room_id: &RoomId) -> Vec<u8> {
    let mut v = b"zfc v1 join intro".to_vec();
    v.extend_from_slice(room_id);
    v
}

/// The AAD of the introduction: the request's public fields.
fn intro_aad(
    room_id: &RoomId,
    invite_pk: &[u8; 32],
    sign_pk: &[u8; 32],
    kx_pk: &[u8; 32],
    eph_pk: &[u8; 32],
) -> Vec<u8> {
    let mut w = Writer::new();
    w.fixed(room_id).fixed(invite_pk).fixed(sign_pk).fixed(kx_pk).fixed(eph_pk);
    w.finish()
}

/// Builds the join request, signed by the joiner's key and then by the invite key.
pub(crate) fn build_request(
    invite: &Invite,
    keys: &InviteKeys,
    joiner: &SignKey,
    kx_pk: [u8; 32],
    eph_pk: [u8; 32],
    name: &str,
    rng: &mut impl CryptoRng,
) -> Result<Signed<JoinRequest>, Error> {
    if name.len() > MAX_NAME_LEN {
        return Err(Error::InvalidArgument("display name longer than 128 bytes"));
    }
    let invite_pk = keys.sign.public();
    let sign_pk = joiner.public();
    let mut pt = Writer::new();
    pt.bytes(name.as_bytes());
    let aad = intro_aad(&invite.room_id, &invite_pk, &sign_pk, &kx_pk, &eph_pk);
    let sealed = crypto::hpke_seal(
        &invite.owner_kx_pk,
        &intro_info(&invite.room_id),
        &aad,
        pt.as_slice(),
        Some(Psk { key: &keys.psk, id: &invite_pk }),
        rng,
    )
    .ok_or(Error::BadInvite("owner key-agreement key"))?;
    let mut req = JoinRequest {
        room_id: invite.room_id,
        invite_pk,
        joiner_sign_pk: sign_pk,
        joiner_kx_pk: kx_pk,
        joiner_eph_pk: eph_pk,
        intro_enc: sealed.enc,
        intro_ct: sealed.ct,
        joiner_sig: [0; 64],
    };
    req.joiner_sig = joiner.sign(frame::JOINER_SIG_LABEL, &req.joiner_signed_bytes());
    Ok(Signed::sign(req, &keys.sign))
}

/// Opens the introduction of a request (owner side); returns the display name.
pub(crate) fn open_intro(req: &JoinRequest, owner_kx: &KxKey, psk: &Secret32) -> Result<String, Error> {
    let aad = intro_aad(&req.room_id, &req.invite_pk, &req.joiner_sign_pk, &req.joiner_kx_pk, &req.joiner_eph_pk);
    let (pt, _) = crypto::hpke_open(
        owner_kx,
        &req.intro_enc,
        &intro_info(&req.room_id),
        &aad,
        &req.intro_ct,
        Some(Psk { key: psk, id: &req.invite_pk }),
    )
    .ok_or(Error::WrongToken)?;
    let mut r = Reader::new(&pt);
    let name = r.bytes(MAX_NAME_LEN)?;
    r.finish()?;
    String::from_utf8(name.to_vec()).map_err(|_| Error::Decode(crate::error::DecodeError::InvalidValue("name")))
}

/// `H("zfc v1 join request hash", request frame)`.
pub(crate) fn request_hash(request_bytes: &[u8]) -> [u8; 32] {
    crypto::hash("zfc v1 join request hash", &[request_bytes])
}

/// `H("zfc v1 key grant hash", grant frame)`.
pub(crate) fn grant_hash(grant_bytes: &[u8]) -> [u8; 32] {
    crypto::hash("zfc v1 key grant hash", &[grant_bytes])
}

/// What a key grant carries to the joiner. No epoch key: that comes only with the owner-signed
/// commit that adds the joiner, once the relay has accepted the membership, so a joiner that is
/// granted but never added holds no key of the room.
pub(crate) struct GrantPayload {
    pub policy: HistoryPolicy,
    /// The owner's epoch when it granted (for the joiner's information).
    pub epoch: u32,
}

fn grant_info(request_hash: &[u8; 32]) -> Vec<u8> {
    let mut v = b"zfc v1 key grant".to_vec();
    v.extend_from_slice(request_hash);
    v
}

fn grant_aad(g: &KeyGrant) -> Vec<u8> {
    let mut w = Writer::new();
    w.fixed(&g.room_id).fixed(&g.invite_pk).fixed(&g.joiner_sign_pk).fixed(&g.request_hash);
    w.finish()
}

/// Seals a grant to the joiner's ephemeral key; returns it with the HPKE exporter secret.
pub(crate) fn seal_grant(
    req: &JoinRequest,
    request_hash: [u8; 32],
    psk: &Secret32,
    payload: &GrantPayload,
    owner: &SignKey,
    rng: &mut impl CryptoRng,
) -> Result<(Signed<KeyGrant>, Secret32), Error> {
    let mut pt = Vec::with_capacity(5);
    pt.push(payload.policy as u8);
    pt.extend_from_slice(&payload.epoch.to_be_bytes());
    let mut grant = KeyGrant {
        room_id: req.room_id,
        invite_pk: req.invite_pk,
        joiner_sign_pk: req.joiner_sign_pk,
        request_hash,
        enc: [0; 32],
        grant_ct: Vec::new(),
    };
    let sealed = crypto::hpke_seal(
        &req.joiner_eph_pk,
        &grant_info(&request_hash),
        &grant_aad(&grant),
        &pt,
        Some(Psk { key: psk, id: &req.invite_pk }),
        rng,
    )
    .ok_or(Error::Unexpected("joiner ephemeral key is not a valid X25519 key"))?;
    grant.enc = sealed.enc;
    grant.grant_ct = sealed.ct;
    Ok((Signed::sign(grant, owner), sealed.export))
}

/// Opens a grant with the joiner's ephemeral key and the token's PSK.
pub(crate) fn open_grant(g: &KeyGrant, eph: &KxKey, psk: &Secret32) -> Result<(GrantPayload, Secret32), Error> {
    let (pt, export) = crypto::hpke_open(
        eph,
        &g.enc,
        &grant_info(&g.request_hash),
        &grant_aad(g),
        &g.grant_ct,
        Some(Psk { key: psk, id: &g.invite_pk }),
    )
    .ok_or(Error::Forged)?;
    let policy = match pt.first() {
        Some(0) => HistoryPolicy::SinceLastEpoch,
        Some(1) => HistoryPolicy::SinceJoin,
        _ => return Err(Error::Forged),
    };
    let mut r = Reader::new(pt.get(1..).unwrap_or_default());
    let epoch = r.u32()?;
    r.finish()?;
    Ok((GrantPayload { policy, epoch }, export))
}

/// The confirmation tag: `HMAC(HKDF(salt = exporter secret, ikm = empty,
/// info = "zfc v1 join confirm key"), request hash || grant hash)`. Only whoever opened the grant
/// (the joiner's ephemeral key and the token's PSK) knows the exporter secret.
pub(crate) fn confirm_tag(export: &Secret32, request_hash: &[u8; 32], grant_hash: &[u8; 32]) -> [u8; 32] {
    let key = crypto::kdf(export.expose(), &[], b"zfc v1 join confirm key");
    crypto::mac(&key, &[request_hash, grant_hash])
}

/// Creates the joiner's fresh ephemeral key.
pub(crate) fn ephemeral(rng: &mut impl CryptoRng) -> KxKey {
    KxKey::generate(rng)
}
