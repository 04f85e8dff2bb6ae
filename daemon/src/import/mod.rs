//! Bank statement parsers: CSV by preset, OFX/QFX (SGML 1.x and XML 2.x),
//! QIF and CAMT.053. Pure: bytes in, rows and problems out, no I/O, so
//! they can be fuzzed. Every problem names its line (and column where
//! there is one); a file with problems is shown, never half-imported.
//! Also the way back out: reports as CSV (`export`), so one module knows
//! the CSV format both ways.

mod amount;
mod camt;
mod csv;
mod dates;
mod duplicates;
mod export;
mod ofx;
mod presets;
mod qif;
mod text;

pub use amount::{NumberFormat, parse_amount};
pub use camt::parse_camt;
pub use csv::{ColumnRef, Columns, Preset, parse_csv};
pub use dates::{check_pattern, parse_date};
pub use duplicates::{Known, duplicates, fingerprint, normal_payee};
pub use export::{Field, csv as export_csv};
pub use ofx::parse_ofx;
pub use presets::{preset_from_toml, shipped, shipped_texts};
pub use qif::{DateOrder, parse_qif};
pub use text::{Encoding, decode};

use std::fmt;

/// One transaction read from a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The line of the file it starts on (1-based).
    pub line: usize,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Signed minor units: negative is money out.
    pub amount: i64,
    pub payee: String,
    pub description: String,
    /// The bank's own id for it (OFX FITID, CAMT entry reference), if any.
    pub external_id: Option<String>,
}

/// Something wrong with the file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: Option<usize>,
    pub message: String,
}

impl Problem {
    pub fn at(line: usize, column: Option<usize>, message: impl Into<String>) -> Problem {
        Problem {
            line,
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "line {}, column {}: {}", self.line, column, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// What a statement holds: its rows, what could not be read, and what the
/// file says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statement {
    pub rows: Vec<Row>,
    pub problems: Vec<Problem>,
    /// Entries the file lists that are not transactions yet (a CAMT entry
    /// pending or only for information): left out, and named here (the
    /// first 100) so that leaving them out is seen. They do not stop a
    /// commit.
    pub skipped: Vec<Problem>,
    /// The currency the file declares, if it does (OFX CURDEF, CAMT Ccy).
    pub currency: Option<String>,
}

/// Rows in one file, at most: a bound on memory whatever the file holds.
pub const MAX_ROWS: usize = 500_000;
/// Problems reported, at most: the rest are counted, not listed.
pub const MAX_PROBLEMS: usize = 100;

impl Statement {
    fn problem(&mut self, problem: Problem) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(problem);
        }
    }

    fn skip(&mut self, why: Problem) {
        if self.skipped.len() < MAX_PROBLEMS {
            self.skipped.push(why);
        }
    }
}
