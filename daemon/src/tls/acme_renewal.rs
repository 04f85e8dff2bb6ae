//! Keeps an ACME certificate serving: at start the stored one (or a first
//! order), then renewal in the background when a third of the lifetime is
//! left, with exponential backoff and jitter on failure. A new certificate is
//! swapped into the resolver: no restart, open connections keep theirs.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::acme::{self, AcmeSettings, Challenge, Issued};
use super::{CertResolver, files};
use crate::support::unix_now;

/// How often the stored certificate is looked at even when nothing is due.
const CHECK_EVERY: Duration = Duration::from_secs(6 * 3600);
/// First wait after a failed order; doubles up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_secs(60);
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);
/// An order that takes longer is abandoned (acme-lib polls without a deadline).
const ORDER_TIME_LIMIT: Duration = Duration::from_secs(600);

use fin_proto::admin::AcmeStatus;

/// Counts and gauges the renewal reports; given by the composition root.
pub struct AcmeObserver {
    pub order: Box<dyn Fn(&'static str) + Send + Sync>,
    pub expiry: ExpiryObserver,
}

/// Receives a certificate name and its expiry (Unix seconds).
pub type ExpiryObserver = Box<dyn Fn(&str, i64) + Send + Sync>;

#[derive(Clone)]
pub struct AcmeRenewal {
    settings: AcmeSettings,
    challenge: Challenge,
    resolver: Arc<CertResolver>,
    status: Arc<Mutex<AcmeStatus>>,
    renew_now: Arc<Notify>,
    observer: Arc<AcmeObserver>,
}

impl AcmeRenewal {
    pub fn new(
        settings: AcmeSettings,
        challenge: Challenge,
        resolver: Arc<CertResolver>,
        observer: AcmeObserver,
    ) -> Self {
        let status = AcmeStatus {
            directory: settings.directory.url().to_string(),
            domains: settings.domains.clone(),
            ..AcmeStatus::default()
        };
        AcmeRenewal {
            settings,
            challenge,
            resolver,
            status: Arc::new(Mutex::new(status)),
            renew_now: Arc::new(Notify::new()),
            observer: Arc::new(observer),
        }
    }

