//! The ledger's queries against a real (in-memory) SurrealDB: the guard in
//! every call, references checked in the book, transfers deleted in pairs,
//! books handed on when their owner's account is deleted.

use super::fixtures::{account, household, txn};
use super::*;
use crate::domain::ledger::Need;

#[tokio::test]
async fn the_guard_hides_the_book_from_strangers_and_stops_viewers_writing() {
    let store = household().await;
    assert!(matches!(
        store.book("eve", "b1").await,
        Err(StoreError::NoBook)
    ));
    assert!(matches!(
        store.accounts("eve", "b1").await,
        Err(StoreError::NoBook)
    ));
    assert!(matches!(
        store.book("alice", "nope").await,
        Err(StoreError::NoBook)
    ));
    assert_eq!(store.accounts("bob", "b1").await.expect("read").len(), 2);
    let refused = store
        .create_account("bob", "b1", &account("a3", "Cash"))
        .await;
    assert!(matches!(refused, Err(StoreError::Denied)), "{refused:?}");
    assert!(matches!(
        store
            .create_transactions("bob", "b1", &[txn("t1", "a1", -5, None)])
            .await,
        Err(StoreError::Denied)
    ));
    assert_eq!(store.book_role("bob", "b1").await.expect("role"), "viewer");
    assert_eq!(store.books_of("eve").await.expect("books"), vec![]);
    let duplicate = store
        .create_account("alice", "b1", &account("a9", "Savings"))
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(_))),
        "{duplicate:?}"
    );
}

#[tokio::test]
async fn references_must_be_in_the_book_and_balances_are_computed() {
    let store = household().await;
    store
        .create_book("eve", "b2", "Eve's", "EUR", 1)
        .await
        .expect("book");
    store
        .create_account("eve", "b2", &account("e1", "Eve checking"))
        .await
        .expect("account");
    let foreign = store
        .create_transactions("alice", "b1", &[txn("t1", "e1", -5, None)])
        .await;
    assert!(
        matches!(foreign, Err(StoreError::Missing(_))),
        "{foreign:?}"
    );
    let mut categorised = txn("t1", "a1", -5, None);
    categorised.cid = Some("no-such-category".into());
    let missing = store
        .create_transactions("alice", "b1", &[categorised])
        .await;
    assert!(
        matches!(missing, Err(StoreError::Missing(_))),
        "{missing:?}"
    );

    store
        .create_transactions("alice", "b1", &[txn("t1", "a1", -300, None)])
        .await
        .expect("plain");
    let pair = store
        .create_transactions(
            "alice",
            "b1",
            &[
                txn("t2", "a1", -200, Some("x")),
                txn("t3", "a2", 200, Some("x")),
            ],
        )
        .await
        .expect("transfer");
    assert_eq!(pair.len(), 2);
    let balances: Vec<(String, i64)> = store
        .accounts("bob", "b1")
        .await
        .expect("accounts")
        .into_iter()
        .map(|a| (a.aid, a.balance))
        .collect();
    assert_eq!(
        balances,
        [("a1".to_string(), 500), ("a2".to_string(), 1200)]
    );

    let deleted = store
        .delete_transaction("alice", "b1", "t3")
        .await
        .expect("delete");
    assert_eq!(deleted.len(), 2, "both sides: {deleted:?}");
    let refused = store.delete_account("alice", "b1", "a1").await;
    assert!(
        matches!(refused, Err(StoreError::Refused(_))),
        "{refused:?}"
    );
    assert!(
        store
            .delete_account("alice", "b1", "a2")
            .await
            .expect("empty account")
    );
}

#[tokio::test]
async fn a_stale_revision_changes_nothing() {
    let store = household().await;
    store
        .create_transactions("alice", "b1", &[txn("t1", "a1", -300, None)])
        .await
        .expect("plain");
    let change = TxnChange {
        aid: "a1".into(),
        date: "2026-03-02".into(),
        amount: -400,
        payee: "Other".into(),
        description: String::new(),
        cid: None,
        tags: vec![],
        notes: String::new(),
        state: "cleared".into(),
        splits: vec![],
        receipts: vec![],
    };
    let updated = store
        .update_transaction("alice", "b1", "t1", 1, &change, 5)
        .await
        .expect("update")
        .expect("at revision 1");
    assert_eq!((updated.rev, updated.amount), (2, -400));
    let stale = store
        .update_transaction("alice", "b1", "t1", 1, &change, 6)
        .await
        .expect("update");
    assert_eq!(stale, None);
}

#[tokio::test]
async fn membership_rules_hold_and_deleting_an_owner_hands_books_on() {
    let store = household().await;
    let owner_change = store.set_member("alice", "b1", "alice", "viewer", 3).await;
    assert!(
        matches!(owner_change, Err(StoreError::Refused(_))),
        "{owner_change:?}"
    );
    let leave = store
        .remove_member("alice", "b1", "alice", Need::Read)
        .await;
    assert!(matches!(leave, Err(StoreError::Refused(_))), "{leave:?}");

    // A book with an editor passes to them; one without goes.
    store
        .set_member("alice", "b1", "bob", "editor", 3)
        .await
        .expect("promote");
    store
        .create_book("alice", "b2", "Alone", "EUR", 1)
        .await
        .expect("book");
    store
        .create_account("alice", "b2", &account("z1", "Solo"))
        .await
        .expect("account");
    assert!(store.delete_user("alice").await.expect("delete"));
    assert_eq!(store.book_role("bob", "b1").await.expect("heir"), "owner");
    assert_eq!(store.accounts("bob", "b1").await.expect("kept").len(), 2);
    let members = store.members("bob", "b1").await.expect("members");
    assert_eq!(members.len(), 1, "{members:?}");
    let orphans: Vec<serde_json::Value> = store
        .rows(
            "SELECT * FROM account WHERE bid = 'b2'",
            query::Params::new(),
            0,
        )
        .await
        .expect("rows");
    assert!(orphans.is_empty(), "{orphans:?}");
}

