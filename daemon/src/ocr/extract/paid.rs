//! What the customer paid: money handed over minus change. It is the
//! receipt's own check on the total, and the total itself when OCR lost or
//! garbled the amount printed beside `TOTAL`.

use super::amounts::{Hit, Kind};
use super::labels::Label;
use super::priced::Priced;

/// One reading of cash minus change, with the tender's amount as its source.
#[derive(Debug, Clone, Copy)]
pub struct Paid {
    pub value: i64,
    pub hit: Hit,
    /// The tender's row.
    pub row: usize,
}

/// Rows looked at above a change row for a tender whose label was lost.
const TENDER_REACH: usize = 2;

/// Tenders and changes paired at most, so a hostile page stays cheap.
const MAX_PAIRED: usize = 8;

/// The decimal amount a row ends with.
fn last_decimal(row: &Priced) -> Option<Hit> {
    row.hits
        .last()
        .filter(|h| h.amount.kind == Kind::Decimal && h.amount.minor > 0)
        .copied()
}

/// Every positive `tendered − change`. When no row is labelled as a tender
/// (`CASH` misread), the unlabelled amount just above a change row is taken
/// as the tender: receipts print the two together.
pub fn find(
    priced: &[Priced],
    tendered: &[(i64, usize, Hit)],
    changes: &[(i64, usize, Hit)],
) -> Vec<Paid> {
    let mut tenders: Vec<(i64, usize, Hit)> = tendered.iter().take(MAX_PAIRED).copied().collect();
    if tenders.is_empty() {
        for (_, at, _) in changes.iter().take(MAX_PAIRED) {
            let above = (1..=TENDER_REACH)
                .filter_map(|k| at.checked_sub(k))
                .find(|&i| priced.get(i).is_some_and(|r| !r.hits.is_empty()));
            if let Some(i) = above
                && let Some(row) = priced.get(i)
                && row.label == Label::None
                && let Some(hit) = last_decimal(row)
            {
                tenders.push((hit.amount.minor, i, hit));
            }
        }
    }
    let mut out = Vec::new();
    for (tender, row, hit) in &tenders {
        for (change, _, _) in changes.iter().take(MAX_PAIRED) {
            if let Some(value) = tender.checked_sub(*change)
                && value > 0
            {
                out.push(Paid {
                    value,
                    hit: *hit,
                    row: *row,
                });
            }
        }
    }
    out
}
