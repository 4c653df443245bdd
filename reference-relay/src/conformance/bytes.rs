//! Byte-level cases: frames and requests laid out by hand from the spec's tables and signed here
//! (`label || 0x00 || unsigned bytes`), valid ones with one field changed, replays, garbage.

use ed25519_dalek::SigningKey;
use zfc_core::relay::{ClientRequest, RelayMessage};

use super::code::*;
use super::probe::{fresh_key, resign, sign_frame};
use super::{Case, Outcome, Probe, Target, ensure};
use crate::client::session::now;

const V: u8 = 1;

/// A room created by hand: its owner key and id, and an authenticated owner connection.
struct HandRoom {
    owner: SigningKey,
    room_id: [u8; 16],
    probe: Probe,
}

fn create_room_frame(owner: &SigningKey, room_id: [u8; 16], salt: [u8; 16], kx: [u8; 32]) -> Vec<u8> {
    let mut b = vec![V, 0x01];
    b.extend_from_slice(&room_id);
    b.extend_from_slice(&salt);
    b.extend_from_slice(&owner.verifying_key().to_bytes());
    b.extend_from_slice(&kx);
    b.push(0); // policy: since the last rotation
    sign_frame(owner, "zfc v1 create room", &b)
}

fn salt_and_kx() -> ([u8; 16], [u8; 32]) {
    let k = fresh_key().to_bytes();
    let mut salt = [0u8; 16];
    salt.copy_from_slice(k.get(..16).unwrap_or(&[0; 16]));
    // A valid X25519 public key: the base point's multiple by a random scalar.
    let kx = x25519(&fresh_key().to_bytes());
    (salt, kx)
}

fn x25519(secret: &[u8; 32]) -> [u8; 32] {
    // The public key of a clamped scalar: the Edwards public key's Montgomery form.
    let sk = SigningKey::from_bytes(secret);
    sk.verifying_key().to_montgomery().to_bytes()
}

async fn hand_room(t: &Target) -> Result<HandRoom, String> {
    let owner = fresh_key();
    let (salt, kx) = salt_and_kx();
    let room_id = zfc_core::room::room_id_for(&owner.verifying_key().to_bytes(), &kx, &salt);
    let mut probe = Probe::open(t).await?;
    let created = probe.submit(t, create_room_frame(&owner, room_id, salt, kx)).await?;
    ensure(created == Ok(0), || format!("creation answered {created:?}"))?;
    let authed = probe.auth(t, &owner, room_id).await?;
    ensure(authed.is_ok(), || format!("owner authentication answered {authed:?}"))?;
    Ok(HandRoom { owner, room_id, probe })
}

fn message(key: &SigningKey, room_id: [u8; 16], epoch: u32, sender: u32, seq: u32) -> Vec<u8> {
    let mut b = vec![V, 0x08];
    b.extend_from_slice(&room_id);
    b.extend_from_slice(&epoch.to_be_bytes());
    b.extend_from_slice(&sender.to_be_bytes());
    b.extend_from_slice(&seq.to_be_bytes());
    b.extend_from_slice(&[7u8; 24]);
    b.extend_from_slice(&272u32.to_be_bytes());
    b.extend_from_slice(&[0x5a; 272]); // the relay cannot read it, so any bytes will do
    sign_frame(key, "zfc v1 message", &b)
}

fn register_invite(key: &SigningKey, room_id: [u8; 16], invite_pk: [u8; 32], expires_at: u64) -> Vec<u8> {
    let mut b = vec![V, 0x02];
    b.extend_from_slice(&room_id);
    b.extend_from_slice(&invite_pk);
    b.extend_from_slice(&expires_at.to_be_bytes());
    sign_frame(key, "zfc v1 register invite", &b)
}

fn rotate_commit(key: &SigningKey, room_id: [u8; 16], epoch: u32, prev: [u8; 32]) -> Vec<u8> {
    let mut b = vec![V, 0x07];
    b.extend_from_slice(&room_id);
    b.extend_from_slice(&epoch.to_be_bytes());
    b.extend_from_slice(&prev);
    b.extend_from_slice(&[0u8; 32]); // roster digest
    b.push(0); // change: rotate
    b.push(1); // key mode: fresh
    b.extend_from_slice(&0u32.to_be_bytes()); // no shares
    sign_frame(key, "zfc v1 commit", &b)
}

