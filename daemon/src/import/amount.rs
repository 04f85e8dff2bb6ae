//! Amounts as banks write them, to integer minor units: strict. A sign in
//! front or behind, or parentheses, for negatives; the decimal and
//! thousands separators the file's format says; thousands groups of three;
//! no more decimals than the currency has. Anything else (a stray letter,
//! a second decimal point) is an error, never a guess.

/// How a file writes numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberFormat {
    pub decimal: char,
    /// None: no grouping at all.
    pub thousands: Option<char>,
}

impl NumberFormat {
    pub const POINT: NumberFormat = NumberFormat {
        decimal: '.',
        thousands: Some(','),
    };
    pub const COMMA: NumberFormat = NumberFormat {
        decimal: ',',
        thousands: Some('.'),
    };
}

/// The largest amount taken, as the ledger's own bound.
const MAX_MINOR: i64 = crate::domain::ledger::MAX_AMOUNT;

/// `text` in minor units of a currency with `digits` decimals.
pub fn parse_amount(text: &str, format: NumberFormat, digits: u32) -> Result<i64, String> {
    let trimmed = text.trim_matches(|c: char| c.is_whitespace());
    if trimmed.is_empty() {
        return Err("the amount is empty".into());
    }
    let (negative, body) = strip_sign(trimmed)?;
    let (whole, fraction) = match body.rfind(format.decimal) {
        Some(at) => (&body[..at], &body[at + format.decimal.len_utf8()..]),
        None => (body, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return Err(format!("{text:?} is not an amount"));
    }
    let whole_digits = ungroup(whole, format, text)?;
    if !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "{text:?} is not an amount: unexpected characters after the decimal separator"
        ));
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > digits as usize {
        return Err(format!(
            "{text:?} has more decimals than the currency's {digits}"
        ));
    }
    let mut minor: i64 = 0;
    let scaled = format!("{whole_digits}{fraction:0<width$}", width = digits as usize);
    for c in scaled.chars() {
        let digit = i64::from(c.to_digit(10).unwrap_or(0));
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(digit))
            .filter(|m| *m <= MAX_MINOR)
            .ok_or_else(|| format!("{text:?} is too large"))?;
    }
    Ok(if negative { -minor } else { minor })
}

/// The sign (`-`, `+`, trailing `-`, or parentheses) and the rest.
fn strip_sign(text: &str) -> Result<(bool, &str), String> {
    if let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        return Ok((true, inner.trim()));
    }
    let (negative, rest) = if let Some(rest) = text.strip_prefix(['-', '\u{2212}']) {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix('+') {
        (false, rest)
    } else if let Some(rest) = text.strip_suffix('-') {
        (true, rest)
    } else {
        (false, text)
    };
    let rest = rest.trim();
    if rest.starts_with(['-', '+']) || rest.ends_with(['-', '+']) {
        return Err(format!("{text:?} has more than one sign"));
    }
    Ok((negative, rest))
}

/// The digits of the whole part, its thousands separators checked (groups of three).
fn ungroup(whole: &str, format: NumberFormat, text: &str) -> Result<String, String> {
    let stray = || format!("{text:?} is not an amount: unexpected characters");
    let Some(sep) = format.thousands else {
        return if whole.chars().all(|c| c.is_ascii_digit()) {
            Ok(whole.to_string())
        } else {
            Err(stray())
        };
    };
    // A space separator also stands for the no-break spaces some banks write.
    let is_sep = |c: char| c == sep || (sep == ' ' && (c == '\u{a0}' || c == '\u{202f}'));
    let groups: Vec<&str> = whole.split(is_sep).collect();
    for (i, group) in groups.iter().enumerate() {
        if !group.chars().all(|c| c.is_ascii_digit()) {
            return Err(stray());
        }
        let misplaced = if i == 0 {
            groups.len() > 1 && (group.is_empty() || group.len() > 3)
        } else {
            group.len() != 3
        };
        if misplaced {
            return Err(format!(
                "{text:?} is not an amount: thousands separators in the wrong places"
            ));
        }
    }
    Ok(groups.concat())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EU: NumberFormat = NumberFormat::COMMA;
    const US: NumberFormat = NumberFormat::POINT;

    #[test]
    fn banks_write_amounts_many_ways() {
        assert_eq!(parse_amount("1,234.56", US, 2), Ok(123_456));
        assert_eq!(parse_amount("-1.234,56", EU, 2), Ok(-123_456));
        assert_eq!(parse_amount("1234,5", EU, 2), Ok(123_450));
        assert_eq!(parse_amount("(42.00)", US, 2), Ok(-4_200));
        assert_eq!(parse_amount("42.00-", US, 2), Ok(-4_200));
        assert_eq!(parse_amount("+7", US, 2), Ok(700));
        assert_eq!(parse_amount(".5", US, 2), Ok(50));
        assert_eq!(parse_amount("1200", US, 0), Ok(1_200));
        assert_eq!(parse_amount("1.250", US, 3), Ok(1_250));
        assert_eq!(
            parse_amount("12.30", US, 0),
            Err("\"12.30\" has more decimals than the currency's 0".into())
        );
        let space = NumberFormat {
            decimal: ',',
            thousands: Some(' '),
        };
        assert_eq!(parse_amount("1\u{a0}234,50", space, 2), Ok(123_450));
    }

    #[test]
    fn stray_characters_are_errors_not_guesses() {
        for bad in [
            "12.3x4",
            "€12.00",
            "12.00 EUR",
            "1,23.45",
            "1,2345.00",
            "--5",
            "",
            "-",
            "1.2.3",
            "=1+2",
            "1e5",
        ] {
            assert!(parse_amount(bad, US, 2).is_err(), "{bad:?} was taken");
        }
        assert!(parse_amount("99999999999999999999", US, 2).is_err());
    }

    proptest! {
        /// Any amount written with grouping in either style reads back.
        #[test]
        fn written_amounts_read_back(minor in -MAX_MINOR..=MAX_MINOR, comma in any::<bool>()) {
            let format = if comma { EU } else { US };
            let abs = minor.unsigned_abs();
            let whole = (abs / 100).to_string();
            let mut grouped = String::new();
            for (i, c) in whole.chars().enumerate() {
                if i > 0 && (whole.len() - i) % 3 == 0 {
                    grouped.push(format.thousands.unwrap_or(','));
                }
                grouped.push(c);
            }
            let sign = if minor < 0 { "-" } else { "" };
            let text = format!("{sign}{grouped}{}{:02}", format.decimal, abs % 100);
            prop_assert_eq!(parse_amount(&text, format, 2), Ok(minor));
        }

        /// Nothing panics, whatever the text.
        #[test]
        fn any_text_is_an_amount_or_an_error(text in "\\PC{0,24}") {
            let _ = parse_amount(&text, US, 2);
            let _ = parse_amount(&text, EU, 3);
        }
    }
}
