//! Transactions of a book: created one at a time or as a transfer pair,
//! listed with filters and a cursor, changed against the revision the
//! caller read, deleted with their transfer's other side.

use surrealdb::types::SurrealValue;

use super::guard::MISSING;
use super::query::{Params, page_after_cursor};
use super::{Store, StoreError};
use crate::domain::ledger::Need;

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct SplitRecord {
    pub cid: Option<String>,
    pub amount: i64,
    pub memo: String,
}

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct TxnRecord {
    pub tid: String,
    pub bid: String,
    pub aid: String,
    pub date: String,
    pub amount: i64,
    pub currency: String,
    pub payee: String,
    pub payee_folded: String,
    pub description: String,
    pub cid: Option<String>,
    pub tags: Vec<String>,
    pub notes: String,
    pub state: String,
    pub splits: Vec<SplitRecord>,
    pub receipts: Vec<String>,
    pub transfer_id: Option<String>,
    pub import_id: Option<String>,
    pub external_id: Option<String>,
    pub fingerprint: Option<String>,
    pub rev: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The fields a change writes: the whole editable part of the transaction,
/// merged by the service from what it read and what the caller sent.
#[derive(Debug, Clone)]
pub struct TxnChange {
    pub aid: String,
    pub date: String,
    pub amount: i64,
    pub payee: String,
    pub description: String,
    pub cid: Option<String>,
    pub tags: Vec<String>,
    pub notes: String,
    pub state: String,
    pub splits: Vec<SplitRecord>,
    pub receipts: Vec<String>,
}

/// Which transactions to list; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct TxnFilter {
    pub from: Option<String>,
    pub to: Option<String>,
    pub aid: Option<String>,
    /// In this category, directly or in a split part.
    pub cid: Option<String>,
    /// In the payee or the description, lower-cased.
    pub text: Option<String>,
    pub min_amount: Option<i64>,
    pub max_amount: Option<i64>,
    pub tag: Option<String>,
    pub uncategorised: bool,
    pub has_receipt: Option<bool>,
    /// Where the page before ended: the date and id of the last
    /// transaction it showed (the listing is newest first, then by id
    /// from the highest).
    pub after: Option<(String, String)>,
    pub limit: u32,
}

pub(super) const FIELDS: &str = "tid, bid, aid, date, amount, currency, payee, payee_folded, description, cid, tags, \
     notes, state, splits, receipts, transfer_id, import_id, external_id, fingerprint, rev, created_at, updated_at";

/// Stops unless every account in `$aids` and category in `$cids` is in the book.
fn references_check() -> String {
    format!(
        "IF array::len((SELECT VALUE aid FROM account WHERE bid = $book AND aid IN $aids)) != array::len($aids) \
         {{ THROW \"{MISSING}: account of that id\" }};\n\
         IF array::len((SELECT VALUE cid FROM category WHERE bid = $book AND cid IN $cids)) != array::len($cids) \
         {{ THROW \"{MISSING}: category of that id\" }};"
    )
}

/// The distinct account and category ids `rows` refer to.
fn references<'a>(
    rows: impl IntoIterator<Item = (&'a str, Option<&'a str>, &'a [SplitRecord])>,
) -> (Vec<String>, Vec<String>) {
    let mut aids = Vec::new();
    let mut cids = Vec::new();
    for (aid, cid, splits) in rows {
        aids.push(aid.to_string());
        cids.extend(cid.map(str::to_string));
        cids.extend(splits.iter().filter_map(|s| s.cid.clone()));
    }
    aids.sort();
    aids.dedup();
    cids.sort();
    cids.dedup();
    (aids, cids)
}

