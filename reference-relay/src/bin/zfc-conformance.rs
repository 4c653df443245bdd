//! `zfc-conformance`: runs the conformance suite against a relay and prints one line per case and
//! `N passed, M failed`; exits non-zero if any case failed.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use zfc_relay::conformance::{TargetArgs, run};

/// Checks a relay against the zfc protocol's rules, over real sockets.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    target: TargetArgs,
    /// Only cases whose name contains this.
    #[arg(long)]
    only: Option<String>,
    /// Seconds to wait for any one answer.
    #[arg(long, default_value_t = 10)]
    wait: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(target) = args.target.target(Duration::from_secs(args.wait)) else {
        eprintln!("zfc-conformance: --relay-key is 64 hex digits");
        return ExitCode::FAILURE;
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        eprintln!("zfc-conformance: no runtime");
        return ExitCode::FAILURE;
    };
    let (_, failed) = rt.block_on(run(&target, args.only.as_deref()));
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