fn revoke_invite(key: &SigningKey, room_id: [u8; 16], invite_pk: [u8; 32]) -> Vec<u8> {
    let mut b = vec![V, 0x03];
    b.extend_from_slice(&room_id);
    b.extend_from_slice(&invite_pk);
    sign_frame(key, "zfc v1 revoke invite", &b)
}

fn key_update(key: &SigningKey, room_id: [u8; 16], member: u32, generation: u32) -> Vec<u8> {
    let mut b = vec![V, 0x09];
    b.extend_from_slice(&room_id);
    b.extend_from_slice(&member.to_be_bytes());
    b.extend_from_slice(&generation.to_be_bytes());
    b.extend_from_slice(&x25519(&fresh_key().to_bytes()));
    sign_frame(key, "zfc v1 key update", &b)
}

fn delete_room(key: &SigningKey, room_id: [u8; 16]) -> Vec<u8> {
    let mut b = vec![V, 0x0b];
    b.extend_from_slice(&room_id);
    sign_frame(key, "zfc v1 delete room", &b)
}

/// Log positions of the deliveries among `seen`, in order.
fn delivered(seen: &[RelayMessage]) -> Vec<u64> {
    seen.iter().filter_map(|m| if let RelayMessage::Deliver { seq, .. } = m { Some(*seq) } else { None }).collect()
}

fn verdict(got: Result<u64, u16>, want: u16, what: &str) -> Outcome {
    ensure(got == Err(want), || format!("{what}: relay answered {got:?}, the spec says refuse with {want}"))
}

/// The byte-level cases.
pub fn cases() -> Vec<Case> {
    vec![
        case!(room_id_must_be_the_hash_of_the_owner_keys),
        case!(creation_must_be_signed_by_the_named_owner),
        case!(a_room_cannot_be_created_twice),
        case!(authentication_is_bound_to_this_connection),
        case!(strangers_cannot_authenticate_or_fetch),
        case!(unknown_rooms_are_named_as_such),
        case!(invites_are_registered_by_the_owner_only_and_not_expired),
        case!(an_edited_byte_breaks_the_signature),
        case!(messages_from_non_members_are_refused),
        case!(messages_are_never_accepted_twice),
        case!(messages_name_an_epoch_the_room_reached),
        case!(rotation_is_the_owners_alone_and_must_chain),
        case!(truncated_unversioned_and_unknown_frames_are_malformed),
        case!(undecodable_requests_close_the_connection_with_a_reason),
        case!(bad_link_records_close_the_connection),
        case!(text_messages_close_the_connection),
        case!(other_connections_survive_a_bad_one),
        case!(revoked_and_unknown_invites_are_named),
        case!(key_updates_only_move_forward),
        case!(fetch_returns_the_range_asked_and_resumes_from_the_cursor),
        case!(a_deleted_room_leaves_a_tombstone_and_takes_nothing),
        case!(requests_above_the_envelope_limit_are_too_large),
    ]
}

async fn room_id_must_be_the_hash_of_the_owner_keys(t: &Target) -> Outcome {
    let owner = fresh_key();
    let (salt, kx) = salt_and_kx();
    let mut room_id = zfc_core::room::room_id_for(&owner.verifying_key().to_bytes(), &kx, &salt);
    if let Some(b) = room_id.first_mut() {
        *b ^= 1;
    }
    let mut p = Probe::open(t).await?;
    verdict(p.submit(t, create_room_frame(&owner, room_id, salt, kx)).await?, BAD_ROOM_ID, "squatted room id")
}

async fn creation_must_be_signed_by_the_named_owner(t: &Target) -> Outcome {
    let owner = fresh_key();
    let (salt, kx) = salt_and_kx();
    let room_id = zfc_core::room::room_id_for(&owner.verifying_key().to_bytes(), &kx, &salt);
    let frame = resign(&fresh_key(), "zfc v1 create room", &create_room_frame(&owner, room_id, salt, kx));
    let mut p = Probe::open(t).await?;
    verdict(p.submit(t, frame).await?, BAD_SIGNATURE, "creation signed by another key")
}

