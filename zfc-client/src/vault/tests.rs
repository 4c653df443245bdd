//! The vault's tests: round trips with real pickles and their relays, every failure typed and
//! changing nothing, tampering (byte flips, entries of another save, malformed relay parts), what a
//! save seals, the KDF floor, imports of zfc-core's version-1 fixtures, close.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zfc_core::pickle::{Argon2Params, StateError};
use zfc_core::relay::RelayConfig;
use zfc_core::sim::Scenario;
use zfc_core::{ErrorCode, Member, Owner, RoomConfig, code};

use super::format::{self, DERIVATIONS, Row};
use super::*;

const PASS: &[u8] = b"a passphrase";
const FIXTURE_PASSWORD: &[u8] = b"correct horse battery staple";
const TEST: VaultOptions = VaultOptions { insecure_weak_kdf_for_tests: true };

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn new_vault(seed: u64) -> Vault {
    Vault::create_with_rng(PASS, Argon2Params::MIN, TEST, rng(seed)).unwrap()
}

fn open(blob: &[u8], pass: &[u8]) -> Result<Vault, VaultError> {
    Vault::open_with_rng(blob, pass, VaultOptions::default(), rng(99))
}

fn derivations() -> usize {
    DERIVATIONS.with(|n| n.get())
}

/// The relay of test rooms: `ws://127.0.0.1:(5100 + n)` with the key `[n; 32]`.
fn relay(n: u8) -> RelayAddress {
    RelayAddress::new(&format!("ws://127.0.0.1:{}", 5100 + u16::from(n)), &[n; 32]).unwrap()
}

/// A room with a member: the owner's pickle, and the member's.
fn lived_room(seed: u64) -> (Owner, Member) {
    let config = RoomConfig::builder().auto_approve(true).build().unwrap();
    let mut room = Scenario::new(config, RelayConfig::default(), rng(seed), 1_800_000_000);
    let bob = room.join("bob").unwrap();
    room.send(bob, "hello").unwrap();
    let owner = Owner::unpickle(&room.owner().pickle()).unwrap();
    let member = Member::unpickle(&room.member(bob).unwrap().pickle()).unwrap();
    (owner, member)
}

/// A room as the tests put it: id, kind, relay, pickle.
type TestRoom = (Vec<u8>, RoomKind, RelayAddress, Vec<u8>);

/// Four rooms of four simulated rooms: two held as owner, two as member, each on its own relay.
fn four_rooms() -> Vec<TestRoom> {
    let mut out = Vec::new();
    for seed in 1..=4u8 {
        let (owner, member) = lived_room(seed.into());
        if seed % 2 == 1 {
            out.push((owner.room_id().to_vec(), RoomKind::Owner, relay(seed), owner.pickle().to_vec()));
        } else {
            out.push((member.room_id().to_vec(), RoomKind::Member, relay(seed), member.pickle().to_vec()));
        }
    }
    out
}

fn filled(seed: u64, rooms: &[TestRoom]) -> Vault {
    let mut v = new_vault(seed);
    for (id, kind, relay, pickle) in rooms {
        v.put_room(id, *kind, relay, pickle).unwrap();
    }
    v
}

/// Small fake pickles (the container only checks their magic): for tests that open many times.
fn small(v: &mut Vault) {
    v.put_room(&[1; 16], RoomKind::Owner, &relay(1), b"ZFCO\x00\x02 one").unwrap();
    v.put_room(&[2; 16], RoomKind::Member, &relay(2), b"ZFCM\x00\x02 two").unwrap();
    v.put_room(&[3; 16], RoomKind::Member, &relay(2), b"ZFCM\x00\x02 three").unwrap();
}

/// A new vault with [`small`]'s rooms, and its first save.
fn small_saved(seed: u64) -> (Vault, Vec<u8>) {
    let mut v = new_vault(seed);
    small(&mut v);
    let blob = v.seal().unwrap();
    (v, blob)
}

/// The container rebuilt from its parts (for tampering).
fn assemble(header: &[u8], manifest: &[u8], entries: &[&[u8]]) -> Vec<u8> {
    let mut out = [header, manifest].concat();
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for e in entries {
        out.extend_from_slice(e);
    }
    out
}

