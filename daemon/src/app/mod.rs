//! The composition root: builds every part from the settings, starts the
//! listeners, reacts to signals and shuts down in order.

pub mod cli_docs;
mod connection;
pub mod offline;
mod options;
mod serve;
mod startup;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use fin_proto::Listeners;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

pub use options::log_options;
pub use startup::AppError;

use crate::config::Settings;
use crate::config::TlsSource;
use crate::http::{self, RateLimits, RequestObserver};
use crate::metrics::Metrics;
use crate::ocr::Engine;
use crate::service::audit::Audit;
use crate::service::auth::jwt::JwtKeys;
use crate::service::auth::password::PasswordHashing;
use crate::service::auth::sessions::Sessions;
use crate::service::blobs::Blobs;
use crate::service::receipts;
use crate::service::users::Users;
use crate::service::{Services, System};
use crate::store::Store;
use crate::tls::{AcmeRenewal, CertResolver, TlsAcceptor};
use crate::{admin, jobs, metrics};

/// Runs the daemon until SIGTERM or SIGINT. Returns once every listener has
/// stopped and open requests have finished (or the grace period ran out).
pub async fn run(settings: Settings, dev_mode: bool) -> Result<(), AppError> {
    // Installed first, so a stop request that comes right after readiness is
    // never met by the default action (which would kill the process).
    let signals = Signals::install()?;
    startup::prepare_state_dir(&settings)?;
    let store = Store::connect(
        &settings.store_url,
        &settings.store_namespace,
        &settings.store_database,
    )
    .await?;
    offline::pre_upgrade_backup(&settings, &store).await?;
    store.migrate().await?;
    let resolver = CertResolver::new(startup::load_certificate(&settings)?);
    // The handshake is the first phase of a connection: the same bound as headers.
    let acceptor = TlsAcceptor::new(resolver.clone(), settings.connections.header_read_timeout)?;
    let caps = startup::connection_caps(&settings);

    let https = startup::bind_tcp("HTTPS", "server.https_listen", settings.https_listen).await?;
    let plain = match settings.http_listen {
        Some(addr) => Some(startup::bind_tcp("HTTP", "server.http_listen", addr).await?),
        None => None,
    };
    let metrics_listener = match settings.metrics_listen {
        Some(addr) => Some(startup::bind_tcp("metrics", "metrics.listen", addr).await?),
        None => None,
    };
    let policy = admin::AccessPolicy::new(settings.admin_group.as_deref());
    let admin_listener = admin::bind(&settings.admin_socket, &policy)?;

    let https_addr = https.local_addr().map_err(AppError::io("HTTPS listener"))?;
    let listeners = Listeners {
        https: https_addr.to_string(),
        http: plain
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.to_string()),
        metrics: metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.to_string()),
        admin_socket: settings.admin_socket.display().to_string(),
        pid: std::process::id(),
    };

    let metrics = Metrics::new(crate::VERSION, Some(settings.state_dir.clone()))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    metrics.set_certificate_expiry(&resolver.info().sans, resolver.info().not_after);
    let acme = match &settings.tls {
        TlsSource::Acme(source) => Some(startup::acme_renewal(
            &settings,
            source,
            resolver.clone(),
            &metrics,
        )?),
        _ => None,
    };
    let tls_mode = settings.tls.mode_name();
    let probe_resolver = resolver.clone();
    let probe_acme = acme.as_ref().map(|(renewal, _)| renewal.clone());
    let tls_probe = Arc::new(move || {
        let mut status = startup::tls_status(tls_mode, &probe_resolver.info());
        status.acme = probe_acme.as_ref().map(AcmeRenewal::status);
        status
    });
    let hashing = PasswordHashing::new(options::hash_cost(&settings.auth))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let engine = load_ocr_engine(&settings).await?;
    let node = startup::node_id(&settings.state_dir)?;
    let blobs = Blobs::new(settings.state_dir.join("blobs"));
    let ledger = Arc::new(crate::service::ledger::Ledger::new(
        store.clone(),
        blobs.clone(),
        options::ledger_settings(&settings),
    ));
    let (receipts, ocr_queue) = receipts::open(
        store.clone(),
        blobs.clone(),
        options::receipt_settings(&settings.ocr),
        crate::service::ledger::receipt_matcher(ledger.clone()),
    );
    let (receipts, ocr_queue) = (Arc::new(receipts), Arc::new(ocr_queue));
    let released = ocr_queue
        .release_node_jobs(&node)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if released > 0 {
        tracing::warn!(
            jobs = released,
            "took back OCR jobs left running when this daemon last stopped"
        );
    }
    let audit = Arc::new(Audit::new(store.clone()));
    let secrets_dir = settings.state_dir.join("secrets");
    let keys = JwtKeys::load_or_create(&secrets_dir, crate::support::unix_now())?;
    let backup_metrics = metrics.clone();
    let backups = Arc::new(
        crate::service::backup::Backups::new(
            store.clone(),
            blobs.clone(),
            crate::service::backup::BackupSettings {
                dir: settings.state_dir.join("backups"),
                state_dir: settings.state_dir.clone(),
                host: startup::host_name(),
                retention: settings.backup_retention,
            },
        )
        .with_observer(Arc::new(move |outcome| {
            if outcome.ok {
                backup_metrics.observe_backup_success(
                    outcome.kind,
                    outcome.finished_at,
                    outcome.seconds,
                    outcome.bytes,
                );
            } else {
                backup_metrics.observe_backup_failure(outcome.kind);
            }
        })),
    );
    // The newest archive in the folder is the last success known at start,
    // so an alert on the backups' age neither fires nor stays silent
    // because the daemon restarted.
    if let Some(newest) = backups
        .list()
        .ok()
        .and_then(|files| files.into_iter().max_by_key(|f| f.created))
    {
        metrics.set_last_backup(newest.created, newest.size);
    }
    let partials = backups.remove_partials();
    if partials > 0 {
        tracing::warn!(
            files = partials,
            "removed unfinished backups a stopped daemon left"
        );
    }
    if let Err(e) = backups.remove_leftovers().await {
        tracing::warn!(error = %e, "cannot remove what an unfinished restore left; trying at the next start");
    }
    let services = Services {
        backups: backups.clone(),
        system: Arc::new(
            System::new(store.clone(), tls_probe, listeners.clone())
                .with_ocr_models(engine.models().to_vec())
                .with_cert_control(cert_control(
                    &settings,
                    &resolver,
                    acme.as_ref().map(|(r, _)| r.clone()),
                )),
        ),
        users: Arc::new(Users::new(
            store.clone(),
            hashing.clone(),
            audit.clone(),
            settings.auth.registration,
        )),
        sessions: Arc::new(Sessions::new(
            store.clone(),
            hashing,
            Arc::new(RwLock::new(keys)),
            secrets_dir,
            options::session_policy(&settings.auth),
            audit.clone(),
        )),
        audit,
        receipts: receipts.clone(),
        ledger,
    };
    for class in crate::http::Class::ALL {
        metrics.declare_rate_limit_class(class.name());
    }
    let observer: RequestObserver = {
        let metrics = metrics.clone();
        Arc::new(move |r| {
            metrics.observe_http(r.method, r.route, r.status, r.seconds);
            if let Some(class) = r.rate_limited {
                metrics.observe_rate_limited(class);
            }
        })
    };
    let limits = RateLimits::new(options::rate_limits(&settings));

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |rx: &watch::Receiver<bool>| {
        let mut rx = rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(
        serve::Server {
            name: "https",
            listener: https,
            tls: Some(acceptor),
            service: http::api_service(
                services.clone(),
                limits.clone(),
                observer,
                settings.max_body_bytes,
                settings.connections.body_timeout,
                settings.cors_origins.clone(),
            ),
            phases: settings.connections.clone(),
            caps: caps.clone(),
            metrics: metrics.clone(),
            grace: settings.shutdown_grace,
        }
        .run(stop_rx.clone()),
    );
    if let Some(listener) = plain {
        tasks.spawn(
            serve::Server {
                name: "http",
                listener,
                tls: None,
                service: http::redirect_service(
                    https_addr.port(),
                    settings.hostnames.clone(),
                    acme.as_ref().and_then(|(_, answers)| answers.clone()),
                ),
                phases: settings.connections.clone(),
                caps: caps.clone(),
                metrics: metrics.clone(),
                grace: settings.shutdown_grace,
            }
            .run(stop_rx.clone()),
        );
    }
    if let Some(listener) = metrics_listener {
        tasks.spawn(metrics::serve(listener, metrics.clone(), stopped(&stop_rx)));
    }
    tasks.spawn(admin::serve(
        admin_listener,
        services.clone(),
        policy,
        stopped(&stop_rx),
    ));
    tasks.spawn(sweep_limits(limits, stopped(&stop_rx)));
    tasks.spawn(tidy_storage(
        blobs,
        store.clone(),
        settings.ocr.unused_image_grace,
        settings.import_preview_ttl,
        stopped(&stop_rx),
    ));
    if let Some((renewal, _)) = &acme {
        tasks.spawn(renewal.clone().run(stop_rx.clone()));
    }
    match settings.backup_schedule {
        Some((hour, minute)) => {
            tasks.spawn(jobs::backups::run(
                backups.clone(),
                hour,
                minute,
                stop_rx.clone(),
            ));
        }
        None => backups.set_next_scheduled(None),
    }
    let workers = jobs::start(
        ocr_queue,
        engine,
        settings.ocr.workers,
        &format!("{node}/{}", std::process::id()),
        ocr_observer(&metrics),
        stop_rx.clone(),
    );
    for worker in workers {
        tasks.spawn(async move {
            let _ = worker.await;
        });
    }

    startup::write_listeners_file(&settings.state_dir, &listeners)?;
    startup::announce(&settings, &listeners, &resolver.info(), dev_mode);
    // Not running under systemd is fine: the call then does nothing.
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);

    signals.wait_for_stop(&settings, &resolver).await;

    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    tracing::info!(grace = ?settings.shutdown_grace, "shutting down: no new connections, finishing open requests");
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    startup::remove_runtime_files(&settings);
    tracing::info!("stopped");
    Ok(())
}

