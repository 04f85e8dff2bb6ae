//! A book's rules, in their order, and the changes applying them writes.

use surrealdb::types::SurrealValue;

use super::guard::{MISSING, REFUSED};
use super::query::Params;
use super::{Store, StoreError};
use crate::domain::ledger::Need;
use crate::domain::rules::MAX_RULES;

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct RuleRecord {
    pub rid: String,
    pub position: i64,
    pub name: String,
    pub payee_match: Option<String>,
    pub payee_value: Option<String>,
    pub description_match: Option<String>,
    pub description_value: Option<String>,
    pub min_amount: Option<i64>,
    pub max_amount: Option<i64>,
    pub aid: Option<String>,
    pub set_cid: Option<String>,
    pub set_payee: Option<String>,
    pub add_tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What applying the rules changes on one transaction, if it is still at
/// revision `rev`.
#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct RuleChange {
    pub tid: String,
    pub rev: i64,
    pub cid: Option<String>,
    pub payee: String,
    pub tags: Vec<String>,
}

const FIELDS: &str = "rid, position, name, payee_match, payee_value, description_match, description_value, \
     min_amount, max_amount, aid, set_cid, set_payee, add_tags, created_at, updated_at";

/// Stops unless the rule's account and category, if it names them, are in the book.
fn references_check() -> String {
    format!(
        "IF $aid != NONE AND array::len((SELECT VALUE aid FROM account WHERE bid = $book AND aid = $aid)) = 0 \
         {{ THROW \"{MISSING}: account of that id\" }};\n\
         IF $set_cid != NONE AND array::len((SELECT VALUE cid FROM category WHERE bid = $book AND cid = $set_cid)) = 0 \
         {{ THROW \"{MISSING}: category of that id\" }};"
    )
}

fn rule_params(rule: &RuleRecord) -> Params {
    Params::new()
        .with("rid", rule.rid.clone())
        .with("name", rule.name.clone())
        .with("payee_match", rule.payee_match.clone())
        .with("payee_value", rule.payee_value.clone())
        .with("description_match", rule.description_match.clone())
        .with("description_value", rule.description_value.clone())
        .with("min_amount", rule.min_amount)
        .with("max_amount", rule.max_amount)
        .with("aid", rule.aid.clone())
        .with("set_cid", rule.set_cid.clone())
        .with("set_payee", rule.set_payee.clone())
        .with("add_tags", rule.add_tags.clone())
        .with("now", rule.updated_at)
}

const SET_FIELDS: &str = "name = $name, payee_match = $payee_match, payee_value = $payee_value, \
     description_match = $description_match, description_value = $description_value, \
     min_amount = $min_amount, max_amount = $max_amount, aid = $aid, set_cid = $set_cid, \
     set_payee = $set_payee, add_tags = $add_tags, updated_at = $now";