#[test]
fn owner_and_member_rooms_round_trip() {
    let rooms = four_rooms();
    let mut v = filled(1, &rooms);
    assert!(v.has_unsaved_changes().unwrap());
    let blob = v.seal().unwrap();
    assert!(!v.has_unsaved_changes().unwrap());
    assert_eq!(v.generation().unwrap(), 1);

    let back = open(&blob, PASS).unwrap();
    let mut ids: Vec<Vec<u8>> = rooms.iter().map(|r| r.0.clone()).collect();
    ids.sort();
    assert_eq!(back.rooms().unwrap(), ids);
    assert_eq!(back.generation().unwrap(), 1);
    assert_eq!(back.params().unwrap(), Argon2Params::MIN);
    assert!(!back.has_unsaved_changes().unwrap());
    for (id, kind, relay, pickle) in &rooms {
        let e = back.room(id).unwrap().unwrap();
        assert_eq!((&e.room_id, e.kind, &e.relay, e.pickle.as_slice()), (id, *kind, relay, pickle.as_slice()));
        assert_eq!(back.relay(id).unwrap().as_ref(), Some(relay));
        // The pickles load, and write the same bytes again.
        match kind {
            RoomKind::Owner => assert_eq!(Owner::unpickle(&e.pickle).unwrap().pickle().as_slice(), pickle.as_slice()),
            RoomKind::Member => {
                assert_eq!(Member::unpickle(&e.pickle).unwrap().pickle().as_slice(), pickle.as_slice())
            }
        }
    }
    assert_eq!(back.room(&[9; 16]).unwrap(), None);
    assert_eq!(back.relay(&[9; 16]).unwrap(), None);

    // put_owner / put_member take the id and pickle from the party.
    let (owner, member) = lived_room(7);
    let mut v = new_vault(2);
    v.put_owner(&owner, &relay(7)).unwrap();
    let (_, other_member) = lived_room(8);
    v.put_member(&other_member, &relay(8)).unwrap();
    assert_eq!(v.room(&owner.room_id()).unwrap().unwrap().kind, RoomKind::Owner);
    assert_eq!(v.relay(&other_member.room_id()).unwrap(), Some(relay(8)));
    // A room keeps its kind: the owner's room cannot come back as a member's.
    assert_eq!(v.put_member(&member, &relay(7)), Err(VaultError::RoomExists));
    let back = open(&v.seal().unwrap(), PASS).unwrap();
    assert_eq!(back.rooms().unwrap().len(), 2);
}

#[test]
fn an_empty_vault_and_removals_round_trip() {
    let mut v = new_vault(3);
    let blob = v.seal().unwrap();
    assert!(open(&blob, PASS).unwrap().rooms().unwrap().is_empty());
    small(&mut v);
    v.seal().unwrap();
    v.remove_room(&[2; 16]).unwrap();
    assert!(v.has_unsaved_changes().unwrap());
    assert_eq!(v.remove_room(&[2; 16]), Err(VaultError::NoSuchRoom));
    let back = open(&v.seal().unwrap(), PASS).unwrap();
    assert_eq!(back.rooms().unwrap(), vec![vec![1; 16], vec![3; 16]]);
    assert_eq!(back.generation().unwrap(), 3);
}

#[test]
fn bad_arguments_are_refused_and_change_nothing() {
    let (mut v, blob_before) = small_saved(4);
    let bad_id = v.put_room(&[1; 15], RoomKind::Owner, &relay(1), b"ZFCO\x00\x02");
    assert!(matches!(bad_id, Err(VaultError::InvalidArgument(_))), "{bad_id:?}");
    assert_eq!(bad_id.unwrap_err().error_code(), code::INVALID_ARGUMENT);
    assert!(matches!(
        v.put_room(&[4; 16], RoomKind::Owner, &relay(1), b"ZFCM\x00\x02"),
        Err(VaultError::InvalidArgument(_))
    ));
    assert!(matches!(v.put_room(&[4; 16], RoomKind::Member, &relay(1), b"zfcm"), Err(VaultError::InvalidArgument(_))));
    assert_eq!(v.put_room(&[1; 16], RoomKind::Member, &relay(1), b"ZFCM\x00\x02"), Err(VaultError::RoomExists));
    assert!(matches!(v.room(&[1; 17]), Err(VaultError::InvalidArgument(_))));
    assert!(matches!(v.relay(&[1; 17]), Err(VaultError::InvalidArgument(_))));
    assert!(matches!(v.remove_room(&[]), Err(VaultError::InvalidArgument(_))));
    assert!(!v.has_unsaved_changes().unwrap());
    assert_eq!(v.rooms().unwrap().len(), 3);
    assert_eq!(
        open(&v.seal().unwrap(), PASS).unwrap().rooms().unwrap(),
        open(&blob_before, PASS).unwrap().rooms().unwrap()
    );
}

