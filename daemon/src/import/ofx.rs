//! OFX and QFX statements: OFX 1.x (SGML: a `KEY:VALUE` header, leaf
//! elements without end tags) and OFX 2.x (XML). One tolerant tag reader
//! serves both; transactions are the `STMTTRN` aggregates of bank and
//! credit-card statements. A DOCTYPE or ENTITY declaration is refused: no
//! entity is expanded or fetched, only the five XML escapes and numeric
//! character references are read.

use super::amount::{NumberFormat, parse_amount};
use super::text::{Encoding, decode};
use super::{MAX_ROWS, Problem, Row, Statement};
use crate::domain::money::minor_unit_digits;

/// Reads an OFX/QFX file; amounts in minor units of `currency` unless the
/// file declares its own (`CURDEF`), which the statement then carries.
pub fn parse_ofx(bytes: &[u8], currency: &str) -> Statement {
    let mut statement = Statement::default();
    let text = match decode(bytes, charset(bytes)) {
        Ok(text) => text,
        Err(problem) => {
            statement.problem(problem);
            return statement;
        }
    };
    let body_start = match header_end(&text) {
        Ok(at) => at,
        Err(problem) => {
            statement.problem(problem);
            return statement;
        }
    };
    let tags = match tokens(&text, body_start) {
        Ok(tags) => tags,
        Err(problem) => {
            statement.problem(problem);
            return statement;
        }
    };
    let declared = tags
        .iter()
        .find(|t| t.name == "CURDEF")
        .and_then(|t| t.value.clone())
        .filter(|c| crate::domain::money::is_currency_code(c));
    let digits = minor_unit_digits(declared.as_deref().unwrap_or(currency));
    statement.currency = declared;
    let mut current: Option<Transaction> = None;
    for tag in &tags {
        match (tag.name.as_str(), tag.kind) {
            ("STMTTRN", Kind::Open) => current = Some(Transaction::new(tag.line)),
            ("STMTTRN", Kind::Close) => {
                if let Some(t) = current.take() {
                    if statement.rows.len() >= MAX_ROWS {
                        statement.problem(Problem::at(
                            t.line,
                            None,
                            format!("more than {MAX_ROWS} transactions: split the file"),
                        ));
                        return statement;
                    }
                    match t.finish(digits) {
                        Ok(row) => statement.rows.push(row),
                        Err(problem) => statement.problem(problem),
                    }
                }
            }
            (name, Kind::Leaf) => {
                if let Some(t) = current.as_mut() {
                    t.set(name, tag.value.clone().unwrap_or_default(), tag.line);
                }
            }
            _ => {}
        }
    }
    if current.is_some() {
        statement.problem(Problem::at(
            tags.last().map_or(1, |t| t.line),
            None,
            "the file ends inside a transaction (STMTTRN)",
        ));
    }
    let statements = tags
        .iter()
        .filter(|t| t.kind == Kind::Open && (t.name == "STMTRS" || t.name == "CCSTMTRS"))
        .count();
    if statements > 1 {
        statement.problem(Problem::at(
            1,
            None,
            format!(
                "the file holds {statements} statements (accounts); import each account's own file"
            ),
        ));
    }
    if !tags.iter().any(|t| t.name == "OFX") {
        statement.problem(Problem::at(
            1,
            None,
            "no <OFX> element: this is not an OFX file",
        ));
    }
    statement
}

/// The encoding an OFX 1.x header names (`CHARSET:1252`), else detected.
fn charset(bytes: &[u8]) -> Encoding {
    let head = &bytes[..bytes.len().min(1024)];
    let head = String::from_utf8_lossy(head);
    if head.contains("CHARSET:1252") {
        Encoding::Windows1252
    } else if head.contains("CHARSET:ISO-8859-1") || head.contains("CHARSET:8859-1") {
        Encoding::Latin1
    } else {
        Encoding::Detect
    }
}

