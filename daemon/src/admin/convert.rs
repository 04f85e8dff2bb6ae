//! The admin socket's answers built from the service's types, once, for
//! the socket and for `fin restore --json` alike.

use fin_proto::admin::{ArchiveSummary, BackupInfo, Restored};

use crate::service::backup::{BackupFile, Manifest, Restored as ServiceRestored};

impl From<&Manifest> for ArchiveSummary {
    fn from(manifest: &Manifest) -> Self {
        let header = &manifest.header;
        ArchiveSummary {
            format: header.format,
            fin_version: header.fin_version.clone(),
            schema_version: header.schema_version,
            created_at: header.created_at.clone(),
            host: header.host.clone(),
            includes_secrets: header.includes_secrets,
            tables: manifest.tables.clone(),
            images: manifest.blob_count(),
            members: manifest.members.len(),
            content_bytes: manifest.content_bytes(),
        }
    }
}

impl From<&BackupFile> for BackupInfo {
    fn from(file: &BackupFile) -> Self {
        BackupInfo {
            name: file.name.clone(),
            path: file.path.display().to_string(),
            kind: file.kind.name().to_string(),
            created: file.created,
            size: file.size,
        }
    }
}

impl From<&ServiceRestored> for Restored {
    fn from(restored: &ServiceRestored) -> Self {
        Restored {
            archive: (&restored.manifest).into(),
            restore_point: restored.restore_point.as_ref().map(BackupInfo::from),
            schema_from: restored.schema_from,
            schema_now: restored.schema_now,
            secrets_restored: restored.secrets_restored,
        }
    }
}
