//! The daemon's backup folder: archives named
//! `fin-<UTC stamp>-<kind>.finbak`, written as `.partial` and renamed only
//! when complete and synced, so a file with the final name is whole.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Backups, Request, ServiceError};
use crate::archive::Manifest;
use crate::domain::retention::{self, Dated, Policy};

pub const EXTENSION: &str = ".finbak";
const PARTIAL: &str = ".partial";

/// Why a backup in the folder was taken; pruning treats each differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `finctl backup`: never pruned.
    Manual,
    /// By `backup.schedule`: pruned by the retention policy.
    Scheduled,
    /// Before migrations ran: the newest few are kept.
    PreUpgrade,
    /// The data a restore replaced: the newest few are kept.
    PreRestore,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Manual => "manual",
            Kind::Scheduled => "scheduled",
            Kind::PreUpgrade => "pre-upgrade",
            Kind::PreRestore => "pre-restore",
        }
    }

    fn parse(name: &str) -> Option<Kind> {
        [
            Kind::Manual,
            Kind::Scheduled,
            Kind::PreUpgrade,
            Kind::PreRestore,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// How many pre-upgrade and pre-restore archives pruning keeps.
const KEEP_SAFETY: usize = 3;

/// An archive in the backup folder.
#[derive(Debug, Clone, Serialize)]
pub struct BackupFile {
    pub name: String,
    pub path: PathBuf,
    pub kind: Kind,
    /// Seconds since 1970 (from the name).
    pub created: i64,
    pub size: u64,
}

impl Backups {
    /// Takes a backup into the backup folder.
    pub async fn create_in_folder(
        &self,
        kind: Kind,
        request: &Request,
    ) -> Result<(BackupFile, Manifest), ServiceError> {
        let started = std::time::Instant::now();
        let result = self.create_in_folder_unreported(kind, request).await;
        self.report(
            kind.name(),
            started,
            result
                .as_ref()
                .map(|(file, _)| (file.name.as_str(), file.size)),
        );
        result
    }

    async fn create_in_folder_unreported(
        &self,
        kind: Kind,
        request: &Request,
    ) -> Result<(BackupFile, Manifest), ServiceError> {
        let dir = &self.settings.dir;
        create_folder(dir)?;
        let now = crate::support::unix_now();
        let mut name = format!(
            "fin-{}-{}{EXTENSION}",
            crate::support::file_stamp(now),
            kind.name()
        );
        // Two in one second (a manual one beside a scheduled one): number them.
        let mut n = 1;
        while dir.join(&name).exists() || dir.join(format!("{name}{PARTIAL}")).exists() {
            n += 1;
            name = format!(
                "fin-{}-{}-{n}{EXTENSION}",
                crate::support::file_stamp(now),
                kind.name()
            );
        }
        let path = dir.join(&name);
        let partial = dir.join(format!("{name}{PARTIAL}"));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&partial)
            .map_err(super::snapshot::write_error)?;
        let written = self
            .write(std::io::BufWriter::with_capacity(1 << 20, file), request)
            .await;
        let finished = written.and_then(|(out, manifest)| {
            let file = out
                .into_inner()
                .map_err(|e| super::snapshot::write_error(e.into_error()))?;
            file.sync_all().map_err(super::snapshot::write_error)?;
            std::fs::rename(&partial, &path).map_err(super::snapshot::write_error)?;
            sync_folder(dir);
            Ok(manifest)
        });
        let manifest = match finished {
            Ok(manifest) => manifest,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Ok((
            BackupFile {
                name,
                path,
                kind,
                created: now,
                size,
            },
            manifest,
        ))
    }

    /// The newest archive of `kind` in `dir` (no daemon needed).
    pub fn newest_of_kind(dir: &Path, kind: Kind) -> Option<BackupFile> {
        list_folder(dir)
            .ok()?
            .into_iter()
            .filter(|f| f.kind == kind)
            .max_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)))
    }

    /// The archives in the backup folder, oldest first.
    pub fn list(&self) -> Result<Vec<BackupFile>, ServiceError> {
        list_folder(&self.settings.dir)
            .map_err(|e| ServiceError::Internal(format!("cannot list the backup folder: {e}")))
    }

    /// Removes what the policy does not keep: scheduled archives by the
    /// grandfather-father-son policy, pre-upgrade and pre-restore archives
    /// beyond the newest few; manual ones are left alone. `dry_run` only
    /// says what would go. Gives the archives removed (or to remove).
    pub fn prune(
        &self,
        policy: Policy,
        offset: time::UtcOffset,
        dry_run: bool,
    ) -> Result<Vec<BackupFile>, ServiceError> {
        let all = self.list()?;
        let doomed = to_prune(&all, policy, offset);
        if !dry_run {
            for file in &doomed {
                std::fs::remove_file(&file.path).map_err(|e| {
                    ServiceError::Internal(format!("cannot remove {}: {e}", file.path.display()))
                })?;
            }
            sync_folder(&self.settings.dir);
        }
        Ok(doomed)
    }

    /// [`Backups::prune`] with the configured policy, days counted in UTC.
    pub fn prune_by_policy(&self, dry_run: bool) -> Result<Vec<BackupFile>, ServiceError> {
        self.prune(self.settings.retention, time::UtcOffset::UTC, dry_run)
    }

    /// Removes `.partial` files a killed backup left (at start).
    pub fn remove_partials(&self) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.settings.dir) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().ends_with(PARTIAL)
                && std::fs::remove_file(entry.path()).is_ok()
            {
                removed += 1;
            }
        }
        removed
    }
}