async fn a_room_cannot_be_created_twice(t: &Target) -> Outcome {
    let owner = fresh_key();
    let (salt, kx) = salt_and_kx();
    let room_id = zfc_core::room::room_id_for(&owner.verifying_key().to_bytes(), &kx, &salt);
    let frame = create_room_frame(&owner, room_id, salt, kx);
    let mut p = Probe::open(t).await?;
    ensure(p.submit(t, frame.clone()).await? == Ok(0), || "first creation refused".into())?;
    verdict(p.submit(t, frame).await?, ROOM_EXISTS, "second creation")
}

async fn authentication_is_bound_to_this_connection(t: &Target) -> Outcome {
    let r = hand_room(t).await?;
    let mut other = Probe::open(t).await?;
    // A signature over another connection's handshake hash does not authenticate this one.
    let foreign = r.probe.link.channel_binding();
    verdict(other.auth_with(t, &r.owner, r.room_id, foreign).await?, BAD_SIGNATURE, "auth with a foreign binding")
}

async fn strangers_cannot_authenticate_or_fetch(t: &Target) -> Outcome {
    let r = hand_room(t).await?;
    let mut p = Probe::open(t).await?;
    verdict(p.auth(t, &fresh_key(), r.room_id).await?, NOT_MEMBER, "stranger's authentication")?;
    let req_id = p.req_id();
    p.send(&ClientRequest::Fetch { req_id, room_id: r.room_id, from: 1, until: u64::MAX, limit: 10 }.encode()).await?;
    verdict(p.answer(t, req_id).await?, NOT_AUTHENTICATED, "stranger's history fetch")?;
    ensure(!p.seen.iter().any(|m| matches!(m, RelayMessage::Deliver { .. })), || {
        "a stranger was sent log entries".into()
    })
}

async fn unknown_rooms_are_named_as_such(t: &Target) -> Outcome {
    let mut p = Probe::open(t).await?;
    let key = fresh_key();
    verdict(p.auth(t, &key, [0xee; 16]).await?, NO_SUCH_ROOM, "authentication for a room that does not exist")?;
    verdict(p.submit(t, message(&key, [0xee; 16], 0, 1, 0)).await?, NO_SUCH_ROOM, "message to no room")
}

async fn invites_are_registered_by_the_owner_only_and_not_expired(t: &Target) -> Outcome {
    let mut r = hand_room(t).await?;
    let invite_pk = fresh_key().verifying_key().to_bytes();
    let later = now() + 3600;
    let by_stranger = register_invite(&fresh_key(), r.room_id, invite_pk, later);
    verdict(r.probe.submit(t, by_stranger).await?, BAD_SIGNATURE, "invite registered by a stranger")?;
    let expired = register_invite(&r.owner, r.room_id, invite_pk, now() - 60);
    verdict(r.probe.submit(t, expired).await?, INVITE_EXPIRED, "expired invite")?;
    let good = register_invite(&r.owner, r.room_id, invite_pk, later);
    ensure(r.probe.submit(t, good.clone()).await? == Ok(0), || "the owner's invite was refused".into())?;
    verdict(r.probe.submit(t, good).await?, INVITE_EXISTS, "the same invite again")
}

async fn an_edited_byte_breaks_the_signature(t: &Target) -> Outcome {
    let mut r = hand_room(t).await?;
    let mut frame = register_invite(&r.owner, r.room_id, fresh_key().verifying_key().to_bytes(), now() + 3600);
    // The last byte of the expiry: still a well-formed frame, no longer the signed one.
    let at = frame.len() - 65;
    if let Some(b) = frame.get_mut(at) {
        *b ^= 1;
    }
    verdict(r.probe.submit(t, frame).await?, BAD_SIGNATURE, "edited invite registration")?;
    let mut msg = message(&r.owner, r.room_id, 0, 0, 0);
    if let Some(b) = msg.get_mut(60) {
        *b ^= 0x80; // inside the ciphertext
    }
    verdict(r.probe.submit(t, msg).await?, BAD_SIGNATURE, "edited message")
}

