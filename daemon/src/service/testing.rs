//! Every use case on an in-memory store, for the front ends' unit tests.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::audit::Audit;
use super::auth::jwt::JwtKeys;
use super::auth::password::{HashCost, PasswordHashing};
use super::auth::sessions::{SessionPolicy, Sessions};
use super::blobs::Blobs;
use super::receipts::{self, ReceiptSettings};
use super::users::Users;
use super::{Services, System};
use crate::domain::account::Registration;
use crate::domain::receipt::{DateOrder, ExtractOptions};
use crate::store::Store;

/// The shipped defaults where they matter to a request, a cheap password hash.
pub(crate) async fn services() -> Services {
    let store = Store::open("mem://", "fin", "fin").await.expect("store");
    let tls = Arc::new(|| fin_proto::admin::TlsStatus {
        mode: "self-signed".into(),
        subject: "CN=test".into(),
        issuer: "CN=test".into(),
        sans: vec!["localhost".into()],
        not_before: 0,
        not_after: i64::MAX,
        fingerprint_sha256: String::new(),
        acme: None,
    });
    let listeners = fin_proto::Listeners {
        https: "127.0.0.1:1".into(),
        http: None,
        metrics: None,
        admin_socket: "/nonexistent".into(),
        pid: 1,
    };
    let hashing = PasswordHashing::new(HashCost {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    })
    .expect("hashing");
    let secrets = tempfile::tempdir().expect("tempdir");
    let audit = Arc::new(Audit::new(store.clone()));
    let keys = JwtKeys::load_or_create(secrets.path(), 0).expect("keys");
    let minutes = |m: u64| Duration::from_secs(m * 60);
    let ledger = Arc::new(super::ledger::Ledger::new(
        store.clone(),
        Blobs::new(secrets.path().join("blobs")),
        super::ledger::LedgerSettings {
            max_import_bytes: 50 * 1024 * 1024,
        },
    ));
    let (receipts, _queue) = receipts::open(
        store.clone(),
        Blobs::new(secrets.path().join("blobs")),
        ReceiptSettings {
            max_upload_bytes: 25 * 1024 * 1024,
            max_pixels: 40_000_000,
            queue_depth: 1000,
            max_queued_per_user: 100,
            storage_quota_bytes: 0,
            max_retries: 3,
            max_attempts: 3,
            job_timeout: Duration::from_secs(60),
            lease: minutes(5),
            extract: ExtractOptions {
                date_order: DateOrder::DayFirst,
                default_currency: "EUR".into(),
            },
        },
        super::ledger::receipt_matcher(ledger.clone()),
    );
    let backups = Arc::new(super::backup::Backups::new(
        store.clone(),
        Blobs::new(secrets.path().join("blobs")),
        super::backup::BackupSettings {
            dir: secrets.path().join("backups"),
            state_dir: secrets.path().to_path_buf(),
            host: "test".into(),
            retention: crate::domain::retention::Policy {
                daily: 7,
                weekly: 4,
                monthly: 12,
            },
        },
    ));
    Services {
        receipts: Arc::new(receipts),
        ledger,
        backups,
        system: Arc::new(
            System::new(store.clone(), tls, listeners)
                .with_ocr_models(super::system_tests::test_models()),
        ),
        users: Arc::new(Users::new(
            store.clone(),
            hashing.clone(),
            audit.clone(),
            Registration::Closed,
        )),
        sessions: Arc::new(Sessions::new(
            store,
            hashing,
            Arc::new(RwLock::new(keys)),
            secrets.keep(),
            SessionPolicy {
                access_token: minutes(15),
                refresh_token: minutes(30 * 24 * 60),
                lockout_attempts: 5,
                lockout_window: minutes(15),
                lockout: minutes(15),
            },
            audit.clone(),
        )),
        audit,
    }
}
