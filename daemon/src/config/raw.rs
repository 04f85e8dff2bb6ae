//! The configuration as written by the operator: plain values, every key
//! optional, unknown keys rejected. [`RawConfig::validate`] turns it into
//! typed [`Settings`](super::Settings).

use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub server: RawServer,
    pub paths: RawPaths,
    pub tls: RawTls,
    pub store: RawStore,
    pub log: RawLog,
    pub metrics: RawMetrics,
    pub admin: RawAdmin,
    pub limits: RawLimits,
    pub auth: RawAuth,
    pub ocr: RawOcr,
    pub import: RawImport,
    pub backup: RawBackup,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawServer {
    pub https_listen: String,
    /// Empty disables the plain-HTTP listener.
    pub http_listen: String,
    pub hostnames: Vec<String>,
    pub max_body_bytes: u64,
    /// Reverse proxies whose `X-Forwarded-For` is believed (IP addresses).
    pub trusted_proxies: Vec<String>,
    /// Web origins (`https://app.example.org`) whose pages may call the API.
    pub cors_origins: Vec<String>,
    pub header_read_timeout_seconds: u64,
    pub idle_timeout_seconds: u64,
    pub body_timeout_seconds: u64,
    pub send_timeout_seconds: u64,
    pub max_connections: u64,
    pub max_connections_per_address: u64,
    pub shutdown_grace_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPaths {
    pub state_dir: String,
    pub log_dir: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTls {
    pub mode: String,
    pub cert_file: String,
    pub key_file: String,
    pub acme: RawAcme,
}

/// `tls.mode = "acme"`: certificates from an ACME CA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAcme {
    /// "letsencrypt", "letsencrypt-staging", or an https:// directory URL.
    pub directory: String,
    pub email: String,
    /// Empty: `server.hostnames` (IP addresses left out).
    pub domains: Vec<String>,
    /// Empty: http-01 on the plain-HTTP listener; else dns-01 through this command.
    pub dns_hook: String,
}

impl Default for RawAcme {
    fn default() -> Self {
        RawAcme {
            directory: "letsencrypt".into(),
            email: String::new(),
            domains: Vec::new(),
            dns_hook: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawStore {
    /// Empty means `surrealkv://<state_dir>/db`.
    pub url: String,
    pub namespace: String,
    pub database: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLog {
    pub level: String,
    pub format: String,
    pub file: bool,
    pub max_files: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMetrics {
    /// Empty disables the metrics listener.
    pub listen: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAdmin {
    pub socket: String,
    /// Members of this group may use the admin socket; empty: root and the daemon's user only.
    pub group: String,
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            https_listen: "0.0.0.0:443".into(),
            http_listen: "0.0.0.0:80".into(),
            hostnames: vec!["localhost".into()],
            max_body_bytes: 1024 * 1024,
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            header_read_timeout_seconds: 10,
            idle_timeout_seconds: 60,
            body_timeout_seconds: 30,
            send_timeout_seconds: 30,
            max_connections: 1024,
            max_connections_per_address: 64,
            shutdown_grace_seconds: 10,
        }
    }
}

impl Default for RawPaths {
    fn default() -> Self {
        RawPaths {
            state_dir: "/var/lib/fin".into(),
            log_dir: "/var/log/fin".into(),
        }
    }
}

impl Default for RawTls {
    fn default() -> Self {
        RawTls {
            mode: "self-signed".into(),
            cert_file: String::new(),
            key_file: String::new(),
            acme: RawAcme::default(),
        }
    }
}

impl Default for RawStore {
    fn default() -> Self {
        RawStore {
            url: String::new(),
            namespace: "fin".into(),
            database: "fin".into(),
        }
    }
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            level: "info".into(),
            format: "text".into(),
            file: true,
            max_files: 14,
        }
    }
}

impl Default for RawMetrics {
    fn default() -> Self {
        RawMetrics {
            listen: "127.0.0.1:9464".into(),
        }
    }
}

impl Default for RawAdmin {
    fn default() -> Self {
        RawAdmin {
            socket: "/run/fin/admin.sock".into(),
            group: "fin".into(),
        }
    }
}

/// Sessions and account protection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAuth {
    /// "closed", "invite" or "open".
    pub registration: String,
    pub access_token_minutes: u64,
    pub refresh_token_days: u64,
    /// Failed logins in a row that lock an account.
    pub lockout_attempts: u64,
    /// The failures must fall within this many minutes.
    pub lockout_window_minutes: u64,
    /// How long the account stays locked.
    pub lockout_minutes: u64,
    /// argon2id cost; hashes made at another cost are upgraded at login.
    pub argon2_memory_kib: u64,
    pub argon2_iterations: u64,
    pub argon2_parallelism: u64,
}

impl Default for RawAuth {
    fn default() -> Self {
        RawAuth {
            registration: "closed".into(),
            access_token_minutes: 15,
            refresh_token_days: 30,
            lockout_attempts: 5,
            lockout_window_minutes: 15,
            lockout_minutes: 15,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
        }
    }
}

/// Receipt uploads and OCR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawOcr {
    /// OCR workers; 0 means one per CPU core.
    pub workers: u64,
    /// Empty: the models bundled in the binary.
    pub models_dir: String,
    pub max_upload_bytes: u64,
    pub max_pixels: u64,
    pub queue_depth: u64,
    pub job_timeout_seconds: u64,
    pub max_attempts: u64,
    pub lease_seconds: u64,
    /// "day_first" or "month_first".
    pub date_order: String,
    pub default_currency: String,
    pub unused_image_grace_seconds: u64,
    pub max_queued_per_user: u64,
    pub storage_quota_bytes: u64,
    pub max_retries: u64,
}

impl Default for RawOcr {
    fn default() -> Self {
        RawOcr {
            workers: 0,
            models_dir: String::new(),
            max_upload_bytes: 25 * 1024 * 1024,
            max_pixels: 40_000_000,
            queue_depth: 1000,
            job_timeout_seconds: 60,
            max_attempts: 3,
            lease_seconds: 300,
            date_order: "day_first".into(),
            default_currency: "EUR".into(),
            unused_image_grace_seconds: 3600,
            max_queued_per_user: 100,
            storage_quota_bytes: 5 * 1024 * 1024 * 1024,
            max_retries: 3,
        }
    }
}

/// Bank statement imports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawImport {
    /// The largest statement file taken, in bytes.
    pub max_file_bytes: u64,
    /// Days an import may stay a preview before it is deleted with its file.
    pub preview_days: u64,
}

