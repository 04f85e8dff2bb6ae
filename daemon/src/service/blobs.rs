//! Receipt images on disk, addressed by SHA-256: `blobs/<first two hex>/<sha256>`.
//! Written to a temporary file, flushed and renamed into place, so a blob is
//! either whole or absent, whatever happens to the process or the disk.

use std::path::{Path, PathBuf};

use super::ServiceError;
use crate::support;

#[derive(Debug, Clone)]
pub struct Blobs {
    dir: PathBuf,
}

impl Blobs {
    pub fn new(dir: PathBuf) -> Self {
        Blobs { dir }
    }

    fn path(&self, sha256: &str) -> Result<PathBuf, ServiceError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServiceError::Internal(format!("bad blob name {sha256:?}")));
        }
        Ok(self.dir.join(&sha256[..2]).join(sha256))
    }

    /// Stores `bytes` under `sha256` unless that blob already exists.
    pub async fn put(&self, sha256: &str, bytes: bytes::Bytes) -> Result<(), ServiceError> {
        let path = self.path(sha256)?;
        tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
            .map_err(|e| match e.raw_os_error() {
                Some(28) => ServiceError::InsufficientStorage(
                    "the server's disk is full; the receipt was not stored".into(),
                ),
                _ => ServiceError::Internal(format!("cannot store an image: {e}")),
            })
    }

    pub async fn get(&self, sha256: &str) -> Result<Vec<u8>, ServiceError> {
        let path = self.path(sha256)?;
        tokio::fs::read(&path)
            .await
            .map_err(|e| ServiceError::Internal(format!("cannot read {}: {e}", path.display())))
    }

    /// Removes a blob; a missing one is not an error.
    pub async fn remove(&self, sha256: &str) -> Result<(), ServiceError> {
        let path = self.path(sha256)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ServiceError::Internal(format!(
                "cannot remove {}: {e}",
                path.display()
            ))),
        }
    }
}

/// Content-addressed: an existing blob already holds these bytes.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("blob path has no folder"))?;
    std::fs::create_dir_all(dir)?;
    // The rename reaches the disk before the database says the blob exists.
    support::write_atomically(path, bytes, 0o600)
}
