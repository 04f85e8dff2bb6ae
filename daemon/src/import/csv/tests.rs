use proptest::prelude::*;

use super::*;
use crate::import::presets::preset_from_toml;

fn preset(extra: &str, columns: &str) -> Preset {
    preset_from_toml(&format!(
        "name = \"t\"\ndate_format = \"%Y-%m-%d\"\n{extra}\n[columns]\n{columns}\n"
    ))
    .expect("preset")
}

fn signed() -> Preset {
    preset(
        "",
        "date = \"date\"\namount = \"amount\"\npayee = \"payee\"\ndescription = [\"memo\"]",
    )
}

#[test]
fn a_plain_file_reads_row_by_row_with_line_numbers() {
    let file = b"date,amount,payee,memo\n2026-01-02,-12.50,Bakery,bread\n\n2026-01-03,1000,\"Employer, Inc\",\"salary\nJanuary\"\n2026-01-04,-3,Shop,\n";
    let statement = parse_csv(file, &signed(), 2);
    assert_eq!(statement.problems, vec![]);
    let rows: Vec<(usize, &str, i64, &str, &str)> = statement
        .rows
        .iter()
        .map(|r| {
            (
                r.line,
                r.date.as_str(),
                r.amount,
                r.payee.as_str(),
                r.description.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (2, "2026-01-02", -1250, "Bakery", "bread"),
            (4, "2026-01-03", 100_000, "Employer, Inc", "salary\nJanuary"),
            (6, "2026-01-04", -300, "Shop", ""),
        ]
    );
}

#[test]
fn bad_rows_are_problems_naming_line_and_column() {
    let file = b"date,amount,payee,memo\n2026-02-30,-1.00,A,x\n2026-03-01,12.3x4,B,y\n2026-03-02\n2026-03-03,-2.00,C,z\n";
    let statement = parse_csv(file, &signed(), 2);
    let places: Vec<(usize, Option<usize>)> = statement
        .problems
        .iter()
        .map(|p| (p.line, p.column))
        .collect();
    assert_eq!(places, [(2, Some(1)), (3, Some(2)), (4, None)]);
    assert!(
        statement.problems[2].message.contains("1 cells"),
        "{:?}",
        statement.problems[2]
    );
    assert_eq!(
        statement.rows.len(),
        1,
        "the good row is still read, for the preview"
    );
}

#[test]
fn european_files_in_windows_1252_with_a_title_block() {
    let preset = preset_from_toml(include_str!("../presets/eu-semicolon.toml")).expect("preset");
    let preset = Preset {
        skip_lines: 2,
        ..preset
    };
    let file = b"Kontoauszug \"Giro\";;\n\nBuchungstag;Betrag;Beguenstigter/Zahlungspflichtiger;Verwendungszweck\n03.02.2026;-1.234,56;M\xfcller GmbH;Miete\n04.02.2026;12,00;Caf\xe9;\n";
    let statement = parse_csv(file, &preset, 2);
    assert_eq!(statement.problems, vec![]);
    assert_eq!(statement.rows[0].payee, "Müller GmbH");
    assert_eq!(statement.rows[0].amount, -123_456);
    assert_eq!(statement.rows[0].line, 4);
    assert_eq!(statement.rows[1].payee, "Café");
}

#[test]
fn a_file_said_to_be_utf8_that_is_not_is_refused_where_it_breaks() {
    let preset = Preset {
        encoding: "utf-8".into(),
        ..signed()
    };
    let statement = parse_csv(
        b"date,amount,payee,memo\n2026-01-02,-1,Caf\xe9,\n",
        &preset,
        2,
    );
    assert_eq!(statement.rows, vec![]);
    assert_eq!(
        (statement.problems[0].line, statement.problems[0].column),
        (2, Some(18))
    );
}

#[test]
fn debit_and_credit_columns() {
    let preset =
        preset_from_toml(include_str!("../presets/uk-dmy-debit-credit.toml")).expect("preset");
    let file = b"Date,Description,Paid out,Paid in\n01/02/2026,Rent,\"1,200.00\",\n02/02/2026,Salary,,\"2,500.00\"\n03/02/2026,Both,1.00,2.00\n04/02/2026,Neither,,\n";
    let statement = parse_csv(file, &preset, 2);
    let amounts: Vec<i64> = statement.rows.iter().map(|r| r.amount).collect();
    assert_eq!(amounts, [-120_000, 250_000]);
    assert_eq!(statement.problems.len(), 2);
    assert_eq!(statement.rows[0].date, "2026-02-01", "day first");
}

#[test]
fn formula_cells_stay_text_and_formula_amounts_are_errors() {
    let file = b"date,amount,payee,memo\n2026-01-02,-1.00,\"=HYPERLINK(\"\"http://x\"\")\",@SUM(A1)\n2026-01-03,=1+2,Shop,\n";
    let statement = parse_csv(file, &signed(), 2);
    assert_eq!(statement.rows.len(), 1);
    assert_eq!(statement.rows[0].payee, "=HYPERLINK(\"http://x\")");
    assert_eq!(statement.rows[0].description, "@SUM(A1)");
    assert_eq!(
        (statement.problems[0].line, statement.problems[0].column),
        (3, Some(2))
    );
}

#[test]
fn a_missing_header_column_or_an_empty_file_is_one_clear_problem() {
    let statement = parse_csv(b"day,amount,payee,memo\n2026-01-02,1,A,\n", &signed(), 2);
    assert_eq!(statement.problems.len(), 1);
    assert!(statement.problems[0].message.contains("\"date\""));
    let statement = parse_csv(b"", &signed(), 2);
    assert!(statement.problems[0].message.contains("no rows"));
}

proptest! {
    /// Whatever the bytes, the parser answers (rows and problems) without
    /// panicking, every row is a calendar day, and no problem points past
    /// the file's last line.
    #[test]
    fn any_bytes_give_rows_or_problems(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let statement = parse_csv(&bytes, &signed(), 2);
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
        for row in &statement.rows {
            prop_assert!(crate::domain::receipt::is_iso_date(&row.date));
        }
        for problem in &statement.problems {
            prop_assert!(problem.line <= lines, "{problem:?} past line {lines}");
        }
    }

    /// Text shaped like a statement: rows written by the generator are read back exactly.
    #[test]
    fn written_rows_read_back(rows in proptest::collection::vec(
        (2000u32..2100, 1u32..13, 1u32..29, -10_000_000i64..10_000_000, "[A-Za-z ,\"=]{0,12}"), 0..30)) {
        let mut file = String::from("date,amount,payee,memo\n");
        for (y, m, d, amount, payee) in &rows {
            let sign = if *amount < 0 { "-" } else { "" };
            let abs = amount.unsigned_abs();
            file.push_str(&format!("{y}-{m:02}-{d:02},{sign}{}.{:02},\"{}\",\n", abs / 100, abs % 100, payee.replace('"', "\"\"")));
        }
        let statement = parse_csv(file.as_bytes(), &signed(), 2);
        prop_assert_eq!(statement.problems.len(), 0, "{:?}", statement.problems);
        prop_assert_eq!(statement.rows.len(), rows.len());
        for (row, (_, _, _, amount, payee)) in statement.rows.iter().zip(&rows) {
            prop_assert_eq!(row.amount, *amount);
            prop_assert_eq!(&row.payee, payee.trim());
        }
    }
}
