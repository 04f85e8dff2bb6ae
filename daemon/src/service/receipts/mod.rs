//! Receipts: upload, look-up, correction, deletion and re-queueing, for their
//! owner only. Reading them is the OCR workers' job (`crate::jobs`), through
//! the [`OcrQueue`].

mod queue;
mod view;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::{Notify, Semaphore};

pub use queue::{ClaimedJob, OcrQueue, ReadLimits};
pub use view::{Corrections, ReceiptView};

use super::ServiceError;
use super::auth::sessions::Principal;
use super::blobs::Blobs;
use crate::domain::image::ImageKind;
use crate::domain::receipt::{ExtractOptions, ReceiptQuery, is_iso_date};
use crate::ocr;
use crate::store::{ReceiptRecord, Store};
use crate::support::{sha256_hex, unix_now, unix_now_ms};

/// Limits and choices for receipts, from `[ocr]`.
#[derive(Debug, Clone)]
pub struct ReceiptSettings {
    pub max_upload_bytes: u64,
    pub max_pixels: u64,
    /// Jobs waiting or running, in all, before uploads are refused with 503.
    pub queue_depth: u64,
    /// Jobs one user may have waiting or running before their uploads are
    /// refused with 429: nobody fills the shared queue alone.
    pub max_queued_per_user: u64,
    /// Bytes of images one user may keep; 0: no quota.
    pub storage_quota_bytes: u64,
    /// Times one receipt may be queued again by hand.
    pub max_retries: u32,
    pub max_attempts: u32,
    pub job_timeout: Duration,
    pub lease: Duration,
    pub extract: ExtractOptions,
}

/// Told the id of a receipt whose fields just changed (read by OCR, or
/// corrected by its owner), once the change is stored: whatever it does
/// cannot undo the change. `app` hands the ledger's matching in here, so
/// neither the workers nor the HTTP layer reach for a sibling service.
pub type FieldsChanged = Arc<dyn Fn(String) -> BoxFuture<'static, ()> + Send + Sync>;

/// The result of an upload: the receipt, and whether it is new.
pub struct Uploaded {
    pub view: ReceiptView,
    pub created: bool,
}

/// The owner's use cases on one side, the workers' queue on the other,
/// sharing the store, the blobs and the signal that wakes idle workers.
pub fn open(
    store: Store,
    blobs: Blobs,
    settings: ReceiptSettings,
    changed: FieldsChanged,
) -> (Receipts, OcrQueue) {
    let wake = Arc::new(Notify::new());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let queue = OcrQueue::new(
        store.clone(),
        blobs.clone(),
        settings.clone(),
        wake.clone(),
        changed.clone(),
    );
    let receipts = Receipts {
        store,
        blobs,
        settings,
        wake,
        checks: Arc::new(Semaphore::new(cores)),
        changed,
    };
    (receipts, queue)
}

pub struct Receipts {
    store: Store,
    blobs: Blobs,
    settings: ReceiptSettings,
    /// Wakes idle workers when a job is queued.
    wake: Arc<Notify>,
    /// Full decodes at upload time, at most one per core at once.
    checks: Arc<Semaphore>,
    changed: FieldsChanged,
}

impl Receipts {
    pub fn settings(&self) -> &ReceiptSettings {
        &self.settings
    }

    /// Checks and stores an image and queues it for OCR. The same image from
    /// the same owner gives back the receipt made the first time.
    pub async fn upload(
        &self,
        principal: &Principal,
        bytes: Bytes,
        declared: Option<ImageKind>,
    ) -> Result<Uploaded, ServiceError> {
        require_writer(principal)?;
        if bytes.len() as u64 > self.settings.max_upload_bytes {
            return Err(ServiceError::TooLarge(format!(
                "receipt images are limited to {} bytes",
                self.settings.max_upload_bytes
            )));
        }
        // Cheapest first: the header, then the database, and only an image
        // that is new and has room in the queue is decoded in full.
        let (info, sha256) = self.inspect(bytes.clone(), declared).await?;
        if let Some(existing) = self.find_by_image(principal, &sha256).await? {
            return Ok(Uploaded {
                view: existing,
                created: false,
            });
        }
        self.check_queue_room(principal).await?;
        self.check_quota(principal, bytes.len() as u64).await?;
        self.check_decodes(bytes.clone(), info).await?;
        self.blobs.put(&sha256, bytes.clone()).await?;
        let now = unix_now();
        let record = ReceiptRecord {
            rid: crate::service::new_id()?,
            owner_uid: principal.user_id.clone(),
            sha256,
            content_type: info.kind.mime().to_string(),
            byte_size: bytes.len() as i64,
            width: i64::from(info.width),
            height: i64::from(info.height),
            created_at: now,
            updated_at: now,
            receipt_date: None,
            extracted: None,
            corrected: None,
            ocr_page: None,
        };
        let sha256 = record.sha256.clone();
        let stored = self.store.create_receipt(&record, unix_now_ms()).await?;
        // Again now that a receipt uses it: the collector may have taken
        // the blob, unused until this moment, since the first `put`.
        self.blobs.put(&sha256, bytes.clone()).await?;
        let created = stored.rid == record.rid;
        if created {
            self.wake.notify_waiters();
        }
        let job = self.store.job(&stored.rid).await?;
        Ok(Uploaded {
            view: ReceiptView {
                receipt: stored,
                job,
            },
            created,
        })
    }

