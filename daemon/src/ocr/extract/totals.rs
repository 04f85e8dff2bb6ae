//! Total, subtotal and tax: labelled rows, then cross-checks (subtotal + tax,
//! cash − change, agreement between rows) to choose and to set confidence.

use super::amounts::{Hit, Kind};
use super::labels::Label;
use super::paid::{self, Paid};
use super::priced::Priced;
use crate::domain::receipt::Field;
use crate::ocr::page::Page;

/// The value a labelled row gives: its rightmost amount, or the amount on
/// the next row when the label stands alone.
fn value_of(priced: &[Priced], index: usize) -> Option<(Hit, usize)> {
    let row = priced.get(index)?;
    if let Some(hit) = row.hits.last() {
        return Some((*hit, index));
    }
    let next = priced.get(index + 1)?;
    if next.label == Label::None
        && next.label_text.split(' ').filter(|w| w.len() > 2).count() == 0
        && let Some(hit) = next.hits.last()
    {
        return Some((*hit, index + 1));
    }
    None
}

struct Candidate {
    value: i64,
    score: f32,
    row: usize,
    hit: Hit,
}

pub struct Totals {
    pub total: Option<Field<i64>>,
    pub subtotal: Option<Field<i64>>,
    pub tax: Option<Field<i64>>,
}

fn field(page: &Page, value: i64, confidence: f32, hit: &Hit) -> Field<i64> {
    let text = page
        .lines
        .get(hit.line)
        .map(|l| l.text())
        .unwrap_or_default();
    Field::read(value, confidence, hit.line, &text)
}

/// The readings of a hit: a whole number may be a lost decimal point.
fn readings(hit: &Hit, digits: u32) -> Vec<(i64, f32)> {
    let a = hit.amount;
    let mut penalty = if a.repaired { 0.4 } else { 0.0 };
    if a.kind == Kind::Decimal {
        return vec![(a.minor, penalty)];
    }
    penalty += 0.8;
    let mut out = vec![(a.minor, penalty)];
    let scale = 10_i64.pow(digits.min(6));
    if digits > 0 && a.minor / scale >= 100 {
        out.push((a.minor / scale, penalty + 0.2));
    }
    out
}

fn values_with(priced: &[Priced], want: Label) -> Vec<(i64, usize, Hit)> {
    let mut out = Vec::new();
    for (i, row) in priced.iter().enumerate() {
        if row.label == want
            && let Some((hit, at)) = value_of(priced, i)
            && hit.amount.kind == Kind::Decimal
        {
            out.push((hit.amount.minor, at, hit));
        }
    }
    out
}

