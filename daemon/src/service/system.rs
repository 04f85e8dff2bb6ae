//! The daemon itself: status, liveness and readiness.

use std::sync::Arc;
use std::time::Instant;

use fin_proto::Listeners;
use fin_proto::admin::{SchemaStatus, Status, TlsStatus};
use fin_proto::api::{Check, Readiness};

use super::ServiceError;
use crate::store::{LATEST_SCHEMA, Store};
use crate::support::unix_now;

/// Tells what the TLS layer is serving, or why it is not ready. Given by the
/// composition root so this layer need not know the TLS module.
pub type TlsProbe = Arc<dyn Fn() -> TlsStatus + Send + Sync>;

/// Certificate actions for `finctl cert`; given by the composition root.
/// Each answers with a message for the operator, or why it cannot act.
#[derive(Clone)]
pub struct CertControl {
    pub renew: Arc<dyn Fn(bool) -> Result<String, String> + Send + Sync>,
    pub reload: Arc<dyn Fn() -> Result<String, String> + Send + Sync>,
}

pub struct System {
    store: Store,
    tls: TlsProbe,
    listeners: Listeners,
    started: Instant,
    started_at: i64,
    ocr_models: Vec<crate::ocr::ModelInfo>,
    cert: Option<CertControl>,
}

impl System {
    pub fn new(store: Store, tls: TlsProbe, listeners: Listeners) -> Self {
        System {
            store,
            tls,
            listeners,
            started: Instant::now(),
            started_at: unix_now(),
            ocr_models: Vec::new(),
            cert: None,
        }
    }

    pub fn with_cert_control(mut self, control: CertControl) -> Self {
        self.cert = Some(control);
        self
    }

    /// Orders a new ACME certificate (`force`: even when not due).
    pub fn renew_certificate(&self, force: bool) -> Result<String, ServiceError> {
        let control = self.cert.as_ref().ok_or_else(|| {
            ServiceError::Conflict("certificate actions are not available".into())
        })?;
        (control.renew)(force).map_err(ServiceError::Conflict)
    }

    /// Reads the certificate files again.
    pub fn reload_certificate(&self) -> Result<String, ServiceError> {
        let control = self.cert.as_ref().ok_or_else(|| {
            ServiceError::Conflict("certificate actions are not available".into())
        })?;
        (control.reload)().map_err(ServiceError::Conflict)
    }

    /// The OCR models loaded (and verified) at start, reported by `/readyz`.
    pub fn with_ocr_models(mut self, models: Vec<crate::ocr::ModelInfo>) -> Self {
        self.ocr_models = models;
        self
    }

    pub async fn status(&self) -> Result<Status, ServiceError> {
        Ok(Status {
            version: crate::VERSION.to_string(),
            pid: std::process::id(),
            uptime_seconds: self.started.elapsed().as_secs(),
            started_at: self.started_at,
            schema: SchemaStatus {
                applied: self.store.schema_version().await?,
                latest: LATEST_SCHEMA,
            },
            database_url: self.store.url().to_string(),
            tls: (self.tls)(),
            listeners: self.listeners.clone(),
            backup: None,
        })
    }

    /// Ready when the database answers and a valid certificate is served.
    pub async fn readiness(&self) -> Readiness {
        let database = match self.store.ping().await {
            Ok(()) => check("database", None),
            Err(e) => {
                tracing::warn!(error = %e, "readiness: database check failed");
                check("database", Some("the database does not answer".to_string()))
            }
        };
        let tls = self.tls_check();
        let ocr = self.ocr_check();
        Readiness {
            ready: database.ok && tls.ok && ocr.ok,
            checks: vec![database, tls, ocr],
        }
    }

    fn ocr_check(&self) -> Check {
        if self.ocr_models.is_empty() {
            return check("ocr", Some("the OCR models are not loaded".to_string()));
        }
        let loaded: Vec<String> = self
            .ocr_models
            .iter()
            .map(|m| {
                format!(
                    "{} (sha256 {})",
                    m.name,
                    &m.sha256[..12.min(m.sha256.len())]
                )
            })
            .collect();
        Check {
            name: "ocr".to_string(),
            ok: true,
            detail: Some(format!("models loaded and verified: {}", loaded.join(", "))),
        }
    }

    fn tls_check(&self) -> Check {
        let now = unix_now();
        let tls = (self.tls)();
        if let Some(acme) = tls.acme.as_ref().filter(|a| a.issued_not_after.is_none()) {
            // The CA's error can name hosts, paths and accounts: anyone may
            // read /readyz, so it says only that an attempt failed, and the
            // operator reads why with `finctl cert status`.
            let why = match &acme.last_error {
                Some(_) => "waiting for the first certificate from the ACME CA; the last attempt failed (why: finctl cert status)".to_string(),
                None => "waiting for the first certificate from the ACME CA (a temporary self-signed one is served)".to_string(),
            };
            check("tls", Some(why))
        } else if now >= tls.not_after {
            check("tls", Some("the certificate has expired".to_string()))
        } else if now < tls.not_before {
            check("tls", Some("the certificate is not valid yet".to_string()))
        } else {
            check("tls", None)
        }
    }
}

fn check(name: &str, failure: Option<String>) -> Check {
    Check {
        name: name.to_string(),
        ok: failure.is_none(),
        detail: failure,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn probe(not_after: i64) -> TlsProbe {
        Arc::new(move || TlsStatus {
            mode: "files".into(),
            subject: "CN=x".into(),
            issuer: "CN=x".into(),
            sans: vec![],
            not_before: 0,
            not_after,
            fingerprint_sha256: String::new(),
            acme: None,
        })
    }

    fn listeners() -> Listeners {
        Listeners {
            https: "127.0.0.1:1".into(),
            http: None,
            metrics: None,
            admin_socket: "/x".into(),
            pid: 1,
        }
    }

    #[tokio::test]
    async fn an_expired_certificate_makes_the_box_not_ready_and_says_why() {
        let store = Store::open("mem://", "fin", "fin").await.expect("store");
        let ready = System::new(store.clone(), probe(i64::MAX), listeners())
            .with_ocr_models(test_models())
            .readiness()
            .await;
        assert!(ready.ready);
        let expired = System::new(store, probe(1), listeners())
            .with_ocr_models(test_models())
            .readiness()
            .await;
        assert!(!expired.ready);
        let tls = expired
            .checks
            .iter()
            .find(|c| c.name == "tls")
            .expect("tls check");
        assert!(!tls.ok);
        assert_eq!(tls.detail.as_deref(), Some("the certificate has expired"));
        assert!(expired.checks.iter().any(|c| c.name == "database" && c.ok));
    }

    pub(crate) fn test_models() -> Vec<crate::ocr::ModelInfo> {
        vec![crate::ocr::ModelInfo {
            name: "text-detection.onnx".into(),
            sha256: "a917b23dbd95".into(),
        }]
    }
}
