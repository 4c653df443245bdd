//! The relay's work per message and per delivery: the rule book handling one 256-byte room
//! message in a room of 100 members, all online (decode, checks with one strict Ed25519
//! verification, log append, 100 deliveries encoded) against the verification alone; and one
//! delivery sealed into a link record against one AEAD seal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zfc_bench::net::{NOW, Net, Party};
use zfc_core::link::{self, ClientHandshake, RelayKey};
use zfc_core::{HistoryPolicy, RoomConfig};

const MEMBERS: usize = 100;
const CHUNK: u64 = 256;

fn relay(c: &mut Criterion) {
    let config = RoomConfig::builder()
        .auto_approve(true)
        .history_policy(HistoryPolicy::SinceLastEpoch)
        .rotate_every(u32::MAX)
        .build()
        .unwrap();
    let mut net = Net::new(config, 13).unwrap();
    let conns: Vec<u64> = (1..MEMBERS).map(|_| net.join().unwrap()).collect();
    // Everyone stays connected and subscribed at the relay; the benchmark calls the rule book
    // directly, so what it sends is dropped unread.
    let sender_conn = conns[0];
    let Some(Party::Member(mut sender)) = net.detach(sender_conn) else { panic!("no sender") };
    let mut rng = ChaCha20Rng::seed_from_u64(2);

    let mut g = zfc_bench::group(c, "relay_message_100", 30, Duration::from_secs(3));
    let probe = sender.send(&[0u8; 256], &mut rng).unwrap();
    let signed_len = zfc_bench::net::signed_len(&zfc_bench::net::submitted_frame(&probe.to_relay[0].bytes).unwrap());
    let key = SigningKey::generate(&mut rng);
    let signed = vec![1u8; signed_len];
    let sig = key.sign(&signed);
    let vk = key.verifying_key();
    g.bench_function("floor_verify", |b| b.iter(|| vk.verify_strict(black_box(&signed), &sig).unwrap()));
    g.bench_function("zfc_rulebook", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let n = CHUNK.min(iters - done);
                done += n;
                let requests: Vec<Vec<u8>> =
                    (0..n).map(|_| sender.send(&[0u8; 256], &mut rng).unwrap().to_relay.remove(0).bytes).collect();
                let t = Instant::now();
                for req in requests {
                    let (out, entry) = net.relay.handle_durable(sender_conn, &req, NOW).unwrap();
                    assert!(out.len() == MEMBERS + 1 && entry.is_some(), "not delivered to every member");
                    black_box((out, entry));
                }
                total += t.elapsed();
            }
            total
        })
    });
    g.finish();
}

/// One delivery (a 256-byte message inside the relay's Deliver, 428 bytes) sealed into a link
/// record, the relay's cryptographic work per delivered copy, against one ChaCha20-Poly1305 seal
/// of the same bytes.
fn link_record(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let key = RelayKey::generate(&mut rng);
    let (handshake, first) = ClientHandshake::start(&key.public(), &mut rng).unwrap();
    let (mut relay_end, answer) = link::respond(&key, &first, &mut rng).unwrap();
    let _client_end = handshake.finish(&answer).unwrap();
    let delivery = vec![0x5a_u8; 428];
    let aead = ChaCha20Poly1305::new_from_slice(&[7; 32]).unwrap();
    let mut g = zfc_bench::group(c, "link_record_428", 30, Duration::from_secs(2));
    g.bench_function("floor_chacha20poly1305", |b| {
        b.iter(|| aead.encrypt(&Nonce::from([0; 12]), black_box(delivery.as_slice())).unwrap())
    });
    g.bench_function("zfc_link_seal", |b| b.iter(|| relay_end.seal(black_box(&delivery)).unwrap()));
    g.finish();
}

criterion_group!(benches, relay, link_record);
criterion_main!(benches);
