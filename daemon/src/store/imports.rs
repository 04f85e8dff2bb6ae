//! Bank statement imports of a book: the record of each upload, what its
//! rows may duplicate, and the commit and undo that write or remove all of
//! its transactions at once.

use surrealdb::types::SurrealValue;

use super::guard::{MISSING, REFUSED};
use super::query::Params;
use super::{Store, StoreError, TxnRecord};
use crate::domain::ledger::Need;

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct ImportRecord {
    pub iid: String,
    pub bid: String,
    pub aid: String,
    pub format: String,
    pub preset: Option<String>,
    /// The preset's TOML as it was at upload.
    pub preset_toml: Option<String>,
    pub date_order: Option<String>,
    pub filename: String,
    pub sha256: String,
    pub byte_size: i64,
    pub status: String,
    pub created_by: String,
    pub created_at: i64,
    pub committed_at: Option<i64>,
    pub undone_at: Option<i64>,
    pub committed_rows: i64,
}

/// What an existing transaction offers for duplicate detection.
#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct Existing {
    pub tid: String,
    pub date: String,
    pub amount: i64,
    pub external_id: Option<String>,
    pub fingerprint: Option<String>,
}

const FIELDS: &str = "iid, bid, aid, format, preset, preset_toml, date_order, filename, sha256, byte_size, status, created_by, \
     created_at, committed_at, undone_at, committed_rows";

impl Store {
    pub async fn create_import(
        &self,
        actor: &str,
        import: &ImportRecord,
    ) -> Result<ImportRecord, StoreError> {
        let mut rows: Vec<ImportRecord> = self
            .guarded(
                actor,
                &import.bid,
                Need::Write,
                "import",
                &format!(
                    "CREATE import CONTENT $import;\n\
                     SELECT {FIELDS} FROM import WHERE iid = $iid;"
                ),
                Params::new()
                    .with("import", import.clone())
                    .with("iid", import.iid.clone()),
            )
            .await?;
        rows.pop()
            .ok_or_else(|| StoreError::Query("the new import was not found".into()))
    }

    pub async fn import(
        &self,
        actor: &str,
        bid: &str,
        iid: &str,
    ) -> Result<Option<ImportRecord>, StoreError> {
        let mut rows: Vec<ImportRecord> = self
            .guarded(
                actor,
                bid,
                Need::Read,
                "import",
                &format!("SELECT {FIELDS} FROM import WHERE bid = $book AND iid = $iid;"),
                Params::new().with("iid", iid.to_string()),
            )
            .await?;
        Ok(rows.pop())
    }

    /// The book's imports, newest first.
    pub async fn imports(&self, actor: &str, bid: &str) -> Result<Vec<ImportRecord>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Read,
            "import",
            &format!("SELECT {FIELDS} FROM import WHERE bid = $book ORDER BY created_at DESC, iid DESC LIMIT 500;"),
            Params::new(),
        )
        .await
    }

    /// The account's transactions dated `from` to `to`, for duplicate detection.
    pub async fn existing_between(
        &self,
        actor: &str,
        bid: &str,
        aid: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<Existing>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Read,
            "transaction",
            "SELECT tid, date, amount, external_id, fingerprint FROM txn \
             WHERE bid = $book AND aid = $aid AND date >= $from AND date <= $to ORDER BY date, tid;",
            Params::new()
                .with("aid", aid.to_string())
                .with("from", from.to_string())
                .with("to", to.to_string()),
        )
        .await
    }

    /// Writes every row of a previewed import and marks it committed, all
    /// or nothing; refused unless the import is still a preview.
    pub async fn commit_import(
        &self,
        actor: &str,
        bid: &str,
        iid: &str,
        rows: &[TxnRecord],
        now: i64,
    ) -> Result<ImportRecord, StoreError> {
        let mut done: Vec<ImportRecord> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "transaction",
                &format!(
                    "LET $status = (SELECT VALUE status FROM import WHERE bid = $book AND iid = $iid)[0];\n\
                     IF $status = NONE {{ THROW \"{MISSING}: import of that id\" }};\n\
                     IF $status != 'preview' {{ THROW \"{REFUSED}: only a preview can be committed, once\" }};\n\
                     IF array::len((SELECT VALUE aid FROM account WHERE bid = $book AND aid = (SELECT VALUE aid FROM import WHERE iid = $iid)[0])) = 0 \
                     {{ THROW \"{REFUSED}: the import's account was deleted\" }};\n\
                     INSERT INTO txn $rows RETURN NONE;\n\
                     UPDATE import SET status = 'committed', committed_at = $now, committed_rows = $count \
                     WHERE bid = $book AND iid = $iid;\n\
                     SELECT {FIELDS} FROM import WHERE iid = $iid;"
                ),
                Params::new()
                    .with("iid", iid.to_string())
                    .with("rows", rows.to_vec())
                    .with("count", rows.len() as i64)
                    .with("now", now),
            )
            .await?;
        done.pop().ok_or(StoreError::NoBook)
    }

    /// Deletes every transaction a committed import made, and marks it undone.
    pub async fn undo_import(
        &self,
        actor: &str,
        bid: &str,
        iid: &str,
        now: i64,
    ) -> Result<ImportRecord, StoreError> {
        let mut done: Vec<ImportRecord> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "import",
                &format!(
                    "LET $status = (SELECT VALUE status FROM import WHERE bid = $book AND iid = $iid)[0];\n\
                     IF $status = NONE {{ THROW \"{MISSING}: import of that id\" }};\n\
                     IF $status != 'committed' \
                     {{ THROW \"{REFUSED}: only a committed import can be undone\" }};\n\
                     DELETE txn WHERE bid = $book AND import_id = $iid;\n\
                     UPDATE import SET status = 'undone', undone_at = $now WHERE bid = $book AND iid = $iid;\n\
                     SELECT {FIELDS} FROM import WHERE iid = $iid;"
                ),
                Params::new().with("iid", iid.to_string()).with("now", now),
            )
            .await?;
        done.pop().ok_or(StoreError::NoBook)
    }

    /// Deletes the imports of every book still previews that were made
    /// before `before` (Unix seconds): the ids of those deleted. Their
    /// files go with the next blob collection, unless something else
    /// names them. A system task's call, for no one user.
    pub(crate) async fn delete_stale_previews(
        &self,
        before: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut response = self
            .run(
                "DELETE import WHERE status = 'preview' AND created_at < $cut RETURN VALUE $before.iid;",
                Params::new().with("cut", before),
            )
            .await?;
        Ok(response.take(0)?)
    }
}
