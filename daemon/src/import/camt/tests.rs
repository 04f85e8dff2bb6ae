use proptest::prelude::*;

use super::*;

const FILE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-02-01T06:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>S1</Id>
      <Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Ntry>
        <Amt Ccy="EUR">1234.56</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-01-30</Dt></BookgDt>
        <ValDt><Dt>2026-01-31</Dt></ValDt>
        <AcctSvcrRef>REF-0001</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <RltdPties><Cdtr><Nm>Hausverwaltung M&#252;ller &amp; Co</Nm></Cdtr></RltdPties>
          <RmtInf><Ustrd>Miete Februar</Ustrd><Ustrd>Whg 3</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">2500.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <BookgDt><DtTm>2026-01-31T09:12:00</DtTm></BookgDt>
        <AcctSvcrRef>REF-0002</AcctSvcrRef>
        <NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Acme GmbH</Nm></Dbtr></RltdPties></TxDtls></NtryDtls>
        <AddtlNtryInf>GEHALT</AddtlNtryInf>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"#;

#[test]
fn entries_are_signed_dated_named_and_identified() {
    let statement = parse_camt(FILE.as_bytes(), "USD");
    assert_eq!(statement.problems, vec![]);
    assert_eq!(statement.currency.as_deref(), Some("EUR"));
    type Seen<'a> = (usize, &'a str, i64, &'a str, &'a str, Option<&'a str>);
    let rows: Vec<Seen> = statement
        .rows
        .iter()
        .map(|r| {
            (
                r.line,
                r.date.as_str(),
                r.amount,
                r.payee.as_str(),
                r.description.as_str(),
                r.external_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                8,
                "2026-01-30",
                -123_456,
                "Hausverwaltung Müller & Co",
                "Miete Februar Whg 3",
                Some("REF-0001")
            ),
            (
                20,
                "2026-01-31",
                250_000,
                "Acme GmbH",
                "GEHALT",
                Some("REF-0002")
            ),
        ]
    );
}

#[test]
fn an_entity_bomb_and_an_external_entity_are_refused() {
    let bomb = FILE.replace(
        "<Document",
        "<!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n<Document",
    );
    let statement = parse_camt(bomb.as_bytes(), "EUR");
    assert_eq!(statement.rows, vec![]);
    assert_eq!(statement.problems[0].line, 2);
    assert!(statement.problems[0].message.contains("DOCTYPE"));
    let external = FILE.replace("Miete Februar", "&xxe;");
    let statement = parse_camt(external.as_bytes(), "EUR");
    assert!(
        statement.problems[0].message.contains("unknown entity"),
        "{:?}",
        statement.problems
    );
}

#[test]
fn bad_entries_and_other_documents_are_problems() {
    let bad = FILE
        .replace("1234.56", "12x4.56")
        .replace("<Amt Ccy=\"EUR\">2500.00", "<Amt Ccy=\"USD\">2500.00");
    let statement = parse_camt(bad.as_bytes(), "EUR");
    assert_eq!(statement.rows, vec![]);
    let lines: Vec<usize> = statement.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [8, 20]);
    let statement = parse_camt(b"<Document><BkToCstmrDbtCdtNtfctn/></Document>", "EUR");
    assert!(statement.problems[0].message.contains("CAMT.053"));
    let statement = parse_camt(b"<Document><BkToCstmrStmt><Stmt>", "EUR");
    assert!(statement.rows.is_empty());
    let statement = parse_camt(b"<a></b>", "EUR");
    assert!(
        statement.problems[0].message.contains("does not parse"),
        "{:?}",
        statement.problems
    );
}

proptest! {
    #[test]
    fn any_bytes_give_rows_or_problems(bytes in proptest::collection::vec(any::<u8>(), 0..800)) {
        let _ = parse_camt(&bytes, "EUR");
    }

    #[test]
    fn damaged_files_give_rows_or_problems(cut in 0usize..FILE.len(), at in 0usize..FILE.len(), byte in any::<u8>()) {
        let mut bytes = FILE.as_bytes()[..cut].to_vec();
        if at < bytes.len() {
            bytes[at] = byte;
        }
        for row in parse_camt(&bytes, "EUR").rows {
            prop_assert!(crate::domain::receipt::is_iso_date(&row.date));
        }
    }
}

#[test]
fn deep_nesting_and_several_statements_are_refused() {
    let deep = format!("<Document>{}", "<a>".repeat(10_000));
    let statement = parse_camt(deep.as_bytes(), "EUR");
    assert!(
        statement.problems[0].message.contains("nested deeper"),
        "{:?}",
        statement.problems
    );
    let two = FILE.replace(
        "    </Stmt>\n",
        "    </Stmt>\n    <Stmt><Acct><Ccy>EUR</Ccy></Acct></Stmt>\n",
    );
    let statement = parse_camt(two.as_bytes(), "EUR");
    assert!(
        statement.problems[0].message.contains("several statements"),
        "{:?}",
        statement.problems
    );
}

#[test]
fn entries_not_booked_are_skipped_and_named_not_imported() {
    // The first entry pending (the pre-2019 form), the second booked in the
    // camt.053.001.08 form, where the status is a code element.
    let file = FILE.replace("<Sts>BOOK</Sts>", "<Sts>PDNG</Sts>").replace(
        "<CdtDbtInd>CRDT</CdtDbtInd>",
        "<CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>",
    );
    let statement = parse_camt(file.as_bytes(), "EUR");
    assert_eq!(statement.problems, vec![]);
    let lines: Vec<usize> = statement.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [20]);
    assert_eq!(statement.skipped.len(), 1);
    assert_eq!(statement.skipped[0].line, 8);
    assert!(
        statement.skipped[0].message.contains("PDNG"),
        "{:?}",
        statement.skipped
    );
    // A pending entry that would be a problem is skipped, not a problem:
    // it is not a transaction yet.
    let file = FILE
        .replace("<Sts>BOOK</Sts>", "<Sts><Cd>INFO</Cd></Sts>")
        .replace("1234.56", "n/a");
    let statement = parse_camt(file.as_bytes(), "EUR");
    assert_eq!(statement.problems, vec![]);
    assert_eq!(statement.rows.len(), 1);
    assert!(statement.skipped[0].message.contains("INFO"));
}
