//! The ledger's use cases: books shared by their members, accounts,
//! categories and transactions. Every store call carries the caller's id
//! and the book, and the store checks the membership in the same
//! transaction; this layer adds the caller's account role (a guest only
//! reads) and the rules of the values (`domain::ledger`).

mod accounts;
mod books;
mod budgets;
mod categories;
mod imports;
#[cfg(test)]
mod imports_tests;
mod matching;
#[cfg(test)]
mod matching_tests;
mod presets;
mod reports;
mod rules;
mod transactions;
#[cfg(test)]
mod transfers_tests;

pub use accounts::{AccountPatch, NewAccount};
pub use books::{BookPatch, NewBook};
pub use budgets::{BudgetMonth, NewBudget};
pub use categories::NewCategory;
pub use imports::{FORMATS, ImportView, PreviewRow, Upload};
pub use matching::{ConfirmReceipt, ItemCategory, MatchSearch, MatchView, receipt_matcher};
pub use presets::{NewPreset, PresetView};
pub use reports::{Cell, REPORT_KINDS, Report, ReportQuery};
pub use rules::{
    NewRule, RuleActions, RuleConditions, RuleEffect, RuleOutcome, RuleRun, TextConditionInput,
    Tidied,
};
pub use transactions::{
    NewTransaction, NewTransfer, SplitInput, TransactionList, TransactionPatch, TransactionQuery,
};

pub use crate::import::{Problem, Row};
/// The ledger's records as the store reads them: plain data, handed to the
/// front ends as they are.
pub use crate::store::{
    AccountRecord, BookRecord, BudgetRecord, CategoryRecord, ImportRecord, MatchRecord,
    MemberRecord, RuleRecord, TxnRecord,
};

use super::ServiceError;
use super::auth::sessions::Principal;
use super::blobs::Blobs;
use crate::domain::ledger::{Invalid, Need};
use crate::store::Store;

/// Limits of the ledger, from `[import]`.
#[derive(Debug, Clone)]
pub struct LedgerSettings {
    /// The largest statement file taken.
    pub max_import_bytes: u64,
}

pub struct Ledger {
    store: Store,
    /// Statement files are kept here, like receipt images.
    blobs: Blobs,
    settings: LedgerSettings,
}

impl Ledger {
    pub fn new(store: Store, blobs: Blobs, settings: LedgerSettings) -> Ledger {
        Ledger {
            store,
            blobs,
            settings,
        }
    }

    pub fn settings(&self) -> &LedgerSettings {
        &self.settings
    }
}

/// The caller's user id, once their account role allows `need`: a guest
/// reads the books shared with them and nothing more.
fn actor(principal: &Principal, need: Need) -> Result<&str, ServiceError> {
    if principal.role == "guest" && need != Need::Read {
        return Err(ServiceError::Forbidden("guests can only read".into()));
    }
    Ok(&principal.user_id)
}

/// The CSV presets shipped with fin, as (name, TOML text).
pub fn shipped_presets() -> Vec<(String, String)> {
    crate::import::shipped_texts()
}

impl From<Invalid> for ServiceError {
    fn from(e: Invalid) -> Self {
        ServiceError::Invalid(e.0)
    }
}

fn not_found(what: &str) -> ServiceError {
    ServiceError::NotFound(format!("no such {what} in this book"))
}
