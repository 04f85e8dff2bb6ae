//! The OCR job queue as the workers (`crate::jobs`) use it: claim a job
//! with a lease, fetch its image, record the outcome, take back a stopped
//! node's jobs, count jobs per state. Jobs live in the database, so several
//! daemons can share one queue and a restart loses nothing.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::{FieldsChanged, ReceiptSettings};
use crate::domain::receipt::ExtractOptions;
use crate::ocr::ReceiptReading;
use crate::service::ServiceError;
use crate::service::blobs::Blobs;
use crate::store::{JobOutcome, JobRecord, Store};
use crate::support::unix_now_ms;

/// A job a worker holds the lease of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// The receipt to read.
    pub rid: String,
    /// This attempt's number, from 1.
    pub attempts: i64,
}

/// How a worker reads a receipt: the limits it must keep.
#[derive(Debug, Clone)]
pub struct ReadLimits {
    pub max_pixels: u64,
    pub timeout: Duration,
    pub extract: ExtractOptions,
}

pub struct OcrQueue {
    store: Store,
    blobs: Blobs,
    settings: ReceiptSettings,
    wake: Arc<Notify>,
    changed: FieldsChanged,
}

impl OcrQueue {
    pub(super) fn new(
        store: Store,
        blobs: Blobs,
        settings: ReceiptSettings,
        wake: Arc<Notify>,
        changed: FieldsChanged,
    ) -> Self {
        OcrQueue {
            store,
            blobs,
            settings,
            wake,
            changed,
        }
    }

    /// Notified when a job is queued, so idle workers need not poll.
    pub fn wake_signal(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub fn read_limits(&self) -> ReadLimits {
        ReadLimits {
            max_pixels: self.settings.max_pixels,
            timeout: self.settings.job_timeout,
            extract: self.settings.extract.clone(),
        }
    }

    /// Puts back the jobs this node was running when it last stopped.
    pub async fn release_node_jobs(&self, node: &str) -> Result<u64, ServiceError> {
        Ok(self
            .store
            .release_node_jobs(node, unix_now_ms(), i64::from(self.settings.max_attempts))
            .await?)
    }

    /// Takes the next due job for `worker`, with a lease.
    pub async fn claim(&self, worker: &str) -> Result<Option<ClaimedJob>, ServiceError> {
        let claimed = self
            .store
            .claim_job(
                worker,
                unix_now_ms(),
                self.settings.lease.as_millis() as i64,
                i64::from(self.settings.max_attempts),
            )
            .await?;
        Ok(claimed.map(|job: JobRecord| ClaimedJob {
            rid: job.rid,
            attempts: job.attempts,
        }))
    }

    /// The image of a claimed job.
    pub async fn image(&self, job: &ClaimedJob) -> Result<Vec<u8>, ServiceError> {
        let receipt = self
            .store
            .receipt_for_job(&job.rid)
            .await?
            .ok_or_else(|| ServiceError::NotFound("the receipt was deleted".into()))?;
        self.blobs.get(&receipt.sha256).await
    }

    /// Stores a finished reading; false when the worker had lost its lease.
    pub async fn record_done(
        &self,
        job: &ClaimedJob,
        worker: &str,
        reading: &ReceiptReading,
    ) -> Result<bool, ServiceError> {
        let ms = |d: Duration| d.as_millis().min(i64::MAX as u128) as i64;
        let json = |e: serde_json::Error| ServiceError::Internal(e.to_string());
        let timings = &reading.timings;
        let outcome = JobOutcome {
            extracted: serde_json::to_string(&reading.fields).map_err(json)?,
            ocr_page: serde_json::to_string(&reading.page).map_err(json)?,
            receipt_date: reading.fields.date.as_ref().map(|d| d.value.clone()),
            decode_ms: ms(timings.decode),
            detect_ms: ms(timings.detect),
            recognise_ms: ms(timings.recognise),
            extract_ms: ms(timings.extract),
        };
        let stored = self
            .store
            .finish_job(&job.rid, worker, &outcome, unix_now_ms())
            .await?;
        if stored {
            (self.changed)(job.rid.clone()).await;
        }
        Ok(stored)
    }

    /// Records a failed attempt; retried with backoff while attempts remain
    /// and `retryable`, failed for good otherwise. Returns whether it will retry.
    pub async fn record_failure(
        &self,
        job: &ClaimedJob,
        worker: &str,
        error: &str,
        retryable: bool,
    ) -> Result<bool, ServiceError> {
        let now = unix_now_ms();
        let retry = retryable && job.attempts < i64::from(self.settings.max_attempts);
        // 5 s, 10 s, 20 s ... capped at 10 minutes.
        let backoff_ms = (5_000_i64 << (job.attempts.clamp(1, 8) - 1)).min(600_000);
        let retry_at = retry.then(|| now.saturating_add(backoff_ms));
        self.store
            .fail_job(&job.rid, worker, error, retry_at, now)
            .await?;
        Ok(retry)
    }

    /// Jobs per state, for the metrics gauge.
    pub async fn job_counts(&self) -> Result<Vec<(String, u64)>, ServiceError> {
        Ok(self.store.job_counts().await?)
    }
}