/// `finctl cert renew` (ACME mode) and `finctl cert reload` (files mode).
fn cert_control(
    settings: &Settings,
    resolver: &Arc<CertResolver>,
    acme: Option<AcmeRenewal>,
) -> crate::service::CertControl {
    let (settings, resolver) = (settings.clone(), resolver.clone());
    crate::service::CertControl {
        renew: Arc::new(move |force| {
            match &acme {
            Some(renewal) => renewal.request_renewal(force),
            None => Err("renewal applies to tls.mode = \"acme\"; files are reloaded with `finctl cert reload`, self-signed certificates renew at start".into()),
        }
        }),
        reload: Arc::new(move || reload_certificate(&settings, &resolver)),
    }
}

/// Loads and verifies the OCR models off the runtime; a damaged or unknown
/// model stops the start with a message naming the file.
async fn load_ocr_engine(settings: &Settings) -> Result<Arc<Engine>, AppError> {
    let source = options::model_source(&settings.ocr.models);
    let started = std::time::Instant::now();
    let engine = tokio::task::spawn_blocking(move || Engine::load(&source))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Ocr(e.to_string()))?;
    tracing::info!(
        models = ?engine.models().iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ms = started.elapsed().as_millis() as u64,
        "OCR models loaded and verified"
    );
    Ok(Arc::new(engine))
}