async fn messages_from_non_members_are_refused(t: &Target) -> Outcome {
    let mut r = hand_room(t).await?;
    let stranger = fresh_key();
    verdict(r.probe.submit(t, message(&stranger, r.room_id, 0, 7, 0)).await?, NOT_MEMBER, "message from member 7")?;
    // Claiming the owner's number does not help without the owner's key.
    verdict(r.probe.submit(t, message(&stranger, r.room_id, 0, 0, 0)).await?, BAD_SIGNATURE, "message as the owner")
}

async fn messages_are_never_accepted_twice(t: &Target) -> Outcome {
    let mut r = hand_room(t).await?;
    let first = message(&r.owner, r.room_id, 0, 0, 3);
    let seq = r.probe.submit(t, first.clone()).await?.map_err(|c| format!("owner's message refused with {c}"))?;
    ensure(seq == 1, || format!("the first log entry got position {seq}"))?;
    verdict(r.probe.submit(t, first).await?, REPLAY, "the same message again")?;
    verdict(r.probe.submit(t, message(&r.owner, r.room_id, 0, 0, 2)).await?, REPLAY, "an older sequence number")?;
    verdict(r.probe.submit(t, message(&r.owner, r.room_id, 0, 0, 3 + 1025)).await?, SEQ_JUMP, "a jump of 1025")?;
    let next = r.probe.submit(t, message(&r.owner, r.room_id, 0, 0, 4)).await?;
    ensure(next == Ok(2), || format!("the next message answered {next:?}"))?;
    // One more round trip, so that the delivery of entry 2 has arrived.
    verdict(r.probe.submit(t, message(&r.owner, r.room_id, 0, 0, 4)).await?, REPLAY, "the last message again")?;
    // A connection subscribed as the owner was sent both entries in order.
    let got = delivered(&r.probe.seen);
    ensure(got == [1, 2], || format!("deliveries {got:?}"))
}

async fn messages_name_an_epoch_the_room_reached(t: &Target) -> Outcome {
    let mut r = hand_room(t).await?;
    verdict(r.probe.submit(t, message(&r.owner, r.room_id, 1, 0, 0)).await?, UNKNOWN_EPOCH, "message for epoch 1")
}

async fn rotation_is_the_owners_alone_and_must_chain(t: &Target) -> Outcome {
    let mut r = hand_room(t).await?;
    let stranger = fresh_key();
    verdict(
        r.probe.submit(t, rotate_commit(&stranger, r.room_id, 1, [0; 32])).await?,
        BAD_SIGNATURE,
        "commit by a non-owner",
    )?;
    verdict(
        r.probe.submit(t, rotate_commit(&r.owner, r.room_id, 2, [0; 32])).await?,
        WRONG_EPOCH,
        "commit skipping an epoch",
    )?;
    verdict(
        r.probe.submit(t, rotate_commit(&r.owner, r.room_id, 1, [0; 32])).await?,
        FORKED_CHAIN,
        "commit not chained",
    )
}

async fn truncated_unversioned_and_unknown_frames_are_malformed(t: &Target) -> Outcome {
    let mut r = hand_room(t).await?;
    let good = message(&r.owner, r.room_id, 0, 0, 0);
    let truncated = good.get(..good.len() - 1).unwrap_or_default().to_vec();
    verdict(r.probe.submit(t, truncated).await?, MALFORMED, "truncated frame")?;
    let mut longer = good.clone();
    longer.push(0);
    verdict(r.probe.submit(t, longer).await?, MALFORMED, "frame with a trailing byte")?;
    let mut v2 = good.clone();
    if let Some(b) = v2.first_mut() {
        *b = 2;
    }
    verdict(r.probe.submit(t, v2).await?, MALFORMED, "frame of version 2")?;
    let mut unknown = good;
    if let Some(b) = unknown.get_mut(1) {
        *b = 0x3f;
    }
    verdict(r.probe.submit(t, unknown).await?, MALFORMED, "frame of kind 0x3f")?;
    verdict(r.probe.submit(t, Vec::new()).await?, MALFORMED, "empty frame")
}

