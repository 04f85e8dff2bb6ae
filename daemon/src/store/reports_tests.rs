//! The monthly sums the database keeps (`txn_month`) against the
//! transactions themselves, after every kind of change the ledger makes.

use std::collections::BTreeMap;

use super::fixtures::{household, txn};
use super::*;
use crate::domain::reports::SPLIT_FLOWS;

type Sums = BTreeMap<(String, String, Option<String>, String, String), (i64, i64)>;

/// The transactions of 2026, summed the way `txn_month` is meant to.
async fn from_rows(store: &Store) -> Sums {
    let mut sums = Sums::new();
    for r in store
        .report_rows("alice", "b1", "2026-01-01", "2026-12-31")
        .await
        .expect("rows")
    {
        let flow = crate::domain::reports::flow(r.transfer, !r.splits.is_empty(), r.amount);
        let key = (
            r.date[..7].to_string(),
            r.aid,
            r.cid,
            r.currency,
            flow.to_string(),
        );
        let sum = sums.entry(key).or_default();
        sum.0 += 1;
        sum.1 += r.amount;
    }
    sums
}

async fn from_view(store: &Store) -> Sums {
    store
        .month_totals("alice", "b1", "2026-01", "2027-01")
        .await
        .expect("totals")
        .into_iter()
        .map(|t| ((t.month, t.aid, t.cid, t.currency, t.flow), (t.n, t.total)))
        .collect()
}

async fn agree(store: &Store, when: &str) {
    let (rows, view) = (from_rows(store).await, from_view(store).await);
    assert!(!rows.is_empty(), "{when}: nothing to compare");
    assert_eq!(view, rows, "{when}");

    // What category reports read: the sums without the split flows, and
    // exactly the split transactions of the year, one by one.
    let sums = store
        .category_sums("alice", "b1", "2026-01", "2027-01")
        .await
        .expect("category sums");
    let unsplit: Sums = rows
        .into_iter()
        .filter(|(key, _)| !SPLIT_FLOWS.contains(&key.4.as_str()))
        .collect();
    let totals: Sums = sums
        .totals
        .into_iter()
        .map(|t| ((t.month, t.aid, t.cid, t.currency, t.flow), (t.n, t.total)))
        .collect();
    assert_eq!(totals, unsplit, "{when}");
    let mut split: Vec<ReportRow> = store
        .report_rows("alice", "b1", "2026-01-01", "2026-12-31")
        .await
        .expect("rows")
        .into_iter()
        .filter(|r| !r.splits.is_empty() && !r.transfer)
        .collect();
    let mut read = sums.splits;
    split.sort_by(|a, b| (&a.date, a.amount).cmp(&(&b.date, b.amount)));
    read.sort_by(|a, b| (&a.date, a.amount).cmp(&(&b.date, b.amount)));
    assert_eq!(read, split, "{when}");
}

#[tokio::test]
async fn monthly_sums_follow_every_change() {
    let store = household().await;
    for (cid, name) in [("food", "Food"), ("home", "Home")] {
        store
            .create_category(
                "alice",
                "b1",
                &CategoryRecord {
                    cid: cid.into(),
                    name: name.into(),
                    parent: String::new(),
                    created_at: 1,
                },
            )
            .await
            .expect("category");
    }
    let mut food = txn("t1", "a1", -500, None);
    food.cid = Some("food".into());
    let mut split = txn("t5", "a2", -900, None);
    split.splits = vec![
        SplitRecord {
            cid: Some("home".into()),
            amount: -600,
            memo: String::new(),
        },
        SplitRecord {
            cid: None,
            amount: -300,
            memo: String::new(),
        },
    ];
    // Money in, split.
    let mut refund = txn("t8", "a1", 500, None);
    refund.splits = vec![
        SplitRecord {
            cid: Some("home".into()),
            amount: 300,
            memo: String::new(),
        },
        SplitRecord {
            cid: None,
            amount: 200,
            memo: String::new(),
        },
    ];
    // Just outside the year compared, split or not: neither side may
    // count them.
    let mut before = txn("t6", "a1", -70, None);
    before.date = "2025-12-31".into();
    let mut after = txn("t7", "a2", 80, None);
    after.date = "2027-01-01".into();
    let mut split_before = split.clone();
    split_before.tid = "t9".into();
    split_before.date = "2025-12-31".into();
    let mut split_after = refund.clone();
    split_after.tid = "t10".into();
    split_after.date = "2027-01-01".into();
    let rows = [
        before,
        after,
        split_before,
        split_after,
        refund,
        food,
        txn("t2", "a1", 300, None),
        txn("t3", "a1", -1000, Some("x")),
        txn("t4", "a2", 1000, Some("x")),
        split,
    ];
    store
        .create_transactions("alice", "b1", &rows)
        .await
        .expect("create");
    agree(&store, "created").await;

    let t1 = store
        .transaction("alice", "b1", "t1")
        .await
        .expect("read")
        .expect("t1");
    let moved = TxnChange {
        aid: "a2".into(),
        date: "2026-05-20".into(),
        amount: 250,
        payee: t1.payee.clone(),
        description: String::new(),
        cid: None,
        tags: vec![],
        notes: String::new(),
        state: t1.state.clone(),
        splits: vec![],
        receipts: vec![],
    };
    store
        .update_transaction("alice", "b1", "t1", t1.rev, &moved, 2)
        .await
        .expect("update")
        .expect("changed");
    store
        .update_transaction(
            "alice",
            "b1",
            "t3",
            1,
            &TxnChange {
                aid: "a1".into(),
                date: "2026-07-01".into(),
                amount: -1000,
                payee: "Shop".into(),
                description: String::new(),
                cid: None,
                tags: vec![],
                notes: String::new(),
                state: "uncleared".into(),
                splits: vec![],
                receipts: vec![],
            },
            2,
        )
        .await
        .expect("transfer date")
        .expect("changed");
    agree(&store, "moved across months, accounts and signs").await;

    store
        .categorise(
            "alice",
            "b1",
            &["t1".into(), "t2".into()],
            Some("food".into()),
            3,
        )
        .await
        .expect("categorise");
    agree(&store, "categorised").await;

    assert!(
        store
            .delete_category("alice", "b1", "food", 4)
            .await
            .expect("delete")
    );
    agree(&store, "category deleted").await;

    store
        .delete_transaction("alice", "b1", "t4")
        .await
        .expect("delete pair");
    store
        .delete_transaction("alice", "b1", "t2")
        .await
        .expect("delete");
    agree(&store, "deleted").await;

    let totals = store
        .totals_before("alice", "b1", "2026-06")
        .await
        .expect("before");
    let a2: i64 = totals
        .iter()
        .filter(|t| t.aid == "a2")
        .map(|t| t.total)
        .sum();
    // t1 moved in, the splits t5 and (the year before) t9.
    assert_eq!(a2, 250 - 900 - 900, "{totals:?}");
}

/// Every write to one book's month, account and category meets the others
/// in one monthly sum; when they commit at once the database refuses all
/// but one, and the store runs the others again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_that_meet_in_one_monthly_sum_all_land() {
    let store = household().await;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..10 {
                    let row = txn(&format!("w{w}-{i}"), "a1", -100, None);
                    store
                        .create_transactions("alice", "b1", &[row])
                        .await
                        .expect("a write at the same time as others");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let totals = store
        .month_totals("alice", "b1", "2026-03", "2026-04")
        .await
        .expect("totals");
    assert_eq!(totals.iter().map(|t| t.n).sum::<i64>(), 40, "{totals:?}");
    assert_eq!(totals.iter().map(|t| t.total).sum::<i64>(), -4000);
}
