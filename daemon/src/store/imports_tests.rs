//! Imports against a real (in-memory) SurrealDB: a preview is committed
//! once, whoever asks at the same moment.

use super::fixtures::{household, txn};
use super::*;

fn preview(iid: &str) -> ImportRecord {
    ImportRecord {
        iid: iid.into(),
        bid: "b1".into(),
        aid: "a1".into(),
        format: "csv".into(),
        preset: None,
        preset_toml: None,
        date_order: None,
        filename: "march.csv".into(),
        sha256: "00".repeat(32),
        byte_size: 100,
        status: "preview".into(),
        created_by: "alice".into(),
        created_at: 1,
        committed_at: None,
        undone_at: None,
        committed_rows: 0,
    }
}

/// The rows one commit writes: fresh ids each time, as the service makes them.
fn rows(attempt: &str, iid: &str) -> Vec<TxnRecord> {
    (0..50)
        .map(|i| TxnRecord {
            import_id: Some(iid.into()),
            ..txn(&format!("{attempt}-{i}"), "a1", -100 - i, None)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_commits_of_one_preview_at_once_write_its_rows_once() {
    let store = household().await;
    store
        .create_import("alice", &preview("i1"))
        .await
        .expect("preview");
    // Both start together (the test failed three runs in three with the
    // conflict retries off: the loser got a database error, not a refusal).
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let commits: Vec<_> = ["first", "second"]
        .into_iter()
        .map(|attempt| {
            let (store, start) = (store.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                store
                    .commit_import("alice", "b1", "i1", &rows(attempt, "i1"), 2)
                    .await
            })
        })
        .collect();
    let mut landed = Vec::new();
    for commit in commits {
        match commit.await.expect("task") {
            Ok(import) => landed.push(import),
            Err(StoreError::Refused(why)) => assert!(why.contains("once"), "{why}"),
            Err(other) => panic!("neither committed nor refused: {other:?}"),
        }
    }
    assert_eq!(landed.len(), 1, "exactly one commit lands: {landed:?}");
    assert_eq!(landed[0].status, "committed");
    assert_eq!(landed[0].committed_rows, 50);
    let written = store
        .existing_between("alice", "b1", "a1", "2026-01-01", "2026-12-31")
        .await
        .expect("rows");
    assert_eq!(written.len(), 50, "one commit's rows, not both");
    let prefix = written[0].tid.split('-').next().expect("attempt");
    assert!(written.iter().all(|r| r.tid.starts_with(prefix)));
}

#[tokio::test]
async fn previews_older_than_the_cut_are_deleted_and_free_their_files() {
    let store = household().await;
    let at = |iid: &str, created_at: i64, sha: char| ImportRecord {
        created_at,
        sha256: sha.to_string().repeat(64),
        ..preview(iid)
    };
    for import in [
        at("stale", 100, 'a'),
        at("fresh", 10_000, 'b'),
        at("kept", 100, 'c'),
    ] {
        store.create_import("alice", &import).await.expect("import");
    }
    store
        .commit_import("alice", "b1", "kept", &rows("kept", "kept"), 200)
        .await
        .expect("committed");
    let deleted = store.delete_stale_previews(5_000).await.expect("expire");
    assert_eq!(deleted, ["stale"]);
    let left: Vec<String> = store
        .imports("alice", "b1")
        .await
        .expect("list")
        .into_iter()
        .map(|i| i.iid)
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&"fresh".to_string()) && left.contains(&"kept".to_string()));
    assert!(!store.image_in_use(&"a".repeat(64)).await.expect("a"));
    assert!(store.image_in_use(&"b".repeat(64)).await.expect("b"));
    assert!(
        store
            .delete_stale_previews(5_000)
            .await
            .expect("again")
            .is_empty()
    );
    // A commit that comes after is told the import is gone, not refused.
    let late = store
        .commit_import("alice", "b1", "stale", &rows("late", "stale"), 300)
        .await;
    assert!(matches!(late, Err(StoreError::Missing(_))), "{late:?}");
}
