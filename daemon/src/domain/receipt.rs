//! What extraction finds on a receipt. Each field carries a confidence in
//! 0..=1 and the OCR text it came from, so a person can see why.

use serde::{Deserialize, Serialize};

/// Where a value was read: the OCR line (0-based, in reading order) and its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub line: u32,
    pub text: String,
}

/// One extracted value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field<T> {
    pub value: T,
    pub confidence: f32,
    /// `None` when the value was not read but inferred (the default currency)
    /// or set by the user.
    pub source: Option<Source>,
}

/// A confidence between 0 and 1. A score that came out NaN (a division of
/// nothing by nothing somewhere) is 0: `clamp` keeps NaN, JSON writes it as
/// `null`, and a stored `null` would make the whole reading unreadable.
pub fn confidence(score: f32) -> f32 {
    if score.is_nan() {
        0.0
    } else {
        score.clamp(0.0, 1.0)
    }
}

impl<T> Field<T> {
    pub fn read(value: T, confidence: f32, line: usize, text: &str) -> Field<T> {
        Field {
            value,
            confidence: self::confidence(confidence),
            source: Some(Source {
                line: u32::try_from(line).unwrap_or(u32::MAX),
                text: text.to_string(),
            }),
        }
    }

    /// A value a person gave: certain, and not read from the image.
    pub fn given(value: T) -> Field<T> {
        Field {
            value,
            confidence: 1.0,
            source: None,
        }
    }
}

/// One purchased line. Amounts are minor units of the receipt's currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    pub description: String,
    /// A decimal string (`"2"`, `"0.455"`): quantities may be weights.
    pub quantity: Option<String>,
    pub unit_price: Option<i64>,
    pub amount: i64,
    pub confidence: f32,
    pub source: Option<Source>,
}

/// Everything read from one receipt. Amounts are integer minor units of
/// `currency`; dates are ISO 8601 (`2018-12-25`), times `HH:MM` or `HH:MM:SS`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReceiptFields {
    pub merchant: Option<Field<String>>,
    pub date: Option<Field<String>>,
    pub time: Option<Field<String>>,
    pub currency: Option<Field<String>>,
    pub total: Option<Field<i64>>,
    pub subtotal: Option<Field<i64>>,
    pub tax: Option<Field<i64>>,
    pub payment_method: Option<Field<String>>,
    pub items: Vec<LineItem>,
}

/// Whether an ambiguous numeric date such as `03/04/2019` is day first
/// (3 April, most of the world) or month first (4 March, the US).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    #[default]
    DayFirst,
    MonthFirst,
}

/// What extraction needs to know besides the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractOptions {
    pub date_order: DateOrder,
    /// ISO 4217 code assumed when the receipt names no currency.
    pub default_currency: String,
}

/// Whether `year-month-day` is a day of the Gregorian calendar (leap years
/// included). The one calendar rule: extraction and corrections both use it.
pub fn is_calendar_day(year: u32, month: u32, day: u32) -> bool {
    let (Ok(year), Ok(month), Ok(day)) =
        (i32::try_from(year), u8::try_from(month), u8::try_from(day))
    else {
        return false;
    };
    time::Month::try_from(month)
        .is_ok_and(|month| time::Date::from_calendar_date(year, month, day).is_ok())
}

/// Whether `text` is a calendar day written `YYYY-MM-DD`, as receipt dates
/// are stored.
pub fn is_iso_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return false;
    };
    let digits =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(year, 4) || !digits(month, 2) || !digits(day, 2) {
        return false;
    }
    match (year.parse(), month.parse(), day.parse()) {
        (Ok(year), Ok(month), Ok(day)) => is_calendar_day(year, month, day),
        _ => false,
    }
}

/// Which of an owner's receipts to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiptQuery {
    pub state: Option<String>,
    /// Receipt dates from and to, inclusive, ISO 8601.
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nan_score_is_no_confidence_and_survives_json() {
        let field = Field::read(5_i64, f32::NAN, 1, "5.00");
        assert_eq!(field.confidence, 0.0);
        let json = serde_json::to_string(&field).expect("json");
        let back: Field<i64> = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back.confidence, 0.0);
        assert_eq!(confidence(1.5), 1.0);
    }

    #[test]
    fn leap_days_follow_the_gregorian_rule() {
        assert!(is_calendar_day(2024, 2, 29));
        assert!(is_calendar_day(2000, 2, 29));
        assert!(!is_calendar_day(2023, 2, 29));
        assert!(!is_calendar_day(1900, 2, 29));
        assert!(is_calendar_day(2018, 12, 31));
        assert!(!is_calendar_day(2018, 4, 31));
        assert!(!is_calendar_day(2018, 13, 1));
        assert!(!is_calendar_day(2018, 0, 1));
        assert!(!is_calendar_day(2018, 1, 0));
    }

    #[test]
    fn iso_dates_need_four_two_two_digits() {
        assert!(is_iso_date("2018-03-22"));
        assert!(is_iso_date("2024-02-29"));
        assert!(!is_iso_date("2023-02-29"));
        assert!(!is_iso_date("2018-3-22"));
        assert!(!is_iso_date("18-03-22"));
        assert!(!is_iso_date("2018-03-22-01"));
        assert!(!is_iso_date("+018-03-22"));
        assert!(!is_iso_date("22/03/2018"));
        assert!(!is_iso_date(""));
    }
}
