//! The merchant: the business name among the first rows, preferring one with
//! a company form (`SDN BHD`, `ENTERPRISE`, `LTD`...), never a document
//! title, address, phone or registration number.

use super::layout::{Row, normalise, word_is};

/// Words that mark a business name.
const COMPANY_WORDS: [&str; 44] = [
    "SDN",
    "BHD",
    "BERHAD",
    "ENTERPRISE",
    "ENTERPRISES",
    "TRADING",
    "RESTAURANT",
    "RESTORAN",
    "CAFE",
    "STORE",
    "STORES",
    "SHOP",
    "MART",
    "HARDWARE",
    "BAKERY",
    "BAKERIES",
    "STATIONERY",
    "PHARMACY",
    "LTD",
    "LIMITED",
    "INC",
    "GMBH",
    "LLC",
    "PLC",
    "KEDAI",
    "SYARIKAT",
    "PERNIAGAAN",
    "SUPERMARKET",
    "MARKET",
    "CORPORATION",
    "CORP",
    "COMPANY",
    "ELECTRICAL",
    "CONFECTIONERY",
    "HOLDINGS",
    "INTERNATIONAL",
    "INDUSTRIES",
    "MINIMARKET",
    "HYPERMARKET",
    "BOUTIQUE",
    "BISTRO",
    "KITCHEN",
    "COFFEE",
    "PIZZA",
];

/// Words of a legal form that may sit on their own row under the name.
const LEGAL_FORMS: [&str; 8] = [
    "SDN", "BHD", "BERHAD", "LTD", "LIMITED", "INC", "GMBH", "LLC",
];

/// Words of rows that are not the name.
const NOT_NAME: [&str; 44] = [
    "GOODS",
    "RETURNABLE",
    "REFUNDABLE",
    "HOURS",
    "INVOICE",
    "RECEIPT",
    "TEL",
    "FAX",
    "PHONE",
    "GST",
    "SST",
    "REG",
    "JALAN",
    "JLN",
    "TAMAN",
    "LORONG",
    "BLOCK",
    "ROAD",
    "STREET",
    "WELCOME",
    "THANK",
    "DATE",
    "TIME",
    "CASHIER",
    "TABLE",
    "ORDER",
    "EMAIL",
    "WWW",
    "HTTP",
    "COM",
    "BILL",
    "CHECK",
    "COPY",
    "TAX",
    "PERSIARAN",
    "LEBUH",
    "LOT",
    "MEMBER",
    "SLIP",
    "TERMINAL",
    "SERVER",
    "ABN",
    "VAT",
    "HOTLINE",
];

fn has_word(words: &[&str], keys: &[&str]) -> bool {
    words.iter().any(|w| {
        keys.iter()
            .any(|k| *w == *k || (k.len() >= 6 && word_is(w, k)))
    })
}

fn is_legal_form(word: &str) -> bool {
    LEGAL_FORMS.contains(&word)
}

/// Scores a row as the merchant name; `None` when it cannot be one.
fn score(text: &str) -> Option<f32> {
    let norm = normalise(&clean(text));
    let words: Vec<&str> = norm.split(' ').filter(|w| !w.is_empty()).collect();
    let letters = norm.chars().filter(|c| c.is_alphabetic()).count();
    let digits = norm.chars().filter(|c| c.is_ascii_digit()).count();
    if letters < 3 || digits * 2 > letters {
        return None;
    }
    let legal =
        words.iter().any(|w| is_legal_form(w)) || norm.ends_with(" CO") || norm.ends_with(" S B");
    let company = legal || has_word(&words, &COMPANY_WORDS);
    if !company && has_word(&words, &NOT_NAME) {
        return None;
    }
    if has_word(
        &words,
        &["INVOICE", "RECEIPT", "TEL", "FAX", "GST", "JALAN", "JLN"],
    ) && !company
    {
        return None;
    }
    let mut s = 1.0;
    if company {
        s += 2.0;
    }
    if legal {
        s += 0.5;
    }
    if digits > 0 {
        s -= 0.3;
    }
    let upper = text.chars().filter(|c| c.is_uppercase()).count();
    if upper * 2 >= letters {
        s += 0.2;
    }
    Some(s)
}

