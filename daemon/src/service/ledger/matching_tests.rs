//! Matching's search for bank lines on a real (in-memory) store: however
//! many lines share the receipts' amounts, the latest are read too.

use super::transfers_tests::{book, principal};
use super::*;
use crate::domain::matching::ReceiptFacts;

fn receipt(date: &str) -> ReceiptFacts {
    ReceiptFacts {
        total: 1234,
        currency: "EUR".into(),
        date: date.into(),
        merchant: "Bakery".into(),
    }
}

#[tokio::test]
async fn candidate_lines_are_read_a_page_at_a_time_to_the_last() {
    let (ledger, bid, accounts, _dir) = book().await;
    let me = principal();
    // Three lines on one day, so that a page ends inside a day; a line in
    // the other account; and lines that are no candidates (another
    // amount, too late for the last receipt).
    let lines = [
        (0, "2026-04-10", -1234),
        (0, "2026-04-10", -1234),
        (0, "2026-04-10", -1234),
        (1, "2026-04-11", -1234),
        (0, "2026-04-11", -999),
        (0, "2026-04-12", -1234),
        (0, "2026-04-20", -1234),
        (0, "2026-05-30", -1234),
    ];
    for (account, date, amount) in lines {
        ledger
            .create_transaction(
                &me,
                &bid,
                NewTransaction {
                    account_id: accounts[account].clone(),
                    date: date.into(),
                    amount,
                    payee: Some("Bakery".into()),
                    description: None,
                    category_id: None,
                    tags: None,
                    notes: None,
                    state: None,
                    splits: None,
                    receipts: None,
                },
            )
            .await
            .expect("line");
    }
    let receipts = [receipt("2026-04-09"), receipt("2026-04-13")];
    let receipts: Vec<&ReceiptFacts> = receipts.iter().collect();
    let all = ledger
        .candidates("u1", &bid, &receipts, 100)
        .await
        .expect("one page");
    // From two days before the first receipt to seven after the last.
    let dates: Vec<&str> = all.iter().map(|t| t.date.as_str()).collect();
    assert_eq!(
        dates,
        [
            "2026-04-10",
            "2026-04-10",
            "2026-04-10",
            "2026-04-11",
            "2026-04-12",
            "2026-04-20"
        ]
    );
    for page in [1, 2, 4] {
        let paged = ledger
            .candidates("u1", &bid, &receipts, page)
            .await
            .expect("pages");
        let tids = |lines: &[crate::store::TxnRecord]| -> Vec<String> {
            lines.iter().map(|t| t.tid.clone()).collect()
        };
        assert_eq!(tids(&paged), tids(&all), "pages of {page}");
    }
}
