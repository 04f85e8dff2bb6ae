//! Receipts meet the ledger. A read receipt is confirmed into a new
//! transaction (its line items as split parts where categories are given),
//! or found as the payment behind a bank line: after an import commits,
//! after a receipt is read, and on demand, fin proposes each unmatched
//! receipt's best line (`domain::matching`), and the receipt's owner
//! accepts (the receipt is attached: one transaction, never two) or
//! rejects (the pair is never proposed again).

use std::sync::Arc;

use serde::Deserialize;

use super::{Ledger, NewTransaction, SplitInput, actor, not_found};
use crate::domain::ledger::{BookRole, Need};
use crate::domain::matching::{self, DAYS_AFTER, DAYS_BEFORE, LineFacts, ReceiptFacts};
use crate::service::ServiceError;
use crate::service::auth::sessions::Principal;
use crate::service::receipts::{FieldsChanged, ReceiptView};
use crate::store::{MatchRecord, ReceiptRecord, StoreError, TxnRecord};
use crate::support::unix_now;

/// Receipts read at once by a search after an import (it reads them all,
/// a page at a time, in order of date, so a page's lines are those of a
/// stretch of days).
const RECEIPTS_PER_PAGE: u32 = 1_000;
/// Bank lines read at once for one page of receipts (all are read, a
/// page at a time).
const CANDIDATES_PER_PAGE: usize = 10_000;
/// Bank lines kept for one page of receipts, at most: a bound on memory
/// (about 100 MB) should a thousand receipts share their amounts with a
/// whole book.
const MAX_CANDIDATES: usize = 100_000;

/// A line item's category, for confirming a receipt as a split.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemCategory {
    /// The item's place in the receipt's `items`, from 0.
    #[schema(minimum = 0, maximum = 1000)]
    pub item: usize,
    #[schema(min_length = 1, max_length = 64)]
    pub category_id: String,
}

/// How to record a read receipt as a transaction. Fields left out come
/// from the receipt as read and corrected.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmReceipt {
    #[schema(min_length = 1, max_length = 64)]
    pub account_id: String,
    /// The category of the whole (or of what no item category covers).
    #[schema(min_length = 1, max_length = 64)]
    pub category_id: Option<String>,
    /// Categories of line items: the transaction is split by them, the
    /// rest (tax, rounding, items without one) in `category_id`.
    #[schema(max_items = 100)]
    pub items: Option<Vec<ItemCategory>>,
    /// The receipt's merchant when left out.
    #[schema(max_length = 200)]
    pub payee: Option<String>,
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

/// What a search for matches covers: bank lines dated `from` to `to`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchSearch {
    /// `YYYY-MM-DD`; 90 days before `to` when left out.
    #[schema(format = Date)]
    pub from: Option<String>,
    /// `YYYY-MM-DD`; today when left out.
    #[schema(format = Date)]
    pub to: Option<String>,
}

/// An open proposal with both ends.
#[derive(Debug, Clone)]
pub struct MatchView {
    pub record: MatchRecord,
    pub receipt: ReceiptFacts,
    pub transaction: TxnRecord,
}

/// What the matcher needs of a receipt: `None` until it has a total and
/// a date.
fn facts(receipt: ReceiptRecord) -> Option<ReceiptFacts> {
    let fields = ReceiptView { receipt, job: None }.fields();
    Some(ReceiptFacts {
        total: fields.total?.value,
        currency: fields.currency.map(|c| c.value).unwrap_or_default(),
        date: fields.date?.value,
        merchant: fields.merchant.map(|m| m.value).unwrap_or_default(),
    })
}

fn line(t: &TxnRecord) -> LineFacts {
    LineFacts {
        amount: t.amount,
        currency: t.currency.clone(),
        date: t.date.clone(),
        payee: t.payee.clone(),
        description: t.description.clone(),
    }
}