    pub fn status(&self) -> AcmeStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Asks for an order now (`finctl cert renew`): when due, or always with `force`.
    pub fn request_renewal(&self, force: bool) -> Result<String, String> {
        let status = self.status();
        if status.ordering {
            if force {
                // Kept as a permit: the renewal loop orders again, forced, as
                // soon as the running order ends (which may be one that is
                // already serving its certificate).
                self.renew_now.notify_one();
                return Ok(
                    "an order is running; a forced renewal follows it; see `finctl cert status`"
                        .into(),
                );
            }
            return Ok("an order is running already; see `finctl cert status`".into());
        }
        let now = unix_now();
        if !force && let Some(next) = status.next_renewal.filter(|next| *next > now) {
            return Err(format!(
                "the certificate is not due for renewal for {} more hours; use --force to renew anyway",
                (next - now) / 3600
            ));
        }
        self.renew_now.notify_one();
        Ok("renewal started; see `finctl cert status`".into())
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = FIRST_BACKOFF;
        let mut forced = false;
        // A box restarting in a loop must not order at every start: a failure
        // recorded by an earlier run is waited out first.
        if let Some((wait, previous)) = self.recorded_backoff() {
            tracing::warn!(wait = ?wait, "an earlier ACME order failed; waiting before the next one");
            backoff = previous;
            if let Some(issued) = {
                let settings = self.settings.clone();
                tokio::task::spawn_blocking(move || acme::stored(&settings))
                    .await
                    .ok()
                    .flatten()
            } {
                self.serve(&issued);
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.renew_now.notified() => forced = true,
                _ = shutdown.changed() => return,
            }
        }
        while !*shutdown.borrow() {
            let stored = {
                let settings = self.settings.clone();
                tokio::task::spawn_blocking(move || acme::stored(&settings))
                    .await
                    .ok()
                    .flatten()
            };
            let now = unix_now();
            let wait = match stored {
                Some(issued) if !forced && !acme::renewal_due(&issued, now) => {
                    self.serve(&issued);
                    backoff = FIRST_BACKOFF;
                    Duration::from_secs((issued.renewal_at() - now).max(1) as u64).min(CHECK_EVERY)
                }
                previous => {
                    if let Some(issued) = &previous {
                        // Due for renewal: keep serving it until the new one is in.
                        self.serve(issued);
                    }
                    match self.order().await {
                        Ok(issued) => {
                            self.serve(&issued);
                            backoff = FIRST_BACKOFF;
                            self.record_backoff(None);
                            Duration::from_secs((issued.renewal_at() - now).max(1) as u64)
                                .min(CHECK_EVERY)
                        }
                        Err(reason) => {
                            let wait = with_jitter(backoff);
                            tracing::warn!(error = %reason, retry_in = ?wait, "ACME order failed; the current certificate keeps serving");
                            self.record_backoff(Some(wait));
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                            wait
                        }
                    }
                }
            };
            forced = false;
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.renew_now.notified() => forced = true,
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn order(&self) -> Result<Issued, String> {
        self.update(|s| {
            s.ordering = true;
            s.last_attempt = Some(unix_now());
        });
        let (settings, challenge) = (self.settings.clone(), self.challenge.clone());
        let run = tokio::task::spawn_blocking(move || acme::order(&settings, &challenge));
        let result = match tokio::time::timeout(ORDER_TIME_LIMIT, run).await {
            Ok(Ok(Ok(issued))) => Ok(issued),
            Ok(Ok(Err(e))) => Err(e.to_string()),
            Ok(Err(e)) => Err(format!("the ACME order crashed: {e}")),
            Err(_) => Err(format!(
                "the ACME order took longer than {} s",
                ORDER_TIME_LIMIT.as_secs()
            )),
        };
        (self.observer.order)(if result.is_ok() { "success" } else { "failure" });
        self.update(|s| {
            s.ordering = false;
            s.last_error = result.as_ref().err().cloned();
        });
        match &result {
            Ok(issued) => tracing::info!(not_after = issued.not_after, "ACME certificate issued"),
            Err(e) => tracing::error!(error = %e, "ACME order failed"),
        }
        result
    }

    /// Swaps `issued` in unless it is already what is served. Certificates
    /// are told apart by fingerprint: two issued in the same second (a forced
    /// renewal right after an order) share their `not_after`.
    fn serve(&self, issued: &Issued) {
        let origin = Path::new("acme");
        match files::load_pem(
            issued.cert_pem.as_bytes(),
            issued.key_pem.as_bytes(),
            origin,
            origin,
        ) {
            Ok(cert) => {
                if cert.info.fingerprint_sha256 == self.resolver.info().fingerprint_sha256 {
                    return;
                }
                for name in &cert.info.sans {
                    (self.observer.expiry)(name, issued.not_after);
                }
                self.resolver.swap(cert);
                self.update(|s| {
                    s.issued_not_after = Some(issued.not_after);
                    s.next_renewal = Some(issued.renewal_at());
                });
            }
            Err(e) => tracing::error!(error = %e, "the ACME certificate cannot be served"),
        }
    }

    /// `acme/backoff`: when the last order failed and how long to wait after
    /// it, so the wait survives restarts. Removed after a success.
    fn backoff_file(&self) -> std::path::PathBuf {
        self.settings.dir.join("backoff")
    }

    fn record_backoff(&self, wait: Option<Duration>) {
        let path = self.backoff_file();
        let result = match wait {
            Some(wait) => std::fs::create_dir_all(&self.settings.dir).and_then(|()| {
                std::fs::write(&path, format!("{} {}\n", unix_now(), wait.as_secs()))
            }),
            None => match std::fs::remove_file(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            },
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, path = %path.display(), "cannot record the ACME backoff");
        }
    }

    /// The rest of a recorded wait, and that wait (to continue doubling from).
    fn recorded_backoff(&self) -> Option<(Duration, Duration)> {
        let text = std::fs::read_to_string(self.backoff_file()).ok()?;
        let mut parts = text.split_whitespace().map(|p| p.parse::<i64>().ok());
        let (failed_at, wait) = (parts.next()??, parts.next()??);
        let left = failed_at.saturating_add(wait) - unix_now();
        (left > 0).then(|| {
            (
                Duration::from_secs(left as u64),
                Duration::from_secs(wait.max(1) as u64 * 2).min(MAX_BACKOFF),
            )
        })
    }

    fn update(&self, change: impl FnOnce(&mut AcmeStatus)) {
        if let Ok(mut status) = self.status.lock() {
            change(&mut status);
        }
    }
}

/// ±25 % around `base`, so boxes restarted together do not order together.
fn with_jitter(base: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    let factor = 0.75 + f64::from(byte[0]) / 255.0 * 0.5;
    base.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use time::{Duration as Span, OffsetDateTime};

    use super::*;
    use crate::tls::acme::Http01Answers;

    /// A certificate for `fin.test` valid until `not_after`, as the CA would issue it.
    fn issued_until(not_after: OffsetDateTime) -> Issued {
        let mut params =
            rcgen::CertificateParams::new(vec!["fin.test".to_string()]).expect("params");
        params.not_before = not_after - Span::days(90);
        params.not_after = not_after;
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("cert");
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            not_before: params.not_before.unix_timestamp(),
            not_after: not_after.unix_timestamp(),
        }
    }

    #[test]
    fn a_certificate_issued_in_the_same_second_as_the_served_one_is_still_swapped_in() {
        let dir = tempfile::tempdir().expect("dir");
        let start = crate::tls::self_signed::load_or_create(dir.path(), &["fin.test".into()])
            .expect("self-signed");
        let resolver = CertResolver::new(start);
        let renewal = AcmeRenewal::new(
            AcmeSettings {
                directory: "https://ca.invalid/dir".parse().expect("directory"),
                email: String::new(),
                domains: vec!["fin.test".into()],
                dir: dir.path().join("acme"),
            },
            Challenge::Http01(Http01Answers::default()),
            resolver.clone(),
            AcmeObserver {
                order: Box::new(|_| {}),
                expiry: Box::new(|_, _| {}),
            },
        );
        let not_after = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("second")
            + Span::days(90);
        let (first, second) = (issued_until(not_after), issued_until(not_after));

        renewal.serve(&first);
        let served_first = resolver.info().fingerprint_sha256;
        renewal.serve(&second);
        let served_second = resolver.info().fingerprint_sha256;

        assert_ne!(
            served_first, served_second,
            "the renewed certificate is served"
        );
        renewal.serve(&second);
        assert_eq!(resolver.info().fingerprint_sha256, served_second);
        assert_eq!(
            renewal.status().issued_not_after,
            Some(not_after.unix_timestamp())
        );
    }
}