async fn undecodable_requests_close_the_connection_with_a_reason(t: &Target) -> Outcome {
    for bad in [vec![V, 0x7f], vec![V], vec![9, 0x21, 0, 0, 0, 1], vec![V, 0x21, 0, 0]] {
        let mut p = Probe::open(t).await?;
        p.send(&bad).await?;
        let (reason, code) = p.expect_closed(t).await?;
        ensure(code == Some(MALFORMED), || format!("request {bad:02x?}: error frame {code:?}"))?;
        ensure(reason.is_some_and(|r| !r.is_empty()), || format!("request {bad:02x?}: closed without a reason"))?;
    }
    Ok(())
}

async fn bad_link_records_close_the_connection(t: &Target) -> Outcome {
    let mut p = Probe::open(t).await?;
    p.link.send_unsealed(vec![0u8; 40]).await.map_err(|e| e.to_string())?;
    p.expect_closed(t).await.map(|_| ())
}

async fn text_messages_close_the_connection(t: &Target) -> Outcome {
    let mut p = Probe::open(t).await?;
    p.link.send_text("hello").await.map_err(|e| e.to_string())?;
    p.expect_closed(t).await.map(|_| ())
}

async fn other_connections_survive_a_bad_one(t: &Target) -> Outcome {
    let mut r = hand_room(t).await?;
    let mut bad = Probe::open(t).await?;
    bad.send(&[V, 0x7f]).await?;
    bad.expect_closed(t).await?;
    let got = r.probe.submit(t, message(&r.owner, r.room_id, 0, 0, 0)).await?;
    ensure(got == Ok(1), || format!("the good connection's message answered {got:?}"))
}

async fn revoked_and_unknown_invites_are_named(t: &Target) -> Outcome {
    let mut r = hand_room(t).await?;
    let invite_pk = fresh_key().verifying_key().to_bytes();
    verdict(r.probe.submit(t, revoke_invite(&r.owner, r.room_id, invite_pk)).await?, INVITE_UNKNOWN, "unknown invite")?;
    let reg = register_invite(&r.owner, r.room_id, invite_pk, now() + 600);
    ensure(r.probe.submit(t, reg).await? == Ok(0), || "registration refused".into())?;
    verdict(
        r.probe.submit(t, revoke_invite(&fresh_key(), r.room_id, invite_pk)).await?,
        BAD_SIGNATURE,
        "revoked by a stranger",
    )?;
    ensure(r.probe.submit(t, revoke_invite(&r.owner, r.room_id, invite_pk)).await? == Ok(0), || {
        "revocation refused".into()
    })?;
    verdict(
        r.probe.submit(t, revoke_invite(&r.owner, r.room_id, invite_pk)).await?,
        INVITE_REVOKED,
        "second revocation",
    )
}

async fn key_updates_only_move_forward(t: &Target) -> Outcome {
    let mut r = hand_room(t).await?;
    let first = r.probe.submit(t, key_update(&r.owner, r.room_id, 0, 2)).await?;
    ensure(first == Ok(1), || format!("the owner's key update answered {first:?}"))?;
    verdict(r.probe.submit(t, key_update(&r.owner, r.room_id, 0, 2)).await?, STALE_KEY_UPDATE, "the same generation")?;
    verdict(r.probe.submit(t, key_update(&r.owner, r.room_id, 0, 1)).await?, STALE_KEY_UPDATE, "an older generation")?;
    verdict(r.probe.submit(t, key_update(&fresh_key(), r.room_id, 0, 3)).await?, BAD_SIGNATURE, "signed by a stranger")
}