fn ocr_observer(metrics: &Arc<Metrics>) -> jobs::OcrObserver {
    let (stage, outcome, counts) = (metrics.clone(), metrics.clone(), metrics.clone());
    jobs::OcrObserver {
        stage: Box::new(move |name, took| stage.observe_ocr_stage(name, took.as_secs_f64())),
        outcome: Box::new(move |name| outcome.observe_ocr_outcome(name)),
        job_counts: Box::new(move |all| {
            for (state, n) in all {
                counts.set_ocr_jobs(state, *n);
            }
        }),
    }
}

/// Forgets idle rate-limit entries every minute, so memory follows the number
/// of active clients.
async fn sweep_limits(limits: RateLimits, stopped: impl std::future::Future<Output = ()>) {
    tokio::pin!(stopped);
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            _ = tick.tick() => limits.sweep(),
        }
    }
}

/// Deletes imports left as previews for longer than `preview_ttl`, and
/// removes files (receipt images, statement files) nothing uses once they
/// have been unused for `grace` (see `Blobs::collect`): soon after start,
/// then every grace period and at least once an hour.
async fn tidy_storage(
    blobs: Blobs,
    store: Store,
    grace: Duration,
    preview_ttl: Duration,
    stopped: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stopped);
    let every = grace.clamp(Duration::from_secs(1), Duration::from_secs(3600));
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + every.min(Duration::from_secs(60)),
        every,
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            _ = tick.tick() => {
                // Files first: an expired preview's file then stays until
                // the next round, so requests that read the preview just
                // before it expired can finish.
                collect_unused(&blobs, &store, grace).await;
                expire_previews(&store, preview_ttl).await;
            }
        }
    }
}

