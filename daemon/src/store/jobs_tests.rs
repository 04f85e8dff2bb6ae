//! The receipt store and the job queue against a real (in-memory) SurrealDB.

use super::*;
use crate::domain::receipt::ReceiptQuery;

fn receipt(rid: &str, owner: &str, sha: &str) -> ReceiptRecord {
    ReceiptRecord {
        rid: rid.into(),
        owner_uid: owner.into(),
        sha256: sha.into(),
        content_type: "image/png".into(),
        byte_size: 10,
        width: 1,
        height: 1,
        created_at: 100,
        updated_at: 100,
        receipt_date: None,
        extracted: None,
        corrected: None,
        ocr_page: None,
    }
}

fn outcome(date: &str) -> JobOutcome {
    JobOutcome {
        extracted: "{}".into(),
        ocr_page: "{}".into(),
        receipt_date: Some(date.into()),
        decode_ms: 1,
        detect_ms: 2,
        recognise_ms: 3,
        extract_ms: 4,
    }
}

async fn store() -> Store {
    Store::open("mem://", "fin", "fin").await.expect("open")
}

#[tokio::test]
async fn the_same_image_of_one_owner_is_one_receipt_and_owners_are_separate() {
    let store = store().await;
    let first = store
        .create_receipt(&receipt("r1", "alice", "aa"), 1)
        .await
        .expect("create");
    assert_eq!(first.rid, "r1");
    let again = store
        .create_receipt(&receipt("r2", "alice", "aa"), 2)
        .await
        .expect("create");
    assert_eq!(
        again.rid, "r1",
        "same owner and image give the first receipt"
    );
    let bobs = store
        .create_receipt(&receipt("r3", "bob", "aa"), 3)
        .await
        .expect("create");
    assert_eq!(bobs.rid, "r3");
    assert!(
        store.receipt("bob", "r1").await.expect("get").is_none(),
        "not bob's"
    );
    assert_eq!(store.pending_jobs().await.expect("pending"), 2);
    assert_eq!(
        store.delete_receipt("alice", "r1").await.expect("delete"),
        Some("aa".to_string())
    );
    assert!(
        store.image_in_use("aa").await.expect("in use"),
        "bob's receipt still uses the image"
    );
    assert_eq!(
        store.referenced_images().await.expect("images"),
        ["aa".to_string()]
            .into_iter()
            .collect::<std::collections::HashSet<_>>()
    );
    assert!(
        store.job("r1").await.expect("job").is_none(),
        "the job went with it"
    );
    assert!(
        store
            .delete_receipt("alice", "r3")
            .await
            .expect("delete")
            .is_none(),
        "not alice's"
    );
}

