//! CSV statements read by a preset: which columns hold the date, the
//! amount (one signed column, or debit and credit), the payee and the
//! description, and how the file writes text, numbers and dates. Rows that
//! do not fit (too few cells, a date or amount that does not parse) become
//! problems naming their line and column; text cells are taken as text,
//! never evaluated (a cell starting with `=` stays that text).

use serde::Deserialize;

use super::amount::{NumberFormat, parse_amount};
use super::dates::{check_pattern, parse_date};
use super::text::{Encoding, decode};
use super::{MAX_ROWS, Problem, Row, Statement};

/// A column by its header name or its position (1 is the first).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ColumnRef {
    Index(usize),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub date: ColumnRef,
    /// One signed amount column…
    pub amount: Option<ColumnRef>,
    /// …or money out and money in in two columns.
    pub debit: Option<ColumnRef>,
    pub credit: Option<ColumnRef>,
    pub payee: Option<ColumnRef>,
    /// Joined with a space when several.
    #[serde(default)]
    pub description: Vec<ColumnRef>,
    /// The bank's own id of the row, if the export has one.
    pub reference: Option<ColumnRef>,
}

/// How one bank's CSV export is laid out (TOML; see docs/import.md).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub name: String,
    #[serde(default = "comma")]
    pub delimiter: char,
    #[serde(default = "double_quote")]
    pub quote: char,
    /// `utf-8`, `windows-1252`, `iso-8859-1` or `detect` (the default).
    #[serde(default = "detect")]
    pub encoding: String,
    /// Whether the first line (after `skip_lines`) names the columns.
    #[serde(default = "yes")]
    pub header: bool,
    /// Lines before the table (a bank's title block).
    #[serde(default)]
    pub skip_lines: usize,
    /// E.g. `%d.%m.%Y`.
    pub date_format: String,
    #[serde(default = "point")]
    pub decimal: char,
    /// None: amounts have no grouping.
    pub thousands: Option<char>,
    pub columns: Columns,
}

fn comma() -> char {
    ','
}
fn double_quote() -> char {
    '"'
}
fn detect() -> String {
    "detect".into()
}
fn yes() -> bool {
    true
}
fn point() -> char {
    '.'
}