pub fn find(page: &Page, priced: &[Priced], digits: u32) -> Totals {
    let mut candidates: Vec<Candidate> = Vec::new();
    for (i, row) in priced.iter().enumerate() {
        let Label::Total(strength) = row.label else {
            continue;
        };
        let Some((hit, at)) = value_of(priced, i) else {
            continue;
        };
        let table = priced.get(at).is_some_and(|r| {
            r.hits
                .iter()
                .filter(|h| h.amount.kind == Kind::Decimal)
                .count()
                >= 2
        });
        for (value, penalty) in readings(&hit, digits) {
            if value <= 0 {
                continue;
            }
            let mut score = f32::from(strength) - penalty;
            if table {
                score -= 1.0;
            }
            if hit.amount.currency {
                score += 0.2;
            }
            candidates.push(Candidate {
                value,
                score,
                row: i,
                hit,
            });
        }
    }

    let subtotals = values_with(priced, Label::Subtotal);
    let taxes = values_with(priced, Label::Tax);
    let tendered = values_with(priced, Label::Tendered);
    let changes = values_with(priced, Label::Change);
    // A rounding adjustment is less than half a major unit; a larger amount
    // on a `Rounding` row is the rounded total itself.
    let half_unit = 10_i64.pow(digits.min(6)) / 2;
    let roundings: Vec<(i64, usize, Hit)> = values_with(priced, Label::Rounding)
        .into_iter()
        .filter(|(r, _, _)| r.unsigned_abs() < half_unit.unsigned_abs().max(1))
        .collect();
    let first_payment = priced
        .iter()
        .position(|r| matches!(r.label, Label::Tendered | Label::Change) && !r.hits.is_empty());

    let paid_readings = paid::find(priced, &tendered, &changes);
    let paid: Vec<i64> = paid_readings.iter().map(|p| p.value).collect();

    // An unlabelled amount equal to cash minus change is the total printed
    // without (or with an unreadable) label; so is one on a `Rounding` row
    // (`Rounding RM 182.00`, the total after rounding, its label cut short).
    for (i, row) in priced.iter().enumerate() {
        if !matches!(row.label, Label::None | Label::Rounding)
            || first_payment.is_some_and(|p| i > p)
        {
            continue;
        }
        if let Some(hit) = row.hits.last()
            && hit.amount.kind == Kind::Decimal
            && paid.contains(&hit.amount.minor)
        {
            candidates.push(Candidate {
                value: hit.amount.minor,
                score: 1.0,
                row: i,
                hit: *hit,
            });
        }
    }
    add_paid(&mut candidates, &paid_readings);
    let last_before_payment = candidates
        .iter()
        .filter(|c| first_payment.is_none_or(|p| c.row < p))
        .map(|c| c.row)
        .max();
    let rounding_rows: Vec<usize> = priced
        .iter()
        .enumerate()
        .filter(|(_, r)| r.label == Label::Rounding)
        .map(|(i, _)| i)
        .collect();
    let all_values: Vec<i64> = candidates.iter().map(|c| c.value).collect();
    let rounded = rounded_totals(&candidates, &rounding_rows, digits);
    for (k, cand) in candidates.iter_mut().enumerate() {
        if rounded.contains(&k) {
            cand.score += 1.2;
        }
        if priced.get(cand.row).is_some_and(|r| r.aside) {
            cand.score -= 1.5;
        }
        if paid.contains(&cand.value) {
            cand.score += 1.5;
        }
        let sums = subtotals.iter().flat_map(|(s, _, _)| {
            taxes
                .iter()
                .filter_map(move |(t, _, _)| s.checked_add(*t))
                .chain(std::iter::once(*s))
        });
        let mut sum_match = false;
        for sum in sums {
            if sum == cand.value
                || roundings.iter().any(|(r, _, _)| {
                    sum.checked_add(*r) == Some(cand.value)
                        || sum.checked_sub(*r) == Some(cand.value)
                })
            {
                sum_match = true;
            }
        }
        if sum_match {
            cand.score += 0.5;
        }
        let agree = all_values
            .iter()
            .filter(|v| **v == cand.value)
            .count()
            .saturating_sub(1);
        cand.score += 0.3 * agree.min(2) as f32;
        if last_before_payment == Some(cand.row) {
            cand.score += 0.3;
        }
        if rounding_rows.iter().any(|r| *r < cand.row) && first_payment.is_none_or(|p| cand.row < p)
        {
            cand.score += 0.5;
        }
        if let Some(pay) = first_payment
            && cand.row > pay
        {
            cand.score -= 0.6;
        }
        // Tendered amounts at least as large as the total are normal.
        if !tendered.is_empty() && tendered.iter().all(|(t, _, _)| *t < cand.value) {
            cand.score -= 0.5;
        }
    }

    let best = candidates
        .iter()
        .enumerate()
        .max_by(|(ia, a), (ib, b)| a.score.total_cmp(&b.score).then(ia.cmp(ib)))
        .map(|(_, c)| c);

    let total = match best {
        Some(c) => Some(field(
            page,
            c.value,
            (0.35 + 0.15 * c.score).clamp(0.2, 0.98),
            &c.hit,
        )),
        None => fallback(page, priced),
    };
    let total_value = total.as_ref().map(|t| t.value);

    // Subtotal and tax: those that add up to the total when possible.
    let mut subtotal = None;
    let mut tax = None;
    if let Some(t) = total_value {
        'outer: for (s, _, sh) in &subtotals {
            for (x, _, xh) in &taxes {
                if let Some(sum) = s.checked_add(*x)
                    && sum.checked_sub(t).is_some_and(|d| d.unsigned_abs() <= 5)
                    && *x < *s
                {
                    subtotal = Some(field(page, *s, 0.9, sh));
                    tax = Some(field(page, *x, 0.9, xh));
                    break 'outer;
                }
            }
        }
    }
    if subtotal.is_none()
        && let Some((s, _, h)) = subtotals
            .iter()
            .find(|(s, _, _)| total_value.is_none_or(|t| *s <= t.saturating_add(5)))
    {
        subtotal = Some(field(page, *s, 0.6, h));
    }
    if tax.is_none()
        && let Some((x, _, h)) = taxes
            .iter()
            .find(|(x, _, _)| *x >= 0 && total_value.is_none_or(|t| *x < t))
    {
        tax = Some(field(page, *x, 0.55, h));
    }
    Totals {
        total,
        subtotal,
        tax,
    }
}

/// Cash minus change as a weak candidate of its own, for when the amount
/// printed beside `TOTAL` was misread (`75.0` for `75.70`): it beats only a
/// repaired or unconfirmed reading, since the paid bonus lifts it to 2.0.
fn add_paid(candidates: &mut Vec<Candidate>, paid: &[Paid]) {
    for p in paid {
        if candidates.iter().all(|c| c.value != p.value) {
            candidates.push(Candidate {
                value: p.value,
                score: 0.5,
                row: p.row,
                hit: p.hit,
            });
        }
    }
}

const MAX_ROUNDED_CHECK: usize = 64;

/// Candidates that are an earlier total rounded: printed below a rounding
/// row, within a rounding step of a total above it, and a multiple of five
/// minor units (cash rounding) where the earlier one is not. The amount paid
/// is the rounded one.
fn rounded_totals(candidates: &[Candidate], rounding_rows: &[usize], digits: u32) -> Vec<usize> {
    let step = 10_i64.pow(digits.min(6)) / 10;
    let mut out = Vec::new();
    // A receipt has a handful of totals; a page with hundreds is no receipt
    // and not worth the quadratic pass.
    if candidates.len() > MAX_ROUNDED_CHECK {
        return out;
    }
    for (k, c) in candidates.iter().enumerate() {
        if c.value % 5 != 0 {
            continue;
        }
        let earlier = candidates.iter().any(|e| {
            e.row < c.row
                && e.value % 5 != 0
                && c.value
                    .checked_sub(e.value)
                    .is_some_and(|d| d != 0 && d.abs() <= step)
                && rounding_rows.iter().any(|r| e.row < *r && *r <= c.row)
        });
        if earlier {
            out.push(k);
        }
    }
    out
}

/// No labelled total and no cash minus change (that is a candidate): the
/// largest amount not handed over, counted or given back.
fn fallback(page: &Page, priced: &[Priced]) -> Option<Field<i64>> {
    let mut best: Option<(i64, Hit)> = None;
    for row in priced {
        if matches!(row.label, Label::Tendered | Label::Change | Label::Other) {
            continue;
        }
        for hit in &row.hits {
            if hit.amount.kind != Kind::Decimal || hit.amount.minor <= 0 {
                continue;
            }
            if best.is_none_or(|(v, _)| hit.amount.minor > v) {
                best = Some((hit.amount.minor, *hit));
            }
        }
    }
    let (value, hit) = best?;
    Some(field(page, value, 0.3, &hit))
}
