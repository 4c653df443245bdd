//! `zfc-conformance`: runs the conformance suite against a relay and prints one line per case and
//! `N passed, M failed`; exits non-zero if any case failed.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use zfc_relay::conformance::{Target, run};

/// Checks a relay against the zfc protocol's rules, over real sockets.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The relay, ws://HOST:PORT.
    #[arg(long, default_value = "ws://127.0.0.1:5103")]
    relay: String,
    /// The relay's key (64 hex digits).
    #[arg(long)]
    relay_key: String,
    /// Only cases whose name contains this.
    #[arg(long)]
    only: Option<String>,
    /// Seconds to wait for any one answer.
    #[arg(long, default_value_t = 10)]
    wait: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(key) = hex::decode(args.relay_key.trim()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()) else {
        eprintln!("zfc-conformance: --relay-key is 64 hex digits");
        return ExitCode::FAILURE;
    };
    let target = Target { relay: args.relay, key, wait: Duration::from_secs(args.wait) };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        eprintln!("zfc-conformance: no runtime");
        return ExitCode::FAILURE;
    };
    let (_, failed) = rt.block_on(run(&target, args.only.as_deref()));
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
