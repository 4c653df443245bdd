//! Figures other than times (bytes on the wire, state sizes, memory), written by the benchmarks
//! into `target/zfc-bench/facts.tsv` (one `key<TAB>value<TAB>unit` line each, the last line of a
//! key wins) and read back by the report.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

/// The workspace's target directory (`CARGO_TARGET_DIR` when set).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("target"),
    }
}

fn facts_path() -> PathBuf {
    target_dir().join("zfc-bench").join("facts.tsv")
}

/// Records one figure. Failing to write is reported on stderr and does not stop a benchmark.
pub fn record(key: &str, value: f64, unit: &str) {
    let path = facts_path();
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
        writeln!(f, "{key}\t{value}\t{unit}")
    };
    if let Err(e) = write() {
        eprintln!("zfc-bench: cannot record {key} in {}: {e}", path.display());
    }
    println!("fact {key} = {value} {unit}");
}

/// Every recorded figure, the last line of each key winning.
pub fn load() -> BTreeMap<String, (f64, String)> {
    let text = fs::read_to_string(facts_path()).unwrap_or_default();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let mut parts = line.split('\t');
        if let (Some(k), Some(v), Some(u)) = (parts.next(), parts.next(), parts.next())
            && let Ok(v) = v.parse::<f64>()
        {
            out.insert(k.to_string(), (v, u.to_string()));
        }
    }
    out
}

/// The room sizes to run: `full`, without those above `ZFC_BENCH_MAX_MEMBERS` (a quick run).
pub fn room_sizes(full: &[usize]) -> Vec<usize> {
    let max = std::env::var("ZFC_BENCH_MAX_MEMBERS").ok().and_then(|v| v.parse::<usize>().ok()).unwrap_or(usize::MAX);
    full.iter().copied().filter(|n| *n <= max).collect()
}
