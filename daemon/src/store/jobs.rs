//! The OCR job queue. A job is claimed by a conditional update that only
//! matches while it is claimable, so two workers (or two daemons sharing a
//! remote database) can never both hold it: the loser's update matches
//! nothing, or its transaction conflicts and it tries the next job.

use surrealdb::types::SurrealValue;

use super::query::Params;
use super::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct JobRecord {
    pub rid: String,
    pub owner_uid: String,
    pub state: String,
    pub attempts: i64,
    pub queued_at: i64,
    pub run_after: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub last_error: Option<String>,
    pub decode_ms: Option<i64>,
    pub detect_ms: Option<i64>,
    pub recognise_ms: Option<i64>,
    pub extract_ms: Option<i64>,
}

/// What a finished OCR run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOutcome {
    pub extracted: String,
    pub ocr_page: String,
    pub receipt_date: Option<String>,
    pub decode_ms: i64,
    pub detect_ms: i64,
    pub recognise_ms: i64,
    pub extract_ms: i64,
}

const FIELDS: &str = "rid, owner_uid, state, attempts, queued_at, run_after, lease_owner, lease_until, \
     started_at, finished_at, last_error, decode_ms, detect_ms, recognise_ms, extract_ms";

/// A job that can be taken now: queued and due, or running on a lease that ran out.
const CLAIMABLE: &str =
    "((state = 'queued' AND run_after <= $now) OR (state = 'running' AND lease_until < $now))";

impl Store {
    pub async fn job(&self, rid: &str) -> Result<Option<JobRecord>, StoreError> {
        self.first(
            format!("SELECT {FIELDS} FROM ocr_job WHERE rid = $rid LIMIT 1"),
            Params::new().with("rid", rid.to_string()),
        )
        .await
    }

    /// The jobs of several receipts at once (for listings).
    pub async fn jobs_of(&self, rids: &[String]) -> Result<Vec<JobRecord>, StoreError> {
        self.rows(
            format!("SELECT {FIELDS} FROM ocr_job WHERE rid IN $rids"),
            Params::new().with("rids", rids.to_vec()),
            0,
        )
        .await
    }

