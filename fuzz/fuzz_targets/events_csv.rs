//! Any bytes read as a CSV event log against the schema of rules/credit.rules,
//! with and without `keep_going`, then scored: an error or a result, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rulebook::input::Format;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::read_and_score(data, Format::Csv);
});
