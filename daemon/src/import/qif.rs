//! QIF (Quicken Interchange Format) bank, cash and credit-card lists: a
//! `!Type:` line, then records of one-letter fields (`D` date, `T`/`U`
//! amount, `P` payee, `M` memo, `L` category, `N` number) each ended by
//! `^`. QIF writes dates in the writer's locale: month first unless a day
//! over 12 shows the file is day first, or the caller says so.

use super::amount::{NumberFormat, parse_amount};
use super::text::{Encoding, decode};
use super::{MAX_ROWS, Problem, Row, Statement};

/// The order of day and month in a QIF file's dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    MonthFirst,
    DayFirst,
    /// Day first if any date's first number is over 12, else month first.
    Detect,
}

const LIST_TYPES: [&str; 6] = ["bank", "cash", "ccard", "oth a", "oth l", "invoice"];

#[derive(Default)]
struct Record {
    line: usize,
    date: Option<(String, usize)>,
    amount: Option<(String, usize)>,
    payee: String,
    memo: String,
    category: String,
}

pub fn parse_qif(bytes: &[u8], digits: u32, order: DateOrder) -> Statement {
    let mut statement = Statement::default();
    let text = match decode(bytes, Encoding::Detect) {
        Ok(text) => text,
        Err(problem) => {
            statement.problem(problem);
            return statement;
        }
    };
    let mut records = Vec::new();
    let mut current = Record::default();
    let mut in_list = false;
    let mut seen_type = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim_end_matches('\r');
        if content.trim().is_empty() {
            continue;
        }
        if let Some(header) = content.strip_prefix('!') {
            let header = header.trim();
            if let Some(kind) = header
                .strip_prefix("Type:")
                .or_else(|| header.strip_prefix("type:"))
            {
                let kind = kind.trim().to_ascii_lowercase();
                if !LIST_TYPES.contains(&kind.as_str()) {
                    statement.problem(Problem::at(line, Some(2), format!("QIF lists of type {kind:?} are not bank statements (Bank, Cash, CCard, Oth A, Oth L)")));
                    return statement;
                }
                in_list = true;
                seen_type = true;
            } else {
                // !Account, !Option:... : blocks that are not transactions.
                in_list = false;
            }
            continue;
        }
        if !seen_type {
            statement.problem(Problem::at(
                line,
                Some(1),
                "a QIF file starts with a !Type: line (e.g. !Type:Bank)",
            ));
            return statement;
        }
        if !in_list {
            continue;
        }
        let mut chars = content.chars();
        let code = chars.next().unwrap_or('^');
        let value = chars.as_str().trim().to_string();
        if current.line == 0 {
            current.line = line;
        }
        match code {
            '^' => {
                records.push(std::mem::take(&mut current));
                if records.len() > MAX_ROWS {
                    statement.problem(Problem::at(
                        line,
                        None,
                        format!("more than {MAX_ROWS} transactions: split the file"),
                    ));
                    return statement;
                }
            }
            'D' => current.date = Some((value, line)),
            'T' | 'U' => current.amount = Some((value, line)),
            'P' => current.payee = value,
            'M' => current.memo = value,
            'L' => current.category = value,
            // Number, cleared flag, address, splits (S, E, $): not needed.
            'N' | 'C' | 'A' | 'S' | 'E' | '$' | '%' => {}
            other => statement.problem(Problem::at(
                line,
                Some(1),
                format!("unknown QIF field code {other:?}"),
            )),
        }
    }
    if current.line != 0 && (current.date.is_some() || current.amount.is_some()) {
        statement.problem(Problem::at(
            current.line,
            None,
            "the last record has no closing ^",
        ));
    }
    if !seen_type {
        statement.problem(Problem::at(1, None, "the file is empty, or not QIF"));
        return statement;
    }
    let day_first = match order {
        DateOrder::DayFirst => true,
        DateOrder::MonthFirst => false,
        DateOrder::Detect => records
            .iter()
            .filter_map(|r| r.date.as_ref())
            .any(|(d, _)| numbers(d).first().is_some_and(|&n| n > 12 && n <= 31)),
    };
    for record in records {
        match finish(record, digits, day_first) {
            Ok(row) => statement.rows.push(row),
            Err(problem) => statement.problem(problem),
        }
    }
    statement
}

/// The numbers of a QIF date (`1/ 5'26`, `01/05/2026`, `2026-01-05`).
fn numbers(text: &str) -> Vec<u32> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn qif_date(text: &str, day_first: bool) -> Result<String, String> {
    let fail = || format!("{text:?} is not a QIF date");
    let parts: Vec<&str> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .collect();
    let [a, b, c] = parts.as_slice() else {
        return Err(fail());
    };
    let n = |p: &str| p.parse::<u32>().map_err(|_| fail());
    let (year, month, day) = if a.len() == 4 {
        (n(a)?, n(b)?, n(c)?)
    } else {
        let year = match c.len() {
            4 => n(c)?,
            // `'26` and `/26`: two-digit years; Quicken writes 19xx with '/' and 20xx with '.
            2 | 1 => {
                let y = n(c)?;
                if y >= 70 { 1900 + y } else { 2000 + y }
            }
            _ => return Err(fail()),
        };
        if day_first {
            (year, n(b)?, n(a)?)
        } else {
            (year, n(a)?, n(b)?)
        }
    };
    let iso = format!("{year:04}-{month:02}-{day:02}");
    if crate::domain::receipt::is_iso_date(&iso) {
        Ok(iso)
    } else {
        Err(format!("{text:?} is not a calendar day"))
    }
}

