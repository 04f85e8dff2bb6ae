//! Start-up steps and their errors: each failure is one line that says what
//! to fix.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use fin_proto::admin::TlsStatus;
use fin_proto::{LISTENERS_FILE, Listeners};
use tokio::net::TcpListener;

use crate::admin::AdminSocketError;
use crate::config::{Settings, TlsSource};
use crate::store::StoreError;
use crate::tls::{self, CertInfo, LoadedCert, TlsError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Admin(#[from] AdminSocketError),
    #[error(transparent)]
    Secrets(#[from] crate::service::auth::jwt::KeyError),
    #[error("cannot listen for {what} on {addr}: {reason}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        reason: String,
    },
    #[error("{what}: {reason}")]
    Io { what: String, reason: String },
    #[error("OCR models: {0}")]
    Ocr(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// A restore refused or failed; `code` is the stable machine code.
    #[error("{message}")]
    Restore { code: &'static str, message: String },
}

impl AppError {
    pub(super) fn io(what: &str) -> impl FnOnce(std::io::Error) -> AppError + '_ {
        move |e| AppError::Io {
            what: what.to_string(),
            reason: e.to_string(),
        }
    }
}

/// The state folder and its private sub-folders, with safe modes.
pub(super) fn prepare_state_dir(settings: &Settings) -> Result<(), AppError> {
    let state = &settings.state_dir;
    for (dir, mode) in [
        (state.clone(), 0o750),
        (state.join("tls"), 0o700),
        (state.join("secrets"), 0o700),
    ] {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(mode)
                .create(&dir)
                .map_err(|e| AppError::Io {
                    what: format!(
                        "cannot create {} (check paths.state_dir and its permissions)",
                        dir.display()
                    ),
                    reason: e.to_string(),
                })?;
        }
    }
    Ok(())
}

/// Descriptors kept for everything but client connections: the database,
/// logs, the models, the admin socket and its clients, outgoing ACME calls.
const RESERVED_DESCRIPTORS: u64 = 256;

/// The connection caps, after raising the open-files limit as far as the
/// system allows: a cap above the limit would let clients use up every
/// descriptor, so it is lowered to fit, with a warning.
pub(super) fn connection_caps(
    settings: &Settings,
) -> std::sync::Arc<crate::support::ConnectionCaps> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let wanted = &settings.connections;
    let open_files = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => hard,
            Err(_) => soft,
        },
        Ok((soft, _)) => soft,
        Err(_) => u64::MAX,
    };
    let room = usize::try_from(open_files.saturating_sub(RESERVED_DESCRIPTORS).max(16))
        .unwrap_or(usize::MAX);
    let total = wanted.max_connections.min(room);
    if total < wanted.max_connections {
        tracing::warn!(
            max_connections = wanted.max_connections,
            open_files_limit = open_files,
            using = total,
            "server.max_connections does not fit the open-files limit; raise LimitNOFILE (ulimit -n) or lower it"
        );
    }
    crate::support::ConnectionCaps::new(
        total,
        wanted.max_connections_per_address.min(total),
        settings.trusted_proxies.clone(),
    )
}

pub(super) fn load_certificate(settings: &Settings) -> Result<LoadedCert, TlsError> {
    match &settings.tls {
        TlsSource::SelfSigned => {
            tls::self_signed(&settings.state_dir.join("tls"), &settings.hostnames)
        }
        TlsSource::Files { cert, key } => tls::from_files(cert, key),
        // Served until the first certificate from the CA arrives; `/readyz`
        // says not ready meanwhile.
        TlsSource::Acme(acme) => tls::self_signed(&settings.state_dir.join("tls"), &acme.domains),
    }
}

/// The background ACME renewal for `tls.mode = "acme"`, and the http-01
/// answers for the HTTP listener (none with a dns-01 hook).
pub(super) fn acme_renewal(
    settings: &Settings,
    source: &crate::config::AcmeSource,
    resolver: std::sync::Arc<tls::CertResolver>,
    metrics: &std::sync::Arc<crate::metrics::Metrics>,
) -> Result<(tls::AcmeRenewal, Option<crate::http::ChallengeAnswers>), AppError> {
    use tls::acme::{AcmeSettings, Challenge, Directory, Http01Answers};
    let directory: Directory = source
        .directory
        .parse()
        .map_err(|e: tls::acme::AcmeError| AppError::Internal(e.to_string()))?;
    let acme_settings = AcmeSettings {
        directory,
        email: source.email.clone(),
        domains: source.domains.clone(),
        dir: settings.state_dir.join("acme"),
    };
    let (challenge, answers) = match &source.dns_hook {
        Some(hook) => (Challenge::Dns01 { hook: hook.clone() }, None),
        None => {
            let answers = Http01Answers::default();
            let serving = answers.clone();
            let answer: crate::http::ChallengeAnswers =
                std::sync::Arc::new(move |token: &str| serving.answer(token));
            (Challenge::Http01(answers), Some(answer))
        }
    };
    let (orders, expiry) = (metrics.clone(), metrics.clone());
    let observer = tls::AcmeObserver {
        order: Box::new(move |outcome| orders.observe_acme_order(outcome)),
        expiry: Box::new(move |name, not_after| {
            expiry.set_certificate_expiry(&[name.to_string()], not_after)
        }),
    };
    Ok((
        tls::AcmeRenewal::new(acme_settings, challenge, resolver, observer),
        answers,
    ))
}

