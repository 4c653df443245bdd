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

/// The AEAD's associated data: the message header (version, kind, room id, epoch, sender, seq).
const AAD: [u8; 30] = [0; 30];

/// A room with the sender and the receiver as members, no padding (padding is a cost of its own,
/// reported apart).
fn room(padding: Padding) -> (Net, u64, u64) {
    let config = RoomConfig::builder().auto_approve(true).padding(padding.clone()).build().unwrap();
    let mut net = Net::new(config, 7).unwrap();
    let a = net.join().unwrap();
    let b = net.join().unwrap();
    for id in [a, b] {
        let m = net.member(id).unwrap();
        m.reconfigure(m.config().to_builder().padding(padding.clone()).build().unwrap());
    }
    (net, a, b)
}

/// The bytes zfc's signature covers for `size` bytes of unpadded content, from a real frame.
fn signed_len(size: usize) -> usize {
    let (mut net, a, _) = room(Padding::none());
    let out = net.member(a).unwrap().send(&vec![0; size], &mut ChaCha20Rng::seed_from_u64(0)).unwrap();
    zfc_bench::net::signed_len(&submitted_frame(&out.to_relay[0].bytes).unwrap())
}

fn send(c: &mut Criterion) {
    let mut g = zfc_bench::group(c, "message_send", 30, Duration::from_secs(2));
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let sign_key = SigningKey::generate(&mut rng);
    let aead = XChaCha20Poly1305::new_from_slice(&[7u8; 32]).unwrap();
    for size in SIZES {
        g.throughput(Throughput::Bytes(size as u64));
        let content = vec![0x5au8; size];
        g.bench_with_input(BenchmarkId::new("floor", size), &size, |b, _| {
            let signed = vec![1u8; signed_len(size)];
            b.iter(|| {
                let ct = aead.encrypt(&XNonce::from([3u8; 24]), Payload { msg: &content, aad: &AAD }).unwrap();
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
    let mut g = zfc_bench::group(c, "message_receive", 30, Duration::from_secs(2));
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let sign_key = SigningKey::generate(&mut rng);
    let verifying_key = sign_key.verifying_key();
    let aead = XChaCha20Poly1305::new_from_slice(&[7u8; 32]).unwrap();
    for size in SIZES {
        g.throughput(Throughput::Bytes(size as u64));
        let content = vec![0x5au8; size];
        g.bench_with_input(BenchmarkId::new("floor", size), &size, |b, _| {
            let signed = vec![1u8; signed_len(size)];
            let sig = sign_key.sign(&signed);
            let nonce = &XNonce::from([3u8; 24]);
            let ct = aead.encrypt(nonce, Payload { msg: &content, aad: &AAD }).unwrap();
            b.iter(|| {
                verifying_key.verify_strict(black_box(&signed), &sig).unwrap();
                black_box(aead.decrypt(nonce, Payload { msg: &ct, aad: &AAD }).unwrap())
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
                                    let frame = submitted_frame(&out.to_relay[0].bytes).unwrap();
                                    next_seq += 1;
                                    deliver(room_id, next_seq - 1, frame)
                                })
                                .collect()
                        },
                        |bytes| {
                            let out = receiver.handle(&bytes, &mut rng).unwrap();
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
    let frame = submitted_frame(&out.to_relay[0].bytes).unwrap();
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
    facts::record("zfc/message_256/padded_bytes", submitted_frame(&out.to_relay[0].bytes).unwrap().len() as f64, "B");
    let mut session = GroupSession::new(SessionConfig::version_1());
    facts::record("megolm/message_256/bytes", session.encrypt([0u8; 256]).to_bytes().len() as f64, "B");
}

/// One signature check three ways: with the key already parsed (the floor above), parsing the
/// 32-byte key first (what a receiver does when it keeps keys as bytes), and as one of a batch of
/// 64 (`verify_batch`, the lever for history). Figures for `BENCHMARKS.md`'s analysis.
fn verification(c: &mut Criterion) {
    const BATCH: usize = 64;
    let mut g = zfc_bench::group(c, "verification", 30, Duration::from_secs(2));
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let keys: Vec<SigningKey> = (0..BATCH).map(|_| SigningKey::generate(&mut rng)).collect();
    let msgs: Vec<Vec<u8>> = (0..BATCH).map(|i| vec![i as u8; signed_len(256)]).collect();
    let sigs: Vec<ed25519_dalek::Signature> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
    let vks: Vec<ed25519_dalek::VerifyingKey> = keys.iter().map(SigningKey::verifying_key).collect();
    let pk_bytes = vks[0].to_bytes();
    g.bench_function("strict", |b| b.iter(|| vks[0].verify_strict(black_box(&msgs[0]), &sigs[0]).unwrap()));
    g.bench_function("parse_key_and_strict", |b| {
        b.iter(|| {
            let vk = ed25519_dalek::VerifyingKey::from_bytes(black_box(&pk_bytes)).unwrap();
            vk.verify_strict(&msgs[0], &sigs[0]).unwrap()
        })
    });
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function(BenchmarkId::new("batch", BATCH), |b| {
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        b.iter(|| ed25519_dalek::verify_batch(black_box(&refs), &sigs, &vks).unwrap())
    });
    g.finish();
}

criterion_group!(benches, send, receive, wire_bytes, verification);
criterion_main!(benches);