#[test]
fn a_wrong_passphrase_is_a_typed_error_that_changes_nothing() {
    let (mut v, blob) = small_saved(5);
    let e = open(&blob, b"not it").unwrap_err();
    assert_eq!(e, VaultError::WrongPassphrase);
    assert_eq!(e.error_code(), code::WRONG_PASSWORD);
    assert_eq!(e.error_group(), zfc_core::ErrorGroup::LocalState);

    // Changing the passphrase with a wrong current one: the vault is as it was.
    let before = format!("{v:?}");
    let salt = v.inner().unwrap().header.salt;
    let e = v.change_passphrase(b"not it", b"new", Argon2Params::MIN).unwrap_err();
    assert_eq!(e, VaultError::WrongPassphrase);
    assert_eq!(format!("{v:?}"), before);
    assert_eq!(v.inner().unwrap().header.salt, salt);
    assert!(!v.has_unsaved_changes().unwrap());
    let again = v.seal().unwrap();
    assert_eq!(again.get(..format::HEADER_LEN), blob.get(..format::HEADER_LEN));
    assert_eq!(open(&again, PASS).unwrap().rooms().unwrap().len(), 3);

    // Importing with a wrong password: zfc-core's typed error, nothing added.
    let e = v.import_sealed_room(&fixture("member-v1.sealed.hex"), b"wrong", &relay(1)).unwrap_err();
    assert_eq!(e, VaultError::State(zfc_core::Error::State(StateError::WrongPassword)));
    assert_eq!(e.error_code(), code::WRONG_PASSWORD);
    assert_eq!(v.rooms().unwrap().len(), 3);
    assert!(!v.has_unsaved_changes().unwrap());
}

#[test]
fn every_byte_flip_and_every_truncation_fails_to_open() {
    let (mut v, _) = small_saved(6);
    v.put_room(&[2; 16], RoomKind::Member, &relay(2), b"ZFCM\x00\x02 two, later").unwrap();
    let blob = v.seal().unwrap();
    assert!(open(&blob, PASS).is_ok());
    let mut tried = 0;
    for i in 0..blob.len() {
        for mask in [0x01u8, 0x80] {
            let mut bad = blob.clone();
            bad[i] ^= mask;
            let r = open(&bad, PASS);
            assert!(r.is_err(), "flip of byte {i} by {mask:#x} opened");
            tried += 1;
        }
    }
    for len in 0..blob.len() {
        assert!(open(&blob[..len], PASS).is_err(), "prefix of {len} bytes opened");
    }
    let mut longer = blob.clone();
    longer.push(0);
    assert!(matches!(open(&longer, PASS), Err(VaultError::Malformed(_))));
    println!("vault of {} bytes: {tried} byte flips and {} truncations refused", blob.len(), blob.len());
}

#[test]
fn opening_errors_come_in_the_order_of_the_spec() {
    let (_, blob) = small_saved(7);
    let mut bad = blob.clone();
    bad[4] = 2;
    assert_eq!(open(&bad, PASS).unwrap_err(), VaultError::UnsupportedVersion(2));
    assert_eq!(VaultError::UnsupportedVersion(2).error_code(), code::STATE_VERSION);
    let mut bad = blob.clone();
    bad[5..9].copy_from_slice(&u32::MAX.to_be_bytes());
    let e = open(&bad, PASS).unwrap_err();
    assert_eq!(e, VaultError::Argon2Params { m_cost_kib: u32::MAX, t_cost: 1, p_cost: 1 });
    assert_eq!(e.error_code(), code::ARGON2_PARAMS);
    // Refused before the derivation (and so before Argon2 allocates anything).
    let n = derivations();
    let _ = open(&bad, PASS);
    assert_eq!(derivations(), n);
    // A count larger than the bytes can hold is refused before anything is allocated or derived.
    let parsed = format::parse(&blob).unwrap();
    let mut bad = [parsed.header_bytes, parsed.manifest].concat();
    bad.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(open(&bad, PASS), Err(VaultError::Malformed(_))));
    assert_eq!(derivations(), n);
    // A single-room blob names the way out.
    let e = open(&fixture("owner-v1.sealed.hex"), FIXTURE_PASSWORD).unwrap_err();
    assert!(matches!(&e, VaultError::Malformed(why) if why.contains("import")), "{e:?}");
    assert_eq!(e.error_code(), code::STATE_MALFORMED);
}

