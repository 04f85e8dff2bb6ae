//! Field extraction: from the lines and word boxes OCR read on a receipt to
//! merchant, date, time, currency, total, subtotal, tax, payment method and
//! line items, each with a confidence and the text it came from.
//!
//! Lines are regrouped into visual rows first (`layout`), because a label
//! and its amount are often read as separate lines; everything after works
//! on rows. Work is bounded (`layout::MAX_LINES`), arithmetic is checked, and
//! no input panics.

mod amounts;
mod currency;
mod dates;
mod items;
mod labels;
mod layout;
mod lexicon;
mod merchant;
mod names;
mod paid;
mod payment;
mod priced;
#[cfg(test)]
mod tests;
mod totals;

use crate::domain::money::minor_unit_digits;
use crate::domain::receipt::{ExtractOptions, Field, ReceiptFields};
use crate::ocr::page::Page;
use layout::{Row, normalise};

pub use dates::{find_dates, find_times};

fn line_text(page: &Page, line: usize) -> String {
    page.lines.get(line).map(|l| l.text()).unwrap_or_default()
}

fn first_line(row: &Row) -> usize {
    row.tokens.first().map_or(0, |t| t.line)
}

/// Reads the fields of one receipt.
pub fn extract(page: &Page, options: &ExtractOptions) -> ReceiptFields {
    let rows = layout::rows(page);
    let (code, currency_confidence, currency_line) =
        currency::find(&rows, &options.default_currency);
    let currency = Some(match currency_line {
        Some(line) => Field::read(
            code.clone(),
            currency_confidence,
            line,
            &line_text(page, line),
        ),
        None => Field {
            value: code.clone(),
            confidence: crate::domain::receipt::confidence(currency_confidence),
            source: None,
        },
    });
    let digits = minor_unit_digits(&code);
    let priced = priced::price_rows(&rows, digits);
    let totals = totals::find(page, &priced, digits);

    let line_rows = layout::by_line(&rows);
    let merchant = merchant::find(&line_rows, page.height as f32).and_then(|m| {
        let row = line_rows.get(m.row)?;
        let line = first_line(row);
        Some(Field::read(
            m.name,
            m.confidence,
            line,
            &line_text(page, line),
        ))
    });

    let (date, time) = date_and_time(page, &rows, options);
    let payment_method = payment::find(&rows, &priced).and_then(|(method, i)| {
        let line = first_line(rows.get(i)?);
        Some(Field::read(
            method.to_string(),
            0.7,
            line,
            &line_text(page, line),
        ))
    });
    let items = items::find(&rows, &priced, digits, page.width as f32);

    ReceiptFields {
        merchant,
        date,
        time,
        currency,
        total: totals.total,
        subtotal: totals.subtotal,
        tax: totals.tax,
        payment_method,
        items,
    }
}

/// The transaction date: a row labelled as a date first, then the first date
/// printed; the time from the same row when it has one.
fn date_and_time(
    page: &Page,
    rows: &[Row],
    options: &ExtractOptions,
) -> (Option<Field<String>>, Option<Field<String>>) {
    let mut best: Option<(f32, usize, String)> = None;
    let mut time: Option<(f32, usize, String)> = None;
    for (i, row) in rows.iter().enumerate() {
        let text = row.text();
        let norm = normalise(&text);
        let words: Vec<&str> = norm.split(' ').collect();
        let labelled = words
            .iter()
            .any(|w| matches!(*w, "DATE" | "TARIKH" | "DATED"));
        let doubtful = words.iter().any(|w| {
            matches!(
                *w,
                "EXP" | "EXPIRY" | "EXPIRES" | "VALID" | "UNTIL" | "BEFORE" | "DUE"
            )
        });
        for found in find_dates(&text, options.date_order) {
            let mut score = found.certainty - 0.01 * (i.min(50) as f32);
            if labelled {
                score += 0.3;
            }
            if doubtful {
                score -= 0.5;
            }
            if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                let line = date_line(row, &text);
                best = Some((score, line, found.date.iso()));
            }
        }
        let time_label = words.iter().any(|w| matches!(*w, "TIME" | "MASA"));
        for found in find_times(&text) {
            let mut score = 0.6 - 0.005 * (i.min(50) as f32);
            if time_label {
                score += 0.2;
            }
            if !find_dates(&text, options.date_order).is_empty() {
                score += 0.2;
            }
            if time.as_ref().is_none_or(|(s, _, _)| score > *s) {
                time = Some((score, first_line(row), found));
            }
        }
    }
    let date = best
        .map(|(s, line, iso)| Field::read(iso, s.clamp(0.2, 0.97), line, &line_text(page, line)));
    let time =
        time.map(|(s, line, t)| Field::read(t, s.clamp(0.2, 0.95), line, &line_text(page, line)));
    (date, time)
}

/// The OCR line of a row that holds the date (the row's first line if none
/// holds it alone).
fn date_line(row: &Row, _text: &str) -> usize {
    for &line in &row.lines {
        let words: Vec<&str> = row
            .tokens
            .iter()
            .filter(|t| t.line == line)
            .map(|t| t.text.as_str())
            .collect();
        if !find_dates(
            &words.join(" "),
            crate::domain::receipt::DateOrder::DayFirst,
        )
        .is_empty()
        {
            return line;
        }
    }
    first_line(row)
}
