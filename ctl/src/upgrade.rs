//! `finctl upgrade status | check | prepare | rollback` (see docs/upgrading.md).

use std::path::Path;

use clap::Subcommand;
use fin_proto::admin::{
    BACKUPS_PATH, BackupCreated, CreateBackup, Restored, STATUS_PATH, Status, UPGRADE_PATH,
    UpgradeCheck, UpgradeStatus,
};

use crate::client::AdminClient;
use crate::error::CtlError;
use crate::offline::run_fin;

#[derive(Subcommand)]
pub enum UpgradeCommand {
    /// Versions, schema, pending migrations and the last pre-upgrade backup.
    Status,
    /// Can the installed fin binary run on this data? (Exit 0: yes.)
    Check,
    /// Take a pre-upgrade backup now, into the daemon's backup folder (the
    /// package scripts run this before an upgrade replaces the files).
    /// Exit 3 when the daemon is not running: it then takes one itself
    /// before it migrates anything.
    Prepare,
    /// Restore the newest pre-upgrade backup, with the daemon stopped:
    /// after reinstalling the previous package (docs/upgrading.md).
    Rollback {
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
}

pub fn run(
    client: &AdminClient,
    command: UpgradeCommand,
    config: Option<&Path>,
    json: bool,
) -> Result<(), CtlError> {
    match command {
        UpgradeCommand::Status => status(client, config, json),
        UpgradeCommand::Check => check(client, config, json),
        UpgradeCommand::Prepare => prepare(client, json),
        UpgradeCommand::Rollback { yes } => rollback(client, config, yes, json),
    }
}

fn status(client: &AdminClient, config: Option<&Path>, json: bool) -> Result<(), CtlError> {
    match client.get::<UpgradeStatus>(UPGRADE_PATH) {
        Ok(status) => crate::backup::print(json, &status, || {
            let mut text = format!(
                "fin {} running; schema {} (this fin knows up to {})",
                status.fin_version, status.schema_applied, status.schema_latest
            );
            if !status.pending.is_empty() {
                text += &format!("\npending migrations: {}", status.pending.join(", "));
            }
            match &status.last_upgrade {
                Some(u) => {
                    text += &format!(
                        "\nlast upgrade {}: schema {} -> {} by fin {}, backup {}",
                        crate::status::timestamp(u.at),
                        u.schema_from,
                        u.schema_to,
                        u.fin_version,
                        u.backup
                    )
                }
                None => text += "\nno migration has run since the backup folder was set up",
            }
            if let Some(b) = &status.last_pre_upgrade_backup {
                text += &format!("\nnewest pre-upgrade backup: {}", b.path);
            }
            text
        }),
        Err(CtlError::NotRunning { .. }) => {
            let check: UpgradeCheck = run_fin(config, &["upgrade-check"])?;
            crate::backup::print(json, &check, || {
                format!(
                    "fin is not running; the installed fin {}: {}",
                    check.fin_version, check.reason
                )
            })
        }
        Err(e) => Err(e),
    }
}

fn check(client: &AdminClient, config: Option<&Path>, json: bool) -> Result<(), CtlError> {
    // A running daemon knows the data's schema; the installed binary (maybe
    // newer, not yet restarted) knows what it can run on.
    let check = match client.get::<Status>(STATUS_PATH) {
        Ok(status) => run_fin(
            config,
            &[
                "upgrade-check",
                "--schema-applied",
                &status.schema.applied.to_string(),
            ],
        ),
        Err(CtlError::NotRunning { .. }) => run_fin(config, &["upgrade-check"]),
        Err(e) => return Err(e),
    };
    let check: UpgradeCheck = check?;
    crate::backup::print(json, &check, || {
        format!(
            "yes: the installed fin {} can run on this data; {}",
            check.fin_version, check.reason
        )
    })
}

fn prepare(client: &AdminClient, json: bool) -> Result<(), CtlError> {
    let created: BackupCreated = client.post(
        BACKUPS_PATH,
        &CreateBackup {
            to_folder: true,
            pre_upgrade: true,
            ..CreateBackup::default()
        },
    )?;
    crate::backup::print(json, &created, || {
        format!(
            "pre-upgrade backup written: {} (finctl upgrade rollback restores it)",
            created.file.path
        )
    })
}

fn rollback(
    client: &AdminClient,
    config: Option<&Path>,
    yes: bool,
    json: bool,
) -> Result<(), CtlError> {
    match client.get::<Status>(STATUS_PATH) {
        Ok(status) => {
            return Err(CtlError::Other(format!(
                "fin {} is running: stop it (sudo systemctl stop fin), reinstall the previous package, then run this again",
                status.version
            )));
        }
        Err(CtlError::NotRunning { .. }) => {}
        Err(e) => return Err(e),
    }
    crate::backup::confirm(
        yes,
        "Restore the newest pre-upgrade backup? Changes made since that upgrade are lost (a restore point of the current data is kept).",
    )?;
    let restored: Restored = run_fin(config, &["restore", "--pre-upgrade"])?;
    crate::backup::print(json, &restored, || {
        format!(
            "rolled back to the backup taken before the upgrade\n{}\nstart fin with `sudo systemctl start fin`",
            crate::backup::restored_text("the newest pre-upgrade backup", &restored)
        )
    })
}
