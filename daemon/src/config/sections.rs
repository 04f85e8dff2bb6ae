//! Each section of the configuration checked on its own, into the part of
//! [`Settings`](super::Settings) it gives. `RawConfig::validate` only puts
//! the parts together.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::checks::{
    absolute_path, in_range, is_log_filter, is_valid_hostname, parse_addr, parse_optional_addr,
};
use super::raw::{
    RawAdmin, RawAuth, RawConfig, RawLimits, RawLog, RawOcr, RawPaths, RawServer, RawStore,
};
use super::settings::{
    AcmeSource, AuthSettings, Connections, Limit, Limits, LogFormat, OcrModels, OcrSettings,
    TlsSource,
};
use crate::domain::account::Registration;

/// `[server]`, checked.
pub(super) struct Server {
    pub https_listen: SocketAddr,
    pub http_listen: Option<SocketAddr>,
    pub hostnames: Vec<String>,
    pub max_body_bytes: u64,
    pub connections: Connections,
    pub shutdown_grace: Duration,
    pub trusted_proxies: Vec<IpAddr>,
    pub cors_origins: Vec<String>,
}

impl RawServer {
    pub(super) fn validate(&self) -> Result<Server, ConfigError> {
        let https_listen = parse_addr("server.https_listen", &self.https_listen)?;
        let http_listen = parse_optional_addr("server.http_listen", &self.http_listen)?;
        if self.hostnames.is_empty() {
            return Err(ConfigError::invalid(
                "server.hostnames",
                "[]",
                "at least one name, e.g. [\"fin.lan\"]",
            ));
        }
        for name in &self.hostnames {
            if !is_valid_hostname(name) {
                return Err(ConfigError::invalid(
                    "server.hostnames",
                    name.clone(),
                    "each entry must be a DNS name (letters, digits, '-', '.', optional leading '*.') or an IP address",
                ));
            }
        }
        let trusted_proxies = self
            .trusted_proxies
            .iter()
            .map(|p| {
                p.parse().map_err(|_| {
                    ConfigError::invalid(
                        "server.trusted_proxies",
                        p.clone(),
                        "each entry must be an IP address",
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cors_origins = self
            .cors_origins
            .iter()
            .map(|origin| {
                let normal = origin.trim().trim_end_matches('/').to_lowercase();
                let rest = normal.strip_prefix("https://").or_else(|| normal.strip_prefix("http://"));
                match rest {
                    Some(host) if !host.is_empty() && !host.contains('/') && !host.contains('*') => Ok(normal),
                    _ => Err(ConfigError::invalid(
                        "server.cors_origins",
                        origin.clone(),
                        "each entry must be an origin such as https://app.example.org (scheme, host, optional port; no path, no wildcard)",
                    )),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Server {
            https_listen,
            http_listen,
            hostnames: self.hostnames.clone(),
            max_body_bytes: in_range("server.max_body_bytes", self.max_body_bytes, 1024, 1 << 30)?,
            connections: self.connections()?,
            shutdown_grace: Duration::from_secs(in_range(
                "server.shutdown_grace_seconds",
                self.shutdown_grace_seconds,
                0,
                600,
            )?),
            trusted_proxies,
            cors_origins,
        })
    }
}

impl RawServer {
    fn connections(&self) -> Result<Connections, ConfigError> {
        let seconds = |key: &'static str, value: u64, max: u64| {
            in_range(key, value, 1, max).map(Duration::from_secs)
        };
        let max_connections =
            in_range("server.max_connections", self.max_connections, 16, 1 << 20)?;
        Ok(Connections {
            header_read_timeout: seconds(
                "server.header_read_timeout_seconds",
                self.header_read_timeout_seconds,
                300,
            )?,
            idle_timeout: seconds(
                "server.idle_timeout_seconds",
                self.idle_timeout_seconds,
                3600,
            )?,
            body_timeout: seconds(
                "server.body_timeout_seconds",
                self.body_timeout_seconds,
                600,
            )?,
            send_timeout: seconds(
                "server.send_timeout_seconds",
                self.send_timeout_seconds,
                600,
            )?,
            max_connections: max_connections as usize,
            max_connections_per_address: in_range(
                "server.max_connections_per_address",
                self.max_connections_per_address,
                1,
                max_connections,
            )? as usize,
        })
    }
}

impl RawPaths {
    /// The state and log folders.
    pub(super) fn validate(&self) -> Result<(PathBuf, PathBuf), ConfigError> {
        Ok((
            absolute_path("paths.state_dir", &self.state_dir)?,
            absolute_path("paths.log_dir", &self.log_dir)?,
        ))
    }
}

impl RawConfig {
    /// `[tls]` and `[tls.acme]`: the ACME domains default to the server's
    /// host names, and http-01 needs the HTTP listener.
    pub(super) fn tls_source(&self, http_listener: bool) -> Result<TlsSource, ConfigError> {
        Ok(match self.tls.mode.as_str() {
            "self-signed" => TlsSource::SelfSigned,
            "files" => TlsSource::Files {
                cert: absolute_path("tls.cert_file", &self.tls.cert_file)?,
                key: absolute_path("tls.key_file", &self.tls.key_file)?,
            },
            "acme" => TlsSource::Acme(self.acme_source(http_listener)?),
            other => {
                return Err(ConfigError::invalid(
                    "tls.mode",
                    other,
                    "allowed values are \"self-signed\", \"files\" and \"acme\"",
                ));
            }
        })
    }
    fn acme_source(&self, http_listener: bool) -> Result<AcmeSource, ConfigError> {
        let a = &self.tls.acme;
        let directory = a.directory.trim().to_string();
        if !matches!(directory.as_str(), "letsencrypt" | "letsencrypt-staging")
            && !directory.starts_with("https://")
        {
            return Err(ConfigError::invalid(
                "tls.acme.directory",
                directory,
                "\"letsencrypt\", \"letsencrypt-staging\", or the https:// URL of an RFC 8555 directory",
            ));
        }
        let domains: Vec<String> = if a.domains.is_empty() {
            self.server
                .hostnames
                .iter()
                .filter(|h| h.parse::<std::net::IpAddr>().is_err() && h.as_str() != "localhost")
                .cloned()
                .collect()
        } else {
            a.domains.clone()
        };
        if domains.is_empty() {
            return Err(ConfigError::invalid(
                "tls.acme.domains",
                "[]",
                "at least one public DNS name, e.g. [\"fin.example.org\"] (server.hostnames holds none)",
            ));
        }
        for name in &domains {
            if !is_valid_hostname(name) || name.parse::<std::net::IpAddr>().is_ok() {
                return Err(ConfigError::invalid(
                    "tls.acme.domains",
                    name.clone(),
                    "each entry must be a DNS name (a certificate authority does not certify IP addresses here)",
                ));
            }
            if name.starts_with("*.") && a.dns_hook.is_empty() {
                return Err(ConfigError::invalid(
                    "tls.acme.domains",
                    name.clone(),
                    "wildcard names need dns-01: set tls.acme.dns_hook",
                ));
            }
        }
        let dns_hook = if a.dns_hook.is_empty() {
            if !http_listener {
                return Err(ConfigError::invalid(
                    "server.http_listen",
                    "\"\"",
                    "tls.mode = \"acme\" without tls.acme.dns_hook answers http-01 challenges on the HTTP listener (port 80): enable it, or set a dns_hook",
                ));
            }
            None
        } else {
            Some(absolute_path("tls.acme.dns_hook", &a.dns_hook)?)
        };
        Ok(AcmeSource {
            directory,
            email: a.email.trim().to_string(),
            domains,
            dns_hook,
        })
    }
}

/// `[store]`, checked.
pub(super) struct Store {
    pub url: String,
    pub namespace: String,
    pub database: String,
}

impl RawStore {
    pub(super) fn validate(&self, state_dir: &std::path::Path) -> Result<Store, ConfigError> {
        let url = if self.url.is_empty() {
            format!("surrealkv://{}", state_dir.join("db").display())
        } else {
            self.url.clone()
        };
        const SCHEMES: [&str; 5] = ["surrealkv://", "mem://", "memory", "ws://", "wss://"];
        if !SCHEMES.iter().any(|s| url.starts_with(s)) {
            return Err(ConfigError::invalid(
                "store.url",
                url,
                "expected surrealkv:///path, mem://, ws://host:port or wss://host:port (empty: surrealkv under paths.state_dir)",
            ));
        }
        for (key, value) in [
            ("store.namespace", &self.namespace),
            ("store.database", &self.database),
        ] {
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(ConfigError::invalid(
                    key,
                    value.clone(),
                    "letters, digits and '_' only, not empty",
                ));
            }
        }
        Ok(Store {
            url,
            namespace: self.namespace.clone(),
            database: self.database.clone(),
        })
    }
}

/// `[log]`, checked.
pub(super) struct Log {
    pub level: String,
    pub format: LogFormat,
    pub to_file: bool,
    pub max_files: usize,
}

impl RawLog {
    pub(super) fn validate(&self) -> Result<Log, ConfigError> {
        if !is_log_filter(&self.level) {
            return Err(ConfigError::invalid(
                "log.level",
                self.level.clone(),
                "one of error, warn, info, debug, trace, or a filter such as \"info,fin_daemon=debug\"",
            ));
        }
        let format = match self.format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::invalid(
                    "log.format",
                    other,
                    "allowed values are \"text\" and \"json\"",
                ));
            }
        };
        Ok(Log {
            level: self.level.clone(),
            format,
            to_file: self.file,
            max_files: in_range("log.max_files", self.max_files, 1, 3650)? as usize,
        })
    }
}

impl RawAdmin {
    /// The socket's path and the group allowed to use it.
    pub(super) fn validate(&self) -> Result<(PathBuf, Option<String>), ConfigError> {
        Ok((
            absolute_path("admin.socket", &self.socket)?,
            Some(self.group.clone()).filter(|g| !g.is_empty()),
        ))
    }
}

impl RawLimits {
    pub(super) fn validate(&self) -> Result<Limits, ConfigError> {
        let limit = |count_key: &'static str,
                     count: u32,
                     burst_key: &'static str,
                     burst: u32,
                     period: u64| {
            Ok::<_, ConfigError>(Limit {
                count: in_range(count_key, u64::from(count), 1, 1_000_000)? as u32,
                period: Duration::from_secs(period),
                burst: in_range(burst_key, u64::from(burst), 1, 1_000_000)? as u32,
            })
        };
        Ok(Limits {
            login: limit(
                "limits.login_per_minute",
                self.login_per_minute,
                "limits.login_burst",
                self.login_burst,
                60,
            )?,
            upload: limit(
                "limits.upload_per_second",
                self.upload_per_second,
                "limits.upload_burst",
                self.upload_burst,
                1,
            )?,
            api: limit(
                "limits.api_per_second",
                self.api_per_second,
                "limits.api_burst",
                self.api_burst,
                1,
            )?,
            max_tracked_clients: in_range(
                "limits.max_tracked_clients",
                self.max_tracked_clients,
                64,
                100_000_000,
            )? as usize,
        })
    }
}

impl RawAuth {
    pub(super) fn validate(&self) -> Result<AuthSettings, ConfigError> {
        let registration = match self.registration.as_str() {
            "closed" => Registration::Closed,
            "invite" => Registration::Invite,
            "open" => Registration::Open,
            other => {
                return Err(ConfigError::invalid(
                    "auth.registration",
                    other,
                    "allowed values are \"closed\", \"invite\" and \"open\"",
                ));
            }
        };
        let minutes = |key: &'static str, value: u64, max: u64| {
            in_range(key, value, 1, max).map(|m| Duration::from_secs(60 * m))
        };
        Ok(AuthSettings {
            registration,
            access_token: minutes("auth.access_token_minutes", self.access_token_minutes, 60)?,
            refresh_token: Duration::from_secs(
                86_400 * in_range("auth.refresh_token_days", self.refresh_token_days, 1, 365)?,
            ),
            lockout_attempts: in_range("auth.lockout_attempts", self.lockout_attempts, 1, 1000)?
                as u32,
            lockout_window: minutes(
                "auth.lockout_window_minutes",
                self.lockout_window_minutes,
                1440,
            )?,
            lockout: minutes("auth.lockout_minutes", self.lockout_minutes, 1440)?,
            argon2_memory_kib: in_range(
                "auth.argon2_memory_kib",
                self.argon2_memory_kib,
                8_192,
                4_194_304,
            )? as u32,
            argon2_iterations: in_range("auth.argon2_iterations", self.argon2_iterations, 1, 100)?
                as u32,
            argon2_parallelism: in_range("auth.argon2_parallelism", self.argon2_parallelism, 1, 64)?
                as u32,
        })
    }
}

impl RawOcr {
    pub(super) fn validate(&self) -> Result<OcrSettings, ConfigError> {
        use crate::domain::receipt::DateOrder;
        let workers = match in_range("ocr.workers", self.workers, 0, 256)? {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n as usize,
        };
        let models = if self.models_dir.is_empty() {
            OcrModels::Bundled
        } else {
            OcrModels::Dir(absolute_path("ocr.models_dir", &self.models_dir)?)
        };
        let job_timeout = in_range("ocr.job_timeout_seconds", self.job_timeout_seconds, 1, 3600)?;
        let lease = in_range("ocr.lease_seconds", self.lease_seconds, 10, 86_400)?;
        if lease < job_timeout + 30 {
            return Err(ConfigError::invalid(
                "ocr.lease_seconds",
                lease.to_string(),
                format!(
                    "at least ocr.job_timeout_seconds + 30 ({}), so a running job is never taken from a live worker",
                    job_timeout + 30
                ),
            ));
        }
        let date_order = match self.date_order.as_str() {
            "day_first" => DateOrder::DayFirst,
            "month_first" => DateOrder::MonthFirst,
            other => {
                return Err(ConfigError::invalid(
                    "ocr.date_order",
                    other,
                    "\"day_first\" (25/12/2018) or \"month_first\" (12/25/2018)",
                ));
            }
        };
        if !crate::domain::money::is_currency_code(&self.default_currency) {
            return Err(ConfigError::invalid(
                "ocr.default_currency",
                self.default_currency.clone(),
                "an ISO 4217 code in capitals, e.g. EUR, USD, MYR",
            ));
        }
        Ok(OcrSettings {
            workers,
            models,
            max_upload_bytes: in_range(
                "ocr.max_upload_bytes",
                self.max_upload_bytes,
                1024,
                1 << 30,
            )?,
            max_pixels: in_range("ocr.max_pixels", self.max_pixels, 10_000, 200_000_000)?,
            queue_depth: in_range("ocr.queue_depth", self.queue_depth, 1, 1_000_000)?,
            job_timeout: Duration::from_secs(job_timeout),
            max_attempts: in_range("ocr.max_attempts", self.max_attempts, 1, 20)? as u32,
            lease: Duration::from_secs(lease),
            date_order,
            default_currency: self.default_currency.clone(),
            unused_image_grace: Duration::from_secs(in_range(
                "ocr.unused_image_grace_seconds",
                self.unused_image_grace_seconds,
                1,
                30 * 24 * 3600,
            )?),
            max_queued_per_user: in_range(
                "ocr.max_queued_per_user",
                self.max_queued_per_user,
                1,
                1_000_000,
            )?,
            storage_quota_bytes: in_range(
                "ocr.storage_quota_bytes",
                self.storage_quota_bytes,
                0,
                u64::MAX,
            )?,
            max_retries: in_range("ocr.max_retries", self.max_retries, 0, 100)? as u32,
        })
    }
}
