//! Shared parts of the zfc benchmarks: a lean network that builds rooms of any size without a
//! client per member, and figures that are not times (bytes, memory) recorded beside criterion's
//! estimates so that `zfc-bench-report` can put both in one table.
//!
//! Timing lives in `benches/`; nothing here asserts on speed.

#![forbid(unsafe_code)]

pub mod facts;
pub mod net;

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};

/// A benchmark group as every zfc benchmark configures it: `samples` samples over `measure`
/// after half a second of warm-up; groups of 10 samples or fewer time whole runs of expensive
/// iterations, so they sample flat (the same iteration count in each sample).
pub fn group<'a>(c: &'a mut Criterion, name: &str, samples: usize, measure: Duration) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(samples).measurement_time(measure).warm_up_time(Duration::from_millis(500));
    if samples <= 10 {
        g.sampling_mode(SamplingMode::Flat);
    }
    g
}
