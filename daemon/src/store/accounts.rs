//! Accounts of a book. A balance is the opening balance plus the sum of the
//! account's transactions, computed on every read and never stored.

use surrealdb::types::SurrealValue;

use super::query::Params;
use super::{Store, StoreError};
use crate::domain::ledger::Need;

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct AccountRecord {
    pub aid: String,
    pub name: String,
    pub kind: String,
    pub currency: String,
    pub opening_balance: i64,
    pub opening_date: String,
    pub archived: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Opening balance plus every transaction, in minor units of `currency`.
    pub balance: i64,
    pub transactions: i64,
}

/// What a change to an account may set; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub opening_balance: Option<i64>,
    pub opening_date: Option<String>,
    pub archived: Option<bool>,
}

const FIELDS: &str = "aid, name, kind, currency, opening_balance, opening_date, archived, created_at, updated_at, \
     opening_balance + (math::sum((SELECT VALUE amount FROM txn WHERE aid = $parent.aid)) ?? 0) AS balance, \
     array::len((SELECT VALUE tid FROM txn WHERE aid = $parent.aid)) AS transactions";

impl Store {
    pub async fn create_account(
        &self,
        actor: &str,
        bid: &str,
        account: &AccountRecord,
    ) -> Result<AccountRecord, StoreError> {
        let mut rows: Vec<AccountRecord> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                &format!("account {:?}", account.name),
                &format!(
                    "CREATE account SET aid = $aid, bid = $book, name = $name, kind = $kind, currency = $currency, \
                     opening_balance = $opening_balance, opening_date = $opening_date, archived = false, \
                     created_at = $now, updated_at = $now;\n\
                     SELECT {FIELDS} FROM account WHERE aid = $aid;"
                ),
                Params::new()
                    .with("aid", account.aid.clone())
                    .with("name", account.name.clone())
                    .with("kind", account.kind.clone())
                    .with("currency", account.currency.clone())
                    .with("opening_balance", account.opening_balance)
                    .with("opening_date", account.opening_date.clone())
                    .with("now", account.created_at),
            )
            .await?;
        rows.pop()
            .ok_or_else(|| StoreError::Query("the new account was not found".into()))
    }

    pub async fn accounts(&self, actor: &str, bid: &str) -> Result<Vec<AccountRecord>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Read,
            "account",
            &format!("SELECT {FIELDS} FROM account WHERE bid = $book ORDER BY archived, name;"),
            Params::new(),
        )
        .await
    }

    pub async fn account(
        &self,
        actor: &str,
        bid: &str,
        aid: &str,
    ) -> Result<Option<AccountRecord>, StoreError> {
        let mut rows: Vec<AccountRecord> = self
            .guarded(
                actor,
                bid,
                Need::Read,
                "account",
                &format!("SELECT {FIELDS} FROM account WHERE bid = $book AND aid = $aid;"),
                Params::new().with("aid", aid.to_string()),
            )
            .await?;
        Ok(rows.pop())
    }

    pub async fn update_account(
        &self,
        actor: &str,
        bid: &str,
        aid: &str,
        change: &AccountChange,
        now: i64,
    ) -> Result<Option<AccountRecord>, StoreError> {
        let what = change
            .name
            .as_ref()
            .map_or_else(|| "account".to_string(), |n| format!("account {n:?}"));
        let mut rows: Vec<AccountRecord> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                &what,
                &format!(
                    "UPDATE account SET name = $name ?? name, kind = $kind ?? kind, \
                     opening_balance = $opening_balance ?? opening_balance, opening_date = $opening_date ?? opening_date, \
                     archived = $archived ?? archived, updated_at = $now WHERE bid = $book AND aid = $aid;\n\
                     SELECT {FIELDS} FROM account WHERE bid = $book AND aid = $aid;"
                ),
                Params::new()
                    .with("aid", aid.to_string())
                    .with("name", change.name.clone())
                    .with("kind", change.kind.clone())
                    .with("opening_balance", change.opening_balance)
                    .with("opening_date", change.opening_date.clone())
                    .with("archived", change.archived)
                    .with("now", now),
            )
            .await?;
        Ok(rows.pop())
    }

    /// Deletes an account that has no transactions; `false` when there is none.
    pub async fn delete_account(
        &self,
        actor: &str,
        bid: &str,
        aid: &str,
    ) -> Result<bool, StoreError> {
        let deleted: Vec<serde_json::Value> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "account",
                &format!(
                    "IF array::len((SELECT VALUE tid FROM txn WHERE bid = $book AND aid = $aid LIMIT 1)) > 0 \
                     {{ THROW \"{refused}: the account has transactions; archive it, or delete them first\" }};\n\
                     DELETE account WHERE bid = $book AND aid = $aid RETURN BEFORE;",
                    refused = super::guard::REFUSED
                ),
                Params::new().with("aid", aid.to_string()),
            )
            .await?;
        Ok(!deleted.is_empty())
    }
}
