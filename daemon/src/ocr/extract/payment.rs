//! How the receipt was paid, when it says: cash, card (visa, mastercard,
//! debit, credit...), e-wallet.

use super::labels::Label;
use super::layout::{Row, normalise, word_is};
use super::priced::Priced;

fn method(text: &str) -> Option<&'static str> {
    let words: Vec<&str> = text.split(' ').collect();
    let has = |k: &str| words.iter().any(|w| word_is(w, k));
    if has("VISA") {
        return Some("visa");
    }
    if has("MASTERCARD")
        || words.windows(2).any(|w| w[0] == "MASTER" && w[1] == "CARD")
        || has("MASTER")
    {
        return Some("mastercard");
    }
    if has("AMEX") || text.contains("AMERICAN EXPRESS") {
        return Some("amex");
    }
    if has("DEBIT") {
        return Some("debit card");
    }
    if has("CREDIT") {
        return Some("credit card");
    }
    if has("EWALLET")
        || text.contains("E WALLET")
        || has("GRABPAY")
        || has("BOOST")
        || text.contains("TOUCH N GO")
        || has("ALIPAY")
        || has("WECHAT")
    {
        return Some("e-wallet");
    }
    if has("CARD") {
        return Some("card");
    }
    if has("CASH") || has("TUNAI") {
        return Some("cash");
    }
    None
}

/// The method and the index of the row it was read on.
pub fn find(rows: &[Row], priced: &[Priced]) -> Option<(&'static str, usize)> {
    for (i, (row, p)) in rows.iter().zip(priced).enumerate() {
        let text = normalise(&row.text());
        let next_has_amount = priced.get(i + 1).is_some_and(|n| !n.hits.is_empty());
        let payment_heading = text.contains("PAYMENT") || text.contains("PAID BY");
        if p.label == Label::Tendered
            && (!p.hits.is_empty() || next_has_amount)
            && let Some(m) = method(&p.label_text)
        {
            return Some((m, i));
        }
        if payment_heading
            && let Some(next) = rows.get(i + 1)
            && let Some(m) = method(&normalise(&next.text()))
        {
            return Some((m, i + 1));
        }
    }
    None
}