/// Where the body starts, once the header is checked: OFX 1.x `KEY:VALUE`
/// lines starting with `OFXHEADER:100`, or an XML declaration and an
/// `<?OFX …?>` processing instruction.
fn header_end(text: &str) -> Result<usize, Problem> {
    let trimmed = text.trim_start();
    let skipped = text.len() - trimmed.len();
    let first_line = text[..skipped].matches('\n').count() + 1;
    if trimmed.starts_with("<?xml") || trimmed.starts_with("<?OFX") {
        if !trimmed.contains("<?OFX") {
            return Err(Problem::at(
                first_line,
                None,
                "an XML file without the <?OFX ...?> header: not OFX 2",
            ));
        }
        return Ok(skipped);
    }
    if !trimmed.starts_with("OFXHEADER:") {
        return Err(Problem::at(
            first_line,
            Some(1),
            "the file does not start with an OFX header (OFXHEADER:100, or <?xml for OFX 2)",
        ));
    }
    let mut offset = skipped;
    for (i, line) in trimmed.split_inclusive('\n').enumerate() {
        let content = line.trim();
        if content.starts_with('<') {
            return Ok(offset);
        }
        if !content.is_empty() && !content.contains(':') {
            return Err(Problem::at(
                first_line + i,
                Some(1),
                format!("a header line is not KEY:VALUE: {content:?}"),
            ));
        }
        if i == 0 && content != "OFXHEADER:100" {
            return Err(Problem::at(
                first_line,
                Some(11),
                format!("unknown OFX header version {content:?}"),
            ));
        }
        offset += line.len();
    }
    Err(Problem::at(
        first_line,
        None,
        "the OFX header is not followed by an <OFX> body",
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Open,
    Close,
    /// An element with its text: `<TRNAMT>-1.00` (SGML) or `<TRNAMT>-1.00</TRNAMT>`.
    Leaf,
}

#[derive(Debug)]
struct Tag {
    name: String,
    kind: Kind,
    value: Option<String>,
    line: usize,
}

/// Elements in one file, at most: a bound on memory (a tag costs about a
/// hundred bytes) whatever the file holds.
const MAX_TAGS: usize = 2_000_000;

/// The body as tags; a leaf's text is its value.
fn tokens(text: &str, start: usize) -> Result<Vec<Tag>, Problem> {
    let mut tags: Vec<Tag> = Vec::new();
    let mut line = text[..start].matches('\n').count() + 1;
    let mut rest = &text[start..];
    while let Some(open) = rest.find('<') {
        let before = &rest[..open];
        line += before.matches('\n').count();
        let value = before.trim();
        if !value.is_empty() {
            match tags.last_mut() {
                Some(tag) if tag.kind == Kind::Open => {
                    tag.kind = Kind::Leaf;
                    tag.value = Some(unescape(value, line)?);
                }
                _ => {
                    return Err(Problem::at(
                        line,
                        None,
                        format!("text outside any element: {:.40?}", value),
                    ));
                }
            }
        }
        let after = &rest[open..];
        if after.starts_with("<!DOCTYPE")
            || after.starts_with("<!ENTITY")
            || after.starts_with("<!doctype")
        {
            return Err(Problem::at(
                line,
                None,
                "DOCTYPE and ENTITY declarations are refused: no entity is expanded or fetched",
            ));
        }
        let close = after
            .find('>')
            .ok_or_else(|| Problem::at(line, None, "a tag that never closes (no '>')"))?;
        let inner = &after[1..close];
        line += inner.matches('\n').count();
        rest = &after[close + 1..];
        if inner.starts_with('?') || inner.starts_with('!') {
            continue;
        }
        let (kind, name) = match inner.strip_prefix('/') {
            Some(name) => (Kind::Close, name.trim()),
            None => (Kind::Open, inner.trim().trim_end_matches('/')),
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            return Err(Problem::at(
                line,
                None,
                format!("not an OFX tag: <{inner:.40}>"),
            ));
        }
        // The end tag of a leaf written in XML style closes nothing further.
        if kind == Kind::Close
            && tags
                .last()
                .is_some_and(|t| t.kind == Kind::Leaf && t.name == name)
        {
            continue;
        }
        if tags.len() >= MAX_TAGS {
            return Err(Problem::at(
                line,
                None,
                format!("more than {MAX_TAGS} elements: split the file"),
            ));
        }
        tags.push(Tag {
            name: name.to_ascii_uppercase(),
            kind,
            value: None,
            line,
        });
    }
    if !rest.trim().is_empty() {
        match tags.last_mut() {
            Some(tag) if tag.kind == Kind::Open => {
                tag.kind = Kind::Leaf;
                tag.value = Some(unescape(rest.trim(), line)?);
            }
            _ => return Err(Problem::at(line, None, "text after the last element")),
        }
    }
    Ok(tags)
}

/// The five XML escapes and numeric references; any other entity is an error.
fn unescape(text: &str, line: usize) -> Result<String, Problem> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        // An entity is short: look for its ';' nearby only, or text full
        // of bare '&' would be scanned to its end once for each.
        let end = after.as_bytes().iter().take(12).position(|&b| b == b';');
        let Some(end) = end else {
            // A bare '&' in SGML text (a payee "A & B") is the character itself.
            out.push('&');
            rest = &after[1..];
            continue;
        };
        let entity = &after[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => out.push(c),
            None => {
                return Err(Problem::at(
                    line,
                    None,
                    format!("unknown entity &{entity}; (none is expanded)"),
                ));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

struct Transaction {
    line: usize,
    date: Option<(String, usize)>,
    amount: Option<(String, usize)>,
    fitid: Option<String>,
    name: Option<String>,
    memo: Option<String>,
}

impl Transaction {
    fn new(line: usize) -> Self {
        Transaction {
            line,
            date: None,
            amount: None,
            fitid: None,
            name: None,
            memo: None,
        }
    }

    fn set(&mut self, name: &str, value: String, line: usize) {
        match name {
            "DTPOSTED" => self.date = Some((value, line)),
            "TRNAMT" => self.amount = Some((value, line)),
            "FITID" => self.fitid = Some(value),
            "NAME" => self.name = Some(value),
            "MEMO" => self.memo = Some(value),
            _ => {}
        }
    }

    fn finish(self, digits: u32) -> Result<Row, Problem> {
        let (date, date_line) = self
            .date
            .ok_or_else(|| Problem::at(self.line, None, "a transaction without DTPOSTED"))?;
        let (amount, amount_line) = self
            .amount
            .ok_or_else(|| Problem::at(self.line, None, "a transaction without TRNAMT"))?;
        let date = ofx_date(&date).map_err(|e| Problem::at(date_line, None, e))?;
        // OFX writes a point; some European banks write a comma.
        let format = if amount.contains(',') && !amount.contains('.') {
            NumberFormat {
                decimal: ',',
                thousands: None,
            }
        } else {
            NumberFormat {
                decimal: '.',
                thousands: None,
            }
        };
        let amount = parse_amount(&amount, format, digits)
            .map_err(|e| Problem::at(amount_line, None, format!("TRNAMT: {e}")))?;
        Ok(Row {
            line: self.line,
            date,
            amount,
            payee: self.name.unwrap_or_default(),
            description: self.memo.unwrap_or_default(),
            external_id: self.fitid.filter(|f| !f.is_empty()),
        })
    }
}

/// `YYYYMMDD` with any time and zone after it, as `YYYY-MM-DD`.
fn ofx_date(text: &str) -> Result<String, String> {
    let digits: String = text.chars().take(8).collect();
    if digits.len() < 8 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "DTPOSTED {text:?} is not an OFX date (YYYYMMDD...)"
        ));
    }
    let iso = format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..8]);
    if crate::domain::receipt::is_iso_date(&iso) {
        Ok(iso)
    } else {
        Err(format!("DTPOSTED {text:?} is not a calendar day"))
    }
}

#[cfg(test)]
mod tests;
