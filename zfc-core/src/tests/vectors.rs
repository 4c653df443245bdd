//! The generator and checker of `spec/vectors/*.json`.
//!
//! `ZFC_WRITE_VECTORS=1 cargo test -p zfc-core vectors` writes the files; a plain run
//! regenerates them in memory, requires the committed files to match byte for byte, and then
//! checks every vector against the code independently of the generator (decode, verify, open,
//! recompute). The checks take the parsed JSON and return `Err` with a reason, so that
//! `vector_flips.rs` can show they catch a change of every data field.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::crypto::{self, KxKey, Secret32, SignKey, to_hex};
use crate::epoch;
use crate::frame::*;
use crate::invite::{Invite, invite_keys};
use crate::join::{self, GrantPayload};
use crate::message::{self, Padding, Sealer};
use crate::relay::{ClientRequest, RelayMessage, admission_hash};
use crate::room::{Roster, RosterEntry, room_id_for};

pub(super) use super::vector_fields::{Check, Kind, Vector};
use super::vector_fields::{FORMAT, decf, ensure, hexf, render, text};

/// A flat JSON object with string values, keys in insertion order, each with its kind.
pub(super) struct Obj(pub(super) Vec<(String, String, Kind)>);

impl Obj {
    fn new(name: &str) -> Self {
        Self(vec![("name".into(), name.into(), Kind::Text)])
    }
    fn field(mut self, k: &str, v: impl Into<String>, kind: Kind) -> Self {
        self.0.push((k.into(), v.into(), kind));
        self
    }
    fn s(self, k: &str, v: impl Into<String>) -> Self {
        self.field(k, v, Kind::Text)
    }
    fn h(self, k: &str, v: &[u8]) -> Self {
        self.field(k, to_hex(v), Kind::Hex)
    }
    /// An X25519 secret key.
    fn x(self, k: &str, v: &[u8]) -> Self {
        self.field(k, to_hex(v), Kind::X25519Secret)
    }
    fn n(self, k: &str, v: impl std::fmt::Display) -> Self {
        self.field(k, v.to_string(), Kind::Dec)
    }
    fn l(self, k: &str, v: &[u32]) -> Self {
        self.field(k, v.iter().map(u32::to_string).collect::<Vec<_>>().join(","), Kind::DecList)
    }
}

/// Evaluates `$e` with `$x` bound to the `Signed` frame inside any [`Frame`], whatever its kind.
macro_rules! on_frame {
    ($f:expr, $x:ident => $e:expr) => {
        match $f {
            Frame::CreateRoom($x) => $e,
            Frame::RegisterInvite($x) => $e,
            Frame::RevokeInvite($x) => $e,
            Frame::JoinRequest($x) => $e,
            Frame::KeyGrant($x) => $e,
            Frame::JoinConfirm($x) => $e,
            Frame::Commit($x) => $e,
            Frame::Message($x) => $e,
            Frame::KeyUpdate($x) => $e,
            Frame::Leave($x) => $e,
            Frame::DeleteRoom($x) => $e,
            Frame::Welcome($x) => $e,
        }
    };
}

/// One file of `spec/vectors/`.
pub(super) struct VectorFile {
    pub(super) name: &'static str,
    description: &'static str,
    /// What this file adds to [`FORMAT`] (empty: nothing).
    format_note: &'static str,
    verify: &'static str,
    pub(super) vectors: Vec<Obj>,
}

impl VectorFile {
    fn new(name: &'static str, description: &'static str, verify: &'static str, vectors: Vec<Obj>) -> Self {
        Self { name, description, format_note: "", verify, vectors }
    }

    /// Adds a sentence to the format text, for a convention only this file needs.
    fn format_note(self, format_note: &'static str) -> Self {
        Self { format_note, ..self }
    }

    fn render(&self) -> String {
        let format =
            if self.format_note.is_empty() { FORMAT.to_string() } else { format!("{FORMAT} {}", self.format_note) };
        let vectors: Vec<&[(String, String, Kind)]> = self.vectors.iter().map(|v| &v.0[..]).collect();
        render(self.description, &format, self.verify, &vectors)
    }
}

fn sk(n: u8) -> SignKey {
    SignKey::from_seed(&Secret32::from_bytes([n; 32]))
}
fn kx(n: u8) -> KxKey {
    KxKey::from_secret(Secret32::from_bytes([n; 32]))
}

/// The invite of every vector file: owner 01../02.., salt 03.., token 04.., relay 0c...
fn sample_invite(room_id: RoomId) -> Invite {
    Invite {
        room_id,
        owner_sign_pk: sk(1).public().into(),
        owner_kx_pk: kx(2).public(),
        salt: [3; 16],
        token: Secret32::from_bytes([4; 32]),
        expires_at: 1_800_003_600,
        relay_addr: "ws://127.0.0.1:5103".into(),
        relay_pk: kx(12).public().into(),
    }
}

/// What the roster digest hashes (spec §4.3): `u32be(member) || sign_pk` per member, ascending.
fn roster_bytes(roster: &Roster) -> Vec<u8> {
    let mut buf = Vec::new();
    for (m, e) in roster.iter() {
        buf.extend_from_slice(&m.to_be_bytes());
        buf.extend_from_slice(e.sign_pk.as_bytes());
    }
    buf
}

fn derivations() -> VectorFile {
    let owner = sk(1);
    let owner_kx = kx(2);
    let salt = [3u8; 16];
    let room_id = room_id_for(&owner.public(), &owner_kx.public(), &salt);
    let token = Secret32::from_bytes([4; 32]);
    let ik = invite_keys(&room_id, &token);
    let secret = Secret32::from_bytes([5; 32]);
    let epoch_hash = crypto::hash("zfc v1 epoch", &[b"frame bytes"]);
    let mkey = message::message_key(&secret, &epoch_hash, &room_id, 7);
    let mut roster = Roster::with_owner(owner.public(), owner_kx.public());
    roster.insert(1, RosterEntry { sign_pk: sk(6).public().into(), kx_pk: [0; 32] }).unwrap();
    roster.insert(4, RosterEntry { sign_pk: sk(7).public().into(), kx_pk: [0; 32] }).unwrap();
    let commit = Commit {
        room_id,
        epoch: 8,
        prev_epoch_hash: epoch_hash,
        roster_digest: roster.digest(),
        change: Change::Add { member: 4, sign_pk: sk(7).public(), kx_pk: kx(8).public(), invite_pk: ik.sign.public() },
        key_mode: KeyMode::Derived,
        shares: vec![],
    };
    let derived = epoch::derived_secret(&secret, &commit);
    let export = Secret32::from_bytes([9; 32]);
    let tag = join::confirm_tag(&export, &[10; 32], &[11; 32]);
    let admission_token = [25u8; 32];
    let vectors = vec![
        Obj::new("hash")
            .s("rule", "SHA-256(u32be(len(label)) || label || for each part: u32be(len(part)) || part)")
            .s("label", "zfc v1 epoch")
            .h("part0", b"frame bytes")
            .h("hash", &epoch_hash),
        Obj::new("room id")
            .h("owner_sign_pk", &owner.public())
            .h("owner_kx_pk", &owner_kx.public())
            .h("salt", &salt)
            .h("room_id", &room_id),
        Obj::new("invite keys")
            .h("room_id", &room_id)
            .h("token", token.expose())
            .h("invite_seed", crypto::kdf(&room_id, token.expose(), b"zfc v1 invite key").expose())
            .h("invite_pk", &ik.sign.public())
            .h("psk", ik.psk.expose()),
        Obj::new("message key")
            .h("epoch_secret", secret.expose())
            .h("epoch_hash", &epoch_hash)
            .h("room_id", &room_id)
            .n("epoch", 7)
            .h("message_key", mkey.expose()),
        Obj::new("roster digest")
            .s(
                "roster",
                format!("0:{} 1:{} 4:{}", to_hex(&owner.public()), to_hex(&sk(6).public()), to_hex(&sk(7).public())),
            )
            .h("roster_bytes", &roster_bytes(&roster))
            .h("digest", &roster.digest()),
        Obj::new("derived epoch secret")
            .h("previous_secret", secret.expose())
            .h("commit_header", &commit.header_bytes())
            .h("derived_secret", derived.expose()),
        Obj::new("confirmation tag")
            .h("hpke_export", export.expose())
            .h("request_hash", &[10; 32])
            .h("grant_hash", &[11; 32])
            .h("tag", &tag),
        Obj::new("admission hash").h("token", &admission_token).h("hash", &admission_hash(&admission_token)),
        Obj::new("fingerprint")
            .h("room_id", &room_id)
            .h("sign_pk", &owner.public())
            .s("fingerprint", crate::fingerprint::fingerprint(&room_id, &owner.public().into())),
    ];
    VectorFile::new(
        "derivations.json",
        "zfc v1 key derivations: hash construction, room id, invite keys, message key, roster digest (roster_bytes: what is hashed, u32be(member) || sign_pk per member in ascending order), derived epoch secret, confirmation tag, admission hash, fingerprint. Keys are Ed25519 seeds / X25519 secrets of repeated bytes (01.., 02.., ...).",
        "Recompute each output from the inputs with the rules of spec/PROTOCOL.md and compare.",
        vectors,
    )
}

