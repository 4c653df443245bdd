//! The conformance suite: drives any relay through the rules of `spec/PROTOCOL.md` over real
//! sockets and prints one line per case.
//!
//! Flow cases use the zfc-core state machines ([`flows`]); byte-level cases ([`bytes`]) build and
//! sign frames by hand from the spec's layouts (label, zero byte, unsigned encoding), so that the
//! suite does not merely agree with the code it shares.

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