    /// Takes the oldest claimable job for `worker` until `now + lease_ms`.
    /// A job whose lease ran out after its last allowed attempt is failed
    /// instead of run again (the process died on it every time).
    pub async fn claim_job(
        &self,
        worker: &str,
        now: i64,
        lease_ms: i64,
        max_attempts: i64,
    ) -> Result<Option<JobRecord>, StoreError> {
        // A few candidates, in case others take the first ones first.
        let candidates: Vec<JobRecord> = self.rows(format!(
                "SELECT {FIELDS} FROM ocr_job WHERE {CLAIMABLE} ORDER BY run_after ASC, queued_at ASC LIMIT 4"
            ), Params::new().with("now", now), 0).await?;
        for candidate in candidates {
            if candidate.state == "running" && candidate.attempts >= max_attempts {
                self.expire_job(&candidate.rid, now).await?;
                continue;
            }
            let result = self.try_run(format!(
                    "UPDATE ocr_job SET state = 'running', attempts += 1, lease_owner = $worker, \
                     lease_until = $lease_until, started_at = $now, finished_at = NONE \
                     WHERE rid = $rid AND {CLAIMABLE} RETURN {FIELDS}"
                ),
                Params::new()
                    .with("worker", worker.to_string())
                    .with("lease_until", now.saturating_add(lease_ms))
                    .with("now", now)
                    .with("rid", candidate.rid.clone()),
            ).await
                .and_then(|mut r| r.take::<Vec<JobRecord>>(0));
            match result {
                Ok(mut claimed) => {
                    if let Some(job) = claimed.pop() {
                        return Ok(Some(job));
                    }
                }
                // Another worker's claim of the same job committed first.
                Err(e) if is_conflict(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    async fn expire_job(&self, rid: &str, now: i64) -> Result<(), StoreError> {
        let params = Params::new().with("rid", rid.to_string()).with("now", now);
        self.run(format!(
                "UPDATE ocr_job SET state = 'failed', finished_at = $now, lease_owner = NONE, lease_until = NONE, \
                 last_error = 'the process stopped while reading this receipt, on every attempt' \
                 WHERE rid = $rid AND {CLAIMABLE}"
            ), params).await?;
        Ok(())
    }

    /// Takes back the jobs this node held when it last stopped without
    /// finishing them (killed, crashed, power cut): queued again at once, or
    /// failed when that was their last allowed attempt. Workers of a node are
    /// named `<node>/...`, so other daemons' jobs are left alone.
    pub async fn release_node_jobs(
        &self,
        node: &str,
        now: i64,
        max_attempts: i64,
    ) -> Result<u64, StoreError> {
        let mut response = self.run("UPDATE ocr_job SET state = 'failed', finished_at = $now, lease_owner = NONE, lease_until = NONE, \
                 last_error = 'the process stopped while reading this receipt, on every attempt' \
                 WHERE state = 'running' AND string::starts_with(lease_owner, $prefix) AND attempts >= $max RETURN rid;\n\
                 UPDATE ocr_job SET state = 'queued', run_after = $now, lease_owner = NONE, lease_until = NONE \
                 WHERE state = 'running' AND string::starts_with(lease_owner, $prefix) RETURN rid;",
                Params::new()
                    .with("now", now)
                    .with("prefix", format!("{node}/"))
                    .with("max", max_attempts),
            ).await?;
        let failed: Vec<serde_json::Value> = response.take(0)?;
        let queued: Vec<serde_json::Value> = response.take(1)?;
        Ok((failed.len() + queued.len()) as u64)
    }

    /// Records a finished run, if `worker` still holds the job. Returns false
    /// when the lease was lost (another worker has the job now; its result wins).
    pub async fn finish_job(
        &self,
        rid: &str,
        worker: &str,
        outcome: &JobOutcome,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut response = self.run("BEGIN TRANSACTION;\n\
                 LET $held = (UPDATE ocr_job SET state = 'done', finished_at = $now, last_error = NONE, \
                 lease_owner = NONE, lease_until = NONE, decode_ms = $decode_ms, detect_ms = $detect_ms, \
                 recognise_ms = $recognise_ms, extract_ms = $extract_ms \
                 WHERE rid = $rid AND state = 'running' AND lease_owner = $worker RETURN rid);\n\
                 IF array::len($held) > 0 { \
                 UPDATE receipt SET extracted = $extracted, ocr_page = $ocr_page, \
                 receipt_date = IF corrected = NONE { $date } ELSE { receipt_date }, updated_at = $now_s \
                 WHERE rid = $rid; \
                 };\n\
                 COMMIT TRANSACTION;\n\
                 SELECT VALUE rid FROM ocr_job WHERE rid = $rid AND state = 'done' AND finished_at = $now;",
                Params::new()
                    .with("rid", rid.to_string())
                    .with("worker", worker.to_string())
                    .with("now", now)
                    .with("now_s", now / 1000)
                    .with("decode_ms", outcome.decode_ms)
                    .with("detect_ms", outcome.detect_ms)
                    .with("recognise_ms", outcome.recognise_ms)
                    .with("extract_ms", outcome.extract_ms)
                    .with("extracted", outcome.extracted.clone())
                    .with("ocr_page", outcome.ocr_page.clone())
                    .with("date", outcome.receipt_date.clone()),
            ).await?;
        let n = response.num_statements();
        let ours: Vec<String> = response.take(n - 1)?;
        Ok(!ours.is_empty())
    }

    /// Records a failed attempt: queued again after `retry_at`, or failed for
    /// good when `retry_at` is `None`. Ignored when `worker` lost the lease.
    pub async fn fail_job(
        &self,
        rid: &str,
        worker: &str,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        let (state, run_after) = match retry_at {
            Some(at) => ("queued", at),
            None => ("failed", now),
        };
        self.run(
            "UPDATE ocr_job SET state = $state, run_after = $run_after, last_error = $error, \
                 finished_at = $now, lease_owner = NONE, lease_until = NONE \
                 WHERE rid = $rid AND state = 'running' AND lease_owner = $worker",
            Params::new()
                .with("state", state)
                .with("run_after", run_after)
                .with("error", error.to_string())
                .with("now", now)
                .with("rid", rid.to_string())
                .with("worker", worker.to_string()),
        )
        .await?;
        Ok(())
    }

    /// Queues the owner's receipt again, unless its job is queued or running.
    /// Returns the job as it was, or `None` when the owner has no such receipt.
    pub async fn requeue_job(
        &self,
        owner_uid: &str,
        rid: &str,
        now: i64,
        max_retries: u32,
    ) -> Result<Option<(JobRecord, bool)>, StoreError> {
        let mut response = self.run(format!(
                "SELECT {FIELDS} FROM ocr_job WHERE rid = $rid AND owner_uid = $owner LIMIT 1;\n\
                 UPDATE ocr_job SET state = 'queued', attempts = 0, run_after = $now, queued_at = $now, \
                 last_error = NONE, finished_at = NONE, started_at = NONE, retries = (retries OR 0) + 1 \
                 WHERE rid = $rid AND owner_uid = $owner AND state IN ['done', 'failed'] \
                 AND (retries OR 0) < $max_retries RETURN rid;"
            ),
                Params::new()
                    .with("rid", rid.to_string())
                    .with("owner", owner_uid.to_string())
                    .with("now", now)
                    .with("max_retries", i64::from(max_retries)),
            ).await?;
        let mut before: Vec<JobRecord> = response.take(0)?;
        let updated: Vec<serde_json::Value> = response.take(1)?;
        Ok(before.pop().map(|job| (job, !updated.is_empty())))
    }

    /// How many jobs wait (queued, or running) in all: for the queue limit.
    pub async fn pending_jobs(&self) -> Result<u64, StoreError> {
        let counts: Vec<serde_json::Value> = self
            .rows(
                "SELECT count() AS n FROM ocr_job WHERE state IN ['queued', 'running'] GROUP ALL",
                Params::new(),
                0,
            )
            .await?;
        Ok(super::count_of(&counts))
    }

    /// How many of `owner_uid`'s jobs wait (queued, or running): for their
    /// share of the queue.
    pub async fn pending_jobs_of(&self, owner_uid: &str) -> Result<u64, StoreError> {
        let counts: Vec<serde_json::Value> = self
            .rows(
                "SELECT count() AS n FROM ocr_job WHERE owner_uid = $owner \
                 AND state IN ['queued', 'running'] GROUP ALL",
                Params::new().with("owner", owner_uid.to_string()),
                0,
            )
            .await?;
        Ok(super::count_of(&counts))
    }

    /// The number of jobs in each state, for the `fin_ocr_jobs` gauge.
    pub async fn job_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<serde_json::Value> = self
            .rows(
                "SELECT state, count() AS n FROM ocr_job GROUP BY state",
                Params::new(),
                0,
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                Some((
                    row.get("state")?.as_str()?.to_string(),
                    row.get("n")?.as_u64()?,
                ))
            })
            .collect())
    }
}

fn is_conflict(e: &surrealdb::Error) -> bool {
    let text = e.to_string().to_lowercase();
    text.contains("conflict") || text.contains("retry")
}
