//! The load generator: R rooms of C clients, each sending 256-byte messages at a fixed offered
//! rate, in phases of rising rate; it reports messages in and deliveries out per second, latency
//! percentiles, losses, and the CPU and memory of the relay and of itself.
//!
//! Latency is measured from the sender's timestamp inside the plaintext to the moment a sampled
//! recipient has decrypted and verified the message; other recipients only count what arrives, so
//! that the generator's own work stays small next to the relay's.

use std::collections::HashMap;
use std::time::Duration;

use rand_chacha::ChaCha20Rng;
use tokio::time::Instant;
use zfc_core::relay::RelayMessage;
use zfc_core::{Event, HistoryPolicy};

use crate::client::{Link, Party};
use crate::conformance::Target;
use crate::conformance::flows::{Peer, create, join};

/// Size of every message's plaintext.
pub const MESSAGE_LEN: usize = 256;

/// The shape of a run.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Rooms.
    pub rooms: usize,
    /// Clients per room, the owner included.
    pub clients: usize,
    /// Recipients per room that decrypt and time every message.
    pub sampled: usize,
}

/// What one phase measured.
#[derive(Clone, Debug, Default)]
pub struct PhaseReport {
    /// Offered rate, messages per second over all clients.
    pub offered: f64,
    /// Seconds the phase sent for.
    pub seconds: f64,
    /// Messages the relay accepted (durably).
    pub accepted: u64,
    /// Messages refused.
    pub refused: u64,
    /// Deliveries counted by all recipients.
    pub deliveries: u64,
    /// Deliveries that never arrived after the drain time.
    pub lost: u64,
    /// Delivery latency percentiles (ms): p50, p99, max.
    pub latency_ms: (f64, f64, f64),
    /// How many deliveries the latency percentiles are taken over (sampled recipients' reads).
    pub latency_samples: usize,
    /// Acknowledgement latency percentiles (ms): p50, p99.
    pub ack_ms: (f64, f64),
    /// Relay CPU seconds during the phase (if its pid was given).
    pub relay_cpu: Option<f64>,
    /// Generator CPU seconds during the phase.
    pub own_cpu: f64,
}

impl PhaseReport {
    /// Accepted messages per second.
    pub fn msgs_per_sec(&self) -> f64 {
        self.accepted as f64 / self.seconds
    }
    /// Deliveries per second.
    pub fn deliveries_per_sec(&self) -> f64 {
        self.deliveries as f64 / self.seconds
    }
}

/// CPU seconds (user + system) of a process, from /proc.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = stat.rsplit_once(") ")?.1;
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

/// Peak resident memory (KiB) of a process, from /proc.
pub fn peak_rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

struct Client {
    party: Party,
    link: Link,
    rng: ChaCha20Rng,
    room: usize,
    /// This client's place among all clients, in [0, 1): where in each interval it sends, so
    /// that clients' sends spread evenly instead of arriving together.
    phase: f64,
    sampled: bool,
}

#[derive(Default)]
struct ClientStats {
    accepted: u64,
    refused: u64,
    deliveries: u64,
    latencies_us: Vec<u64>,
    ack_us: Vec<u64>,
}

/// Builds the rooms: each owner creates, the others join one by one.
pub async fn setup(t: &Target, shape: &Shape) -> Result<Vec<Vec<Peer>>, String> {
    let mut rooms = Vec::new();
    for _ in 0..shape.rooms {
        let mut owner = create(t, HistoryPolicy::SinceLastEpoch).await?;
        let mut peers = Vec::new();
        for i in 1..shape.clients {
            peers.push(join(t, &mut owner, &mut [], &format!("client {i}")).await?);
        }
        peers.insert(0, owner);
        rooms.push(peers);
    }
    // Everyone catches up with every commit before the load starts.
    for room in &mut rooms {
        for p in room.iter_mut() {
            p.s.sync(t.wait).await.map_err(|e| e.to_string())?;
            p.s.take_events();
        }
    }
    Ok(rooms)
}

fn content(start: Instant, k: u64) -> Vec<u8> {
    let us = start.elapsed().as_micros() as u64;
    let mut c = [us.to_be_bytes(), k.to_be_bytes()].concat();
    c.resize(MESSAGE_LEN, 0x2e);
    c
}

