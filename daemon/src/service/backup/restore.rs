//! Checking and restoring archives.
//!
//! A restore reads the whole archive into a staging folder first, checking
//! every member (nothing live is touched until the archive has proved
//! whole), takes a restore point of the current data, imports into a fresh
//! database beside the live one, compares the record counts with the
//! manifest, migrates an older schema, puts the images in place, and only
//! then switches the live database. A failure, or a kill, at any step
//! before the switch leaves the old data live; leftovers are removed at
//! the next start.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::snapshot::SECRET_DIRS;
use super::{BackupFile, Backups, Kind, Request, ServiceError};
use crate::archive::{self, ArchiveError, ArchiveReader, Header, Manifest, Passphrase};
use crate::store::LATEST_SCHEMA;

/// Staging folders are named `<prefix><unix ms>` in the state folder.
const STAGING_PREFIX: &str = "restore-staging-";
const EXPORT_FILE: &str = "export.surql";

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    pub manifest: Manifest,
    /// The archive of the data that was replaced.
    pub restore_point: Option<BackupFile>,
    /// The schema version the archive had; the data was migrated from it
    /// when older than this fin's.
    pub schema_from: u32,
    pub schema_now: u32,
    /// Secrets were in the archive and were put back (they take effect at
    /// the next start).
    pub secrets_restored: bool,
}

impl Backups {
    /// Reads an archive from end to end and checks every member, the
    /// manifest, the passphrase and the schema, touching nothing.
    pub async fn verify<R: Read + Send + 'static>(
        &self,
        input: R,
        passphrase: Option<Passphrase>,
    ) -> Result<Manifest, ServiceError> {
        tokio::task::spawn_blocking(move || {
            ArchiveReader::open(input, passphrase.as_ref())?.read(&mut check_header, |_, _| Ok(()))
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("the archive reader stopped: {e}")))?
        .map_err(ServiceError::from)
    }

    /// Restores the box to the archive's state (see the module's comment).
    /// The HTTPS API answers 503 meanwhile.
    pub async fn restore<R: Read + Send + 'static>(
        &self,
        input: R,
        passphrase: Option<Passphrase>,
        take_restore_point: bool,
    ) -> Result<Restored, ServiceError> {
        let _maintenance = self.maintenance.enter()?;
        let staging = self
            .settings
            .state_dir
            .join(format!("{STAGING_PREFIX}{}", crate::support::unix_now_ms()));
        let result = self
            .restore_through(&staging, input, passphrase, take_restore_point)
            .await;
        let _ = std::fs::remove_dir_all(&staging);
        match &result {
            Ok(restored) => tracing::info!(
                created_at = %restored.manifest.header.created_at,
                schema_from = restored.schema_from,
                "restored a backup"
            ),
            Err(e) => tracing::warn!(error = %e, "restore failed; the previous data stays live"),
        }
        result
    }

    async fn restore_through<R: Read + Send + 'static>(
        &self,
        staging: &Path,
        input: R,
        passphrase: Option<Passphrase>,
        take_restore_point: bool,
    ) -> Result<Restored, ServiceError> {
        let started = std::time::Instant::now();
        // Seconds since the restore began, for the log of each step.
        let seconds = || started.elapsed().as_secs_f64();
        let dir = staging.to_path_buf();
        let manifest = tokio::task::spawn_blocking(move || stage(input, passphrase, &dir))
            .await
            .map_err(|e| ServiceError::Internal(format!("the archive reader stopped: {e}")))??;
        tracing::info!(
            seconds = seconds(),
            "restore: the archive is read and checked"
        );
        let restore_point = if take_restore_point {
            Some(
                self.create_in_folder(Kind::PreRestore, &Request::default())
                    .await?
                    .0,
            )
        } else {
            None
        };
        let fresh = self.store.fresh().await?;
        tracing::info!(database = %fresh.database(), seconds = seconds(), "restore: loading the archive into a fresh database");
        let filled = async {
            fresh.load_export(&staging.join(EXPORT_FILE)).await?;
            tracing::info!(seconds = seconds(), "restore: the records are loaded");
            let counts = fresh.table_counts().await?;
            compare_counts(&manifest.tables, &counts)?;
            let from = fresh.schema_version().await?;
            fresh.migrate().await?;
            tracing::info!(seconds = seconds(), "restore: counted and migrated");
            Ok::<u32, ServiceError>(from)
        }
        .await;
        let schema_from = match filled {
            Ok(from) => from,
            Err(e) => {
                if let Err(removal) = self.store.remove_database(&fresh.database()).await {
                    tracing::warn!(error = %removal, "cannot remove the unfinished restore's database; it goes at the next start");
                }
                return Err(e);
            }
        };
        // No image may be collected between here and the switch: the
        // collector still judges by the old data.
        let pin = self.blobs.pin().await;
        let (blobs, dir) = (self.blobs.clone(), staging.to_path_buf());
        tokio::task::spawn_blocking(move || -> io::Result<()> {
            for entry in std::fs::read_dir(dir.join("blobs"))? {
                let entry = entry?;
                blobs.adopt_blocking(&entry.file_name().to_string_lossy(), &entry.path())?;
            }
            Ok(())
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .map_err(|e| ServiceError::Internal(format!("cannot put the images in place: {e}")))?;
        tracing::info!(seconds = seconds(), "restore: the images are in place");
        let previous = self.store.switch_to(&fresh).await?;
        drop(pin);
        // Secrets only once the restored data is live: a restore that
        // fails before leaves the old data with its own secrets.
        let (dir, state_dir) = (staging.to_path_buf(), self.settings.state_dir.clone());
        let secrets_restored =
            tokio::task::spawn_blocking(move || put_back_secrets(&dir.join("secrets"), &state_dir))
                .await
                .map_err(|e| ServiceError::Internal(e.to_string()))?
                .map_err(|e| {
                    ServiceError::Internal(format!(
                        "the data is restored, but its secrets could not be written: {e}"
                    ))
                })?;
        if let Err(e) = self.store.remove_database(&previous).await {
            tracing::warn!(error = %e, database = %previous, "cannot remove the replaced database; it goes at the next start");
        }
        Ok(Restored {
            manifest,
            restore_point,
            schema_from,
            schema_now: self.store.schema_version().await?,
            secrets_restored,
        })
    }

    /// Removes what restores cut short left behind: staging folders and
    /// databases that never became live (at start).
    pub async fn remove_leftovers(&self) -> Result<(), ServiceError> {
        if let Ok(entries) = std::fs::read_dir(&self.settings.state_dir) {
            for entry in entries.flatten() {
                if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(STAGING_PREFIX)
                {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        for name in self.store.stale_databases().await? {
            tracing::info!(database = %name, "removing a database a restore left behind");
            self.store.remove_database(&name).await?;
        }
        Ok(())
    }
}

/// Refuses an archive whose data is newer than this fin.
fn check_header(header: &Header) -> Result<(), ArchiveError> {
    if header.schema_version > LATEST_SCHEMA {
        return Err(ArchiveError::TooNew(format!(
            "its data has schema version {}, and this fin knows up to {LATEST_SCHEMA}: \
             restore it with fin {} or newer",
            header.schema_version, header.fin_version
        )));
    }
    Ok(())
}

/// Reads the archive into `dir`: the export into one file, images and
/// secrets into folders. Only a whole, checked archive gets past this.
fn stage(
    input: impl Read,
    passphrase: Option<Passphrase>,
    dir: &Path,
) -> Result<Manifest, ServiceError> {
    let io = |e: io::Error| ServiceError::Internal(format!("cannot stage the restore: {e}"));
    {
        // The decrypted export and secrets pass through here: owner only.
        use std::os::unix::fs::DirBuilderExt;
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true).mode(0o700);
        for sub in ["blobs", "secrets"] {
            builder.create(dir.join(sub)).map_err(io)?;
        }
    }
    let mut export = std::fs::File::create(dir.join(EXPORT_FILE)).map_err(io)?;
    let reader = ArchiveReader::open(input, passphrase.as_ref())?;
    let encrypted = reader.encrypted();
    let manifest = reader.read(&mut check_header, |path, member| {
        if path.starts_with(archive::DB_PREFIX) {
            io::copy(member, &mut export).map_err(staging_error)?;
        } else if let Some(name) = path.strip_prefix(archive::BLOB_PREFIX) {
            if !is_sha256(name) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{path} is not an image's name"),
                ));
            }
            copy_to(member, &dir.join("blobs").join(name))?;
        } else if let Some(rel) = path.strip_prefix(archive::SECRET_PREFIX) {
            // fin writes secrets into encrypted archives only.
            if !encrypted {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{path}: secrets in an archive that is not encrypted"),
                ));
            }
            let rel = safe_secret_path(rel).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{path} is not a secret of fin's"),
                )
            })?;
            copy_to(member, &dir.join("secrets").join(rel))?;
        }
        // Members of a later format this one does not know are checked and skipped.
        Ok(())
    })?;
    export.sync_all().map_err(io)?;
    // Each image's content was checked against the manifest; its name must
    // be that checksum too.
    for member in &manifest.members {
        if let Some(name) = member.path.strip_prefix(archive::BLOB_PREFIX)
            && name != member.sha256
        {
            return Err(ArchiveError::Corrupt(format!(
                "{} does not hold the image its name says",
                member.path
            ))
            .into());
        }
    }
    Ok(manifest)
}

