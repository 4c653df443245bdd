//! Functions without a handle: invites, fingerprints, frame checks.

use std::ffi::c_char;

use zfc_core::Invite;
use zfc_core::internal::frame::Frame;

use crate::handles::zfc_buf;
use crate::result::zfc_result;

/// What an invite string says (the token stays inside the string).
#[repr(C)]
pub struct zfc_invite_info {
    /// The room id.
    pub room_id: [u8; 16],
    /// The owner's Ed25519 room key.
    pub owner_sign_pk: [u8; 32],
    /// The relay's static link key.
    pub relay_pk: [u8; 32],
    /// The invite's commitment (for zfc_owner_revoke_invite).
    pub invite_pk: [u8; 32],
    /// Expiry, Unix seconds.
    pub expires_at: u64,
}

/// Parses an invite string (NUL-terminated); `*relay_addr_out` receives the relay address.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_invite_parse(
    invite: *const c_char,
    info_out: *mut zfc_invite_info,
    relay_addr_out: *mut *mut zfc_buf,
) -> zfc_result {
    ffi!({
        let s = arg_str!(invite);
        out_check!(info_out, relay_addr_out);
        match Invite::parse(s) {
            Ok(i) => {
                let info = zfc_invite_info {
                    room_id: i.room_id,
                    owner_sign_pk: i.owner_sign_pk.to_bytes(),
                    relay_pk: i.relay_pk.to_bytes(),
                    invite_pk: i.invite_pk().to_bytes(),
                    expires_at: i.expires_at,
                };
                out_write!(info_out, info);
                out_write!(relay_addr_out, zfc_buf::new(i.relay_addr.into_bytes()));
                zfc_result::ZFC_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// The fingerprint of key `sign_pk` in room `room_id` (30 digits in groups, not NUL-terminated).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_fingerprint(
    room_id: *const u8,
    sign_pk: *const u8,
    fingerprint_out: *mut *mut zfc_buf,
) -> zfc_result {
    ffi!({
        let r = arg_array!(room_id, 16);
        let k = arg_array!(sign_pk, 32);
        out_check!(fingerprint_out);
        out_write!(fingerprint_out, zfc_buf::new(zfc_core::fingerprint::fingerprint(r, &(*k).into()).into_bytes()));
        zfc_result::ZFC_OK
    })
}

/// Decodes a signed frame and verifies its signature against `signer_pk`; writes its kind byte.
/// ZFC_ERR_BAD_SIGNATURE if it decodes but does not verify.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_frame_verify(
    frame: *const u8,
    len: usize,
    signer_pk: *const u8,
    kind_out: *mut u8,
) -> zfc_result {
    ffi!({
        let bytes = arg_bytes!(frame, len);
        let pk = arg_array!(signer_pk, 32);
        out_check!(kind_out);
        let f = match Frame::decode(bytes) {
            Ok(f) => f,
            Err(e) => return e.into(),
        };
        let ok = match &f {
            Frame::CreateRoom(x) => x.verify(pk),
            Frame::RegisterInvite(x) => x.verify(pk),
            Frame::RevokeInvite(x) => x.verify(pk),
            Frame::JoinRequest(x) => x.verify(pk) && x.body.verify_joiner(),
            Frame::KeyGrant(x) => x.verify(pk),
            Frame::JoinConfirm(x) => x.verify(pk),
            Frame::Commit(x) => x.verify(pk),
            Frame::Message(x) => x.verify(pk),
            Frame::KeyUpdate(x) => x.verify(pk),
            Frame::Leave(x) => x.verify(pk),
            Frame::DeleteRoom(x) => x.verify(pk),
            Frame::Welcome(x) => x.verify(pk),
        };
        if !ok {
            return zfc_result::ZFC_ERR_BAD_SIGNATURE;
        }
        out_write!(kind_out, bytes.get(1).copied().unwrap_or(0));
        zfc_result::ZFC_OK
    })
}
