//! The conformance suite: drives any relay through the rules of `spec/PROTOCOL.md` over real
//! sockets and prints one line per case.
//!
//! Flow cases use the zfc-core state machines ([`flows`]); byte-level cases ([`bytes`]) build and
//! sign frames by hand from the spec's layouts (label, zero byte, unsigned encoding), so that the
//! suite does not merely agree with the code it shares.

/// A [`Case`] named after the `async fn` that runs it.
macro_rules! case {
    ($name:ident) => {
        $crate::conformance::Case { name: stringify!($name), run: |t| Box::pin($name(t)) }
    };
}

pub mod bytes;
pub mod flows;
mod probe;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use probe::Probe;

/// The relay under test.
#[derive(Clone, Debug)]
pub struct Target {
    /// `ws://HOST:PORT`.
    pub relay: String,
    /// The relay's link key.
    pub key: [u8; 32],
    /// How long to wait for any one answer.
    pub wait: Duration,
}

/// The relay to test, as command-line arguments.
#[derive(clap::Args, Debug)]
pub struct TargetArgs {
    /// The relay, ws://HOST:PORT.
    #[arg(long, default_value = "ws://127.0.0.1:5103")]
    pub relay: String,
    /// The relay's key (64 hex digits).
    #[arg(long)]
    pub relay_key: String,
}

impl TargetArgs {
    /// The target, waiting `wait` for any one answer; `None` if the key is not 64 hex digits.
    pub fn target(&self, wait: Duration) -> Option<Target> {
        let key = crate::keyfile::parse_hex32(&self.relay_key)?;
        Some(Target { relay: self.relay.clone(), key, wait })
    }
}

/// What a case returns: `Err` says what went wrong.
pub type Outcome = Result<(), String>;
type CaseFn = for<'a> fn(&'a Target) -> Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// One named check.
pub struct Case {
    /// Printed name.
    pub name: &'static str,
    /// The check.
    pub run: CaseFn,
}

/// Every case, flows first.
pub fn cases() -> Vec<Case> {
    let mut all = flows::cases();
    all.extend(bytes::cases());
    all
}

/// Runs the cases whose name contains `filter`, printing `PASS`/`FAIL` lines and the summary;
/// returns (passed, failed).
pub async fn run(target: &Target, filter: Option<&str>) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    for case in cases().into_iter().filter(|c| filter.is_none_or(|f| c.name.contains(f))) {
        let outcome = match tokio::time::timeout(target.wait * 6, (case.run)(target)).await {
            Ok(o) => o,
            Err(_) => Err("timed out".into()),
        };
        match outcome {
            Ok(()) => {
                passed += 1;
                println!("PASS {}", case.name);
            }
            Err(why) => {
                failed += 1;
                println!("FAIL {}: {why}", case.name);
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    (passed, failed)
}

/// `Err` with a message unless `cond`.
pub(crate) fn ensure(cond: bool, what: impl FnOnce() -> String) -> Outcome {
    if cond { Ok(()) } else { Err(what()) }
}

/// Reject codes, as the spec numbers them: written out rather than taken from zfc-core, so that
/// the suite does not merely agree with the code it shares.
mod code {
    pub(super) const MALFORMED: u16 = 1;
    pub(super) const TOO_LARGE: u16 = 2;
    pub(super) const NO_SUCH_ROOM: u16 = 10;
    pub(super) const ROOM_EXISTS: u16 = 11;
    pub(super) const ROOM_DELETED: u16 = 12;
    pub(super) const BAD_ROOM_ID: u16 = 13;
    pub(super) const BAD_SIGNATURE: u16 = 20;
    pub(super) const NOT_AUTHENTICATED: u16 = 21;
    pub(super) const NOT_MEMBER: u16 = 22;
    pub(super) const INVITE_UNKNOWN: u16 = 30;
    pub(super) const INVITE_USED: u16 = 31;
    pub(super) const INVITE_EXPIRED: u16 = 32;
    pub(super) const INVITE_REVOKED: u16 = 33;
    pub(super) const INVITE_EXISTS: u16 = 37;
    pub(super) const WRONG_EPOCH: u16 = 40;
    pub(super) const FORKED_CHAIN: u16 = 41;
    pub(super) const REPLAY: u16 = 45;
    pub(super) const UNKNOWN_EPOCH: u16 = 48;
    pub(super) const SEQ_JUMP: u16 = 49;
    pub(super) const STALE_KEY_UPDATE: u16 = 51;
}
