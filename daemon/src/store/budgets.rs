//! Monthly budgets: an amount per category and currency. What was spent
//! against one is computed from the transactions (`domain::reports`).

use surrealdb::types::SurrealValue;

use super::guard::MISSING;
use super::query::Params;
use super::{Store, StoreError};
use crate::domain::ledger::Need;

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct BudgetRecord {
    pub bgid: String,
    pub cid: String,
    pub currency: String,
    /// Minor units a month, at least 0.
    pub amount: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const FIELDS: &str = "bgid, cid, currency, amount, created_at, updated_at";

impl Store {
    pub async fn create_budget(
        &self,
        actor: &str,
        bid: &str,
        budget: &BudgetRecord,
    ) -> Result<BudgetRecord, StoreError> {
        let mut rows: Vec<BudgetRecord> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "budget for that category and currency",
                &format!(
                    "IF array::len((SELECT VALUE cid FROM category WHERE bid = $book AND cid = $cid)) = 0 \
                     {{ THROW \"{MISSING}: category of that id\" }};\n\
                     CREATE budget SET bgid = $bgid, bid = $book, cid = $cid, currency = $currency, amount = $amount, \
                     created_at = $now, updated_at = $now;\n\
                     SELECT {FIELDS} FROM budget WHERE bgid = $bgid;"
                ),
                Params::new()
                    .with("bgid", budget.bgid.clone())
                    .with("cid", budget.cid.clone())
                    .with("currency", budget.currency.clone())
                    .with("amount", budget.amount)
                    .with("now", budget.created_at),
            )
            .await?;
        rows.pop()
            .ok_or_else(|| StoreError::Query("the new budget was not found".into()))
    }

    pub async fn budgets(&self, actor: &str, bid: &str) -> Result<Vec<BudgetRecord>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Read,
            "budget",
            &format!("SELECT {FIELDS} FROM budget WHERE bid = $book ORDER BY cid, currency;"),
            Params::new(),
        )
        .await
    }

    /// Sets a budget's monthly amount; `None` when there is no such budget.
    pub async fn update_budget(
        &self,
        actor: &str,
        bid: &str,
        bgid: &str,
        amount: i64,
        now: i64,
    ) -> Result<Option<BudgetRecord>, StoreError> {
        let mut rows: Vec<BudgetRecord> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "budget",
                &format!(
                    "UPDATE budget SET amount = $amount, updated_at = $now WHERE bid = $book AND bgid = $bgid;\n\
                     SELECT {FIELDS} FROM budget WHERE bid = $book AND bgid = $bgid;"
                ),
                Params::new()
                    .with("bgid", bgid.to_string())
                    .with("amount", amount)
                    .with("now", now),
            )
            .await?;
        Ok(rows.pop())
    }

    pub async fn delete_budget(
        &self,
        actor: &str,
        bid: &str,
        bgid: &str,
    ) -> Result<bool, StoreError> {
        let deleted: Vec<serde_json::Value> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "budget",
                "DELETE budget WHERE bid = $book AND bgid = $bgid RETURN BEFORE;",
                Params::new().with("bgid", bgid.to_string()),
            )
            .await?;
        Ok(!deleted.is_empty())
    }
}
