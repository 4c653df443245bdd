//! `zfc-relay`: the reference relay. Listens on 127.0.0.1:5103 by default, keeps its key and
//! journal in the data directory, and stops cleanly on SIGTERM or Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, UnwrapErr};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tracing::{error, info};
use zfc_core::relay::{RelayConfig, RuleBook, admission_hash};
use zfc_relay::hub::{Hub, MAX_BATCH, recover};
use zfc_relay::server::{Limits, serve};
use zfc_relay::store::{SqliteStore, Store};
use zfc_relay::{fsutil, keyfile};

/// The zfc reference relay.
#[derive(Parser, Debug)]
#[command(
    version,
    about = "The zfc reference relay: clients connect over WebSocket (ws://, binary messages carrying the Noise link); the journal is kept in SQLite",
    after_help = "The relay's key: on first start the relay generates its static X25519 key and keeps it in \
DATA_DIR/relay.key (secret, mode 0600). On every start it writes the public key to DATA_DIR/relay.pub \
(64 lower-case hex digits and a newline) and prints the address and the key: \
\"zfc-relay listening on ws://ADDR\", \"relay key: HEX\", \"fingerprint: ...\" (the key in groups, to read \
aloud). A room owner needs this address and key to create a room, and every invite carries them: give \
relay.pub to owners over a channel they trust, e.g.\n  \
zfc create --relay ws://HOST:PORT --relay-key \"$(cat zfc-relay-data/relay.pub)\"\n\
Keep relay.key: a relay with a new key cannot serve the rooms and invites made for the old one."
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5103")]
    listen: String,
    /// Directory for the relay key (relay.key; the public key that room owners need is written to
    /// relay.pub) and the database (relay.db).
    #[arg(long, default_value = "zfc-relay-data")]
    data_dir: PathBuf,
    /// Largest WebSocket message (bytes) a client may send.
    #[arg(long, default_value_t = Limits::default().max_message)]
    max_message_bytes: usize,
    /// Requests per second a connection may sustain (faster senders are slowed down).
    #[arg(long, default_value_t = Limits::default().rate_per_sec)]
    rate: f64,
    /// Requests a connection may send in a burst.
    #[arg(long, default_value_t = Limits::default().burst)]
    burst: f64,
    /// Seconds of silence after which a connection is closed.
    #[arg(long, default_value_t = Limits::default().idle.as_secs())]
    idle_timeout: u64,
    /// Most connections at once.
    #[arg(long, default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Room creation only for connections that present an admission token (see
    /// --admission-token).
    #[arg(long)]
    restrict_creation: bool,
    /// An admission token (64 hex digits) that lets a connection create rooms; repeatable.
    /// Implies --restrict-creation. Prefer the environment variable: arguments show in `ps`.
    #[arg(long = "admission-token", env = "ZFC_RELAY_ADMISSION_TOKENS", value_delimiter = ',')]
    admission_tokens: Vec<String>,
    /// Join requests an invite may have pending at once.
    #[arg(long, default_value_t = RelayConfig::default().max_pending_joins_per_invite)]
    max_pending_joins: usize,
    /// Log entries kept per room for history (entries a member has not read yet are kept).
    #[arg(long, default_value_t = RelayConfig::default().max_log_per_room)]
    history_retention: usize,
    /// Directed frames (join traffic) queued per recipient; senders beyond it are refused with
    /// QueueFull.
    #[arg(long, default_value_t = RelayConfig::default().max_direct_queue)]
    offline_queue: usize,
    /// Write client addresses into the logs.
    #[arg(long)]
    log_addresses: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ZFC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut tokens = Vec::new();
    for t in &args.admission_tokens {
        let bytes = keyfile::parse_hex32(t).ok_or("an admission token is 64 hex digits")?;
        tokens.push(admission_hash(&bytes));
    }
    let config = RelayConfig {
        max_pending_joins_per_invite: args.max_pending_joins,
        max_log_per_room: args.history_retention,
        max_direct_queue: args.offline_queue,
        open_room_creation: !args.restrict_creation && tokens.is_empty(),
        admission_tokens: tokens,
        ..RelayConfig::default()
    };
    let limits = Limits {
        max_message: args.max_message_bytes,
        rate_per_sec: args.rate,
        burst: args.burst,
        idle: Duration::from_secs(args.idle_timeout),
        max_connections: args.max_connections,
        log_addresses: args.log_addresses,
        ..Limits::default()
    };
    if !(args.rate.is_finite() && args.rate > 0.0 && args.burst.is_finite() && args.burst >= 1.0) {
        return Err("--rate must be above 0 and --burst at least 1".into());
    }
    if args.max_connections == 0 || args.max_connections > tokio::sync::Semaphore::MAX_PERMITS {
        return Err("--max-connections is out of range".into());
    }
    if args.offline_queue == 0 || args.max_pending_joins == 0 || args.history_retention == 0 || args.idle_timeout == 0 {
        return Err(
            "--offline-queue, --max-pending-joins, --history-retention and --idle-timeout must be at least 1".into()
        );
    }
    fsutil::private_dir(&args.data_dir)?;
    // One relay per data directory: a second one would interleave journals.
    let lock = std::fs::File::create(args.data_dir.join("lock"))?;
    lock.try_lock().map_err(|_| format!("{} is in use by another zfc-relay", args.data_dir.display()))?;
    let key = keyfile::load_or_create(&args.data_dir)?;
    let mut store = SqliteStore::open(&args.data_dir)?;
    let mut book = RuleBook::new(config);
    let started = std::time::Instant::now();
    let replayed = recover(&mut book, &mut store)?;
    info!(entries = replayed, millis = started.elapsed().as_millis() as u64, "journal replayed");
    let rng = ChaCha20Rng::from_rng(&mut UnwrapErr(getrandom::SysRng));
    let (hub_tx, hub_rx) = mpsc::channel(MAX_BATCH * 8);
    let hub = Hub::new(book, Box::new(store) as Box<dyn Store>, rng);
    let (hub_done_tx, hub_done_rx) = tokio::sync::oneshot::channel::<()>();
    let hub_thread = std::thread::Builder::new().name("zfc-hub".into()).spawn(move || {
        let result = hub.run(hub_rx);
        let _ = hub_done_tx.send(());
        result
    })?;

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(&args.listen).await?;
        let (hex, groups) = keyfile::describe(&key);
        let addr = listener.local_addr().map_or(args.listen.clone(), |a| a.to_string());
        // Scripts read these two lines.
        println!("zfc-relay listening on ws://{addr}");
        println!("relay key: {hex}");
        println!("fingerprint: {groups}");
        info!(%addr, "listening");
        let (stop_tx, stop_rx) = watch::channel(false);
        let server = tokio::spawn(serve(listener, Arc::new(key), hub_tx, limits, stop_rx));
        // A storage failure stops the hub; the relay then stops too rather than accept work it
        // cannot make durable.
        tokio::select! {
            _ = shutdown_signal() => info!("shutting down"),
            _ = hub_done_rx => error!("the hub stopped; shutting down"),
        }
        let _ = stop_tx.send(true);
        let _ = server.await;
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    // Every sender is gone once the server and its connections are: the hub drains and stops.
    match hub_thread.join() {
        Ok(Ok(stats)) => {
            info!(requests = stats.requests, commits = stats.commits, "stopped cleanly");
            Ok(())
        }
        Ok(Err(e)) => Err(Box::new(e)),
        Err(_) => Err("the hub thread panicked".into()),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
