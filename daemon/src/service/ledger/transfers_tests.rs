//! Transfer pairs under any sequence of changes, through the use cases on a
//! real (in-memory) store: each transfer stays two rows in two accounts
//! with one date, a same-currency transfer makes and loses no money, a
//! side's amount and account cannot be changed, and deleting either side
//! deletes both.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::store::NewUser;

/// Two accounts in the book's currency and one in another.
const ACCOUNTS: [(&str, &str); 3] = [("Giro", "EUR"), ("Savings", "EUR"), ("Dollars", "USD")];
const OPENING: i64 = 100_000;

#[derive(Debug, Clone)]
enum Op {
    Transfer {
        from: usize,
        to: usize,
        amount: i64,
        day: u8,
    },
    /// Deletes one side of the `pick`-th live transfer (modulo their count).
    Delete { pick: usize, side: usize },
    /// Moves one side of a transfer to another day.
    Redate { pick: usize, side: usize, day: u8 },
    /// Tries to change one side's amount, which is refused (409).
    Reprice {
        pick: usize,
        side: usize,
        amount: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3usize, 0..3usize, 1..50_000i64, 1..28u8)
            .prop_map(|(from, to, amount, day)| Op::Transfer { from, to, amount, day }),
        1 => (any::<usize>(), 0..2usize).prop_map(|(pick, side)| Op::Delete { pick, side }),
        1 => (any::<usize>(), 0..2usize, 1..28u8).prop_map(|(pick, side, day)| Op::Redate { pick, side, day }),
        1 => (any::<usize>(), 0..2usize, -50_000..50_000i64)
            .prop_map(|(pick, side, amount)| Op::Reprice { pick, side, amount }),
    ]
}

pub(super) fn principal() -> Principal {
    Principal {
        user_id: "u1".into(),
        username: "alice".into(),
        email: None,
        role: "user".into(),
        session_id: "s1".into(),
        ip: None,
        api_key: None,
    }
}

fn day(d: u8) -> String {
    format!("2026-04-{d:02}")
}

/// A book with the three accounts: (ledger, book id, account ids).
pub(super) async fn book() -> (Ledger, String, Vec<String>, tempfile::TempDir) {
    let store = Store::open("mem://", "fin", "fin").await.expect("store");
    store
        .create_user(&NewUser {
            uid: "u1".into(),
            username: "alice".into(),
            email: None,
            password_hash: "$argon2id$stub".into(),
            role: "user".into(),
            created_at: 1,
        })
        .await
        .expect("user");
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::new(
        store,
        Blobs::new(dir.path().join("blobs")),
        LedgerSettings {
            max_import_bytes: 1024,
        },
    );
    let me = principal();
    let book = ledger
        .create_book(
            &me,
            NewBook {
                name: "Home".into(),
                currency: "EUR".into(),
            },
        )
        .await
        .expect("book");
    let mut accounts = Vec::new();
    for (name, currency) in ACCOUNTS {
        let account = ledger
            .create_account(
                &me,
                &book.bid,
                NewAccount {
                    name: name.into(),
                    kind: "checking".into(),
                    currency: Some(currency.into()),
                    opening_balance: Some(OPENING),
                    opening_date: Some("2026-01-01".into()),
                },
            )
            .await
            .expect("account");
        accounts.push(account.aid);
    }
    (ledger, book.bid, accounts, dir)
}