async fn drive_client(
    mut c: Client,
    start: Instant,
    phases: Vec<(f64, Duration)>,
    drain: Duration,
) -> (Client, Vec<ClientStats>) {
    let mut reports = Vec::new();
    let mut k = 0u64;
    // Every client switches phases at the same instants (those `run` samples CPU at): a copy sent
    // in a phase is then counted in that phase by every recipient, not in a neighbour's.
    let mut phase_start = start;
    for (rate, length) in phases {
        let mut st = ClientStats::default();
        let mut sent_at: HashMap<u32, Instant> = HashMap::new();
        let interval = if rate > 0.0 { Duration::from_secs_f64(1.0 / rate) } else { length };
        let stop_sending = phase_start + length;
        let stop = stop_sending + drain;
        let mut next_send = phase_start + interval.mul_f64(c.phase);
        phase_start = stop;
        loop {
            let now = Instant::now();
            if now >= stop {
                break;
            }
            if now >= next_send && now < stop_sending {
                k += 1;
                let body = content(start, k);
                let Ok(out) = c.party.send(&body, &mut c.rng) else { break };
                for req in out.to_relay {
                    if let Some(req_id) = req.req_id {
                        sent_at.insert(req_id, Instant::now());
                    }
                    if c.link.send(&req.bytes).await.is_err() {
                        return (c, reports);
                    }
                }
                next_send += interval;
                continue;
            }
            let wake = if now < stop_sending { next_send.min(stop) } else { stop };
            let Ok(got) = tokio::time::timeout_at(wake, c.link.recv()).await else { continue };
            let Ok(bytes) = got else { return (c, reports) };
            match RelayMessage::decode(&bytes) {
                Ok(RelayMessage::Accepted { req_id, .. }) => {
                    if let Some(t0) = sent_at.remove(&req_id) {
                        st.accepted += 1;
                        st.ack_us.push(t0.elapsed().as_micros() as u64);
                    }
                }
                Ok(RelayMessage::Rejected { req_id, .. }) if sent_at.remove(&req_id).is_some() => st.refused += 1,
                Ok(RelayMessage::Deliver { frame, .. }) => {
                    // Only room messages count: copies of the setup's join commits still arriving
                    // would count in the first phase. Sampled clients handle every entry, or the
                    // first commit they skipped would leave a gap in their log.
                    if frame.get(1) == Some(&zfc_core::internal::frame::kind::MESSAGE) {
                        st.deliveries += 1;
                    }
                    if c.sampled {
                        let now_us = start.elapsed().as_micros() as u64;
                        let out = c.party.handle(&bytes, crate::client::session::now(), &mut c.rng);
                        for e in out.map(|o| o.events).unwrap_or_default() {
                            if let Event::Message(m) = e {
                                let ts = m.content.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes);
                                if let Some(ts) = ts {
                                    st.latencies_us.push(now_us.saturating_sub(ts));
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        reports.push(st);
    }
    (c, reports)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default() as f64 / 1000.0
}

/// Runs the phases (offered total rate, seconds) over the built rooms.
pub async fn run(
    rooms: Vec<Vec<Peer>>,
    shape: &Shape,
    phases: &[(f64, Duration)],
    drain: Duration,
    relay_pid: Option<&str>,
) -> Vec<PhaseReport> {
    let start = Instant::now();
    let total_clients = (shape.rooms * shape.clients).max(1) as f64;
    let per_client: Vec<(f64, Duration)> = phases.iter().map(|(r, d)| (r / total_clients, *d)).collect();
    let cpu_before = |pid: Option<&str>| (pid.and_then(cpu_seconds), cpu_seconds("self").unwrap_or(0.0));
    let mut tasks = Vec::new();
    for (room_no, room) in rooms.into_iter().enumerate() {
        for (i, peer) in room.into_iter().enumerate() {
            let (party, link, rng) = peer.s.into_parts();
            let phase = tasks.len() as f64 / total_clients;
            let c = Client { party, link, rng, room: room_no, phase, sampled: i < shape.sampled };
            tasks.push(tokio::spawn(drive_client(c, start, per_client.clone(), drain)));
        }
    }
    // Every client runs the phases back to back (sending, then draining): CPU is sampled at the
    // same boundaries.
    let mut cpu = vec![cpu_before(relay_pid)];
    let mut boundary = start;
    for (_, length) in phases {
        boundary += *length + drain;
        tokio::time::sleep_until(boundary).await;
        cpu.push(cpu_before(relay_pid));
    }
    let mut per_task = Vec::new();
    for t in tasks {
        if let Ok((c, stats)) = t.await {
            per_task.push((c.room, stats));
        }
    }
    let mut reports = Vec::new();
    for (n, (rate, length)) in phases.iter().enumerate() {
        let ((relay0, own0), (relay1, own1)) =
            (cpu.get(n).copied().unwrap_or_default(), cpu.get(n + 1).copied().unwrap_or_default());
        let mut r = PhaseReport { offered: *rate, seconds: length.as_secs_f64(), ..PhaseReport::default() };
        let mut lat = Vec::new();
        let mut ack = Vec::new();
        let mut accepted_by_room: HashMap<usize, u64> = HashMap::new();
        let mut delivered_by_client = Vec::new();
        for (room, stats) in &per_task {
            let Some(st) = stats.get(n) else { continue };
            r.accepted += st.accepted;
            r.refused += st.refused;
            r.deliveries += st.deliveries;
            lat.extend_from_slice(&st.latencies_us);
            ack.extend_from_slice(&st.ack_us);
            *accepted_by_room.entry(*room).or_default() += st.accepted;
            delivered_by_client.push((*room, st.deliveries));
        }
        for (room, got) in delivered_by_client {
            let want = accepted_by_room.get(&room).copied().unwrap_or(0);
            r.lost += want.saturating_sub(got);
        }
        lat.sort_unstable();
        ack.sort_unstable();
        r.latency_ms = (percentile(&lat, 0.5), percentile(&lat, 0.99), percentile(&lat, 1.0));
        r.latency_samples = lat.len();
        r.ack_ms = (percentile(&ack, 0.5), percentile(&ack, 0.99));
        r.relay_cpu = relay0.zip(relay1).map(|(a, b)| b - a);
        r.own_cpu = own1 - own0;
        reports.push(r);
    }
    reports
}
