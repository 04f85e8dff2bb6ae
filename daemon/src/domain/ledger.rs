//! The ledger's rules: who may do what in a book, the kinds and states of
//! its records, and the checks every transaction passes (splits add up,
//! dates are calendar days, names are printable). Pure: no I/O.

use std::fmt;

use super::money::is_currency_code;
use super::receipt::is_iso_date;

/// A member's place in a book. The owner is a member too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BookRole {
    Viewer,
    Editor,
    Owner,
}

impl BookRole {
    pub fn parse(text: &str) -> Option<BookRole> {
        match text {
            "viewer" => Some(BookRole::Viewer),
            "editor" => Some(BookRole::Editor),
            "owner" => Some(BookRole::Owner),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BookRole::Viewer => "viewer",
            BookRole::Editor => "editor",
            BookRole::Owner => "owner",
        }
    }

    /// Whether this member may change the book's content.
    pub fn can_write(self) -> bool {
        self >= BookRole::Editor
    }
}

/// What a call needs of the caller's membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any member: read.
    Read,
    /// Editor or owner: change the content.
    Write,
    /// The owner: members, renaming, deletion, ownership.
    Own,
}

impl Need {
    pub fn allows(self, role: BookRole) -> bool {
        match self {
            Need::Read => true,
            Need::Write => role.can_write(),
            Need::Own => role == BookRole::Owner,
        }
    }
}

pub const ACCOUNT_KINDS: [&str; 5] = ["checking", "savings", "credit_card", "cash", "loan"];

pub fn is_account_kind(kind: &str) -> bool {
    ACCOUNT_KINDS.contains(&kind)
}

/// A transaction's state against the bank statement.
pub const CLEARED_STATES: [&str; 3] = ["uncleared", "cleared", "reconciled"];

pub fn is_cleared_state(state: &str) -> bool {
    CLEARED_STATES.contains(&state)
}

/// A rule a ledger value broke; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid(message.into())
}

/// The longest name (book, account, category, payee) in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest free text (description, notes) in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Tags on one transaction, and the longest tag.
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 50;
/// Parts of one split transaction.
pub const MAX_SPLITS: usize = 100;
/// The largest amount in minor units (10^12: ten billion in a currency
/// with cents): a balance over a million such amounts still fits an `i64`
/// (at most 10^18 of its 9.2 * 10^18), and a double in a browser holds any
/// of them exactly.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// A name: at most [`MAX_NAME_CHARS`] characters, no control characters
/// at all (not even a newline), not only space; kept trimmed. The same
/// rule as [`NAME_PATTERN`], so the API document says exactly this.
pub fn name(field: &str, text: &str) -> Result<String, Invalid> {
    if text.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(format!(
            "{field} is longer than {MAX_NAME_CHARS} characters"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(format!("{field} holds control characters")));
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    Ok(trimmed.to_string())
}

/// [`name`]'s rule as a JSON Schema pattern (with a length of 1 to 200).
pub const NAME_PATTERN: &str =
    r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";

/// Free text: at most `max` characters, no control characters but newlines and tabs.
pub fn bounded_text(field: &str, text: &str, max: usize) -> Result<(), Invalid> {
    if text.chars().count() > max {
        return Err(invalid(format!("{field} is longer than {max} characters")));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(format!("{field} holds control characters")));
    }
    Ok(())
}

pub fn currency(field: &str, code: &str) -> Result<String, Invalid> {
    if is_currency_code(code) {
        Ok(code.to_string())
    } else {
        Err(invalid(format!(
            "{field} must be an ISO 4217 code such as EUR, not {code:?}"
        )))
    }
}

pub fn date(field: &str, text: &str) -> Result<String, Invalid> {
    if is_iso_date(text) {
        Ok(text.to_string())
    } else {
        Err(invalid(format!(
            "{field} must be a calendar day as YYYY-MM-DD, not {text:?}"
        )))
    }
}

pub fn amount(field: &str, minor: i64) -> Result<i64, Invalid> {
    if minor.abs() <= MAX_AMOUNT {
        Ok(minor)
    } else {
        Err(invalid(format!(
            "{field} is out of range (at most {MAX_AMOUNT} minor units either way)"
        )))
    }
}

