//! Membership work in rooms of 10 to 10 000 members: a removal with its key rotation (the
//! owner's cost, one member's cost, the commit's bytes, state per member) and the join handshake
//! (the newcomer alone, and owner, newcomer and relay together). OpenMLS's figures for the same
//! groups come from `benches/openmls.rs` in the same run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zfc_bench::facts;
use zfc_bench::net::{NOW, Net, Party, deliver, rss_bytes, submitted_frame};
use zfc_core::{HistoryPolicy, Member, Owner, RoomConfig};

/// The member every removal removes (a joiner that left the process after joining).
const REMOVED: u32 = 1;

fn config() -> RoomConfig {
    RoomConfig::builder().auto_approve(true).history_policy(HistoryPolicy::SinceLastEpoch).build().unwrap()
}

/// A room of `n` members (owner included) whose last member is kept: returns the network and the
/// kept member's connection.
fn room_of(n: usize) -> (Net, u64) {
    let mut net = Net::new(config(), n as u64).unwrap();
    net.grow_to(n - 1).unwrap();
    let kept = net.join().unwrap();
    assert_eq!(net.owner().roster().len(), n);
    (net, kept)
}

fn rotation(c: &mut Criterion) {
    if std::env::var_os("ZFC_BENCH_ONLY_JOIN").is_some() {
        return;
    }
    let sizes = facts::room_sizes(&[10, 100, 1000, 10_000]);
    for n in sizes {
        let before = rss_bytes();
        let t = Instant::now();
        let (mut net, kept) = room_of(n);
        let built_in = t.elapsed();
        facts::record(&format!("zfc/room/{n}/rss_growth"), rss_bytes().saturating_sub(before) as f64, "B");
        eprintln!("room of {n} built in {built_in:?}");
        let room_id = net.owner().room_id();
        let seq = net.relay.next_seq(&room_id).unwrap();
        let owner_blob = net.owner().pickle();
        let Some(Party::Member(member)) = net.drop_party(kept) else { panic!("kept member vanished") };
        let member_blob = member.pickle();
        facts::record(&format!("zfc/state/owner/{n}/bytes"), owner_blob.len() as f64, "B");
        facts::record(&format!("zfc/state/member/{n}/bytes"), member_blob.len() as f64, "B");
        let epoch = net.owner().epoch();

        // One commit, made once, for the member's side.
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let out = net.owner().remove(REMOVED, &mut rng).unwrap();
        let commit = submitted_frame(&out.to_relay.last().unwrap().bytes).unwrap();
        facts::record(&format!("zfc/commit_remove/{n}/bytes"), commit.len() as f64, "B");
        let commit_delivery = deliver(room_id, seq, commit);

        let mut g = zfc_bench::group(c, "rotation_owner", 10, Duration::from_secs(if n >= 10_000 { 15 } else { 3 }));
        g.bench_function(BenchmarkId::new("zfc_remove", n), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut owner = Owner::unpickle(&owner_blob).unwrap();
                    // A restored owner holds its requests until it is connected.
                    owner.on_connected(zfc_core::ChannelBinding::from_bytes([0; 32]));
                    let t = Instant::now();
                    let out = owner.remove(REMOVED, &mut rng).unwrap();
                    let frame = submitted_frame(&out.to_relay.last().unwrap().bytes).unwrap();
                    total += t.elapsed();
                    let echo = deliver(room_id, seq, frame);
                    let t = Instant::now();
                    let _ = owner.handle(&echo, NOW, &mut rng).unwrap();
                    total += t.elapsed();
                    assert_eq!(owner.epoch(), epoch + 1, "the owner did not apply its own commit");
                    drop(black_box(owner));
                }
                total
            })
        });
        g.finish();

        let mut g = zfc_bench::group(c, "rotation_member", 10, Duration::from_secs(3));
        g.bench_function(BenchmarkId::new("zfc_remove", n), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut member = Member::unpickle(&member_blob).unwrap();
                    let t = Instant::now();
                    let _ = member.handle(&commit_delivery, &mut rng).unwrap();
                    total += t.elapsed();
                    assert_eq!(member.phase().epoch(), Some(epoch + 1), "the member did not follow the commit");
                    drop(black_box(member));
                }
                total
            })
        });
        g.finish();
    }
}

fn join(c: &mut Criterion) {
    for n in facts::room_sizes(&[10, 100, 1000]) {
        let (mut net, kept) = room_of(n);
        // Only the newcomer's calls count as members' time.
        net.drop_party(kept);
        // Each timed join is undone by removing the newcomer, untimed, so the room stays at n.
        let join_once = |net: &mut Net| {
            net.take_times();
            let conn = net.join().unwrap();
            let times = net.take_times();
            let newcomer = net.member(conn).unwrap().phase().member().unwrap();
            net.drop_party(conn);
            net.by_owner(|o, rng| o.remove(newcomer, rng)).unwrap();
            assert_eq!(net.owner().roster().len(), n);
            times
        };
        let mut g = zfc_bench::group(c, "join_welcome", 10, Duration::from_secs(2));
        g.bench_function(BenchmarkId::new("zfc", n), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| join_once(&mut net).members).sum())
        });
        g.finish();
        let mut g = zfc_bench::group(c, "join_handshake", 10, Duration::from_secs(2));
        g.bench_function(BenchmarkId::new("zfc", n), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let t = join_once(&mut net);
                        t.owner + t.members + t.relay
                    })
                    .sum()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, rotation, join);
criterion_main!(benches);
