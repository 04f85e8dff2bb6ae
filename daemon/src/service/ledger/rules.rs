//! Rules: kept in order per book, run over every import's rows before the
//! preview, and over the book's transactions on demand, first as a preview
//! of what would change and then for real.

use serde::Deserialize;

use super::{Ledger, actor, not_found};
use crate::domain::ledger::{self, Need};
use crate::domain::rules::{self, Rule, RuleSpec, Subject, TextCondition};
use crate::service::ServiceError;
use crate::service::auth::sessions::Principal;
use crate::store::{RuleChange, RuleRecord, TxnFilter, TxnRecord};
use crate::support::unix_now;

/// Transactions one run of the rules looks at: a larger book is done a
/// date range at a time.
const MAX_RULE_RUN: u32 = 50_000;

/// Changes a preview lists one by one (all are counted).
const MAX_LISTED_CHANGES: usize = 1_000;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextConditionInput {
    /// `contains`, `equals` (both without case) or `regex` (a
    /// case-insensitive regular expression, in the syntax of Rust's `regex`
    /// crate: no look-around or back-references, always linear time).
    #[serde(rename = "match")]
    #[schema(rename = "match")]
    pub kind: String,
    #[schema(min_length = 1, max_length = 500)]
    pub value: String,
}

/// What a transaction must be for the rule to hold: every condition given.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleConditions {
    pub payee: Option<TextConditionInput>,
    pub description: Option<TextConditionInput>,
    /// Signed minor units: at least this (money out is negative).
    pub min_amount: Option<i64>,
    /// Signed minor units: at most this.
    pub max_amount: Option<i64>,
    pub account_id: Option<String>,
}

/// What the rule does where it holds.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleActions {
    /// Put the transaction in this category (not a split's or a transfer's).
    pub category_id: Option<String>,
    /// Write this payee.
    pub payee: Option<String>,
    /// Add these tags.
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    pub conditions: RuleConditions,
    pub actions: RuleActions,
}

/// Which transactions a run of the rules covers.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleRun {
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub to: Option<String>,
    pub account_id: Option<String>,
    /// Only these rules (in the book's order); all when absent.
    pub rule_ids: Option<Vec<String>>,
}

/// The fields rules change, before or after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tidied {
    pub category_id: Option<String>,
    pub payee: String,
    pub tags: Vec<String>,
}

/// One transaction the rules change.
#[derive(Debug, Clone)]
pub struct RuleEffect {
    pub transaction_id: String,
    pub date: String,
    pub before: Tidied,
    pub after: Tidied,
    /// The rules that held, in order.
    pub rules: Vec<String>,
}

/// What a run found and, when applied, wrote.
#[derive(Debug, Clone)]
pub struct RuleOutcome {
    pub examined: usize,
    /// How many transactions change (or changed).
    pub changed: usize,
    /// The first changes, at most 1,000.
    pub effects: Vec<RuleEffect>,
    /// Transactions edited by someone else between the read and the write:
    /// left as they were.
    pub skipped: usize,
}

fn spec(new: &NewRule) -> RuleSpec {
    let text = |c: &Option<TextConditionInput>| {
        c.as_ref().map(|c| TextCondition {
            kind: c.kind.clone(),
            value: c.value.clone(),
        })
    };
    RuleSpec {
        payee: text(&new.conditions.payee),
        description: text(&new.conditions.description),
        min_amount: new.conditions.min_amount,
        max_amount: new.conditions.max_amount,
        account_id: new.conditions.account_id.clone(),
        set_category_id: new.actions.category_id.clone(),
        set_payee: new.actions.payee.clone(),
        add_tags: new.actions.tags.clone().unwrap_or_default(),
    }
}

