//! Every integration test in one binary, so the crate is linked once (one
//! module per former test file; `cargo test --test it NAME` runs a part).

mod bad_rows;
mod check_cases;
mod clauses;
mod cli_check;
mod cli_diff;
mod cli_test;
mod diagnostics;
mod diff_committee;
mod docs;
mod fmt;
mod index_cli;
mod index_properties;
mod messy_files;
mod mutation;
mod properties;
mod reference;
mod report_html;
mod robustness;
mod rules_by_hand;
mod score_cli;
mod score_outputs;
mod scratch;
mod syntax;
mod texts;
