//! Receipt images on disk, addressed by SHA-256: `blobs/<first two hex>/<sha256>`.
//! Written to a temporary file, flushed and renamed into place, so a blob is
//! either whole or absent, whatever happens to the process or the disk.
//!
//! A blob is never simply unlinked: an upload of the same image may be on
//! its way. It is moved aside, the database is asked again, and it goes
//! back if a receipt has come to use it ([`Blobs::release`] when a receipt
//! is deleted). The collector ([`Blobs::collect`]) does the same for blobs
//! no receipt uses once they have been left alone for a grace period: those
//! of deleted accounts, and orphans of a crash between disk and database.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::ServiceError;
use crate::store::Store;
use crate::support;

/// Where the collector moves a blob while it looks again (inside the blob folder).
const TRASH: &str = ".trash";

/// What one collection did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Collected {
    /// Unused blobs removed.
    pub removed: usize,
    /// Unused blobs kept because they were written or touched within the grace.
    pub recent: usize,
}

#[derive(Debug, Clone)]
pub struct Blobs {
    dir: PathBuf,
    /// Held (shared) by every backup in progress: while one is, no blob is
    /// removed, so each image the backup's snapshot refers to is still
    /// there when the backup reaches it. Removal takes it exclusively.
    pins: Arc<tokio::sync::RwLock<()>>,
}

/// Keeps every blob in place while held (see [`Blobs::pin`]).
pub type Pin = tokio::sync::OwnedRwLockReadGuard<()>;

/// A blob in the folder, as a backup lists it.
#[derive(Debug, Clone)]
pub struct BlobFile {
    pub sha256: String,
    pub path: PathBuf,
    pub size: u64,
}

impl Blobs {
    pub fn new(dir: PathBuf) -> Self {
        Blobs {
            dir,
            pins: Arc::new(tokio::sync::RwLock::new(())),
        }
    }

    /// Holds every blob in place until the pin is dropped (a removal under
    /// way finishes first).
    pub async fn pin(&self) -> Pin {
        self.pins.clone().read_owned().await
    }