fn record(rid: String, name: String, spec: RuleSpec, now: i64) -> RuleRecord {
    let split = |c: Option<TextCondition>| match c {
        Some(c) => (Some(c.kind), Some(c.value)),
        None => (None, None),
    };
    let (payee_match, payee_value) = split(spec.payee);
    let (description_match, description_value) = split(spec.description);
    RuleRecord {
        rid,
        position: 0,
        name,
        payee_match,
        payee_value,
        description_match,
        description_value,
        min_amount: spec.min_amount,
        max_amount: spec.max_amount,
        aid: spec.account_id,
        set_cid: spec.set_category_id,
        set_payee: spec.set_payee,
        add_tags: spec.add_tags,
        created_at: now,
        updated_at: now,
    }
}

/// The rule a stored record describes.
fn stored_spec(r: &RuleRecord) -> RuleSpec {
    let text = |kind: &Option<String>, value: &Option<String>| match (kind, value) {
        (Some(kind), Some(value)) => Some(TextCondition {
            kind: kind.clone(),
            value: value.clone(),
        }),
        _ => None,
    };
    RuleSpec {
        payee: text(&r.payee_match, &r.payee_value),
        description: text(&r.description_match, &r.description_value),
        min_amount: r.min_amount,
        max_amount: r.max_amount,
        account_id: r.aid.clone(),
        set_category_id: r.set_cid.clone(),
        set_payee: r.set_payee.clone(),
        add_tags: r.add_tags.clone(),
    }
}

fn checked(new: &NewRule) -> Result<(String, RuleSpec), ServiceError> {
    let name = ledger::name("name", &new.name)?;
    if new.conditions.account_id.as_deref() == Some("")
        || new.actions.category_id.as_deref() == Some("")
    {
        return Err(ServiceError::Invalid(
            "an id must not be empty; leave the field out instead".into(),
        ));
    }
    Ok((name, rules::check(&spec(new))?))
}

/// The subject a transaction is to the rules.
pub(super) fn subject_of(t: &TxnRecord) -> Subject {
    Subject {
        account_id: t.aid.clone(),
        amount: t.amount,
        payee: t.payee.clone(),
        description: t.description.clone(),
        category_id: t.cid.clone(),
        tags: t.tags.clone(),
        categorisable: t.splits.is_empty() && t.transfer_id.is_none(),
    }
}

impl From<&Subject> for Tidied {
    fn from(s: &Subject) -> Self {
        Tidied {
            category_id: s.category_id.clone(),
            payee: s.payee.clone(),
            tags: s.tags.clone(),
        }
    }
}