fn copy_to(member: &mut dyn Read, path: &Path) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(staging_error)?;
    }
    let mut file = std::fs::File::create(path).map_err(staging_error)?;
    io::copy(member, &mut file).map_err(staging_error)?;
    // Images go live by a rename: on disk before the switch.
    file.sync_all().map_err(staging_error)
}

/// A failure to write the staging folder is the box's, not the archive's.
fn staging_error(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::InvalidData || e.kind() == io::ErrorKind::UnexpectedEof {
        return e;
    }
    io::Error::other(e)
}

fn is_sha256(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `secrets/...` or `acme/...`, plain names only.
fn safe_secret_path(rel: &str) -> Option<PathBuf> {
    let mut parts = rel.split('/');
    let top = parts.next()?;
    if !SECRET_DIRS.contains(&top) {
        return None;
    }
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty()
        || rest
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains('\\'))
    {
        return None;
    }
    Some(PathBuf::from(rel))
}

/// Writes the staged secrets over the state folder's (0600).
fn put_back_secrets(staged: &Path, state_dir: &Path) -> io::Result<bool> {
    let mut any = false;
    for top in SECRET_DIRS {
        for file in crate::support::files_under(&staged.join(top))? {
            let rel = file.strip_prefix(staged).map_err(io::Error::other)?;
            let target = state_dir.join(rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            crate::support::write_private(&target, &std::fs::read(&file)?)?;
            any = true;
        }
    }
    Ok(any)
}

/// Every table the manifest counted must hold as many records restored.
fn compare_counts(
    expected: &BTreeMap<String, u64>,
    restored: &BTreeMap<String, u64>,
) -> Result<(), ServiceError> {
    for (table, n) in expected {
        let got = restored.get(table).copied().unwrap_or(0);
        if got != *n {
            return Err(ServiceError::Internal(format!(
                "the restored table {table} holds {got} records where the archive has {n}"
            )));
        }
    }
    Ok(())
}
