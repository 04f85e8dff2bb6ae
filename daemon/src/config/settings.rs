//! Validated, typed configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::raw::RawConfig;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub https_listen: SocketAddr,
    pub http_listen: Option<SocketAddr>,
    pub metrics_listen: Option<SocketAddr>,
    /// Names this box answers to: certificate SANs and the redirect target.
    pub hostnames: Vec<String>,
    pub max_body_bytes: u64,
    pub header_read_timeout: Duration,
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
}

/// `[ocr]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcrSettings {
    pub workers: usize,
    pub models: crate::ocr::ModelSource,
    pub max_upload_bytes: u64,
    pub max_pixels: u64,
    pub queue_depth: u64,
    pub job_timeout: Duration,
    pub max_attempts: u32,
    pub lease: Duration,
    pub date_order: crate::domain::receipt::DateOrder,
    pub default_currency: String,
}

/// Who may create an account through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Only admins create accounts.
    Closed,
    /// Anyone with a single-use code from an admin.
    Invite,
    /// Anyone.
    Open,
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

const LISTEN_HELP: &str = "expected an IP address and port, e.g. 0.0.0.0:443 or [::]:443";

impl RawConfig {
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let https_listen = parse_addr("server.https_listen", &self.server.https_listen)?;
        let http_listen = parse_optional_addr("server.http_listen", &self.server.http_listen)?;
        let metrics_listen = parse_optional_addr("metrics.listen", &self.metrics.listen)?;

        if self.server.hostnames.is_empty() {
            return Err(ConfigError::invalid(
                "server.hostnames",
                "[]",
                "at least one name, e.g. [\"fin.lan\"]",
            ));
        }
        for name in &self.server.hostnames {
            if !is_valid_hostname(name) {
                return Err(ConfigError::invalid(
                    "server.hostnames",
                    name.clone(),
                    "each entry must be a DNS name (letters, digits, '-', '.', optional leading '*.') or an IP address",
                ));
            }
        }
        let max_body_bytes = in_range(
            "server.max_body_bytes",
            self.server.max_body_bytes,
            1024,
            1 << 30,
        )?;
        let header_read_timeout = Duration::from_secs(in_range(
            "server.header_read_timeout_seconds",
            self.server.header_read_timeout_seconds,
            1,
            300,
        )?);
        let shutdown_grace = Duration::from_secs(in_range(
            "server.shutdown_grace_seconds",
            self.server.shutdown_grace_seconds,
            0,
            600,
        )?);

        let state_dir = absolute_path("paths.state_dir", &self.paths.state_dir)?;
        let log_dir = absolute_path("paths.log_dir", &self.paths.log_dir)?;

        let tls = match self.tls.mode.as_str() {
            "self-signed" => TlsSource::SelfSigned,
            "files" => TlsSource::Files {
                cert: absolute_path("tls.cert_file", &self.tls.cert_file)?,
                key: absolute_path("tls.key_file", &self.tls.key_file)?,
            },
            "acme" => TlsSource::Acme(self.acme_source(http_listen.is_some())?),
            other => {
                return Err(ConfigError::invalid(
                    "tls.mode",
                    other,
                    "allowed values are \"self-signed\", \"files\" and \"acme\"",
                ));
            }
        };

