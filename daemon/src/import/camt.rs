//! CAMT.053 (ISO 20022 bank-to-customer statement) XML: each `Ntry` is a
//! row, signed by `CdtDbtInd`, dated by its booking date, named by the
//! other party (the creditor of a debit, the debtor of a credit), described
//! by its remittance text, identified by the bank's `AcctSvcrRef`. Only
//! booked entries (`Sts` BOOK, or none given) are transactions: a pending
//! entry comes again, booked, in a later statement, so it is skipped and
//! listed rather than imported twice. A
//! DOCTYPE is refused and no entity but the five XML escapes and character
//! references is read, so neither an entity bomb nor an external entity
//! can do anything.

use quick_xml::events::Event;

use super::amount::{NumberFormat, parse_amount};
use super::text::{Encoding, decode};
use super::{MAX_ROWS, Problem, Row, Statement};
use crate::domain::money::{is_currency_code, minor_unit_digits};

#[derive(Default)]
struct Entry {
    line: usize,
    amount: Option<String>,
    currency: Option<String>,
    credit: Option<bool>,
    status: Option<String>,
    booked: Option<String>,
    valued: Option<String>,
    reference: Option<String>,
    entry_ref: Option<String>,
    creditor: Option<String>,
    debtor: Option<String>,
    remittance: Vec<String>,
    additional: Option<String>,
}

/// Reads a CAMT.053 file; amounts in minor units of `currency` unless the
/// statement names its account's own (`Acct/Ccy`).
pub fn parse_camt(bytes: &[u8], currency: &str) -> Statement {
    let mut statement = Statement::default();
    let text = match decode(bytes, Encoding::Detect) {
        Ok(text) => text,
        Err(problem) => {
            statement.problem(problem);
            return statement;
        }
    };
    let mut lines = LineCounter::new(&text);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut path: Vec<String> = Vec::new();
    let mut buffer = String::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut entry: Option<Entry> = None;
    let mut declared: Option<String> = None;
    let mut is_statement = false;
    let mut statements = 0;
    loop {
        let at = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let line = lines.at(reader.error_position());
                statement.problem(Problem::at(
                    line,
                    None,
                    format!("the XML does not parse: {e}"),
                ));
                return statement;
            }
        };
        match event {
            Event::Eof => break,
            Event::DocType(_) => {
                statement.problem(Problem::at(
                    lines.at(at),
                    None,
                    "DOCTYPE declarations are refused: no entity is expanded or fetched",
                ));
                return statement;
            }
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                buffer.clear();
                if path.len() >= MAX_DEPTH {
                    statement.problem(Problem::at(
                        lines.at(at),
                        None,
                        format!("elements nested deeper than {MAX_DEPTH}"),
                    ));
                    return statement;
                }
                if name == "Stmt" {
                    statements += 1;
                    if statements > 1 {
                        statement.problem(Problem::at(lines.at(at), None, "the file holds several statements (accounts); import each account's own file"));
                        return statement;
                    }
                }
                if name == "BkToCstmrStmt" {
                    is_statement = true;
                }
                if name == "Ntry" && path.last().is_some_and(|p| p == "Stmt") {
                    entry = Some(Entry {
                        line: lines.at(at),
                        ..Entry::default()
                    });
                }
                if name == "Amt"
                    && path.last().is_some_and(|p| p == "Ntry")
                    && let (Some(e), Ok(Some(ccy))) =
                        (entry.as_mut(), start.try_get_attribute("Ccy"))
                {
                    e.currency = ccy.unescape_value().ok().map(|v| v.trim().to_string());
                }
                path.push(name);
            }
            Event::Text(t) => match t.decode() {
                Ok(s) => buffer.push_str(&s),
                Err(e) => {
                    statement.problem(Problem::at(
                        lines.at(at),
                        None,
                        format!("text that does not decode: {e}"),
                    ));
                    return statement;
                }
            },
            Event::CData(t) => buffer.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => {
                let name = String::from_utf8_lossy(&r).into_owned();
                let c = match name.as_str() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => r.resolve_char_ref().ok().flatten(),
                };
                match c {
                    Some(c) => buffer.push(c),
                    None => {
                        statement.problem(Problem::at(
                            lines.at(at),
                            None,
                            format!("unknown entity &{name}; (none is expanded)"),
                        ));
                        return statement;
                    }
                }
            }
            Event::End(_) => {
                let value = buffer.trim().to_string();
                buffer.clear();
                if let Some(e) = entry.as_mut() {
                    take(e, &path, value.clone());
                }
                if ends(&path, &["Stmt", "Acct", "Ccy"]) && is_currency_code(&value) {
                    declared = Some(value);
                }
                let closes_entry = path.last().is_some_and(|p| p == "Ntry")
                    && path.len() >= 2
                    && path[path.len() - 2] == "Stmt";
                if closes_entry && let Some(e) = entry.take() {
                    if entries.len() >= MAX_ROWS {
                        statement.problem(Problem::at(
                            e.line,
                            None,
                            format!("more than {MAX_ROWS} entries: split the file"),
                        ));
                        return statement;
                    }
                    entries.push(e);
                }
                path.pop();
            }
            _ => {}
        }
    }
    if !is_statement {
        statement.problem(Problem::at(
            1,
            None,
            "not a CAMT.053 statement (no BkToCstmrStmt element)",
        ));
        return statement;
    }
    let expected = declared.clone().unwrap_or_else(|| currency.to_string());
    let digits = minor_unit_digits(&expected);
    statement.currency = declared;
    for e in entries {
        if let Some(why) = not_booked(&e) {
            statement.skip(why);
            continue;
        }
        match finish(e, &expected, digits) {
            Ok(row) => statement.rows.push(row),
            Err(problem) => statement.problem(problem),
        }
    }
    statement
}

