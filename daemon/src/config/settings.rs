//! Validated, typed configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::checks::parse_optional_addr;
use super::raw::RawConfig;
use crate::domain::account::Registration;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub https_listen: SocketAddr,
    pub http_listen: Option<SocketAddr>,
    pub metrics_listen: Option<SocketAddr>,
    /// Names this box answers to: certificate SANs and the redirect target.
    pub hostnames: Vec<String>,
    pub max_body_bytes: u64,
    pub connections: Connections,
    pub shutdown_grace: Duration,
    pub state_dir: PathBuf,
    pub log_dir: PathBuf,
    pub tls: TlsSource,
    pub store_url: String,
    pub store_namespace: String,
    pub store_database: String,
    pub log_level: String,
    pub log_format: LogFormat,
    pub log_to_file: bool,
    pub log_max_files: usize,
    pub admin_socket: PathBuf,
    pub admin_group: Option<String>,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Allowed CORS origins, normalised (`scheme://host[:port]`, lower case).
    pub cors_origins: Vec<String>,
    pub limits: Limits,
    pub auth: AuthSettings,
    pub ocr: OcrSettings,
    /// `[import] max_file_bytes`: the largest statement file taken.
    pub import_max_file_bytes: u64,
    /// `[backup] schedule`: the local time of the daily backup (hour, minute).
    pub backup_schedule: Option<(u8, u8)>,
    /// `[backup] keep_*`: what pruning keeps of the scheduled backups.
    pub backup_retention: crate::domain::retention::Policy,
    /// `[import] preview_days`: how long an import may stay a preview
    /// before it is deleted, and its file with it.
    pub import_preview_ttl: Duration,
}

/// How long each phase of a client connection may take, and how many may be
/// open (`[server]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Connections {
    /// From the first byte of a request (or the wait for the next one on a
    /// kept-alive HTTP/1.1 connection) to the end of its headers.
    pub header_read_timeout: Duration,
    /// A connection with no request in progress is closed after this.
    pub idle_timeout: Duration,
    /// The longest pause while a client sends a request body.
    pub body_timeout: Duration,
    /// The longest pause while a client takes an answer.
    pub send_timeout: Duration,
    pub max_connections: usize,
    /// Trusted proxies are held only to `max_connections`.
    pub max_connections_per_address: usize,
}

/// `[ocr]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcrSettings {
    pub workers: usize,
    pub models: OcrModels,
    pub max_upload_bytes: u64,
    pub max_pixels: u64,
    pub queue_depth: u64,
    pub job_timeout: Duration,
    pub max_attempts: u32,
    pub lease: Duration,
    pub date_order: crate::domain::receipt::DateOrder,
    pub default_currency: String,
    /// How long an image no receipt uses stays before the collector removes it.
    pub unused_image_grace: Duration,
    /// Jobs one user may have queued or running.
    pub max_queued_per_user: u64,
    /// Bytes of images one user may keep; 0: no quota.
    pub storage_quota_bytes: u64,
    /// Times one receipt may be queued again by hand.
    pub max_retries: u32,
}

/// Where the OCR models come from (`ocr.models_dir`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcrModels {
    /// The models built into the binary.
    Bundled,
    /// `text-detection.rten`/`.onnx` and `text-recognition.*` in a folder.
    Dir(PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthSettings {
    pub registration: Registration,
    pub access_token: Duration,
    pub refresh_token: Duration,
    pub lockout_attempts: u32,
    pub lockout_window: Duration,
    pub lockout: Duration,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
}

/// Requests allowed per client: `count` per `period`, bursts of `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub count: u32,
    pub period: Duration,
    pub burst: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub login: Limit,
    pub upload: Limit,
    pub api: Limit,
    pub max_tracked_clients: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// Generated on first start, kept under `<state>/tls/`.
    SelfSigned,
    /// Operator-provided PEM files, reloaded on SIGHUP.
    Files { cert: PathBuf, key: PathBuf },
    /// From an ACME CA, kept under `<state>/acme/` and renewed in the background.
    Acme(AcmeSource),
}

/// `[tls.acme]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeSource {
    /// As written: "letsencrypt", "letsencrypt-staging" or a URL (parsed by the TLS layer).
    pub directory: String,
    pub email: String,
    pub domains: Vec<String>,
    /// dns-01 through this command; `None` means http-01 on the HTTP listener.
    pub dns_hook: Option<PathBuf>,
}

impl TlsSource {
    pub fn mode_name(&self) -> &'static str {
        match self {
            TlsSource::SelfSigned => "self-signed",
            TlsSource::Files { .. } => "files",
            TlsSource::Acme(_) => "acme",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl RawConfig {
    /// Every section checked on its own (`sections.rs`), then put together.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let server = self.server.validate()?;
        let (state_dir, log_dir) = self.paths.validate()?;
        let tls = self.tls_source(server.http_listen.is_some())?;
        let store = self.store.validate(&state_dir)?;
        let log = self.log.validate()?;
        let metrics_listen = parse_optional_addr("metrics.listen", &self.metrics.listen)?;
        let (admin_socket, admin_group) = self.admin.validate()?;
        Ok(Settings {
            https_listen: server.https_listen,
            http_listen: server.http_listen,
            metrics_listen,
            hostnames: server.hostnames,
            max_body_bytes: server.max_body_bytes,
            connections: server.connections,
            shutdown_grace: server.shutdown_grace,
            state_dir,
            log_dir,
            tls,
            store_url: store.url,
            store_namespace: store.namespace,
            store_database: store.database,
            log_level: log.level,
            log_format: log.format,
            log_to_file: log.to_file,
            log_max_files: log.max_files,
            admin_socket,
            admin_group,
            trusted_proxies: server.trusted_proxies,
            cors_origins: server.cors_origins,
            limits: self.limits.validate()?,
            auth: self.auth.validate()?,
            ocr: self.ocr.validate()?,
            import_max_file_bytes: super::checks::in_range(
                "import.max_file_bytes",
                self.import.max_file_bytes,
                1024,
                1 << 30,
            )?,
            backup_schedule: parse_schedule(&self.backup.schedule)?,
            backup_retention: crate::domain::retention::Policy {
                daily: super::checks::in_range(
                    "backup.keep_daily",
                    u64::from(self.backup.keep_daily),
                    0,
                    3650,
                )? as u32,
                weekly: super::checks::in_range(
                    "backup.keep_weekly",
                    u64::from(self.backup.keep_weekly),
                    0,
                    520,
                )? as u32,
                monthly: super::checks::in_range(
                    "backup.keep_monthly",
                    u64::from(self.backup.keep_monthly),
                    0,
                    1200,
                )? as u32,
            },
            import_preview_ttl: Duration::from_secs(
                super::checks::in_range("import.preview_days", self.import.preview_days, 1, 365)?
                    * 86_400,
            ),
        })
    }
}

/// `HH:MM` (24-hour, local time), or empty for no schedule.
fn parse_schedule(text: &str) -> Result<Option<(u8, u8)>, ConfigError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let parsed = text.split_once(':').and_then(|(h, m)| {
        let (h, m) = (h.parse::<u8>().ok()?, m.parse::<u8>().ok()?);
        (h < 24 && m < 60 && text.len() <= 5).then_some((h, m))
    });
    parsed.map(Some).ok_or_else(|| {
        ConfigError::invalid(
            "backup.schedule",
            text.to_string(),
            "a local time as HH:MM (e.g. \"03:00\"), or \"\" for no scheduled backups",
        )
    })
}
