//! Builders of test data for the store's tests and the services' alike:
//! users, a shared book with accounts, transactions.

use super::{AccountRecord, NewUser, Store, TxnRecord};

pub(crate) async fn store() -> Store {
    Store::open("mem://", "fin", "fin").await.expect("open")
}

pub(crate) async fn user(store: &Store, uid: &str) {
    store
        .create_user(&NewUser {
            uid: uid.into(),
            username: uid.into(),
            email: None,
            password_hash: "$argon2id$stub".into(),
            role: "user".into(),
            created_at: 1,
        })
        .await
        .expect("user");
}

pub(crate) fn account(aid: &str, name: &str) -> AccountRecord {
    AccountRecord {
        aid: aid.into(),
        name: name.into(),
        kind: "checking".into(),
        currency: "EUR".into(),
        opening_balance: 1000,
        opening_date: "2026-01-01".into(),
        archived: false,
        created_at: 1,
        updated_at: 1,
        balance: 0,
        transactions: 0,
    }
}

pub(crate) fn txn(tid: &str, aid: &str, amount: i64, transfer: Option<&str>) -> TxnRecord {
    TxnRecord {
        tid: tid.into(),
        bid: "b1".into(),
        aid: aid.into(),
        date: "2026-03-01".into(),
        amount,
        currency: "EUR".into(),
        payee: "Shop".into(),
        payee_folded: "shop".into(),
        description: String::new(),
        cid: None,
        tags: vec![],
        notes: String::new(),
        state: "uncleared".into(),
        splits: vec![],
        receipts: vec![],
        transfer_id: transfer.map(str::to_string),
        import_id: None,
        external_id: None,
        fingerprint: None,
        rev: 1,
        created_at: 1,
        updated_at: 1,
    }
}

/// A book `b1` owned by `alice`, with `bob` as a viewer and two accounts.
pub(crate) async fn household() -> Store {
    let store = store().await;
    for uid in ["alice", "bob", "eve"] {
        user(&store, uid).await;
    }
    let book = store
        .create_book("alice", "b1", "Home", "EUR", 1)
        .await
        .expect("book");
    assert_eq!(book.role, "owner");
    store
        .set_member("alice", "b1", "bob", "viewer", 2)
        .await
        .expect("share");
    for (aid, name) in [("a1", "Checking"), ("a2", "Savings")] {
        store
            .create_account("alice", "b1", &account(aid, name))
            .await
            .expect("account");
    }
    store
}
