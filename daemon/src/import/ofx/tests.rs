use proptest::prelude::*;

use super::*;

const SGML: &str = "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\nCHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n<OFX>\r\n<BANKMSGSRSV1><STMTTRNRS><STMTRS>\r\n<CURDEF>USD\r\n<BANKTRANLIST>\r\n<STMTTRN>\r\n<TRNTYPE>DEBIT\r\n<DTPOSTED>20260105120000[-5:EST]\r\n<TRNAMT>-42.17\r\n<FITID>2026010501\r\n<NAME>CORNER STORE &amp; DELI\r\n<MEMO>POS 1234\r\n</STMTTRN>\r\n<STMTTRN>\r\n<TRNTYPE>CREDIT\r\n<DTPOSTED>20260106\r\n<TRNAMT>1500.00\r\n<FITID>2026010601\r\n<NAME>ACME PAYROLL\r\n</STMTTRN>\r\n</BANKTRANLIST>\r\n</STMTRS></STMTTRNRS></BANKMSGSRSV1>\r\n</OFX>\r\n";

const XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX><CREDITCARDMSGSRSV1><CCSTMTTRNRS><CCSTMTRS>
<CURDEF>EUR</CURDEF>
<BANKTRANLIST>
<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260201</DTPOSTED><TRNAMT>-9.99</TRNAMT><FITID>A-1</FITID><NAME>Streaming &#x2013; monthly</NAME></STMTTRN>
</BANKTRANLIST>
</CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>
"#;

#[test]
fn sgml_ofx_1_is_read_with_bank_ids() {
    let statement = parse_ofx(SGML.as_bytes(), "EUR");
    assert_eq!(statement.problems, vec![]);
    assert_eq!(statement.currency.as_deref(), Some("USD"));
    let rows: Vec<(&str, i64, &str, Option<&str>, usize)> = statement
        .rows
        .iter()
        .map(|r| {
            (
                r.date.as_str(),
                r.amount,
                r.payee.as_str(),
                r.external_id.as_deref(),
                r.line,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "2026-01-05",
                -4217,
                "CORNER STORE & DELI",
                Some("2026010501"),
                15
            ),
            (
                "2026-01-06",
                150_000,
                "ACME PAYROLL",
                Some("2026010601"),
                23
            ),
        ]
    );
    assert_eq!(statement.rows[0].description, "POS 1234");
}

#[test]
fn xml_ofx_2_credit_card_statement() {
    let statement = parse_ofx(XML.as_bytes(), "USD");
    assert_eq!(statement.problems, vec![]);
    assert_eq!(statement.currency.as_deref(), Some("EUR"));
    assert_eq!(statement.rows.len(), 1);
    assert_eq!(statement.rows[0].payee, "Streaming \u{2013} monthly");
    assert_eq!(statement.rows[0].amount, -999);
}

#[test]
fn a_broken_header_is_refused_at_its_line() {
    let broken = SGML.replace("OFXHEADER:100", "OFXHEADER 100");
    let statement = parse_ofx(broken.as_bytes(), "USD");
    assert_eq!(statement.rows, vec![]);
    assert_eq!(statement.problems[0].line, 1);
    let garbage = SGML.replace("SECURITY:NONE", "SECURITY NONE");
    let statement = parse_ofx(garbage.as_bytes(), "USD");
    assert_eq!(statement.problems[0].line, 4, "{:?}", statement.problems);
    let statement = parse_ofx(b"date,amount\n2026-01-01,1\n", "USD");
    assert!(statement.problems[0].message.contains("OFX header"));
}

#[test]
fn entities_are_never_expanded_and_doctypes_refused() {
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<?OFX OFXHEADER="200"?>
<OFX><STMTTRN><DTPOSTED>20260101</DTPOSTED><TRNAMT>1</TRNAMT><NAME>&lol2;</NAME></STMTTRN></OFX>"#;
    let statement = parse_ofx(bomb.as_bytes(), "USD");
    assert_eq!(statement.rows, vec![]);
    assert!(
        statement.problems[0].message.contains("refused"),
        "{:?}",
        statement.problems
    );
    let external = XML.replace("Streaming &#x2013; monthly", "&xxe;");
    let statement = parse_ofx(external.as_bytes(), "USD");
    assert!(
        statement.problems[0].message.contains("unknown entity"),
        "{:?}",
        statement.problems
    );
}

#[test]
fn bad_transactions_are_problems_and_the_rest_is_read() {
    let bad = SGML
        .replace("<TRNAMT>-42.17", "<TRNAMT>-42.1x7")
        .replace("20260106", "20260231");
    let statement = parse_ofx(bad.as_bytes(), "USD");
    assert_eq!(statement.rows.len(), 0);
    let lines: Vec<usize> = statement.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [18, 25]);
}

proptest! {
    #[test]
    fn any_bytes_give_rows_or_problems(bytes in proptest::collection::vec(any::<u8>(), 0..800)) {
        let _ = parse_ofx(&bytes, "USD");
    }

    /// Mutations of a real file: cut, or one byte changed.
    #[test]
    fn damaged_files_give_rows_or_problems(cut in 0usize..SGML.len(), at in 0usize..SGML.len(), byte in any::<u8>()) {
        let mut bytes = SGML.as_bytes()[..cut].to_vec();
        if at < bytes.len() {
            bytes[at] = byte;
        }
        let statement = parse_ofx(&bytes, "USD");
        for row in statement.rows {
            prop_assert!(crate::domain::receipt::is_iso_date(&row.date));
        }
    }
}

#[test]
fn hostile_text_is_read_in_linear_time_and_several_statements_are_refused() {
    // A million bare '&' in one value: once quadratic (each '&' looked for
    // its ';' to the end of the file), now one pass.
    let value = "&".repeat(1_000_000);
    let file = SGML.replace("CORNER STORE &amp; DELI", &value);
    let statement = parse_ofx(file.as_bytes(), "USD");
    assert_eq!(statement.rows[0].payee.len(), 1_000_000);
    let two = SGML.replace("</STMTRS>", "</STMTRS><STMTRS><CURDEF>USD</STMTRS>");
    let statement = parse_ofx(two.as_bytes(), "USD");
    assert!(
        statement
            .problems
            .iter()
            .any(|p| p.message.contains("2 statements")),
        "{:?}",
        statement.problems
    );
}