#[test]
fn entries_from_another_save_or_a_dropped_room_fail_to_open() {
    let (mut v, old) = small_saved(8);
    v.put_room(&[2; 16], RoomKind::Member, &relay(2), b"ZFCM\x00\x02 two, after a send").unwrap();
    let new = v.seal().unwrap();
    let (o, n) = (format::parse(&old).unwrap(), format::parse(&new).unwrap());

    // The older entry of room 2 in the new container.
    let swapped = assemble(n.header_bytes, n.manifest, &[n.entries[0], o.entries[1], n.entries[2]]);
    let e = open(&swapped, PASS).unwrap_err();
    assert!(matches!(&e, VaultError::Malformed(why) if why.contains("manifest")), "{e:?}");
    // The older manifest over the new entries.
    let mixed = assemble(n.header_bytes, o.manifest, &n.entries);
    assert!(matches!(open(&mixed, PASS), Err(VaultError::Malformed(_))));
    // A room dropped, or two entries exchanged.
    let dropped = assemble(n.header_bytes, n.manifest, &[n.entries[0], n.entries[2]]);
    assert!(matches!(open(&dropped, PASS), Err(VaultError::Malformed(_))));
    let exchanged = assemble(n.header_bytes, n.manifest, &[n.entries[1], n.entries[0], n.entries[2]]);
    assert!(matches!(open(&exchanged, PASS), Err(VaultError::Malformed(_))));
    // A room added: an entry of the old save appended.
    let added = assemble(n.header_bytes, n.manifest, &[n.entries[0], n.entries[1], n.entries[2], o.entries[1]]);
    assert!(matches!(open(&added, PASS), Err(VaultError::Malformed(_))));
    // The limit (spec §17.7): the whole older file still opens; rollback of the file is out of
    // scope, and its generation is the older one.
    assert_eq!(open(&old, PASS).unwrap().generation().unwrap(), 1);
    assert_eq!(open(&new, PASS).unwrap().generation().unwrap(), 2);
}

#[test]
fn a_save_reseals_only_the_rooms_that_changed() {
    let rooms = four_rooms();
    let mut v = filled(9, &rooms);
    let first = v.seal().unwrap();
    let changed = rooms[1].clone();
    let (_, member) = lived_room(2);
    let mut newer = member;
    let mut r = rng(5);
    let _ = newer.send(b"a later message", &mut r).unwrap();
    assert_ne!(newer.pickle().as_slice(), changed.3.as_slice());
    v.put_member(&newer, &changed.2).unwrap();
    let second = v.seal().unwrap();
    let third = v.seal().unwrap();

    let (a, b, c) = (format::parse(&first).unwrap(), format::parse(&second).unwrap(), format::parse(&third).unwrap());
    let ids = v.rooms().unwrap();
    let at = ids.iter().position(|id| *id == changed.0).unwrap();
    for i in 0..ids.len() {
        if i == at {
            assert_ne!(a.entries[i], b.entries[i], "the changed room is sealed again");
        } else {
            assert_eq!(a.entries[i], b.entries[i], "room {i} did not change: its entry is reused");
        }
        // A save without changes reuses every entry.
        assert_eq!(b.entries[i], c.entries[i]);
    }
    // The manifest is sealed on every save, with a fresh nonce.
    assert_ne!(a.manifest, b.manifest);
    assert_ne!(b.manifest, c.manifest);
    assert_eq!(a.header_bytes, c.header_bytes);
    let back = open(&third, PASS).unwrap();
    assert_eq!(back.generation().unwrap(), 3);
    assert_eq!(back.room(&changed.0).unwrap().unwrap().pickle.as_slice(), newer.pickle().as_slice());
}

#[test]
fn relays_round_trip_through_seal_and_open() {
    let longest = format!("wss://{}", "r".repeat(RelayAddress::MAX_URL_LEN - 6));
    let key: Vec<u8> = (0..32).collect();
    let relays = [
        RelayAddress::new("ws://", &[0; 32]).unwrap(),
        RelayAddress::new(&longest, &[0xff; 32]).unwrap(),
        RelayAddress::new("wss://relé.example/zfc?room=1", &key).unwrap(),
    ];
    let id = |i: usize| [i as u8 + 1; 16];
    let mut v = new_vault(20);
    for (i, r) in relays.iter().enumerate() {
        v.put_room(&id(i), RoomKind::Member, r, b"ZFCM\x00\x02 pickle").unwrap();
    }
    let blob = v.seal().unwrap();
    let again = v.change_passphrase(PASS, b"another", Argon2Params::MIN).unwrap();
    for back in [open(&blob, PASS).unwrap(), open(&again, b"another").unwrap()] {
        for (i, r) in relays.iter().enumerate() {
            assert_eq!(back.relay(&id(i)).unwrap().as_ref(), Some(r));
            let e = back.room(&id(i)).unwrap().unwrap();
            assert_eq!((e.relay.url(), e.relay.key()), (r.url(), r.key()));
            assert_eq!(e.pickle.as_slice(), b"ZFCM\x00\x02 pickle");
        }
    }
    // The entry's plaintext as spec §17.7 lays it out: u16 url_len || url || key || pickle.
    let parsed = format::parse(&blob).unwrap();
    let aad = format::entry_aad(parsed.header_bytes, &id(1), RoomKind::Member);
    let back = open(&blob, PASS).unwrap();
    let pt = format::open_item(&back.inner().unwrap().key, parsed.entries[1], &aad).unwrap();
    assert_eq!(pt[..2], 2048u16.to_be_bytes());
    assert_eq!(&pt[2..2050], longest.as_bytes());
    assert_eq!(pt[2050..2082], [0xff; 32]);
    assert_eq!(&pt[2082..], b"ZFCM\x00\x02 pickle");
}

