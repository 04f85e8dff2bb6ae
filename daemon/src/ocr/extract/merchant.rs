//! The merchant: the business name among the first rows, preferring one with
//! a company form (`SDN BHD`, `ENTERPRISE`, `LTD`...), never a document
//! title, address, phone or registration number.

use super::layout::{Row, has_phrase, normalise, word_is};
use super::names::{NAME_ENDS, clean};

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
const NOT_NAME: [&str; 53] = [
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
    "VOUCHER",
    "POINTS",
    "EXPIRY",
    "REDEEM",
    "PLEASE",
    "AGAIN",
    "FEEDBACK",
    "COMPLAINT",
    "CALL",
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
    let norm = normalise(&clean(text).text);
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
    // Registration, contact and address words outweigh a company word
    // (`COMPANY REG NO`), not a legal form (`ABC SDN BHD TEL ...`).
    if has_word(
        &words,
        &[
            "INVOICE", "RECEIPT", "TEL", "FAX", "GST", "JALAN", "JLN", "REG",
        ],
    ) && !legal
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

/// The chosen merchant text and its row.
pub struct Merchant {
    pub name: String,
    pub row: usize,
    pub confidence: f32,
}

/// Words of the closing lines of a receipt (`THANK YOU`, `GOODS SOLD ARE NOT
/// RETURNABLE`). Printed near the top, they are the end of the receipt
/// before this one on the paper roll.
const FOOTER: [&str; 5] = [
    "RETURNABLE",
    "REFUNDABLE",
    "EXCHANGEABLE",
    "FEEDBACK",
    "COMPLAINT",
];

fn is_footer(text: &str) -> bool {
    let norm = normalise(text);
    let words: Vec<&str> = norm.split(' ').collect();
    has_word(&words, &FOOTER) || has_phrase(&norm, "THANK YOU") || has_phrase(&norm, "COME AGAIN")
}

pub fn find(rows: &[Row], page_height: f32) -> Option<Merchant> {
    let (limit, footer_limit) = if page_height > 0.0 {
        (page_height * 0.45, page_height * 0.25)
    } else {
        (f32::MAX, f32::MAX)
    };
    let mut head: Vec<(usize, &Row)> = rows
        .iter()
        .enumerate()
        .take(16)
        .filter(|(_, r)| r.rect.top <= limit)
        .collect();
    // The previous receipt's footer torn off with this one: its name starts
    // below, and what is above is the previous receipt.
    if let Some(last_footer) = head
        .iter()
        .rposition(|(_, r)| r.rect.top <= footer_limit && is_footer(&r.text()))
        && head[last_footer + 1..]
            .iter()
            .any(|(_, r)| score(&r.text()).is_some())
    {
        head.drain(..=last_footer);
    }
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
                normalise(&clean(&r.text()).text)
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
    // Nor does a name start with `ENTERPRISE` or `TRADING`: the row above
    // holds its head (`AIK HUAT HARDWARE` over `ENTERPRISE SDN BHD`).
    let starts_with_tail = |i: usize| {
        words_of(i)
            .first()
            .is_some_and(|w| NAME_ENDS.contains(&w.as_str()))
    };
    for _ in 0..2 {
        let head = first
            .checked_sub(1)
            .filter(|&above| rows.get(above).is_some_and(|r| score(&r.text()).is_some()));
        match head {
            Some(above) if only_form(first) || starts_with_tail(first) => first = above,
            _ => break,
        }
    }
    // The name continues below: an open parenthesis, a dangling `&`/`AND`
    // (`HOME MASTER HARDWARE &` over `ELECTRICAL`), or a legal form that
    // follows on its own short row.
    for _ in 0..2 {
        let text = join_rows(rows, first, last);
        let open = text.matches('(').count() > text.matches(')').count();
        let dangling = text.trim_end().ends_with('&') || normalise(&text).ends_with(" AND");
        let Some(next) = rows.get(last + 1) else {
            break;
        };
        let next_words = words_of(last + 1);
        let ends_form = normalise(&text)
            .split(' ')
            .next_back()
            .is_some_and(is_legal_form);
        // The name goes on only into what could be a name: not into the
        // address (`FUN N CHEER (MALURI` over `LOT 3, JALAN 6`).
        if score(&next.text()).is_none() {
            break;
        }
        let next_is_tail =
            next_words.iter().any(|w| is_legal_form(w)) && next_words.len() <= 5 && !ends_form;
        let continues = dangling && next_words.len() <= 4;
        if open || next_is_tail || continues {
            last += 1;
        } else {
            break;
        }
    }
    let name = clean(&join_rows(rows, first, last));
    if name.text.is_empty() {
        return None;
    }
    // Each guessed repair makes the reading less sure.
    let repairs = name.repairs.min(5) as f32;
    Some(Merchant {
        name: name.text,
        row: index,
        confidence: (0.3 + 0.2 * s - 0.05 * repairs).clamp(0.2, 0.9),
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
