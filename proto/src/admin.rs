//! The admin socket API (`finctl` <-> daemon): HTTP/1.1 with JSON bodies.

use serde::{Deserialize, Serialize};

use crate::Listeners;

/// Path of the status endpoint on the admin socket.
pub const STATUS_PATH: &str = "/v1/status";

/// What `finctl status` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub version: String,
    pub pid: u32,
    /// Seconds since the daemon started.
    pub uptime_seconds: u64,
    /// Unix time (seconds) at which the daemon started.
    pub started_at: i64,
    pub schema: SchemaStatus,
    /// Database URL with any credentials removed.
    pub database_url: String,
    pub tls: TlsStatus,
    pub listeners: Listeners,
    /// Backups: the last one, the last failure, the next scheduled one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupStatus>,
}

/// What the daemon knows of backups since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupStatus {
    /// Unix seconds.
    pub last_success_at: Option<i64>,
    pub last_success: Option<String>,
    pub last_failure_at: Option<i64>,
    pub last_failure: Option<String>,
    /// Scheduled backups missed because the daemon was not running.
    pub missed: u64,
    pub next_scheduled_at: Option<i64>,
    /// The newest archive in the backup folder.
    pub newest_archive: Option<BackupInfo>,
}

/// Applied and supported schema versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaStatus {
    /// Version recorded in the database.
    pub applied: u32,
    /// Newest version this daemon knows.
    pub latest: u32,
}

/// The certificate the HTTPS listener currently serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsStatus {
    /// `self-signed`, `files` or `acme`.
    pub mode: String,
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    /// Unix time (seconds).
    pub not_before: i64,
    /// Unix time (seconds).
    pub not_after: i64,
    /// SHA-256 of the leaf certificate (DER), colon-separated hex.
    pub fingerprint_sha256: String,
    /// In `acme` mode: the state of ordering and renewal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme: Option<AcmeStatus>,
}

/// Certificates from an ACME CA: what is served, when it renews, what failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeStatus {
    /// The CA's directory URL.
    pub directory: String,
    pub domains: Vec<String>,
    /// Unix seconds; `None` until the first certificate from the CA is served.
    pub issued_not_after: Option<i64>,
    pub next_renewal: Option<i64>,
    pub last_attempt: Option<i64>,
    pub last_error: Option<String>,
    /// An order is running now.
    pub ordering: bool,
}

/// Error body of every non-2xx admin response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminError {
    /// Stable machine-readable code, e.g. `forbidden`, `not_found`.
    pub code: String,
    /// What went wrong and what to do about it.
    pub message: String,
}

/// Path of the users collection on the admin socket.
pub const USERS_PATH: &str = "/v1/users";

/// `POST /v1/users`: create an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateUser {
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    /// `admin`, `user` or `guest`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::Role))]
    pub role: String,
    /// 12 to 1024 characters, and not easily guessed.
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 1024))]
    pub password: String,
}

/// An account as shown to operators (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub role: String,
    pub disabled: bool,
    /// Unix time (seconds).
    pub created_at: i64,
    pub last_login_at: Option<i64>,
    pub locked_until: Option<i64>,
}

/// `POST`: make a new JWT signing secret (the old one verifies until its tokens expire).
pub const ROTATE_JWT_PATH: &str = "/v1/secrets/jwt/rotate";

/// `POST` [`CertRenew`]: order a new ACME certificate now (mode `acme`).
pub const CERT_RENEW_PATH: &str = "/v1/cert/renew";
/// `POST`: read the certificate files again (mode `files`), like SIGHUP.
pub const CERT_RELOAD_PATH: &str = "/v1/cert/reload";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertRenew {
    /// Renew even when the certificate is not due yet.
    #[serde(default)]
    pub force: bool,
}

/// Answer of the certificate actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertAction {
    pub message: String,
}

/// Answer of [`ROTATE_JWT_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotated {
    /// Key id of the new secret (it appears as `kid` in new tokens).
    pub kid: String,
    /// Seconds during which tokens signed with the previous secret stay valid.
    pub previous_valid_for_seconds: u64,
}

/// `GET /v1/audit?since=UNIX&user=NAME&limit=N`: the audit trail, newest first.
pub const AUDIT_PATH: &str = "/v1/audit";

/// Body of `POST .../users/NAME/role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetRole {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::Role))]
    pub role: String,
}

/// Body of `POST .../users/NAME/password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetPassword {
    /// 12 to 1024 characters, and not easily guessed.
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 1024))]
    pub password: String,
}

/// `POST`: make an invitation code (body `api::CreateInvite`, answer `api::Invite`).
pub const INVITES_PATH: &str = "/v1/invites";