    /// Room in the queue for one more of `principal`'s receipts: within
    /// their share, so nobody fills the shared queue alone, and within the
    /// whole queue.
    async fn check_queue_room(&self, principal: &Principal) -> Result<(), ServiceError> {
        let queued = self.store.pending_jobs_of(&principal.user_id).await?;
        if queued >= self.settings.max_queued_per_user {
            return Err(ServiceError::OverShare {
                code: "user_queue_full",
                reason: format!(
                    "you have {queued} receipts waiting to be read, the most one user may have; try again once some are read"
                ),
                retry_after_seconds: 30,
            });
        }
        if self.store.pending_jobs().await? >= self.settings.queue_depth {
            return Err(ServiceError::Busy {
                code: "queue_full",
                reason: "the OCR queue is full; try again later".into(),
                retry_after_seconds: 30,
            });
        }
        Ok(())
    }

    /// Room in `principal`'s storage quota for `size` more bytes. Checked
    /// before the image is stored; uploads running at the same moment can
    /// go over by at most one image each.
    async fn check_quota(&self, principal: &Principal, size: u64) -> Result<(), ServiceError> {
        let quota = self.settings.storage_quota_bytes;
        if quota > 0 {
            let stored = self.store.stored_bytes_of(&principal.user_id).await?;
            if stored.saturating_add(size) > quota {
                return Err(ServiceError::QuotaExceeded(format!(
                    "this image would take your receipts to {} bytes, over your quota of {quota}; delete some receipts or ask an admin",
                    stored.saturating_add(size)
                )));
            }
        }
        Ok(())
    }

    async fn find_by_image(
        &self,
        principal: &Principal,
        sha256: &str,
    ) -> Result<Option<ReceiptView>, ServiceError> {
        let Some(receipt) = self
            .store
            .receipt_by_image(&principal.user_id, sha256)
            .await?
        else {
            return Ok(None);
        };
        let job = self.store.job(&receipt.rid).await?;
        Ok(Some(ReceiptView { receipt, job }))
    }

    /// The image's header and its digest, off the runtime: hashing an image
    /// of many megabytes takes tens of milliseconds, too long to hold a
    /// runtime thread that serves other requests.
    async fn inspect(
        &self,
        bytes: Bytes,
        declared: Option<ImageKind>,
    ) -> Result<(ocr::ImageInfo, String), ServiceError> {
        let max_pixels = self.settings.max_pixels;
        tokio::task::spawn_blocking(move || {
            let info = ocr::probe(&bytes, declared, max_pixels)?;
            Ok((info, sha256_hex(&bytes)))
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("image check crashed: {e}")))?
        .map_err(ServiceError::Image)
    }