/// One signed example of every frame kind, plus the client-relay messages.
fn frames() -> VectorFile {
    let mut rng = ChaCha20Rng::seed_from_u64(0x7a66_6301);
    let owner = sk(1);
    let owner_kx = kx(2);
    let salt = [3u8; 16];
    let room_id = room_id_for(&owner.public(), &owner_kx.public(), &salt);
    let invite = sample_invite(room_id);
    let ik = invite_keys(&room_id, &invite.token);
    let joiner = sk(6);
    let joiner_kx = kx(7);
    let eph = kx(8);
    let req = join::build_request(&invite, &ik, &joiner, joiner_kx.public(), eph.public(), "bob", &mut rng).unwrap();
    let req_bytes = req.encode();
    let req_hash = join::request_hash(&req_bytes);
    let payload = GrantPayload { policy: HistoryPolicy::SinceLastEpoch, epoch: 0 };
    let (grant, _) = join::seal_grant(&req.body, req_hash, &ik.psk, &payload, &owner, &mut rng).unwrap();
    let mut vectors = Vec::new();
    // Each signed frame with its signer, its decoded fields and its bytes.
    let by = |name: &str, signer: &[u8; 32]| Obj::new(name).h("signer_pk", signer);
    let signed = |head: Obj, f: Frame| frame_fields(head, &f).h("bytes", &on_frame!(&f, x => x.encode()));
    let create = CreateRoom {
        room_id,
        salt,
        owner_sign_pk: owner.public(),
        owner_kx_pk: owner_kx.public(),
        policy: HistoryPolicy::SinceLastEpoch,
    };
    vectors.push(signed(by("CreateRoom 0x01", &owner.public()), Frame::CreateRoom(Signed::sign(create, &owner))));
    let register = RegisterInvite { room_id, invite_pk: ik.sign.public(), expires_at: invite.expires_at };
    vectors.push(signed(
        by("RegisterInvite 0x02", &owner.public()),
        Frame::RegisterInvite(Signed::sign(register, &owner)),
    ));
    let revoke = RevokeInvite { room_id, invite_pk: ik.sign.public() };
    vectors.push(signed(by("RevokeInvite 0x03", &owner.public()), Frame::RevokeInvite(Signed::sign(revoke, &owner))));
    vectors.push(signed(
        by("JoinRequest 0x04 (outer signature by the invite key)", &ik.sign.public())
            .h("inner_signer_pk", &joiner.public()),
        Frame::JoinRequest(req),
    ));
    vectors.push(signed(by("KeyGrant 0x05", &owner.public()), Frame::KeyGrant(grant)));
    let confirm = JoinConfirm { room_id, invite_pk: ik.sign.public(), joiner_sign_pk: joiner.public(), tag: [13; 32] };
    vectors.push(signed(by("JoinConfirm 0x06", &joiner.public()), Frame::JoinConfirm(Signed::sign(confirm, &joiner))));
    let commit = Commit {
        room_id,
        epoch: 1,
        prev_epoch_hash: [14; 32],
        roster_digest: [15; 32],
        change: Change::Remove { member: 3 },
        key_mode: KeyMode::Fresh,
        shares: vec![
            Share { member: 1, enc: [16; 32], ct: vec![17; 48] },
            Share { member: 2, enc: [18; 32], ct: vec![19; 48] },
        ],
    };
    vectors.push(signed(
        by("Commit 0x07 (Remove, Fresh, two shares)", &owner.public()),
        Frame::Commit(Signed::sign(commit, &owner)),
    ));
    let add = Commit {
        room_id,
        epoch: 2,
        prev_epoch_hash: [14; 32],
        roster_digest: [15; 32],
        change: Change::Add {
            member: 5,
            sign_pk: joiner.public(),
            kx_pk: joiner_kx.public(),
            invite_pk: ik.sign.public(),
        },
        key_mode: KeyMode::Derived,
        shares: vec![Share { member: 5, enc: [16; 32], ct: vec![17; 80] }],
    };
    vectors.push(signed(by("Commit 0x07 (Add, Derived)", &owner.public()), Frame::Commit(Signed::sign(add, &owner))));
    let rotate = Commit {
        room_id,
        epoch: 3,
        prev_epoch_hash: [14; 32],
        roster_digest: [15; 32],
        change: Change::Rotate,
        key_mode: KeyMode::Fresh,
        shares: vec![],
    };
    vectors.push(signed(
        by("Commit 0x07 (Rotate, no shares)", &owner.public()),
        Frame::Commit(Signed::sign(rotate, &owner)),
    ));
    let key = Secret32::from_bytes([20; 32]);
    let pad = Padding::default();
    let msg = Sealer { room_id, epoch: 3, sender: 5, seq: 0, key: &key, sign_key: &joiner, padding: &pad }
        .seal(b"hello", &mut rng)
        .unwrap();
    vectors.push(signed(by("Message 0x08", &joiner.public()), Frame::Message(msg)));
    let update = KeyUpdate { room_id, member: 5, generation: 1, kx_pk: kx(21).public() };
    vectors.push(signed(by("KeyUpdate 0x09", &joiner.public()), Frame::KeyUpdate(Signed::sign(update, &joiner))));
    let leave = Leave { room_id, member: 5 };
    vectors.push(signed(by("Leave 0x0A", &joiner.public()), Frame::Leave(Signed::sign(leave, &joiner))));
    let delete = DeleteRoom { room_id };
    vectors.push(signed(by("DeleteRoom 0x0B", &owner.public()), Frame::DeleteRoom(Signed::sign(delete, &owner))));
    let welcome = Welcome {
        room_id,
        joiner_sign_pk: joiner.public(),
        member: 5,
        epoch: 2,
        roster: vec![(0, owner.public()), (5, joiner.public())],
    };
    vectors.push(signed(by("Welcome 0x0C", &owner.public()), Frame::Welcome(Signed::sign(welcome, &owner))));
    let auth = crate::relay::proto::authenticate(1, &joiner, &[22; 32], &[23; 32], room_id, 9);
    let auth_fields = Obj::new("Authenticate 0x20 (challenge 1616.., channel binding 1717..)")
        .h("signer_pk", &joiner.public())
        .h("challenge", &[22; 32])
        .h("channel_binding", &[23; 32]);
    vectors.push(request_fields(auth_fields, &auth).h("bytes", &auth.encode()));
    let request =
        |name: &str, r: ClientRequest| request_fields(Obj::new(name).h("signer_pk", &[]), &r).h("bytes", &r.encode());
    let relay_msg =
        |name: &str, m: RelayMessage| message_fields(Obj::new(name).h("signer_pk", &[]), &m).h("bytes", &m.encode());
    vectors.extend([
        request("Submit 0x21", ClientRequest::Submit { req_id: 2, frame: vec![1, 8] }),
        request("Fetch 0x22", ClientRequest::Fetch { req_id: 3, room_id, from: 1, until: 100, limit: 50 }),
        request("Ack 0x23", ClientRequest::Ack { room_id, seq: 42 }),
        request("AckDirect 0x24", ClientRequest::AckDirect { room_id, id: 7 }),
        request("Admit 0x25", ClientRequest::Admit { req_id: 4, token: [25; 32] }),
        relay_msg("Challenge 0x40", RelayMessage::Challenge { nonce: [22; 32] }),
        relay_msg("Accepted 0x41", RelayMessage::Accepted { req_id: 2, seq: 43 }),
        relay_msg("Rejected 0x42", RelayMessage::Rejected { req_id: 2, code: 45 }),
        relay_msg("Deliver 0x43", RelayMessage::Deliver { room_id, seq: 43, frame: vec![1, 8] }),
        relay_msg("Direct 0x44", RelayMessage::Direct { room_id, id: 7, frame: vec![1, 5] }),
        relay_msg("FetchDone 0x45", RelayMessage::FetchDone { req_id: 3, room_id, next: 100 }),
    ]);
    VectorFile::new(
        "frames.json",
        "zfc v1 wire encoding of every signed frame (0x01-0x0C) and every client-relay message (0x20-0x25, 0x40-0x45). Keys: Ed25519 seeds of repeated bytes (owner 01.., joiner 06..), X25519 secrets (owner 02.., joiner 07.., joiner ephemeral 08..); token 04..; admission token 19..; randomness from ChaCha20Rng seed 0x7a666301.",
        "Decode each bytes value by its kind byte; re-encoding must give the same bytes. Signed frames 0x01-0x0C: the last 64 bytes are an Ed25519 signature by signer_pk over the kind's label (spec §5, §18), a zero byte, and every byte before the signature. JoinRequest (0x04) is signed twice (spec §5.4): the outer signature (the last 64 bytes) is by the invite key signer_pk and covers everything before it, the joiner's signature included; the joiner's signature (the 64 bytes before it) is by inner_signer_pk, the frame's joiner_sign_pk, with label 'zfc v1 join request joiner' over every byte before it. Client requests and relay messages (0x20-0x25, 0x40-0x45) are not signed frames (signer_pk empty), except that Authenticate (0x20) carries a signature in its sig field: by signer_pk (= identity) with label 'zfc v1 authenticate' over challenge || channel_binding || room_id || identity || u64be(resume_from), 120 bytes without version or kind byte (spec §6.4), challenge and channel_binding given in the vector. Every vector also lists the decoded fields of its bytes: a signed frame every field of its layout by the names of spec §5 in wire order and then its signature as sig (JoinRequest: joiner_sig the inner signature, sig the outer one), a client request or relay message every field by the names of spec §6.1 and §6.2; integers in decimal (policy, change.tag and key_mode too), fixed and variable byte fields in hex (a variable field and the nested frame without their u32 length prefix). Decoding bytes must give exactly these values; beside them a vector holds only name, signer_pk, bytes and the inputs named above (inner_signer_pk; challenge and channel_binding); and the listed fields of a signed frame, encoded in the order of its layout with sig last, must give bytes again. A nested frame is opaque to the request or message decoder (spec §6.1): the examples carry the two bytes 0108 or 0105, which are no valid frame.",
        vectors,
    )
    .format_note("In this file a field made of parts, and a list, are written flat, one key per part, the key naming the path to it: a Commit's change as change.tag followed by the fields of that change (change.member, change.sign_pk, change.kx_pk, change.invite_pk, as the tag has them); a list (a Commit's shares, a Welcome's roster) as count, the number of items, followed by each item's fields under the list's name and the item's index from 0 (shares.0.member, shares.0.enc, shares.0.ct, shares.1.member, ...; roster.0.member, roster.0.sign_pk, ...).")
}

