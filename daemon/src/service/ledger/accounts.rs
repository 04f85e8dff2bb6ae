//! Accounts: created with a currency that never changes (every amount in
//! the account is in it), renamed, archived, deleted while empty.

use serde::Deserialize;

use super::{Ledger, actor, not_found};
use crate::domain::ledger::{self, Need, is_account_kind};
use crate::service::ServiceError;
use crate::service::auth::sessions::Principal;
use crate::store::{AccountChange, AccountRecord};
use crate::support::unix_now;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// `checking`, `savings`, `credit_card`, `cash` or `loan`.
    #[schema(pattern = "^(checking|savings|credit_card|cash|loan)$")]
    pub kind: String,
    /// ISO 4217 code; the book's currency when left out. Never changes.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// Minor units of the currency (default 0).
    #[schema(minimum = -1_000_000_000_000_i64, maximum = 1_000_000_000_000_i64)]
    pub opening_balance: Option<i64>,
    /// `YYYY-MM-DD` (default today).
    #[schema(format = Date)]
    pub opening_date: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(pattern = "^(checking|savings|credit_card|cash|loan)$")]
    pub kind: Option<String>,
    #[schema(minimum = -1_000_000_000_000_i64, maximum = 1_000_000_000_000_i64)]
    pub opening_balance: Option<i64>,
    #[schema(format = Date)]
    pub opening_date: Option<String>,
    pub archived: Option<bool>,
}

fn kind(text: &str) -> Result<String, ServiceError> {
    if is_account_kind(text) {
        Ok(text.to_string())
    } else {
        Err(ServiceError::Invalid(format!(
            "kind must be one of {}, not {text:?}",
            ledger::ACCOUNT_KINDS.join(", ")
        )))
    }
}

impl Ledger {
    pub async fn create_account(
        &self,
        principal: &Principal,
        bid: &str,
        account: NewAccount,
    ) -> Result<AccountRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        let name = ledger::name("name", &account.name)?;
        let kind = kind(&account.kind)?;
        let opening_balance =
            ledger::amount("opening_balance", account.opening_balance.unwrap_or(0))?;
        let now = unix_now();
        let opening_date = match account.opening_date {
            Some(date) => ledger::date("opening_date", &date)?,
            None => crate::support::iso_date(now),
        };
        let currency = match account.currency {
            Some(code) => ledger::currency("currency", &code)?,
            None => self.store.book(actor, bid).await?.currency,
        };
        let record = AccountRecord {
            aid: crate::service::new_id()?,
            name,
            kind,
            currency,
            opening_balance,
            opening_date,
            archived: false,
            created_at: now,
            updated_at: now,
            balance: 0,
            transactions: 0,
        };
        Ok(self.store.create_account(actor, bid, &record).await?)
    }

    pub async fn accounts(
        &self,
        principal: &Principal,
        bid: &str,
    ) -> Result<Vec<AccountRecord>, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        Ok(self.store.accounts(actor, bid).await?)
    }

    pub async fn account(
        &self,
        principal: &Principal,
        bid: &str,
        aid: &str,
    ) -> Result<AccountRecord, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        self.store
            .account(actor, bid, aid)
            .await?
            .ok_or_else(|| not_found("account"))
    }

    pub async fn update_account(
        &self,
        principal: &Principal,
        bid: &str,
        aid: &str,
        patch: AccountPatch,
    ) -> Result<AccountRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        let change = AccountChange {
            name: patch.name.map(|n| ledger::name("name", &n)).transpose()?,
            kind: patch.kind.map(|k| kind(&k)).transpose()?,
            opening_balance: patch
                .opening_balance
                .map(|a| ledger::amount("opening_balance", a))
                .transpose()?,
            opening_date: patch
                .opening_date
                .map(|d| ledger::date("opening_date", &d))
                .transpose()?,
            archived: patch.archived,
        };
        self.store
            .update_account(actor, bid, aid, &change, unix_now())
            .await?
            .ok_or_else(|| not_found("account"))
    }

    pub async fn delete_account(
        &self,
        principal: &Principal,
        bid: &str,
        aid: &str,
    ) -> Result<(), ServiceError> {
        let actor = actor(principal, Need::Write)?;
        if self.store.delete_account(actor, bid, aid).await? {
            Ok(())
        } else {
            Err(not_found("account"))
        }
    }
}