/// What the model expects of one live transfer.
#[derive(Debug, Clone)]
struct Pair {
    sides: [String; 2],
    accounts: [usize; 2],
    amounts: [i64; 2],
    date: String,
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let (ledger, bid, accounts, _dir) = book().await;
    let me = principal();
    let mut live: Vec<Pair> = Vec::new();
    for op in ops {
        match op {
            Op::Transfer {
                from,
                to,
                amount,
                day: d,
            } => {
                let cross = ACCOUNTS[from].1 != ACCOUNTS[to].1;
                let arriving = if cross { amount * 3 / 2 + 1 } else { amount };
                let made = ledger
                    .create_transfer(
                        &me,
                        &bid,
                        NewTransfer {
                            from_account_id: accounts[from].clone(),
                            to_account_id: accounts[to].clone(),
                            date: day(d),
                            amount,
                            to_amount: cross.then_some(arriving),
                            description: None,
                            notes: None,
                        },
                    )
                    .await;
                if from == to {
                    prop_assert!(made.is_err(), "a transfer to its own account was made");
                    continue;
                }
                let made = made.map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(made.len(), 2);
                let out = made
                    .iter()
                    .position(|t| t.amount < 0)
                    .ok_or_else(|| TestCaseError::fail("no side leaves"))?;
                let side = |i: usize| made[i].tid.clone();
                live.push(Pair {
                    sides: [side(out), side(1 - out)],
                    accounts: [from, to],
                    amounts: [-amount, arriving],
                    date: day(d),
                });
            }
            Op::Delete { pick, side } if !live.is_empty() => {
                let pair = live.remove(pick % live.len());
                let mut deleted = ledger
                    .delete_transaction(&me, &bid, &pair.sides[side])
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                deleted.sort();
                let mut expected = pair.sides.to_vec();
                expected.sort();
                prop_assert_eq!(deleted, expected);
            }
            Op::Redate { pick, side, day: d } if !live.is_empty() => {
                let at = pick % live.len();
                ledger
                    .update_transaction(
                        &me,
                        &bid,
                        &live[at].sides[side],
                        TransactionPatch {
                            date: Some(day(d)),
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                live[at].date = day(d);
            }
            Op::Reprice { pick, side, amount }
                if !live.is_empty() && amount != live[pick % live.len()].amounts[side] =>
            {
                let pair = &live[pick % live.len()];
                let refused = ledger
                    .update_transaction(
                        &me,
                        &bid,
                        &pair.sides[side],
                        TransactionPatch {
                            amount: Some(amount),
                            ..Default::default()
                        },
                    )
                    .await;
                prop_assert!(
                    matches!(refused, Err(ServiceError::Conflict(_))),
                    "a transfer side's amount changed: {refused:?}"
                );
            }
            _ => {}
        }
    }
    check(&ledger, &bid, &accounts, &live).await
}

/// The book holds exactly the model's pairs, and the balances follow.
async fn check(
    ledger: &Ledger,
    bid: &str,
    accounts: &[String],
    live: &[Pair],
) -> Result<(), TestCaseError> {
    let me = principal();
    let listed = ledger
        .transactions(
            &me,
            bid,
            TransactionQuery {
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(listed.next_cursor.is_none());
    let mut by_link: BTreeMap<String, Vec<&TxnRecord>> = BTreeMap::new();
    for t in &listed.items {
        let link = t
            .transfer_id
            .clone()
            .ok_or_else(|| TestCaseError::fail("a row outside any transfer"))?;
        by_link.entry(link).or_default().push(t);
    }
    prop_assert_eq!(by_link.len(), live.len());
    for pair in live {
        let found: Vec<&TxnRecord> = listed
            .items
            .iter()
            .filter(|t| pair.sides.contains(&t.tid))
            .collect();
        prop_assert_eq!(found.len(), 2, "pair {:?}", pair);
        prop_assert_eq!(&found[0].transfer_id, &found[1].transfer_id);
        for (i, tid) in pair.sides.iter().enumerate() {
            let row = found
                .iter()
                .find(|t| &t.tid == tid)
                .ok_or_else(|| TestCaseError::fail("side missing"))?;
            prop_assert_eq!(&row.aid, &accounts[pair.accounts[i]]);
            prop_assert_eq!(row.amount, pair.amounts[i]);
            prop_assert_eq!(&row.currency, ACCOUNTS[pair.accounts[i]].1);
            prop_assert_eq!(&row.date, &pair.date);
        }
    }
    let balances = ledger
        .accounts(&me, bid)
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    for (i, aid) in accounts.iter().enumerate() {
        let expected = OPENING
            + live
                .iter()
                .flat_map(|p| (0..2).filter(|&s| p.accounts[s] == i).map(|s| p.amounts[s]))
                .sum::<i64>();
        let account = balances
            .iter()
            .find(|a| &a.aid == aid)
            .ok_or_else(|| TestCaseError::fail("account missing"))?;
        prop_assert_eq!(account.balance, expected, "account {}", ACCOUNTS[i].0);
    }
    // Between the two euro accounts money only moves.
    let euros: i64 = balances
        .iter()
        .filter(|a| a.currency == "EUR")
        .map(|a| a.balance)
        .sum();
    let crossing: i64 = live
        .iter()
        .filter(|p| ACCOUNTS[p.accounts[0]].1 != ACCOUNTS[p.accounts[1]].1)
        .flat_map(|p| {
            (0..2)
                .filter(|&s| ACCOUNTS[p.accounts[s]].1 == "EUR")
                .map(|s| p.amounts[s])
        })
        .sum();
    prop_assert_eq!(euros, 2 * OPENING + crossing);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn transfers_stay_whole_pairs(ops in proptest::collection::vec(op(), 1..16)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(run(ops))?;
    }
}
