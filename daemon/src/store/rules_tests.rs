//! Rules, budgets and the reports' reads against a real (in-memory)
//! SurrealDB: references checked in the book, order kept, changes written
//! only at the revision read, category deletion followed.

use super::fixtures::{household, txn};
use super::*;

fn rule(rid: &str, set_cid: Option<&str>) -> RuleRecord {
    RuleRecord {
        rid: rid.into(),
        position: 0,
        name: format!("rule {rid}"),
        payee_match: Some("contains".into()),
        payee_value: Some("shop".into()),
        description_match: None,
        description_value: None,
        min_amount: None,
        max_amount: Some(0),
        aid: Some("a1".into()),
        set_cid: set_cid.map(str::to_string),
        set_payee: None,
        add_tags: vec!["t".into()],
        created_at: 5,
        updated_at: 5,
    }
}

fn category(cid: &str, parent: &str) -> CategoryRecord {
    CategoryRecord {
        cid: cid.into(),
        name: cid.into(),
        parent: parent.into(),
        created_at: 1,
    }
}

#[tokio::test]
async fn rules_keep_their_order_and_follow_their_category() {
    let store = household().await;
    store
        .create_category("alice", "b1", &category("food", ""))
        .await
        .expect("category");
    for rid in ["r1", "r2", "r3"] {
        store
            .create_rule("alice", "b1", &rule(rid, Some("food")))
            .await
            .expect("rule");
    }
    let positions: Vec<(String, i64)> = store
        .rules("bob", "b1")
        .await
        .expect("rules")
        .into_iter()
        .map(|r| (r.rid, r.position))
        .collect();
    assert_eq!(
        positions,
        [("r1".into(), 1), ("r2".into(), 2), ("r3".into(), 3)]
    );
    let missing = store
        .create_rule("alice", "b1", &rule("r4", Some("nope")))
        .await;
    assert!(
        matches!(missing, Err(StoreError::Missing(_))),
        "{missing:?}"
    );
    let denied = store.create_rule("bob", "b1", &rule("r5", None)).await;
    assert!(matches!(denied, Err(StoreError::Denied)), "{denied:?}");

    let ordered = store
        .order_rules("alice", "b1", &["r3".into(), "r1".into(), "r2".into()], 6)
        .await
        .expect("order");
    assert_eq!(ordered[0].rid, "r3");
    for wrong in [
        vec!["r3".to_string(), "r1".into()],
        vec!["r3".into(), "r1".into(), "r1".into()],
        vec!["r3".into(), "r1".into(), "zz".into()],
    ] {
        let refused = store.order_rules("alice", "b1", &wrong, 7).await;
        assert!(
            matches!(refused, Err(StoreError::Missing(_))),
            "{wrong:?}: {refused:?}"
        );
    }

    let mut changed = rule("r1", None);
    changed.name = "renamed".into();
    let updated = store
        .update_rule("alice", "b1", &changed)
        .await
        .expect("update")
        .expect("found");
    assert_eq!((updated.name.as_str(), updated.position), ("renamed", 2));
    assert!(
        store
            .update_rule("alice", "b1", &rule("zz", None))
            .await
            .expect("update")
            .is_none()
    );

    store
        .create_budget(
            "alice",
            "b1",
            &BudgetRecord {
                bgid: "g1".into(),
                cid: "food".into(),
                currency: "EUR".into(),
                amount: 100,
                created_at: 1,
                updated_at: 1,
            },
        )
        .await
        .expect("budget");
    assert!(
        store
            .delete_category("alice", "b1", "food", 9)
            .await
            .expect("delete")
    );
    let rules = store.rules("alice", "b1").await.expect("rules");
    assert!(rules.iter().all(|r| r.set_cid.is_none()), "{rules:?}");
    assert!(
        store
            .budgets("alice", "b1")
            .await
            .expect("budgets")
            .is_empty()
    );
    assert!(
        store
            .delete_rule("alice", "b1", "r2")
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_rule("alice", "b1", "r2")
            .await
            .expect("delete")
    );
}

#[tokio::test]
async fn rule_changes_are_written_only_at_the_revision_read() {
    let store = household().await;
    store
        .create_category("alice", "b1", &category("food", ""))
        .await
        .expect("category");
    store
        .create_transactions(
            "alice",
            "b1",
            &[txn("t1", "a1", -5, None), txn("t2", "a1", -7, None)],
        )
        .await
        .expect("txns");
    let change = |tid: &str, rev: i64| RuleChange {
        tid: tid.into(),
        rev,
        cid: Some("food".into()),
        payee: "Shop Ltd".into(),
        tags: vec!["t".into()],
    };
    // t2 was read at revision 0: someone changed it since.
    let written = store
        .apply_rule_changes("alice", "b1", &[change("t1", 1), change("t2", 0)], 8)
        .await
        .expect("apply");
    assert_eq!(written, vec!["t1".to_string()]);
    let t1 = store
        .transaction("alice", "b1", "t1")
        .await
        .expect("read")
        .expect("t1");
    assert_eq!(
        (t1.cid.as_deref(), t1.payee_folded.as_str(), t1.rev),
        (Some("food"), "shop ltd", 2)
    );
    let t2 = store
        .transaction("alice", "b1", "t2")
        .await
        .expect("read")
        .expect("t2");
    assert_eq!((t2.cid, t2.rev), (None, 1));
    let missing = store
        .apply_rule_changes(
            "alice",
            "b1",
            &[RuleChange {
                cid: Some("nope".into()),
                ..change("t2", 1)
            }],
            9,
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::Missing(_))),
        "{missing:?}"
    );

    let rows = store
        .report_rows("bob", "b1", "2026-03-01", "2026-03-31")
        .await
        .expect("rows");
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| !r.transfer && r.currency == "EUR"));
    let before = store
        .totals_before("bob", "b1", "2026-04-01")
        .await
        .expect("totals");
    assert_eq!(
        before,
        vec![AccountTotal {
            aid: "a1".into(),
            total: -12
        }]
    );
    assert!(
        store
            .report_rows("bob", "b1", "2026-04-01", "2026-04-30")
            .await
            .expect("rows")
            .is_empty()
    );
}
