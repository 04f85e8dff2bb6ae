//! A receipt as its owner sees it: the stored record, its OCR job, and the
//! fields extracted with the owner's corrections on top.

use crate::domain::receipt::{Field, ReceiptFields, is_iso_date};
use crate::domain::text::is_blank;
use crate::service::ServiceError;
use crate::store::{JobRecord, ReceiptRecord};

/// A receipt with its OCR job.
#[derive(Debug, Clone)]
pub struct ReceiptView {
    pub receipt: ReceiptRecord,
    pub job: Option<JobRecord>,
}

impl ReceiptView {
    /// The fields as the owner should see them: extracted, with corrections on top.
    pub fn fields(&self) -> ReceiptFields {
        let mut fields: ReceiptFields = self
            .receipt
            .extracted
            .as_deref()
            .and_then(|json| match serde_json::from_str(json) {
                Ok(fields) => Some(fields),
                Err(e) => {
                    // Never silent: a reading stored but not readable back.
                    tracing::error!(receipt = %self.receipt.rid, error = %e, "stored OCR fields do not parse");
                    None
                }
            })
            .unwrap_or_default();
        if let Some(corrections) = self.corrections() {
            corrections.apply(&mut fields);
        }
        fields
    }

    pub fn corrections(&self) -> Option<Corrections> {
        self.receipt
            .corrected
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
    }

    pub fn state(&self) -> &str {
        self.job.as_ref().map_or("failed", |j| j.state.as_str())
    }
}

/// Fields the owner set by hand. `Some` replaces the extracted value.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Corrections {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub merchant: Option<String>,
    /// ISO 8601 date, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub date: Option<String>,
    /// `HH:MM` or `HH:MM:SS`.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")]
    pub time: Option<String>,
    /// ISO 4217 code.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// Minor units of the currency.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub total: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub subtotal: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub tax: Option<i64>,
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub payment_method: Option<String>,
}

impl Corrections {
    /// The names of the fields set, as in the API.
    pub fn names(&self) -> Vec<&'static str> {
        [
            ("merchant", self.merchant.is_some()),
            ("date", self.date.is_some()),
            ("time", self.time.is_some()),
            ("currency", self.currency.is_some()),
            ("total", self.total.is_some()),
            ("subtotal", self.subtotal.is_some()),
            ("tax", self.tax.is_some()),
            ("payment_method", self.payment_method.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    fn apply(&self, fields: &mut ReceiptFields) {
        let text = |v: &Option<String>| v.clone().map(Field::given);
        if self.merchant.is_some() {
            fields.merchant = text(&self.merchant);
        }
        if self.date.is_some() {
            fields.date = text(&self.date);
        }
        if self.time.is_some() {
            fields.time = text(&self.time);
        }
        if self.currency.is_some() {
            fields.currency = text(&self.currency);
        }
        if self.payment_method.is_some() {
            fields.payment_method = text(&self.payment_method);
        }
        if let Some(total) = self.total {
            fields.total = Some(Field::given(total));
        }
        if let Some(subtotal) = self.subtotal {
            fields.subtotal = Some(Field::given(subtotal));
        }
        if let Some(tax) = self.tax {
            fields.tax = Some(Field::given(tax));
        }
    }

    /// Later corrections win field by field.
    pub(super) fn merge(mut self, newer: Corrections) -> Corrections {
        macro_rules! take_newer {
            ($($field:ident),*) => { $( if newer.$field.is_some() { self.$field = newer.$field; } )* };
        }
        take_newer!(
            merchant,
            date,
            time,
            currency,
            total,
            subtotal,
            tax,
            payment_method
        );
        self
    }

    pub(super) fn validate(&self) -> Result<(), ServiceError> {
        let invalid = |m: &str| Err(ServiceError::Invalid(m.into()));
        if let Some(date) = &self.date
            && !is_iso_date(date)
        {
            return invalid("date must be a real date written YYYY-MM-DD");
        }
        if let Some(time) = &self.time
            && !is_time(time)
        {
            return invalid("time must be HH:MM or HH:MM:SS");
        }
        if let Some(code) = &self.currency
            && !crate::domain::money::is_currency_code(code)
        {
            return invalid("currency must be an ISO 4217 code such as EUR");
        }
        for (name, value) in [
            ("total", self.total),
            ("subtotal", self.subtotal),
            ("tax", self.tax),
        ] {
            if value.is_some_and(|v| !(0..=1_000_000_000_000).contains(&v)) {
                return Err(ServiceError::Invalid(format!(
                    "{name} must be a whole number of minor units from 0 to 10^12"
                )));
            }
        }
        for (name, value) in [
            ("merchant", &self.merchant),
            ("payment_method", &self.payment_method),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| is_blank(v) || v.chars().count() > 200)
            {
                return Err(ServiceError::Invalid(format!(
                    "{name} must be 1 to 200 characters"
                )));
            }
        }
        Ok(())
    }
}

fn is_time(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    let in_range = |p: &str, max: u32| p.len() == 2 && p.parse::<u32>().is_ok_and(|v| v <= max);
    match parts.as_slice() {
        [h, m] => in_range(h, 23) && in_range(m, 59),
        [h, m, s] => in_range(h, 23) && in_range(m, 59) && in_range(s, 59),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_accept_only_real_values() {
        let ok = Corrections {
            date: Some("2024-02-29".into()),
            time: Some("23:59".into()),
            currency: Some("EUR".into()),
            total: Some(1234),
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        for bad in [
            Corrections {
                date: Some("2023-02-29".into()),
                ..Default::default()
            },
            Corrections {
                date: Some("25/12/2018".into()),
                ..Default::default()
            },
            Corrections {
                time: Some("24:00".into()),
                ..Default::default()
            },
            Corrections {
                currency: Some("euro".into()),
                ..Default::default()
            },
            Corrections {
                total: Some(-1),
                ..Default::default()
            },
            Corrections {
                merchant: Some("  ".into()),
                ..Default::default()
            },
        ] {
            assert!(
                matches!(bad.validate(), Err(ServiceError::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn later_corrections_win_field_by_field_and_override_extraction() {
        let first = Corrections {
            merchant: Some("A".into()),
            total: Some(100),
            ..Default::default()
        };
        let second = Corrections {
            total: Some(200),
            ..Default::default()
        };
        let merged = first.merge(second);
        assert_eq!(merged.merchant.as_deref(), Some("A"));
        assert_eq!(merged.total, Some(200));
        let mut fields = ReceiptFields {
            total: Some(Field::read(999, 0.5, 3, "TOTAL 9.99")),
            ..Default::default()
        };
        merged.apply(&mut fields);
        assert_eq!(fields.total, Some(Field::given(200)));
        assert_eq!(fields.merchant.map(|m| m.value), Some("A".to_string()));
    }
}
