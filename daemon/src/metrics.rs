//! Prometheus metrics: one registry, served as text on its own listener
//! (default 127.0.0.1:9464, `GET /metrics`), away from the public port.

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use tokio::net::TcpListener;

/// Every metric the daemon exports.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    rate_limited: IntCounterVec,
    ocr_jobs: IntGaugeVec,
    ocr_duration: HistogramVec,
    ocr_outcomes: IntCounterVec,
    cert_expiry: IntGaugeVec,
    acme_orders: IntCounterVec,
    connections_open: IntGauge,
    connections_refused: IntCounterVec,
    backup_last_success: IntGauge,
    backup_duration: HistogramVec,
    backup_size: IntGauge,
    backup_failures: IntCounterVec,
    state_fs_avail: IntGauge,
    state_fs_size: IntGauge,
    /// Where the state folder is, for the file-system gauges (none in tests).
    state_dir: Option<PathBuf>,
}

impl Metrics {
    pub fn new(version: &str, state_dir: Option<PathBuf>) -> Result<Arc<Self>, prometheus::Error> {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "fin_http_requests_total",
                "HTTPS requests answered, by route pattern and status.",
            ),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "fin_http_request_duration_seconds",
                "Time from request to response head, by route pattern.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route"],
        )?;
        let build_info = IntGaugeVec::new(
            Opts::new(
                "fin_build_info",
                "Always 1; the labels describe this build.",
            ),
            &["version"],
        )?;
        build_info.with_label_values(&[version]).set(1);

        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "fin_rate_limited_total",
                "Requests refused by the rate limiter, by route class.",
            ),
            &["class"],
        )?;
        registry.register(Box::new(rate_limited.clone()))?;
        let ocr_jobs = IntGaugeVec::new(
            Opts::new("fin_ocr_jobs", "OCR jobs in the database, by state."),
            &["state"],
        )?;
        let ocr_duration = HistogramVec::new(
            HistogramOpts::new(
                "fin_ocr_duration_seconds",
                "Time spent reading one receipt, by stage (decode, detect, recognise, extract).",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0,
            ]),
            &["stage"],
        )?;
        let ocr_outcomes = IntCounterVec::new(
            Opts::new(
                "fin_ocr_jobs_total",
                "OCR job attempts finished by this process, by outcome (done, retry, failed, timeout, lost_lease).",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(ocr_jobs.clone()))?;
        registry.register(Box::new(ocr_duration.clone()))?;
        registry.register(Box::new(ocr_outcomes.clone()))?;
        let cert_expiry = IntGaugeVec::new(
            Opts::new(
                "fin_tls_certificate_expiry_timestamp_seconds",
                "When the served certificate expires (Unix seconds), by name.",
            ),
            &["name"],
        )?;
        let acme_orders = IntCounterVec::new(
            Opts::new(
                "fin_acme_orders_total",
                "ACME certificate orders, by outcome (success, failure).",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(cert_expiry.clone()))?;
        registry.register(Box::new(acme_orders.clone()))?;
        let connections_open = IntGauge::new(
            "fin_connections_open",
            "Client connections open now (HTTPS and the HTTP redirector).",
        )?;
        let connections_refused = IntCounterVec::new(
            Opts::new(
                "fin_connections_refused_total",
                "Client connections closed at once because a cap was reached, by cap (total, per_address).",
            ),
            &["reason"],
        )?;
        registry.register(Box::new(connections_open.clone()))?;
        registry.register(Box::new(connections_refused.clone()))?;
        let backup_last_success = IntGauge::new(
            "fin_backup_last_success_timestamp_seconds",
            "When the last backup that succeeded finished (Unix seconds; 0: none since start).",
        )?;
        let backup_duration = HistogramVec::new(
            HistogramOpts::new(
                "fin_backup_duration_seconds",
                "Time taken by backups that succeeded, by kind (manual, scheduled, pre-upgrade, pre-restore, streamed).",
            )
            .buckets(vec![0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0]),
            &["kind"],
        )?;
        let backup_size = IntGauge::new(
            "fin_backup_size_bytes",
            "Size of the archive of the last backup that succeeded.",
        )?;
        let backup_failures = IntCounterVec::new(
            Opts::new(
                "fin_backup_failures_total",
                "Backups that failed or were missed, by kind (failed backups) or reason (missed).",
            ),
            &["kind"],
        )?;
        registry.register(Box::new(backup_last_success.clone()))?;
        registry.register(Box::new(backup_duration.clone()))?;
        registry.register(Box::new(backup_size.clone()))?;
        registry.register(Box::new(backup_failures.clone()))?;
        let state_fs_avail = IntGauge::new(
            "fin_state_filesystem_avail_bytes",
            "Bytes free for fin on the file system of the state folder.",
        )?;
        let state_fs_size = IntGauge::new(
            "fin_state_filesystem_size_bytes",
            "Size of the file system of the state folder.",
        )?;
        registry.register(Box::new(state_fs_avail.clone()))?;
        registry.register(Box::new(state_fs_size.clone()))?;
        // Counters and histograms start at zero for every label value known up front, so
        // their series exist, and `increase()` in alerting rules works,
        // before the first event.
        for outcome in ["success", "failure"] {
            acme_orders.with_label_values(&[outcome]);
        }
        for kind in [
            "manual",
            "scheduled",
            "pre-upgrade",
            "pre-restore",
            "streamed",
            "missed",
        ] {
            backup_failures.with_label_values(&[kind]);
            if kind != "missed" {
                backup_duration.with_label_values(&[kind]);
            }
        }
        for outcome in ["done", "retry", "failed", "timeout", "lost_lease"] {
            ocr_outcomes.with_label_values(&[outcome]);
        }
        for stage in ["decode", "detect", "recognise", "extract"] {
            ocr_duration.with_label_values(&[stage]);
        }
        for reason in ["total", "per_address"] {
            connections_refused.with_label_values(&[reason]);
        }
        registry.register(Box::new(build_info))?;
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        Ok(Arc::new(Metrics {
            registry,
            http_requests,
            http_duration,
            rate_limited,
            ocr_jobs,
            ocr_duration,
            ocr_outcomes,
            cert_expiry,
            acme_orders,
            connections_open,
            connections_refused,
            backup_last_success,
            backup_duration,
            backup_size,
            backup_failures,
            state_fs_avail,
            state_fs_size,
            state_dir,
        }))
    }

    /// The last backup known at start (the newest archive in the folder).
    pub fn set_last_backup(&self, finished_at: i64, bytes: u64) {
        self.backup_last_success.set(finished_at);
        self.backup_size
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// Records a backup that succeeded.
    pub fn observe_backup_success(&self, kind: &str, finished_at: i64, seconds: f64, bytes: u64) {
        self.backup_last_success.set(finished_at);
        self.backup_duration
            .with_label_values(&[kind])
            .observe(seconds);
        self.backup_size
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// Counts a backup that failed (`kind`) or a scheduled one missed (`missed`).
    pub fn observe_backup_failure(&self, kind: &str) {
        self.backup_failures.with_label_values(&[kind]).inc();
    }

    /// Records one answered request. `route` must be a pattern (bounded set), never a raw path.
    pub fn observe_http(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.http_requests
            .with_label_values(&[method, route, status_label(status)])
            .inc();
        self.http_duration
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// Makes the refusals of route class `class` a series at zero.
    pub fn declare_rate_limit_class(&self, class: &str) {
        self.rate_limited.with_label_values(&[class]);
    }

    /// Counts one refusal by the rate limiter of route class `class`.
    pub fn observe_rate_limited(&self, class: &str) {
        self.rate_limited.with_label_values(&[class]).inc();
    }

    /// Sets the number of OCR jobs in `state`.
    pub fn set_ocr_jobs(&self, state: &str, count: u64) {
        self.ocr_jobs
            .with_label_values(&[state])
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Records the time of one OCR stage.
    pub fn observe_ocr_stage(&self, stage: &str, seconds: f64) {
        self.ocr_duration
            .with_label_values(&[stage])
            .observe(seconds);
    }

    /// Counts one finished OCR attempt.
    pub fn observe_ocr_outcome(&self, outcome: &str) {
        self.ocr_outcomes.with_label_values(&[outcome]).inc();
    }

    /// Records when the certificate served for these names expires.
    pub fn set_certificate_expiry(&self, names: &[String], not_after: i64) {
        for name in names {
            self.cert_expiry.with_label_values(&[name]).set(not_after);
        }
    }

    /// Counts one finished ACME order.
    pub fn observe_acme_order(&self, outcome: &str) {
        self.acme_orders.with_label_values(&[outcome]).inc();
    }

    /// A client connection was admitted (`true`) or has closed (`false`).
    pub fn observe_connection(&self, opened: bool) {
        if opened {
            self.connections_open.inc();
        } else {
            self.connections_open.dec();
        }
    }

    /// Counts one connection refused by the cap `reason`.
    pub fn observe_connection_refused(&self, reason: &str) {
        self.connections_refused.with_label_values(&[reason]).inc();
    }

    /// Room on the file system of the state folder, read at each scrape
    /// (the database, the images and the backups all grow there).
    fn observe_state_filesystem(&self) {
        let Some(dir) = &self.state_dir else { return };
        match nix::sys::statvfs::statvfs(dir) {
            Ok(fs) => {
                let bytes =
                    |blocks: u64| i64::try_from(blocks * fs.fragment_size()).unwrap_or(i64::MAX);
                self.state_fs_avail.set(bytes(fs.blocks_available()));
                self.state_fs_size.set(bytes(fs.blocks()));
            }
            Err(e) => tracing::debug!(error = %e, "cannot read the state folder's file system"),
        }
    }

    /// The registry in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        self.observe_state_filesystem();
        let mut buf = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metric families.
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// Status codes as static strings, so label values never allocate.
fn status_label(status: u16) -> &'static str {
    const KNOWN: [(u16, &str); 21] = [
        (200, "200"),
        (201, "201"),
        (202, "202"),
        (204, "204"),
        (301, "301"),
        (304, "304"),
        (308, "308"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (408, "408"),
        (409, "409"),
        (411, "411"),
        (413, "413"),
        (415, "415"),
        (422, "422"),
        (429, "429"),
        (500, "500"),
        (503, "503"),
    ];
    KNOWN
        .iter()
        .find(|(code, _)| *code == status)
        .map(|(_, label)| *label)
        .unwrap_or("other")
}

/// Open connections the metrics port takes at once.
const METRICS_CONNECTIONS: usize = 16;
/// A metrics connection that sends no request for this long is closed.
const METRICS_IDLE: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `GET /metrics` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    // A scraper needs one connection or two: a few are allowed, each closed
    // when silent, so the port cannot be used to run the daemon out of descriptors.
    let caps =
        crate::support::ConnectionCaps::new(METRICS_CONNECTIONS, METRICS_CONNECTIONS, vec![]);
    crate::support::accept_until("metrics", &listener, shutdown, |stream, peer| {
        let Ok(admitted) = caps.admit(peer.ip()) else {
            return;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let _admitted = admitted;
            let service = hyper::service::service_fn(move |req| {
                let metrics = metrics.clone();
                async move { Ok::<_, Infallible>(answer(&metrics, &req)) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(METRICS_IDLE)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "metrics connection ended with an error");
            }
        });
    })
    .await;
}

fn answer(metrics: &Metrics, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(),
        ),
        (_, "/metrics") => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "use GET\n".into(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "metrics are at /metrics\n".into(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_build_info_and_request_metrics_by_pattern() {
        let m = Metrics::new("9.9.9", None).expect("metrics");
        m.observe_http("GET", "/api/v1/receipts/{id}", 200, 0.003);
        let text = m.render();
        assert!(
            text.contains("fin_build_info{version=\"9.9.9\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("fin_http_requests_total{method=\"GET\",route=\"/api/v1/receipts/{id}\",status=\"200\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("fin_http_request_duration_seconds_bucket"),
            "{text}"
        );
        assert!(text.contains("process_resident_memory_bytes"), "{text}");
    }

    #[test]
    fn the_state_folders_file_system_is_read_at_each_scrape() {
        let dir = tempfile::tempdir().expect("tempdir");
        let m = Metrics::new("9.9.9", Some(dir.path().to_path_buf())).expect("metrics");
        let text = m.render();
        let value = |name: &str| -> i64 {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} in {text}"))
        };
        let (avail, size) = (
            value("fin_state_filesystem_avail_bytes"),
            value("fin_state_filesystem_size_bytes"),
        );
        assert!(size > 0 && (0..=size).contains(&avail), "{avail} of {size}");
    }

    #[test]
    fn unusual_statuses_share_one_label() {
        assert_eq!(status_label(418), "other");
        assert_eq!(status_label(404), "404");
    }
}
