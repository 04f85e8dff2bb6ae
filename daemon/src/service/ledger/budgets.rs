//! Monthly budgets per category and currency, with what a month spent
//! against each (the category's own transactions and its subcategories').

use std::collections::HashSet;

use serde::Deserialize;

use super::{Ledger, actor, not_found};
use crate::domain::ledger::{self, Need};
use crate::domain::reports;
use crate::service::ServiceError;
use crate::service::auth::sessions::Principal;
use crate::store::BudgetRecord;
use crate::support::{iso_date, unix_now};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBudget {
    pub category_id: String,
    /// Minor units a month, at least 0.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub amount: i64,
    /// ISO 4217; the book's currency when absent.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

/// A budget and its month.
#[derive(Debug, Clone)]
pub struct BudgetMonth {
    pub budget: BudgetRecord,
    pub month: String,
    /// Money out less refunds in the category and its subcategories.
    pub spent: i64,
}

fn budget_amount(amount: i64) -> Result<i64, ServiceError> {
    let amount = ledger::amount("amount", amount)?;
    if amount < 0 {
        return Err(ServiceError::Invalid("amount must be at least 0".into()));
    }
    Ok(amount)
}

impl Ledger {
    pub async fn create_budget(
        &self,
        principal: &Principal,
        bid: &str,
        new: NewBudget,
    ) -> Result<BudgetRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        let currency = match new.currency {
            Some(c) => ledger::currency("currency", &c)?,
            None => self.store.book(actor, bid).await?.currency,
        };
        let now = unix_now();
        let record = BudgetRecord {
            bgid: crate::service::new_id()?,
            cid: new.category_id,
            currency,
            amount: budget_amount(new.amount)?,
            created_at: now,
            updated_at: now,
        };
        Ok(self.store.create_budget(actor, bid, &record).await?)
    }

    pub async fn update_budget(
        &self,
        principal: &Principal,
        bid: &str,
        bgid: &str,
        amount: i64,
    ) -> Result<BudgetRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        self.store
            .update_budget(actor, bid, bgid, budget_amount(amount)?, unix_now())
            .await?
            .ok_or_else(|| not_found("budget"))
    }

    pub async fn delete_budget(
        &self,
        principal: &Principal,
        bid: &str,
        bgid: &str,
    ) -> Result<(), ServiceError> {
        let actor = actor(principal, Need::Write)?;
        if self.store.delete_budget(actor, bid, bgid).await? {
            Ok(())
        } else {
            Err(not_found("budget"))
        }
    }

    /// Every budget of the book with what `month` (`YYYY-MM`, this month
    /// when absent) spent against it.
    pub async fn budgets(
        &self,
        principal: &Principal,
        bid: &str,
        month: Option<String>,
    ) -> Result<Vec<BudgetMonth>, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        let month = match month {
            Some(m) if reports::months_between(&m, &m).len() == 1 => m,
            Some(m) => {
                return Err(ServiceError::Invalid(format!(
                    "month must be YYYY-MM, not {m:?}"
                )));
            }
            None => iso_date(unix_now())[..7].to_string(),
        };
        let budgets = self.store.budgets(actor, bid).await?;
        if budgets.is_empty() {
            return Ok(Vec::new());
        }
        let categories = self.store.categories(actor, bid).await?;
        let entries = self.by_category_entries(actor, bid, &month, &month).await?;
        Ok(budgets
            .into_iter()
            .map(|budget| {
                let family: HashSet<&str> = categories
                    .iter()
                    .filter(|c| c.cid == budget.cid || c.parent == budget.cid)
                    .map(|c| c.cid.as_str())
                    .collect();
                let spent = reports::spent_in(&entries, &family, &budget.currency);
                BudgetMonth {
                    budget,
                    month: month.clone(),
                    spent,
                }
            })
            .collect())
    }
}