impl Ledger {
    pub async fn create_rule(
        &self,
        principal: &Principal,
        bid: &str,
        new: NewRule,
    ) -> Result<RuleRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        let (name, spec) = checked(&new)?;
        let record = record(crate::service::new_id()?, name, spec, unix_now());
        Ok(self.store.create_rule(actor, bid, &record).await?)
    }

    pub async fn rules(
        &self,
        principal: &Principal,
        bid: &str,
    ) -> Result<Vec<RuleRecord>, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        Ok(self.store.rules(actor, bid).await?)
    }

    /// Replaces a rule's name, conditions and actions; its place stays.
    pub async fn replace_rule(
        &self,
        principal: &Principal,
        bid: &str,
        rid: &str,
        new: NewRule,
    ) -> Result<RuleRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        let (name, spec) = checked(&new)?;
        let record = record(rid.to_string(), name, spec, unix_now());
        self.store
            .update_rule(actor, bid, &record)
            .await?
            .ok_or_else(|| not_found("rule"))
    }

    pub async fn delete_rule(
        &self,
        principal: &Principal,
        bid: &str,
        rid: &str,
    ) -> Result<(), ServiceError> {
        let actor = actor(principal, Need::Write)?;
        if self.store.delete_rule(actor, bid, rid).await? {
            Ok(())
        } else {
            Err(not_found("rule"))
        }
    }

    /// Puts the book's rules in the order of `rids` (every rule, once).
    pub async fn order_rules(
        &self,
        principal: &Principal,
        bid: &str,
        rids: &[String],
    ) -> Result<Vec<RuleRecord>, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        Ok(self.store.order_rules(actor, bid, rids, unix_now()).await?)
    }

    /// The book's rules, compiled in order; only those in `only` if given.
    pub(super) async fn compiled_rules(
        &self,
        actor: &str,
        bid: &str,
        only: Option<&[String]>,
    ) -> Result<Vec<Rule>, ServiceError> {
        let records = self.store.rules(actor, bid).await?;
        if let Some(only) = only
            && let Some(unknown) = only
                .iter()
                .find(|id| !records.iter().any(|r| r.rid == **id))
        {
            return Err(ServiceError::Invalid(format!(
                "rule_ids names {unknown:?}, which is not a rule of this book"
            )));
        }
        records
            .iter()
            .filter(|r| only.is_none_or(|only| only.contains(&r.rid)))
            .map(|r| rules::compile(&r.rid, &stored_spec(r)).map_err(ServiceError::from))
            .collect()
    }

    /// What running the rules over the book's transactions would change.
    pub async fn preview_rules(
        &self,
        principal: &Principal,
        bid: &str,
        run: RuleRun,
    ) -> Result<RuleOutcome, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        let (outcome, _) = self.run_rules(actor, bid, &run).await?;
        Ok(outcome)
    }

    /// Runs the rules over the book's transactions and writes the changes.
    pub async fn apply_rules(
        &self,
        principal: &Principal,
        bid: &str,
        run: RuleRun,
    ) -> Result<RuleOutcome, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        self.require_writer(actor, bid).await?;
        let (mut outcome, changes) = self.run_rules(actor, bid, &run).await?;
        if changes.is_empty() {
            return Ok(outcome);
        }
        let written = self
            .store
            .apply_rule_changes(actor, bid, &changes, unix_now())
            .await?;
        outcome.skipped = changes.len() - written.len();
        outcome.changed = written.len();
        outcome
            .effects
            .retain(|e| written.contains(&e.transaction_id));
        Ok(outcome)
    }

    async fn run_rules(
        &self,
        actor: &str,
        bid: &str,
        run: &RuleRun,
    ) -> Result<(RuleOutcome, Vec<RuleChange>), ServiceError> {
        let from = run
            .from
            .as_deref()
            .map(|d| ledger::date("from", d))
            .transpose()?;
        let to = run
            .to
            .as_deref()
            .map(|d| ledger::date("to", d))
            .transpose()?;
        let rules = self
            .compiled_rules(actor, bid, run.rule_ids.as_deref())
            .await?;
        let transactions = self
            .store
            .transactions(
                actor,
                bid,
                &TxnFilter {
                    from,
                    to,
                    aid: run.account_id.clone(),
                    limit: MAX_RULE_RUN,
                    ..TxnFilter::default()
                },
            )
            .await?;
        if transactions.len() > MAX_RULE_RUN as usize {
            return Err(ServiceError::Invalid(format!(
                "the rules run over at most {MAX_RULE_RUN} transactions at once; narrow from and to"
            )));
        }
        let mut outcome = RuleOutcome {
            examined: transactions.len(),
            changed: 0,
            effects: Vec::new(),
            skipped: 0,
        };
        let mut changes = Vec::new();
        for t in transactions {
            let mut subject = subject_of(&t);
            let before = Tidied::from(&subject);
            let held = rules::apply(&rules, &mut subject);
            let after = Tidied::from(&subject);
            if after == before {
                continue;
            }
            outcome.changed += 1;
            changes.push(RuleChange {
                tid: t.tid.clone(),
                rev: t.rev,
                cid: after.category_id.clone(),
                payee: after.payee.clone(),
                tags: after.tags.clone(),
            });
            if outcome.effects.len() < MAX_LISTED_CHANGES {
                outcome.effects.push(RuleEffect {
                    transaction_id: t.tid,
                    date: t.date,
                    before,
                    after,
                    rules: held,
                });
            }
        }
        Ok((outcome, changes))
    }
}