impl Preset {
    /// The rules a preset must follow before any file is read with it.
    pub fn check(&self) -> Result<(), String> {
        for (what, c) in [
            ("delimiter", self.delimiter),
            ("quote", self.quote),
            ("decimal", self.decimal),
        ] {
            if !c.is_ascii() || c.is_ascii_alphanumeric() || c == '\n' || c == '\r' {
                return Err(format!(
                    "{what} must be one ASCII punctuation or space character"
                ));
            }
        }
        if self.thousands == Some(self.decimal) {
            return Err("the thousands and decimal separators must differ".into());
        }
        if self.delimiter == self.quote {
            return Err("the delimiter and the quote must differ".into());
        }
        Encoding::parse(&self.encoding)
            .ok_or_else(|| format!("unknown encoding {:?}", self.encoding))?;
        check_pattern(&self.date_format)?;
        let c = &self.columns;
        match (&c.amount, &c.debit, &c.credit) {
            (Some(_), None, None) | (None, Some(_), Some(_)) => {}
            _ => return Err("give either an amount column, or debit and credit columns".into()),
        }
        let named = [
            Some(&c.date),
            c.amount.as_ref(),
            c.debit.as_ref(),
            c.credit.as_ref(),
            c.payee.as_ref(),
            c.reference.as_ref(),
        ]
        .into_iter()
        .flatten()
        .chain(&c.description);
        for column in named {
            match column {
                ColumnRef::Name(_) if !self.header => {
                    return Err("columns are named only when the file has a header line".into());
                }
                ColumnRef::Index(0) => return Err("columns are counted from 1".into()),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Column positions (0-based) once the header is read.
struct Layout {
    date: usize,
    amount: Option<usize>,
    debit: Option<usize>,
    credit: Option<usize>,
    payee: Option<usize>,
    description: Vec<usize>,
    reference: Option<usize>,
}

impl Layout {
    fn widest(&self) -> usize {
        [
            Some(self.date),
            self.amount,
            self.debit,
            self.credit,
            self.payee,
            self.reference,
        ]
        .into_iter()
        .flatten()
        .chain(self.description.iter().copied())
        .max()
        .unwrap_or(0)
    }
}

fn locate(column: &ColumnRef, header: &[String], line: usize) -> Result<usize, Problem> {
    match column {
        ColumnRef::Index(i) => Ok(i.saturating_sub(1)),
        ColumnRef::Name(name) => header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| Problem::at(line, None, format!("the header has no column {name:?}"))),
    }
}

/// Reads `bytes` with `preset`; amounts in minor units of a currency with `digits` decimals.
pub fn parse_csv(bytes: &[u8], preset: &Preset, digits: u32) -> Statement {
    let mut statement = Statement::default();
    if let Err(e) = preset.check() {
        statement.problem(Problem::at(
            1,
            None,
            format!("preset {:?}: {e}", preset.name),
        ));
        return statement;
    }
    let encoding = Encoding::parse(&preset.encoding).unwrap_or(Encoding::Detect);
    let text = match decode(bytes, encoding) {
        Ok(text) => text,
        Err(problem) => {
            statement.problem(problem);
            return statement;
        }
    };
    let numbers = NumberFormat {
        decimal: preset.decimal,
        thousands: preset.thousands,
    };
    // Lines skipped before the table do not go through the CSV reader:
    // title blocks often have quotes and cell counts of their own.
    let mut offset = 0;
    for _ in 0..preset.skip_lines {
        match text[offset..].find('\n') {
            Some(end) => offset += end + 1,
            None => offset = text.len(),
        }
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(preset.delimiter as u8)
        .quote(preset.quote as u8)
        .has_headers(false)
        .flexible(true)
        .from_reader(&text.as_bytes()[offset..]);
    let first_line = preset.skip_lines + 1;
    let mut layout: Option<Layout> = None;
    let mut record = ::csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                statement.problem(Problem::at(
                    first_line + line.saturating_sub(1),
                    None,
                    format!("the CSV does not parse: {e}"),
                ));
                return statement;
            }
        }
        // Where the record starts (a quoted cell may span lines); the
        // reader's position is before any blank lines it skipped.
        let table = &text.as_bytes()[offset..];
        let (mut line, mut at) = record
            .position()
            .map_or((1, 0), |p| (p.line() as usize, p.byte() as usize));
        while let Some(&b) = table.get(at).filter(|b| **b == b'\n' || **b == b'\r') {
            line += usize::from(b == b'\n');
            at += 1;
        }
        let line = first_line + line - 1;
        let cells: Vec<String> = record.iter().map(str::to_string).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let Some(layout) = &layout else {
            match read_layout(preset, &cells, line) {
                Ok(found) => {
                    let is_header = preset.header;
                    layout = Some(found);
                    if is_header {
                        continue;
                    }
                }
                Err(problem) => {
                    statement.problem(problem);
                    return statement;
                }
            }
            let Some(layout) = &layout else { continue };
            read_row(
                &mut statement,
                layout,
                &cells,
                line,
                preset,
                numbers,
                digits,
            );
            continue;
        };
        if statement.rows.len() >= MAX_ROWS {
            statement.problem(Problem::at(
                line,
                None,
                format!("more than {MAX_ROWS} rows: split the file"),
            ));
            return statement;
        }
        read_row(
            &mut statement,
            layout,
            &cells,
            line,
            preset,
            numbers,
            digits,
        );
    }
    if layout.is_none() {
        statement.problem(Problem::at(first_line, None, "the file has no rows"));
    }
    statement
}

fn read_layout(preset: &Preset, first: &[String], line: usize) -> Result<Layout, Problem> {
    let header: Vec<String> = if preset.header {
        first.to_vec()
    } else {
        Vec::new()
    };
    let c = &preset.columns;
    let find = |col: &ColumnRef| locate(col, &header, line);
    Ok(Layout {
        date: find(&c.date)?,
        amount: c.amount.as_ref().map(find).transpose()?,
        debit: c.debit.as_ref().map(find).transpose()?,
        credit: c.credit.as_ref().map(find).transpose()?,
        payee: c.payee.as_ref().map(find).transpose()?,
        description: c.description.iter().map(find).collect::<Result<_, _>>()?,
        reference: c.reference.as_ref().map(find).transpose()?,
    })
}

fn read_row(
    statement: &mut Statement,
    layout: &Layout,
    cells: &[String],
    line: usize,
    preset: &Preset,
    numbers: NumberFormat,
    digits: u32,
) {
    if cells.len() <= layout.widest() {
        statement.problem(Problem::at(
            line,
            None,
            format!(
                "the row has {} cells; the preset reads column {}",
                cells.len(),
                layout.widest() + 1
            ),
        ));
        return;
    }
    let cell = |i: usize| cells[i].trim();
    let date = match parse_date(cell(layout.date), &preset.date_format) {
        Ok(date) => date,
        Err(e) => {
            statement.problem(Problem::at(line, Some(layout.date + 1), e));
            return;
        }
    };
    let amount = match read_amount(layout, cells, numbers, digits) {
        Ok(amount) => amount,
        Err((column, e)) => {
            statement.problem(Problem::at(line, Some(column + 1), e));
            return;
        }
    };
    let description = layout
        .description
        .iter()
        .map(|&i| cell(i))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    statement.rows.push(Row {
        line,
        date,
        amount,
        payee: layout
            .payee
            .map(|i| cell(i).to_string())
            .unwrap_or_default(),
        description,
        external_id: layout
            .reference
            .map(|i| cell(i).to_string())
            .filter(|r| !r.is_empty()),
    });
}

/// The signed amount, or the column at fault and why.
fn read_amount(
    layout: &Layout,
    cells: &[String],
    numbers: NumberFormat,
    digits: u32,
) -> Result<i64, (usize, String)> {
    if let Some(i) = layout.amount {
        return parse_amount(&cells[i], numbers, digits).map_err(|e| (i, e));
    }
    let (Some(debit), Some(credit)) = (layout.debit, layout.credit) else {
        return Err((0, "the preset has no amount column".into()));
    };
    let side = |i: usize| -> Result<Option<i64>, (usize, String)> {
        if cells[i].trim().is_empty() {
            Ok(None)
        } else {
            parse_amount(&cells[i], numbers, digits)
                .map(|a| Some(a.abs()))
                .map_err(|e| (i, e))
        }
    };
    match (side(debit)?, side(credit)?) {
        (Some(out), None) | (Some(out), Some(0)) => Ok(-out),
        (None, Some(into)) | (Some(0), Some(into)) => Ok(into),
        (None, None) => Err((debit, "both the debit and the credit cell are empty".into())),
        (Some(_), Some(_)) => Err((
            debit,
            "both the debit and the credit cell hold an amount".into(),
        )),
    }
}

#[cfg(test)]
mod tests;
