//! One room message, sent and received, against the floor of the primitives it uses (one Ed25519
//! signature with ed25519-dalek 3 + one XChaCha20-Poly1305 seal; one strict verification + one
//! open) and against vodozemac's Megolm encrypt/decrypt of the same content, in one run. Also the
//! bytes on the wire of a 256-byte message, field by field.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use vodozemac::megolm::{GroupSession, InboundGroupSession, MegolmMessage, SessionConfig};
use zfc_bench::facts;
use zfc_bench::net::{Net, Party, deliver, submitted_frame};
use zfc_core::{Event, Padding, RoomConfig};

const SIZES: [usize; 3] = [64, 1024, 64 * 1024];
/// Messages prepared (untimed) per timed stretch, so 64 KiB runs stay within memory.
const CHUNK: u64 = 128;

/// The bytes zfc signs besides the content: label, separator, version, kind, room id, epoch,
/// sender, sequence number, nonce, ciphertext length, plaintext length prefix, tag.
const SIGNED_OVERHEAD: usize = 14 + 1 + 1 + 1 + 16 + 4 + 4 + 4 + 24 + 4 + 4 + 16;

/// A room with the sender and the receiver as members, no padding (padding is a cost of its own,
/// reported apart).
fn room(padding: Padding) -> (Net, u64, u64) {
    let config = RoomConfig::builder().auto_approve(true).padding(padding.clone()).build().unwrap();
    let mut net = Net::new(config, 7).unwrap();
    let a = net.join().unwrap();
    let b = net.join().unwrap();
    net.member(a).unwrap().set_padding(padding.clone());
    net.member(b).unwrap().set_padding(padding);
    (net, a, b)
}

fn send(c: &mut Criterion) {
    let mut g = c.benchmark_group("message_send");
    g.sample_size(30).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let sign_key = SigningKey::generate(&mut rng);
    let aead = XChaCha20Poly1305::new_from_slice(&[7u8; 32]).unwrap();
    for size in SIZES {
        g.throughput(Throughput::Bytes(size as u64));
        let content = vec![0x5au8; size];
        g.bench_with_input(BenchmarkId::new("floor", size), &size, |b, _| {
            let signed = vec![1u8; size + SIGNED_OVERHEAD];
            b.iter(|| {
                let ct = aead.encrypt(&XNonce::from([3u8; 24]), Payload { msg: &content, aad: &[0u8; 30] }).unwrap();
                let sig = sign_key.sign(black_box(&signed));
                black_box((ct, sig))
            })
        });
        let (mut net, a, _) = room(Padding::none());
        g.bench_with_input(BenchmarkId::new("zfc", size), &size, |b, _| {
            let mut rng = ChaCha20Rng::seed_from_u64(2);
            b.iter(|| black_box(net.member(a).unwrap().send(&content, &mut rng).unwrap()))
        });
        let (mut net, a, _) = room(Padding::default());
        g.bench_with_input(BenchmarkId::new("zfc_padded", size), &size, |b, _| {
            let mut rng = ChaCha20Rng::seed_from_u64(2);
            b.iter(|| black_box(net.member(a).unwrap().send(&content, &mut rng).unwrap()))
        });
        let mut session = GroupSession::new(SessionConfig::version_1());
        g.bench_with_input(BenchmarkId::new("megolm", size), &size, |b, _| {
            b.iter(|| black_box(session.encrypt(&content)))
        });
    }
    g.finish();
}

/// Times `receive` over `iters` messages made by `make`, in untimed chunks.
fn timed_chunks<T>(iters: u64, mut make: impl FnMut(u64) -> Vec<T>, mut receive: impl FnMut(T)) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let batch = make(CHUNK.min(iters - done));
        done += batch.len() as u64;
        let t = Instant::now();
        for m in batch {
            receive(m);
        }
        total += t.elapsed();
    }
    total
}

