//! Money amounts in OCR text: integer minor units, never floats, with the
//! usual OCR slips repaired (`O` for `0`, `l` for `1`, a lost or doubled
//! decimal point, thousands separators, a currency glued on either side).

use super::layout::Token;

/// Amounts above this many integer digits are not amounts.
const MAX_INT_DIGITS: usize = 12;

const CURRENCY_AFFIXES: [&str; 17] = [
    "MYR", "USD", "EUR", "GBP", "SGD", "JPY", "AUD", "CAD", "US$", "S$", "RM", "R$", "$", "€", "£",
    "¥", "₹",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// With a decimal part of the currency's width (`80.90`).
    Decimal,
    /// No decimal part (`80`, `1,234`): maybe a lost decimal point.
    Whole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    pub minor: i64,
    pub kind: Kind,
    /// A character or separator had to be repaired.
    pub repaired: bool,
    /// A currency symbol or code was glued to it.
    pub currency: bool,
}

/// One amount found in a row of tokens.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub amount: Amount,
    /// Token range `first..=last` in the row.
    pub first: usize,
    pub last: usize,
    pub line: usize,
    pub right: f32,
}

fn strip_currency(text: &str) -> (&str, bool) {
    let mut s = text;
    let mut found = false;
    for affix in CURRENCY_AFFIXES {
        if s.len() > affix.len()
            && let Some(head) = s.get(..affix.len())
            && head.eq_ignore_ascii_case(affix)
            && let Some(rest) = s.get(affix.len()..)
        {
            s = rest;
            found = true;
            break;
        }
    }
    for affix in CURRENCY_AFFIXES {
        if s.len() > affix.len()
            && let Some(cut) = s.len().checked_sub(affix.len())
            && let Some(tail) = s.get(cut..)
            && tail.eq_ignore_ascii_case(affix)
            && let Some(rest) = s.get(..cut)
        {
            s = rest;
            found = true;
            break;
        }
    }
    (s, found)
}

fn trim_punct(text: &str) -> &str {
    text.trim_matches(|c: char| ":;*()[]=#'\"_~".contains(c) || c.is_whitespace())
}

/// Parses one token as an amount in a currency with `digits` minor digits.
pub fn parse_amount(text: &str, digits: u32) -> Option<Amount> {
    if text.chars().count() > 40 {
        return None;
    }
    let text = trim_punct(text);
    let (text, currency) = strip_currency(text);
    let text = trim_punct(text);
    let (text, negative) = if let Some(rest) = text.strip_prefix('-') {
        (rest, true)
    } else if let Some(rest) = text.strip_suffix('-') {
        (rest, true)
    } else {
        (text, false)
    };
    let (text, _) = strip_currency(text);
    if text.is_empty() {
        return None;
    }
    let real_digits = text.chars().filter(char::is_ascii_digit).count();
    if real_digits == 0 {
        return None;
    }
    let mut repaired = false;
    let mut mapped = String::with_capacity(text.len());
    let mut fixes = 0;
    for c in text.chars() {
        let m = match c {
            '0'..='9' | '.' | ',' => c,
            'O' | 'o' | 'D' | 'Q' => '0',
            'l' | 'I' | 'i' | '|' | '!' | 'L' => '1',
            'S' | 's' => '5',
            'B' => '8',
            'Z' | 'z' => '2',
            _ => return None,
        };
        if m != c {
            repaired = true;
            fixes += 1;
        }
        mapped.push(m);
    }
    if fixes > real_digits {
        return None;
    }
    let mapped = mapped.trim_end_matches(['.', ',']);
    if mapped.is_empty() {
        return None;
    }
    let groups: Vec<&str> = mapped.split(['.', ',']).collect();
    let width = usize::try_from(digits).ok()?;
    let (int_groups, frac) = match groups.split_last() {
        Some((last, rest)) if !rest.is_empty() && width > 0 && last.len() == width => {
            (rest, Some(*last))
        }
        Some((last, rest)) if !rest.is_empty() && width == 2 && last.len() == 1 => {
            // `8.5`: a short decimal part.
            repaired = true;
            (rest, Some(*last))
        }
        _ => (groups.as_slice(), None),
    };
    // Every group but the first must be a thousands group (or empty: a
    // doubled point).
    for (i, group) in int_groups.iter().enumerate() {
        if i == 0 {
            if group.len() > MAX_INT_DIGITS {
                return None;
            }
            if group.is_empty() && int_groups.len() > 1 {
                return None;
            }
        } else if group.is_empty() {
            repaired = true;
        } else if group.len() != 3 {
            return None;
        }
    }
    let int_digits: String = int_groups.concat();
    if int_digits.len() > MAX_INT_DIGITS {
        return None;
    }
    let mut minor: i64 = 0;
    for c in int_digits.chars() {
        let d = i64::from(c.to_digit(10)?);
        minor = minor.checked_mul(10)?.checked_add(d)?;
    }
    minor = minor.checked_mul(10_i64.checked_pow(digits)?)?;
    let kind = match frac {
        Some(frac) => {
            let mut part: i64 = 0;
            for c in frac.chars() {
                part = part
                    .checked_mul(10)?
                    .checked_add(i64::from(c.to_digit(10)?))?;
            }
            let scale = 10_i64.checked_pow(digits.checked_sub(u32::try_from(frac.len()).ok()?)?)?;
            minor = minor.checked_add(part.checked_mul(scale)?)?;
            Kind::Decimal
        }
        None => Kind::Whole,
    };
    if negative {
        minor = minor.checked_neg()?;
    }
    Some(Amount {
        minor,
        kind,
        repaired,
        currency,
    })
}

fn is_currency_word(text: &str) -> bool {
    let t = trim_punct(text);
    CURRENCY_AFFIXES.iter().any(|a| a.eq_ignore_ascii_case(t))
}

/// Amounts in a row of tokens, left to right. Joins `64 15` (a decimal point
/// read as a space) when the second part is the row's last number.
pub fn find(tokens: &[Token], digits: u32) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if token.text.ends_with('%') || token.text.contains(':') && !token.text.ends_with(':') {
            i += 1;
            continue;
        }
        let Some(mut amount) = parse_amount(&token.text, digits) else {
            i += 1;
            continue;
        };
        if i > 0 && is_currency_word(&tokens[i - 1].text) {
            amount.currency = true;
        }
        let mut last = i;
        if amount.kind == Kind::Whole
            && digits == 2
            && amount.minor >= 0
            && let Some(next) = tokens.get(i + 1)
            && next.text.len() == 2
            && next.text.chars().all(|c| c.is_ascii_digit())
            && token
                .text
                .trim_end_matches('.')
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_alphabetic())
            && next.rect.left - token.rect.right < token.rect.height().max(1.0) * 1.5
            && tokens
                .get(i + 2)
                .is_none_or(|t| parse_amount(&t.text, digits).is_none())
            && let Some(cents) = next.text.parse::<i64>().ok()
            && let Some(minor) = amount.minor.checked_add(cents)
        {
            amount.minor = minor;
            amount.kind = Kind::Decimal;
            amount.repaired = true;
            last = i + 1;
        }
        let end = &tokens[last];
        hits.push(Hit {
            amount,
            first: i,
            last,
            line: end.line,
            right: end.rect.right,
        });
        i = last + 1;
    }
    hits
}