impl Ledger {
    /// Records a read receipt of the caller's as a new transaction with
    /// the receipt attached.
    pub async fn confirm_receipt(
        &self,
        principal: &Principal,
        bid: &str,
        rid: &str,
        confirm: ConfirmReceipt,
    ) -> Result<TxnRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        self.require_writer(actor, bid).await?;
        let record = self
            .store
            .receipt(actor, rid)
            .await?
            .ok_or_else(|| ServiceError::NotFound("you have no such receipt".into()))?;
        if let Some(tid) = self.store.receipt_attachment(rid).await? {
            return Err(ServiceError::Conflict(format!(
                "the receipt is attached to transaction {tid} already"
            )));
        }
        if let Some(open) = self.store.open_match_of(actor, bid, rid).await? {
            return Err(ServiceError::Conflict(format!(
                "the receipt looks like the payment of bank line {}: accept or reject match {} first",
                open.tid, open.mid
            )));
        }
        let fields = ReceiptView {
            receipt: record,
            job: None,
        }
        .fields();
        let total = fields.total.as_ref().map(|t| t.value).ok_or_else(|| {
            ServiceError::Invalid("the receipt has no total: correct it first".into())
        })?;
        let date = fields
            .date
            .as_ref()
            .map(|d| d.value.clone())
            .ok_or_else(|| {
                ServiceError::Invalid("the receipt has no date: correct it first".into())
            })?;
        let account = self.body_account(actor, bid, &confirm.account_id).await?;
        if let Some(currency) = fields.currency.as_ref().map(|c| &c.value)
            && *currency != account.currency
        {
            return Err(ServiceError::Invalid(format!(
                "the receipt is in {currency}, the account in {}",
                account.currency
            )));
        }
        let (category_id, splits) = split_by_items(&fields.items, total, &confirm)?;
        let new = NewTransaction {
            account_id: account.aid,
            date,
            amount: -total,
            payee: confirm
                .payee
                .or_else(|| fields.merchant.map(|m| m.value.chars().take(200).collect())),
            description: None,
            category_id,
            tags: confirm.tags,
            notes: confirm.notes,
            state: None,
            splits,
            receipts: Some(vec![rid.to_string()]),
        };
        self.create_transaction(principal, bid, new).await
    }

    /// Looks for bank lines dated in `search`'s range that pay the
    /// caller's unmatched receipts, and proposes the best of each.
    pub async fn find_matches(
        &self,
        principal: &Principal,
        bid: &str,
        search: MatchSearch,
    ) -> Result<Vec<MatchView>, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        let to = match search.to {
            Some(to) => crate::domain::ledger::date("to", &to)?,
            None => crate::support::iso_date(unix_now()),
        };
        let from = match search.from {
            Some(from) => crate::domain::ledger::date("from", &from)?,
            None => matching::shift_day(&to, -90).unwrap_or_else(|| to.clone()),
        };
        self.propose_for_lines(actor, bid, &from, &to).await?;
        self.matches(principal, bid).await
    }

    /// Proposes matches for `actor`'s receipts among the book's lines
    /// dated `from` to `to` (after an import, those it brought).
    pub(super) async fn propose_for_lines(
        &self,
        actor: &str,
        bid: &str,
        from: &str,
        to: &str,
    ) -> Result<usize, ServiceError> {
        // A receipt is dated before its line, at most DAYS_AFTER days.
        let (Some(first), Some(last)) = (
            matching::shift_day(from, -DAYS_AFTER),
            matching::shift_day(to, DAYS_BEFORE),
        ) else {
            return Ok(0);
        };
        let mut proposed = 0;
        let mut after: Option<(String, String)> = None;
        loop {
            let page = self
                .store
                .read_receipts_between(
                    actor,
                    (&first, &last),
                    after.as_ref().map(|(d, r)| (d.as_str(), r.as_str())),
                    RECEIPTS_PER_PAGE,
                )
                .await?;
            let full = page.len() == RECEIPTS_PER_PAGE as usize;
            after = page
                .last()
                .and_then(|r| Some((r.receipt_date.clone()?, r.rid.clone())));
            let receipts: Vec<(String, ReceiptFacts)> = page
                .into_iter()
                .filter_map(|r| {
                    let rid = r.rid.clone();
                    facts(r).map(|f| (rid, f))
                })
                .collect();
            let facts: Vec<&ReceiptFacts> = receipts.iter().map(|(_, f)| f).collect();
            let lines = self
                .candidates(actor, bid, &facts, CANDIDATES_PER_PAGE)
                .await?;
            let mut proposals = Vec::new();
            for (rid, receipt) in &receipts {
                if let Some(best) = best_line(&lines, receipt) {
                    proposals.push(proposal(bid, rid, actor, best)?);
                }
            }
            proposed += self
                .store
                .propose_matches(actor, bid, &proposals)
                .await?
                .len();
            if !full || after.is_none() {
                return Ok(proposed);
            }
        }
    }

    /// Proposes a just-read receipt's best line in each book its owner
    /// may write to. Errors are the caller's to log: reading succeeded.
    pub async fn propose_for_receipt(&self, rid: &str) -> Result<usize, ServiceError> {
        let Some(receipt) = self.store.receipt_for_job(rid).await? else {
            return Ok(0);
        };
        let owner = receipt.owner_uid.clone();
        let Some(facts) = facts(receipt) else {
            return Ok(0);
        };
        let mut proposed = 0;
        for book in self.store.books_of(&owner).await? {
            if !BookRole::parse(&book.role).is_some_and(BookRole::can_write) {
                continue;
            }
            let lines = self
                .candidates(&owner, &book.bid, &[&facts], CANDIDATES_PER_PAGE)
                .await?;
            if let Some(best) = best_line(&lines, &facts) {
                let p = proposal(&book.bid, rid, &owner, best)?;
                proposed += self
                    .store
                    .propose_matches(&owner, &book.bid, &[p])
                    .await?
                    .len();
            }
        }
        Ok(proposed)
    }

    /// The book's lines that could have paid any of the receipts: their
    /// amounts, dated within the window of the earliest and the latest
    /// receipt; read `page` at a time, in order of date, so that the
    /// latest receipts' lines are read too (up to MAX_CANDIDATES).
    pub(super) async fn candidates(
        &self,
        actor: &str,
        bid: &str,
        receipts: &[&ReceiptFacts],
        page: usize,
    ) -> Result<Vec<TxnRecord>, ServiceError> {
        let dates = receipts.iter().map(|r| r.date.as_str());
        let (Some(first), Some(last)) = (dates.clone().min(), dates.max()) else {
            return Ok(Vec::new());
        };
        let (Some(from), Some(to)) = (
            matching::shift_day(first, -DAYS_BEFORE),
            matching::shift_day(last, DAYS_AFTER),
        ) else {
            return Ok(Vec::new());
        };
        let mut amounts: Vec<i64> = receipts.iter().map(|r| -r.total).collect();
        amounts.sort_unstable();
        amounts.dedup();
        let mut lines: Vec<TxnRecord> = Vec::new();
        loop {
            let after = lines.last().map(|t| (t.date.as_str(), t.tid.as_str()));
            let more = self
                .store
                .match_candidates(actor, bid, (&from, &to), &amounts, after, page)
                .await?;
            let full = more.len() == page;
            lines.extend(more);
            if !full {
                return Ok(lines);
            }
            if lines.len() >= MAX_CANDIDATES {
                tracing::warn!(book = %bid, lines = lines.len(), "receipt matching read its most candidate lines; later lines are not proposed");
                return Ok(lines);
            }
        }
    }

    /// The caller's open proposals in the book, best first, with both ends.
    pub async fn matches(
        &self,
        principal: &Principal,
        bid: &str,
    ) -> Result<Vec<MatchView>, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        let open = self.store.open_matches(actor, bid).await?;
        let tids: Vec<String> = open.iter().map(|m| m.tid.clone()).collect();
        let lines = self.store.transactions_by_id(actor, bid, &tids).await?;
        let rids: Vec<String> = open.iter().map(|m| m.rid.clone()).collect();
        let receipts = self.store.receipts_by_id(actor, &rids).await?;
        let mut views = Vec::with_capacity(open.len());
        for record in open {
            // A line deleted or given a receipt since is no longer a candidate.
            let Some(transaction) = lines
                .iter()
                .find(|t| t.tid == record.tid && t.receipts.is_empty())
                .cloned()
            else {
                continue;
            };
            let Some(receipt) = receipts
                .iter()
                .find(|r| r.rid == record.rid)
                .cloned()
                .and_then(facts)
            else {
                continue;
            };
            views.push(MatchView {
                record,
                receipt,
                transaction,
            });
        }
        Ok(views)
    }

    /// Accepts a proposal: the receipt is attached to the bank line.
    pub async fn accept_match(
        &self,
        principal: &Principal,
        bid: &str,
        mid: &str,
    ) -> Result<TxnRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        match self.store.accept_match(actor, bid, mid, unix_now()).await {
            Err(StoreError::Missing(_)) => Err(not_found("proposal of yours")),
            other => Ok(other?),
        }
    }

    /// Rejects a proposal: the pair is never proposed again.
    pub async fn reject_match(
        &self,
        principal: &Principal,
        bid: &str,
        mid: &str,
    ) -> Result<(), ServiceError> {
        let actor = actor(principal, Need::Write)?;
        if self.store.reject_match(actor, bid, mid, unix_now()).await? {
            Ok(())
        } else {
            Err(not_found("proposal of yours"))
        }
    }
}