fn messages() -> VectorFile {
    let mut rng = ChaCha20Rng::seed_from_u64(0x7a66_6302);
    let sender = sk(6);
    let key = Secret32::from_bytes([20; 32]);
    let room_id = [0x31; 16];
    let mut vectors = Vec::new();
    for (content, padding, pad_name) in [
        (&b""[..], Padding::default(), "powers of two from 64"),
        (&b"hello"[..], Padding::default(), "powers of two from 64"),
        (&[0x41u8; 256][..], Padding::none(), "none"),
        (&[0x42u8; 300][..], Padding::buckets(vec![100, 1000]).unwrap(), "100,1000"),
    ] {
        let m = Sealer { room_id, epoch: 3, sender: 5, seq: 9, key: &key, sign_key: &sender, padding: &padding }
            .seal(content, &mut rng)
            .unwrap();
        vectors.push(
            Obj::new("seal")
                .h("message_key", key.expose())
                .h("sender_sign_pk", &sender.public())
                .h("sender_sign_seed", sender.seed().expose())
                .h("room_id", &room_id)
                .n("epoch", 3)
                .n("sender", 5)
                .n("seq", 9)
                .s("padding", pad_name)
                .l("padding_buckets", padding.bucket_list())
                .n("padded_len", padding.padded_len(content.len()))
                .h("nonce", &m.body.nonce)
                .h("content", content)
                .h("aad", &m.body.aad())
                .h("frame", &m.encode()),
        );
    }
    VectorFile::new(
        "messages.json",
        "zfc v1 room messages: padding, XChaCha20-Poly1305 under the epoch message key with the header as AAD, Ed25519 signature by the sender. sender_sign_seed is the sender's Ed25519 seed (sender_sign_pk its public key). padding names the sender's padding buckets (spec §8.1): 'powers of two from 64' is the default list 64, 128, ..., 65536, 'none' the empty list (no padding), anything else the list itself; padding_buckets is that list as comma-separated decimal integers (empty: no padding) and padded_len the length of the padded plaintext u32be(len(content)) || content || zeros, which the buckets give for len(content).",
        "Decode frame as a Message (0x08); its header fields and nonce must equal room_id, epoch, sender, seq and nonce; verify the signature with sender_sign_pk, the public key of sender_sign_seed; check that aad is version||kind||room_id||epoch||sender||seq; open the ciphertext with message_key and nonce; the plaintext is u32be(len) || content || zero padding, padded_len bytes, and padded_len is what padding_buckets gives for len(content). Sealing content again (padded to padded_len) with message_key, the given nonce and aad, and signing with sender_sign_seed, must give the same frame.",
        vectors,
    )
}

fn hpke() -> VectorFile {
    let mut rng = ChaCha20Rng::seed_from_u64(0x7a66_6303);
    let owner = sk(1);
    let owner_kx = kx(2);
    let room_id = room_id_for(&owner.public(), &owner_kx.public(), &[3; 16]);
    let invite = sample_invite(room_id);
    let ik = invite_keys(&room_id, &invite.token);
    let joiner = sk(6);
    let eph = kx(8);
    let req = join::build_request(&invite, &ik, &joiner, kx(7).public(), eph.public(), "bob", &mut rng).unwrap();
    let req_bytes = req.encode();
    let req_hash = join::request_hash(&req_bytes);
    let payload = GrantPayload { policy: HistoryPolicy::SinceLastEpoch, epoch: 4 };
    let (grant, export) = join::seal_grant(&req.body, req_hash, &ik.psk, &payload, &owner, &mut rng).unwrap();
    let grant_bytes = grant.encode();
    let tag = join::confirm_tag(&export, &req_hash, &join::grant_hash(&grant_bytes));
    let commit = Commit {
        room_id,
        epoch: 5,
        prev_epoch_hash: [14; 32],
        roster_digest: [15; 32],
        change: Change::Rotate,
        key_mode: KeyMode::Fresh,
        shares: vec![],
    };
    let member_kx = kx(9);
    let new_secret = Secret32::from_bytes([24; 32]);
    let share = epoch::seal_share(&commit, 3, &member_kx.public(), &[&new_secret], &mut rng).unwrap();
    let vectors = vec![
        Obj::new("join request introduction and key grant")
            .x("owner_kx_secret", owner_kx.secret().expose())
            .h("invite_psk", ik.psk.expose())
            .h("join_request", &req_bytes)
            .s("introduction_name", "bob")
            .h("request_hash", &req_hash)
            .x("joiner_eph_secret", eph.secret().expose())
            .h("key_grant", &grant_bytes)
            .h("grant_hash", &join::grant_hash(&grant_bytes))
            .n("grant_policy", HistoryPolicy::SinceLastEpoch as u8)
            .n("grant_epoch", 4)
            .h("hpke_export", export.expose())
            .h("confirm_tag", &tag),
        Obj::new("epoch key share")
            .h("commit_header", &commit.header_bytes())
            .h("room_id", &room_id)
            .n("epoch", 5)
            .n("member", 3)
            .x("member_kx_secret", member_kx.secret().expose())
            .h("enc", &share.enc)
            .h("ct", &share.ct)
            .h("epoch_secret", new_secret.expose()),
    ];
    VectorFile::new(
        "hpke.json",
        "zfc v1 HPKE uses (RFC 9180, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305): the join request's introduction (PSK mode), the key grant (PSK mode, to the joiner's ephemeral key), the confirmation tag, and an epoch key share (Base mode).",
        "Open the introduction with owner_kx_secret and invite_psk (psk_id = invite_pk) and find the name; open the grant with joiner_eph_secret and invite_psk and find policy and epoch; the exporter secret and confirm_tag must match; open the share with member_kx_secret (info and aad per spec) and find epoch_secret. HPKE sealing is randomized: check by opening, not by re-sealing.",
        vectors,
    )
}