fn receive(c: &mut Criterion) {
    let mut g = c.benchmark_group("message_receive");
    g.sample_size(30).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let sign_key = SigningKey::generate(&mut rng);
    let verifying_key = sign_key.verifying_key();
    let aead = XChaCha20Poly1305::new_from_slice(&[7u8; 32]).unwrap();
    for size in SIZES {
        g.throughput(Throughput::Bytes(size as u64));
        let content = vec![0x5au8; size];
        g.bench_with_input(BenchmarkId::new("floor", size), &size, |b, _| {
            let signed = vec![1u8; size + SIGNED_OVERHEAD];
            let sig = sign_key.sign(&signed);
            let nonce = &XNonce::from([3u8; 24]);
            let ct = aead.encrypt(nonce, Payload { msg: &content, aad: &[0u8; 30] }).unwrap();
            b.iter(|| {
                verifying_key.verify_strict(black_box(&signed), &sig).unwrap();
                black_box(aead.decrypt(nonce, Payload { msg: &ct, aad: &[0u8; 30] }).unwrap())
            })
        });
        for (name, padding) in [("zfc", Padding::none()), ("zfc_padded", Padding::default())] {
            let (mut net, a, r) = room(padding);
            let room_id = net.owner().room_id();
            let mut next_seq = net.relay.next_seq(&room_id).unwrap();
            let (Some(Party::Member(mut sender)), Some(Party::Member(mut receiver))) =
                (net.drop_party(a), net.drop_party(r))
            else {
                panic!("members vanished")
            };
            let mut send_rng = ChaCha20Rng::seed_from_u64(3);
            let mut rng = ChaCha20Rng::seed_from_u64(4);
            g.bench_with_input(BenchmarkId::new(name, size), &size, |b, _| {
                b.iter_custom(|iters| {
                    timed_chunks(
                        iters,
                        |n| {
                            (0..n)
                                .map(|_| {
                                    let out = sender.send(&content, &mut send_rng).unwrap();
                                    let frame = submitted_frame(&out.to_relay[0]).unwrap();
                                    next_seq += 1;
                                    deliver(room_id, next_seq - 1, frame)
                                })
                                .collect()
                        },
                        |bytes| {
                            let out = receiver.handle(&bytes, zfc_bench::net::NOW, &mut rng).unwrap();
                            assert!(matches!(out.events.first(), Some(Event::Message(m)) if m.content.len() == size));
                        },
                    )
                })
            });
        }
        let mut outbound = GroupSession::new(SessionConfig::version_1());
        let mut inbound = InboundGroupSession::new(&outbound.session_key(), SessionConfig::version_1());
        g.bench_with_input(BenchmarkId::new("megolm", size), &size, |b, _| {
            b.iter_custom(|iters| {
                timed_chunks(
                    iters,
                    |n| (0..n).map(|_| outbound.encrypt(&content).to_bytes()).collect(),
                    |bytes: Vec<u8>| {
                        let msg = MegolmMessage::from_bytes(&bytes).unwrap();
                        black_box(inbound.decrypt(&msg).unwrap());
                    },
                )
            })
        });
    }
    g.finish();
}

/// The bytes of one 256-byte message, field by field, checked against the encoder.
fn wire_bytes(_: &mut Criterion) {
    let fields: [(&str, usize); 12] = [
        ("version", 1),
        ("kind", 1),
        ("room_id", 16),
        ("epoch", 4),
        ("sender", 4),
        ("seq", 4),
        ("nonce", 24),
        ("ciphertext_length", 4),
        ("plaintext_length_prefix", 4),
        ("content", 256),
        ("aead_tag", 16),
        ("signature", 64),
    ];
    let (mut net, a, _) = room(Padding::none());
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let out = net.member(a).unwrap().send(&[0u8; 256], &mut rng).unwrap();
    let frame = submitted_frame(&out.to_relay[0]).unwrap();
    let sum: usize = fields.iter().map(|(_, n)| n).sum();
    assert_eq!(
        sum,
        frame.len(),
        "the field table does not add up to the encoded frame ({} requests)",
        out.to_relay.len()
    );
    for (name, n) in fields {
        facts::record(&format!("zfc/message_256/field/{name}"), n as f64, "B");
    }
    facts::record("zfc/message_256/bytes", frame.len() as f64, "B");
    let room_id = net.owner().room_id();
    facts::record("zfc/message_256/deliver_bytes", deliver(room_id, 1, frame).len() as f64, "B");
    let (mut net, a, _) = room(Padding::default());
    let out = net.member(a).unwrap().send(&[0u8; 256], &mut rng).unwrap();
    facts::record("zfc/message_256/padded_bytes", submitted_frame(&out.to_relay[0]).unwrap().len() as f64, "B");
    let mut session = GroupSession::new(SessionConfig::version_1());
    facts::record("megolm/message_256/bytes", session.encrypt([0u8; 256]).to_bytes().len() as f64, "B");
}

criterion_group!(benches, send, receive, wire_bytes);
criterion_main!(benches);