async fn fetch_returns_the_range_asked_and_resumes_from_the_cursor(t: &Target) -> Outcome {
    let mut r = hand_room(t).await?;
    for seq in 0..5 {
        let got = r.probe.submit(t, message(&r.owner, r.room_id, 0, 0, seq)).await?;
        ensure(got == Ok(u64::from(seq) + 1), || format!("message {seq} answered {got:?}"))?;
    }
    let mut fetch = |from, until, limit| {
        let req_id = r.probe.req_id();
        (req_id, ClientRequest::Fetch { req_id, room_id: r.room_id, from, until, limit }.encode())
    };
    let (id1, f1) = fetch(2, 4, 10);
    let (id2, f2) = fetch(2, 6, 1);
    for (req_id, f, want, want_next) in [(id1, f1, vec![2, 3], 4), (id2, f2, vec![2], 3)] {
        let mut p = Probe::open(t).await?;
        ensure(p.auth(t, &r.owner, r.room_id).await?.is_ok(), || "authentication refused".into())?;
        // The backlog follows the authentication; a round trip puts it behind us.
        verdict(p.submit(t, message(&r.owner, r.room_id, 0, 0, 0)).await?, REPLAY, "a replay used as a barrier")?;
        p.seen.clear();
        p.send(&f).await?;
        let mut got = Vec::new();
        let next = loop {
            let bytes = tokio::time::timeout(t.wait, p.link.recv())
                .await
                .map_err(|_| "no FetchDone")?
                .map_err(|e| e.to_string())?;
            match RelayMessage::decode(&bytes).map_err(|e| e.to_string())? {
                RelayMessage::Deliver { seq, .. } => got.push(seq),
                RelayMessage::FetchDone { req_id: r, next, .. } if r == req_id => break next,
                other => return Err(format!("unexpected {other:?}")),
            }
        };
        ensure(got == want && next == want_next, || {
            format!("fetch answered {got:?} next {next}, want {want:?} next {want_next}")
        })?;
    }
    // Acknowledge up to 3; a new connection resuming from the cursor gets 4 and 5 only.
    r.probe.send(&ClientRequest::Ack { room_id: r.room_id, seq: 3 }.encode()).await?;
    // The ack has no answer: a round trip behind it makes sure the relay took it.
    verdict(r.probe.submit(t, message(&r.owner, r.room_id, 0, 0, 0)).await?, REPLAY, "a replay used as a barrier")?;
    let mut p = Probe::open(t).await?;
    ensure(p.auth(t, &r.owner, r.room_id).await?.is_ok(), || "authentication refused".into())?;
    verdict(p.submit(t, message(&r.owner, r.room_id, 0, 0, 0)).await?, REPLAY, "a replay used as a barrier")?;
    let resumed = delivered(&p.seen);
    ensure(resumed == [4, 5], || format!("resuming from the cursor delivered {resumed:?}"))
}

async fn a_deleted_room_leaves_a_tombstone_and_takes_nothing(t: &Target) -> Outcome {
    let mut r = hand_room(t).await?;
    verdict(r.probe.submit(t, delete_room(&fresh_key(), r.room_id)).await?, BAD_SIGNATURE, "deletion by a stranger")?;
    let at =
        r.probe.submit(t, delete_room(&r.owner, r.room_id)).await?.map_err(|c| format!("deletion refused with {c}"))?;
    verdict(
        r.probe.submit(t, message(&r.owner, r.room_id, 0, 0, 1)).await?,
        ROOM_DELETED,
        "message to a deleted room",
    )?;
    let mut p = Probe::open(t).await?;
    verdict(p.auth(t, &r.owner, r.room_id).await?, ROOM_DELETED, "authentication in a deleted room")?;
    let tomb = delivered(&p.seen);
    ensure(tomb == [at], || format!("the tombstone was {tomb:?}, want [{at}]"))
}

async fn requests_above_the_envelope_limit_are_too_large(t: &Target) -> Outcome {
    let mut p = Probe::open(t).await?;
    let huge = ClientRequest::Submit { req_id: 1, frame: vec![0; zfc_core::internal::wire::MAX_FRAME_LEN] };
    let mut bytes = huge.encode();
    bytes.extend_from_slice(&[0; 100]); // past the envelope limit, within a link record
    p.send(&bytes).await?;
    let (_, code) = p.expect_closed(t).await?;
    ensure(code == Some(TOO_LARGE), || format!("error frame {code:?}, want {TOO_LARGE}"))
}
