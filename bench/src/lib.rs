//! Shared parts of the zfc benchmarks: a lean network that builds rooms of any size without a
//! client per member, and figures that are not times (bytes, memory) recorded beside criterion's
//! estimates so that `zfc-bench-report` can put both in one table.
//!
//! Timing lives in `benches/`; nothing here asserts on speed.

#![forbid(unsafe_code)]

pub mod facts;
pub mod net;
