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

impl<T> Field<T> {
    pub fn read(value: T, confidence: f32, line: usize, text: &str) -> Field<T> {
        Field {
            value,
            confidence: confidence.clamp(0.0, 1.0),
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