async fn expire_previews(store: &Store, ttl: Duration) {
    let before = crate::support::unix_now() - ttl.as_secs() as i64;
    match store.delete_stale_previews(before).await {
        Ok(deleted) if !deleted.is_empty() => {
            tracing::info!(imports = ?deleted, "deleted imports left as previews longer than import.preview_days");
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "deleting stale import previews failed; trying again later")
        }
    }
}

async fn collect_unused(blobs: &Blobs, store: &Store, grace: Duration) {
    match blobs.collect(store, grace).await {
        Ok(collected) if collected.removed > 0 => {
            tracing::info!(
                removed = collected.removed,
                "removed files nothing uses (receipt images, statements)"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "collecting unused files failed; trying again later"),
    }
}

struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Signals {
    fn install() -> Result<Self, AppError> {
        Ok(Signals {
            term: signal(SignalKind::terminate()).map_err(AppError::io("SIGTERM handler"))?,
            int: signal(SignalKind::interrupt()).map_err(AppError::io("SIGINT handler"))?,
            hup: signal(SignalKind::hangup()).map_err(AppError::io("SIGHUP handler"))?,
        })
    }

    /// Reloads the certificate on SIGHUP; returns on SIGTERM or SIGINT.
    async fn wait_for_stop(mut self, settings: &Settings, resolver: &CertResolver) {
        loop {
            tokio::select! {
                _ = self.term.recv() => return,
                _ = self.int.recv() => return,
                _ = self.hup.recv() => {
                    let _ = reload_certificate(settings, resolver);
                }
            }
        }
    }
}

/// A failed reload keeps the current certificate serving.
fn reload_certificate(settings: &Settings, resolver: &CertResolver) -> Result<String, String> {
    if matches!(settings.tls, TlsSource::Acme(_)) {
        tracing::info!(
            "reload asked for in ACME mode: certificates renew by themselves; nothing reloaded"
        );
        return Err(
            "in tls.mode = \"acme\" certificates renew by themselves; use `finctl cert renew`"
                .into(),
        );
    }
    match startup::load_certificate(settings) {
        Ok(cert) => {
            let info = cert.info.clone();
            resolver.swap(cert);
            tracing::info!(subject = %info.subject, not_after = info.not_after, fingerprint = %info.fingerprint_sha256, "certificate reloaded");
            Ok(format!(
                "certificate reloaded: {} until {}",
                info.subject, info.not_after
            ))
        }
        Err(e) => {
            tracing::error!(error = %e, "certificate reload failed; the previous certificate stays in use");
            Err(format!(
                "reload failed, the previous certificate stays in use: {e}"
            ))
        }
    }
}

/// Re-exported for the binary: builds the tokio runtime the daemon runs on.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}
