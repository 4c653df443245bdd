//! `zfc-load`: a bounded load generator for a relay on this machine (loopback only). Builds R
//! rooms of C clients, then offers rising message rates, prints one line per phase and the highest
//! rate the relay held: p99 latency under 50 ms, nothing lost or refused, at least 95% of the
//! offered rate accepted.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use zfc_relay::conformance::TargetArgs;
use zfc_relay::load::{Shape, peak_rss_kib, run, setup};

/// Load generator for a zfc relay on loopback.
#[derive(Parser, Debug)]
// The shared help for --relay does not say that this tool refuses other relays.
#[command(version, about, mut_arg("relay", |a| a.help("The relay, ws://127.0.0.1:PORT (loopback only)")))]
struct Args {
    #[command(flatten)]
    target: TargetArgs,
    /// The relay's process id, to report its CPU and peak memory.
    #[arg(long)]
    relay_pid: Option<String>,
    /// Rooms.
    #[arg(long, default_value_t = 1)]
    rooms: usize,
    /// Clients per room (owner included).
    #[arg(long, default_value_t = 10)]
    clients: usize,
    /// Recipients per room that decrypt and time every message.
    #[arg(long, default_value_t = 2)]
    sampled: usize,
    /// Offered rates (messages per second over all clients), one phase each.
    #[arg(long, value_delimiter = ',', default_value = "100,400")]
    rates: Vec<f64>,
    /// Seconds each phase sends for (at most 60).
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Seconds to wait after each phase for deliveries to arrive.
    #[arg(long, default_value_t = 2)]
    drain: u64,
    /// Exit with failure if any phase lost or refused a message, or measured no delivery's
    /// latency (for smoke runs in tests).
    #[arg(long)]
    fail_on_loss: bool,
}

/// Whether the relay held a phase: p99 under 50 ms (over at least one measured delivery), nothing
/// lost or refused, and at least 95% of the offered rate accepted (a saturated generator or relay
/// falls behind its schedule).
fn held(r: &zfc_relay::load::PhaseReport) -> bool {
    let measured = r.latency_samples > 0;
    measured && r.lost == 0 && r.refused == 0 && r.latency_ms.1 < 50.0 && r.msgs_per_sec() >= 0.95 * r.offered
}

fn main() -> ExitCode {
    let args = Args::parse();
    let loopback = ["ws://127.", "ws://localhost:", "ws://[::1]:"].iter().any(|p| args.target.relay.starts_with(p));
    if !loopback || args.seconds > 60 || args.rooms * args.clients > 2000 || args.rates.len() > 20 {
        eprintln!("zfc-load: loopback relays only, at most 60 s per phase, 20 phases and 2000 clients");
        return ExitCode::FAILURE;
    }
    let Some(t) = args.target.target(Duration::from_secs(30)) else {
        eprintln!("zfc-load: --relay-key is 64 hex digits");
        return ExitCode::FAILURE;
    };
    let shape = Shape { rooms: args.rooms, clients: args.clients, sampled: args.sampled.min(args.clients) };
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() else {
        return ExitCode::FAILURE;
    };
    let phases: Vec<(f64, Duration)> = args.rates.iter().map(|r| (*r, Duration::from_secs(args.seconds))).collect();
    let drain = Duration::from_secs(args.drain);
    let reports = rt.block_on(async {
        let t0 = std::time::Instant::now();
        let rooms = setup(&t, &shape).await?;
        eprintln!("set up {} rooms x {} clients in {:.1} s", shape.rooms, shape.clients, t0.elapsed().as_secs_f64());
        Ok::<_, String>(run(rooms, &shape, &phases, drain, args.relay_pid.as_deref()).await)
    });
    let reports = match reports {
        Ok(r) => r,
        Err(e) => {
            eprintln!("zfc-load: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "rooms x clients | offered msg/s | in msg/s | out deliveries/s | p50 ms | p99 ms | max ms | ack p50/p99 ms | undelivered | refused | relay CPU us/msg | relay CPU us/delivery | generator CPU s | held"
    );
    for r in &reports {
        let relay_per_msg = r.relay_cpu.map_or("-".into(), |c| format!("{:.1}", c * 1e6 / r.accepted.max(1) as f64));
        let relay_per_del = r.relay_cpu.map_or("-".into(), |c| format!("{:.2}", c * 1e6 / r.deliveries.max(1) as f64));
        println!(
            "{} x {} | {:.0} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1}/{:.1} | {} | {} | {} | {} | {:.1} | {}",
            shape.rooms,
            shape.clients,
            r.offered,
            r.msgs_per_sec(),
            r.deliveries_per_sec(),
            r.latency_ms.0,
            r.latency_ms.1,
            r.latency_ms.2,
            r.ack_ms.0,
            r.ack_ms.1,
            r.lost,
            r.refused,
            relay_per_msg,
            relay_per_del,
            r.own_cpu,
            if held(r) { "yes" } else { "no" }
        );
    }
    let best = reports.iter().take_while(|r| held(r)).last();
    match best {
        Some(r) => println!(
            "highest rate held: {:.0} msg/s in, {:.0} deliveries/s out (p99 {:.1} ms)",
            r.msgs_per_sec(),
            r.deliveries_per_sec(),
            r.latency_ms.1
        ),
        None => println!("highest rate held: none of the offered rates"),
    }
    if let Some(kib) = args.relay_pid.as_deref().and_then(peak_rss_kib) {
        println!("relay peak memory: {:.1} MiB", kib as f64 / 1024.0);
    }
    if args.fail_on_loss && reports.iter().any(|r| r.lost > 0 || r.refused > 0 || r.latency_samples == 0) {
        eprintln!("zfc-load: messages were lost or refused, or no delivery was measured");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
