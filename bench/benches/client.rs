//! The save cost of the client's sealed state (spec §17.7): 1 000 sends of a 64-byte chat line by a
//! member, without saving and with the save a client makes before each send's request may leave
//! (`Vault::put_member` + `Vault::seal`, the vault holding that room and 9 rooms that do not
//! change), in one run; and one `Vault::open` with `Argon2Params::DEFAULT`, what every save would
//! cost if it derived the key. Beside them, the same 1 000 sends through the whole facade
//! (`Client::send_text`, then the app's loop: the save written and confirmed, the record sealed
//! on the link and handed out), so the facade's own cost shows against the floor.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zfc_bench::facts;
use zfc_bench::net::{Net, Party};
use zfc_client::RelayAddress;
use zfc_client::vault::{RoomKind, Vault, VaultOptions};
use zfc_core::pickle::Argon2Params;
use zfc_core::{Member, RoomConfig};

/// Sends per timed iteration.
const SENDS: usize = 1_000;
/// Rooms in the vault besides the one that sends; none of them changes.
const OTHER_ROOMS: u64 = 9;
/// A typical chat line.
const LINE: [u8; 64] = [0x61; 64];
const PASS: &[u8] = b"a passphrase";

/// A member of a room of two (the owner and it), out of the network: its sends go nowhere. The
/// room's default configuration (default padding), as a client has it.
fn member_of_room(seed: u64) -> Member {
    let config = RoomConfig::builder().auto_approve(true).build().unwrap();
    let mut net = Net::new(config, seed).unwrap();
    let conn = net.join().unwrap();
    let Some(Party::Member(member)) = net.drop_party(conn) else { panic!("the member vanished") };
    assert!(member.is_joined());
    *member
}

fn save_cost(c: &mut Criterion) {
    let mut member = member_of_room(1);
    // Every room on the local relay, as the reference relay's default address and a fixed key.
    let relay = RelayAddress::new("ws://127.0.0.1:5103", &[0x52; 32]).unwrap();
    // The vault a client would have: sealed with the default parameters (one Argon2id run here,
    // untimed; saves never run it again).
    let mut vault = Vault::create(PASS, Argon2Params::DEFAULT, VaultOptions::default()).unwrap();
    for seed in 2..2 + OTHER_ROOMS {
        vault.put_member(&member_of_room(seed), &relay).unwrap();
    }
    vault.put_member(&member, &relay).unwrap();
    let mut blob = vault.seal().unwrap();
    assert_eq!(vault.rooms().unwrap().len(), 1 + OTHER_ROOMS as usize);
    facts::record("zfc/vault/rooms_10/bytes", blob.len() as f64, "B");
    facts::record("zfc/vault/member_pickle/bytes", member.pickle().len() as f64, "B");

    let mut g = zfc_bench::group(c, "save_cost", 10, Duration::from_secs(4));
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    g.bench_function("send_1000", |b| {
        b.iter(|| {
            let mut requests = 0;
            for _ in 0..SENDS {
                requests += black_box(member.send(black_box(&LINE), &mut rng).unwrap()).to_relay.len();
            }
            assert_eq!(requests, SENDS);
        })
    });
    g.bench_function("send_1000_saved", |b| {
        b.iter(|| {
            let before = vault.generation().unwrap();
            let mut requests = 0;
            for _ in 0..SENDS {
                let out = member.send(black_box(&LINE), &mut rng).unwrap();
                // Before the request may leave: the state that spent its sequence number, sealed.
                vault.put_member(&member, &relay).unwrap();
                blob = vault.seal().unwrap();
                requests += black_box(out).to_relay.len();
            }
            assert_eq!(requests, SENDS);
            assert_eq!(vault.generation().unwrap(), before + SENDS as u64);
            assert!(!vault.has_unsaved_changes().unwrap());
        })
    });

    // About 0.13 s an iteration in a release build (64 MiB, t = 3, one lane): 10 flat samples
    // of a few runs each.
    g.measurement_time(Duration::from_secs(5));
    let generation = vault.generation().unwrap();
    let pickle = member.pickle();
    g.bench_function("argon2_default", |b| {
        b.iter(|| {
            // The vault the saves above left: every room there, the sender's latest state in it.
            let opened = Vault::open(black_box(&blob), PASS, VaultOptions::default()).unwrap();
            assert_eq!(opened.params().unwrap(), Argon2Params::DEFAULT);
            assert_eq!(opened.rooms().unwrap().len(), 1 + OTHER_ROOMS as usize);
            assert_eq!(opened.generation().unwrap(), generation);
            let room = opened.room(&member.room_id()).unwrap().unwrap();
            assert_eq!((room.kind, room.pickle.as_slice()), (RoomKind::Member, pickle.as_slice()));
            assert_eq!(room.relay, relay);
        })
    });
    g.finish();
}

/// 1 000 sends through `Client` on a joined, connected room (the simulated relay, not timed,
/// answers nothing during the run: only the sender's side is measured).
fn facade(c: &mut Criterion) {
    use zfc_client::sim::{self, Network};
    use zfc_client::{RoomSettings, Transmit};
    let mut net = Network::new(zfc_core::relay::RelayConfig::default(), 3);
    let relay = net.address().unwrap();
    let (owner, member) = (net.add(sim::config(1, false)).unwrap(), net.add(sim::config(2, false)).unwrap());
    let settings = RoomSettings { auto_approve: true, ..RoomSettings::default() };
    let room = net.client(owner).unwrap().create_room(&relay, settings).unwrap();
    net.run().unwrap();
    let invite = net.client(owner).unwrap().invite(&room, 3600).unwrap();
    net.run().unwrap();
    net.client(member).unwrap().join_room(&invite, "bench").unwrap();
    net.run().unwrap();
    let client = net.client(member).unwrap();
    assert_eq!(client.room_info(&room).unwrap().member, Some(1));
    let line = std::str::from_utf8(&LINE).unwrap();

    let mut g = zfc_bench::group(c, "save_cost", 10, Duration::from_secs(4));
    g.bench_function("client_send_1000", |b| {
        b.iter(|| {
            let mut records = 0;
            for _ in 0..SENDS {
                client.send_text(&room, black_box(line)).unwrap();
                while let Some(save) = client.poll_save().unwrap() {
                    black_box(&save.bytes);
                    client.state_saved(save.generation).unwrap();
                }
                while let Some(t) = client.poll_transmit().unwrap() {
                    records += usize::from(matches!(black_box(t), Transmit::Send { .. }));
                }
            }
            assert_eq!(records, SENDS, "every send handed out one record");
        })
    });
    g.finish();
}

criterion_group!(benches, save_cost, facade);
criterion_main!(benches);
