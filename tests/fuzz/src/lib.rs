//! The daemon's statement parsers, compiled on their own for the fuzzer.
//! The modules are the daemon's files, included by path rather than
//! copied, so what is fuzzed is exactly what the daemon runs; `check`
//! states what every parse must give back, whatever the bytes.

#![allow(dead_code, unused_imports)]

#[path = "../../../daemon/src/domain/mod.rs"]
pub mod domain;
#[path = "../../../daemon/src/support/hex.rs"]
mod hex;
#[path = "../../../daemon/src/import/mod.rs"]
pub mod import;

/// What the parsers take from the daemon's `support` module.
pub mod support {
    pub use crate::hex::sha256_hex;
}

use import::{MAX_PROBLEMS, MAX_ROWS, Statement};

/// Panics when a statement breaks a promise the importer relies on: a
/// bounded number of rows, problems and skipped entries, ISO dates, amounts in range,
/// 1-based lines, and rows from a file with problems are never committed
/// (so nothing is promised of them beyond the above).
pub fn check(statement: &Statement) {
    assert!(statement.rows.len() <= MAX_ROWS);
    assert!(statement.problems.len() <= MAX_PROBLEMS);
    assert!(statement.skipped.len() <= MAX_PROBLEMS);
    for row in &statement.rows {
        assert!(
            domain::receipt::is_iso_date(&row.date),
            "not an ISO date: {:?}",
            row.date
        );
        assert!(
            row.amount.abs() <= domain::ledger::MAX_AMOUNT,
            "amount out of range: {}",
            row.amount
        );
        assert!(row.line >= 1, "line 0 in {row:?}");
    }
    for problem in statement.problems.iter().chain(&statement.skipped) {
        assert!(problem.line >= 1, "line 0 in {problem:?}");
        assert!(problem.column != Some(0), "column 0 in {problem:?}");
        assert!(!problem.message.is_empty());
    }
}
