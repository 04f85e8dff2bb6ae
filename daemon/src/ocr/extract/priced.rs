//! Each row of a receipt as a label and the amounts on it: what the
//! totals, payment, tender and line-item finders all start from.

use super::amounts::{self, Hit};
use super::labels::{Label, classify};
use super::layout::{Row, normalise};

/// A row's label and amounts.
pub struct Priced {
    pub label: Label,
    /// The row is a parenthesised note (`(Total included GST 6%: 1.09)`),
    /// an aside about the total rather than the total.
    pub aside: bool,
    pub label_text: String,
    pub hits: Vec<Hit>,
}

pub fn price_rows(rows: &[Row], digits: u32) -> Vec<Priced> {
    rows.iter()
        .map(|row| {
            let hits = amounts::find(&row.tokens, digits);
            let mut label_words = Vec::new();
            for (i, token) in row.tokens.iter().enumerate() {
                if !hits.iter().any(|h| (h.first..=h.last).contains(&i)) {
                    label_words.push(token.text.as_str());
                }
            }
            let label_text = normalise(&label_words.join(" "));
            let aside = row.tokens.first().is_some_and(|t| t.text.starts_with('('))
                && row.tokens.iter().skip(1).any(|t| t.text.contains(')'));
            Priced {
                label: classify(&label_text),
                aside,
                label_text,
                hits,
            }
        })
        .collect()
}