#[tokio::test]
async fn a_deleted_receipt_comes_off_its_transactions() {
    let store = household().await;
    let receipt = ReceiptRecord {
        rid: "r1".into(),
        owner_uid: "alice".into(),
        sha256: "ab".repeat(32),
        content_type: "image/png".into(),
        byte_size: 10,
        width: 1,
        height: 1,
        created_at: 1,
        updated_at: 1,
        receipt_date: None,
        extracted: None,
        corrected: None,
        ocr_page: None,
    };
    store.create_receipt(&receipt, 1).await.expect("receipt");
    let mut attached = txn("t1", "a1", -300, None);
    attached.receipts = vec!["r1".into()];
    store
        .create_transactions("alice", "b1", &[attached])
        .await
        .expect("attached");
    store.delete_receipt("alice", "r1").await.expect("delete");
    let after = store
        .transaction("alice", "b1", "t1")
        .await
        .expect("read")
        .expect("still there");
    assert_eq!(after.receipts, Vec::<String>::new());
    assert_eq!(after.rev, 2, "a change others can see");
}

#[tokio::test]
async fn pages_walk_every_transaction_once_even_within_one_day() {
    let store = household().await;
    let rows: Vec<TxnRecord> = (0..23)
        .map(|i| {
            let mut t = txn(&format!("t{i:02}"), "a1", -(i + 1), None);
            // Seven days, several transactions on each.
            t.date = format!("2026-03-{:02}", 1 + i % 7);
            t
        })
        .collect();
    store
        .create_transactions("alice", "b1", &rows)
        .await
        .expect("rows");
    let all = store
        .transactions(
            "alice",
            "b1",
            &TxnFilter {
                limit: 100,
                ..TxnFilter::default()
            },
        )
        .await
        .expect("all");
    assert_eq!(all.len(), 23);
    assert!(
        all.windows(2)
            .all(|w| (&w[0].date, &w[0].tid) > (&w[1].date, &w[1].tid)),
        "newest first, then by id"
    );
    let expected: Vec<String> = all.iter().map(|t| t.tid.clone()).collect();
    for limit in [1u32, 2, 3, 5] {
        assert_eq!(
            walk(&store, limit, async |_| {}).await,
            expected,
            "pages of {limit}"
        );
    }
}

/// Every transaction's id, page by page of `limit`, calling `between`
/// with the cursor after each page.
async fn walk(
    store: &Store,
    limit: u32,
    mut between: impl AsyncFnMut(&(String, String)),
) -> Vec<String> {
    let mut walked: Vec<String> = Vec::new();
    let mut after: Option<(String, String)> = None;
    loop {
        let filter = TxnFilter {
            limit,
            after: after.clone(),
            ..TxnFilter::default()
        };
        let mut page = store
            .transactions("alice", "b1", &filter)
            .await
            .expect("page");
        let more = page.len() > limit as usize;
        page.truncate(limit as usize);
        walked.extend(page.iter().map(|t| t.tid.clone()));
        if !more {
            return walked;
        }
        let last = page.last().expect("a full page");
        let cursor = (last.date.clone(), last.tid.clone());
        between(&cursor).await;
        after = Some(cursor);
    }
}

#[tokio::test]
async fn a_page_after_a_cursor_is_not_moved_by_writes_on_the_cursors_day() {
    let store = household().await;
    let rows: Vec<TxnRecord> = (0..9)
        .map(|i| txn(&format!("t{i}"), "a1", -(i + 1), None))
        .collect();
    store
        .create_transactions("alice", "b1", &rows)
        .await
        .expect("rows");
    // All on one day: the first page is t8, t7, t6. Then a transaction is
    // added on that day before the cursor (t85: past, as far as the order
    // goes); after the second page, one already shown is deleted. Neither
    // may move what the next pages show (a count of the day's
    // transactions shown would show t6 twice, then skip one).
    let mut pages = 0;
    let walked = walk(&store, 3, async |cursor: &(String, String)| {
        pages += 1;
        match pages {
            1 => {
                assert_eq!(cursor.1, "t6");
                store
                    .create_transactions("alice", "b1", &[txn("t85", "a1", -50, None)])
                    .await
                    .expect("added");
            }
            2 => {
                assert_eq!(cursor.1, "t3");
                store
                    .delete_transaction("alice", "b1", "t4")
                    .await
                    .expect("deleted");
            }
            _ => {}
        }
    })
    .await;
    assert_eq!(
        walked,
        ["t8", "t7", "t6", "t5", "t4", "t3", "t2", "t1", "t0"]
    );
}
