//! Benchmark support: an independent, hard-coded scorer of the published
//! standard (the oracle and the baseline) and a seeded synthetic log
//! generator. Shared by `benches/score.rs`, `tests/reference.rs` and
//! `examples/gen_events.rs` through `#[path]` modules, so each user sees only
//! part of it.
#![allow(dead_code)]

pub mod generate;
pub mod reference;
