//! Transactions: plain, split across categories (the parts add up to the
//! amount), or one side of a transfer (two linked rows, deleted together);
//! listed newest first with filters and an opaque cursor; changed against
//! the revision read, so two editors at once never undo each other silently.

use serde::{Deserialize, Deserializer};

use super::{Ledger, actor, not_found};
use crate::domain::ledger::{self, BookRole, Need, SplitPart, is_cleared_state};
use crate::service::ServiceError;
use crate::service::auth::sessions::Principal;
use crate::store::{AccountRecord, SplitRecord, StoreError, TxnChange, TxnFilter, TxnRecord};
use crate::support::{hex, unhex, unix_now};

/// Receipts attached to one transaction, at most.
const MAX_RECEIPTS: usize = 20;
/// Transactions one bulk change may name.
pub const MAX_BULK: usize = 1000;
/// Times an update is tried again when another change got in between.
const UPDATE_TRIES: usize = 3;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitInput {
    #[schema(min_length = 1, max_length = 64)]
    pub category_id: Option<String>,
    /// Minor units, signed like the transaction's amount.
    #[schema(minimum = -1_000_000_000_000_i64, maximum = 1_000_000_000_000_i64)]
    pub amount: i64,
    #[schema(max_length = 200)]
    pub memo: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTransaction {
    #[schema(min_length = 1, max_length = 64)]
    pub account_id: String,
    #[schema(format = Date)]
    pub date: String,
    /// Signed minor units of the account's currency: negative is money out.
    #[schema(minimum = -1_000_000_000_000_i64, maximum = 1_000_000_000_000_i64)]
    pub amount: i64,
    #[schema(max_length = 200)]
    pub payee: Option<String>,
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    #[schema(min_length = 1, max_length = 64)]
    pub category_id: Option<String>,
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
    /// `uncleared` (default), `cleared` or `reconciled`.
    #[schema(pattern = "^(uncleared|cleared|reconciled)$")]
    pub state: Option<String>,
    /// Two or more parts adding up to `amount`, each with its category.
    #[schema(max_items = 100)]
    pub splits: Option<Vec<SplitInput>>,
    /// Ids of your receipts to attach.
    #[schema(max_items = 20)]
    pub receipts: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTransfer {
    #[schema(min_length = 1, max_length = 64)]
    pub from_account_id: String,
    #[schema(min_length = 1, max_length = 64)]
    pub to_account_id: String,
    #[schema(format = Date)]
    pub date: String,
    /// Minor units leaving the first account (positive).
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub amount: i64,
    /// Minor units arriving, in the second account's currency: required
    /// when the currencies differ (no rate is ever assumed); between
    /// accounts of one currency it may be left out, and if given must equal
    /// `amount` (a transfer neither makes nor loses money).
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub to_amount: Option<i64>,
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

/// A change: fields left out stay as they are; `category_id: null` removes the category.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionPatch {
    /// The `revision` the change was made from: when the transaction has
    /// changed since, nothing is written and the answer is 409. Left out,
    /// the change is applied to the transaction as it is now.
    #[schema(minimum = 1)]
    pub revision: Option<i64>,
    #[schema(min_length = 1, max_length = 64)]
    pub account_id: Option<String>,
    #[schema(format = Date)]
    pub date: Option<String>,
    #[schema(minimum = -1_000_000_000_000_i64, maximum = 1_000_000_000_000_i64)]
    pub amount: Option<i64>,
    #[schema(max_length = 200)]
    pub payee: Option<String>,
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(min_length = 1, max_length = 64, nullable)]
    pub category_id: Option<Option<String>>,
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
    #[schema(pattern = "^(uncleared|cleared|reconciled)$")]
    pub state: Option<String>,
    /// The whole new list of parts; `[]` ends the split.
    #[schema(max_items = 100)]
    pub splits: Option<Vec<SplitInput>>,
    #[schema(max_items = 20)]
    pub receipts: Option<Vec<String>>,
}

/// A field that is present, even as `null`, is `Some`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(Option::deserialize(deserializer)?))
}

