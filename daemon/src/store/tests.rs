use super::*;

#[tokio::test]
async fn a_new_database_is_migrated_to_the_latest_schema() {
    let store = Store::open("mem://", "fin", "fin").await.expect("open");
    assert_eq!(
        store.schema_version().await.expect("version"),
        LATEST_SCHEMA
    );
    store.ping().await.expect("ping");
}

#[tokio::test]
async fn migrations_are_recorded_on_disk_and_not_reapplied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("surrealkv://{}", dir.path().join("db").display());
    {
        let store = Store::open(&url, "fin", "fin").await.expect("first open");
        assert_eq!(
            store.schema_version().await.expect("version"),
            LATEST_SCHEMA
        );
        drop(store);
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let store = Store::open(&url, "fin", "fin").await.expect("second open");
    assert_eq!(
        store.schema_version().await.expect("version"),
        LATEST_SCHEMA
    );
}

#[tokio::test]
async fn a_schema_newer_than_this_build_is_refused() {
    let store = Store::open("mem://", "fin", "fin").await.expect("open");
    let future = i64::from(LATEST_SCHEMA) + 1;
    store
        .db()
        .query("CREATE schema_migration SET version = $v, name = 'from the future', applied_at = time::now()")
        .bind(("v", future))
        .await
        .and_then(|r| r.check())
        .expect("insert a future version");
    let err = migrations::apply(&store.db())
        .await
        .expect_err("must refuse");
    assert!(
        matches!(err, StoreError::SchemaTooNew { applied, latest } if i64::from(applied) == future && latest == LATEST_SCHEMA),
        "{err}"
    );
    assert!(err.to_string().contains("newer than this fin knows"));
}

#[test]
fn credentials_never_leave_the_store() {
    assert_eq!(
        redact("wss://root:secret@db.lan:8000"),
        "wss://***@db.lan:8000"
    );
    assert_eq!(
        redact("surrealkv:///var/lib/fin/db"),
        "surrealkv:///var/lib/fin/db"
    );
}
