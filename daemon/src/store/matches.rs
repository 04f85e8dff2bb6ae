//! Receipts proposed as the ones bank lines paid, and their owners'
//! decisions. Accepting attaches the receipt to the line's transaction in
//! the same database transaction that records the decision, so a pair is
//! one transaction with its receipt, never two.

use surrealdb::types::SurrealValue;

use super::guard::{MISSING, REFUSED};
use super::query::{Params, page_after_cursor};
use super::transactions::FIELDS as TXN_FIELDS;
use super::{Store, StoreError, TxnRecord};
use crate::domain::ledger::Need;

#[derive(Debug, Clone, PartialEq, SurrealValue)]
pub struct MatchRecord {
    pub mid: String,
    pub bid: String,
    pub rid: String,
    pub tid: String,
    /// The receipt's owner: the only one who sees the proposal.
    pub owner_uid: String,
    pub score: f64,
    /// `proposed`, `accepted` or `rejected`.
    pub state: String,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

const FIELDS: &str = "mid, bid, rid, tid, owner_uid, score, state, created_at, decided_at";

/// Stops unless `$rid` is on no transaction at all. (A receipt is
/// attached rarely; this reads the whole table, once per decision.)
fn unattached_check() -> String {
    format!(
        "IF array::len((SELECT VALUE tid FROM txn WHERE $rid IN receipts LIMIT 1)) > 0 \
         {{ THROW \"{REFUSED}: the receipt is attached to a transaction already\" }};"
    )
}

impl Store {
    /// Transactions of the book that could be the payments of receipts:
    /// one of these amounts, dated `from` to `to`, no receipt yet, not a
    /// transfer; at most `limit`, in order of date and id, after the
    /// `(date, tid)` of the last one of the page before, if any.
    pub async fn match_candidates(
        &self,
        actor: &str,
        bid: &str,
        (from, to): (&str, &str),
        amounts: &[i64],
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<TxnRecord>, StoreError> {
        let select = |days: &str| {
            format!(
                "SELECT {TXN_FIELDS} FROM txn WHERE bid = $book AND {days} AND date <= $to \
                 AND amount IN $amounts AND transfer_id = NONE \
                 AND array::len(receipts) = 0 ORDER BY date, tid LIMIT $limit"
            )
        };
        let query = match after {
            None => format!("{};", select("date >= $from")),
            Some(_) => page_after_cursor(
                select,
                "date = $after_date AND tid > $after_tid",
                "date > $after_date",
            ),
        };
        self.guarded(
            actor,
            bid,
            Need::Write,
            "transaction",
            &query,
            Params::new()
                .with("from", from.to_string())
                .with("to", to.to_string())
                .with("after_date", after.map(|(d, _)| d.to_string()))
                .with("after_tid", after.map(|(_, t)| t.to_string()))
                .with("amounts", amounts.to_vec())
                .with("limit", limit as i64),
        )
        .await
    }

    /// Records proposals, each unless its pair was seen before (a
    /// rejected pair stays rejected) or its receipt has an open or
    /// accepted proposal already: the proposals written.
    pub async fn propose_matches(
        &self,
        actor: &str,
        bid: &str,
        proposals: &[MatchRecord],
    ) -> Result<Vec<MatchRecord>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Write,
            "match",
            &format!(
                "FOR $p IN $proposals {{ \
                 IF array::len((SELECT VALUE mid FROM receipt_match WHERE rid = $p.rid AND (tid = $p.tid OR state != 'rejected'))) = 0 {{ \
                 CREATE receipt_match SET mid = $p.mid, bid = $book, rid = $p.rid, tid = $p.tid, owner_uid = $p.owner_uid, \
                 score = $p.score, state = 'proposed', created_at = $p.created_at, decided_at = NONE }} }};\n\
                 SELECT {FIELDS} FROM receipt_match WHERE mid IN $mids;"
            ),
            Params::new()
                .with("proposals", proposals.to_vec())
                .with(
                    "mids",
                    proposals.iter().map(|p| p.mid.clone()).collect::<Vec<_>>(),
                ),
        )
        .await
    }

