//! Any bytes → `Roster::read` with the classes of rules/credit.rules returns,
//! never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rulebook::input::Roster;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let prog = &common::credit().program;
    let _ = Roster::read(data, "customers.csv", &prog.class_names());
});
