//! Any text → `rulebook::fmt::format` returns, never panics; what it returns
//! is a fixed point: formatting it again gives the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|src: &str| {
    if let Ok(out) = rulebook::fmt::format(src) {
        match rulebook::fmt::format(&out) {
            Ok(again) => assert_eq!(again, out, "format is not idempotent"),
            Err(d) => panic!("formatted output does not format again: {}", d.message),
        }
    }
});