pub(super) async fn bind_tcp(
    what: &'static str,
    key: &'static str,
    addr: SocketAddr,
) -> Result<TcpListener, AppError> {
    TcpListener::bind(addr).await.map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => format!("the port is in use by another program; stop it or change {key}"),
            std::io::ErrorKind::PermissionDenied => format!(
                "permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE (the packaged unit grants it), or change {key}"
            ),
            std::io::ErrorKind::AddrNotAvailable => format!("no such address on this machine; change {key}"),
            _ => format!("{e}; check {key}"),
        };
        AppError::Bind { what, addr, reason: hint }
    })
}

pub(super) fn tls_status(mode: &str, info: &CertInfo) -> TlsStatus {
    TlsStatus {
        mode: mode.to_string(),
        subject: info.subject.clone(),
        issuer: info.issuer.clone(),
        sans: info.sans.clone(),
        not_before: info.not_before,
        not_after: info.not_after,
        fingerprint_sha256: info.fingerprint_sha256.clone(),
        acme: None,
    }
}

/// Records the bound addresses for `finctl` and tests (port 0 becomes real here).
pub(super) fn write_listeners_file(
    state_dir: &Path,
    listeners: &Listeners,
) -> Result<(), AppError> {
    let path = state_dir.join(LISTENERS_FILE);
    let json =
        serde_json::to_vec_pretty(listeners).map_err(|e| AppError::Internal(e.to_string()))?;
    crate::support::write_atomically(&path, &json, 0o644).map_err(|e| AppError::Io {
        what: format!("cannot write {}", path.display()),
        reason: e.to_string(),
    })
}

pub(super) fn remove_runtime_files(settings: &Settings) {
    let _ = std::fs::remove_file(settings.state_dir.join(LISTENERS_FILE));
    let _ = std::fs::remove_file(&settings.admin_socket);
}

/// The start banner: where to point a browser, and how to reach the daemon.
pub(super) fn announce(
    settings: &Settings,
    listeners: &Listeners,
    cert: &CertInfo,
    dev_mode: bool,
) {
    let host = settings
        .hostnames
        .first()
        .map(String::as_str)
        .unwrap_or("localhost");
    let port = listeners.https.rsplit(':').next().unwrap_or("443");
    let base = if port == "443" {
        format!("https://{host}")
    } else {
        format!("https://{host}:{port}")
    };
    let mode = if dev_mode { " (development mode)" } else { "" };
    let mut text = format!("fin {} is ready{mode}\n", crate::VERSION);
    text += &format!("  web and API    {base}/\n");
    text += &format!("  health         {base}/healthz\n");
    text += &format!("  API document   {base}/api/v1/openapi.json\n");
    if let Some(http) = &listeners.http {
        text += &format!("  HTTP redirect  http://{http}/\n");
    }
    if let Some(metrics) = &listeners.metrics {
        text += &format!("  metrics        http://{metrics}/metrics\n");
    }
    text += &format!("  admin socket   {}\n", listeners.admin_socket);
    text += &format!("  state folder   {}\n", settings.state_dir.display());
    text += &format!(
        "  certificate    {} ({}), SHA-256 {}\n",
        settings.tls.mode_name(),
        cert.subject,
        cert.fingerprint_sha256
    );
    if dev_mode {
        text += &format!(
            "  try:           curl -k {base}/healthz   or   FIN_ADMIN_SOCKET={} finctl status\n",
            listeners.admin_socket
        );
    }
    print!("{text}");
    let _ = std::io::stdout().flush();
    tracing::info!(https = %listeners.https, http = ?listeners.http, metrics = ?listeners.metrics, admin_socket = %listeners.admin_socket, "ready");
}

/// This daemon's name among the daemons that may share one database: random,
/// made once and kept in the state folder. OCR workers are named after it,
/// so a restarted daemon can take back the jobs it held when it died.
pub(super) fn node_id(state_dir: &Path) -> Result<String, AppError> {
    let path = state_dir.join("node-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(AppError::io("reading the node id")(e)),
    }
    let id =
        crate::support::new_id().map_err(AppError::io("making the node id"))?[..16].to_string();
    crate::support::write_atomically(&path, format!("{id}\n").as_bytes(), 0o644)
        .map_err(AppError::io("writing the node id"))?;
    Ok(id)
}

/// This machine's host name, for backup archives ("unknown" when unset).
pub(super) fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}