fn invites() -> VectorFile {
    let owner = sk(1);
    let owner_kx = kx(2);
    let room_id = room_id_for(&owner.public(), &owner_kx.public(), &[3; 16]);
    let invite = sample_invite(room_id);
    let uri = invite.to_uri();
    let valid = |name: &str, uri: String| {
        Obj::new(name)
            .s("uri", uri)
            .h("room_id", &room_id)
            .h("owner_sign_pk", &owner.public())
            .h("owner_kx_pk", &owner_kx.public())
            .h("salt", &invite.salt)
            .h("token", invite.token.expose())
            .n("expires_at", invite.expires_at)
            .s("relay_addr", invite.relay_addr.clone())
            .h("relay_pk", invite.relay_pk.as_bytes())
            .h("invite_pk", invite.invite_pk().as_bytes())
            .s("error", "")
    };
    let vectors = vec![
        valid("valid invite", uri.clone()),
        valid(
            "surrounding Unicode white space is ignored",
            format!(" \u{b}\u{c}\u{a0}\u{3000}{uri}\u{2029}\u{85}\u{2003} "),
        ),
        Obj::new("U+200B ZERO WIDTH SPACE is not white space")
            .s("uri", format!("\u{200b}{uri}"))
            .s("error", "BadInvite"),
        Obj::new("U+FEFF (byte order mark) is not white space")
            .s("uri", format!("\u{feff}{uri}"))
            .s("error", "BadInvite"),
        Obj::new("unsupported version").s("uri", uri.replace("v=1", "v=2")).s("error", "BadInvite"),
        Obj::new("unknown field").s("uri", format!("{uri}&x=1")).s("error", "BadInvite"),
        Obj::new("repeated field").s("uri", format!("{uri}&v=1")).s("error", "BadInvite"),
        Obj::new("upper-case hex")
            .s("uri", uri.replacen(&to_hex(&room_id), &to_hex(&room_id).to_uppercase(), 1))
            .s("error", "BadInvite"),
        Obj::new("room id not bound to the owner's keys")
            .s("uri", uri.replacen(&format!("salt={}", to_hex(&[3; 16])), &format!("salt={}", to_hex(&[4; 16])), 1))
            .s("error", "BadInvite"),
        Obj::new("short token")
            .s("uri", uri.replace(&format!("token={}", to_hex(invite.token.expose())), "token=0404"))
            .s("error", "BadInvite"),
    ];
    VectorFile::new(
        "invites.json",
        "zfc v1 invite strings: zfc:join?v=1&room=..&owner=..&kx=..&salt=..&token=..&exp=..&relay=..&relay_key=.., the same with surrounding white space, and malformed variants.",
        "Parse uri, ignoring leading and trailing characters with the Unicode property White_Space (spec §14) and nothing else; for error \"\" the fields must equal the given ones and invite_pk must be the Ed25519 key derived from the token; otherwise parsing must fail.",
        vectors,
    )
}

/// The ephemeral secret the link hands snow for a handshake started with `rng`: the link draws a
/// 32-byte seed from the caller's RNG, seeds ChaCha20 with it, and snow takes the first 32 bytes.
fn link_ephemeral(rng: &ChaCha20Rng) -> [u8; 32] {
    use rand_core::Rng;
    let mut r = rng.clone();
    let mut seed = [0u8; 32];
    r.fill_bytes(&mut seed);
    let mut inner = ChaCha20Rng::from_seed(seed);
    let mut eph = [0u8; 32];
    inner.fill_bytes(&mut eph);
    eph
}

fn links() -> VectorFile {
    use crate::link::{self, ClientHandshake, RelayKey};
    let relay_key = RelayKey::from_bytes([12; 32]);
    let mut client_rng = ChaCha20Rng::from_seed([4; 32]);
    let mut relay_rng = ChaCha20Rng::from_seed([5; 32]);
    let client_eph = link_ephemeral(&client_rng);
    let relay_eph = link_ephemeral(&relay_rng);
    let (hs, first) = ClientHandshake::start(&relay_key.public(), &mut client_rng).unwrap();
    let (mut relay_end, second) = link::respond(&relay_key, &first, &mut relay_rng).unwrap();
    let mut client_end = hs.finish(&second).unwrap();
    let c2r = client_end.seal(b"hello relay").unwrap();
    let r2c = relay_end.seal(b"hello client").unwrap();
    let c2r_2 = client_end.seal(b"").unwrap();
    let vectors = vec![
        Obj::new("NK handshake and first records")
            .s("protocol", link::NOISE_PARAMS)
            .h("prologue", b"zfc link\x01")
            .x("relay_static_secret", &[12; 32])
            .h("relay_static_pk", relay_key.public().as_bytes())
            .h("client_rng_seed", &[4; 32])
            .h("relay_rng_seed", &[5; 32])
            .x("client_ephemeral_secret", &client_eph)
            .x("relay_ephemeral_secret", &relay_eph)
            .h("handshake1", &first)
            .h("handshake2", &second)
            .h("channel_binding", client_end.channel_binding().as_bytes())
            .h("client_to_relay_0_plaintext", b"hello relay")
            .h("client_to_relay_0", &c2r)
            .h("client_to_relay_1_plaintext", b"")
            .h("client_to_relay_1", &c2r_2)
            .h("relay_to_client_0_plaintext", b"hello client")
            .h("relay_to_client_0", &r2c),
    ];
    VectorFile::new(
        "link.json",
        "zfc v1 client-relay link: Noise_NK_25519_ChaChaPoly_SHA256 with prologue 'zfc link' 0x01, empty handshake payloads, then records (0x01 0x62, u64 first-chunk nonce, chunks of u16 length + ciphertext of flag || content).",
        "The rng seeds are ChaCha20 keys (rand_chacha from_seed); the link draws 32 bytes from that stream and seeds a second ChaCha20 with them, whose first 32 bytes are the ephemeral secret. Run NK as initiator with the client ephemeral secret and relay_static_pk: handshake1 must match byte for byte; as responder with relay_static_secret and the relay ephemeral secret: handshake2 must match; the handshake hash is channel_binding; the records open with the split keys in order (nonce 0, 1, ...) to the given plaintexts.",
        vectors,
    )
}

fn states() -> VectorFile {
    use crate::pickle::{self, Argon2Params};
    let mut rng = ChaCha20Rng::seed_from_u64(0x7a66_6306);
    let params = Argon2Params { m_cost_kib: 64, t_cost: 2, p_cost: 1 };
    let content = b"ZFCM\x00\x01 any pickle bytes";
    let blob = pickle::seal(content, b"correct horse", params, &mut rng).unwrap();
    let salt = &blob[17..33];
    let key = params.derive_for_vectors(b"correct horse", &arr(salt));
    let vectors = vec![
        Obj::new("sealed state envelope")
            .s("password", "correct horse")
            .n("m_cost_kib", params.m_cost_kib)
            .n("t_cost", params.t_cost)
            .n("p_cost", params.p_cost)
            .h("salt", salt)
            .h("argon2id_key", &key)
            .h("nonce", &blob[33..57])
            .h("plaintext", content)
            .h("sealed", &blob),
    ];
    VectorFile::new(
        "state.json",
        "zfc v1 sealed state envelope: 'ZFCS' || 0x01 || u32 m_cost_kib || u32 t_cost || u32 p_cost || salt (16) || nonce (24) || XChaCha20-Poly1305(key, nonce, aad = everything before the ciphertext, plaintext), key = Argon2id v1.3 (password, salt, m, t, p) to 32 bytes.",
        "Derive argon2id_key from password, salt and the costs; open the ciphertext (after byte 57) with it and the nonce, AAD = the first 57 bytes; the plaintext must match.",
        vectors,
    )
}

/// Adds the decoded fields of a client request by the names of spec §6.1 (the nested frame
/// without its length prefix).
fn request_fields(o: Obj, r: &ClientRequest) -> Obj {
    match r {
        ClientRequest::Authenticate { req_id, room_id, identity, resume_from, sig } => o
            .n("req_id", req_id)
            .h("room_id", room_id)
            .h("identity", identity)
            .n("resume_from", resume_from)
            .h("sig", sig),
        ClientRequest::Submit { req_id, frame } => o.n("req_id", req_id).h("frame", frame),
        ClientRequest::Fetch { req_id, room_id, from, until, limit } => {
            o.n("req_id", req_id).h("room_id", room_id).n("from", from).n("until", until).n("limit", limit)
        }
        ClientRequest::Ack { room_id, seq } => o.h("room_id", room_id).n("seq", seq),
        ClientRequest::AckDirect { room_id, id } => o.h("room_id", room_id).n("id", id),
        ClientRequest::Admit { req_id, token } => o.n("req_id", req_id).h("token", token),
    }
}

/// Adds the decoded fields of a relay message by the names of spec §6.2.
fn message_fields(o: Obj, m: &RelayMessage) -> Obj {
    match m {
        RelayMessage::Challenge { nonce } => o.h("nonce", nonce),
        RelayMessage::Accepted { req_id, seq } => o.n("req_id", req_id).n("seq", seq),
        RelayMessage::Rejected { req_id, code } => o.n("req_id", req_id).n("code", code),
        RelayMessage::Deliver { room_id, seq, frame } => o.h("room_id", room_id).n("seq", seq).h("frame", frame),
        RelayMessage::Direct { room_id, id, frame } => o.h("room_id", room_id).n("id", id).h("frame", frame),
        RelayMessage::FetchDone { req_id, room_id, next } => {
            o.n("req_id", req_id).h("room_id", room_id).n("next", next)
        }
    }
}

