//! Whether a bank line is the payment of a receipt, and how sure that is.
//! A pair is only ever proposed when the amounts are exactly equal (the
//! line is the receipt's total going out), in the same currency, and the
//! bank dated the line within a few days of the receipt; among such lines
//! the closer date and the more similar name score higher. Pure.

use std::collections::HashSet;

use time::{Date, Month};

/// The bank may date a card payment this many days before the receipt
/// (a receipt dated by the till's wrong clock) ...
pub const DAYS_BEFORE: i64 = 2;
/// ... and this many after (a payment booked days later, over a weekend).
pub const DAYS_AFTER: i64 = 7;

/// The score every proposed pair has at least: equal amount and currency,
/// dates in the window.
pub const BASE_SCORE: f64 = 0.6;

/// A read receipt, with its owner's corrections on top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptFacts {
    /// Minor units, at least 0.
    pub total: i64,
    pub currency: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub merchant: String,
}

/// A bank line (a transaction of the ledger).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFacts {
    /// Signed minor units: a payment is negative.
    pub amount: i64,
    pub currency: String,
    pub date: String,
    pub payee: String,
    pub description: String,
}

fn day(text: &str) -> Option<Date> {
    let mut parts = text.splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month = Month::try_from(parts.next()?.parse::<u8>().ok()?).ok()?;
    let day = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// Days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: &str, to: &str) -> Option<i64> {
    Some((day(to)? - day(from)?).whole_days())
}

/// The day `days` after `date` (before, when negative).
pub fn shift_day(date: &str, days: i64) -> Option<String> {
    let shifted = day(date)?.checked_add(time::Duration::days(days))?;
    Some(format!(
        "{:04}-{:02}-{:02}",
        shifted.year(),
        u8::from(shifted.month()),
        shifted.day()
    ))
}

/// Words that name a company's legal form or are noise on bank lines:
/// they say nothing about which shop it was.
const NOISE: [&str; 22] = [
    "sdn",
    "bhd",
    "gmbh",
    "ltd",
    "llc",
    "inc",
    "co",
    "corp",
    "ag",
    "sa",
    "sarl",
    "bv",
    "plc",
    "the",
    "and",
    "pos",
    "card",
    "debit",
    "purchase",
    "payment",
    "visa",
    "mastercard",
];

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1 && !NOISE.contains(w) && !w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

fn trigrams(words: &[String]) -> HashSet<String> {
    let joined: Vec<char> = words.join(" ").chars().collect();
    joined
        .windows(3)
        .map(|w| w.iter().collect::<String>())
        .collect()
}

/// How alike a receipt's merchant and a bank line's text are, 0 to 1: the
/// better of shared words and shared letter triples, so that `TESCO STORES
/// 3297` and `Tesco` agree, and so do `AMZN Mktp` and `Amazon Mktp`.
pub fn name_similarity(merchant: &str, line: &str) -> f64 {
    let (a, b) = (words(merchant), words(line));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (sa, sb): (HashSet<&String>, HashSet<&String>) = (a.iter().collect(), b.iter().collect());
    let shared = sa.intersection(&sb).count() as f64;
    // Of the shorter name: a bank line adds a town and a card number.
    let by_words = shared / sa.len().min(sb.len()) as f64;
    let (ta, tb) = (trigrams(&a), trigrams(&b));
    let by_letters = if ta.is_empty() || tb.is_empty() {
        0.0
    } else {
        2.0 * ta.intersection(&tb).count() as f64 / (ta.len() + tb.len()) as f64
    };
    by_words.max(by_letters).clamp(0.0, 1.0)
}

/// How sure fin is that `line` pays `receipt`: `None` when it cannot be
/// (another amount or currency, dates too far apart), else a score from
/// [`BASE_SCORE`] to 1.
pub fn score(receipt: &ReceiptFacts, line: &LineFacts) -> Option<f64> {
    if receipt.total <= 0 || line.amount != -receipt.total || line.currency != receipt.currency {
        return None;
    }
    let days = days_between(&receipt.date, &line.date)?;
    if !(-DAYS_BEFORE..=DAYS_AFTER).contains(&days) {
        return None;
    }
    let closeness = 1.0 - days.unsigned_abs() as f64 / (DAYS_AFTER + 1) as f64;
    let name = name_similarity(
        &receipt.merchant,
        &format!("{} {}", line.payee, line.description),
    );
    Some(BASE_SCORE + 0.15 * closeness + 0.25 * name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> ReceiptFacts {
        ReceiptFacts {
            total: 2_340,
            currency: "EUR".into(),
            date: "2026-01-30".into(),
            merchant: "LIDL Dienstleistung GmbH".into(),
        }
    }

    fn line(amount: i64, date: &str, payee: &str) -> LineFacts {
        LineFacts {
            amount,
            currency: "EUR".into(),
            date: date.into(),
            payee: payee.into(),
            description: "CARD 4411".into(),
        }
    }

    #[test]
    fn only_the_same_amount_and_currency_near_the_date() {
        let r = receipt();
        assert!(score(&r, &line(-2_340, "2026-02-02", "LIDL BERLIN")).is_some());
        assert!(
            score(&r, &line(2_340, "2026-02-02", "LIDL")).is_none(),
            "a refund"
        );
        assert!(score(&r, &line(-2_341, "2026-02-02", "LIDL")).is_none());
        assert!(
            score(&r, &line(-2_340, "2026-02-07", "LIDL")).is_none(),
            "too late"
        );
        assert!(
            score(&r, &line(-2_340, "2026-01-27", "LIDL")).is_none(),
            "too early"
        );
        let mut usd = line(-2_340, "2026-01-30", "LIDL");
        usd.currency = "USD".into();
        assert!(score(&r, &usd).is_none());
    }

    #[test]
    fn a_closer_date_and_a_similar_name_score_higher() {
        let r = receipt();
        let same_day_lidl = score(&r, &line(-2_340, "2026-01-30", "LIDL BERLIN")).expect("pair");
        let later_lidl = score(&r, &line(-2_340, "2026-02-04", "LIDL BERLIN")).expect("pair");
        let same_day_other =
            score(&r, &line(-2_340, "2026-01-30", "ARAL TANKSTELLE")).expect("pair");
        assert!(same_day_lidl > later_lidl, "{same_day_lidl} {later_lidl}");
        assert!(same_day_lidl > same_day_other);
        assert!(same_day_lidl <= 1.0 && same_day_other >= BASE_SCORE);
    }

    #[test]
    fn names_agree_across_bank_abbreviations() {
        assert!(name_similarity("TESCO STORES LTD", "TESCO STORES 3297 LONDON") > 0.9);
        assert!(name_similarity("AMAZON MKTP", "AMZN Mktp DE") >= 0.5);
        assert!(name_similarity("SANYU STATIONERY SDN BHD", "KEDAI BUKU") < 0.2);
        assert_eq!(name_similarity("", "x y"), 0.0);
        assert_eq!(name_similarity("Co. Ltd", "Shop"), 0.0, "noise only");
    }

    #[test]
    fn days_are_calendar_days() {
        assert_eq!(days_between("2026-02-27", "2026-03-02"), Some(3));
        assert_eq!(days_between("2024-02-27", "2024-03-02"), Some(4));
        assert_eq!(days_between("2026-02-30", "2026-03-02"), None);
        assert_eq!(shift_day("2026-12-30", 3).as_deref(), Some("2027-01-02"));
        assert_eq!(shift_day("2026-03-01", -1).as_deref(), Some("2026-02-28"));
    }
}