/// Filters of a listing, checked by the front end's schema and here.
#[derive(Debug, Clone, Default)]
pub struct TransactionQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub account_id: Option<String>,
    pub category_id: Option<String>,
    pub text: Option<String>,
    pub min_amount: Option<i64>,
    pub max_amount: Option<i64>,
    pub tag: Option<String>,
    pub uncategorised: bool,
    pub has_receipt: Option<bool>,
    pub cursor: Option<String>,
    pub limit: u32,
}

pub struct TransactionList {
    pub items: Vec<TxnRecord>,
    /// Hand back as `cursor` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// The parts as stored, after the domain's checks.
fn splits(total: i64, input: Vec<SplitInput>) -> Result<Vec<SplitRecord>, ServiceError> {
    let parts: Vec<SplitPart> = input
        .into_iter()
        .map(|s| SplitPart {
            category_id: s.category_id,
            amount: s.amount,
            memo: s.memo.unwrap_or_default(),
        })
        .collect();
    ledger::check_splits(total, &parts)?;
    Ok(parts
        .into_iter()
        .map(|p| SplitRecord {
            cid: p.category_id,
            amount: p.amount,
            memo: p.memo,
        })
        .collect())
}

fn split_and_category() -> ServiceError {
    ServiceError::Invalid(
        "a split transaction takes its categories from its parts: leave category_id out".into(),
    )
}

fn text(field: &str, value: Option<String>, max: usize) -> Result<String, ServiceError> {
    let value = value.unwrap_or_default();
    ledger::bounded_text(field, &value, max)?;
    Ok(value)
}

fn state(value: Option<String>) -> Result<String, ServiceError> {
    let value = value.unwrap_or_else(|| "uncleared".into());
    if is_cleared_state(&value) {
        Ok(value)
    } else {
        Err(ServiceError::Invalid(format!(
            "state must be one of {}, not {value:?}",
            ledger::CLEARED_STATES.join(", ")
        )))
    }
}

/// The cursor's form, first in it: cursors of another form (the day and a
/// count, handed out before schema migration 16) are refused, never misread.
const CURSOR_FORM: &str = "2";

/// The opaque cursor for the page after the one that ended with `last`:
/// its date and id.
fn cursor_after(last: &TxnRecord) -> String {
    cursor(&last.date, &last.tid)
}

fn cursor(date: &str, tid: &str) -> String {
    hex(format!("{CURSOR_FORM}|{date}|{tid}").as_bytes())
}

fn parse_cursor(cursor: &str) -> Result<(String, String), ServiceError> {
    let bad = || ServiceError::Invalid("cursor is not one this server handed out".into());
    let bytes = unhex(cursor).ok_or_else(bad)?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.split('|');
    let (Some(CURSOR_FORM), Some(date), Some(tid), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let is_id = (1..=64).contains(&tid.len())
        && tid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !is_id {
        return Err(bad());
    }
    Ok((
        ledger::date("cursor", date).map_err(|_| bad())?,
        tid.to_string(),
    ))
}

impl Ledger {
    pub async fn create_transaction(
        &self,
        principal: &Principal,
        bid: &str,
        new: NewTransaction,
    ) -> Result<TxnRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        self.require_writer(actor, bid).await?;
        let account = self.body_account(actor, bid, &new.account_id).await?;
        let amount = ledger::amount("amount", new.amount)?;
        if new.category_id.is_some() && new.splits.as_ref().is_some_and(|s| !s.is_empty()) {
            return Err(split_and_category());
        }
        let payee = text("payee", new.payee, ledger::MAX_NAME_CHARS)?;
        let receipts = self
            .own_receipts(actor, new.receipts.unwrap_or_default())
            .await?;
        let now = unix_now();
        let record = TxnRecord {
            tid: crate::service::new_id()?,
            bid: bid.to_string(),
            aid: account.aid,
            date: ledger::date("date", &new.date)?,
            amount,
            currency: account.currency,
            payee_folded: payee.to_lowercase(),
            payee,
            description: text("description", new.description, ledger::MAX_TEXT_CHARS)?,
            cid: new.category_id,
            tags: ledger::tags(&new.tags.unwrap_or_default())?,
            notes: text("notes", new.notes, ledger::MAX_TEXT_CHARS)?,
            state: state(new.state)?,
            splits: splits(amount, new.splits.unwrap_or_default())?,
            receipts,
            transfer_id: None,
            import_id: None,
            external_id: None,
            fingerprint: None,
            rev: 1,
            created_at: now,
            updated_at: now,
        };
        let mut created = self
            .store
            .create_transactions(actor, bid, &[record])
            .await?;
        created
            .pop()
            .ok_or_else(|| ServiceError::Internal("the new transaction was not read back".into()))
    }

    /// A transfer: money out of one account and into another, as two linked
    /// transactions. Between currencies both amounts are given.
    pub async fn create_transfer(
        &self,
        principal: &Principal,
        bid: &str,
        transfer: NewTransfer,
    ) -> Result<Vec<TxnRecord>, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        self.require_writer(actor, bid).await?;
        let from = self
            .body_account(actor, bid, &transfer.from_account_id)
            .await?;
        let to = self
            .body_account(actor, bid, &transfer.to_account_id)
            .await?;
        if from.aid == to.aid {
            return Err(ServiceError::Invalid(
                "a transfer goes between two different accounts".into(),
            ));
        }
        if transfer.amount <= 0 {
            return Err(ServiceError::Invalid("amount must be positive".into()));
        }
        let out = ledger::amount("amount", transfer.amount)?;
        let arriving = match transfer.to_amount {
            Some(a) if from.currency == to.currency && a != out => {
                return Err(ServiceError::Invalid(format!(
                    "both accounts are in {}: to_amount must equal amount, or be left out",
                    from.currency
                )));
            }
            Some(a) if a > 0 => ledger::amount("to_amount", a)?,
            Some(_) => return Err(ServiceError::Invalid("to_amount must be positive".into())),
            None if from.currency == to.currency => out,
            None => {
                return Err(ServiceError::Invalid(format!(
                    "the accounts are in {} and {}: give to_amount, the amount that arrives",
                    from.currency, to.currency
                )));
            }
        };
        let date = ledger::date("date", &transfer.date)?;
        let description = text("description", transfer.description, ledger::MAX_TEXT_CHARS)?;
        let notes = text("notes", transfer.notes, ledger::MAX_TEXT_CHARS)?;
        let link = crate::service::new_id()?;
        let now = unix_now();
        let side = |account: &crate::store::AccountRecord,
                    amount: i64,
                    other: &str|
         -> Result<TxnRecord, ServiceError> {
            Ok(TxnRecord {
                tid: crate::service::new_id()?,
                bid: bid.to_string(),
                aid: account.aid.clone(),
                date: date.clone(),
                amount,
                currency: account.currency.clone(),
                payee: other.to_string(),
                payee_folded: other.to_lowercase(),
                description: description.clone(),
                cid: None,
                tags: Vec::new(),
                notes: notes.clone(),
                state: "uncleared".into(),
                splits: Vec::new(),
                receipts: Vec::new(),
                transfer_id: Some(link.clone()),
                import_id: None,
                external_id: None,
                fingerprint: None,
                rev: 1,
                created_at: now,
                updated_at: now,
            })
        };
        let rows = [
            side(&from, -out, &to.name)?,
            side(&to, arriving, &from.name)?,
        ];
        Ok(self.store.create_transactions(actor, bid, &rows).await?)
    }

