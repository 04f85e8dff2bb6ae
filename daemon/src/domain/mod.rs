//! Pure types and rules: no I/O, no framework. Every layer may use them.

pub mod account;
pub mod image;
pub mod ledger;
pub mod matching;
pub mod money;
pub mod receipt;
pub mod reports;
pub mod retention;
pub mod rules;
pub mod text;