    /// A full decode off the runtime: a truncated or damaged image is
    /// refused now, not found out later by a worker.
    async fn check_decodes(&self, bytes: Bytes, info: ocr::ImageInfo) -> Result<(), ServiceError> {
        let permit = self
            .checks
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            ocr::decode(&bytes, info).map(drop)
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("image check crashed: {e}")))?
        .map_err(ServiceError::Image)
    }

    pub async fn get(&self, principal: &Principal, rid: &str) -> Result<ReceiptView, ServiceError> {
        let receipt = self
            .store
            .receipt(&principal.user_id, rid)
            .await?
            .ok_or_else(not_found)?;
        let job = self.store.job(rid).await?;
        Ok(ReceiptView { receipt, job })
    }

    /// One page of the owner's receipts, newest first, and the number matching.
    pub async fn list(
        &self,
        principal: &Principal,
        query: &ReceiptQuery,
    ) -> Result<(Vec<ReceiptView>, u64), ServiceError> {
        if let Some(state) = &query.state
            && !["queued", "running", "done", "failed"].contains(&state.as_str())
        {
            return Err(ServiceError::Invalid(
                "status must be queued, running, done or failed".into(),
            ));
        }
        for date in [&query.date_from, &query.date_to].into_iter().flatten() {
            if !is_iso_date(date) {
                return Err(ServiceError::Invalid("dates must be YYYY-MM-DD".into()));
            }
        }
        let (records, total) = self.store.receipts(&principal.user_id, query).await?;
        let rids: Vec<String> = records.iter().map(|r| r.rid.clone()).collect();
        let jobs = self.store.jobs_of(&rids).await?;
        let views = records
            .into_iter()
            .map(|receipt| {
                let job = jobs.iter().find(|j| j.rid == receipt.rid).cloned();
                ReceiptView { receipt, job }
            })
            .collect();
        Ok((views, total))
    }

    /// The stored image and its content type.
    pub async fn image(
        &self,
        principal: &Principal,
        rid: &str,
    ) -> Result<(Vec<u8>, String), ServiceError> {
        let receipt = self
            .store
            .receipt(&principal.user_id, rid)
            .await?
            .ok_or_else(not_found)?;
        Ok((self.blobs.get(&receipt.sha256).await?, receipt.content_type))
    }

    /// Applies the owner's corrections; they survive any later OCR run.
    pub async fn correct(
        &self,
        principal: &Principal,
        rid: &str,
        corrections: Corrections,
    ) -> Result<ReceiptView, ServiceError> {
        require_writer(principal)?;
        corrections.validate()?;
        let view = self.get(principal, rid).await?;
        let merged = view.corrections().unwrap_or_default().merge(corrections);
        let mut corrected_view = view.clone();
        corrected_view.receipt.corrected = Some(to_json(&merged)?);
        let date = corrected_view.fields().date.map(|d| d.value);
        self.store
            .correct_receipt(
                &principal.user_id,
                rid,
                &to_json(&merged)?,
                date,
                unix_now(),
            )
            .await?;
        (self.changed)(rid.to_string()).await;
        self.get(principal, rid).await
    }

    pub async fn delete(&self, principal: &Principal, rid: &str) -> Result<(), ServiceError> {
        require_writer(principal)?;
        let sha256 = self
            .store
            .delete_receipt(&principal.user_id, rid)
            .await?
            .ok_or_else(not_found)?;
        // Freed now, so deleting gives the disk back at once (the quota
        // counts only receipts that exist); safe against an upload of the
        // same image on its way (see `Blobs::release`).
        self.blobs.release(&self.store, &sha256).await?;
        Ok(())
    }

    /// Queues a finished or failed receipt again.
    pub async fn retry(
        &self,
        principal: &Principal,
        rid: &str,
    ) -> Result<ReceiptView, ServiceError> {
        require_writer(principal)?;
        self.check_queue_room(principal).await?;
        let (before, requeued) = self
            .store
            .requeue_job(
                &principal.user_id,
                rid,
                unix_now_ms(),
                self.settings.max_retries,
            )
            .await?
            .ok_or_else(not_found)?;
        if !requeued && ["done", "failed"].contains(&before.state.as_str()) {
            return Err(ServiceError::Conflict(format!(
                "this receipt was queued again {} times already, the most allowed (ocr.max_retries)",
                self.settings.max_retries
            )));
        }
        if !requeued {
            return Err(ServiceError::Conflict(format!(
                "the receipt is {} already; retry it once it is done or failed",
                before.state
            )));
        }
        self.wake.notify_waiters();
        self.get(principal, rid).await
    }
}

fn require_writer(principal: &Principal) -> Result<(), ServiceError> {
    if principal.role == "guest" {
        return Err(ServiceError::Forbidden("guests can only read".into()));
    }
    Ok(())
}

fn not_found() -> ServiceError {
    ServiceError::NotFound("no such receipt".into())
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ServiceError> {
    serde_json::to_string(value).map_err(|e| ServiceError::Internal(e.to_string()))
}