    /// The open proposals of the book for `actor`'s receipts, best first.
    pub async fn open_matches(
        &self,
        actor: &str,
        bid: &str,
    ) -> Result<Vec<MatchRecord>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Write,
            "match",
            &format!(
                "SELECT {FIELDS} FROM receipt_match WHERE bid = $book AND owner_uid = $actor AND state = 'proposed' \
                 ORDER BY score DESC, created_at LIMIT 1000;"
            ),
            Params::new(),
        )
        .await
    }

    /// The book's transactions of these ids.
    pub async fn transactions_by_id(
        &self,
        actor: &str,
        bid: &str,
        tids: &[String],
    ) -> Result<Vec<TxnRecord>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Read,
            "transaction",
            &format!("SELECT {TXN_FIELDS} FROM txn WHERE tid IN $tids AND bid = $book;"),
            Params::new().with("tids", tids.to_vec()),
        )
        .await
    }

    /// Accepts `actor`'s open proposal: its receipt goes onto its
    /// transaction, and the other open proposals of either end are
    /// rejected. The transaction as it is now.
    pub async fn accept_match(
        &self,
        actor: &str,
        bid: &str,
        mid: &str,
        now: i64,
    ) -> Result<TxnRecord, StoreError> {
        let mut rows: Vec<TxnRecord> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "match",
                &format!(
                    "LET $m = (SELECT rid, tid FROM receipt_match WHERE bid = $book AND mid = $mid \
                     AND owner_uid = $actor AND state = 'proposed')[0];\n\
                     IF $m = NONE {{ THROW \"{MISSING}: open proposal of yours of that id\" }};\n\
                     LET $rid = $m.rid;\n\
                     {unattached}\n\
                     IF array::len((SELECT VALUE tid FROM txn WHERE bid = $book AND tid = $m.tid AND array::len(receipts) = 0)) = 0 \
                     {{ THROW \"{REFUSED}: the bank line was deleted or has a receipt already\" }};\n\
                     UPDATE txn SET receipts = [$rid], rev = rev + 1, updated_at = $now WHERE bid = $book AND tid = $m.tid;\n\
                     UPDATE receipt_match SET state = 'accepted', decided_at = $now WHERE mid = $mid;\n\
                     UPDATE receipt_match SET state = 'rejected', decided_at = $now \
                     WHERE state = 'proposed' AND (rid = $m.rid OR tid = $m.tid);\n\
                     SELECT {TXN_FIELDS} FROM txn WHERE bid = $book AND tid = $m.tid;",
                    unattached = unattached_check()
                ),
                Params::new()
                    .with("mid", mid.to_string())
                    .with("now", now),
            )
            .await?;
        rows.pop()
            .ok_or_else(|| StoreError::Query("the matched transaction was not found".into()))
    }

    /// Rejects `actor`'s open proposal; false when there is none of that id.
    pub async fn reject_match(
        &self,
        actor: &str,
        bid: &str,
        mid: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let rejected: Vec<String> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "match",
                "UPDATE receipt_match SET state = 'rejected', decided_at = $now \
                 WHERE bid = $book AND mid = $mid AND owner_uid = $actor AND state = 'proposed' RETURN VALUE mid;",
                Params::new()
                    .with("mid", mid.to_string())
                    .with("now", now),
            )
            .await?;
        Ok(!rejected.is_empty())
    }

    /// The transaction a receipt is attached to, in any book, if any.
    pub async fn receipt_attachment(&self, rid: &str) -> Result<Option<String>, StoreError> {
        self.first(
            "SELECT VALUE tid FROM txn WHERE $rid IN receipts LIMIT 1",
            Params::new().with("rid", rid.to_string()),
        )
        .await
    }

    /// The open proposal of a receipt in the book, if any.
    pub async fn open_match_of(
        &self,
        actor: &str,
        bid: &str,
        rid: &str,
    ) -> Result<Option<MatchRecord>, StoreError> {
        let mut rows: Vec<MatchRecord> = self
            .guarded(
                actor,
                bid,
                Need::Read,
                "match",
                &format!(
                    "SELECT {FIELDS} FROM receipt_match WHERE bid = $book AND rid = $rid AND state = 'proposed' LIMIT 1;"
                ),
                Params::new().with("rid", rid.to_string()),
            )
            .await?;
        Ok(rows.pop())
    }
}
