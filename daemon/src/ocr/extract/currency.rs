//! The receipt's currency: an ISO 4217 code or an unambiguous symbol printed
//! on it, else the configured default (with a lower confidence and no source).

use super::layout::Row;
use crate::domain::money::is_currency_code;

/// Codes recognised when printed.
const CODES: [&str; 24] = [
    "MYR", "USD", "EUR", "GBP", "SGD", "JPY", "AUD", "CAD", "CNY", "RMB", "INR", "THB", "IDR",
    "PHP", "HKD", "CHF", "NZD", "KRW", "VND", "SEK", "NOK", "DKK", "TWD", "BND",
];

const DOLLARS: [&str; 9] = [
    "USD", "SGD", "AUD", "CAD", "HKD", "NZD", "TWD", "BND", "MXN",
];

/// One clue: the currency, how sure it is, and the line it came from.
struct Clue {
    code: String,
    weight: f32,
    line: usize,
}

fn clues_in(word: &str, default: &str) -> Option<(String, f32)> {
    let t = word.trim_matches(|c: char| !c.is_alphanumeric() && !"$€£¥₹฿₩".contains(c));
    let upper = t.to_uppercase();
    let head_code = |code: &str| {
        upper.strip_prefix(code).is_some_and(|rest| {
            rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        }) || upper
            .strip_suffix(code)
            .is_some_and(|rest| !rest.is_empty() && rest.ends_with(|c: char| c.is_ascii_digit()))
    };
    for code in CODES {
        if head_code(code) {
            let code = if code == "RMB" { "CNY" } else { code };
            return Some((code.to_string(), 1.0));
        }
    }
    if head_code("RM") {
        return Some(("MYR".to_string(), 0.9));
    }
    if upper.contains("US$") {
        return Some(("USD".to_string(), 0.9));
    }
    if upper.contains("S$") {
        return Some(("SGD".to_string(), 0.9));
    }
    if t.contains('€') {
        return Some(("EUR".to_string(), 0.9));
    }
    if t.contains('£') {
        return Some(("GBP".to_string(), 0.9));
    }
    if t.contains('₹') {
        return Some(("INR".to_string(), 0.9));
    }
    if t.contains('฿') {
        return Some(("THB".to_string(), 0.9));
    }
    if t.contains('₩') {
        return Some(("KRW".to_string(), 0.9));
    }
    if t.contains('¥') {
        let code = if default == "CNY" { "CNY" } else { "JPY" };
        return Some((code.to_string(), 0.6));
    }
    if t.contains('$') {
        // Many currencies print `$`: trust the default when it is one.
        if DOLLARS.contains(&default) {
            return Some((default.to_string(), 0.6));
        }
        return Some(("USD".to_string(), 0.3));
    }
    None
}

/// The currency code, its confidence and where it was read (`None`: default).
pub fn find(rows: &[Row], default: &str) -> (String, f32, Option<usize>) {
    let mut clues: Vec<Clue> = Vec::new();
    for row in rows {
        for token in &row.tokens {
            if let Some((code, weight)) = clues_in(&token.text, default) {
                clues.push(Clue {
                    code,
                    weight,
                    line: token.line,
                });
            }
        }
    }
    let mut best: Option<(String, f32, usize)> = None;
    for clue in &clues {
        let sum: f32 = clues
            .iter()
            .filter(|c| c.code == clue.code)
            .map(|c| c.weight)
            .sum();
        if best.as_ref().is_none_or(|(_, s, _)| sum > *s) {
            best = Some((clue.code.clone(), sum, clue.line));
        }
    }
    let default = if is_currency_code(default) {
        default.to_string()
    } else {
        "XXX".to_string()
    };
    match best {
        Some((code, sum, line)) => (code, (0.5 + 0.2 * sum).min(0.95), Some(line)),
        None => (default, 0.4, None),
    }
}
