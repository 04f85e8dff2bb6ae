//! The export's record counts against the records there are, whatever the
//! text in them.

use proptest::prelude::*;

use super::archive::records_in;
use super::fixtures::{household, txn};

#[test]
fn records_are_the_objects_at_the_top_of_the_insert() {
    assert_eq!(
        records_in("INSERT [ { id: a:1, x: { y: [1, {z: 2}] } }, { id: a:2 } ];"),
        2
    );
    assert_eq!(
        records_in("INSERT [ { id: a:1, s: '}{ \\' {' }, { id: a:⟨}{⟩ } ];"),
        2
    );
    assert_eq!(records_in("INSERT [  ];"), 0);
}

#[tokio::test]
async fn an_export_counts_every_record_whatever_its_text() {
    let store = household().await;
    let payees = [
        "plain",
        "O'Brien \"quoted\" {brace} [bracket] (paren)",
        "⟨angle⟩ `tick` \\ back\\slash \\' \\\"",
        "line\nbreak\ttab",
        "}}}]]]'''\"\"\"",
    ];
    let rows: Vec<_> = payees
        .iter()
        .enumerate()
        .map(|(n, payee)| {
            let mut t = txn(&format!("t{n}"), "a1", -1, None);
            t.payee = payee.to_string();
            t.notes = format!("{{{payee}}}");
            t
        })
        .collect();
    for row in rows {
        store
            .create_transactions("alice", "b1", &[row])
            .await
            .expect("txn");
    }
    let mut export = store.export().await.expect("export");
    while let Some(part) = export.next_part().await {
        part.expect("part");
    }
    let counted = export.counts().clone();
    let actual = store.table_counts().await.expect("counts");
    assert_eq!(counted["txn"], 5);
    for (table, n) in &actual {
        assert_eq!(counted.get(table), Some(n), "{table}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn any_payee_is_counted_once(payee in "\\PC{0,40}", notes in "[\\\\'\"`{}\\[\\]()⟨⟩ a-z]{0,30}") {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let store = household().await;
            let mut t = txn("t1", "a1", -1, None);
            t.payee = payee.clone();
            t.notes = notes.clone();
            store.create_transactions("alice", "b1", &[t]).await.expect("txn");
            let mut export = store.export().await.expect("export");
            while let Some(part) = export.next_part().await {
                part.expect("part");
            }
            assert_eq!(export.counts().get("txn"), Some(&1), "{payee:?} {notes:?}");
        });
    }
}
