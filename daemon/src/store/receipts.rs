//! Receipts. Every call takes the owner's id: one user can never read or
//! change another's receipts.

use surrealdb::types::SurrealValue;

use super::query::Params;
use super::{Store, StoreError};
use crate::domain::receipt::ReceiptQuery;

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct ReceiptRecord {
    pub rid: String,
    pub owner_uid: String,
    pub sha256: String,
    pub content_type: String,
    pub byte_size: i64,
    pub width: i64,
    pub height: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub receipt_date: Option<String>,
    /// JSON of the extracted fields, once OCR is done.
    pub extracted: Option<String>,
    /// JSON of the fields the owner corrected.
    pub corrected: Option<String>,
    /// JSON of the OCR lines.
    pub ocr_page: Option<String>,
}

const FIELDS: &str = "rid, owner_uid, sha256, content_type, byte_size, width, height, created_at, \
     updated_at, receipt_date, extracted, corrected, ocr_page";

impl Store {
    /// Creates a receipt and its queued OCR job together. When the owner
    /// already has a receipt of this image, nothing is written and that
    /// receipt is returned instead.
    pub async fn create_receipt(
        &self,
        receipt: &ReceiptRecord,
        now_ms: i64,
    ) -> Result<ReceiptRecord, StoreError> {
        if let Some(existing) = self
            .receipt_by_image(&receipt.owner_uid, &receipt.sha256)
            .await?
        {
            return Ok(existing);
        }
        let result = self.try_run("BEGIN TRANSACTION;\n\
                 CREATE receipt SET rid = $rid, owner_uid = $owner, sha256 = $sha256, \
                 content_type = $content_type, byte_size = $byte_size, width = $width, height = $height, \
                 created_at = $created_at, updated_at = $created_at;\n\
                 CREATE ocr_job SET rid = $rid, owner_uid = $owner, state = 'queued', attempts = 0, \
                 queued_at = $now_ms, run_after = $now_ms;\n\
                 COMMIT TRANSACTION;",
                Params::new()
                    .with("rid", receipt.rid.clone())
                    .with("owner", receipt.owner_uid.clone())
                    .with("sha256", receipt.sha256.clone())
                    .with("content_type", receipt.content_type.clone())
                    .with("byte_size", receipt.byte_size)
                    .with("width", receipt.width)
                    .with("height", receipt.height)
                    .with("created_at", receipt.created_at)
                    .with("now_ms", now_ms),
            ).await;
        match result {
            Ok(_) => Ok(receipt.clone()),
            // Two uploads of one image raced: the other one won; answer with it.
            Err(e) if e.to_string().contains("already contains") => self
                .receipt_by_image(&receipt.owner_uid, &receipt.sha256)
                .await?
                .ok_or_else(|| StoreError::Query(e.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn receipt_by_image(
        &self,
        owner_uid: &str,
        sha256: &str,
    ) -> Result<Option<ReceiptRecord>, StoreError> {
        self.first(
            format!(
                "SELECT {FIELDS} FROM receipt WHERE owner_uid = $owner AND sha256 = $sha256 LIMIT 1"
            ),
            Params::new()
                .with("owner", owner_uid.to_string())
                .with("sha256", sha256.to_string()),
        )
        .await
    }

    pub async fn receipt(
        &self,
        owner_uid: &str,
        rid: &str,
    ) -> Result<Option<ReceiptRecord>, StoreError> {
        let mut response = self
            .run(
                format!(
                    "SELECT {FIELDS} FROM receipt WHERE rid = $rid AND owner_uid = $owner LIMIT 1"
                ),
                Params::new()
                    .with("rid", rid.to_string())
                    .with("owner", owner_uid.to_string()),
            )
            .await?;
        let mut found: Vec<ReceiptRecord> = response.take(0)?;
        Ok(found.pop())
    }

    /// The owner's receipts of these ids (the others are left out).
    pub async fn receipts_by_id(
        &self,
        owner_uid: &str,
        rids: &[String],
    ) -> Result<Vec<ReceiptRecord>, StoreError> {
        let mut response = self
            .run(
                format!("SELECT {FIELDS} FROM receipt WHERE rid IN $rids AND owner_uid = $owner"),
                Params::new()
                    .with("rids", rids.to_vec())
                    .with("owner", owner_uid.to_string()),
            )
            .await?;
        Ok(response.take(0)?)
    }

    /// A receipt by id whoever owns it: for the OCR workers only.
    pub(crate) async fn receipt_for_job(
        &self,
        rid: &str,
    ) -> Result<Option<ReceiptRecord>, StoreError> {
        self.first(
            format!("SELECT {FIELDS} FROM receipt WHERE rid = $rid LIMIT 1"),
            Params::new().with("rid", rid.to_string()),
        )
        .await
    }

    /// The owner's read receipts dated `from` to `to` (both included), in
    /// order of date and id, at most `limit` after the `(date, rid)` of
    /// the last one of the page before: what matching walks, a page at a
    /// time, so that nothing written meanwhile moves a receipt it has not
    /// seen past it.
    pub async fn read_receipts_between(
        &self,
        owner_uid: &str,
        (from, to): (&str, &str),
        after: Option<(&str, &str)>,
        limit: u32,
    ) -> Result<Vec<ReceiptRecord>, StoreError> {
        let after_fragment = if after.is_some() {
            "AND (receipt_date > $after_date OR (receipt_date = $after_date AND rid > $after_rid)) "
        } else {
            ""
        };
        let mut response = self
            .run(
                format!(
                    "SELECT {FIELDS} FROM receipt WHERE owner_uid = $owner \
                     AND receipt_date >= $from AND receipt_date <= $to {after_fragment}\
                     AND rid IN (SELECT VALUE rid FROM ocr_job WHERE owner_uid = $owner AND state = 'done') \
                     ORDER BY receipt_date, rid LIMIT $limit;"
                ),
                Params::new()
                    .with("owner", owner_uid.to_string())
                    .with("from", from.to_string())
                    .with("to", to.to_string())
                    .with("after_date", after.map(|(d, _)| d.to_string()))
                    .with("after_rid", after.map(|(_, r)| r.to_string()))
                    .with("limit", i64::from(limit)),
            )
            .await?;
        Ok(response.take(0)?)
    }

    /// The owner's receipts, newest first, and how many match in all.
    pub async fn receipts(
        &self,
        owner_uid: &str,
        query: &ReceiptQuery,
    ) -> Result<(Vec<ReceiptRecord>, u64), StoreError> {
        let mut conditions = vec!["owner_uid = $owner"];
        if query.state.is_some() {
            conditions.push(
                "rid IN (SELECT VALUE rid FROM ocr_job WHERE owner_uid = $owner AND state = $state)",
            );
        }
        if query.date_from.is_some() {
            conditions.push("receipt_date >= $date_from");
        }
        if query.date_to.is_some() {
            conditions.push("receipt_date <= $date_to");
        }
        let filter = conditions.join(" AND ");
        let mut response = self
            .run(
                format!(
                    "SELECT {FIELDS} FROM receipt WHERE {filter} \
                 ORDER BY created_at DESC, rid DESC LIMIT $limit START $offset;\n\
                 SELECT count() AS n FROM receipt WHERE {filter} GROUP ALL;"
                ),
                Params::new()
                    .with("owner", owner_uid.to_string())
                    .with("state", query.state.clone().unwrap_or_default())
                    .with("date_from", query.date_from.clone().unwrap_or_default())
                    .with("date_to", query.date_to.clone().unwrap_or_default())
                    .with("limit", i64::from(query.limit.clamp(1, 1000)))
                    .with("offset", i64::from(query.offset)),
            )
            .await?;
        let receipts: Vec<ReceiptRecord> = response.take(0)?;
        let counts: Vec<serde_json::Value> = response.take(1)?;
        let total = super::count_of(&counts);
        Ok((receipts, total))
    }

    /// Stores the owner's corrections and the receipt date they imply.
    pub async fn correct_receipt(
        &self,
        owner_uid: &str,
        rid: &str,
        corrected: &str,
        receipt_date: Option<String>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let updated: Vec<serde_json::Value> = self.rows("UPDATE receipt SET corrected = $corrected, receipt_date = $date, updated_at = $now \
                 WHERE rid = $rid AND owner_uid = $owner RETURN rid",
                Params::new()
                    .with("corrected", corrected.to_string())
                    .with("date", receipt_date)
                    .with("now", now)
                    .with("rid", rid.to_string())
                    .with("owner", owner_uid.to_string()),
                0,
            ).await?;
        Ok(!updated.is_empty())
    }

    /// Deletes a receipt and its job, and takes it off any transaction it
    /// was attached to. Returns its image's SHA-256, or `None`
    /// when the owner has no such receipt. The image itself is the blob
    /// store's to release (another receipt may use it, or an upload of the
    /// same image may be on its way).
    pub async fn delete_receipt(
        &self,
        owner_uid: &str,
        rid: &str,
    ) -> Result<Option<String>, StoreError> {
        let Some(receipt) = self.receipt(owner_uid, rid).await? else {
            return Ok(None);
        };
        self.run(
            "BEGIN TRANSACTION;\n\
             DELETE receipt WHERE rid = $rid AND owner_uid = $owner;\n\
             DELETE ocr_job WHERE rid = $rid;\n\
             DELETE receipt_match WHERE rid = $rid;\n\
             UPDATE txn SET receipts = array::complement(receipts, [$rid]), rev = rev + 1 \
             WHERE $rid IN receipts;\n\
             COMMIT TRANSACTION;",
            Params::new()
                .with("rid", rid.to_string())
                .with("owner", owner_uid.to_string()),
        )
        .await?;
        Ok(Some(receipt.sha256))
    }

    /// The bytes of every image `owner_uid` has uploaded, for their quota.
    pub async fn stored_bytes_of(&self, owner_uid: &str) -> Result<u64, StoreError> {
        let sums: Vec<serde_json::Value> = self
            .rows(
                "SELECT math::sum(byte_size) AS n FROM receipt WHERE owner_uid = $owner GROUP ALL",
                Params::new().with("owner", owner_uid.to_string()),
                0,
            )
            .await?;
        Ok(super::count_of(&sums))
    }

    /// The SHA-256 of every blob in use: receipt images and statement files.
    pub async fn referenced_images(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut response = self
            .run(
                "SELECT VALUE sha256 FROM receipt; SELECT VALUE sha256 FROM import;",
                Params::new(),
            )
            .await?;
        let images: Vec<String> = response.take(0)?;
        let files: Vec<String> = response.take(1)?;
        Ok(images.into_iter().chain(files).collect())
    }

    /// Whether any receipt or import uses this blob: a blob with none is garbage.
    pub async fn image_in_use(&self, sha256: &str) -> Result<bool, StoreError> {
        let mut response = self
            .run(
                "SELECT count() AS n FROM receipt WHERE sha256 = $sha256 GROUP ALL;\n\
                 SELECT count() AS n FROM import WHERE sha256 = $sha256 GROUP ALL;",
                Params::new().with("sha256", sha256.to_string()),
            )
            .await?;
        let receipts: Vec<serde_json::Value> = response.take(0)?;
        let imports: Vec<serde_json::Value> = response.take(1)?;
        Ok(super::count_of(&receipts) + super::count_of(&imports) > 0)
    }
}