/// Adds the decoded fields of a signed frame by the names of spec §5, in wire order, and then its
/// signature as `sig`. A field made of parts lists each as `field.part` (a commit's `change.tag`
/// and the fields of its change); a list follows its `count`, item `i` (from 0) as
/// `field.i.part`, so that every value stays one string.
fn frame_fields(o: Obj, f: &Frame) -> Obj {
    let o = match f {
        Frame::CreateRoom(x) => {
            let b = &x.body;
            o.h("room_id", &b.room_id)
                .h("salt", &b.salt)
                .h("owner_sign_pk", &b.owner_sign_pk)
                .h("owner_kx_pk", &b.owner_kx_pk)
                .n("policy", b.policy as u8)
        }
        Frame::RegisterInvite(x) => {
            let b = &x.body;
            o.h("room_id", &b.room_id).h("invite_pk", &b.invite_pk).n("expires_at", b.expires_at)
        }
        Frame::RevokeInvite(x) => o.h("room_id", &x.body.room_id).h("invite_pk", &x.body.invite_pk),
        Frame::JoinRequest(x) => {
            let b = &x.body;
            o.h("room_id", &b.room_id)
                .h("invite_pk", &b.invite_pk)
                .h("joiner_sign_pk", &b.joiner_sign_pk)
                .h("joiner_kx_pk", &b.joiner_kx_pk)
                .h("joiner_eph_pk", &b.joiner_eph_pk)
                .h("intro_enc", &b.intro_enc)
                .h("intro_ct", &b.intro_ct)
                .h("joiner_sig", &b.joiner_sig)
        }
        Frame::KeyGrant(x) => {
            let b = &x.body;
            o.h("room_id", &b.room_id)
                .h("invite_pk", &b.invite_pk)
                .h("joiner_sign_pk", &b.joiner_sign_pk)
                .h("request_hash", &b.request_hash)
                .h("enc", &b.enc)
                .h("grant_ct", &b.grant_ct)
        }
        Frame::JoinConfirm(x) => {
            let b = &x.body;
            o.h("room_id", &b.room_id)
                .h("invite_pk", &b.invite_pk)
                .h("joiner_sign_pk", &b.joiner_sign_pk)
                .h("tag", &b.tag)
        }
        Frame::Commit(x) => {
            let b = &x.body;
            let o = o
                .h("room_id", &b.room_id)
                .n("epoch", b.epoch)
                .h("prev_epoch_hash", &b.prev_epoch_hash)
                .h("roster_digest", &b.roster_digest);
            // The tags of spec §5.8's change table.
            let o = match &b.change {
                Change::Rotate => o.n("change.tag", 0),
                Change::Add { member, sign_pk, kx_pk, invite_pk } => o
                    .n("change.tag", 1)
                    .n("change.member", member)
                    .h("change.sign_pk", sign_pk)
                    .h("change.kx_pk", kx_pk)
                    .h("change.invite_pk", invite_pk),
                Change::Remove { member } => o.n("change.tag", 2).n("change.member", member),
            };
            let mut o = o.n("key_mode", b.key_mode as u8).n("count", b.shares.len());
            for (i, s) in b.shares.iter().enumerate() {
                o = o
                    .n(&format!("shares.{i}.member"), s.member)
                    .h(&format!("shares.{i}.enc"), &s.enc)
                    .h(&format!("shares.{i}.ct"), &s.ct);
            }
            o
        }
        Frame::Message(x) => {
            let b = &x.body;
            o.h("room_id", &b.room_id)
                .n("epoch", b.epoch)
                .n("sender", b.sender)
                .n("seq", b.seq)
                .h("nonce", &b.nonce)
                .h("ct", &b.ct)
        }
        Frame::KeyUpdate(x) => {
            let b = &x.body;
            o.h("room_id", &b.room_id).n("member", b.member).n("generation", b.generation).h("kx_pk", &b.kx_pk)
        }
        Frame::Leave(x) => o.h("room_id", &x.body.room_id).n("member", x.body.member),
        Frame::DeleteRoom(x) => o.h("room_id", &x.body.room_id),
        Frame::Welcome(x) => {
            let b = &x.body;
            let mut o = o
                .h("room_id", &b.room_id)
                .h("joiner_sign_pk", &b.joiner_sign_pk)
                .n("member", b.member)
                .n("epoch", b.epoch)
                .n("count", b.roster.len());
            for (i, (member, sign_pk)) in b.roster.iter().enumerate() {
                o = o.n(&format!("roster.{i}.member"), member).h(&format!("roster.{i}.sign_pk"), sign_pk);
            }
            o
        }
    };
    o.h("sig", &on_frame!(f, x => x.sig))
}

/// Every vector file, in the order they are written.
pub(super) fn all() -> Vec<VectorFile> {
    vec![states(), links(), derivations(), frames(), messages(), hpke(), invites()]
}

