//! Work on the data while the daemon is not running, done by the daemon
//! binary (`fin restore`, `fin upgrade check`) for `finctl` to call: a
//! restore when the daemon is stopped, or cannot start (an upgrade rolled
//! back leaves data newer than the old binary), and whether this binary
//! can run on the data there is.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::archive::Passphrase;
use fin_proto::admin::{LastUpgrade, UpgradeCheck};

use super::AppError;
use crate::config::Settings;
use crate::service::backup::{BackupSettings, Backups, Restored};
use crate::service::blobs::Blobs;
use crate::store::{LATEST_SCHEMA, Store};

pub fn backups_for(settings: &Settings, store: Store) -> Backups {
    Backups::new(
        store,
        Blobs::new(settings.state_dir.join("blobs")),
        BackupSettings {
            dir: settings.state_dir.join("backups"),
            state_dir: settings.state_dir.clone(),
            host: super::startup::host_name(),
            retention: settings.backup_retention,
        },
    )
}

/// Restores `file` with the daemon stopped. The data there may have any
/// schema, even a newer one: it is kept as a restore point (unless
/// `restore_point` is false) and replaced.
pub async fn restore(
    settings: &Settings,
    input: std::fs::File,
    passphrase: Option<Passphrase>,
    restore_point: bool,
) -> Result<Restored, AppError> {
    super::startup::prepare_state_dir(settings)?;
    let store = Store::connect_any(
        &settings.store_url,
        &settings.store_namespace,
        &settings.store_database,
    )
    .await?;
    let backups = Arc::new(backups_for(settings, store));
    backups
        .remove_leftovers()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let restored = backups
        .restore(input, passphrase, restore_point)
        .await
        .map_err(|e| AppError::Restore {
            code: crate::service::Failure::code(&e),
            message: e.to_string(),
        })?;
    Ok(restored)
}

/// Whether this binary can run on the data, without changing anything.
pub async fn upgrade_check(settings: &Settings) -> Result<UpgradeCheck, AppError> {
    let store = Store::connect_any(
        &settings.store_url,
        &settings.store_namespace,
        &settings.store_database,
    )
    .await?;
    Ok(check_against(store.schema_version().await?))
}

/// Whether this binary can run on data of schema `applied`.
pub fn check_against(applied: u32) -> UpgradeCheck {
    let pending: Vec<String> = crate::store::pending_after(applied)
        .into_iter()
        .map(|m| format!("{} {}", m.version, m.name))
        .collect();
    let (can_run, reason) = if applied > LATEST_SCHEMA {
        (
            false,
            format!(
                "the data has schema {applied}, newer than this fin ({}) knows ({LATEST_SCHEMA}): \
                 install the newer fin again, or roll back with `finctl upgrade rollback`",
                crate::VERSION
            ),
        )
    } else if pending.is_empty() {
        (true, "the data is at this fin's schema".to_string())
    } else {
        (
            true,
            format!(
                "{} migration(s) will run at start, after a pre-upgrade backup",
                pending.len()
            ),
        )
    };
    UpgradeCheck {
        fin_version: crate::VERSION.to_string(),
        schema_applied: applied,
        schema_latest: LATEST_SCHEMA,
        pending,
        can_run,
        reason,
    }
}

/// Run as root, become the owner of the state folder, so that what a
/// restore writes stays the daemon's to read.
pub fn act_as_state_owner(state_dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    let meta = match std::fs::metadata(state_dir) {
        Ok(meta) => meta,
        Err(_) => return Ok(()),
    };
    if meta.uid() == 0 {
        return Ok(());
    }
    let gid = nix::unistd::Gid::from_raw(meta.gid());
    nix::unistd::setgroups(&[gid])
        .and_then(|()| nix::unistd::setgid(gid))
        .and_then(|()| nix::unistd::setuid(nix::unistd::Uid::from_raw(meta.uid())))
        .map_err(|e| {
            format!(
                "cannot act as the owner of {} (uid {}): {e}",
                state_dir.display(),
                meta.uid()
            )
        })
}