impl Default for RawImport {
    fn default() -> Self {
        RawImport {
            max_file_bytes: 50 * 1024 * 1024,
            preview_days: 7,
        }
    }
}

/// Backups in the daemon's backup folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawBackup {
    /// Daily backup time, local `HH:MM`; empty: no scheduled backups.
    pub schedule: String,
    /// Scheduled backups kept: the newest of each of the last N days, weeks, months.
    pub keep_daily: u32,
    pub keep_weekly: u32,
    pub keep_monthly: u32,
}

impl Default for RawBackup {
    fn default() -> Self {
        RawBackup {
            schedule: "03:00".into(),
            keep_daily: 7,
            keep_weekly: 4,
            keep_monthly: 12,
        }
    }
}

/// Rate limits per client and route class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLimits {
    pub login_per_minute: u32,
    pub login_burst: u32,
    pub upload_per_second: u32,
    pub upload_burst: u32,
    pub api_per_second: u32,
    pub api_burst: u32,
    /// Clients tracked at once per class; the oldest are forgotten first.
    pub max_tracked_clients: u64,
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            login_per_minute: 5,
            login_burst: 5,
            upload_per_second: 2,
            upload_burst: 5,
            api_per_second: 10,
            api_burst: 20,
            max_tracked_clients: 100_000,
        }
    }
}

impl RawConfig {
    /// `fin --dev DIR`: everything under DIR, unprivileged loopback ports,
    /// a self-signed certificate for localhost.
    pub fn dev(dir: &Path) -> Self {
        let under = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let mut raw = RawConfig::default();
        raw.server.https_listen = "127.0.0.1:8443".into();
        raw.server.http_listen = "127.0.0.1:8080".into();
        raw.server.hostnames = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        raw.paths.state_dir = dir.to_string_lossy().into_owned();
        raw.paths.log_dir = under("log");
        raw.admin.socket = under("admin.sock");
        raw.admin.group = String::new();
        raw
    }
}