/// A one-room container (room `[1; 16]`, owner) under `v`'s header and key whose entry seals
/// `pt` as given, with a manifest that lists it: only the entry's plaintext can be wrong.
fn crafted(v: &mut Vault, pt: &[u8]) -> Vec<u8> {
    let inner = v.inner_mut().unwrap();
    let header = inner.header.bytes();
    let (id, kind) = ([1; 16], RoomKind::Owner);
    let entry = format::seal_item(&inner.key, &format::entry_aad(&header, &id, kind), pt, &mut inner.rng);
    let rows = [Row { room_id: id, kind, hash: format::entry_hash(&entry) }];
    let manifest = format::manifest(1, &rows);
    let manifest = format::seal_item(&inner.key, &format::manifest_aad(&header), &manifest, &mut inner.rng);
    assemble(&header, &manifest, &[&entry])
}

/// An entry plaintext: `url_len` as given (not necessarily the url's), the url's bytes, then the
/// rest (key and pickle).
fn entry_pt(url_len: u16, url: &[u8], rest: &[u8]) -> Vec<u8> {
    [&url_len.to_be_bytes(), url, rest].concat()
}

#[test]
fn a_malformed_relay_part_of_an_entry_is_malformed() {
    let mut v = new_vault(21);
    let tail = [[7u8; 32].as_slice(), b"ZFCO\x00\x02 pickle"].concat();
    // The control: a well-formed plaintext crafted the same way opens.
    let url = b"ws://127.0.0.1:5103";
    let good = crafted(&mut v, &entry_pt(url.len() as u16, url, &tail));
    let back = open(&good, PASS).unwrap();
    let e = back.room(&[1; 16]).unwrap().unwrap();
    assert_eq!((e.relay.url(), e.relay.key(), e.pickle.as_slice()), ("ws://127.0.0.1:5103", vec![7; 32], &tail[32..]));

    let longest = [b"ws://".as_slice(), &[b'a'; RelayAddress::MAX_URL_LEN - 5]].concat();
    let too_long = [longest.as_slice(), b"a"].concat();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty plaintext", Vec::new(), "truncated"),
        ("length cut", vec![0], "truncated"),
        ("length 0", entry_pt(0, b"", &tail), "length"),
        ("length 4", entry_pt(4, b"ws:/", &tail), "length"),
        ("length 2049", entry_pt(2049, &too_long, &tail), "length"),
        ("length past the end", entry_pt(2000, url, &tail), "truncated"),
        ("not UTF-8", entry_pt(7, b"ws://\xff\xfe", &tail), "UTF-8"),
        ("not ws", entry_pt(12, b"http://relay", &tail), "refused"),
        ("white space", entry_pt(11, b"ws://re lay", &tail), "refused"),
        ("control character", entry_pt(11, b"ws://relay\n", &tail), "refused"),
        ("key cut", entry_pt(url.len() as u16, url, &[7; 31]), "truncated"),
        ("url length one short", entry_pt(url.len() as u16 - 1, url, &tail), "kind"),
        ("no pickle", entry_pt(url.len() as u16, url, &[7; 32]), "kind"),
    ];
    for (what, pt, why) in cases {
        let e = open(&crafted(&mut v, &pt), PASS).unwrap_err();
        assert!(matches!(&e, VaultError::Malformed(m) if m.contains(why)), "{what}: {e:?}");
        assert_eq!(e.error_code(), code::STATE_MALFORMED);
    }
    // The longest address is within the bound.
    let longest = crafted(&mut v, &entry_pt(2048, &longest, &tail));
    assert_eq!(open(&longest, PASS).unwrap().relay(&[1; 16]).unwrap().unwrap().url().len(), 2048);
}

