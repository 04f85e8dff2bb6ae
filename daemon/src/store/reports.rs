//! What the reports and budgets read: the slim part of a book's
//! transactions in a date range, and each account's balance before it.

use surrealdb::types::SurrealValue;

use super::query::Params;
use super::transactions::SplitRecord;
use super::{Store, StoreError};
use crate::domain::ledger::Need;

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct ReportRow {
    pub date: String,
    pub aid: String,
    pub amount: i64,
    pub currency: String,
    pub cid: Option<String>,
    pub splits: Vec<SplitRecord>,
    pub transfer: bool,
    pub payee: String,
}

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct AccountTotal {
    pub aid: String,
    pub total: i64,
}

impl Store {
    /// The book's transactions dated `from` to `to` (both included), in
    /// no particular order. Reads the `(bid, date)` index's range.
    pub async fn report_rows(
        &self,
        actor: &str,
        bid: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<ReportRow>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Read,
            "transaction",
            "SELECT date, aid, amount, currency, cid, splits, transfer_id != NONE AS transfer, payee \
             FROM txn WHERE bid = $book AND date >= $from AND date <= $to;",
            Params::new()
                .with("from", from.to_string())
                .with("to", to.to_string()),
        )
        .await
    }

    /// Each account's transactions dated before `before`, summed (accounts
    /// with none are left out).
    pub async fn totals_before(
        &self,
        actor: &str,
        bid: &str,
        before: &str,
    ) -> Result<Vec<AccountTotal>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Read,
            "transaction",
            "SELECT aid, math::sum(amount) AS total FROM txn WHERE bid = $book AND date < $before GROUP BY aid;",
            Params::new().with("before", before.to_string()),
        )
        .await
    }
}