    /// Every blob in the folder, by name (blocking: for a backup's thread).
    pub fn list_blocking(&self) -> std::io::Result<Vec<BlobFile>> {
        let mut blobs = Vec::new();
        let shards = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(blobs),
            Err(e) => return Err(e),
        };
        for shard in shards {
            let shard = shard?;
            let name = shard.file_name().to_string_lossy().into_owned();
            if name.len() != 2 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            for entry in std::fs::read_dir(shard.path())? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if !is_blob_name(&name) {
                    continue;
                }
                let meta = entry.metadata()?;
                if meta.is_file() {
                    blobs.push(BlobFile {
                        sha256: name,
                        path: entry.path(),
                        size: meta.len(),
                    });
                }
            }
        }
        blobs.sort_by(|a, b| a.sha256.cmp(&b.sha256));
        Ok(blobs)
    }

    /// Moves a file whose content is known to hash to `sha256` (a restore
    /// checked it) into place; one already there holds the same bytes.
    pub fn adopt_blocking(&self, sha256: &str, from: &Path) -> std::io::Result<()> {
        let path = self.path(sha256).map_err(std::io::Error::other)?;
        if let Ok(file) = std::fs::File::open(&path) {
            // Touched: the collector leaves it alone for its grace.
            return file.set_modified(SystemTime::now());
        }
        let shard = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(shard)?;
        std::fs::rename(from, &path)?;
        std::fs::File::open(shard)?.sync_all()
    }

    fn path(&self, sha256: &str) -> Result<PathBuf, ServiceError> {
        if !is_blob_name(sha256) {
            return Err(ServiceError::Internal(format!("bad blob name {sha256:?}")));
        }
        Ok(self.dir.join(&sha256[..2]).join(sha256))
    }

    /// Stores `bytes` under `sha256`. A blob that exists already is touched
    /// instead: it is about to be used, and the collector leaves blobs
    /// touched within its grace alone. Upload calls this before the receipt
    /// is created and again after, so a blob the collector took in between
    /// (it was unused then) is written again.
    pub async fn put(&self, sha256: &str, bytes: bytes::Bytes) -> Result<(), ServiceError> {
        let path = self.path(sha256)?;
        tokio::task::spawn_blocking(move || write_or_touch(&path, &bytes))
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
        self.find(sha256).await?.ok_or_else(|| {
            ServiceError::Internal(format!("blob {sha256} is missing from the blob folder"))
        })
    }

    /// The blob, or `None` when there is none by that name.
    pub async fn find(&self, sha256: &str) -> Result<Option<Vec<u8>>, ServiceError> {
        let path = self.path(sha256)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ServiceError::Internal(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }

    /// Removes the blobs no receipt uses that nobody wrote or touched for
    /// `grace`. An unused blob is first moved aside, then the database is
    /// asked again, and the blob goes back if a receipt came to use it
    /// meanwhile; an upload that finds it gone writes it again (see
    /// [`Blobs::put`]). Blobs left aside by a collection that was cut short
    /// are settled first.
    pub async fn collect(&self, store: &Store, grace: Duration) -> Result<Collected, ServiceError> {
        let Ok(_removing) = self.pins.clone().try_write_owned() else {
            tracing::debug!("a backup is running; blob collection waits for the next round");
            return Ok(Collected::default());
        };
        let trash = self.dir.join(TRASH);
        for name in blob_names(&trash).await? {
            self.settle(store, &name).await?;
        }
        let used = store.referenced_images().await?;
        let cutoff = SystemTime::now()
            .checked_sub(grace)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut collected = Collected::default();
        for shard in shard_folders(&self.dir).await? {
            for name in entry_names(&shard).await? {
                let path = shard.join(&name);
                let old = tokio::fs::metadata(&path)
                    .await
                    .and_then(|m| m.modified())
                    .is_ok_and(|modified| modified <= cutoff);
                if is_leftover_write(&name) {
                    // A write the process did not live to finish.
                    if old {
                        remove_if_there(&path).await?;
                    }
                    continue;
                }
                if !is_blob_name(&name) || used.contains(&name) {
                    continue;
                }
                if !old {
                    collected.recent += 1;
                    continue;
                }
                // One blob that cannot be collected does not stop the others.
                match self.collect_one(store, &path, &name).await {
                    Ok(true) => collected.removed += 1,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(blob = %name, error = %e, "cannot collect an unused image; trying again next time")
                    }
                }
            }
        }
        Ok(collected)
    }

    /// Removes the blob `sha256` now if no receipt uses it: the way a
    /// deleted receipt gives its image back. Safe against an upload of the
    /// same image on its way, as a collection is.
    pub async fn release(&self, store: &Store, sha256: &str) -> Result<(), ServiceError> {
        // During a backup the blob stays; the collector takes it later.
        let Ok(_removing) = self.pins.clone().try_write_owned() else {
            return Ok(());
        };
        let path = self.path(sha256)?;
        if !store.image_in_use(sha256).await? {
            self.collect_one(store, &path, sha256).await?;
        }
        Ok(())
    }

    /// Moves one unused blob aside and settles it; true when it was removed.
    async fn collect_one(
        &self,
        store: &Store,
        path: &Path,
        name: &str,
    ) -> Result<bool, ServiceError> {
        let trash = self.dir.join(TRASH);
        tokio::fs::create_dir_all(&trash).await.map_err(io_error)?;
        match tokio::fs::rename(path, trash.join(name)).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_error(e)),
        }
        Ok(!self.settle(store, name).await?)
    }

    /// Decides about a blob moved aside: back in place when a receipt uses
    /// it (unless an upload wrote it again already), removed otherwise.
    /// True when it went back.
    async fn settle(&self, store: &Store, name: &str) -> Result<bool, ServiceError> {
        let aside = self.dir.join(TRASH).join(name);
        if store.image_in_use(name).await? {
            let path = self.path(name)?;
            if tokio::fs::try_exists(&path).await.unwrap_or(false) {
                remove_if_there(&aside).await?;
            } else {
                tokio::fs::rename(&aside, &path).await.map_err(io_error)?;
            }
            return Ok(true);
        }
        remove_if_there(&aside).await?;
        Ok(false)
    }
}