/// The newest pre-upgrade archive in the backup folder.
pub fn newest_pre_upgrade(settings: &Settings) -> Option<PathBuf> {
    Backups::newest_of_kind(
        &settings.state_dir.join("backups"),
        crate::service::backup::Kind::PreUpgrade,
    )
    .map(|f| f.path)
}

/// What the newest migration at start did is kept beside the data for
/// `finctl upgrade status` (read back by `Backups::last_upgrade`).
pub const LAST_UPGRADE_FILE: &str = "last-upgrade.json";

/// Before migrations run at start: a pre-upgrade backup, recorded. A
/// failed backup stops the start, so no migration runs without one.
pub(super) async fn pre_upgrade_backup(settings: &Settings, store: &Store) -> Result<(), AppError> {
    let applied = store.schema_version().await?;
    let pending = store.pending_migrations().await?;
    if applied == 0 || pending.is_empty() {
        return Ok(());
    }
    tracing::info!(
        from = applied,
        to = LATEST_SCHEMA,
        "the data needs migrations: taking a pre-upgrade backup first"
    );
    let backups = backups_for(settings, store.clone());
    let (file, _) = backups
        .create_in_folder(
            crate::service::backup::Kind::PreUpgrade,
            &crate::service::backup::Request::default(),
        )
        .await
        .map_err(|e| {
            AppError::Internal(format!(
                "the pre-upgrade backup failed, so no migration ran and the data is as it was: {e}"
            ))
        })?;
    let record = LastUpgrade {
        at: crate::support::unix_now(),
        fin_version: crate::VERSION.to_string(),
        schema_from: applied,
        schema_to: LATEST_SCHEMA,
        backup: file.name.clone(),
    };
    let bytes =
        serde_json::to_vec_pretty(&record).map_err(|e| AppError::Internal(e.to_string()))?;
    crate::support::write_atomically(&settings.state_dir.join(LAST_UPGRADE_FILE), &bytes, 0o640)
        .map_err(AppError::io("the upgrade record"))?;
    tracing::info!(archive = %file.name, "pre-upgrade backup taken");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LoadOptions, load};
    use crate::service::backup::Kind;

    fn settings(dir: &Path) -> Settings {
        load(&LoadOptions {
            file: None,
            dev_dir: Some(dir.to_path_buf()),
            env: vec![],
        })
        .expect("settings")
        .settings
    }

    #[tokio::test]
    async fn data_of_an_older_schema_is_backed_up_and_recorded_before_it_migrates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = settings(dir.path());
        let folder = settings.state_dir.join("backups");

        // No data yet: nothing to keep, no record.
        let empty = Store::connect("mem://", "fin", "fin").await.expect("store");
        pre_upgrade_backup(&settings, &empty).await.expect("fresh");
        assert!(Backups::newest_of_kind(&folder, Kind::PreUpgrade).is_none());

        let older = Store::open_at_schema(LATEST_SCHEMA - 1).await;
        pre_upgrade_backup(&settings, &older).await.expect("backup");
        let taken = Backups::newest_of_kind(&folder, Kind::PreUpgrade).expect("taken");
        let record: LastUpgrade = serde_json::from_slice(
            &std::fs::read(settings.state_dir.join(LAST_UPGRADE_FILE)).expect("record"),
        )
        .expect("json");
        assert_eq!(
            (record.schema_from, record.schema_to, record.backup.as_str()),
            (LATEST_SCHEMA - 1, LATEST_SCHEMA, taken.name.as_str())
        );
        let archive = std::fs::File::open(&taken.path).expect("open");
        let manifest = backups_for(&settings, older.clone())
            .verify(archive, None)
            .await
            .expect("a whole archive");
        assert_eq!(manifest.header.schema_version, LATEST_SCHEMA - 1);

        // Migrated, a second start finds nothing pending and takes none.
        older.migrate().await.expect("migrate");
        pre_upgrade_backup(&settings, &older)
            .await
            .expect("current");
        let all = backups_for(&settings, older).list().expect("list");
        assert_eq!(all.len(), 1, "{all:?}");
    }
}
