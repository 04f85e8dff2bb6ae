//! Receipts: upload, look-up, correction, deletion and re-queueing, for their
//! owner only. Reading them is the OCR workers' job (`crate::jobs`), through
//! [`Receipts::claim`] and [`Receipts::run`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, Semaphore};

use super::auth::password::hex;
use super::auth::sessions::Principal;
use super::blobs::Blobs;
use super::{ServiceError, unix_now};
use crate::domain::receipt::{ExtractOptions, Field, ReceiptFields, is_iso_date};
use crate::ocr::{self, Engine, ImageKind};
use crate::store::{JobOutcome, JobRecord, ReceiptQuery, ReceiptRecord, Store};

/// Limits and choices for receipts, from `[ocr]`.
#[derive(Debug, Clone)]
pub struct ReceiptSettings {
    pub max_upload_bytes: u64,
    pub max_pixels: u64,
    /// Jobs waiting or running, in all, before uploads are refused with 503.
    pub queue_depth: u64,
    pub max_attempts: u32,
    pub job_timeout: Duration,
    pub lease: Duration,
    pub extract: ExtractOptions,
}

impl From<&crate::config::OcrSettings> for ReceiptSettings {
    fn from(ocr: &crate::config::OcrSettings) -> Self {
        ReceiptSettings {
            max_upload_bytes: ocr.max_upload_bytes,
            max_pixels: ocr.max_pixels,
            queue_depth: ocr.queue_depth,
            max_attempts: ocr.max_attempts,
            job_timeout: ocr.job_timeout,
            lease: ocr.lease,
            extract: ExtractOptions {
                date_order: ocr.date_order,
                default_currency: ocr.default_currency.clone(),
            },
        }
    }
}

/// A receipt with its OCR job.
#[derive(Debug, Clone)]
pub struct ReceiptView {
    pub receipt: ReceiptRecord,
    pub job: Option<JobRecord>,
}

impl ReceiptView {
    /// The fields as the owner should see them: extracted, with corrections on top.
    pub fn fields(&self) -> ReceiptFields {
        let mut fields: ReceiptFields = self
            .receipt
            .extracted
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default();
        if let Some(corrections) = self.corrections() {
            corrections.apply(&mut fields);
        }
        fields
    }

    pub fn corrections(&self) -> Option<Corrections> {
        self.receipt
            .corrected
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
    }

    pub fn state(&self) -> &str {
        self.job.as_ref().map_or("failed", |j| j.state.as_str())
    }
}

/// Fields the owner set by hand. `Some` replaces the extracted value.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Corrections {
    pub merchant: Option<String>,
    /// ISO 8601 date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// `HH:MM` or `HH:MM:SS`.
    pub time: Option<String>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// Minor units of the currency.
    pub total: Option<i64>,
    pub subtotal: Option<i64>,
    pub tax: Option<i64>,
    pub payment_method: Option<String>,
}

impl Corrections {
    /// The names of the fields set, as in the API.
    pub fn names(&self) -> Vec<&'static str> {
        [
            ("merchant", self.merchant.is_some()),
            ("date", self.date.is_some()),
            ("time", self.time.is_some()),
            ("currency", self.currency.is_some()),
            ("total", self.total.is_some()),
            ("subtotal", self.subtotal.is_some()),
            ("tax", self.tax.is_some()),
            ("payment_method", self.payment_method.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    fn apply(&self, fields: &mut ReceiptFields) {
        let text = |v: &Option<String>| v.clone().map(Field::given);
        if self.merchant.is_some() {
            fields.merchant = text(&self.merchant);
        }
        if self.date.is_some() {
            fields.date = text(&self.date);
        }
        if self.time.is_some() {
            fields.time = text(&self.time);
        }
        if self.currency.is_some() {
            fields.currency = text(&self.currency);
        }
        if self.payment_method.is_some() {
            fields.payment_method = text(&self.payment_method);
        }
        if let Some(total) = self.total {
            fields.total = Some(Field::given(total));
        }
        if let Some(subtotal) = self.subtotal {
            fields.subtotal = Some(Field::given(subtotal));
        }
        if let Some(tax) = self.tax {
            fields.tax = Some(Field::given(tax));
        }
    }

    /// Later corrections win field by field.
    fn merge(mut self, newer: Corrections) -> Corrections {
        macro_rules! take_newer {
            ($($field:ident),*) => { $( if newer.$field.is_some() { self.$field = newer.$field; } )* };
        }
        take_newer!(
            merchant,
            date,
            time,
            currency,
            total,
            subtotal,
            tax,
            payment_method
        );
        self
    }

    fn validate(&self) -> Result<(), ServiceError> {
        let invalid = |m: &str| Err(ServiceError::Invalid(m.into()));
        if let Some(date) = &self.date
            && !is_iso_date(date)
        {
            return invalid("date must be a real date written YYYY-MM-DD");
        }
        if let Some(time) = &self.time
            && !is_time(time)
        {
            return invalid("time must be HH:MM or HH:MM:SS");
        }
        if let Some(code) = &self.currency
            && !crate::domain::money::is_currency_code(code)
        {
            return invalid("currency must be an ISO 4217 code such as EUR");
        }
        for (name, value) in [
            ("total", self.total),
            ("subtotal", self.subtotal),
            ("tax", self.tax),
        ] {
            if value.is_some_and(|v| !(0..=1_000_000_000_000).contains(&v)) {
                return Err(ServiceError::Invalid(format!(
                    "{name} must be a whole number of minor units from 0 to 10^12"
                )));
            }
        }
        for (name, value) in [
            ("merchant", &self.merchant),
            ("payment_method", &self.payment_method),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.trim().is_empty() || v.chars().count() > 200)
            {
                return Err(ServiceError::Invalid(format!(
                    "{name} must be 1 to 200 characters"
                )));
            }
        }
        Ok(())
    }
}

fn is_time(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    let in_range = |p: &str, max: u32| p.len() == 2 && p.parse::<u32>().is_ok_and(|v| v <= max);
    match parts.as_slice() {
        [h, m] => in_range(h, 23) && in_range(m, 59),
        [h, m, s] => in_range(h, 23) && in_range(m, 59) && in_range(s, 59),
        _ => false,
    }
}

/// The result of an upload: the receipt, and whether it is new.
pub struct Uploaded {
    pub view: ReceiptView,
    pub created: bool,
}

/// What one OCR run produced, or why it failed.
pub enum RunResult {
    Done {
        fields: Box<ReceiptFields>,
        /// The OCR lines, as JSON.
        page_json: String,
        timings: StageTimings,
    },
    /// The image cannot be read; trying again would not help.
    Unreadable(String),
}

/// Seconds spent in each stage of one OCR run.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimings {
    pub decode: Duration,
    pub detect: Duration,
    pub recognise: Duration,
    pub extract: Duration,
}