/// Elements nested deeper than this are refused (CAMT needs about ten).
const MAX_DEPTH: usize = 64;

/// Line numbers of byte positions, counted as the reader moves forward
/// (no table of every newline, whatever the file holds).
struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    fn at(&mut self, pos: u64) -> usize {
        let pos = (pos as usize).min(self.text.len());
        if pos < self.at {
            // Backwards (an error position): count again from the start.
            self.at = 0;
            self.line = 1;
        }
        self.line += self.text[self.at..pos]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.at = pos;
        self.line
    }
}

fn ends(path: &[String], tail: &[&str]) -> bool {
    path.len() >= tail.len()
        && path[path.len() - tail.len()..]
            .iter()
            .zip(tail)
            .all(|(a, b)| a == b)
}

/// Puts a closed element's text where it belongs in the entry.
fn take(e: &mut Entry, path: &[String], value: String) {
    let under_entry = |tail: &[&str]| {
        let mut full = vec!["Ntry"];
        full.extend_from_slice(tail);
        ends(path, &full)
    };
    if under_entry(&["Amt"]) {
        e.amount = Some(value);
    } else if under_entry(&["CdtDbtInd"]) {
        e.credit = match value.as_str() {
            "CRDT" => Some(true),
            "DBIT" => Some(false),
            _ => None,
        };
    } else if under_entry(&["Sts"]) || under_entry(&["Sts", "Cd"]) {
        // `<Sts>BOOK</Sts>` before camt.053.001.08, `<Sts><Cd>BOOK</Cd></Sts>` since.
        if !value.is_empty() {
            e.status = Some(value);
        }
    } else if under_entry(&["BookgDt", "Dt"]) || under_entry(&["BookgDt", "DtTm"]) {
        e.booked = Some(value);
    } else if under_entry(&["ValDt", "Dt"]) || under_entry(&["ValDt", "DtTm"]) {
        e.valued = Some(value);
    } else if under_entry(&["AcctSvcrRef"]) {
        e.reference = Some(value);
    } else if under_entry(&["NtryRef"]) {
        e.entry_ref = Some(value);
    } else if under_entry(&["AddtlNtryInf"]) {
        e.additional = Some(value);
    } else if ends(path, &["Ustrd"]) && !value.is_empty() {
        e.remittance.push(value);
    } else if ends(path, &["RltdPties", "Cdtr", "Nm"])
        || ends(path, &["RltdPties", "Cdtr", "Pty", "Nm"])
    {
        e.creditor.get_or_insert(value);
    } else if ends(path, &["RltdPties", "Dbtr", "Nm"])
        || ends(path, &["RltdPties", "Dbtr", "Pty", "Nm"])
    {
        e.debtor.get_or_insert(value);
    }
}

/// Why an entry is not a transaction yet, if it is not: its status is
/// other than BOOK. A statement that gives no status books every entry.
fn not_booked(e: &Entry) -> Option<Problem> {
    let status = e.status.as_deref()?;
    let why = match status {
        "BOOK" => return None,
        "PDNG" => "pending, not booked yet: it comes again in the statement that books it",
        "INFO" => "for information only, not a booking",
        "FUTR" => "booked for a future date: it comes again in the statement of that day",
        _ => "not BOOK: only booked entries are imported",
    };
    let status: String = status.chars().take(16).collect();
    Some(Problem::at(
        e.line,
        None,
        format!("entry status {status:?} ({why}); not imported"),
    ))
}

fn finish(e: Entry, currency: &str, digits: u32) -> Result<Row, Problem> {
    let at = |message: String| Problem::at(e.line, None, message);
    if let Some(other) = e.currency.as_deref().filter(|c| *c != currency) {
        return Err(at(format!(
            "the entry is in {other}, the statement in {currency}"
        )));
    }
    let amount = e
        .amount
        .as_deref()
        .ok_or_else(|| at("an entry without Amt".into()))?;
    let credit = e
        .credit
        .ok_or_else(|| at("an entry without CdtDbtInd CRDT or DBIT".into()))?;
    let date = e
        .booked
        .as_deref()
        .or(e.valued.as_deref())
        .ok_or_else(|| at("an entry without a booking date (BookgDt)".into()))?;
    let iso: String = date.chars().take(10).collect();
    if !crate::domain::receipt::is_iso_date(&iso) {
        return Err(at(format!(
            "the booking date {date:?} is not a calendar day"
        )));
    }
    let minor = parse_amount(
        amount,
        NumberFormat {
            decimal: '.',
            thousands: None,
        },
        digits,
    )
    .map_err(|m| at(format!("Amt: {m}")))?;
    if minor < 0 {
        return Err(at("Amt is negative; CAMT signs amounts by CdtDbtInd".into()));
    }
    let payee = if credit { e.debtor } else { e.creditor };
    let mut description = e.remittance.join(" ");
    if description.is_empty() {
        description = e.additional.unwrap_or_default();
    }
    Ok(Row {
        line: e.line,
        date: iso,
        amount: if credit { minor } else { -minor },
        payee: payee.unwrap_or_default(),
        description,
        external_id: e
            .reference
            .or(e.entry_ref)
            .filter(|r| !r.is_empty() && r != "NOTPROVIDED"),
    })
}

#[cfg(test)]
mod tests;
