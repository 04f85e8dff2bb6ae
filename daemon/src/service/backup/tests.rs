//! Backups and restores against real (in-memory) databases and real files.

use std::collections::BTreeMap;

use crate::archive::Passphrase;

use super::*;
use crate::store::{TxnRecord, fixtures};

struct Box_ {
    backups: Backups,
    store: Store,
    blobs: Blobs,
    _dir: tempfile::TempDir,
}

fn settings(dir: &std::path::Path) -> BackupSettings {
    BackupSettings {
        dir: dir.join("backups"),
        state_dir: dir.to_path_buf(),
        host: "test".into(),
        retention: crate::domain::retention::Policy {
            daily: 7,
            weekly: 4,
            monthly: 12,
        },
    }
}

async fn new_box() -> Box_ {
    let store = Store::open("mem://", "fin", "fin").await.expect("store");
    let dir = tempfile::tempdir().expect("tempdir");
    let blobs = Blobs::new(dir.path().join("blobs"));
    let backups = Backups::new(store.clone(), blobs.clone(), settings(dir.path()));
    Box_ {
        backups,
        store,
        blobs,
        _dir: dir,
    }
}

/// A transaction of alice's book with this payee.
fn txn(tid: &str, payee: &str, amount: i64) -> TxnRecord {
    let mut t = fixtures::txn(tid, "a1", amount, None);
    t.payee = payee.into();
    t.payee_folded = payee.to_lowercase();
    t
}

/// A user, a book, an account, awkward payees and one image.
async fn fill(b: &Box_) {
    fixtures::user(&b.store, "alice").await;
    b.store
        .create_book("alice", "b1", "Home", "EUR", 1)
        .await
        .expect("book");
    b.store
        .create_account("alice", "b1", &fixtures::account("a1", "Checking"))
        .await
        .expect("account");
    let payees = [
        "O'Brien's \"shop\"",
        "{brace} [bracket] (paren)",
        "⟨angle⟩ `tick` \\ back\\slash",
        "line\nbreak",
        "Ünïcödé 🧾",
    ];
    for (n, payee) in payees.iter().enumerate() {
        b.store
            .create_transactions(
                "alice",
                "b1",
                &[txn(&format!("t{n}"), payee, -(n as i64) - 1)],
            )
            .await
            .expect("txn");
    }
    let image = b"not really a jpeg, but bytes".to_vec();
    b.blobs
        .put(&crate::support::sha256_hex(&image), image.into())
        .await
        .expect("blob");
}

fn payees(rows: &[TxnRecord]) -> Vec<(String, String, i64)> {
    let mut all: Vec<_> = rows
        .iter()
        .map(|t| (t.tid.clone(), t.payee.clone(), t.amount))
        .collect();
    all.sort();
    all
}

async fn all_txns(store: &Store) -> Vec<TxnRecord> {
    store
        .transactions(
            "alice",
            "b1",
            &crate::store::TxnFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("list")
}

#[tokio::test]
async fn a_backup_restored_on_another_box_holds_the_same_records_and_images() {
    let source = new_box().await;
    fill(&source).await;
    let (bytes, manifest) = source
        .backups
        .write(Vec::new(), &Request::default())
        .await
        .expect("backup");
    assert_eq!(manifest.tables["txn"], 5);
    assert_eq!(manifest.tables["user"], 1);
    assert_eq!(manifest.blob_count(), 1);

    let target = new_box().await;
    let restored = target
        .backups
        .restore(bytes.as_slice().to_vec().into_reader(), None, true)
        .await
        .expect("restore");
    assert_eq!(restored.schema_from, crate::store::LATEST_SCHEMA);
    assert!(restored.restore_point.is_some());
    assert_eq!(
        payees(&all_txns(&target.store).await),
        payees(&all_txns(&source.store).await)
    );
    assert_eq!(
        target.store.table_counts().await.expect("counts"),
        source.store.table_counts().await.expect("counts")
    );
    let blobs = target.blobs.list_blocking().expect("blobs");
    assert_eq!(blobs.len(), 1);
    assert_eq!(
        target.blobs.get(&blobs[0].sha256).await.expect("image"),
        b"not really a jpeg, but bytes"
    );
    assert!(!target.backups.maintenance().active());
}

#[tokio::test]
async fn restoring_takes_the_box_back_and_a_damaged_archive_changes_nothing() {
    let b = new_box().await;
    fill(&b).await;
    let (bytes, _) = b
        .backups
        .write(Vec::new(), &Request::default())
        .await
        .expect("backup");
    b.store
        .create_transactions("alice", "b1", &[txn("later", "After the backup", -9)])
        .await
        .expect("txn");
    assert_eq!(all_txns(&b.store).await.len(), 6);

    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x01;
    let err = b
        .backups
        .restore(damaged.into_reader(), None, true)
        .await
        .expect_err("damaged");
    assert_eq!(
        crate::service::Failure::code(&err),
        "backup_corrupt",
        "{err}"
    );
    assert_eq!(all_txns(&b.store).await.len(), 6, "untouched");
    assert!(
        b.backups.list().expect("list").is_empty(),
        "refused before a restore point"
    );

    let before = b.store.database();
    b.backups
        .restore(bytes.into_reader(), None, true)
        .await
        .expect("restore");
    assert_ne!(b.store.database(), before);
    assert_eq!(all_txns(&b.store).await.len(), 5);
    let points = b.backups.list().expect("list");
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].kind, Kind::PreRestore);
    // The restore point holds what was replaced.
    let file = std::fs::File::open(&points[0].path).expect("open");
    let manifest = b.backups.verify(file, None).await.expect("verify");
    assert_eq!(manifest.tables["txn"], 6);
    assert!(b.store.stale_databases().await.expect("stale").is_empty());
}