impl Store {
    /// Creates one transaction, or the two sides of a transfer, at once.
    pub async fn create_transactions(
        &self,
        actor: &str,
        bid: &str,
        rows: &[TxnRecord],
    ) -> Result<Vec<TxnRecord>, StoreError> {
        let (aids, cids) = references(
            rows.iter()
                .map(|r| (r.aid.as_str(), r.cid.as_deref(), r.splits.as_slice())),
        );
        let tids: Vec<String> = rows.iter().map(|r| r.tid.clone()).collect();
        self.guarded(
            actor,
            bid,
            Need::Write,
            "transaction",
            &format!(
                "{check}\n\
                 INSERT INTO txn $rows;\n\
                 SELECT {FIELDS} FROM txn WHERE tid IN $tids ORDER BY amount;",
                check = references_check()
            ),
            Params::new()
                .with("aids", aids)
                .with("cids", cids)
                .with("rows", rows.to_vec())
                .with("tids", tids),
        )
        .await
    }

    pub async fn transaction(
        &self,
        actor: &str,
        bid: &str,
        tid: &str,
    ) -> Result<Option<TxnRecord>, StoreError> {
        let mut rows: Vec<TxnRecord> = self
            .guarded(
                actor,
                bid,
                Need::Read,
                "transaction",
                &format!("SELECT {FIELDS} FROM txn WHERE bid = $book AND tid = $tid;"),
                Params::new().with("tid", tid.to_string()),
            )
            .await?;
        Ok(rows.pop())
    }

    /// A page of transactions, newest first (then by id, highest first),
    /// one more than `limit` when there is a next page. The order is the
    /// `(bid, date, tid)` index's, walked backwards, so a page reads about
    /// `limit` rows however large the book. A page after a cursor is the
    /// rest of the cursor's day (ids below its id) and then the days before
    /// it, each an index range: nothing added or removed meanwhile shifts
    /// a transaction from one page to another.
    pub async fn transactions(
        &self,
        actor: &str,
        bid: &str,
        filter: &TxnFilter,
    ) -> Result<Vec<TxnRecord>, StoreError> {
        // Fixed fragments only: the values are bound parameters.
        let mut conditions = vec!["bid = $book"];
        let f = filter;
        let on = |cond: bool, fragment: &'static str, list: &mut Vec<&'static str>| {
            if cond {
                list.push(fragment);
            }
        };
        on(f.from.is_some(), "date >= $from", &mut conditions);
        on(f.to.is_some(), "date <= $to", &mut conditions);
        on(f.aid.is_some(), "aid = $aid", &mut conditions);
        on(
            f.cid.is_some(),
            "(cid = $cid OR $cid IN splits.*.cid)",
            &mut conditions,
        );
        on(
            f.text.is_some(),
            "(string::contains(payee_folded, $text) OR string::contains(string::lowercase(description), $text))",
            &mut conditions,
        );
        on(
            f.min_amount.is_some(),
            "amount >= $min_amount",
            &mut conditions,
        );
        on(
            f.max_amount.is_some(),
            "amount <= $max_amount",
            &mut conditions,
        );
        on(f.tag.is_some(), "$tag IN tags", &mut conditions);
        on(
            f.uncategorised,
            "(cid = NONE AND array::len(splits) = 0 AND transfer_id = NONE)",
            &mut conditions,
        );
        on(
            f.has_receipt == Some(true),
            "array::len(receipts) > 0",
            &mut conditions,
        );
        on(
            f.has_receipt == Some(false),
            "array::len(receipts) = 0",
            &mut conditions,
        );
        let select = |more: &str| {
            format!(
                "SELECT {FIELDS} FROM txn WHERE {}{more} ORDER BY date DESC, tid DESC LIMIT $limit",
                conditions.join(" AND ")
            )
        };
        let query = match f.after {
            None => format!("{};", select("")),
            Some(_) => page_after_cursor(
                select,
                " AND date = $after_date AND tid < $after_tid",
                " AND date < $after_date",
            ),
        };
        let (after_date, after_tid) = f.after.clone().unzip();
        self.guarded(
            actor,
            bid,
            Need::Read,
            "transaction",
            &query,
            Params::new()
                .with("from", f.from.clone())
                .with("to", f.to.clone())
                .with("aid", f.aid.clone())
                .with("cid", f.cid.clone())
                .with("text", f.text.clone())
                .with("min_amount", f.min_amount)
                .with("max_amount", f.max_amount)
                .with("tag", f.tag.clone())
                .with("after_date", after_date)
                .with("after_tid", after_tid)
                .with("limit", i64::from(f.limit) + 1),
        )
        .await
    }

