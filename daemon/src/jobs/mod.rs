//! The OCR workers: a fixed number of tasks that claim jobs from the
//! database, run OCR on blocking threads (never on the async runtime) under a
//! time limit, and record the outcome. Jobs live in the database, not here:
//! a restart loses nothing, and several daemons can share one queue.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::ocr::Engine;
use crate::service::receipts::{Receipts, RunResult, StageTimings};
use crate::store::JobRecord;

/// How often idle workers look for due retries and expired leases.
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// How often the per-state job counts are refreshed.
const GAUGE_INTERVAL: Duration = Duration::from_secs(5);

/// What the workers report, for metrics. Given by the composition root so
/// this module does not depend on the metrics module.
pub struct OcrObserver {
    pub stage: Box<dyn Fn(&'static str, Duration) + Send + Sync>,
    pub outcome: Box<dyn Fn(&'static str) + Send + Sync>,
    pub job_counts: JobCountsObserver,
}

/// Receives the number of jobs in each state.
pub type JobCountsObserver = Box<dyn Fn(&[(String, u64)]) + Send + Sync>;

/// Starts `workers` OCR workers and the job-count gauge. They stop when
/// `shutdown` turns true; a job in flight then finishes or is left to its lease.
pub fn start(
    receipts: Arc<Receipts>,
    engine: Arc<Engine>,
    workers: usize,
    node: &str,
    observer: OcrObserver,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let observer = Arc::new(observer);
    // One permit per worker, held by the blocking OCR call itself: a run that
    // outlives its time limit keeps its permit until it really ends, so
    // runaway runs can never pile up beyond the worker count.
    let cpu = Arc::new(Semaphore::new(workers));
    let mut handles: Vec<JoinHandle<()>> = (0..workers)
        .map(|n| {
            let worker = Worker {
                id: format!("{node}/{n}"),
                receipts: receipts.clone(),
                engine: engine.clone(),
                cpu: cpu.clone(),
                observer: observer.clone(),
            };
            tokio::spawn(worker.run(shutdown.clone()))
        })
        .collect();
    handles.push(tokio::spawn(refresh_gauge(receipts, observer, shutdown)));
    handles
}

struct Worker {
    id: String,
    receipts: Arc<Receipts>,
    engine: Arc<Engine>,
    cpu: Arc<Semaphore>,
    observer: Arc<OcrObserver>,
}

impl Worker {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let wake = self.receipts.wake_signal();
        while !*shutdown.borrow() {
            let Ok(permit) = self.cpu.clone().acquire_owned().await else {
                return;
            };
            match self.receipts.claim(&self.id).await {
                Ok(Some(job)) => {
                    let rid = job.rid.clone();
                    tokio::select! {
                        _ = self.process(job, permit) => {}
                        // Stopping does not wait for a receipt being read: its
                        // job stays leased to this node and is taken back at
                        // the next start.
                        _ = shutdown.wait_for(|stop| *stop) => {
                            tracing::info!(receipt = %rid, "stopping while reading a receipt; it will be read again after the restart");
                            return;
                        }
                    }
                }
                Ok(None) => {
                    drop(permit);
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep(POLL_INTERVAL) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Err(e) => {
                    drop(permit);
                    tracing::warn!(worker = %self.id, error = %e, "cannot claim an OCR job; trying again shortly");
                    tokio::select! {
                        _ = tokio::time::sleep(POLL_INTERVAL * 2) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
    }

    async fn process(&self, job: JobRecord, permit: tokio::sync::OwnedSemaphorePermit) {
        tracing::info!(receipt = %job.rid, attempt = job.attempts, worker = %self.id, "reading receipt");
        let bytes = match self.receipts.job_image(&job).await {
            Ok(bytes) => bytes,
            Err(e) => {
                drop(permit);
                return self
                    .failed(&job, &format!("cannot load the image: {e}"), true)
                    .await;
            }
        };
        let engine = self.engine.clone();
        let settings = self.receipts.settings().clone();
        let limit = settings.job_timeout;
        let run = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            Receipts::run(&engine, &bytes, &settings)
        });
        match tokio::time::timeout(limit, run).await {
            Ok(Ok(RunResult::Done {
                fields,
                page_json,
                timings,
            })) => {
                self.observe(timings);
                match self
                    .receipts
                    .record_done(&job, &self.id, &fields, page_json, timings)
                    .await
                {
                    Ok(true) => {
                        (self.observer.outcome)("done");
                        tracing::info!(receipt = %job.rid, total_ms = total_ms(timings), "receipt read");
                    }
                    Ok(false) => {
                        (self.observer.outcome)("lost_lease");
                        tracing::warn!(receipt = %job.rid, "lease lost before the result was stored; another worker has the job");
                    }
                    Err(e) => {
                        tracing::error!(receipt = %job.rid, error = %e, "cannot store an OCR result");
                        self.failed(&job, "cannot store the result", true).await;
                    }
                }
            }
            Ok(Ok(RunResult::Unreadable(reason))) => self.failed(&job, &reason, false).await,
            Ok(Err(panic)) => {
                tracing::error!(receipt = %job.rid, error = %panic, "OCR crashed on this image");
                self.failed(&job, "OCR crashed on this image", false).await;
            }
            Err(_) => {
                (self.observer.outcome)("timeout");
                let reason = format!(
                    "reading took longer than the limit of {} s",
                    limit.as_secs()
                );
                self.failed(&job, &reason, false).await;
            }
        }
    }

    async fn failed(&self, job: &JobRecord, reason: &str, retryable: bool) {
        match self
            .receipts
            .record_failure(job, &self.id, reason, retryable)
            .await
        {
            Ok(true) => {
                (self.observer.outcome)("retry");
                tracing::warn!(receipt = %job.rid, attempt = job.attempts, reason, "OCR attempt failed; will retry");
            }
            Ok(false) => {
                (self.observer.outcome)("failed");
                tracing::warn!(receipt = %job.rid, attempt = job.attempts, reason, "OCR failed");
            }
            Err(e) => {
                tracing::error!(receipt = %job.rid, error = %e, "cannot record an OCR failure; the lease will expire");
            }
        }
    }

    fn observe(&self, t: StageTimings) {
        (self.observer.stage)("decode", t.decode);
        (self.observer.stage)("detect", t.detect);
        (self.observer.stage)("recognise", t.recognise);
        (self.observer.stage)("extract", t.extract);
    }
}

fn total_ms(t: StageTimings) -> u128 {
    (t.decode + t.detect + t.recognise + t.extract).as_millis()
}

async fn refresh_gauge(
    receipts: Arc<Receipts>,
    observer: Arc<OcrObserver>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut known: Vec<String> = Vec::new();
    while !*shutdown.borrow() {
        if let Ok(counts) = receipts.job_counts().await {
            // States that emptied must read 0, not keep their last value.
            let mut all = counts.clone();
            for state in ["queued", "running", "done", "failed"]
                .iter()
                .map(|s| s.to_string())
                .chain(known.iter().cloned())
            {
                if !all.iter().any(|(s, _)| *s == state) {
                    all.push((state, 0));
                }
            }
            known = all.iter().map(|(s, _)| s.clone()).collect();
            (observer.job_counts)(&all);
        }
        tokio::select! {
            _ = tokio::time::sleep(GAUGE_INTERVAL) => {}
            _ = shutdown.changed() => {}
        }
    }
}
