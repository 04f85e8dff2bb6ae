//! What the reports and budgets read: the monthly sums the database keeps
//! (`txn_month`, a table view: one book's months are a range of its record
//! ids), with the split transactions part by part, the slim part of a book's
//! transactions in a date range, and each account's balance before it.

use surrealdb::types::SurrealValue;

use super::query::Params;
use super::transactions::SplitRecord;
use super::{Store, StoreError};
use crate::domain::ledger::Need;
use crate::domain::reports::SPLIT_FLOWS;

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

/// The transactions of one month, account, category, currency and `flow`
/// (`transfer`, `split-out`, `split-in`, `out` or `in`), summed.
#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct MonthTotal {
    pub month: String,
    pub aid: String,
    pub cid: Option<String>,
    pub currency: String,
    pub flow: String,
    pub n: i64,
    pub total: i64,
}

/// The monthly sums of unsplit transactions, and the split ones.
#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct CategorySums {
    pub totals: Vec<MonthTotal>,
    pub splits: Vec<ReportRow>,
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

    /// The book's monthly sums from month `from` up to, not including,
    /// month `until` (`YYYY-MM`).
    pub async fn month_totals(
        &self,
        actor: &str,
        bid: &str,
        from: &str,
        until: &str,
    ) -> Result<Vec<MonthTotal>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Read,
            "transaction",
            "SELECT month, aid, cid, currency, flow, n, <int> total AS total \
             FROM txn_month:[$book, $from]..[$book, $until] WHERE n > 0;",
            Params::new()
                .with("from", from.to_string())
                .with("until", until.to_string()),
        )
        .await
    }

    /// What category reports read, in one database transaction (so a
    /// write between two reads cannot count a split twice or not at all):
    /// the monthly sums of transactions that are not split, from month
    /// `from` up to, not including, month `until`, and the split
    /// transactions of those months one by one.
    pub async fn category_sums(
        &self,
        actor: &str,
        bid: &str,
        from: &str,
        until: &str,
    ) -> Result<CategorySums, StoreError> {
        // One index range per flow: a list of values on a compound index
        // is not narrowed by this SurrealDB.
        let splits = |flow: &str| {
            format!(
                "(SELECT date, aid, amount, currency, cid, splits, false AS transfer, payee FROM txn \
                 WHERE bid = $book AND flow = '{flow}' AND date >= $from_day AND date < $until_day)"
            )
        };
        let [out, into] = SPLIT_FLOWS;
        let mut sums: Vec<CategorySums> = self
            .guarded(
                actor,
                bid,
                Need::Read,
                "transaction",
                &format!(
                    "RETURN [{{ \
                       totals: (SELECT month, aid, cid, currency, flow, n, <int> total AS total \
                         FROM txn_month:[$book, $from]..[$book, $until] \
                         WHERE n > 0 AND flow NOT IN ['{out}', '{into}']), \
                       splits: array::concat({}, {}) \
                     }}];",
                    splits(out),
                    splits(into)
                ),
                Params::new()
                    .with("from", from.to_string())
                    .with("until", until.to_string())
                    .with("from_day", format!("{from}-01"))
                    .with("until_day", format!("{until}-01")),
            )
            .await?;
        sums.pop()
            .ok_or_else(|| StoreError::Query("category sums: no answer".into()))
    }

    /// Each account's transactions dated before month `before` (`YYYY-MM`),
    /// summed (accounts with none are left out).
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
            "SELECT aid, <int> math::sum(total) AS total FROM txn_month:[$book]..[$book, $before] GROUP BY aid;",
            Params::new().with("before", before.to_string()),
        )
        .await
    }
}