    /// Writes `change` over the transaction if it is still at revision
    /// `rev`; `None` when it is gone or was changed meanwhile. A transfer's
    /// other side follows its date.
    pub async fn update_transaction(
        &self,
        actor: &str,
        bid: &str,
        tid: &str,
        rev: i64,
        change: &TxnChange,
        now: i64,
    ) -> Result<Option<TxnRecord>, StoreError> {
        let (aids, cids) = references([(
            change.aid.as_str(),
            change.cid.as_deref(),
            change.splits.as_slice(),
        )]);
        let mut rows: Vec<TxnRecord> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "transaction",
                &format!(
                    "{check}\n\
                     LET $done = (UPDATE txn SET aid = $aid, date = $date, amount = $amount, payee = $payee, \
                     payee_folded = string::lowercase($payee), description = $description, cid = $cid, tags = $tags, \
                     notes = $notes, state = $state, splits = $splits, receipts = $receipts, rev = rev + 1, \
                     updated_at = $now WHERE bid = $book AND tid = $tid AND rev = $rev RETURN AFTER);\n\
                     IF array::len($done) > 0 AND $done[0].transfer_id != NONE {{ \
                     UPDATE txn SET date = $date, rev = rev + 1, updated_at = $now \
                     WHERE bid = $book AND transfer_id = $done[0].transfer_id AND tid != $tid }};\n\
                     SELECT {FIELDS} FROM txn WHERE bid = $book AND tid = $tid AND array::len($done) > 0;",
                    check = references_check()
                ),
                Params::new()
                    .with("aids", aids)
                    .with("cids", cids)
                    .with("tid", tid.to_string())
                    .with("rev", rev)
                    .with("aid", change.aid.clone())
                    .with("date", change.date.clone())
                    .with("amount", change.amount)
                    .with("payee", change.payee.clone())
                    .with("description", change.description.clone())
                    .with("cid", change.cid.clone())
                    .with("tags", change.tags.clone())
                    .with("notes", change.notes.clone())
                    .with("state", change.state.clone())
                    .with("splits", change.splits.clone())
                    .with("receipts", change.receipts.clone())
                    .with("now", now),
            )
            .await?;
        Ok(rows.pop())
    }

    /// Deletes a transaction and, for a transfer, its other side: the ids deleted.
    pub async fn delete_transaction(
        &self,
        actor: &str,
        bid: &str,
        tid: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Write,
            "transaction",
            "LET $pair = (SELECT VALUE transfer_id FROM txn WHERE bid = $book AND tid = $tid LIMIT 1)[0];\n\
             DELETE txn WHERE bid = $book AND (tid = $tid OR ($pair != NONE AND transfer_id = $pair)) RETURN VALUE $before.tid;",
            Params::new().with("tid", tid.to_string()),
        )
        .await
    }

    /// Puts plain (not split, not transfer) transactions in a category, or
    /// none: the ids changed.
    pub async fn categorise(
        &self,
        actor: &str,
        bid: &str,
        tids: &[String],
        cid: Option<String>,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let cids: Vec<String> = cid.iter().cloned().collect();
        self.guarded(
            actor,
            bid,
            Need::Write,
            "transaction",
            &format!(
                "IF array::len((SELECT VALUE cid FROM category WHERE bid = $book AND cid IN $cids)) != array::len($cids) \
                 {{ THROW \"{MISSING}: category of that id\" }};\n\
                 UPDATE txn SET cid = $cid, rev = rev + 1, updated_at = $now \
                 WHERE bid = $book AND tid IN $tids AND array::len(splits) = 0 AND transfer_id = NONE RETURN VALUE tid;"
            ),
            Params::new()
                .with("cids", cids)
                .with("cid", cid)
                .with("tids", tids.to_vec())
                .with("now", now),
        )
        .await
    }
}