        let store_url = if self.store.url.is_empty() {
            format!("surrealkv://{}", state_dir.join("db").display())
        } else {
            self.store.url.clone()
        };
        const SCHEMES: [&str; 5] = ["surrealkv://", "mem://", "memory", "ws://", "wss://"];
        if !SCHEMES.iter().any(|s| store_url.starts_with(s)) {
            return Err(ConfigError::invalid(
                "store.url",
                store_url,
                "expected surrealkv:///path, mem://, ws://host:port or wss://host:port (empty: surrealkv under paths.state_dir)",
            ));
        }
        for (key, value) in [
            ("store.namespace", &self.store.namespace),
            ("store.database", &self.store.database),
        ] {
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(ConfigError::invalid(
                    key,
                    value.clone(),
                    "letters, digits and '_' only, not empty",
                ));
            }
        }

        if !is_log_filter(&self.log.level) {
            return Err(ConfigError::invalid(
                "log.level",
                self.log.level,
                "one of error, warn, info, debug, trace, or a filter such as \"info,fin_daemon=debug\"",
            ));
        }
        let log_format = match self.log.format.as_str() {
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
        let log_max_files = in_range("log.max_files", self.log.max_files, 1, 3650)? as usize;

        let admin_socket = absolute_path("admin.socket", &self.admin.socket)?;
        let admin_group = Some(self.admin.group.clone()).filter(|g| !g.is_empty());
        let trusted_proxies = self
            .server
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
            .server
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
        let l = &self.limits;
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
        let limits = Limits {
            login: limit(
                "limits.login_per_minute",
                l.login_per_minute,
                "limits.login_burst",
                l.login_burst,
                60,
            )?,
            upload: limit(
                "limits.upload_per_second",
                l.upload_per_second,
                "limits.upload_burst",
                l.upload_burst,
                1,
            )?,
            api: limit(
                "limits.api_per_second",
                l.api_per_second,
                "limits.api_burst",
                l.api_burst,
                1,
            )?,
            max_tracked_clients: in_range(
                "limits.max_tracked_clients",
                l.max_tracked_clients,
                64,
                100_000_000,
            )? as usize,
        };

        let a = &self.auth;
        let registration = match a.registration.as_str() {
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
        let auth = AuthSettings {
            registration,
            access_token: Duration::from_secs(
                60 * in_range("auth.access_token_minutes", a.access_token_minutes, 1, 60)?,
            ),
            refresh_token: Duration::from_secs(
                86_400 * in_range("auth.refresh_token_days", a.refresh_token_days, 1, 365)?,
            ),
            lockout_attempts: in_range("auth.lockout_attempts", a.lockout_attempts, 1, 1000)?
                as u32,
            lockout_window: Duration::from_secs(
                60 * in_range(
                    "auth.lockout_window_minutes",
                    a.lockout_window_minutes,
                    1,
                    1440,
                )?,
            ),
            lockout: Duration::from_secs(
                60 * in_range("auth.lockout_minutes", a.lockout_minutes, 1, 1440)?,
            ),
            argon2_memory_kib: in_range(
                "auth.argon2_memory_kib",
                a.argon2_memory_kib,
                8_192,
                4_194_304,
            )? as u32,
            argon2_iterations: in_range("auth.argon2_iterations", a.argon2_iterations, 1, 100)?
                as u32,
            argon2_parallelism: in_range("auth.argon2_parallelism", a.argon2_parallelism, 1, 64)?
                as u32,
        };

        let ocr = self.ocr.validate()?;
        Ok(Settings {
            https_listen,
            http_listen,
            metrics_listen,
            hostnames: self.server.hostnames,
            max_body_bytes,
            header_read_timeout,
            shutdown_grace,
            state_dir,
            log_dir,
            tls,
            store_url,
            store_namespace: self.store.namespace,
            store_database: self.store.database,
            log_level: self.log.level,
            log_format,
            log_to_file: self.log.file,
            log_max_files,
            admin_socket,
            admin_group,
            trusted_proxies,
            cors_origins,
            limits,
            auth,
            ocr,
        })
    }
}

impl RawConfig {
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

impl super::raw::RawOcr {
    fn validate(&self) -> Result<OcrSettings, ConfigError> {
        use crate::domain::receipt::DateOrder;
        let workers = match in_range("ocr.workers", self.workers, 0, 256)? {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n as usize,
        };
        let models = if self.models_dir.is_empty() {
            crate::ocr::ModelSource::Bundled
        } else {
            crate::ocr::ModelSource::Dir(absolute_path("ocr.models_dir", &self.models_dir)?)
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
        })
    }
}

fn parse_addr(key: &'static str, value: &str) -> Result<SocketAddr, ConfigError> {
    value
        .parse()
        .map_err(|_| ConfigError::invalid(key, value, LISTEN_HELP))
}

fn parse_optional_addr(key: &'static str, value: &str) -> Result<Option<SocketAddr>, ConfigError> {
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| ConfigError::invalid(key, value, format!("{LISTEN_HELP}, or \"\" to disable")))
}

fn in_range(key: &'static str, value: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::invalid(
            key,
            value.to_string(),
            format!("expected a whole number from {min} to {max}"),
        ))
    }
}

fn absolute_path(key: &'static str, value: &str) -> Result<PathBuf, ConfigError> {
    let path = PathBuf::from(value);
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(ConfigError::invalid(
            key,
            value,
            "expected an absolute path, e.g. /var/lib/fin",
        ))
    }
}

/// A level, or a filter with at least one `target=level` or `level,` part
/// (a bare word like "loud" would silently be read as a target name).
fn is_log_filter(value: &str) -> bool {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    if LEVELS.contains(&value) {
        return true;
    }
    (value.contains('=') || value.contains(','))
        && tracing_subscriber::EnvFilter::try_new(value).is_ok()
        && value.split(',').all(|part| {
            LEVELS.contains(&part)
                || part
                    .split_once('=')
                    .is_some_and(|(_, l)| LEVELS.contains(&l))
        })
}

fn is_valid_hostname(name: &str) -> bool {
    if name.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