/// What the receipts service is told to do when a receipt's fields change:
/// a receipt just read or corrected may be the one a bank line paid.
pub fn receipt_matcher(ledger: Arc<Ledger>) -> FieldsChanged {
    Arc::new(move |rid: String| {
        let ledger = ledger.clone();
        Box::pin(async move {
            if let Err(e) = ledger.propose_for_receipt(&rid).await {
                tracing::warn!(receipt = %rid, error = %e, "cannot look for the receipt's bank line");
            }
        })
    })
}

/// The line that best fits the receipt, with its score: the receipt's
/// amount, its currency (any when it names none), dated in its window;
/// the earlier line when two score alike.
fn best_line(lines: &[TxnRecord], receipt: &ReceiptFacts) -> Option<(TxnRecord, f64)> {
    lines
        .iter()
        .filter(|t| {
            t.amount == -receipt.total
                && (receipt.currency.is_empty() || t.currency == receipt.currency)
        })
        .filter_map(|t| {
            let mut facts = receipt.clone();
            if facts.currency.is_empty() {
                facts.currency = t.currency.clone();
            }
            matching::score(&facts, &line(t)).map(|s| (t, s))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.date.cmp(&a.0.date)))
        .map(|(t, s)| (t.clone(), s))
}

fn proposal(
    bid: &str,
    rid: &str,
    owner: &str,
    (line, score): (TxnRecord, f64),
) -> Result<MatchRecord, ServiceError> {
    Ok(MatchRecord {
        mid: crate::service::new_id()?,
        bid: bid.to_string(),
        rid: rid.to_string(),
        tid: line.tid,
        owner_uid: owner.to_string(),
        score,
        state: "proposed".into(),
        created_at: unix_now(),
        decided_at: None,
    })
}