#[test]
fn a_put_with_another_relay_replaces_it() {
    let (mut v, first) = small_saved(22);
    // Room 2 moves: same pickle, another relay.
    v.put_room(&[2; 16], RoomKind::Member, &relay(9), b"ZFCM\x00\x02 two").unwrap();
    assert!(v.has_unsaved_changes().unwrap());
    assert_eq!(v.relay(&[2; 16]).unwrap(), Some(relay(9)));
    let second = v.seal().unwrap();
    let (a, b) = (format::parse(&first).unwrap(), format::parse(&second).unwrap());
    assert_eq!(a.entries[0], b.entries[0], "room 1 is not sealed again");
    assert_ne!(a.entries[1], b.entries[1], "room 2 is sealed again");
    assert_eq!(a.entries[2], b.entries[2], "room 3 is not sealed again");
    let back = open(&second, PASS).unwrap();
    assert_eq!(back.relay(&[2; 16]).unwrap(), Some(relay(9)));
    assert_eq!(back.room(&[2; 16]).unwrap().unwrap().pickle.as_slice(), b"ZFCM\x00\x02 two");
    assert_eq!(back.relay(&[3; 16]).unwrap(), Some(relay(2)), "the other room on that relay stays");
    // The same address with another key is another relay, and replaces it too.
    let rekeyed = RelayAddress::new(relay(9).url(), &[0xee; 32]).unwrap();
    v.put_room(&[2; 16], RoomKind::Member, &rekeyed, b"ZFCM\x00\x02 two").unwrap();
    let back = open(&v.seal().unwrap(), PASS).unwrap();
    assert_eq!(back.relay(&[2; 16]).unwrap(), Some(rekeyed));
    assert_eq!(back.rooms().unwrap().len(), 3);
}

#[test]
fn only_create_open_and_passphrase_changes_run_argon2() {
    let start = derivations();
    let mut v = new_vault(10);
    assert_eq!(derivations(), start + 1);
    small(&mut v);
    for i in 0..50u8 {
        v.put_room(&[1; 16], RoomKind::Owner, &relay(1), &[b"ZFCO\x00\x02".as_slice(), &[i]].concat()).unwrap();
        let _ = v.room(&[1; 16]).unwrap();
        let _ = v.seal().unwrap();
    }
    v.remove_room(&[3; 16]).unwrap();
    let blob = v.seal().unwrap();
    assert_eq!(derivations(), start + 1, "saves derive nothing");
    let _opened = open(&blob, PASS).unwrap();
    assert_eq!(derivations(), start + 2);
    v.change_passphrase(PASS, b"new", Argon2Params::MIN).unwrap();
    assert_eq!(derivations(), start + 4, "the current passphrase checked, the new key derived");
}

#[test]
fn passphrase_changes_reseal_everything_under_the_new_key() {
    let (mut v, old) = small_saved(11);
    let params = Argon2Params { m_cost_kib: 16, t_cost: 2, p_cost: 1 };
    let new = v.change_passphrase(PASS, b"new passphrase", params).unwrap();
    assert!(!v.has_unsaved_changes().unwrap());
    assert_eq!(v.params().unwrap(), params);
    assert_eq!(open(&new, PASS).unwrap_err(), VaultError::WrongPassphrase);
    assert_eq!(open(&old, b"new passphrase").unwrap_err(), VaultError::WrongPassphrase);
    let back = open(&new, b"new passphrase").unwrap();
    assert_eq!(back.rooms().unwrap().len(), 3);
    assert_eq!(back.generation().unwrap(), 2);
    assert_eq!(back.params().unwrap(), params);
    let (o, n) = (format::parse(&old).unwrap(), format::parse(&new).unwrap());
    assert_ne!(o.header.salt, n.header.salt, "a new salt");
    for (a, b) in o.entries.iter().zip(&n.entries) {
        assert_ne!(a, b, "every room sealed again");
    }
    // Refused parameters change nothing.
    assert_eq!(
        v.change_passphrase(b"new passphrase", b"x", Argon2Params { m_cost_kib: 8, t_cost: 0, p_cost: 1 }),
        Err(VaultError::Argon2Params { m_cost_kib: 8, t_cost: 0, p_cost: 1 })
    );
    assert_eq!(v.params().unwrap(), params);
}

