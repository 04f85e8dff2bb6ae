//! Reports as tables: one shape for JSON and CSV alike, so an export says
//! exactly what the API says. The sums are `domain::reports`'.

use std::collections::HashMap;

use super::{Ledger, actor};
use crate::domain::ledger::Need;
use crate::domain::reports::{self, AccountStart, Entry};
use crate::import::{self, Field};
use crate::service::ServiceError;
use crate::service::auth::sessions::Principal;
use crate::store::{CategoryRecord, MonthTotal, ReportRow};
use crate::support::{iso_date, unix_now};

/// The reports there are.
pub const REPORT_KINDS: [&str; 4] = [
    "spending-by-category",
    "income-expense",
    "balances",
    "top-payees",
];

/// The most months one report covers.
pub const MAX_REPORT_MONTHS: usize = 120;

/// Payees `top-payees` lists per currency unless told otherwise, and at most.
const DEFAULT_TOP_PAYEES: usize = 20;
const MAX_TOP_PAYEES: usize = 1_000;

/// A value in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Empty,
}

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Self {
        v.map_or(Cell::Empty, Cell::Text)
    }
}

/// A report: named columns and rows of cells in that order.
#[derive(Debug, Clone)]
pub struct Report {
    pub kind: String,
    /// `YYYY-MM`, both included.
    pub from: String,
    pub to: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// What a report is asked for.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    /// `YYYY-MM`; 11 months before `to` when absent.
    pub from: Option<String>,
    /// `YYYY-MM`; this month when absent.
    pub to: Option<String>,
    /// `top-payees`: how many per currency.
    pub limit: Option<usize>,
}

/// Transactions as entries, one each.
fn entries(rows: Vec<ReportRow>) -> Vec<Entry> {
    rows.into_iter()
        .map(|r| Entry {
            date: r.date,
            account_id: r.aid,
            amount: r.amount,
            currency: r.currency,
            category_id: r.cid,
            splits: r.splits.into_iter().map(|s| (s.cid, s.amount)).collect(),
            transfer: r.transfer,
            payee: r.payee,
            count: 1,
        })
        .collect()
}

/// A monthly sum as one entry standing for its transactions.
fn summed(total: MonthTotal) -> Entry {
    Entry {
        date: format!("{}-01", total.month),
        account_id: total.aid,
        amount: total.total,
        currency: total.currency,
        category_id: total.cid,
        splits: Vec::new(),
        transfer: total.flow == reports::TRANSFER,
        payee: String::new(),
        count: total.n,
    }
}

/// The month after `to`, where a range of months ending with `to` stops.
fn until(to: &str) -> Result<String, ServiceError> {
    reports::next_month(to).ok_or_else(|| ServiceError::Invalid(format!("{to:?} is not a month")))
}

fn month_of(field: &str, text: &str) -> Result<String, ServiceError> {
    let months = reports::months_between(text, text);
    months.into_iter().next().ok_or_else(|| {
        ServiceError::Invalid(format!("{field} must be a month as YYYY-MM, not {text:?}"))
    })
}

/// The months a query covers.
fn months(query: &ReportQuery) -> Result<Vec<String>, ServiceError> {
    let this_month = iso_date(unix_now())[..7].to_string();
    let to = match &query.to {
        Some(to) => month_of("to", to)?,
        None => this_month,
    };
    let from = match &query.from {
        Some(from) => month_of("from", from)?,
        None => {
            let (y, m): (i32, i32) = (
                to[..4].parse().unwrap_or(2000),
                to[5..].parse().unwrap_or(1),
            );
            let index = y * 12 + (m - 1) - 11;
            format!(
                "{:04}-{:02}",
                index.div_euclid(12),
                index.rem_euclid(12) + 1
            )
        }
    };
    let months = reports::months_between(&from, &to);
    if months.is_empty() {
        return Err(ServiceError::Invalid(format!(
            "from ({from}) is after to ({to})"
        )));
    }
    if months.len() > MAX_REPORT_MONTHS {
        return Err(ServiceError::Invalid(format!(
            "a report covers at most {MAX_REPORT_MONTHS} months"
        )));
    }
    Ok(months)
}

impl Report {
    /// The report as CSV: the same columns and rows as its JSON, formulas
    /// escaped.
    pub fn csv(&self) -> Vec<u8> {
        let rows = self.rows.iter().map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Cell::Text(t) => Field::Text(t),
                    Cell::Int(n) => Field::Number(*n),
                    Cell::Empty => Field::Empty,
                })
                .collect()
        });
        import::export_csv(&self.columns, rows)
    }
}

