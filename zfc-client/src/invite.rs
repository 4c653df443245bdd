//! What a user checks out of band, without joining anything: an invite's public fields (which
//! room, whose, on which relay, until when) and a member key's fingerprint.

use zfc_core::{Invite, MemberKey};

use crate::Error;

/// The public fields of an invite: what an app shows before the user joins. The invite's
/// token (its secret) is not among them.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteInfo {
    /// The room (16 bytes).
    pub room: Vec<u8>,
    /// The owner's Ed25519 room key, whose fingerprint (member 0) the owner can read out.
    pub owner_sign_key: Vec<u8>,
    /// The owner's X25519 room key (the join request is sealed to it).
    pub owner_kx_key: Vec<u8>,
    /// The salt that binds the room id to the owner's keys.
    pub salt: Vec<u8>,
    /// The invite's public key (derived from its token): what `revoke_invite` names.
    pub invite_key: Vec<u8>,
    /// Expiry, seconds since the Unix epoch.
    pub expires_at_secs: u64,
    /// The relay's URL.
    pub relay_url: String,
    /// The relay's link key, pinned by the joiner.
    pub relay_key: Vec<u8>,
}

/// Reads `uri` (`zfc:join?...`) without joining: the room id is checked against the owner's
/// keys, surrounding Unicode white space is ignored (spec §14).
///
/// # Errors
/// `BAD_INVITE` (malformed, unknown version, a room id not bound to the owner's keys).
pub fn parse_invite(uri: &str) -> Result<InviteInfo, Error> {
    let i = Invite::parse(uri).map_err(Error::Core)?;
    Ok(InviteInfo {
        room: i.room_id.to_vec(),
        owner_sign_key: i.owner_sign_pk.as_bytes().to_vec(),
        owner_kx_key: i.owner_kx_pk.to_vec(),
        salt: i.salt.to_vec(),
        invite_key: i.invite_pk().as_bytes().to_vec(),
        expires_at_secs: i.expires_at,
        relay_url: i.relay_addr.clone(),
        relay_key: i.relay_pk.as_bytes().to_vec(),
    })
}

/// The fingerprint of the member key `member_key` in `room` (spec §13): what two people
/// compare out of band. [`crate::Client::fingerprint`] gives it by member number.
///
/// # Errors
/// `INVALID_ARGUMENT` for a room id that is not 16 bytes or a key that is not 32.
pub fn fingerprint(room: &[u8], member_key: &[u8]) -> Result<String, Error> {
    let invalid = |what| Error::Core(zfc_core::Error::InvalidArgument(what));
    let room: [u8; 16] = room.try_into().map_err(|_| invalid("a room id is 16 bytes"))?;
    let key: [u8; 32] = member_key.try_into().map_err(|_| invalid("a member key is 32 bytes"))?;
    Ok(zfc_core::fingerprint::fingerprint(&room, &MemberKey::from_bytes(key)))
}
