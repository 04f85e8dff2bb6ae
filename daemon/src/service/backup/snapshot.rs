//! Writing an archive of the running box: the database export (one point
//! in time) streamed into parts, then every receipt image, then the
//! secrets when asked for. Memory stays flat: at most a few parts of the
//! export are held at once, images are copied file by file.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::archive::Passphrase;

use super::{Backups, Request, ServiceError, check_request};
use crate::archive::{self, ArchiveWriter, Header, Manifest};
use crate::service::blobs::Blobs;

/// The export is gathered into members of about this size.
const PART: usize = 8 << 20;

/// What the async side hands the archive's thread.
enum Feed {
    Sql(Vec<u8>),
    /// The export ended whole, with its record counts.
    Done(BTreeMap<String, u64>),
}

/// The folders whose files are secrets (relative to the state folder).
pub(super) const SECRET_DIRS: &[&str] = &["secrets", "acme"];

impl Backups {
    /// Writes an archive of the box to `out` and gives `out` back (for the
    /// caller to sync) with the manifest written.
    pub async fn write<W: Write + Send + 'static>(
        &self,
        out: W,
        request: &Request,
    ) -> Result<(W, Manifest), ServiceError> {
        check_request(request)?;
        // Held until the archive is written: no image the snapshot refers
        // to can be removed before it is copied.
        let pin = self.blobs.pin().await;
        let header = Header {
            format: archive::FORMAT,
            fin_version: crate::VERSION.to_string(),
            schema_version: self.store.schema_version().await?,
            created_at: crate::support::rfc3339(crate::support::unix_now()),
            host: self.settings.host.clone(),
            includes_secrets: request.include_secrets,
        };
        let secrets = if request.include_secrets {
            secret_files(&self.settings.state_dir)
                .map_err(|e| ServiceError::Internal(format!("cannot list the secrets: {e}")))?
        } else {
            Vec::new()
        };
        let mut export = self.store.export().await?;
        let (feed, parts) = tokio::sync::mpsc::channel::<Feed>(4);
        let blobs = self.blobs.clone();
        let passphrase = request.passphrase.clone();
        let writer = tokio::task::spawn_blocking(move || {
            write_archive(out, header, passphrase.as_ref(), parts, &blobs, &secrets)
        });
        let mut failed = None;
        while let Some(part) = export.next_part().await {
            match part {
                Ok(sql) => {
                    if feed.send(Feed::Sql(sql)).await.is_err() {
                        break; // The writer stopped; its error says why.
                    }
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if failed.is_none() {
            let _ = feed.send(Feed::Done(export.counts().clone())).await;
        }
        drop(feed);
        let written = writer
            .await
            .map_err(|e| ServiceError::Internal(format!("the backup writer stopped: {e}")))?;
        drop(pin);
        if let Some(e) = failed {
            return Err(e.into());
        }
        written.map_err(write_error)
    }
}

fn write_archive<W: Write>(
    out: W,
    header: Header,
    passphrase: Option<&Passphrase>,
    mut parts: tokio::sync::mpsc::Receiver<Feed>,
    blobs: &Blobs,
    secrets: &[(String, PathBuf)],
) -> io::Result<(W, Manifest)> {
    let mut archive = ArchiveWriter::new(out, header, passphrase)?;
    let mut part = Vec::with_capacity(PART + (1 << 20));
    let mut number = 0;
    let mut flush = |archive: &mut ArchiveWriter<W>, part: &mut Vec<u8>| -> io::Result<()> {
        number += 1;
        archive.add_bytes(&format!("{}{number:06}.surql", archive::DB_PREFIX), part)?;
        part.clear();
        Ok(())
    };
    let counts = loop {
        match parts.blocking_recv() {
            Some(Feed::Sql(sql)) => {
                part.extend_from_slice(&sql);
                if part.len() >= PART {
                    flush(&mut archive, &mut part)?;
                }
            }
            Some(Feed::Done(counts)) => break counts,
            None => {
                return Err(io::Error::other(
                    "the database export stopped before its end",
                ));
            }
        }
    };
    if !part.is_empty() {
        flush(&mut archive, &mut part)?;
    }
    for blob in blobs.list_blocking()? {
        let file = std::fs::File::open(&blob.path)?;
        archive.add_reader(
            &format!("{}{}", archive::BLOB_PREFIX, blob.sha256),
            blob.size,
            file,
        )?;
    }
    for (name, path) in secrets {
        let bytes = std::fs::read(path)?;
        archive.add_bytes(&format!("{}{name}", archive::SECRET_PREFIX), &bytes)?;
    }
    archive.finish(counts)
}

/// The secret files, by their path under the state folder (`secrets/...`,
/// `acme/...`).
fn secret_files(state_dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    for dir in SECRET_DIRS {
        for path in crate::support::files_under(&state_dir.join(dir))? {
            let rel = path.strip_prefix(state_dir).map_err(io::Error::other)?;
            files.push((rel.to_string_lossy().into_owned(), path));
        }
    }
    Ok(files)
}

pub(super) fn write_error(e: io::Error) -> ServiceError {
    let no_room = matches!(e.raw_os_error(), Some(27 | 28 | 122))
        || matches!(
            e.kind(),
            io::ErrorKind::StorageFull | io::ErrorKind::FileTooLarge | io::ErrorKind::QuotaExceeded
        )
        || e.to_string().contains("No space left");
    if no_room {
        ServiceError::InsufficientStorage(format!(
            "the backup could not be written: the disk is full or the file too large ({e})"
        ))
    } else {
        ServiceError::Internal(format!("the backup could not be written: {e}"))
    }
}
