//! The OCR workers: a fixed number of tasks that claim jobs from the
//! database, run OCR on blocking threads (never on the async runtime) under a
//! time limit, and record the outcome. Jobs live in the database, not here:
//! a restart loses nothing, and several daemons can share one queue.
//! Scheduled backups are in [`backups`].

pub mod backups;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::ocr::{Engine, Timings};
use crate::service::receipts::{ClaimedJob, OcrQueue};

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
    queue: Arc<OcrQueue>,
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
                queue: queue.clone(),
                engine: engine.clone(),
                cpu: cpu.clone(),
                observer: observer.clone(),
            };
            tokio::spawn(worker.run(shutdown.clone()))
        })
        .collect();
    handles.push(tokio::spawn(refresh_gauge(queue, observer, shutdown)));
    handles
}

struct Worker {
    id: String,
    queue: Arc<OcrQueue>,
    engine: Arc<Engine>,
    cpu: Arc<Semaphore>,
    observer: Arc<OcrObserver>,
}

impl Worker {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let wake = self.queue.wake_signal();
        while !*shutdown.borrow() {
            let Ok(permit) = self.cpu.clone().acquire_owned().await else {
                return;
            };
            match self.queue.claim(&self.id).await {
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

    async fn process(&self, job: ClaimedJob, permit: tokio::sync::OwnedSemaphorePermit) {
        tracing::info!(receipt = %job.rid, attempt = job.attempts, worker = %self.id, "reading receipt");
        let bytes = match self.queue.image(&job).await {
            Ok(bytes) => bytes,
            Err(e) => {
                drop(permit);
                return self
                    .failed(&job, &format!("cannot load the image: {e}"), true)
                    .await;
            }
        };
        let engine = self.engine.clone();
        let limits = self.queue.read_limits();
        let timeout = limits.timeout;
        let run = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            engine.read_receipt_bytes(&bytes, limits.max_pixels, &limits.extract)
        });
        match tokio::time::timeout(timeout, run).await {
            Ok(Ok(Ok(reading))) => {
                self.observe(&reading.timings);
                match self.queue.record_done(&job, &self.id, &reading).await {
                    Ok(true) => {
                        (self.observer.outcome)("done");
                        tracing::info!(receipt = %job.rid, total_ms = reading.timings.total().as_millis(), "receipt read");
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
            Ok(Ok(Err(unreadable))) => self.failed(&job, &unreadable, false).await,
            Ok(Err(panic)) => {
                tracing::error!(receipt = %job.rid, error = %panic, "OCR crashed on this image");
                self.failed(&job, "OCR crashed on this image", false).await;
            }
            Err(_) => {
                (self.observer.outcome)("timeout");
                let reason = format!(
                    "reading took longer than the limit of {} s",
                    timeout.as_secs()
                );
                self.failed(&job, &reason, false).await;
            }
        }
    }

    async fn failed(&self, job: &ClaimedJob, reason: &str, retryable: bool) {
        match self
            .queue
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

    fn observe(&self, timings: &Timings) {
        for (stage, took) in timings.stages() {
            (self.observer.stage)(stage, took);
        }
    }
}

async fn refresh_gauge(
    queue: Arc<OcrQueue>,
    observer: Arc<OcrObserver>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut known: Vec<String> = Vec::new();
    while !*shutdown.borrow() {
        if let Ok(counts) = queue.job_counts().await {
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