fn finish(record: Record, digits: u32, day_first: bool) -> Result<Row, Problem> {
    let (date, date_line) = record
        .date
        .ok_or_else(|| Problem::at(record.line, None, "a record without a date (D)"))?;
    let (amount, amount_line) = record
        .amount
        .ok_or_else(|| Problem::at(record.line, None, "a record without an amount (T)"))?;
    let date = qif_date(&date, day_first).map_err(|e| Problem::at(date_line, Some(2), e))?;
    // Point decimals unless a comma comes last (`1.234,56`).
    let format = match (amount.rfind(','), amount.rfind('.')) {
        (Some(comma), Some(point)) if comma > point => NumberFormat::COMMA,
        (Some(comma), None) if amount.len() - comma == 3 => NumberFormat {
            decimal: ',',
            thousands: None,
        },
        _ => NumberFormat::POINT,
    };
    let amount =
        parse_amount(&amount, format, digits).map_err(|e| Problem::at(amount_line, Some(2), e))?;
    let description = [record.memo.as_str(), record.category.as_str()]
        .iter()
        .filter(|t| !t.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Row {
        line: record.line,
        date,
        amount,
        payee: record.payee,
        description,
        external_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FILE: &str = "!Type:Bank\nD1/5'26\nT-42.17\nPCorner Store\nMPOS 1234\nLGroceries\n^\nD01/06/2026\nT1,500.00\nPAcme Payroll\n^\n";

    #[test]
    fn a_bank_list_is_read() {
        let statement = parse_qif(FILE.as_bytes(), 2, DateOrder::Detect);
        assert_eq!(statement.problems, vec![]);
        let rows: Vec<(&str, i64, &str, usize)> = statement
            .rows
            .iter()
            .map(|r| (r.date.as_str(), r.amount, r.payee.as_str(), r.line))
            .collect();
        assert_eq!(
            rows,
            [
                ("2026-01-05", -4217, "Corner Store", 2),
                ("2026-01-06", 150_000, "Acme Payroll", 8)
            ]
        );
        assert_eq!(statement.rows[0].description, "POS 1234 Groceries");
    }

    #[test]
    fn day_first_files_are_detected_and_european_amounts_read() {
        let file = "!Type:Bank\nD25.01.2026\nT-1.234,56\nPMiete\n^\nD03.02.2026\nT12,00\n^\n";
        let statement = parse_qif(file.as_bytes(), 2, DateOrder::Detect);
        assert_eq!(statement.problems, vec![]);
        assert_eq!(statement.rows[1].date, "2026-02-03");
        assert_eq!(statement.rows[0].amount, -123_456);
        assert_eq!(statement.rows[1].amount, 1_200);
    }

    #[test]
    fn bad_records_and_files_are_problems_with_places() {
        let file =
            "!Type:Bank\nD02/30/2026\nT-1.00\n^\nD01/02/2026\nT1.2x\n^\nD01/03/2026\n^\nX?\n";
        let statement = parse_qif(file.as_bytes(), 2, DateOrder::MonthFirst);
        let places: Vec<(usize, Option<usize>)> = statement
            .problems
            .iter()
            .map(|p| (p.line, p.column))
            .collect();
        assert_eq!(
            places,
            [(10, Some(1)), (2, Some(2)), (6, Some(2)), (8, None)],
            "{:?}",
            statement.problems
        );
        let statement = parse_qif(b"!Type:Invst\nD1/1/26\n^\n", 2, DateOrder::Detect);
        assert!(
            statement.problems[0]
                .message
                .contains("not bank statements")
        );
        let statement = parse_qif(b"D1/1/26\n^\n", 2, DateOrder::Detect);
        assert!(statement.problems[0].message.contains("!Type:"));
    }

    proptest! {
        #[test]
        fn any_bytes_give_rows_or_problems(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_qif(&bytes, 2, DateOrder::Detect);
        }

        #[test]
        fn damaged_files_give_rows_or_problems(cut in 0usize..FILE.len(), at in 0usize..FILE.len(), byte in any::<u8>()) {
            let mut bytes = FILE.as_bytes()[..cut].to_vec();
            if at < bytes.len() {
                bytes[at] = byte;
            }
            for row in parse_qif(&bytes, 2, DateOrder::Detect).rows {
                prop_assert!(crate::domain::receipt::is_iso_date(&row.date));
            }
        }
    }
}