pub struct Receipts {
    store: Store,
    blobs: Blobs,
    settings: ReceiptSettings,
    /// Wakes idle workers when a job is queued.
    wake: Arc<Notify>,
    /// Full decodes at upload time, at most one per core at once.
    checks: Arc<Semaphore>,
}

impl Receipts {
    pub fn new(store: Store, blobs: Blobs, settings: ReceiptSettings) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Receipts {
            store,
            blobs,
            settings,
            wake: Arc::new(Notify::new()),
            checks: Arc::new(Semaphore::new(cores)),
        }
    }

    pub fn settings(&self) -> &ReceiptSettings {
        &self.settings
    }

    pub fn wake_signal(&self) -> Arc<Notify> {
        self.wake.clone()
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
        let info = self.check_image(bytes.clone(), declared).await?;
        let sha256 = hex(&Sha256::digest(&bytes));
        if let Some(existing) = self.find_by_image(principal, &sha256).await? {
            return Ok(Uploaded {
                view: existing,
                created: false,
            });
        }
        if self.store.pending_jobs().await? >= self.settings.queue_depth {
            return Err(ServiceError::Busy {
                reason: "the OCR queue is full; try again later".into(),
                retry_after_seconds: 30,
            });
        }
        self.blobs.put(&sha256, bytes.clone()).await?;
        let now = unix_now();
        let record = ReceiptRecord {
            rid: super::new_id()?,
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
        let stored = self.store.create_receipt(&record, now_ms()).await?;
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

    /// Header checks, then a full decode off the runtime: a truncated or
    /// damaged image is refused now, not found out later by a worker.
    async fn check_image(
        &self,
        bytes: Bytes,
        declared: Option<ImageKind>,
    ) -> Result<ocr::ImageInfo, ServiceError> {
        let max_pixels = self.settings.max_pixels;
        let permit = self
            .checks
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let info = ocr::probe(&bytes, declared, max_pixels)?;
            ocr::decode(&bytes, info)?;
            Ok::<_, ocr::ImageError>(info)
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
        self.get(principal, rid).await
    }

    pub async fn delete(&self, principal: &Principal, rid: &str) -> Result<(), ServiceError> {
        require_writer(principal)?;
        let (sha256, still_used) = self
            .store
            .delete_receipt(&principal.user_id, rid)
            .await?
            .ok_or_else(not_found)?;
        if !still_used {
            self.blobs.remove(&sha256).await?;
        }
        Ok(())
    }

    /// Queues a finished or failed receipt again.
    pub async fn retry(
        &self,
        principal: &Principal,
        rid: &str,
    ) -> Result<ReceiptView, ServiceError> {
        require_writer(principal)?;
        let (before, requeued) = self
            .store
            .requeue_job(&principal.user_id, rid, now_ms())
            .await?
            .ok_or_else(not_found)?;
        if !requeued {
            return Err(ServiceError::Conflict(format!(
                "the receipt is {} already; retry it once it is done or failed",
                before.state
            )));
        }
        self.wake.notify_waiters();
        self.get(principal, rid).await
    }

    /// Puts back the jobs this node was running when it last stopped.
    pub async fn release_node_jobs(&self, node: &str) -> Result<u64, ServiceError> {
        Ok(self
            .store
            .release_node_jobs(node, now_ms(), i64::from(self.settings.max_attempts))
            .await?)
    }

    /// Takes the next due job for `worker`, with a lease.
    pub async fn claim(&self, worker: &str) -> Result<Option<JobRecord>, ServiceError> {
        Ok(self
            .store
            .claim_job(
                worker,
                now_ms(),
                self.settings.lease.as_millis() as i64,
                i64::from(self.settings.max_attempts),
            )
            .await?)
    }

    /// The image of a claimed job.
    pub async fn job_image(&self, job: &JobRecord) -> Result<Vec<u8>, ServiceError> {
        let receipt = self
            .store
            .receipt_for_job(&job.rid)
            .await?
            .ok_or_else(|| ServiceError::NotFound("the receipt was deleted".into()))?;
        self.blobs.get(&receipt.sha256).await
    }

    /// Decodes, reads and extracts one image. CPU-bound and blocking: run it
    /// on a blocking thread.
    pub fn run(engine: &Engine, bytes: &[u8], settings: &ReceiptSettings) -> RunResult {
        let started = Instant::now();
        let image = match ocr::probe(bytes, None, settings.max_pixels)
            .and_then(|info| ocr::decode(bytes, info))
        {
            Ok(image) => image,
            Err(e) => return RunResult::Unreadable(e.to_string()),
        };
        let decode = started.elapsed();
        let (page, fields, ocr_timings) = match engine.read_receipt(&image, &settings.extract) {
            Ok(read) => read,
            Err(e) => return RunResult::Unreadable(e),
        };
        let page_json = match serde_json::to_string(&page) {
            Ok(json) => json,
            Err(e) => return RunResult::Unreadable(format!("cannot store the OCR lines: {e}")),
        };
        RunResult::Done {
            fields: Box::new(fields),
            page_json,
            timings: StageTimings {
                decode,
                detect: ocr_timings.detect,
                recognise: ocr_timings.recognise,
                extract: ocr_timings.extract,
            },
        }
    }

    /// Stores a finished run; false when the worker had lost its lease.
    pub async fn record_done(
        &self,
        job: &JobRecord,
        worker: &str,
        fields: &ReceiptFields,
        page_json: String,
        timings: StageTimings,
    ) -> Result<bool, ServiceError> {
        let ms = |d: Duration| d.as_millis().min(i64::MAX as u128) as i64;
        let outcome = JobOutcome {
            extracted: to_json(fields)?,
            ocr_page: page_json,
            receipt_date: fields.date.as_ref().map(|d| d.value.clone()),
            decode_ms: ms(timings.decode),
            detect_ms: ms(timings.detect),
            recognise_ms: ms(timings.recognise),
            extract_ms: ms(timings.extract),
        };
        Ok(self
            .store
            .finish_job(&job.rid, worker, &outcome, now_ms())
            .await?)
    }

    /// Records a failed attempt; retried with backoff while attempts remain
    /// and `retryable`, failed for good otherwise. Returns whether it will retry.
    pub async fn record_failure(
        &self,
        job: &JobRecord,
        worker: &str,
        error: &str,
        retryable: bool,
    ) -> Result<bool, ServiceError> {
        let now = now_ms();
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

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_accept_only_real_values() {
        let ok = Corrections {
            date: Some("2024-02-29".into()),
            time: Some("23:59".into()),
            currency: Some("EUR".into()),
            total: Some(1234),
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        for bad in [
            Corrections {
                date: Some("2023-02-29".into()),
                ..Default::default()
            },
            Corrections {
                date: Some("25/12/2018".into()),
                ..Default::default()
            },
            Corrections {
                time: Some("24:00".into()),
                ..Default::default()
            },
            Corrections {
                currency: Some("euro".into()),
                ..Default::default()
            },
            Corrections {
                total: Some(-1),
                ..Default::default()
            },
            Corrections {
                merchant: Some("  ".into()),
                ..Default::default()
            },
        ] {
            assert!(
                matches!(bad.validate(), Err(ServiceError::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn later_corrections_win_field_by_field_and_override_extraction() {
        let first = Corrections {
            merchant: Some("A".into()),
            total: Some(100),
            ..Default::default()
        };
        let second = Corrections {
            total: Some(200),
            ..Default::default()
        };
        let merged = first.merge(second);
        assert_eq!(merged.merchant.as_deref(), Some("A"));
        assert_eq!(merged.total, Some(200));
        let mut fields = ReceiptFields {
            total: Some(Field::read(999, 0.5, 3, "TOTAL 9.99")),
            ..Default::default()
        };
        merged.apply(&mut fields);
        assert_eq!(fields.total, Some(Field::given(200)));
        assert_eq!(fields.merchant.map(|m| m.value), Some("A".to_string()));
    }
}
