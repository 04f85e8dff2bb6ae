//! Backups and restores (see `docs/backup.md`): consistent archives of the
//! whole box taken while it serves, checked archives, and restores that
//! either finish whole or leave the data as it was.

mod folder;
mod restore;
mod snapshot;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use age::secrecy::SecretString;

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
    pub passphrase: Option<SecretString>,
    /// The JWT signing secret and the ACME account; needs a passphrase.
    pub include_secrets: bool,
}

pub struct Backups {
    store: Store,
    blobs: Blobs,
    settings: BackupSettings,
    maintenance: Maintenance,
}

impl Backups {
    pub fn new(store: Store, blobs: Blobs, settings: BackupSettings) -> Self {
        Backups {
            store,
            blobs,
            settings,
            maintenance: Maintenance::default(),
        }
    }

    pub fn maintenance(&self) -> Maintenance {
        self.maintenance.clone()
    }

    pub fn settings(&self) -> &BackupSettings {
        &self.settings
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
