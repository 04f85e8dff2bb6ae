//! What a row's words say its amount is: total, subtotal, tax, rounding,
//! money handed over, change, or a count that is not money.

use super::layout::{distance, has_phrase, word_is};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// A total; the strength says how surely it is the amount paid
    /// (3: grand/net/payable/rounded, 2: plain total, 1: weak).
    Total(u8),
    Subtotal,
    Tax,
    Rounding,
    /// Cash or card handed over.
    Tendered,
    Change,
    /// Counts, discounts, savings and other numbers that are not the total.
    Other,
    None,
}

fn any_word(words: &[&str], keys: &[&str]) -> bool {
    words.iter().any(|w| keys.iter().any(|k| word_is(w, k)))
}

/// One OCR slip at most: `INCLUDING` and `EXCLUDING` are two apart.
fn any_near(words: &[&str], keys: &[&str]) -> bool {
    words
        .iter()
        .any(|w| keys.iter().any(|k| distance(w, k, 1) <= 1))
}

fn any_exact(words: &[&str], keys: &[&str]) -> bool {
    words.iter().any(|w| keys.contains(w))
}

/// A word that is what is left of `INCLUSIVE`/`INCLUDING` after OCR lost
/// its head or tail (`NCLUSIVO`, `USIVE`, `INCLUDIN`): the middle survives.
fn incl_fragment(word: &str) -> bool {
    word.len() >= 5
        && ["NCLU", "CLUS", "CLUD", "LUSIV", "USIVE"]
            .iter()
            .any(|f| word.contains(f))
}

/// The same for `EXCLUSIVE`/`EXCLUDING`, told apart by their `XC`/`EXC`.
fn excl_fragment(word: &str) -> bool {
    word.len() >= 5 && (word.contains("XCL") || word.starts_with("EXC"))
}

/// Classifies a normalised label (uppercase words, see `layout::normalise`).
pub fn classify(label: &str) -> Label {
    let words: Vec<&str> = label.split(' ').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return Label::None;
    }
    let total = any_word(&words, &["TOTAL", "JUMLAH"])
        || any_exact(&words, &["TTL", "OTAL", "TOTA", "TOTAI", "T0TAL"]);
    let sub = any_exact(&words, &["SUB", "SUBTOTAL", "SUBTTL", "SUBT0TAL"])
        || any_word(&words, &["SUBTOTAL"]);
    let taxword = any_exact(
        &words,
        &["GST", "SST", "VAT", "TAX", "TAXES", "PPN", "MWST", "TVA"],
    ) || has_phrase(label, "SALES TAX")
        || has_phrase(label, "SERVICE TAX");
    let incl = any_exact(
        &words,
        &[
            "INCL",
            "INC",
            "INCLUSIVE",
            "INCLUDING",
            "INCLUDED",
            "INCLUSIV",
        ],
    ) || any_near(&words, &["INCLUSIVE", "INCLUDING"]);
    let excl = any_exact(
        &words,
        &["EXCL", "EXC", "EXCLUDING", "EXCLUSIVE", "BEFORE", "NET OF"],
    ) || any_near(&words, &["EXCLUDING", "EXCLUSIVE"])
        || words.iter().any(|w| excl_fragment(w));
    let incl = incl || words.iter().any(|w| incl_fragment(w) && !excl_fragment(w));
    let excl = excl && !incl;
    let included_tax = taxword && any_exact(&words, &["INCLUDED"]) && any_exact(&words, &["IN"]);
    let rounded = any_exact(&words, &["ROUNDED", "AFTER"]) || any_word(&words, &["ROUNDED"]);
    let rounding = any_word(&words, &["ROUNDING", "ROUNDING"])
        || any_exact(&words, &["ROUND", "ADJ", "ADJUSTMENT", "RNDG", "ROUNDING"])
        || any_word(&words, &["ADJUSTMENT"]);
    let change = any_word(&words, &["CHANGE"]) || any_exact(&words, &["BAKI", "KEMBALIAN"]);
    let payable = any_word(&words, &["PAYABLE"])
        || has_phrase(label, "AMOUNT DUE")
        || has_phrase(label, "BALANCE DUE")
        || has_phrase(label, "TOTAL DUE")
        || has_phrase(label, "TO PAY");
    let tendered = any_word(&words, &["CASH", "TENDER", "TENDERED", "PAID", "PAYMENT"])
        || any_exact(
            &words,
            &[
                "VISA",
                "MASTER",
                "MASTERCARD",
                "CARD",
                "DEBIT",
                "CREDIT",
                "AMEX",
                "TUNAI",
            ],
        );
    let count = any_exact(
        &words,
        &[
            "QTY", "QTY5", "OTY", "QUANTITY", "ITEM", "ITEMS", "PCS", "UNITS", "COUNT", "NO",
            "LINES",
        ],
    ) || any_word(&words, &["QUANTITY"]);
    let other = any_word(
        &words,
        &[
            "DISCOUNT", "SAVING", "SAVINGS", "VOUCHER", "POINTS", "DEPOSIT",
        ],
    ) || any_exact(&words, &["DISC", "SUPPLIES", "SUPPLY", "ZERO", "EXEMPT"]);

    if change && !total {
        return Label::Change;
    }
    if total && rounded {
        return Label::Total(3);
    }
    if rounding {
        return Label::Rounding;
    }
    if sub {
        return Label::Subtotal;
    }
    if total && excl {
        return Label::Subtotal;
    }
    if total && count && !payable {
        return Label::Other;
    }
    if tendered && !total && !payable {
        return Label::Tendered;
    }
    if other {
        if total && incl && !any_exact(&words, &["ZERO", "EXEMPT", "DISC", "DISCOUNT"]) {
            return Label::Total(1);
        }
        return Label::Other;
    }
    if total && taxword && !incl {
        return Label::Tax;
    }
    if taxword && (!incl || included_tax) {
        if any_exact(&words, &["ID", "REG", "NO", "INVOICE", "CODE", "SUMMARY"]) {
            return Label::None;
        }
        return Label::Tax;
    }
    if total || payable {
        let strong = payable
            || incl
            || any_word(&words, &["GRAND", "FINAL", "AMOUNT", "NETT"])
            || any_exact(&words, &["NET", "AMT"]);
        return Label::Total(if strong { 3 } else { 2 });
    }
    if taxword && !incl {
        if any_exact(&words, &["ID", "REG", "NO", "INVOICE", "CODE", "SUMMARY"]) {
            return Label::None;
        }
        return Label::Tax;
    }
    if words.len() <= 2 && any_exact(&words, &["DUE", "BALANCE"]) {
        return Label::Total(1);
    }
    Label::None
}