#[tokio::test]
async fn a_job_is_claimed_once_and_only_its_holder_can_finish_it() {
    let store = store().await;
    store
        .create_receipt(&receipt("r1", "alice", "aa"), 1_000)
        .await
        .expect("create");
    let claimed = store
        .claim_job("w1", 2_000, 60_000, 3)
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!((claimed.rid.as_str(), claimed.attempts), ("r1", 1));
    assert!(
        store
            .claim_job("w2", 2_001, 60_000, 3)
            .await
            .expect("claim")
            .is_none(),
        "held by w1"
    );
    assert!(
        !store
            .finish_job("r1", "w2", &outcome("2018-12-25"), 3_000)
            .await
            .expect("finish")
    );
    assert!(
        store
            .finish_job("r1", "w1", &outcome("2018-12-25"), 3_000)
            .await
            .expect("finish")
    );
    let job = store.job("r1").await.expect("job").expect("exists");
    assert_eq!(job.state, "done");
    assert_eq!(job.recognise_ms, Some(3));
    let r = store
        .receipt("alice", "r1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(r.receipt_date.as_deref(), Some("2018-12-25"));
    assert_eq!(r.extracted.as_deref(), Some("{}"));
}

#[tokio::test]
async fn concurrent_claims_never_hand_out_a_job_twice() {
    let store = store().await;
    for i in 0..20 {
        store
            .create_receipt(&receipt(&format!("r{i}"), "alice", &format!("{i:02}")), i)
            .await
            .expect("create");
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(job) = store
                .claim_job(&format!("w{w}"), 1_000, 60_000, 3)
                .await
                .expect("claim")
            {
                got.push(job.rid);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "a job was claimed twice");
    assert_eq!(all.len(), 20);
}

#[tokio::test]
async fn an_expired_lease_is_claimed_again_until_attempts_run_out() {
    let store = store().await;
    store
        .create_receipt(&receipt("r1", "alice", "aa"), 0)
        .await
        .expect("create");
    store
        .claim_job("dead/1", 0, 1_000, 2)
        .await
        .expect("claim")
        .expect("job");
    // Before the lease ends nobody else gets it; after, the next worker does.
    assert!(
        store
            .claim_job("w2", 999, 1_000, 2)
            .await
            .expect("claim")
            .is_none()
    );
    let second = store
        .claim_job("w2", 1_001, 1_000, 2)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(second.attempts, 2);
    // The first holder's late result is refused.
    assert!(
        !store
            .finish_job("r1", "dead/1", &outcome("2020-01-01"), 1_500)
            .await
            .expect("finish")
    );
    // The second holder dies too: out of attempts, the job fails instead of looping.
    assert!(
        store
            .claim_job("w3", 5_000, 1_000, 2)
            .await
            .expect("claim")
            .is_none()
    );
    let job = store.job("r1").await.expect("job").expect("exists");
    assert_eq!(job.state, "failed");
    assert!(job.last_error.is_some());
}

#[tokio::test]
async fn a_restarted_node_takes_back_its_own_jobs_only() {
    let store = store().await;
    store
        .create_receipt(&receipt("r1", "alice", "aa"), 0)
        .await
        .expect("create");
    store
        .create_receipt(&receipt("r2", "alice", "bb"), 1)
        .await
        .expect("create");
    store
        .claim_job("nodeA/111/0", 10, 600_000, 3)
        .await
        .expect("claim")
        .expect("job");
    store
        .claim_job("nodeB/222/0", 10, 600_000, 3)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(
        store
            .release_node_jobs("nodeA", 20, 3)
            .await
            .expect("release"),
        1
    );
    let mine = store.job("r1").await.expect("job").expect("exists");
    let theirs = store.job("r2").await.expect("job").expect("exists");
    assert_eq!(
        (mine.state.as_str(), theirs.state.as_str()),
        ("queued", "running")
    );
    let again = store
        .claim_job("nodeA/333/0", 30, 600_000, 3)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(again.rid, "r1");
}

#[tokio::test]
async fn failures_retry_after_their_backoff_and_requeue_needs_a_finished_job() {
    let store = store().await;
    store
        .create_receipt(&receipt("r1", "alice", "aa"), 0)
        .await
        .expect("create");
    store
        .claim_job("w", 0, 60_000, 3)
        .await
        .expect("claim")
        .expect("job");
    let requeue = store
        .requeue_job("alice", "r1", 1, 3)
        .await
        .expect("requeue")
        .expect("found");
    assert!(!requeue.1, "a running job is not queued again by hand");
    store
        .fail_job("r1", "w", "boom", Some(5_000), 10)
        .await
        .expect("fail");
    assert!(
        store
            .claim_job("w", 4_999, 60_000, 3)
            .await
            .expect("claim")
            .is_none(),
        "backing off"
    );
    assert!(
        store
            .claim_job("w", 5_000, 60_000, 3)
            .await
            .expect("claim")
            .is_some()
    );
    store
        .fail_job("r1", "w", "boom again", None, 5_100)
        .await
        .expect("fail");
    let job = store.job("r1").await.expect("job").expect("exists");
    assert_eq!(
        (job.state.as_str(), job.last_error.as_deref()),
        ("failed", Some("boom again"))
    );
    assert!(
        store
            .requeue_job("bob", "r1", 6_000, 3)
            .await
            .expect("requeue")
            .is_none(),
        "not bob's"
    );
    let (_, requeued) = store
        .requeue_job("alice", "r1", 6_000, 1)
        .await
        .expect("requeue")
        .expect("found");
    assert!(requeued);
    let job = store.job("r1").await.expect("job").expect("exists");
    assert_eq!((job.state.as_str(), job.attempts), ("queued", 0));
    let counts = store.job_counts().await.expect("counts");
    assert_eq!(counts, vec![("queued".to_string(), 1)]);
    assert_eq!(store.pending_jobs_of("alice").await.expect("count"), 1);
    assert_eq!(store.pending_jobs_of("bob").await.expect("count"), 0);

    // Retries by hand are bounded: with one allowed, a second is refused.
    store
        .claim_job("w", 7_000, 60_000, 3)
        .await
        .expect("claim")
        .expect("job");
    store
        .fail_job("r1", "w", "boom", None, 7_100)
        .await
        .expect("fail");
    let (before, requeued) = store
        .requeue_job("alice", "r1", 8_000, 1)
        .await
        .expect("requeue")
        .expect("found");
    assert!(!requeued, "the one retry was used");
    assert_eq!(before.state, "failed");
}

#[tokio::test]
async fn listing_filters_by_state_and_date_and_counts_all_matches() {
    let store = store().await;
    for (i, sha) in ["aa", "bb", "cc"].iter().enumerate() {
        store
            .create_receipt(&receipt(&format!("r{i}"), "alice", sha), i as i64)
            .await
            .expect("create");
    }
    store
        .claim_job("w", 10, 60_000, 3)
        .await
        .expect("claim")
        .expect("job");
    assert!(
        store
            .finish_job("r0", "w", &outcome("2018-12-25"), 20)
            .await
            .expect("finish")
    );
    let query = |state: Option<&str>, from: Option<&str>| ReceiptQuery {
        state: state.map(String::from),
        date_from: from.map(String::from),
        date_to: None,
        limit: 2,
        offset: 0,
    };
    let (page, total) = store
        .receipts("alice", &query(None, None))
        .await
        .expect("list");
    assert_eq!((page.len(), total), (2, 3));
    let (done, total) = store
        .receipts("alice", &query(Some("done"), None))
        .await
        .expect("list");
    assert_eq!((done.len(), total, done[0].rid.as_str()), (1, 1, "r0"));
    let (dated, _) = store
        .receipts("alice", &query(None, Some("2018-12-01")))
        .await
        .expect("list");
    assert_eq!(dated.len(), 1);
    let (none, total) = store
        .receipts("bob", &query(None, None))
        .await
        .expect("list");
    assert_eq!((none.len(), total), (0, 0));
}

#[tokio::test]
async fn stored_bytes_are_counted_per_owner() {
    let store = store().await;
    assert_eq!(store.stored_bytes_of("alice").await.expect("sum"), 0);
    for (rid, owner, sha) in [
        ("r1", "alice", "aa"),
        ("r2", "alice", "bb"),
        ("r3", "bob", "aa"),
    ] {
        store
            .create_receipt(&receipt(rid, owner, sha), 1)
            .await
            .expect("create");
    }
    assert_eq!(store.stored_bytes_of("alice").await.expect("sum"), 20);
    assert_eq!(store.stored_bytes_of("bob").await.expect("sum"), 10);
}