/// The split parts a confirmation asks for: each categorised item as a
/// part, and what the items leave of the total (tax, discounts, items
/// without a category) as one more part in the whole's category; or,
/// when that makes one part only, no split and that part's category.
fn split_by_items(
    items: &[crate::domain::receipt::LineItem],
    total: i64,
    confirm: &ConfirmReceipt,
) -> Result<(Option<String>, Option<Vec<SplitInput>>), ServiceError> {
    let Some(chosen) = confirm.items.as_ref().filter(|c| !c.is_empty()) else {
        return Ok((confirm.category_id.clone(), None));
    };
    let mut parts = Vec::with_capacity(chosen.len() + 1);
    let mut covered: i64 = 0;
    let mut seen = std::collections::HashSet::new();
    for c in chosen {
        let item = items.get(c.item).ok_or_else(|| {
            ServiceError::Invalid(format!(
                "items names item {}, and the receipt has {}",
                c.item,
                items.len()
            ))
        })?;
        if !seen.insert(c.item) {
            return Err(ServiceError::Invalid(format!(
                "items names item {} twice",
                c.item
            )));
        }
        covered = covered.saturating_add(item.amount);
        parts.push(SplitInput {
            category_id: Some(c.category_id.clone()),
            amount: -item.amount,
            memo: Some(item.description.chars().take(200).collect()),
        });
    }
    let rest = total.saturating_sub(covered);
    if rest != 0 {
        parts.push(SplitInput {
            category_id: confirm.category_id.clone(),
            amount: -rest,
            memo: Some("rest of the receipt".into()),
        });
    }
    // One part alone is no split: the whole goes in that category.
    if parts.len() < 2 {
        return Ok((parts.pop().and_then(|p| p.category_id), None));
    }
    Ok((None, Some(parts)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::receipt::LineItem;

    fn item(description: &str, amount: i64) -> LineItem {
        LineItem {
            description: description.into(),
            quantity: None,
            unit_price: None,
            amount,
            confidence: 0.9,
            source: None,
        }
    }

    fn confirm(category: Option<&str>, items: &[(usize, &str)]) -> ConfirmReceipt {
        ConfirmReceipt {
            account_id: "a".into(),
            category_id: category.map(str::to_string),
            items: Some(
                items
                    .iter()
                    .map(|(item, c)| ItemCategory {
                        item: *item,
                        category_id: c.to_string(),
                    })
                    .collect(),
            ),
            payee: None,
            tags: None,
            notes: None,
        }
    }

    #[test]
    fn items_become_parts_and_the_rest_goes_to_the_whole() {
        let items = [item("Bread", 250), item("Soap", 400), item("Milk", 120)];
        let (category, parts) = split_by_items(
            &items,
            850,
            &confirm(Some("misc"), &[(0, "food"), (1, "home")]),
        )
        .expect("split");
        assert_eq!(category, None);
        let parts = parts.expect("parts");
        let summary: Vec<(Option<&str>, i64)> = parts
            .iter()
            .map(|p| (p.category_id.as_deref(), p.amount))
            .collect();
        assert_eq!(
            summary,
            [
                (Some("food"), -250),
                (Some("home"), -400),
                (Some("misc"), -200)
            ]
        );
        assert_eq!(parts.iter().map(|p| p.amount).sum::<i64>(), -850);
    }

    #[test]
    fn one_part_is_no_split_and_bad_items_are_named() {
        let items = [item("Everything", 850)];
        let (category, parts) =
            split_by_items(&items, 850, &confirm(None, &[(0, "food")])).expect("whole");
        assert_eq!((category.as_deref(), parts.is_none()), (Some("food"), true));
        let e = split_by_items(&items, 850, &confirm(None, &[(3, "food")])).expect_err("no item 3");
        assert!(e.to_string().contains("item 3"), "{e}");
        let e =
            split_by_items(&items, 850, &confirm(None, &[(0, "a"), (0, "b")])).expect_err("twice");
        assert!(e.to_string().contains("twice"), "{e}");
        let (category, parts) = split_by_items(
            &items,
            850,
            &ConfirmReceipt {
                items: None,
                ..confirm(Some("x"), &[])
            },
        )
        .expect("plain");
        assert_eq!((category.as_deref(), parts.is_none()), (Some("x"), true));
    }
}