impl Ledger {
    pub async fn report(
        &self,
        principal: &Principal,
        bid: &str,
        kind: &str,
        query: ReportQuery,
    ) -> Result<Report, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        if !REPORT_KINDS.contains(&kind) {
            return Err(ServiceError::NotFound(format!(
                "no report {kind:?}; there are {}",
                REPORT_KINDS.join(", ")
            )));
        }
        let months = months(&query)?;
        let (from, to) = (months[0].clone(), months[months.len() - 1].clone());
        let limit = query.limit.unwrap_or(DEFAULT_TOP_PAYEES);
        if limit == 0 || limit > MAX_TOP_PAYEES {
            return Err(ServiceError::Invalid(format!(
                "limit must be 1 to {MAX_TOP_PAYEES}"
            )));
        }
        let (columns, rows) = match kind {
            "spending-by-category" => {
                let entries = self.by_category_entries(actor, bid, &from, &to).await?;
                let categories = self.store.categories(actor, bid).await?;
                spending_table(&entries, &categories)
            }
            "income-expense" => income_table(&self.summed_entries(actor, bid, &from, &to).await?),
            "top-payees" => {
                let rows = self
                    .store
                    .report_rows(actor, bid, &format!("{from}-01"), &format!("{to}-31"))
                    .await?;
                payees_table(&entries(rows), limit)
            }
            _ => {
                let entries = self.summed_entries(actor, bid, &from, &to).await?;
                self.balances_table(actor, bid, &entries, &months).await?
            }
        };
        Ok(Report {
            kind: kind.to_string(),
            from,
            to,
            columns,
            rows,
        })
    }

    /// The book's monthly sums from month `from` to month `to`, one entry
    /// each: enough for every report but the categories of split parts.
    pub(super) async fn summed_entries(
        &self,
        actor: &str,
        bid: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<Entry>, ServiceError> {
        Ok(self
            .month_totals(actor, bid, from, to)
            .await?
            .into_iter()
            .map(summed)
            .collect())
    }

    /// The entries category reports need: the monthly sums of unsplit
    /// transactions, and split transactions one by one with their parts.
    pub(super) async fn by_category_entries(
        &self,
        actor: &str,
        bid: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<Entry>, ServiceError> {
        let sums = self
            .store
            .category_sums(actor, bid, from, &until(to)?)
            .await?;
        let mut entries: Vec<Entry> = sums.totals.into_iter().map(summed).collect();
        entries.extend(self::entries(sums.splits));
        Ok(entries)
    }

    async fn month_totals(
        &self,
        actor: &str,
        bid: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<MonthTotal>, ServiceError> {
        Ok(self
            .store
            .month_totals(actor, bid, from, &until(to)?)
            .await?)
    }

    async fn balances_table(
        &self,
        actor: &str,
        bid: &str,
        entries: &[Entry],
        months: &[String],
    ) -> Result<(Vec<&'static str>, Vec<Vec<Cell>>), ServiceError> {
        let accounts = self.store.accounts(actor, bid).await?;
        let before: HashMap<String, i64> = self
            .store
            .totals_before(actor, bid, &months[0])
            .await?
            .into_iter()
            .map(|t| (t.aid, t.total))
            .collect();
        let starts: Vec<AccountStart> = accounts
            .iter()
            .map(|a| AccountStart {
                account_id: a.aid.clone(),
                currency: a.currency.clone(),
                balance: a.opening_balance + before.get(&a.aid).copied().unwrap_or(0),
            })
            .collect();
        let names: HashMap<&str, &str> = accounts
            .iter()
            .map(|a| (a.aid.as_str(), a.name.as_str()))
            .collect();
        let rows = reports::balances(&starts, entries, months)
            .into_iter()
            .map(|p| {
                vec![
                    Cell::Text(p.month),
                    Cell::Text(
                        names
                            .get(p.account_id.as_str())
                            .copied()
                            .unwrap_or("")
                            .to_string(),
                    ),
                    Cell::Text(p.account_id),
                    Cell::Text(p.currency),
                    Cell::Int(p.balance),
                ]
            })
            .collect();
        Ok((
            vec!["month", "account", "account_id", "currency", "balance"],
            rows,
        ))
    }
}

fn spending_table(
    entries: &[Entry],
    categories: &[CategoryRecord],
) -> (Vec<&'static str>, Vec<Vec<Cell>>) {
    let by_id: HashMap<&str, &CategoryRecord> =
        categories.iter().map(|c| (c.cid.as_str(), c)).collect();
    let rows = reports::by_category(entries)
        .into_iter()
        .map(|c| {
            let category = c.category_id.as_deref().and_then(|id| by_id.get(id));
            let parent = category.map(|c| c.parent.clone()).filter(|p| !p.is_empty());
            vec![
                Cell::Text(c.month),
                category.map(|c| c.name.clone()).into(),
                c.category_id.into(),
                parent.into(),
                Cell::Text(c.currency),
                Cell::Int(c.flow.spent),
                Cell::Int(c.flow.received),
                Cell::Int(c.flow.net()),
                Cell::Int(c.flow.count),
            ]
        })
        .collect();
    (
        vec![
            "month",
            "category",
            "category_id",
            "parent_id",
            "currency",
            "spent",
            "received",
            "net",
            "count",
        ],
        rows,
    )
}

fn income_table(entries: &[Entry]) -> (Vec<&'static str>, Vec<Vec<Cell>>) {
    let rows = reports::income_expense(entries)
        .into_iter()
        .map(|m| {
            vec![
                Cell::Text(m.month),
                Cell::Text(m.currency),
                Cell::Int(m.flow.received),
                Cell::Int(m.flow.spent),
                Cell::Int(m.flow.net()),
                Cell::Int(m.flow.count),
            ]
        })
        .collect();
    (
        vec!["month", "currency", "income", "expense", "net", "count"],
        rows,
    )
}

fn payees_table(entries: &[Entry], limit: usize) -> (Vec<&'static str>, Vec<Vec<Cell>>) {
    let rows = reports::top_payees(entries, limit)
        .into_iter()
        .map(|p| {
            vec![
                Cell::Text(p.payee),
                Cell::Text(p.currency),
                Cell::Int(p.flow.spent),
                Cell::Int(p.flow.received),
                Cell::Int(p.flow.net()),
                Cell::Int(p.flow.count),
            ]
        })
        .collect();
    (
        vec!["payee", "currency", "spent", "received", "net", "count"],
        rows,
    )
}