#[tokio::test]
async fn secrets_travel_only_encrypted_and_only_when_asked_for() {
    let b = new_box().await;
    fill(&b).await;
    std::fs::create_dir_all(b.backups.settings.state_dir.join("secrets")).expect("dir");
    std::fs::write(b.backups.settings.state_dir.join("secrets/jwt.key"), b"k").expect("key");
    let plain = Request {
        passphrase: None,
        include_secrets: true,
    };
    assert!(b.backups.write(Vec::new(), &plain).await.is_err());
    let (_, manifest) = b
        .backups
        .write(Vec::new(), &Request::default())
        .await
        .expect("backup");
    assert!(
        !manifest
            .members
            .iter()
            .any(|m| m.path.starts_with("secrets/"))
    );
    let secret = Passphrase::from("a long passphrase".to_string());
    let with = Request {
        passphrase: Some(secret.clone()),
        include_secrets: true,
    };
    let (bytes, manifest) = b.backups.write(Vec::new(), &with).await.expect("backup");
    assert!(manifest.header.includes_secrets);
    assert!(
        manifest
            .members
            .iter()
            .any(|m| m.path == "secrets/secrets/jwt.key")
    );
    let err = b
        .backups
        .verify(bytes.clone().into_reader(), None)
        .await
        .expect_err("needs the passphrase");
    assert_eq!(crate::service::Failure::code(&err), "backup_passphrase");
    b.backups
        .verify(bytes.into_reader(), Some(secret))
        .await
        .expect("verify");
}

#[tokio::test]
async fn an_archive_of_a_newer_schema_is_refused_by_name() {
    let b = new_box().await;
    let header = crate::archive::Header {
        format: crate::archive::FORMAT,
        fin_version: "99.0.0".into(),
        schema_version: crate::store::LATEST_SCHEMA + 1,
        created_at: "2030-01-01T00:00:00Z".into(),
        host: "future".into(),
        includes_secrets: false,
    };
    let writer = crate::archive::ArchiveWriter::new(Vec::new(), header, None).expect("start");
    let (bytes, _) = writer.finish(BTreeMap::new()).expect("finish");
    let err = b
        .backups
        .restore(bytes.into_reader(), None, true)
        .await
        .expect_err("too new");
    assert_eq!(crate::service::Failure::code(&err), "backup_too_new");
    assert!(err.to_string().contains("99.0.0"), "{err}");
}

#[tokio::test]
async fn an_archive_of_an_older_schema_is_migrated_after_the_restore() {
    let older = crate::store::LATEST_SCHEMA - 1;
    let store = Store::open_at_schema(older).await;
    fixtures::user(&store, "alice").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let old_box = Backups::new(
        store,
        Blobs::new(dir.path().join("blobs")),
        settings(dir.path()),
    );
    let (bytes, manifest) = old_box
        .write(Vec::new(), &Request::default())
        .await
        .expect("backup");
    assert_eq!(manifest.header.schema_version, older);
    let target = new_box().await;
    let restored = target
        .backups
        .restore(bytes.into_reader(), None, false)
        .await
        .expect("restore");
    assert_eq!(restored.schema_from, older);
    assert_eq!(restored.schema_now, crate::store::LATEST_SCHEMA);
    assert_eq!(
        target.store.schema_version().await.expect("schema"),
        crate::store::LATEST_SCHEMA
    );
    assert!(
        target
            .store
            .user_by_username("alice")
            .await
            .expect("user")
            .is_some()
    );
}

trait IntoReader {
    fn into_reader(self) -> std::io::Cursor<Vec<u8>>;
}

impl IntoReader for Vec<u8> {
    fn into_reader(self) -> std::io::Cursor<Vec<u8>> {
        std::io::Cursor::new(self)
    }
}
