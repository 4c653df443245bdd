//! Every refusal of the facade's calls: its stable code (the number C, Python and Kotlin report)
//! and its group, and that the refused call changed nothing (no save, no record, no event).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Net, config};
use zfc_client::{Client, ClientConfig, ClientEvent, Error, ErrorGroup, RelayAddress, RoomSettings};
use zfc_core::relay::RelayConfig;

/// Asserts `got` failed with the code named `name` and in `group`.
#[track_caller]
fn refused<T: std::fmt::Debug>(got: Result<T, Error>, name: &str, group: ErrorGroup) {
    let e = got.expect_err("the call must fail");
    assert_eq!(e.name(), Some(name), "{e:?}");
    assert_eq!(zfc_core::code::code_name(e.code()), Some(name), "the code is the table's");
    assert_eq!(e.group(), group, "{e:?}");
}

/// Nothing is waiting to be saved, sent or shown.
#[track_caller]
fn quiet(client: &Client) {
    assert!(client.poll_save().unwrap().is_none(), "a refused call saved nothing");
    assert!(client.poll_transmit().unwrap().is_none(), "a refused call sent nothing");
    assert!(client.poll_event().unwrap().is_none(), "a refused call said nothing");
}

/// A room of alice's with bob in it, carol removed, everything settled.
fn settled() -> (Net, Vec<u8>, String) {
    let mut net = Net::new(RelayConfig::default());
    let relay = net.address();
    let (alice, bob, carol) = (net.add(config(1, false)), net.add(config(2, false)), net.add(config(3, false)));
    let room =
        net.client(alice).create_room(&relay, RoomSettings { auto_approve: true, ..Default::default() }).unwrap();
    net.run();
    let invite = net.client(alice).invite(&room, 3600).unwrap();
    for (peer, name) in [(bob, "bob"), (carol, "carol")] {
        let invite = net.client(alice).invite(&room, 3600).unwrap();
        net.client(peer).join_room(&invite, name).unwrap();
        net.run();
    }
    net.client(alice).remove_member(&room, 2).unwrap();
    net.run();
    for p in [alice, bob, carol] {
        net.take(p);
    }
    (net, room, invite)
}

#[test]
fn room_calls_refuse_with_the_shared_codes_and_change_nothing() {
    let (mut net, room, invite) = settled();
    let (alice, bob, carol) = (net.client(0), net.client(1), net.client(2));
    for c in [alice, bob, carol] {
        quiet(c);
    }
    use ErrorGroup::{ApiMisuse, Invite, RoomGone};

    refused(alice.room_info(&[1, 2, 3]), "INVALID_ARGUMENT", ApiMisuse);
    refused(alice.room_info(&[0; 16]), "NO_SUCH_ROOM", ApiMisuse);
    refused(alice.send_text(&[0; 16], "x"), "NO_SUCH_ROOM", ApiMisuse);
    refused(bob.invite(&room, 60), "NOT_OWNER", ApiMisuse);
    refused(bob.remove_member(&room, 0), "NOT_OWNER", ApiMisuse);
    refused(alice.update_key(&room), "INVALID_ARGUMENT", ApiMisuse);
    refused(alice.approve_join(&room, &[5; 32]), "NO_SUCH_JOIN", ApiMisuse);
    refused(alice.approve_join(&room, &[5; 3]), "INVALID_ARGUMENT", ApiMisuse);
    refused(alice.fingerprint(&room, 99), "NO_SUCH_MEMBER", ApiMisuse);
    refused(bob.join_room(&invite, "again"), "ROOM_EXISTS", ApiMisuse);
    refused(bob.join_room("zfc://join?nonsense", "x"), "BAD_INVITE", Invite);
    refused(bob.send_text(&room, &"x".repeat(70_000)), "MESSAGE_TOO_LONG", ApiMisuse);
    refused(carol.send_text(&room, "still here?"), "REMOVED", RoomGone);
    refused(carol.leave(&room), "REMOVED", RoomGone);
    refused(alice.state_saved(1_000_000), "INVALID_ARGUMENT", ApiMisuse);
    refused(alice.handle_connected(424_242, 0), "INVALID_ARGUMENT", ApiMisuse);
    refused(alice.set_admission_token(&net.address(), &[1; 5]), "INVALID_ARGUMENT", ApiMisuse);
    refused(alice.change_passphrase(b"not it", b"new"), "WRONG_PASSWORD", ErrorGroup::LocalState);
    for c in [alice, bob, carol] {
        quiet(c);
    }

    // A deleted room takes nothing more.
    alice.delete_room(&room).unwrap();
    net.run();
    refused(net.client(0).invite(&room, 60), "ROOM_DELETED", RoomGone);
    refused(net.client(0).delete_room(&room), "ROOM_DELETED", RoomGone);
    refused(net.client(1).send_text(&room, "anyone?"), "ROOM_DELETED", RoomGone);
}