/// `GET`: the archives in the daemon's backup folder ([`BackupInfo`]s).
/// `POST` [`CreateBackup`]: take a backup, streamed back as the answer's
/// body (`application/octet-stream`), or written to the backup folder
/// (answer [`BackupCreated`]).
pub const BACKUPS_PATH: &str = "/v1/backups";
/// `POST` an archive as the body: check it whole, touching nothing
/// (answer [`ArchiveSummary`]).
pub const BACKUP_VERIFY_PATH: &str = "/v1/backups/verify";
/// `POST` [`Prune`]: remove what the retention policy does not keep
/// (answer [`Pruned`]).
pub const BACKUP_PRUNE_PATH: &str = "/v1/backups/prune";
/// `POST` an archive as the body: restore the box to it (answer [`Restored`]).
pub const RESTORE_PATH: &str = "/v1/restore";
/// The passphrase of an archive sent as a body, hex-encoded (UTF-8).
pub const PASSPHRASE_HEADER: &str = "fin-passphrase";

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateBackup {
    /// Encrypt the archive with this passphrase.
    #[serde(default)]
    pub passphrase: Option<String>,
    /// Put the JWT signing secret and the ACME account in (needs a passphrase).
    #[serde(default)]
    pub include_secrets: bool,
    /// Write it to the daemon's backup folder instead of answering with it.
    #[serde(default)]
    pub to_folder: bool,
    /// A pre-upgrade backup (to the folder only): what `finctl upgrade
    /// rollback` restores; the package scripts take one before an upgrade.
    #[serde(default)]
    pub pre_upgrade: bool,
}

/// Written out without the passphrase, so no log or panic message shows it.
impl std::fmt::Debug for CreateBackup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateBackup")
            .field(
                "passphrase",
                &self.passphrase.as_ref().map(|_| "<redacted>"),
            )
            .field("include_secrets", &self.include_secrets)
            .field("to_folder", &self.to_folder)
            .field("pre_upgrade", &self.pre_upgrade)
            .finish()
    }
}

/// An archive in the daemon's backup folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupInfo {
    pub name: String,
    pub path: String,
    /// `manual`, `scheduled`, `pre-upgrade` or `pre-restore`.
    pub kind: String,
    /// Unix time (seconds).
    pub created: i64,
    pub size: u64,
}

/// What an archive holds, from its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveSummary {
    pub format: u32,
    pub fin_version: String,
    pub schema_version: u32,
    pub created_at: String,
    pub host: String,
    pub includes_secrets: bool,
    /// Records per table.
    pub tables: std::collections::BTreeMap<String, u64>,
    /// Receipt images.
    pub images: usize,
    pub members: usize,
    /// Bytes of all members, uncompressed.
    pub content_bytes: u64,
}

/// Answer of a backup written to the folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupCreated {
    pub file: BackupInfo,
    pub archive: ArchiveSummary,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prune {
    /// Only say what would be removed.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pruned {
    pub removed: Vec<BackupInfo>,
    pub dry_run: bool,
}

/// Answer of [`RESTORE_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restored {
    pub archive: ArchiveSummary,
    /// The archive of the data the restore replaced.
    pub restore_point: Option<BackupInfo>,
    /// The archive's schema version; migrated to `schema_now` when older.
    pub schema_from: u32,
    pub schema_now: u32,
    /// Secrets came back too: they take effect when the daemon restarts.
    pub secrets_restored: bool,
}

/// `GET`: versions, schema, and the last pre-upgrade backup ([`UpgradeStatus`]).
pub const UPGRADE_PATH: &str = "/v1/upgrade";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeStatus {
    /// The running daemon's version.
    pub fin_version: String,
    pub schema_applied: u32,
    pub schema_latest: u32,
    /// Migrations not applied (none while a daemon runs: it applies them at start).
    pub pending: Vec<String>,
    /// The newest pre-upgrade archive in the backup folder.
    pub last_pre_upgrade_backup: Option<BackupInfo>,
    /// The last start that migrated the data.
    pub last_upgrade: Option<LastUpgrade>,
}

/// What a start that migrated the data recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastUpgrade {
    /// Unix seconds.
    pub at: i64,
    /// The fin that migrated.
    pub fin_version: String,
    pub schema_from: u32,
    pub schema_to: u32,
    /// The pre-upgrade archive taken first (in the backup folder).
    pub backup: String,
}

/// What `fin upgrade-check --json` prints: whether the installed binary can
/// run on the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeCheck {
    pub fin_version: String,
    /// The schema of the data (0: no data yet).
    pub schema_applied: u32,
    /// The newest schema this binary knows.
    pub schema_latest: u32,
    /// Migrations this binary would apply at start.
    pub pending: Vec<String>,
    /// Whether this binary can run on the data.
    pub can_run: bool,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_request_never_shows_its_passphrase() {
        let request = CreateBackup {
            passphrase: Some("correct horse battery staple".into()),
            include_secrets: true,
            ..CreateBackup::default()
        };
        let shown = format!("{request:?}");
        assert!(!shown.contains("horse"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