fn dir() -> String {
    format!("{}/../spec/vectors", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn vectors_regenerate_byte_for_byte() {
    for file in all() {
        let path = format!("{}/{}", dir(), file.name);
        let text = file.render();
        if std::env::var("ZFC_WRITE_VECTORS").as_deref() == Ok("1") {
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            committed == text,
            "{} differs from what the code generates: run ZFC_WRITE_VECTORS=1 cargo test -p zfc-core vectors and review the diff",
            file.name
        );
    }
}

// ---------------------------------------------------------------- checks
//
// Each check takes one parsed vector and returns `Err` with the reason it fails; it uses the
// code under test (decode, verify, open, derive), never the generator. The flip test
// (`vector_flips.rs`) runs them on mutated vectors.

/// The parsed committed file `name`.
pub(super) fn load_json(name: &str) -> serde_json::Value {
    let path = format!("{}/{name}", dir());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The check of every vector of the file `name`.
pub(super) fn check_for(name: &str) -> Result<Check, String> {
    Ok(match name {
        "derivations.json" => check_derivation,
        "frames.json" => check_frame,
        "messages.json" => check_message,
        "hpke.json" => check_hpke,
        "invites.json" => check_invite,
        "link.json" => check_link,
        "state.json" => check_state,
        other => return Err(format!("no check for {other}")),
    })
}

/// Checks every vector of the parsed file `name`; the error names the first that fails.
pub(super) fn check_file(name: &str, json: &serde_json::Value) -> Result<(), String> {
    let check = check_for(name)?;
    let vectors = json.get("vectors").and_then(|v| v.as_array()).ok_or(format!("{name}: no vectors"))?;
    ensure(!vectors.is_empty(), || format!("{name}: no vectors"))?;
    for v in vectors {
        let v = v.as_object().ok_or(format!("{name}: a vector is not an object"))?;
        check(v).map_err(|e| format!("{name}, {}: {e}", text(v, "name").unwrap_or("unnamed")))?;
    }
    Ok(())
}

fn arrf<const N: usize>(v: &Vector, k: &str) -> Result<[u8; N], String> {
    hexf(v, k)?.try_into().map_err(|_| format!("{k}: not {N} bytes"))
}

fn arr<const N: usize>(v: &[u8]) -> [u8; N] {
    v.try_into().unwrap()
}

/// A list of integers: canonical decimal, comma-separated, empty for none.
fn dec_list(k: &str, s: &str) -> Result<Vec<u32>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|x| {
            let n: u32 = x.parse().map_err(|_| format!("{k}: {x:?} is not a decimal integer"))?;
            ensure(n.to_string() == x, || format!("{k}: {x:?} is not canonical decimal"))?;
            Ok(n)
        })
        .collect()
}

/// Field `k` holds the bytes `actual`.
fn same(v: &Vector, k: &str, actual: &[u8]) -> Result<(), String> {
    ensure(hexf(v, k)? == actual, || format!("{k} differs from {}", to_hex(actual)))
}

/// Field `k` holds the integer `actual`.
fn same_n(v: &Vector, k: &str, actual: u64) -> Result<(), String> {
    ensure(decf::<u64>(v, k)? == actual, || format!("{k} differs from {actual}"))
}

/// The vector holds every field of `decoded` with the same value, and no other field but `name`,
/// `signer_pk`, `bytes` and those in `own` (inputs of the check that are not decoded): a field
/// left over from another frame would otherwise go unnoticed.
fn same_fields(v: &Vector, decoded: &Obj, own: &[&str]) -> Result<(), String> {
    for (k, want, _) in &decoded.0 {
        ensure(text(v, k)? == want, || format!("decoded {k} is {want}, the vector says {:?}", v.get(k)))?;
    }
    let listed = |k: &str| ["name", "signer_pk", "bytes"].contains(&k) || own.contains(&k);
    match v.keys().find(|k| !listed(k) && !decoded.0.iter().any(|(d, _, _)| d == *k)) {
        Some(k) => Err(format!("{k}: no field of the decoded frame")),
        None => Ok(()),
    }
}

fn secret(v: &Vector, k: &str) -> Result<Secret32, String> {
    Ok(Secret32::from_bytes(arrf(v, k)?))
}

/// A commit with these header bytes (spec §7.8: room, epoch, hashes, change, key mode) and no
/// shares.
fn commit_from_header(header: &[u8]) -> Result<Commit, String> {
    let bad = |e: crate::error::DecodeError| format!("commit header: {e:?}");
    let mut r = crate::wire::Reader::new(header);
    let room_id = r.array().map_err(bad)?;
    let epoch = r.u32().map_err(bad)?;
    let prev_epoch_hash = r.array().map_err(bad)?;
    let roster_digest = r.array().map_err(bad)?;
    let change = match r.u8().map_err(bad)? {
        0 => Change::Rotate,
        1 => Change::Add {
            member: r.u32().map_err(bad)?,
            sign_pk: r.array().map_err(bad)?,
            kx_pk: r.array().map_err(bad)?,
            invite_pk: r.array().map_err(bad)?,
        },
        2 => Change::Remove { member: r.u32().map_err(bad)? },
        t => return Err(format!("commit header: change tag {t}")),
    };
    let key_mode = match r.u8().map_err(bad)? {
        0 => KeyMode::Derived,
        1 => KeyMode::Fresh,
        m => return Err(format!("commit header: key mode {m}")),
    };
    r.finish().map_err(bad)?;
    let c = Commit { room_id, epoch, prev_epoch_hash, roster_digest, change, key_mode, shares: vec![] };
    ensure(c.header_bytes() == header, || "commit header does not re-encode".into())?;
    Ok(c)
}

fn check_derivation(v: &Vector) -> Result<(), String> {
    match text(v, "name")? {
        "hash" => same(v, "hash", &crypto::hash(text(v, "label")?, &[&hexf(v, "part0")?])),
        "room id" => {
            same(v, "room_id", &room_id_for(&arrf(v, "owner_sign_pk")?, &arrf(v, "owner_kx_pk")?, &arrf(v, "salt")?))
        }
        "invite keys" => {
            let (room_id, token) = (arrf(v, "room_id")?, secret(v, "token")?);
            let seed = crypto::kdf(&room_id, token.expose(), b"zfc v1 invite key");
            same(v, "invite_seed", seed.expose())?;
            let ik = invite_keys(&room_id, &token);
            same(v, "invite_pk", &ik.sign.public())?;
            same(v, "invite_pk", &SignKey::from_seed(&seed).public())?;
            same(v, "psk", ik.psk.expose())
        }
        "message key" => {
            let key = message::message_key(
                &secret(v, "epoch_secret")?,
                &arrf(v, "epoch_hash")?,
                &arrf(v, "room_id")?,
                decf(v, "epoch")?,
            );
            same(v, "message_key", key.expose())
        }
        "roster digest" => {
            // "m:hex m:hex ...", the owner (member 0) first.
            let mut entries = Vec::new();
            for entry in text(v, "roster")?.split(' ') {
                let (m, pk) = entry.split_once(':').ok_or("roster entry without ':'")?;
                let pk: [u8; 32] = hex::decode(pk).ok().and_then(|b| b.try_into().ok()).ok_or("roster key")?;
                entries.push((m.parse::<u32>().map_err(|_| "roster member number")?, pk));
            }
            let ((0, owner), rest) = entries.split_first().ok_or("empty roster")? else {
                return Err("the roster does not start with member 0".into());
            };
            let mut roster = Roster::with_owner(*owner, [0; 32]);
            for (m, pk) in rest {
                roster
                    .insert(*m, RosterEntry { sign_pk: (*pk).into(), kx_pk: [0; 32] })
                    .map_err(|e| format!("{e:?}"))?;
            }
            same(v, "roster_bytes", &roster_bytes(&roster))?;
            same(v, "digest", &roster.digest())?;
            same(v, "digest", &crypto::hash("zfc v1 roster", &[&hexf(v, "roster_bytes")?]))
        }
        "derived epoch secret" => {
            let commit = commit_from_header(&hexf(v, "commit_header")?)?;
            same(v, "derived_secret", epoch::derived_secret(&secret(v, "previous_secret")?, &commit).expose())
        }
        "confirmation tag" => {
            let tag = join::confirm_tag(&secret(v, "hpke_export")?, &arrf(v, "request_hash")?, &arrf(v, "grant_hash")?);
            same(v, "tag", &tag)
        }
        "admission hash" => same(v, "hash", &admission_hash(&arrf(v, "token")?)),
        "fingerprint" => {
            let fp = crate::fingerprint::fingerprint(&arrf(v, "room_id")?, &arrf::<32>(v, "sign_pk")?.into());
            ensure(text(v, "fingerprint")? == fp, || format!("fingerprint differs from {fp}"))
        }
        other => Err(format!("unknown derivation {other:?}")),
    }
}

fn check_frame(v: &Vector) -> Result<(), String> {
    let bytes = hexf(v, "bytes")?;
    let signer = hexf(v, "signer_pk")?;
    let bad = |e: crate::error::DecodeError| format!("decode: {e:?}");
    match bytes.get(1).copied() {
        Some(0x20..=0x3f) => {
            let req = ClientRequest::decode(&bytes).map_err(bad)?;
            ensure(req.encode() == bytes, || "re-encoding differs".into())?;
            if let ClientRequest::Authenticate { room_id, identity, resume_from, sig, .. } = &req {
                same_fields(v, &request_fields(Obj(Vec::new()), &req), &["challenge", "channel_binding"])?;
                ensure(signer == identity, || "signer_pk is not the identity".into())?;
                let (challenge, binding) = (arrf(v, "challenge")?, arrf(v, "channel_binding")?);
                let ok = crate::relay::proto::verify_auth(&challenge, &binding, room_id, identity, *resume_from, sig);
                ensure(ok, || "the authentication signature does not verify".into())
            } else {
                same_fields(v, &request_fields(Obj(Vec::new()), &req), &[])?;
                ensure(signer.is_empty(), || "an unsigned request names a signer".into())
            }
        }
        Some(0x40..=0x5f) => {
            let msg = RelayMessage::decode(&bytes).map_err(bad)?;
            ensure(msg.encode() == bytes, || "re-encoding differs".into())?;
            same_fields(v, &message_fields(Obj(Vec::new()), &msg), &[])?;
            ensure(signer.is_empty(), || "a relay message names a signer".into())
        }
        Some(k) => {
            let pk: [u8; 32] = signer.try_into().map_err(|_| "signer_pk: not 32 bytes")?;
            let f = Frame::decode(&bytes).map_err(bad)?;
            ensure(on_frame!(&f, x => x.encode()) == bytes, || "re-encoding differs".into())?;
            ensure(on_frame!(&f, x => x.verify(&pk)), || "the signature does not verify under signer_pk".into())?;
            let mut own: &[&str] = &[];
            if let Frame::JoinRequest(x) = &f {
                same(v, "inner_signer_pk", &x.body.joiner_sign_pk)?;
                ensure(x.body.verify_joiner(), || "the joiner's signature does not verify".into())?;
                own = &["inner_signer_pk"];
            }
            same_fields(v, &frame_fields(Obj(Vec::new()), &f), own)?;
            // The other way round, without the decoder: the listed fields make exactly `bytes`.
            let built = frame_from_fields(v, k)?;
            ensure(on_frame!(&built, x => x.encode()) == bytes, || "the listed fields encode to other bytes".into())?;
            let mut flipped = bytes.clone();
            if let Some(last) = flipped.last_mut() {
                *last ^= 1;
            }
            ensure(matches!(Frame::decode(&flipped), Ok(g) if g != f), || "a changed signature decodes the same".into())
        }
        None => Err("bytes: no kind byte".into()),
    }
}

/// The signed frame of kind `k` that the listed fields describe (the inverse of
/// [`frame_fields`]), built without the decoder.
fn frame_from_fields(v: &Vector, k: u8) -> Result<Frame, String> {
    // A list's items: `item` of each index below the listed `count`.
    fn items<T>(v: &Vector, item: impl Fn(usize) -> Result<T, String>) -> Result<Vec<T>, String> {
        (0..decf::<usize>(v, "count")?).map(item).collect()
    }
    let room_id = arrf(v, "room_id")?;
    let sig = arrf(v, "sig")?;
    Ok(match k {
        kind::CREATE_ROOM => {
            let policy = HistoryPolicy::from_u8(decf(v, "policy")?).map_err(|e| format!("policy: {e:?}"))?;
            let (salt, owner_sign_pk, owner_kx_pk) =
                (arrf(v, "salt")?, arrf(v, "owner_sign_pk")?, arrf(v, "owner_kx_pk")?);
            Frame::CreateRoom(Signed { body: CreateRoom { room_id, salt, owner_sign_pk, owner_kx_pk, policy }, sig })
        }
        kind::REGISTER_INVITE => {
            let body = RegisterInvite { room_id, invite_pk: arrf(v, "invite_pk")?, expires_at: decf(v, "expires_at")? };
            Frame::RegisterInvite(Signed { body, sig })
        }
        kind::REVOKE_INVITE => {
            Frame::RevokeInvite(Signed { body: RevokeInvite { room_id, invite_pk: arrf(v, "invite_pk")? }, sig })
        }
        kind::JOIN_REQUEST => {
            let body = JoinRequest {
                room_id,
                invite_pk: arrf(v, "invite_pk")?,
                joiner_sign_pk: arrf(v, "joiner_sign_pk")?,
                joiner_kx_pk: arrf(v, "joiner_kx_pk")?,
                joiner_eph_pk: arrf(v, "joiner_eph_pk")?,
                intro_enc: arrf(v, "intro_enc")?,
                intro_ct: hexf(v, "intro_ct")?,
                joiner_sig: arrf(v, "joiner_sig")?,
            };
            Frame::JoinRequest(Signed { body, sig })
        }
        kind::KEY_GRANT => {
            let body = KeyGrant {
                room_id,
                invite_pk: arrf(v, "invite_pk")?,
                joiner_sign_pk: arrf(v, "joiner_sign_pk")?,
                request_hash: arrf(v, "request_hash")?,
                enc: arrf(v, "enc")?,
                grant_ct: hexf(v, "grant_ct")?,
            };
            Frame::KeyGrant(Signed { body, sig })
        }
        kind::JOIN_CONFIRM => {
            let (invite_pk, joiner_sign_pk, tag) = (arrf(v, "invite_pk")?, arrf(v, "joiner_sign_pk")?, arrf(v, "tag")?);
            Frame::JoinConfirm(Signed { body: JoinConfirm { room_id, invite_pk, joiner_sign_pk, tag }, sig })
        }
        kind::COMMIT => {
            let change = match decf::<u8>(v, "change.tag")? {
                0 => Change::Rotate,
                1 => Change::Add {
                    member: decf(v, "change.member")?,
                    sign_pk: arrf(v, "change.sign_pk")?,
                    kx_pk: arrf(v, "change.kx_pk")?,
                    invite_pk: arrf(v, "change.invite_pk")?,
                },
                2 => Change::Remove { member: decf(v, "change.member")? },
                t => return Err(format!("change.tag: no change has tag {t}")),
            };
            let key_mode = match decf::<u8>(v, "key_mode")? {
                0 => KeyMode::Derived,
                1 => KeyMode::Fresh,
                m => return Err(format!("key_mode: no key mode {m}")),
            };
            let shares = items(v, |i| {
                let member = decf(v, &format!("shares.{i}.member"))?;
                Ok(Share { member, enc: arrf(v, &format!("shares.{i}.enc"))?, ct: hexf(v, &format!("shares.{i}.ct"))? })
            })?;
            let body = Commit {
                room_id,
                epoch: decf(v, "epoch")?,
                prev_epoch_hash: arrf(v, "prev_epoch_hash")?,
                roster_digest: arrf(v, "roster_digest")?,
                change,
                key_mode,
                shares,
            };
            Frame::Commit(Signed { body, sig })
        }
        kind::MESSAGE => {
            let body = Message {
                room_id,
                epoch: decf(v, "epoch")?,
                sender: decf(v, "sender")?,
                seq: decf(v, "seq")?,
                nonce: arrf(v, "nonce")?,
                ct: hexf(v, "ct")?,
            };
            Frame::Message(Signed { body, sig })
        }
        kind::KEY_UPDATE => {
            let (member, generation, kx_pk) = (decf(v, "member")?, decf(v, "generation")?, arrf(v, "kx_pk")?);
            Frame::KeyUpdate(Signed { body: KeyUpdate { room_id, member, generation, kx_pk }, sig })
        }
        kind::LEAVE => Frame::Leave(Signed { body: Leave { room_id, member: decf(v, "member")? }, sig }),
        kind::DELETE_ROOM => Frame::DeleteRoom(Signed { body: DeleteRoom { room_id }, sig }),
        kind::WELCOME => {
            let roster =
                items(v, |i| Ok((decf(v, &format!("roster.{i}.member"))?, arrf(v, &format!("roster.{i}.sign_pk"))?)))?;
            let (joiner_sign_pk, member, epoch) = (arrf(v, "joiner_sign_pk")?, decf(v, "member")?, decf(v, "epoch")?);
            Frame::Welcome(Signed { body: Welcome { room_id, joiner_sign_pk, member, epoch, roster }, sig })
        }
        other => return Err(format!("kind {other:#04x} is no signed frame")),
    })
}

/// The bucket list a `padding` name stands for (messages.json's description).
fn padding_named(name: &str) -> Result<Vec<u32>, String> {
    match name {
        "powers of two from 64" => Ok(Padding::default().bucket_list().to_vec()),
        "none" => Ok(Vec::new()),
        list => dec_list("padding", list),
    }
}

fn check_message(v: &Vector) -> Result<(), String> {
    let frame = hexf(v, "frame")?;
    let f = Signed::<Message>::decode(&frame).map_err(|e| format!("decode: {e:?}"))?;
    let pk = arrf(v, "sender_sign_pk")?;
    let sign_key = SignKey::from_seed(&secret(v, "sender_sign_seed")?);
    ensure(sign_key.public() == pk, || "sender_sign_seed does not give sender_sign_pk".into())?;
    ensure(f.verify(&pk), || "the signature does not verify".into())?;
    let (room_id, epoch, sender, seq) = (arrf(v, "room_id")?, decf(v, "epoch")?, decf(v, "sender")?, decf(v, "seq")?);
    let nonce = arrf(v, "nonce")?;
    let b = &f.body;
    ensure((b.room_id, b.epoch, b.sender, b.seq, b.nonce) == (room_id, epoch, sender, seq, nonce), || {
        "the frame's header or nonce differs from the fields".into()
    })?;
    let mut aad = vec![1, 8];
    aad.extend_from_slice(&room_id);
    for n in [epoch, sender, seq] {
        aad.extend_from_slice(&n.to_be_bytes());
    }
    same(v, "aad", &aad)?;
    same(v, "aad", &b.aad())?;
    let key = secret(v, "message_key")?;
    let content = hexf(v, "content")?;
    let opened = message::open(b, &key).map_err(|e| format!("open: {e:?}"))?;
    ensure(*opened == content, || "the opened content differs".into())?;
    // Padding: the named list, the list, and the length it gives.
    let buckets = dec_list("padding_buckets", text(v, "padding_buckets")?)?;
    ensure(padding_named(text(v, "padding")?)? == buckets, || "padding and padding_buckets disagree".into())?;
    let padding = Padding::buckets(buckets).map_err(|e| format!("padding_buckets: {e:?}"))?;
    let padded_len: usize = decf(v, "padded_len")?;
    ensure(padding.padded_len(content.len()) == padded_len, || "padded_len is not what the buckets give".into())?;
    ensure(b.ct.len() == padded_len + 16, || "the ciphertext is not padded_len + 16 bytes".into())?;
    // Sealing again with the given nonce gives the same frame.
    let mut padded = (content.len() as u32).to_be_bytes().to_vec();
    padded.extend_from_slice(&content);
    padded.resize(padded_len.max(padded.len()), 0);
    let ct = crypto::seal(&key, &nonce, &aad, &padded);
    let again = Signed::sign(Message { room_id, epoch, sender, seq, nonce, ct }, &sign_key);
    ensure(again.encode() == frame, || "sealing again gives another frame".into())
}

fn check_hpke(v: &Vector) -> Result<(), String> {
    match text(v, "name")? {
        "join request introduction and key grant" => {
            let owner_kx = KxKey::from_secret(secret(v, "owner_kx_secret")?);
            let psk = secret(v, "invite_psk")?;
            let req_bytes = hexf(v, "join_request")?;
            let req = Signed::<JoinRequest>::decode(&req_bytes).map_err(|e| format!("join_request: {e:?}"))?;
            let name = join::open_intro(&req.body, &owner_kx, &psk).map_err(|e| format!("open_intro: {e:?}"))?;
            ensure(name == text(v, "introduction_name")?, || format!("the introduction opens to {name:?}"))?;
            let request_hash = join::request_hash(&req_bytes);
            same(v, "request_hash", &request_hash)?;
            let grant_bytes = hexf(v, "key_grant")?;
            let grant = Signed::<KeyGrant>::decode(&grant_bytes).map_err(|e| format!("key_grant: {e:?}"))?;
            let grant_hash = join::grant_hash(&grant_bytes);
            same(v, "grant_hash", &grant_hash)?;
            let eph = KxKey::from_secret(secret(v, "joiner_eph_secret")?);
            let (payload, export) =
                join::open_grant(&grant.body, &eph, &psk).map_err(|e| format!("open_grant: {e:?}"))?;
            same_n(v, "grant_policy", payload.policy as u64)?;
            same_n(v, "grant_epoch", u64::from(payload.epoch))?;
            same(v, "hpke_export", export.expose())?;
            same(v, "confirm_tag", &join::confirm_tag(&export, &request_hash, &grant_hash))
        }
        "epoch key share" => {
            let mut commit = commit_from_header(&hexf(v, "commit_header")?)?;
            same(v, "room_id", &commit.room_id)?;
            same_n(v, "epoch", u64::from(commit.epoch))?;
            let member = decf(v, "member")?;
            commit.shares = vec![Share { member, enc: arrf(v, "enc")?, ct: hexf(v, "ct")? }];
            let k = KxKey::from_secret(secret(v, "member_kx_secret")?);
            let (secret, prev, _) = epoch::open_share(&commit, member, &[&k]).map_err(|e| format!("open: {e:?}"))?;
            ensure(prev.is_none(), || "the share holds a second secret".into())?;
            same(v, "epoch_secret", secret.expose())
        }
        other => Err(format!("unknown HPKE vector {other:?}")),
    }
}

fn check_invite(v: &Vector) -> Result<(), String> {
    let uri = text(v, "uri")?;
    let parsed = Invite::parse(uri);
    match text(v, "error")? {
        "" => {
            let inv = parsed.map_err(|e| format!("parse: {e:?}"))?;
            same(v, "room_id", &inv.room_id)?;
            same(v, "owner_sign_pk", inv.owner_sign_pk.as_bytes())?;
            same(v, "owner_kx_pk", &inv.owner_kx_pk)?;
            same(v, "salt", &inv.salt)?;
            same(v, "token", inv.token.expose())?;
            same_n(v, "expires_at", inv.expires_at)?;
            ensure(text(v, "relay_addr")? == inv.relay_addr, || "relay_addr differs".into())?;
            same(v, "relay_pk", inv.relay_pk.as_bytes())?;
            same(v, "invite_pk", inv.invite_pk().as_bytes())?;
            same(v, "invite_pk", &invite_keys(&inv.room_id, &inv.token).sign.public())?;
            ensure(inv.to_uri() == uri.trim_matches(char::is_whitespace), || "the invite has another spelling".into())
        }
        "BadInvite" => ensure(matches!(parsed, Err(crate::error::Error::BadInvite(_))), || "parses".into()),
        other => Err(format!("unknown error {other:?}")),
    }
}

fn check_link(v: &Vector) -> Result<(), String> {
    use crate::link::{self, ClientHandshake, RelayKey};
    let link_err = |what: &'static str| move |e: link::LinkError| format!("{what}: {e}");
    ensure(text(v, "protocol")? == link::NOISE_PARAMS, || "protocol".into())?;
    same(v, "prologue", b"zfc link\x01")?;
    let relay_key = RelayKey::from_bytes(arrf(v, "relay_static_secret")?);
    let relay_pk = arrf(v, "relay_static_pk")?;
    ensure(relay_key.public().to_bytes() == relay_pk, || "relay_static_pk is not the secret's".into())?;
    let (client_seed, relay_seed) = (arrf(v, "client_rng_seed")?, arrf(v, "relay_rng_seed")?);
    same(v, "client_ephemeral_secret", &link_ephemeral(&ChaCha20Rng::from_seed(client_seed)))?;
    same(v, "relay_ephemeral_secret", &link_ephemeral(&ChaCha20Rng::from_seed(relay_seed)))?;
    let first = hexf(v, "handshake1")?;
    let second = hexf(v, "handshake2")?;
    let eph = KxKey::from_secret(secret(v, "client_ephemeral_secret")?);
    ensure(first.get(2..34) == Some(&eph.public()[..]), || "handshake 1 does not carry the client ephemeral".into())?;
    let reph = KxKey::from_secret(secret(v, "relay_ephemeral_secret")?);
    ensure(second.get(2..34) == Some(&reph.public()[..]), || "handshake 2 does not carry the relay ephemeral".into())?;
    // The client side, from its seed, writes handshake 1 and opens the relay's record.
    let (hs, mine) = ClientHandshake::start(&relay_pk.into(), &mut ChaCha20Rng::from_seed(client_seed))
        .map_err(link_err("start"))?;
    ensure(mine == first, || "handshake 1 differs".into())?;
    // The relay side processes the recorded handshake 1, answers handshake 2 and opens the records.
    let (mut relay_end, answer) =
        link::respond(&relay_key, &first, &mut ChaCha20Rng::from_seed(relay_seed)).map_err(link_err("respond"))?;
    ensure(answer == second, || "handshake 2 differs".into())?;
    let mut client_end = hs.finish(&second).map_err(link_err("finish"))?;
    same(v, "channel_binding", relay_end.channel_binding().as_bytes())?;
    same(v, "channel_binding", client_end.channel_binding().as_bytes())?;
    for (record, plaintext) in
        [("client_to_relay_0", "client_to_relay_0_plaintext"), ("client_to_relay_1", "client_to_relay_1_plaintext")]
    {
        same(v, plaintext, &relay_end.open(&hexf(v, record)?).map_err(link_err(record))?)?;
    }
    let r2c = client_end.open(&hexf(v, "relay_to_client_0")?).map_err(link_err("relay_to_client_0"))?;
    same(v, "relay_to_client_0_plaintext", &r2c)
}

fn check_state(v: &Vector) -> Result<(), String> {
    let sealed = hexf(v, "sealed")?;
    let password = text(v, "password")?.as_bytes();
    // The header first: the costs decide how long the derivation takes.
    let header = sealed.get(..57).ok_or("sealed: shorter than its header")?;
    ensure(header.starts_with(b"ZFCS\x01"), || "sealed: magic or version".into())?;
    let costs: Vec<u32> = header[5..17].chunks(4).map(|c| u32::from_be_bytes(arr(c))).collect();
    for (k, n) in ["m_cost_kib", "t_cost", "p_cost"].into_iter().zip(&costs) {
        same_n(v, k, u64::from(*n))?;
    }
    same(v, "salt", &header[17..33])?;
    same(v, "nonce", &header[33..57])?;
    let params = crate::pickle::Argon2Params { m_cost_kib: costs[0], t_cost: costs[1], p_cost: costs[2] };
    let key = params.derive_for_vectors(password, &arr(&header[17..33]));
    same(v, "argon2id_key", &key)?;
    let pt = crypto::open(&Secret32::from_bytes(key), &arr(&header[33..57]), header, &sealed[57..])
        .ok_or("the ciphertext does not open with argon2id_key")?;
    same(v, "plaintext", &pt)?;
    let pt = crate::pickle::open(&sealed, password).map_err(|e| format!("pickle::open: {e:?}"))?;
    same(v, "plaintext", &pt)
}

// ---------------------------------------------------------------- tests

#[test]
fn derivation_vectors_recompute() {
    check_file("derivations.json", &load_json("derivations.json")).unwrap();
}

#[test]
fn frame_vectors_decode_verify_and_reencode() {
    check_file("frames.json", &load_json("frames.json")).unwrap();
}

#[test]
fn message_vectors_open_and_seal_again() {
    check_file("messages.json", &load_json("messages.json")).unwrap();
}

#[test]
fn hpke_vectors_open() {
    check_file("hpke.json", &load_json("hpke.json")).unwrap();
}

#[test]
fn link_vectors_replay() {
    check_file("link.json", &load_json("link.json")).unwrap();
}

#[test]
fn state_vectors_open() {
    let json = load_json("state.json");
    check_file("state.json", &json).unwrap();
    let sealed = hex::decode(json["vectors"][0]["sealed"].as_str().unwrap()).unwrap();
    assert!(crate::pickle::open(&sealed, b"wrong horse").is_err());
}

#[test]
fn invite_vectors_parse() {
    check_file("invites.json", &load_json("invites.json")).unwrap();
}

/// The white space an invite's parser ignores (spec §14) is exactly Unicode's White_Space.
#[test]
fn invite_white_space_is_unicode_white_space() {
    let listed: Vec<char> = "\u{9}\u{a}\u{b}\u{c}\u{d}\u{20}\u{85}\u{a0}\u{1680}\u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}".chars().collect();
    let trimmed: Vec<char> =
        (0..=0x10ffff).filter_map(char::from_u32).filter(|c| c.to_string().trim().is_empty()).collect();
    assert_eq!(trimmed, listed);
}
