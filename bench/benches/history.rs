//! A member decrypting a history of 10 000 messages across five epochs (what a member catching up
//! after a long absence does), against vodozemac's Megolm decrypting the same count across five
//! sessions, in one run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use vodozemac::megolm::{GroupSession, InboundGroupSession, MegolmMessage, SessionConfig, SessionKey};
use zfc_bench::facts;
use zfc_bench::net::{Net, Party};
use zfc_core::{Event, HistoryPolicy, Member, RoomConfig};

const MESSAGES: usize = 10_000;
const EPOCHS: usize = 5;
const CONTENT: usize = 256;

fn history(c: &mut Criterion) {
    let per_epoch = (MESSAGES / EPOCHS) as u32;
    let config = RoomConfig::builder()
        .auto_approve(true)
        .history_policy(HistoryPolicy::SinceLastEpoch)
        .rotate_every(per_epoch)
        .retained_epochs(EPOCHS as u32 + 2)
        .build()
        .unwrap();
    let mut net = Net::new(config, 11).unwrap();
    let sender = net.join().unwrap();
    let reader = net.join().unwrap();
    let Some(Party::Member(reader_state)) = net.detach(reader) else { panic!("reader vanished") };
    let blob = reader_state.pickle();
    let epoch_before = net.owner().epoch();
    for i in 0..MESSAGES {
        let mut content = vec![0u8; CONTENT];
        content[..8].copy_from_slice(&(i as u64).to_be_bytes());
        net.by_member(sender, |m, rng| m.send(&content, rng)).unwrap();
    }
    let epochs = net.owner().epoch() - epoch_before;
    let log = net.take_recorded(reader);
    facts::record("zfc/history/epochs", f64::from(epochs), "epochs");
    facts::record("zfc/history/deliveries", log.len() as f64, "messages");
    let check = |events: usize| assert_eq!(events, MESSAGES, "the reader did not read every message");

    let mut g = zfc_bench::group(c, "history_10k", 10, Duration::from_secs(8));
    g.throughput(Throughput::Elements(MESSAGES as u64));
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    g.bench_function("zfc", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut member = Member::unpickle(&blob).unwrap();
                let t = Instant::now();
                let mut read = 0;
                for bytes in &log {
                    let out = member.handle(bytes, &mut rng).unwrap();
                    read += out.events.iter().filter(|e| matches!(e, Event::Message(_))).count();
                }
                total += t.elapsed();
                check(read);
                drop(black_box(member));
            }
            total
        })
    });

    let mut sessions: Vec<(SessionKey, Vec<Vec<u8>>)> = Vec::new();
    for _ in 0..EPOCHS {
        let mut s = GroupSession::new(SessionConfig::version_1());
        let key = s.session_key();
        let msgs = (0..MESSAGES / EPOCHS).map(|_| s.encrypt([0u8; CONTENT]).to_bytes()).collect();
        sessions.push((key, msgs));
    }
    g.bench_function("megolm", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut inbound: Vec<InboundGroupSession> =
                    sessions.iter().map(|(k, _)| InboundGroupSession::new(k, SessionConfig::version_1())).collect();
                let t = Instant::now();
                let mut read = 0;
                for ((_, msgs), session) in sessions.iter().zip(inbound.iter_mut()) {
                    for bytes in msgs {
                        let msg = MegolmMessage::from_bytes(bytes).unwrap();
                        black_box(session.decrypt(&msg).unwrap());
                        read += 1;
                    }
                }
                total += t.elapsed();
                check(read);
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, history);
criterion_main!(benches);
