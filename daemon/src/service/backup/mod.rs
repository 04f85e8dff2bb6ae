//! Backups and restores (see `docs/backup.md`): consistent archives of the
//! whole box taken while it serves, checked archives, and restores that
//! either finish whole or leave the data as it was.

mod folder;
mod restore;
mod snapshot;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

pub use crate::archive::{Manifest, Passphrase};
pub use folder::{BackupFile, Kind};
pub use restore::Restored;

use super::ServiceError;
use super::blobs::Blobs;
use crate::store::Store;

/// Where a backup's parts live on this box.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    /// The backup folder (`<state>/backups`).
    pub dir: PathBuf,
    /// The state folder: restores stage under it, secrets are read from it.
    pub state_dir: PathBuf,
    /// The host name written into archives.
    pub host: String,
    /// What `prune` keeps of the scheduled backups.
    pub retention: crate::domain::retention::Policy,
}

/// The switch the HTTPS API looks at: while a restore runs, it answers 503.
#[derive(Debug, Clone, Default)]
pub struct Maintenance(Arc<AtomicBool>);

impl Maintenance {
    pub fn active(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// On until the guard is dropped (however the restore ends).
    fn enter(&self) -> Result<MaintenanceGuard, ServiceError> {
        if self.0.swap(true, Ordering::AcqRel) {
            return Err(ServiceError::Conflict(
                "a restore is already running".into(),
            ));
        }
        Ok(MaintenanceGuard(self.0.clone()))
    }
}

struct MaintenanceGuard(Arc<AtomicBool>);

impl Drop for MaintenanceGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// What to put in an archive.
#[derive(Default)]
pub struct Request {
    pub passphrase: Option<Passphrase>,
    /// The JWT signing secret and the ACME account; needs a passphrase.
    pub include_secrets: bool,
}

/// How one backup ended, for the metrics.
pub struct Outcome<'a> {
    /// `manual`, `scheduled`, `pre-upgrade`, `pre-restore` or `streamed`.
    pub kind: &'a str,
    pub ok: bool,
    pub seconds: f64,
    /// The archive's size (0 when it failed).
    pub bytes: u64,
    pub finished_at: i64,
}

pub type Observer = Arc<dyn Fn(&Outcome<'_>) + Send + Sync>;

/// What `finctl status` shows of backups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupStatus {
    pub last_success_at: Option<i64>,
    pub last_success: Option<String>,
    pub last_failure_at: Option<i64>,
    pub last_failure: Option<String>,
    /// Scheduled backups missed (the daemon was not running) since start.
    pub missed: u64,
    pub next_scheduled_at: Option<i64>,
}

pub struct Backups {
    store: Store,
    blobs: Blobs,
    settings: BackupSettings,
    maintenance: Maintenance,
    observer: Option<Observer>,
    status: Arc<Mutex<BackupStatus>>,
}

impl Backups {
    pub fn new(store: Store, blobs: Blobs, settings: BackupSettings) -> Self {
        Backups {
            store,
            blobs,
            settings,
            maintenance: Maintenance::default(),
            observer: None,
            status: Arc::default(),
        }
    }

    /// Reports every backup's end (metrics).
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    pub fn status(&self) -> BackupStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Notes how a backup ended: status, metrics, and the log for a failure.
    pub fn report(&self, kind: &str, started: Instant, result: Result<(&str, u64), &ServiceError>) {
        let finished_at = crate::support::unix_now();
        let seconds = started.elapsed().as_secs_f64();
        {
            let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
            match &result {
                Ok((name, _)) => {
                    status.last_success_at = Some(finished_at);
                    status.last_success = Some((*name).to_string());
                }
                Err(e) => {
                    status.last_failure_at = Some(finished_at);
                    status.last_failure = Some(format!("{kind}: {e}"));
                }
            }
        }
        match &result {
            Ok((name, bytes)) => {
                tracing::info!(kind, archive = %name, bytes, seconds, "backup taken")
            }
            Err(e) => tracing::error!(kind, error = %e, "backup failed"),
        }
        if let Some(observer) = &self.observer {
            observer(&Outcome {
                kind,
                ok: result.is_ok(),
                seconds,
                bytes: result.as_ref().map(|(_, b)| *b).unwrap_or(0),
                finished_at,
            });
        }
    }

    /// Notes a scheduled backup missed while the daemon was not running.
    pub fn report_missed(&self, due_at: i64) {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .missed += 1;
        tracing::warn!(
            due_at,
            "a scheduled backup was missed (the daemon was not running); taking one now"
        );
        if let Some(observer) = &self.observer {
            observer(&Outcome {
                kind: "missed",
                ok: false,
                seconds: 0.0,
                bytes: 0,
                finished_at: crate::support::unix_now(),
            });
        }
    }

    pub fn set_next_scheduled(&self, at: Option<i64>) {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next_scheduled_at = at;
    }

    pub fn maintenance(&self) -> Maintenance {
        self.maintenance.clone()
    }

    pub fn settings(&self) -> &BackupSettings {
        &self.settings
    }
}

/// The migrations data at schema `applied` still needs, as `N name`.
pub fn pending_migrations(applied: u32) -> Vec<String> {
    crate::store::pending_after(applied)
        .into_iter()
        .map(|m| format!("{} {}", m.version, m.name))
        .collect()
}

impl Backups {
    /// What the last start that migrated the data recorded, if any.
    pub fn last_upgrade(&self) -> Option<fin_proto::admin::LastUpgrade> {
        let bytes = std::fs::read(self.settings.state_dir.join("last-upgrade.json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

fn check_request(request: &Request) -> Result<(), ServiceError> {
    if request.include_secrets && request.passphrase.is_none() {
        return Err(ServiceError::Invalid(
            "an archive with secrets must be encrypted: give a passphrase as well".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
