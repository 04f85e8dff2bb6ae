//! Line items: rows above the totals whose amount sits in the right-hand
//! amount column. Rows are visual (word boxes at the same height), so a
//! description and an amount read as separate OCR lines still pair up; a
//! description alone on the row above a row of numbers joins it.

use super::amounts::{Hit, Kind};
use super::labels::Label;
use super::layout::{Row, join};
use super::priced::Priced;
use crate::domain::receipt::{LineItem, Source};

const MAX_ITEMS: usize = 200;

fn is_header(text: &str) -> bool {
    let words: Vec<&str> = text.split(' ').collect();
    let keys = [
        "QTY",
        "DESCRIPTION",
        "ITEM",
        "ITEMS",
        "PRICE",
        "AMOUNT",
        "AMT",
        "UNIT",
        "DESC",
    ];
    words.iter().filter(|w| keys.contains(w)).count() >= 2
}

fn letters(text: &str) -> usize {
    text.chars().filter(|c| c.is_alphabetic()).count()
}

fn quantity_text(hit: &Hit, digits: u32) -> Option<String> {
    if hit.amount.minor <= 0 {
        return None;
    }
    let scale = 10_i64.pow(digits.min(6));
    match hit.amount.kind {
        Kind::Whole => {
            let q = hit.amount.minor / scale;
            (q < 10_000).then(|| q.to_string())
        }
        Kind::Decimal => None,
    }
}

pub fn find(rows: &[Row], priced: &[Priced], digits: u32, page_width: f32) -> Vec<LineItem> {
    let end = priced
        .iter()
        .position(|p| {
            matches!(
                p.label,
                Label::Total(_) | Label::Subtotal | Label::Tax | Label::Tendered
            )
        })
        .unwrap_or(priced.len());
    let start = priced[..end]
        .iter()
        .rposition(|p| is_header(&p.label_text))
        .map_or(0, |h| h + 1);
    // The right edge of the amount column: the rightmost decimal amounts.
    let column = priced[..end]
        .iter()
        .skip(start)
        .filter_map(|p| p.hits.iter().rev().find(|h| h.amount.kind == Kind::Decimal))
        .map(|h| h.right)
        .fold(f32::MIN, f32::max);
    if column == f32::MIN {
        return Vec::new();
    }
    let slack = (page_width * 0.1).max(20.0);
    let mut items = Vec::new();
    let mut pending: Option<(String, usize)> = None;
    for i in start..end {
        let (Some(row), Some(p)) = (rows.get(i), priced.get(i)) else {
            break;
        };
        if p.label != Label::None {
            pending = None;
            continue;
        }
        let amount_hit = p
            .hits
            .last()
            .filter(|h| h.amount.kind == Kind::Decimal && h.right >= column - slack);
        let Some(amount_hit) = amount_hit else {
            if p.hits.is_empty() && letters(&p.label_text) >= 3 {
                pending = Some((row.text(), row.tokens.first().map_or(0, |t| t.line)));
            }
            continue;
        };
        let first_hit = p
            .hits
            .iter()
            .find(|h| !h.amount.repaired || h.amount.kind == Kind::Decimal)
            .map_or(0, |h| h.first);
        let described = join(&row.tokens[..first_hit.min(row.tokens.len())]);
        let (description, line, mut confidence) = if letters(&described) >= 2 {
            let line = row.tokens.first().map_or(amount_hit.line, |t| t.line);
            (described, line, 0.7)
        } else if let Some((text, line)) = pending.take() {
            (text, line, 0.55)
        } else {
            continue;
        };
        pending = None;
        let others: Vec<&Hit> = p
            .hits
            .iter()
            .rev()
            .skip(1)
            .filter(|h| h.first >= first_hit && !h.amount.repaired)
            .collect();
        let unit_price = others
            .iter()
            .find(|h| h.amount.kind == Kind::Decimal && h.amount.minor > 0)
            .map(|h| h.amount.minor);
        let quantity = others.iter().find_map(|h| quantity_text(h, digits));
        if let (Some(q), Some(u)) = (&quantity, unit_price)
            && let Ok(q) = q.parse::<i64>()
            && q.checked_mul(u) == Some(amount_hit.amount.minor)
        {
            confidence += 0.2;
        }
        items.push(LineItem {
            description: description.trim().to_string(),
            quantity,
            unit_price,
            amount: amount_hit.amount.minor,
            confidence,
            source: Some(Source {
                line: u32::try_from(line).unwrap_or(u32::MAX),
                text: row.text(),
            }),
        });
        if items.len() >= MAX_ITEMS {
            break;
        }
    }
    items
}
