//! Imports through the use cases on a real (in-memory) store.

use bytes::Bytes;

use super::transfers_tests::{book, principal};
use super::*;

/// An OFX 2 statement in euros with one line per `(FITID, YYYYMMDD)`.
fn ofx(lines: &[(&str, &str)]) -> Bytes {
    let mut text = String::from(
        "<?xml version=\"1.0\"?><?OFX OFXHEADER=\"200\" VERSION=\"220\"?><OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR</CURDEF><BANKTRANLIST>",
    );
    for (fitid, day) in lines {
        text.push_str(&format!(
            "<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>{day}</DTPOSTED><TRNAMT>-12.34</TRNAMT><FITID>{fitid}</FITID><NAME>Bakery</NAME></STMTTRN>"
        ));
    }
    text.push_str("</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>");
    Bytes::from(text)
}

fn upload(account: &str, bytes: Bytes) -> Upload {
    Upload {
        account_id: account.into(),
        format: "ofx".into(),
        preset: None,
        date_order: None,
        filename: "statement.ofx".into(),
        bytes,
    }
}

#[tokio::test]
async fn a_bank_id_dated_otherwise_in_a_later_statement_is_a_duplicate() {
    let (ledger, bid, accounts, _dir) = book().await;
    let me = principal();
    let first = ledger
        .preview_import(&me, &bid, upload(&accounts[0], ofx(&[("F1", "20260301")])))
        .await
        .expect("first preview");
    ledger
        .commit_import(&me, &bid, &first.import.iid, &[])
        .await
        .expect("first commit");
    // The next statement dates F1 eight days later (booked, then valued),
    // so F1's first date is outside this file's days; F3 is new.
    let second = ledger
        .preview_import(
            &me,
            &bid,
            upload(&accounts[0], ofx(&[("F1", "20260309"), ("F3", "20260312")])),
        )
        .await
        .expect("second preview");
    let flags: Vec<bool> = second
        .rows
        .iter()
        .map(|r| r.duplicate_of.is_some())
        .collect();
    assert_eq!(flags, [true, false]);
    // Another account's F1 is another transaction.
    let other = ledger
        .preview_import(&me, &bid, upload(&accounts[1], ofx(&[("F1", "20260301")])))
        .await
        .expect("other account");
    assert!(other.rows[0].duplicate_of.is_none());
}