#[test]
fn opening_and_creating_refuse_with_the_shared_codes() {
    let weak = config(1, false);
    let client = Client::create(weak.clone(), b"pass").unwrap();
    let save = client.poll_save().unwrap().unwrap();
    refused(Client::open(weak.clone(), &save.bytes, b"wrong"), "WRONG_PASSWORD", ErrorGroup::LocalState);
    refused(Client::open(weak.clone(), b"not a state", b"pass"), "STATE_MALFORMED", ErrorGroup::LocalState);
    let mut cut = save.bytes.clone();
    cut.truncate(cut.len() / 2);
    refused(Client::open(weak.clone(), &cut, b"pass"), "STATE_MALFORMED", ErrorGroup::LocalState);
    let unsafe_kdf = ClientConfig { insecure_weak_kdf_for_tests: false, ..weak.clone() };
    refused(Client::create(unsafe_kdf, b"pass"), "WEAK_KDF", ErrorGroup::ApiMisuse);
    let bad_seed = ClientConfig { randomness: zfc_client::Randomness::SeededForTests { seed: vec![1; 3] }, ..weak };
    refused(Client::create(bad_seed, b"pass"), "INVALID_ARGUMENT", ErrorGroup::ApiMisuse);
    refused(RelayAddress::new("http://relay", &[1; 32]), "INVALID_ARGUMENT", ErrorGroup::ApiMisuse);
    refused(RelayAddress::new("ws://relay", &[1; 31]), "INVALID_ARGUMENT", ErrorGroup::ApiMisuse);
}

#[test]
fn a_closed_client_refuses_every_call_and_keeps_no_room() {
    let (net, room, _) = settled();
    let alice = net.client(0);
    alice.close();
    assert!(alice.is_closed());
    alice.close(); // twice is fine
    let closed = "CLOSED";
    use ErrorGroup::ApiMisuse;
    refused(alice.rooms(), closed, ApiMisuse);
    refused(alice.room_info(&room), closed, ApiMisuse);
    refused(alice.send_text(&room, "x"), closed, ApiMisuse);
    refused(alice.invite(&room, 60), closed, ApiMisuse);
    refused(alice.poll_save(), closed, ApiMisuse);
    refused(alice.poll_transmit(), closed, ApiMisuse);
    refused(alice.poll_event(), closed, ApiMisuse);
    refused(alice.handle_bytes(1, b"x", 0), closed, ApiMisuse);
    refused(alice.handle_timeout(0), closed, ApiMisuse);
    refused(alice.next_timeout(), closed, ApiMisuse);
    refused(alice.change_passphrase(b"pass", b"new"), closed, ApiMisuse);
    assert_eq!(format!("{alice:?}"), "Client { closed }");
}

/// Bytes a socket brings that the link or the protocol refuse drop that socket, never the
/// client: the app's call succeeds, a `Disconnected` follows, and the client dials again.
#[test]
fn junk_from_a_socket_drops_the_socket_not_the_client() {
    let (mut net, room, _) = settled();
    let bob = 1;
    // Bob's one socket is up (the client numbers sockets from 1); junk arrives on it.
    assert_eq!(net.sockets(bob), 1);
    let conn = 1;
    net.client(bob).handle_bytes(conn, &[0xff; 40], net.now_ms).unwrap();
    net.run();
    let ev = net.take(bob);
    assert!(ev.iter().any(|e| matches!(e, ClientEvent::Disconnected { .. })), "{ev:?}");
    net.advance(1_000);
    net.client(bob).send_text(&room, "back").unwrap();
    net.run();
    assert_eq!(net.texts(0, &room).last().map(String::as_str), Some("back"));
}

/// A room saved as a single-room sealed state (before this client existed) comes in once, with
/// its password; a wrong one changes nothing, a second import is refused.
#[test]
fn a_single_room_state_is_imported_once() {
    let mut net = Net::new(RelayConfig::default());
    let relay = net.address();
    let alice = net.add(config(1, false));
    let config = zfc_core::RoomConfig::builder().build().unwrap();
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(5);
    let (owner, _) = zfc_core::Owner::create(config, &mut rng);
    let blob = owner.seal_state(b"old pass", zfc_core::pickle::Argon2Params::MIN, &mut rng).unwrap();
    net.run();
    let client = net.client(alice);
    quiet(client);
    refused(client.import_room(&blob, b"wrong", &relay), "WRONG_PASSWORD", ErrorGroup::LocalState);
    quiet(client);
    let room = client.import_room(&blob, b"old pass", &relay).unwrap();
    assert_eq!(room, owner.room_id().to_vec());
    assert_eq!(client.room_info(&room).unwrap().role, zfc_client::RoomRole::Owner);
    refused(client.import_room(&blob, b"old pass", &relay), "ROOM_EXISTS", ErrorGroup::ApiMisuse);
    assert!(client.poll_save().unwrap().is_some(), "the imported room goes into the next save");
}

#[test]
fn a_manual_clock_nobody_has_set_sends_without_a_time_claim() {
    // Such a clock reads 0, and an envelope cannot claim 0; the send used to fail with
    // INVALID_ARGUMENT (found by the UniFFI smoke test, which sends before any `handle_*`).
    let client = Client::create(config(7, false), b"pass").unwrap();
    let relay = RelayAddress::new("ws://127.0.0.1:9/", &[1; 32]).unwrap();
    let room = client.create_room(&relay, RoomSettings::default()).unwrap();
    client.send_text(&room, "before any time").unwrap();
}