fn is_blob_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The temporary file of a write (`support::write_atomically`).
fn is_leftover_write(name: &str) -> bool {
    name.starts_with(".fin-") && name.ends_with(".tmp")
}

fn io_error(e: std::io::Error) -> ServiceError {
    ServiceError::Internal(format!("blob collection: {e}"))
}

async fn remove_if_there(path: &Path) -> Result<(), ServiceError> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(e)),
        _ => Ok(()),
    }
}

/// The `<aa>` folders of the blob folder.
async fn shard_folders(dir: &Path) -> Result<Vec<PathBuf>, ServiceError> {
    let names = entry_names(dir).await?;
    Ok(names
        .into_iter()
        .filter(|name| name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|name| dir.join(name))
        .collect())
}

/// The names of the blobs in `dir` (temporary files of writes in progress
/// are not blobs).
async fn blob_names(dir: &Path) -> Result<Vec<String>, ServiceError> {
    let names = entry_names(dir).await?;
    Ok(names.into_iter().filter(|n| is_blob_name(n)).collect())
}

/// The names in `dir` that are text; none when it does not exist.
async fn entry_names(dir: &Path) -> Result<Vec<String>, ServiceError> {
    let mut names = Vec::new();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
        Err(e) => return Err(io_error(e)),
    };
    while let Some(entry) = entries.next_entry().await.map_err(io_error)? {
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

/// Content-addressed: an existing blob already holds these bytes, and is
/// only touched.
fn write_or_touch(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match std::fs::File::open(path) {
        Ok(file) => return file.set_modified(SystemTime::now()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("blob path has no folder"))?;
    std::fs::create_dir_all(dir)?;
    // The rename reaches the disk before the database says the blob exists.
    support::write_atomically(path, bytes, 0o600)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ReceiptRecord;

    const IMAGE: &[u8] = b"an image, as far as the blob store cares";

    fn sha(bytes: &[u8]) -> String {
        support::sha256_hex(bytes)
    }

    fn receipt(rid: &str, sha256: &str) -> ReceiptRecord {
        ReceiptRecord {
            rid: rid.into(),
            owner_uid: "alice".into(),
            sha256: sha256.into(),
            content_type: "image/png".into(),
            byte_size: 1,
            width: 1,
            height: 1,
            created_at: 1,
            updated_at: 1,
            receipt_date: None,
            extracted: None,
            corrected: None,
            ocr_page: None,
        }
    }

    async fn setup() -> (tempfile::TempDir, Blobs, Store) {
        let dir = tempfile::tempdir().expect("dir");
        let blobs = Blobs::new(dir.path().join("blobs"));
        let store = Store::open("mem://", "fin", "fin").await.expect("store");
        (dir, blobs, store)
    }

    fn exists(blobs: &Blobs, sha256: &str) -> bool {
        blobs.path(sha256).expect("path").exists()
    }

    #[tokio::test]
    async fn only_unused_blobs_left_alone_for_the_grace_are_removed() {
        let (_dir, blobs, store) = setup().await;
        let (used, orphan) = (sha(IMAGE), sha(b"an orphan"));
        blobs.put(&used, IMAGE.into()).await.expect("put");
        blobs.put(&orphan, "an orphan".into()).await.expect("put");
        store
            .create_receipt(&receipt("r1", &used), 1)
            .await
            .expect("receipt");

        let kept = blobs
            .collect(&store, Duration::from_secs(3600))
            .await
            .expect("collect");
        assert_eq!(
            kept,
            Collected {
                removed: 0,
                recent: 1
            }
        );
        assert!(
            exists(&blobs, &orphan),
            "young: a crash may have come between blob and record, or an upload is on its way"
        );

        let collected = blobs
            .collect(&store, Duration::ZERO)
            .await
            .expect("collect");
        assert_eq!(
            collected,
            Collected {
                removed: 1,
                recent: 0
            }
        );
        assert!(!exists(&blobs, &orphan));
        assert!(exists(&blobs, &used), "a used blob is never removed");
        assert_eq!(blobs.get(&used).await.expect("get"), IMAGE);
    }

    #[tokio::test]
    async fn a_released_blob_goes_at_once_unless_a_receipt_uses_it() {
        let (_dir, blobs, store) = setup().await;
        let (used, unused) = (sha(IMAGE), sha(b"unused"));
        blobs.put(&used, IMAGE.into()).await.expect("put");
        blobs.put(&unused, "unused".into()).await.expect("put");
        store
            .create_receipt(&receipt("r1", &used), 1)
            .await
            .expect("receipt");
        blobs.release(&store, &used).await.expect("release");
        blobs.release(&store, &unused).await.expect("release");
        assert!(exists(&blobs, &used));
        assert!(!exists(&blobs, &unused));
        blobs
            .release(&store, &unused)
            .await
            .expect("a missing blob is no error");
    }

    #[tokio::test]
    async fn a_write_cut_short_by_a_crash_is_cleared_after_the_grace() {
        let (_dir, blobs, store) = setup().await;
        let image = sha(IMAGE);
        blobs.put(&image, IMAGE.into()).await.expect("put");
        store
            .create_receipt(&receipt("r1", &image), 1)
            .await
            .expect("receipt");
        let shard = blobs
            .path(&image)
            .expect("path")
            .parent()
            .expect("shard")
            .to_path_buf();
        let leftover = shard.join(".fin-Ab12Cd.tmp");
        std::fs::write(&leftover, b"half an image").expect("leftover");
        blobs
            .collect(&store, Duration::from_secs(3600))
            .await
            .expect("collect");
        assert!(leftover.exists(), "it may be a write in progress");
        blobs
            .collect(&store, Duration::ZERO)
            .await
            .expect("collect");
        assert!(!leftover.exists());
        assert!(exists(&blobs, &image));
    }

    #[tokio::test]
    async fn an_upload_racing_the_collector_keeps_its_image() {
        let (_dir, blobs, store) = setup().await;
        let image = sha(IMAGE);
        // A receipt was deleted: its image is unused and old.
        blobs.put(&image, IMAGE.into()).await.expect("put");
        // An upload of the same image puts it (a touch), and the collector
        // runs before the upload has created its receipt: even with no
        // grace it takes the blob, which is unused at that moment.
        blobs.put(&image, IMAGE.into()).await.expect("first put");
        blobs
            .collect(&store, Duration::ZERO)
            .await
            .expect("collect");
        assert!(!exists(&blobs, &image));
        store
            .create_receipt(&receipt("r1", &image), 1)
            .await
            .expect("receipt");
        blobs.put(&image, IMAGE.into()).await.expect("second put");
        assert_eq!(blobs.get(&image).await.expect("the image is there"), IMAGE);
        assert_eq!(
            blobs
                .collect(&store, Duration::ZERO)
                .await
                .expect("collect")
                .removed,
            0
        );
        assert!(exists(&blobs, &image));
    }

    #[tokio::test]
    async fn a_blob_left_aside_by_a_cut_short_collection_is_settled() {
        let (_dir, blobs, store) = setup().await;
        let (used, unused) = (sha(IMAGE), sha(b"unused"));
        let trash = blobs.dir.join(TRASH);
        std::fs::create_dir_all(&trash).expect("trash");
        std::fs::write(trash.join(&used), IMAGE).expect("aside");
        std::fs::write(trash.join(&unused), b"unused").expect("aside");
        store
            .create_receipt(&receipt("r1", &used), 1)
            .await
            .expect("receipt");
        std::fs::create_dir_all(blobs.path(&used).expect("path").parent().expect("shard"))
            .expect("shard");

        blobs
            .collect(&store, Duration::from_secs(3600))
            .await
            .expect("collect");
        assert_eq!(blobs.get(&used).await.expect("put back"), IMAGE);
        assert!(!trash.join(&unused).exists(), "an unused one is removed");
        assert!(!trash.join(&used).exists());
    }
}