impl Store {
    /// Adds a rule after the book's last one.
    pub async fn create_rule(
        &self,
        actor: &str,
        bid: &str,
        rule: &RuleRecord,
    ) -> Result<RuleRecord, StoreError> {
        let mut rows: Vec<RuleRecord> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "rule",
                &format!(
                    "{check}\n\
                     LET $count = array::len((SELECT VALUE rid FROM rule WHERE bid = $book));\n\
                     IF $count >= {MAX_RULES} {{ THROW \"{REFUSED}: a book has at most {MAX_RULES} rules\" }};\n\
                     LET $last = (SELECT VALUE position FROM rule WHERE bid = $book ORDER BY position DESC LIMIT 1)[0] ?? 0;\n\
                     CREATE rule SET rid = $rid, bid = $book, position = $last + 1, created_at = $now, {SET_FIELDS};\n\
                     SELECT {FIELDS} FROM rule WHERE rid = $rid;",
                    check = references_check()
                ),
                rule_params(rule),
            )
            .await?;
        rows.pop()
            .ok_or_else(|| StoreError::Query("the new rule was not found".into()))
    }

    /// The book's rules in the order they run.
    pub async fn rules(&self, actor: &str, bid: &str) -> Result<Vec<RuleRecord>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Read,
            "rule",
            &format!("SELECT {FIELDS} FROM rule WHERE bid = $book ORDER BY position;"),
            Params::new(),
        )
        .await
    }

    /// Writes a rule's conditions and actions; `None` when there is no such rule.
    pub async fn update_rule(
        &self,
        actor: &str,
        bid: &str,
        rule: &RuleRecord,
    ) -> Result<Option<RuleRecord>, StoreError> {
        let mut rows: Vec<RuleRecord> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "rule",
                &format!(
                    "{check}\n\
                     UPDATE rule SET {SET_FIELDS} WHERE bid = $book AND rid = $rid;\n\
                     SELECT {FIELDS} FROM rule WHERE bid = $book AND rid = $rid;",
                    check = references_check()
                ),
                rule_params(rule),
            )
            .await?;
        Ok(rows.pop())
    }

    pub async fn delete_rule(&self, actor: &str, bid: &str, rid: &str) -> Result<bool, StoreError> {
        let deleted: Vec<serde_json::Value> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "rule",
                "DELETE rule WHERE bid = $book AND rid = $rid RETURN BEFORE;",
                Params::new().with("rid", rid.to_string()),
            )
            .await?;
        Ok(!deleted.is_empty())
    }

    /// Puts the rules in the order of `rids`, which must name every rule
    /// of the book once.
    pub async fn order_rules(
        &self,
        actor: &str,
        bid: &str,
        rids: &[String],
        now: i64,
    ) -> Result<Vec<RuleRecord>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Write,
            "rule",
            &format!(
                "LET $have = (SELECT VALUE rid FROM rule WHERE bid = $book);\n\
                 IF array::len($have) != array::len($rids) OR array::len(array::distinct($rids)) != array::len($rids) \
                 OR array::len(array::intersect($have, $rids)) != array::len($have) \
                 {{ THROW \"{MISSING}: list of every rule of the book, each once\" }};\n\
                 FOR $i IN array::range(0, array::len($rids)) {{ \
                 UPDATE rule SET position = $i + 1, updated_at = $now WHERE bid = $book AND rid = $rids[$i] }};\n\
                 SELECT {FIELDS} FROM rule WHERE bid = $book ORDER BY position;"
            ),
            Params::new()
                .with("rids", rids.to_vec())
                .with("now", now),
        )
        .await
    }

    /// Writes what the rules changed, each transaction only if it is still
    /// at the revision read: the ids written.
    pub async fn apply_rule_changes(
        &self,
        actor: &str,
        bid: &str,
        changes: &[RuleChange],
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let cids: Vec<String> = {
            let mut c: Vec<String> = changes.iter().filter_map(|c| c.cid.clone()).collect();
            c.sort();
            c.dedup();
            c
        };
        // Each change as `tid:rev`: those still at that revision are
        // written, and found again after the write one revision on.
        let read: Vec<String> = changes
            .iter()
            .map(|c| format!("{}:{}", c.tid, c.rev))
            .collect();
        self.guarded(
            actor,
            bid,
            Need::Write,
            "transaction",
            &format!(
                "IF array::len((SELECT VALUE cid FROM category WHERE bid = $book AND cid IN $cids)) != array::len($cids) \
                 {{ THROW \"{MISSING}: category of that id\" }};\n\
                 LET $fresh = array::intersect((SELECT VALUE string::concat(tid, ':', <string> rev) FROM txn \
                 WHERE bid = $book AND tid IN $tids), $read);\n\
                 FOR $c IN $changes {{ \
                 UPDATE txn SET cid = $c.cid, payee = $c.payee, payee_folded = string::lowercase($c.payee), \
                 tags = $c.tags, rev = rev + 1, updated_at = $now \
                 WHERE bid = $book AND tid = $c.tid AND rev = $c.rev }};\n\
                 SELECT VALUE tid FROM txn WHERE bid = $book AND tid IN $tids \
                 AND string::concat(tid, ':', <string> (rev - 1)) IN $fresh;"
            ),
            Params::new()
                .with("cids", cids)
                .with("changes", changes.to_vec())
                .with(
                    "tids",
                    changes.iter().map(|c| c.tid.clone()).collect::<Vec<_>>(),
                )
                .with("read", read)
                .with("now", now),
        )
        .await
    }
}