    pub async fn transaction(
        &self,
        principal: &Principal,
        bid: &str,
        tid: &str,
    ) -> Result<TxnRecord, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        self.store
            .transaction(actor, bid, tid)
            .await?
            .ok_or_else(|| not_found("transaction"))
    }

    pub async fn transactions(
        &self,
        principal: &Principal,
        bid: &str,
        query: TransactionQuery,
    ) -> Result<TransactionList, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        let date = |field: &str, d: Option<String>| d.map(|d| ledger::date(field, &d)).transpose();
        let filter = TxnFilter {
            from: date("from", query.from)?,
            to: date("to", query.to)?,
            aid: query.account_id,
            cid: query.category_id,
            text: query.text.map(|t| t.to_lowercase()),
            min_amount: query.min_amount,
            max_amount: query.max_amount,
            tag: query.tag.map(|t| t.trim().to_lowercase()),
            uncategorised: query.uncategorised,
            has_receipt: query.has_receipt,
            after: query.cursor.as_deref().map(parse_cursor).transpose()?,
            limit: query.limit,
        };
        let mut items = self.store.transactions(actor, bid, &filter).await?;
        let next_cursor = if items.len() > query.limit as usize {
            items.truncate(query.limit as usize);
            items.last().map(cursor_after)
        } else {
            None
        };
        Ok(TransactionList { items, next_cursor })
    }

    pub async fn update_transaction(
        &self,
        principal: &Principal,
        bid: &str,
        tid: &str,
        patch: TransactionPatch,
    ) -> Result<TxnRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        self.require_writer(actor, bid).await?;
        for _ in 0..UPDATE_TRIES {
            let current = self
                .store
                .transaction(actor, bid, tid)
                .await?
                .ok_or_else(|| not_found("transaction"))?;
            if let Some(seen) = patch.revision.filter(|&r| r != current.rev) {
                return Err(ServiceError::Conflict(format!(
                    "the transaction changed since revision {seen}: it is at revision {}; read it again",
                    current.rev
                )));
            }
            let change = self.merge(actor, bid, &current, patch.clone()).await?;
            match self
                .store
                .update_transaction(actor, bid, tid, current.rev, &change, unix_now())
                .await
            {
                Ok(Some(updated)) => return Ok(updated),
                // Changed meanwhile: merge again from the new state.
                Ok(None) => continue,
                // A category or account it named went meanwhile: that is a
                // change too when the revision moved (a deleted category
                // uncategorises); otherwise the change named a bad id.
                Err(StoreError::Missing(what)) => {
                    let now = self.store.transaction(actor, bid, tid).await?;
                    if now.is_some_and(|t| t.rev != current.rev) {
                        continue;
                    }
                    return Err(StoreError::Missing(what).into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Conflict(
            "the transaction kept changing while this change was made; read it again and retry"
                .into(),
        ))
    }

    /// The transaction as it will be once `patch` is applied, checked whole.
    async fn merge(
        &self,
        actor: &str,
        bid: &str,
        current: &TxnRecord,
        patch: TransactionPatch,
    ) -> Result<TxnChange, ServiceError> {
        let transfer = current.transfer_id.is_some();
        if transfer
            && (patch.amount.is_some_and(|a| a != current.amount)
                || patch.account_id.as_ref().is_some_and(|a| *a != current.aid)
                || patch.splits.as_ref().is_some_and(|s| !s.is_empty())
                || patch.category_id.as_ref().is_some_and(Option::is_some))
        {
            return Err(ServiceError::Conflict(
                "a transfer's amount, account and category are fixed: delete it and make a new one"
                    .into(),
            ));
        }
        let aid = match patch.account_id {
            Some(aid) if aid != current.aid => {
                let account = self.body_account(actor, bid, &aid).await?;
                if account.currency != current.currency {
                    return Err(ServiceError::Invalid(format!(
                        "the transaction is in {} and that account in {}: amounts are never converted",
                        current.currency, account.currency
                    )));
                }
                account.aid
            }
            _ => current.aid.clone(),
        };
        let amount = ledger::amount("amount", patch.amount.unwrap_or(current.amount))?;
        let splits = match patch.splits {
            Some(input) => splits(amount, input)?,
            None => {
                let parts: Vec<SplitPart> = current
                    .splits
                    .iter()
                    .map(|s| SplitPart {
                        category_id: s.cid.clone(),
                        amount: s.amount,
                        memo: s.memo.clone(),
                    })
                    .collect();
                ledger::check_splits(amount, &parts)?;
                current.splits.clone()
            }
        };
        let receipts = match patch.receipts {
            Some(mut ids) => {
                ids.sort();
                ids.dedup();
                if ids.len() > MAX_RECEIPTS {
                    return Err(ServiceError::Invalid(format!(
                        "at most {MAX_RECEIPTS} receipts on one transaction"
                    )));
                }
                // Receipts already attached (perhaps by another member) may
                // stay; a new one must be the caller's own.
                let (mut kept, new): (Vec<String>, Vec<String>) = ids
                    .into_iter()
                    .partition(|id| current.receipts.contains(id));
                kept.extend(self.own_receipts(actor, new).await?);
                kept.sort();
                kept
            }
            None => current.receipts.clone(),
        };
        // A split takes its categories from its parts.
        let cid = match (patch.category_id, splits.is_empty()) {
            (Some(Some(_)), false) => return Err(split_and_category()),
            (Some(cid), true) => cid,
            (None, true) => current.cid.clone(),
            (_, false) => None,
        };
        Ok(TxnChange {
            aid,
            date: patch
                .date
                .map(|d| ledger::date("date", &d))
                .transpose()?
                .unwrap_or_else(|| current.date.clone()),
            amount,
            payee: match patch.payee {
                Some(p) => text("payee", Some(p), ledger::MAX_NAME_CHARS)?,
                None => current.payee.clone(),
            },
            description: match patch.description {
                Some(d) => text("description", Some(d), ledger::MAX_TEXT_CHARS)?,
                None => current.description.clone(),
            },
            cid,
            tags: match patch.tags {
                Some(tags) => ledger::tags(&tags)?,
                None => current.tags.clone(),
            },
            notes: match patch.notes {
                Some(n) => text("notes", Some(n), ledger::MAX_TEXT_CHARS)?,
                None => current.notes.clone(),
            },
            state: match patch.state {
                Some(s) => state(Some(s))?,
                None => current.state.clone(),
            },
            splits,
            receipts,
        })
    }

    /// Deletes a transaction (both sides of a transfer): the ids deleted.
    pub async fn delete_transaction(
        &self,
        principal: &Principal,
        bid: &str,
        tid: &str,
    ) -> Result<Vec<String>, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        let deleted = self.store.delete_transaction(actor, bid, tid).await?;
        if deleted.is_empty() {
            return Err(not_found("transaction"));
        }
        Ok(deleted)
    }

    /// Puts plain transactions in a category (or none): the ids changed.
    /// Split and transfer transactions, and ids not in the book, are left.
    pub async fn categorise(
        &self,
        principal: &Principal,
        bid: &str,
        tids: Vec<String>,
        category_id: Option<String>,
    ) -> Result<Vec<String>, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        if category_id.as_deref() == Some("") {
            return Err(ServiceError::Invalid(
                "category_id must be a category id, or null for none".into(),
            ));
        }
        if tids.is_empty() || tids.len() > MAX_BULK {
            return Err(ServiceError::Invalid(format!(
                "name 1 to {MAX_BULK} transactions"
            )));
        }
        Ok(self
            .store
            .categorise(actor, bid, &tids, category_id, unix_now())
            .await?)
    }

    /// 403 before anything else for a member who may only read, so that a
    /// viewer learns nothing from the checks of the values they sent.
    pub(super) async fn require_writer(&self, actor: &str, bid: &str) -> Result<(), ServiceError> {
        let role = self.store.book_role(actor, bid).await?;
        match BookRole::parse(&role) {
            Some(role) if role.can_write() => Ok(()),
            _ => Err(StoreError::Denied.into()),
        }
    }

    /// An account a request body names: 422 when the book has none of that id.
    pub(super) async fn body_account(
        &self,
        actor: &str,
        bid: &str,
        aid: &str,
    ) -> Result<AccountRecord, ServiceError> {
        self.store
            .account(actor, bid, aid)
            .await?
            .ok_or_else(|| ServiceError::Invalid(format!("no account {aid:?} in this book")))
    }

    /// `ids` when each is a receipt of `actor`'s, else 422 naming the first that is not.
    async fn own_receipts(
        &self,
        actor: &str,
        mut ids: Vec<String>,
    ) -> Result<Vec<String>, ServiceError> {
        ids.sort();
        ids.dedup();
        if ids.len() > MAX_RECEIPTS {
            return Err(ServiceError::Invalid(format!(
                "at most {MAX_RECEIPTS} receipts on one transaction"
            )));
        }
        for id in &ids {
            if self.store.receipt(actor, id).await?.is_none() {
                return Err(ServiceError::Invalid(format!("you have no receipt {id:?}")));
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_and_others_are_refused() {
        assert_eq!(
            parse_cursor(&cursor("2026-03-01", "0af3")).expect("ours"),
            ("2026-03-01".to_string(), "0af3".to_string())
        );
        // The form before migration 16: the day and a count.
        for other in [
            "2026-03-01|3",
            "2|2026-03-01",
            "2|2026-03-01|a|b",
            "2|2026-13-01|a",
            "2|2026-03-01|a b",
        ] {
            assert!(parse_cursor(&hex(other.as_bytes())).is_err(), "{other}");
        }
        assert!(parse_cursor("zz").is_err());
    }
}