/// Tags trimmed, lower-cased, deduplicated and sorted: `Food` and `food ` are one tag.
pub fn tags(raw: &[String]) -> Result<Vec<String>, Invalid> {
    let mut tags: Vec<String> = Vec::with_capacity(raw.len());
    for tag in raw {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() {
            return Err(invalid("a tag must not be empty"));
        }
        if tag.chars().count() > MAX_TAG_CHARS || tag.chars().any(char::is_control) {
            return Err(invalid(format!(
                "a tag is at most {MAX_TAG_CHARS} printable characters"
            )));
        }
        tags.push(tag);
    }
    tags.sort();
    tags.dedup();
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!(
            "a transaction has at most {MAX_TAGS} tags"
        )));
    }
    Ok(tags)
}

/// One part of a split transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitPart {
    pub category_id: Option<String>,
    pub amount: i64,
    pub memo: String,
}

/// A split is at least two parts whose amounts add up exactly to the
/// transaction's amount. No split at all is fine: the transaction's own
/// category applies.
pub fn check_splits(total: i64, parts: &[SplitPart]) -> Result<(), Invalid> {
    if parts.is_empty() {
        return Ok(());
    }
    if parts.len() == 1 {
        return Err(invalid(
            "a split has at least two parts; set the category instead",
        ));
    }
    if parts.len() > MAX_SPLITS {
        return Err(invalid(format!("a split has at most {MAX_SPLITS} parts")));
    }
    let mut sum: i64 = 0;
    for (i, part) in parts.iter().enumerate() {
        amount(&format!("splits[{i}].amount"), part.amount)?;
        bounded_text(&format!("splits[{i}].memo"), &part.memo, MAX_NAME_CHARS)?;
        // Each part is at most MAX_AMOUNT and there are at most MAX_SPLITS.
        sum += part.amount;
    }
    if sum != total {
        return Err(invalid(format!(
            "the split parts add up to {sum}, not to the amount {total}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn part(amount: i64) -> SplitPart {
        SplitPart {
            category_id: None,
            amount,
            memo: String::new(),
        }
    }

    #[test]
    fn roles_order_their_rights() {
        assert!(Need::Read.allows(BookRole::Viewer));
        assert!(!Need::Write.allows(BookRole::Viewer));
        assert!(Need::Write.allows(BookRole::Editor));
        assert!(!Need::Own.allows(BookRole::Editor));
        assert!(Need::Own.allows(BookRole::Owner));
        assert_eq!(BookRole::parse("editor"), Some(BookRole::Editor));
        assert_eq!(BookRole::parse("Editor"), None);
    }

    #[test]
    fn splits_must_add_up_and_have_two_parts() {
        assert!(check_splits(-1000, &[]).is_ok());
        assert!(check_splits(-1000, &[part(-600), part(-400)]).is_ok());
        assert!(check_splits(-1000, &[part(-1000)]).is_err());
        let err = check_splits(-1000, &[part(-600), part(-300)]).expect_err("short");
        assert!(err.0.contains("-900"), "{err}");
        assert!(check_splits(0, &[part(MAX_AMOUNT + 1), part(-MAX_AMOUNT - 1)]).is_err());
    }

    #[test]
    fn tags_are_normalised() {
        let raw = vec!["Food ".to_string(), "food".into(), "travel".into()];
        assert_eq!(tags(&raw).expect("tags"), vec!["food", "travel"]);
        assert!(tags(&[" ".to_string()]).is_err());
        assert!(tags(&["a\u{7}".to_string()]).is_err());
    }

    #[test]
    fn names_dates_and_currencies_are_checked() {
        assert_eq!(name("name", "  Joint  ").expect("ok"), "Joint");
        assert!(name("name", " ").is_err());
        assert!(name("name", &"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(date("date", "2026-02-29").is_err());
        assert!(date("date", "2028-02-29").is_ok());
        assert!(currency("currency", "eur").is_err());
    }

    proptest! {
        /// Any parts of a total add up to it; changing one part by any
        /// non-zero amount breaks the split.
        #[test]
        fn a_split_is_valid_exactly_when_it_adds_up(
            amounts in proptest::collection::vec(-MAX_AMOUNT / 100..MAX_AMOUNT / 100, 2..20),
            nudge in prop_oneof![-1_000_000i64..-1, 1i64..1_000_000],
        ) {
            let total: i64 = amounts.iter().sum();
            let mut parts: Vec<SplitPart> = amounts.iter().map(|&a| part(a)).collect();
            prop_assert!(check_splits(total, &parts).is_ok());
            parts[0].amount += nudge;
            prop_assert!(check_splits(total, &parts).is_err());
        }
    }
}