/// Drops registration numbers such as `(123456-X)` or `(CO REG :860671-D)`.
fn clean(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut group = String::new();
    for c in text.chars() {
        match c {
            '(' => {
                depth += 1;
                group.push(c);
            }
            ')' if depth > 0 => {
                depth -= 1;
                group.push(c);
                if depth == 0 {
                    if !group.chars().any(|c| c.is_ascii_digit()) {
                        out.push_str(&group);
                    }
                    group.clear();
                }
            }
            _ if depth > 0 => group.push(c),
            _ => out.push(c),
        }
    }
    if !group.chars().any(|c| c.is_ascii_digit()) {
        out.push_str(&group);
    }
    let words: Vec<&str> = out
        .split_whitespace()
        .filter(|w| {
            let d = w.chars().filter(|c| c.is_ascii_digit()).count();
            d < 4
        })
        .collect();
    let mut words: Vec<String> = words.iter().map(|w| repair_form(w)).collect();
    for i in 1..words.len() {
        let prev = words[i - 1].to_uppercase();
        let cur = words[i].to_uppercase();
        if matches!(
            prev.as_str(),
            "SON" | "S0N" | "5DN" | "SUN" | "SDM" | "SDH" | "SDN"
        ) && matches!(
            cur.trim_end_matches('.'),
            "BHD" | "BHO" | "8HD" | "BH0" | "RHD" | "BND"
        ) {
            words[i - 1] = "SDN".to_string();
            words[i] = "BHD".to_string();
        }
    }
    // A legal form ends the name: what follows on the line is something else.
    if let Some(end) = words.iter().rposition(|w| {
        let n = normalise(w);
        matches!(
            n.as_str(),
            "BHD" | "BERHAD" | "LTD" | "LIMITED" | "INC" | "GMBH" | "LLC" | "CO" | "S B"
        )
    }) && end + 1 < words.len()
        && end >= 1
    {
        words.truncate(end + 1);
    }
    words
        .join(" ")
        .trim_matches(|c: char| ",;:-*".contains(c))
        .trim()
        .to_string()
}

fn repair_form(word: &str) -> String {
    match word.to_uppercase().as_str() {
        "S/8" | "S/6" | "5/B" | "S/R" => "S/B".to_string(),
        _ => word.to_string(),
    }
}

/// The chosen merchant text and its row.
pub struct Merchant {
    pub name: String,
    pub row: usize,
    pub confidence: f32,
}

pub fn find(rows: &[Row], page_height: f32) -> Option<Merchant> {
    let limit = if page_height > 0.0 {
        page_height * 0.45
    } else {
        f32::MAX
    };
    let head: Vec<(usize, &Row)> = rows
        .iter()
        .enumerate()
        .take(16)
        .filter(|(_, r)| r.rect.top <= limit)
        .collect();
    let mut best: Option<(usize, f32)> = None;
    let mut rank = 0usize;
    for (i, row) in &head {
        let text = row.text();
        if text.chars().filter(|c| c.is_alphabetic()).count() < 3 {
            continue;
        }
        rank += 1;
        let Some(s) = score(&text) else {
            continue;
        };
        let s = s - 0.15 * rank as f32;
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((*i, s));
        }
    }
    let (index, s) = best?;
    let mut first = index;
    let mut last = index;
    // A row holding only the legal form or the tail of a name joins the row above.
    let words_of = |i: usize| -> Vec<String> {
        rows.get(i)
            .map(|r| {
                normalise(&r.text())
                    .split(' ')
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let only_form = |i: usize| {
        let w = words_of(i);
        !w.is_empty()
            && w.len() <= 3
            && (w.iter().any(|w| is_legal_form(w)) || w.join(" ") == "S B")
    };
    if only_form(index) && index > 0 && score(&rows[index - 1].text()).is_some() {
        first = index - 1;
    }
    // The name continues below: an open parenthesis, or a legal form that
    // follows on its own short row.
    for _ in 0..2 {
        let text = join_rows(rows, first, last);
        let open = text.matches('(').count() > text.matches(')').count();
        let Some(next) = rows.get(last + 1) else {
            break;
        };
        let next_words = words_of(last + 1);
        let ends_form = normalise(&text)
            .split(' ')
            .next_back()
            .is_some_and(is_legal_form);
        let next_is_tail = next_words.iter().any(|w| is_legal_form(w))
            && next_words.len() <= 5
            && score(&next.text()).is_some()
            && !ends_form;
        if open || next_is_tail {
            last += 1;
        } else {
            break;
        }
    }
    let name = clean(&join_rows(rows, first, last));
    if name.is_empty() {
        return None;
    }
    Some(Merchant {
        name,
        row: index,
        confidence: (0.3 + 0.2 * s).clamp(0.2, 0.9),
    })
}

fn join_rows(rows: &[Row], first: usize, last: usize) -> String {
    rows.get(first..=last)
        .unwrap_or_default()
        .iter()
        .map(Row::text)
        .collect::<Vec<_>>()
        .join(" ")
}