#[test]
fn sealing_refuses_weak_parameters_without_the_test_option() {
    let none = VaultOptions::default();
    let weak = |p: Argon2Params| VaultError::WeakKdf { m_cost_kib: p.m_cost_kib, t_cost: p.t_cost, p_cost: p.p_cost };
    for p in [
        Argon2Params::MIN,
        Argon2Params { m_cost_kib: Vault::KDF_FLOOR.m_cost_kib - 1, ..Vault::KDF_FLOOR },
        Argon2Params { t_cost: 1, ..Vault::KDF_FLOOR },
    ] {
        let e = Vault::create(PASS, p, none).unwrap_err();
        assert_eq!(e, weak(p));
        assert_eq!(e.error_code(), code::WEAK_KDF);
        assert_eq!(e.error_group(), zfc_core::ErrorGroup::ApiMisuse);
    }
    // Out of zfc-core's bounds: refused even with the test option, and before any derivation.
    let n = derivations();
    let out = Argon2Params { m_cost_kib: 4, t_cost: 1, p_cost: 1 };
    assert_eq!(
        Vault::create(PASS, out, TEST).unwrap_err(),
        VaultError::Argon2Params { m_cost_kib: 4, t_cost: 1, p_cost: 1 }
    );
    let huge = Argon2Params { m_cost_kib: Argon2Params::MAX.m_cost_kib + 1, ..Argon2Params::DEFAULT };
    assert!(matches!(Vault::create(PASS, huge, TEST), Err(VaultError::Argon2Params { .. })));
    assert_eq!(derivations(), n);
    // The floor itself is accepted.
    let mut v = Vault::create(PASS, Vault::KDF_FLOOR, none).unwrap();
    assert!(!v.kdf_below_floor().unwrap());
    assert_eq!(v.change_passphrase(PASS, PASS, Argon2Params::MIN), Err(weak(Argon2Params::MIN)));

    // A weak vault (a test blob, an old file) still opens without the option, and says so;
    // a passphrase change raises it.
    let (_, blob) = small_saved(12);
    let mut opened = Vault::open(&blob, PASS, none).unwrap();
    assert!(opened.kdf_below_floor().unwrap());
    assert_eq!(opened.change_passphrase(PASS, PASS, Argon2Params::MIN), Err(weak(Argon2Params::MIN)));
    let _ = opened.seal().unwrap();
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../zfc-core/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    hex::decode(std::fs::read_to_string(&path).unwrap().trim()).unwrap()
}

#[test]
fn version_1_single_room_blobs_import() {
    let mut v = new_vault(13);
    let id = v.import_sealed_room(&fixture("owner-v1.sealed.hex"), FIXTURE_PASSWORD, &relay(5)).unwrap();
    let e = v.room(&id).unwrap().unwrap();
    assert_eq!(e.kind, RoomKind::Owner);
    let owner = Owner::unpickle(&e.pickle).unwrap();
    assert_eq!(owner.epoch(), 5);
    assert_eq!(owner.room_id().as_slice(), id.as_slice());
    assert_eq!(e.relay, relay(5), "the relay given with the blob");
    assert!(v.has_unsaved_changes().unwrap());

    // The member of the same room: not into the vault that holds the room already.
    let member_blob = fixture("member-v1.sealed.hex");
    assert_eq!(v.import_sealed_room(&member_blob, FIXTURE_PASSWORD, &relay(5)), Err(VaultError::RoomExists));
    assert_eq!(VaultError::RoomExists.error_code(), code::ROOM_EXISTS);
    assert_eq!(v.room(&id).unwrap().unwrap().kind, RoomKind::Owner);

    let mut w = new_vault(14);
    let mid = w.import_sealed_room(&member_blob, FIXTURE_PASSWORD, &relay(6)).unwrap();
    assert_eq!(mid, id);
    let member = Member::unpickle(&w.room(&mid).unwrap().unwrap().pickle).unwrap();
    assert_eq!(member.phase().epoch(), Some(5));
    assert_eq!(member.phase().member(), Some(1));

    // Both survive a round trip, in today's pickle layout.
    let back = open(&v.seal().unwrap(), PASS).unwrap();
    assert_eq!(Owner::unpickle(&back.room(&id).unwrap().unwrap().pickle).unwrap().epoch(), 5);
    let back = open(&w.seal().unwrap(), PASS).unwrap();
    assert_eq!(back.room(&mid).unwrap().unwrap().kind, RoomKind::Member);
    assert_eq!(back.relay(&mid).unwrap(), Some(relay(6)));

    // What does not import is zfc-core's typed error.
    let e = w.import_sealed_room(b"ZFCS", FIXTURE_PASSWORD, &relay(6)).unwrap_err();
    assert!(matches!(e, VaultError::State(zfc_core::Error::State(StateError::Malformed(_)))), "{e:?}");
    assert_eq!(e.error_code(), code::STATE_MALFORMED);
}