/// The archives the policy lets go.
fn to_prune(all: &[BackupFile], policy: Policy, offset: time::UtcOffset) -> Vec<BackupFile> {
    let mut doomed = Vec::new();
    let scheduled: Vec<&BackupFile> = all.iter().filter(|f| f.kind == Kind::Scheduled).collect();
    let dated: Vec<Dated> = scheduled
        .iter()
        .map(|f| Dated {
            date: time::OffsetDateTime::from_unix_timestamp(f.created)
                .map(|t| t.to_offset(offset).date())
                .unwrap_or(time::Date::MIN),
            order: f.created,
        })
        .collect();
    let kept = retention::keep(&dated, policy);
    doomed.extend(
        scheduled
            .iter()
            .enumerate()
            .filter(|(i, _)| !kept.contains(i))
            .map(|(_, f)| (*f).clone()),
    );
    for kind in [Kind::PreUpgrade, Kind::PreRestore] {
        let mut of_kind: Vec<&BackupFile> = all.iter().filter(|f| f.kind == kind).collect();
        of_kind.sort_by_key(|f| std::cmp::Reverse((f.created, f.name.clone())));
        doomed.extend(of_kind.into_iter().skip(KEEP_SAFETY).cloned());
    }
    doomed.sort_by(|a, b| a.name.cmp(&b.name));
    doomed
}

fn create_folder(dir: &Path) -> Result<(), ServiceError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| {
            ServiceError::Internal(format!(
                "cannot create the backup folder {}: {e}",
                dir.display()
            ))
        })
}

fn sync_folder(dir: &Path) {
    if let Ok(folder) = std::fs::File::open(dir) {
        let _ = folder.sync_all();
    }
}

fn list_folder(dir: &Path) -> std::io::Result<Vec<BackupFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((created, kind)) = parse_name(&name) else {
            continue;
        };
        let meta = entry.metadata()?;
        if meta.is_file() {
            files.push(BackupFile {
                name,
                path: entry.path(),
                kind,
                created,
                size: meta.len(),
            });
        }
    }
    files.sort_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)));
    Ok(files)
}

/// `fin-20261202T030000Z-scheduled[-2].finbak` → its time and kind.
fn parse_name(name: &str) -> Option<(i64, Kind)> {
    let rest = name.strip_prefix("fin-")?.strip_suffix(EXTENSION)?;
    let (stamp, kind) = rest.split_once('-')?;
    let kind = match kind.rsplit_once('-') {
        Some((kind, n)) if n.bytes().all(|b| b.is_ascii_digit()) && Kind::parse(kind).is_some() => {
            kind
        }
        _ => kind,
    };
    Some((parse_stamp(stamp)?, Kind::parse(kind)?))
}

/// `20261202T030000Z` → seconds since 1970.
fn parse_stamp(stamp: &str) -> Option<i64> {
    let b = stamp.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let text = stamp.get(range)?;
        text.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| text.parse().ok())?
    };
    let month = time::Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(num(0..4)? as i32, month, num(6..8)? as u8).ok()?;
    let at = date
        .with_hms(num(9..11)? as u8, num(11..13)? as u8, num(13..15)? as u8)
        .ok()?;
    Some(at.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_others_are_ignored() {
        let stamp = crate::support::file_stamp(1_764_644_400);
        let name = format!("fin-{stamp}-pre-upgrade{EXTENSION}");
        assert_eq!(parse_name(&name), Some((1_764_644_400, Kind::PreUpgrade)));
        let second = format!("fin-{stamp}-manual-2{EXTENSION}");
        assert_eq!(parse_name(&second), Some((1_764_644_400, Kind::Manual)));
        assert_eq!(parse_name(&format!("{name}.partial")), None);
        assert_eq!(parse_name("notes.txt"), None);
        assert_eq!(parse_name(&format!("fin-{stamp}-weird{EXTENSION}")), None);
    }

    #[test]
    fn pruning_spares_manual_archives_and_the_newest_safety_copies() {
        let day = 86_400;
        let mut all = Vec::new();
        for n in 0..40 {
            for kind in [Kind::Scheduled, Kind::Manual, Kind::PreUpgrade] {
                all.push(BackupFile {
                    name: format!("{n:03}-{}", kind.name()),
                    path: PathBuf::from("x"),
                    kind,
                    created: 1_764_000_000 + n * day,
                    size: 1,
                });
            }
        }
        let policy = Policy {
            daily: 7,
            weekly: 0,
            monthly: 0,
        };
        let doomed = to_prune(&all, policy, time::UtcOffset::UTC);
        assert!(doomed.iter().all(|f| f.kind != Kind::Manual));
        assert_eq!(
            doomed.iter().filter(|f| f.kind == Kind::Scheduled).count(),
            33
        );
        assert_eq!(
            doomed.iter().filter(|f| f.kind == Kind::PreUpgrade).count(),
            37
        );
        assert!(
            !doomed
                .iter()
                .any(|f| f.name == "039-scheduled" || f.name == "039-pre-upgrade")
        );
    }
}