#[test]
fn closing_erases_and_every_later_call_fails_closed() {
    let (mut v, blob) = small_saved(15);
    v.close();
    assert!(v.is_closed());
    assert_eq!(format!("{v:?}"), "Vault { closed }");
    let c: Result<(), VaultError> = Err(VaultError::Closed);
    assert_eq!(v.put_room(&[1; 16], RoomKind::Owner, &relay(1), b"ZFCO\x00\x02"), c);
    assert_eq!(v.remove_room(&[1; 16]), c);
    assert_eq!(v.room(&[1; 16]), c.clone().map(|()| None));
    assert_eq!(v.rooms(), c.clone().map(|()| Vec::new()));
    assert_eq!(v.generation(), c.clone().map(|()| 0));
    assert_eq!(v.params(), c.clone().map(|()| Argon2Params::MIN));
    assert_eq!(v.kdf_below_floor(), c.clone().map(|()| false));
    assert_eq!(v.has_unsaved_changes(), c.clone().map(|()| false));
    assert_eq!(v.seal(), c.clone().map(|()| Vec::new()));
    assert_eq!(v.change_passphrase(PASS, PASS, Argon2Params::MIN), c.clone().map(|()| Vec::new()));
    assert_eq!(
        v.import_sealed_room(&fixture("owner-v1.sealed.hex"), FIXTURE_PASSWORD, &relay(1)),
        c.clone().map(|()| Vec::new())
    );
    let (owner, member) = lived_room(16);
    assert_eq!(v.put_owner(&owner, &relay(1)), c);
    assert_eq!(v.put_member(&member, &relay(1)), c);
    assert_eq!(v.relay(&[1; 16]), c.clone().map(|()| None));
    assert_eq!(VaultError::Closed.error_code(), code::CLOSED);
    v.close();
    assert!(v.is_closed());
    // What was saved before still opens.
    assert_eq!(open(&blob, PASS).unwrap().rooms().unwrap().len(), 3);
}

#[test]
fn debug_shows_no_key_and_no_pickle() {
    let (owner, _) = lived_room(17);
    let mut v = new_vault(18);
    v.put_owner(&owner, &relay(1)).unwrap();
    let key_hex = hex::encode(v.inner().unwrap().key.expose());
    let shown = format!("{v:?} {:?} {:?}", v.inner().unwrap().key, v.room(&owner.room_id()).unwrap());
    let pickle = owner.pickle();
    assert!(!shown.contains(&key_hex), "{shown}");
    assert!(!shown.contains(&hex::encode(&pickle[..32])), "{shown}");
    assert!(!shown.contains(&format!("{:?}", &pickle[..8])), "{shown}");
    assert!(shown.contains("redacted"), "{shown}");
}

#[test]
fn the_public_types_are_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<Vault>();
    both::<VaultError>();
    both::<RoomEntry>();
    both::<VaultOptions>();
    both::<RoomKind>();
}

#[test]
fn every_error_has_a_code_in_the_table() {
    let all = [
        VaultError::WrongPassphrase,
        VaultError::Malformed("x".into()),
        VaultError::UnsupportedVersion(2),
        VaultError::Argon2Params { m_cost_kib: 1, t_cost: 1, p_cost: 1 },
        VaultError::WeakKdf { m_cost_kib: 1, t_cost: 1, p_cost: 1 },
        VaultError::Closed,
        VaultError::NoSuchRoom,
        VaultError::RoomExists,
        VaultError::InvalidArgument("x".into()),
        VaultError::Random("x".into()),
        VaultError::State(zfc_core::Error::State(StateError::WrongKind)),
    ];
    let codes: Vec<u32> = all.iter().map(ErrorCode::error_code).collect();
    assert_eq!(codes, [300, 301, 302, 304, 305, 5, 228, 229, 3, 98, 303]);
    for e in &all {
        assert!(code::entry(e.error_code()).is_some(), "{e:?}");
        assert!(!e.to_string().is_empty());
    }
}

/// Information only (run with `--nocapture`): what a save costs. No assertion on time.
#[test]
fn what_a_save_costs() {
    let rooms = four_rooms();
    let mut v = filled(19, &rooms);
    let blob = v.seal().unwrap();
    let (id, kind, relay, pickle) = &rooms[0];
    let n = 200u32;
    let t = std::time::Instant::now();
    for _ in 0..n {
        v.put_room(id, *kind, relay, pickle).unwrap();
        let _ = v.seal().unwrap();
    }
    let per = t.elapsed() / n;
    let sizes: Vec<usize> = rooms.iter().map(|r| r.3.len()).collect();
    println!("one save (one of 4 rooms changed, pickles {sizes:?} bytes, vault {} bytes): {per:?}", blob.len());
}
