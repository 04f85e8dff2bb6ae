//! Synthetic pages: each line is placed where a receipt prints it, words get
//! boxes from their character positions (8 px a character, 20 px high).

use super::amounts::{Kind, parse_amount};
use super::dates::{find_dates, find_times};
use super::extract;
use super::labels::{Label, classify};
use super::lexicon::correct;
use crate::domain::receipt::{DateOrder, ExtractOptions};
use crate::ocr::page::{BoxRect, Line, Page, Word};

const CHAR: f32 = 8.0;
const HEIGHT: f32 = 20.0;

fn line(text: &str, left: f32, top: f32) -> Line {
    let mut words = Vec::new();
    let mut x = left;
    for word in text.split(' ') {
        let width = CHAR * word.chars().count() as f32;
        if !word.is_empty() {
            words.push(Word {
                text: word.to_string(),
                rect: BoxRect {
                    left: x,
                    top,
                    right: x + width,
                    bottom: top + HEIGHT,
                },
            });
        }
        x += width + CHAR;
    }
    let right = words.last().map_or(left, |w| w.rect.right);
    Line {
        words,
        rect: BoxRect {
            left,
            top,
            right,
            bottom: top + HEIGHT,
        },
    }
}

/// A line whose right edge is at `right` (amounts are right-aligned).
fn right_line(text: &str, right: f32, top: f32) -> Line {
    line(text, right - CHAR * text.chars().count() as f32, top)
}

/// One line per row, 30 px apart, left-aligned.
fn page(texts: &[&str]) -> Page {
    Page {
        width: 400,
        height: 40 * texts.len() as u32 + 40,
        lines: texts
            .iter()
            .enumerate()
            .map(|(i, t)| line(t, 10.0, 10.0 + 30.0 * i as f32))
            .collect(),
    }
}

fn day_first() -> ExtractOptions {
    ExtractOptions {
        date_order: DateOrder::DayFirst,
        default_currency: "MYR".into(),
    }
}

fn month_first() -> ExtractOptions {
    ExtractOptions {
        date_order: DateOrder::MonthFirst,
        default_currency: "USD".into(),
    }
}

fn date_of(text: &str, order: DateOrder) -> Option<String> {
    find_dates(text, order).first().map(|d| d.date.iso())
}

#[test]
fn date_formats() {
    let d = DateOrder::DayFirst;
    assert_eq!(date_of("25/12/2018", d).as_deref(), Some("2018-12-25"));
    assert_eq!(date_of("2018-12-25", d).as_deref(), Some("2018-12-25"));
    assert_eq!(date_of("25 Dec 2018", d).as_deref(), Some("2018-12-25"));
    assert_eq!(date_of("25-DEC-18", d).as_deref(), Some("2018-12-25"));
    assert_eq!(date_of("Dec 25, 2018", d).as_deref(), Some("2018-12-25"));
    assert_eq!(date_of("25.12.18", d).as_deref(), Some("2018-12-25"));
    // Unambiguous month-first read whatever the preference.
    assert_eq!(date_of("12-25-18", d).as_deref(), Some("2018-12-25"));
    assert_eq!(
        date_of("Date: 2O18-O1-05", d).as_deref(),
        Some("2018-01-05")
    );
}

#[test]
fn ambiguous_dates_follow_the_preference() {
    assert_eq!(
        date_of("03/04/2019", DateOrder::DayFirst).as_deref(),
        Some("2019-04-03")
    );
    assert_eq!(
        date_of("03/04/2019", DateOrder::MonthFirst).as_deref(),
        Some("2019-03-04")
    );
    assert_eq!(
        date_of("13/04/2019", DateOrder::MonthFirst).as_deref(),
        Some("2019-04-13")
    );
}

#[test]
fn impossible_dates_are_rejected() {
    assert_eq!(date_of("31/02/2018", DateOrder::DayFirst), None);
    assert_eq!(date_of("29/02/2019", DateOrder::DayFirst), None);
    assert_eq!(
        date_of("29/02/2020", DateOrder::DayFirst).as_deref(),
        Some("2020-02-29")
    );
    assert_eq!(date_of("13/13/2018", DateOrder::DayFirst), None);
    assert_eq!(date_of("TEL 07-3523888", DateOrder::DayFirst), None);
    assert_eq!(date_of("1.234.50", DateOrder::DayFirst), None);
}

#[test]
fn times() {
    assert_eq!(find_times("Time: 12:31:00"), vec!["12:31:00".to_string()]);
    assert_eq!(find_times("30/03/2018 11:11 PM"), vec!["23:11".to_string()]);
    assert_eq!(find_times("12:05 AM"), vec!["00:05".to_string()]);
    assert!(find_times("25:61").is_empty());
}

fn minor(text: &str) -> Option<i64> {
    parse_amount(text, 2).map(|a| a.minor)
}

#[test]
fn amount_repairs() {
    assert_eq!(minor("80.90"), Some(8090));
    assert_eq!(minor("8O.9O"), Some(8090));
    assert_eq!(minor("l2.5O"), Some(1250));
    assert_eq!(minor("S.50"), Some(550));
    assert_eq!(minor("80..90"), Some(8090));
    assert_eq!(minor("1,234.50"), Some(123_450));
    assert_eq!(minor("1.234,50"), Some(123_450));
    assert_eq!(minor("RM37.10"), Some(3710));
    assert_eq!(minor("37.10RM"), Some(3710));
    assert_eq!(minor("$7.60"), Some(760));
    assert_eq!(minor("€12,50"), Some(1250));
    assert_eq!(minor("-0.02"), Some(-2));
    assert_eq!(minor("25.12.18"), None);
    assert_eq!(minor("SR"), None);
    assert_eq!(parse_amount("80", 2).map(|a| a.kind), Some(Kind::Whole));
    assert_eq!(parse_amount("1,200", 0).map(|a| a.minor), Some(1200));
    assert_eq!(parse_amount("1.234", 3).map(|a| a.minor), Some(1234));
    assert_eq!(minor("99999999999999999999999999999999999999.99"), None);
}

#[test]
fn amount_with_space_for_point_in_total_row() {
    let fields = extract(
        &page(&[
            "SHOP SDN BHD",
            "TOTAL RM 64 15",
            "CASH 70.00",
            "CHANGE 5.85",
        ]),
        &day_first(),
    );
    assert_eq!(fields.total.map(|t| t.value), Some(6415));
}

#[test]
fn total_is_not_subtotal_rounding_or_change() {
    let p = page(&[
        "KEDAI MAJU ENTERPRISE",
        "TAX INVOICE",
        "Date: 25/12/2018 Time: 12:31:00",
        "ITEM QTY PRICE AMOUNT",
        "TEA 2 1.50 3.00",
        "NASI LEMAK 1 5.40 5.40",
        "TOTAL QTY: 3",
        "SUBTOTAL 8.40",
        "GST 6% 0.50",
        "ROUNDING -0.03",
        "TOTAL ROUNDED 8.87",
        "CASH 20.00",
        "CHANGE 11.13",
    ]);
    let fields = extract(&p, &day_first());
    let total = fields.total.as_ref().map(|t| t.value);
    assert_eq!(total, Some(887));
    assert_eq!(fields.subtotal.as_ref().map(|t| t.value), Some(840));
    assert_eq!(fields.tax.as_ref().map(|t| t.value), Some(50));
    assert_eq!(
        fields.date.as_ref().map(|d| d.value.as_str()),
        Some("2018-12-25")
    );
    assert_eq!(
        fields.time.as_ref().map(|d| d.value.as_str()),
        Some("12:31:00")
    );
    assert_eq!(
        fields.merchant.as_ref().map(|m| m.value.as_str()),
        Some("KEDAI MAJU ENTERPRISE")
    );
    assert_eq!(
        fields.payment_method.as_ref().map(|m| m.value.as_str()),
        Some("cash")
    );
    let source = fields
        .total
        .and_then(|t| t.source)
        .map(|s| (s.line, s.text));
    assert_eq!(source, Some((10, "TOTAL ROUNDED 8.87".to_string())));
}

#[test]
fn total_excluding_tax_is_not_the_total() {
    let p = page(&[
        "ABC TRADING",
        "Total Sales (Excluding GST): 45.00",
        "Total GST: 2.70",
        "Total Sales (Inclusive of GST): 47.70",
        "CASH 50.00",
        "CHANGE 2.30",
    ]);
    let fields = extract(&p, &day_first());
    assert_eq!(fields.total.map(|t| t.value), Some(4770));
    assert_eq!(fields.subtotal.map(|t| t.value), Some(4500));
    assert_eq!(fields.tax.map(|t| t.value), Some(270));
}

#[test]
fn merchant_skips_titles_addresses_and_registration() {
    let p = page(&[
        "TAX INVOICE",
        "GOLDEN LEAF RESTAURANT SDN BHD (123456-X)",
        "NO 12, JALAN MAJU 3",
        "TEL 03-1234567",
        "TOTAL 10.00",
    ]);
    let fields = extract(&p, &day_first());
    assert_eq!(
        fields.merchant.map(|m| m.value),
        Some("GOLDEN LEAF RESTAURANT SDN BHD".to_string())
    );
}

#[test]
fn currency_from_symbol_code_or_default() {
    let euro = extract(&page(&["CAFE BLEU", "TOTAL €12,50"]), &day_first());
    assert_eq!(
        euro.currency.as_ref().map(|c| c.value.as_str()),
        Some("EUR")
    );
    assert_eq!(euro.total.map(|t| t.value), Some(1250));
    let ringgit = extract(
        &page(&["SHOP", "TOTAL (RM) 10.00", "AMOUNT RM 10.00"]),
        &month_first(),
    );
    assert_eq!(
        ringgit.currency.as_ref().map(|c| c.value.as_str()),
        Some("MYR")
    );
    let none = extract(&page(&["SHOP", "TOTAL 10.00"]), &day_first());
    let currency = none.currency.expect("a default currency");
    assert_eq!(currency.value, "MYR");
    assert!(currency.source.is_none());
    assert!(currency.confidence < 0.5);
    let yen = extract(&page(&["SHOP", "TOTAL JPY 1,200"]), &day_first());
    assert_eq!(yen.currency.map(|c| c.value), Some("JPY".to_string()));
    assert_eq!(yen.total.map(|t| t.value), Some(1200));
}

#[test]
fn items_pair_by_row_geometry() {
    // The descriptions and the amounts are separate OCR lines, listed
    // descriptions first (as a column reader would), yet on the same rows.
    let lines = vec![
        line("HAPPY MART SDN BHD", 10.0, 10.0),
        line("DESCRIPTION QTY AMOUNT", 10.0, 50.0),
        line("MILK 1L", 10.0, 80.0),
        line("BREAD", 10.0, 110.0),
        right_line("2 3.20 6.40", 390.0, 81.0),
        right_line("1 2.50 2.50", 390.0, 109.0),
        line("TOTAL", 10.0, 150.0),
        right_line("8.90", 390.0, 151.0),
    ];
    let p = Page {
        width: 400,
        height: 200,
        lines,
    };
    let fields = extract(&p, &day_first());
    assert_eq!(fields.total.map(|t| t.value), Some(890));
    let items: Vec<(String, Option<String>, Option<i64>, i64)> = fields
        .items
        .iter()
        .map(|i| {
            (
                i.description.clone(),
                i.quantity.clone(),
                i.unit_price,
                i.amount,
            )
        })
        .collect();
    assert_eq!(
        items,
        vec![
            ("MILK 1L".to_string(), Some("2".to_string()), Some(320), 640),
            ("BREAD".to_string(), Some("1".to_string()), Some(250), 250),
        ]
    );
}

#[test]
fn empty_page_gives_empty_fields() {
    let fields = extract(&Page::default(), &day_first());
    assert!(fields.merchant.is_none());
    assert!(fields.total.is_none());
    assert!(fields.date.is_none());
    assert!(fields.items.is_empty());
    assert_eq!(fields.currency.map(|c| c.value), Some("MYR".to_string()));
}

#[test]
fn hostile_page_is_quick_and_safe() {
    let huge = "9".repeat(40);
    let mut lines = Vec::new();
    for i in 0..10_000 {
        let text = match i % 4 {
            0 => format!("TOTAL {huge}.99"),
            1 => format!("{huge} {huge},{huge}.{huge}"),
            2 => "ЗДРАВСТВУЙТЕ 🧾 ①②③ ٣٤٥ 9/9/9999999".to_string(),
            _ => format!("CASH -{huge} CHANGE {huge}"),
        };
        lines.push(line(&text, 10.0, i as f32 * 3.0));
    }
    lines.push(Line {
        words: vec![Word {
            text: "NaN".into(),
            rect: BoxRect {
                left: f32::NAN,
                top: f32::INFINITY,
                right: f32::NEG_INFINITY,
                bottom: f32::NAN,
            },
        }],
        rect: BoxRect {
            left: f32::NAN,
            top: f32::NAN,
            right: f32::NAN,
            bottom: f32::NAN,
        },
    });
    let started = std::time::Instant::now();
    let fields = extract(
        &Page {
            width: u32::MAX,
            height: 0,
            lines,
        },
        &day_first(),
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(fields.total.is_none_or(|t| t.value >= 0));
}

fn total_of(texts: &[&str]) -> Option<i64> {
    extract(&page(texts), &day_first()).total.map(|t| t.value)
}

fn merchant_of(texts: &[&str]) -> Option<String> {
    extract(&page(texts), &day_first())
        .merchant
        .map(|m| m.value)
}

#[test]
fn rounded_total_below_rounding_row_wins() {
    let total = total_of(&[
        "Total (Inclusive of GST): 65.53",
        "Rounding Adj 0.02",
        "TOTAL: 65.55",
        "Closed: 31-03-2018 18:43:22",
        "VISA 65.55",
    ]);
    assert_eq!(total, Some(6555));
}

#[test]
fn inclusive_label_read_from_a_fragment() {
    assert_eq!(classify("TOTAL SALES NCLUSIVO OF GST"), Label::Total(3));
    assert_eq!(classify("TOTA SALES USIVE CF GST"), Label::Total(3));
    assert_eq!(classify("TOTAL SALES XCLUDING GST"), Label::Subtotal);
    assert_eq!(classify("TOTAL GST"), Label::Tax);
}

#[test]
fn rounding_row_holding_the_paid_amount_is_the_total() {
    let total = total_of(&[
        "Total Sales (Inclusive GST) RM 181.98",
        "Rounding Adjustment RM 0.02",
        "Rounding RM 182.00",
        "CREDIT RM 182.00",
        "CHANGE RM 0.00",
    ]);
    assert_eq!(total, Some(18200));
}

#[test]
fn tender_above_change_and_parenthesised_tax_note() {
    let total = total_of(&[
        "BREAD 19.20",
        "Rounding Adj 0.00",
        "19.20",
        "20.00",
        "Change 0.80",
        "(Total Included GST 6% : 1.09)",
    ]);
    assert_eq!(total, Some(1920));
}

#[test]
fn cash_minus_change_beats_a_repaired_total() {
    assert_eq!(
        total_of(&["TOTAL 75.0", "CASH 100.00", "CHANGE 24.30"]),
        Some(7570)
    );
    // A clean total is kept even when cash minus change disagrees.
    assert_eq!(
        total_of(&["TOTAL 75.70", "CASH 100.00", "CHANGE 24.20"]),
        Some(7570)
    );
}

#[test]
fn total_without_amount_is_cash_minus_change() {
    assert_eq!(
        total_of(&["Total Incl. GST@6%", "CASH RM 120.00", "CHANGE RM 0.30"]),
        Some(11970)
    );
}

#[test]
fn date_against_the_order_yields_to_one_in_order() {
    let fields = extract(
        &page(&["Date: 01/16/2017", "GROUND FLOOR", "DD: 01/10/2017 11:07"]),
        &day_first(),
    );
    assert_eq!(fields.date.map(|d| d.value).as_deref(), Some("2017-10-01"));
    let alone = extract(&page(&["Date: 01/16/2017"]), &day_first());
    assert_eq!(alone.date.map(|d| d.value).as_deref(), Some("2017-01-16"));
}

#[test]
fn merchant_continued_after_ampersand() {
    assert_eq!(
        merchant_of(&["TAN HARDWARE &", "ELECTRICAL", "NO 12, JALAN MAJU 3"]).as_deref(),
        Some("TAN HARDWARE & ELECTRICAL")
    );
}

#[test]
fn misread_legal_forms_are_repaired() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["SIHPI TAX TNVOTCE", "AABIARMACY", "KEDAI MAJU SIN RHI"],
            "KEDAI MAJU SDN BHD",
        ),
        (
            &["MAN", "Kedai Maju Son Rnd", "LOMPANY Reg #1101083-T"],
            "Kedai Maju SDN BHD",
        ),
        (
            &[
                "Thank You, Please come again.",
                "*REDEEM VOUCHER BEFORE POINTS EXPIRY!*",
                "Maju Cash & Carry Srn.Rhd",
            ],
            "Maju Cash & Carry SDN BHD",
        ),
        (
            &["88 FRESH MART 5/8 (123456-X)", "LOT 5"],
            "88 FRESH MART S/B",
        ),
        // `$` for S, `E` for B, and SDN with a letter lost.
        (
            &["88 FRESH MART $/8 (123456-X)", "LOT 5"],
            "88 FRESH MART S/B",
        ),
        (
            &["Owned by Maju Foods S/E", "(123456-T)"],
            "Owned by Maju Foods S/B",
        ),
        (
            &["Maju Cash & Carry Sn.Rhd", "(123456-W)"],
            "Maju Cash & Carry SDN BHD",
        ),
    ];
    for (rows, name) in cases {
        assert_eq!(merchant_of(rows).as_deref(), Some(name), "{rows:?}");
    }
}

#[test]
fn words_joined_by_a_dot_are_corrected_one_by_one() {
    assert_eq!(
        merchant_of(&["Maju Heaith.Beauty SDN BHD"]).as_deref(),
        Some("Maju Health.Beauty SDN BHD")
    );
}

#[test]
fn the_previous_receipts_footer_on_top_is_skipped() {
    assert_eq!(
        merchant_of(&[
            "BALS",
            "Thank You. Please come again.",
            "Goods Sold Are Not Returnable.",
            "For feedback or complaint, please call:",
            "Maju Cash & Carry",
            "(123456-W)",
            "NO 12, JALAN MAJU 3",
            "TOTAL 10.00",
            "CASH 10.00",
            "CHANGE 0.00",
            "SUBTOTAL 10.00",
            "ROUNDING 0.00",
        ])
        .as_deref(),
        Some("Maju Cash & Carry")
    );
    // A footer is only a footer near the top: a short receipt's own
    // `THANK YOU` does not hide its name.
    assert_eq!(
        merchant_of(&["KEDAI MAJU", "TOTAL 10.00", "THANK YOU"]).as_deref(),
        Some("KEDAI MAJU")
    );
}

#[test]
fn unclosed_parenthesis_and_glued_legal_form() {
    assert_eq!(
        merchant_of(&["MAJU BAKERIES (KLSDN BHD (139388 X)", "Lot 3, Jalan Maju"]).as_deref(),
        Some("MAJU BAKERIES (KL SDN BHD")
    );
    // An open parenthesis does not run into the address below.
    assert_eq!(
        merchant_of(&["FUN N FAIR (KEPONG", "LOT 37636.JALAN 6/37A,", "TAMAN MAJU"]).as_deref(),
        Some("FUN N FAIR (KEPONG")
    );
}

#[test]
fn name_ends_after_enterprise_and_starts_above_it() {
    assert_eq!(
        merchant_of(&["TAN CHENG ENTERPRISE POSTED", "8, JALAN MAJU"]).as_deref(),
        Some("TAN CHENG ENTERPRISE")
    );
    assert_eq!(
        merchant_of(&[
            "TAN BROTHERS HARDWARE",
            "ENTERPRISE (KLANG)",
            "SDN BHD",
            "NO. 17-G, JALAN MAJU",
        ])
        .as_deref(),
        Some("TAN BROTHERS HARDWARE ENTERPRISE (KLANG) SDN BHD")
    );
}

#[test]
fn lexicon_corrects_only_unlisted_everyday_words() {
    assert_eq!(correct("CONFECTIUNERY"), Some("CONFECTIONERY"));
    assert_eq!(correct("INTERNATIONAI"), Some("INTERNATIONAL"));
    assert_eq!(correct("COFFFE"), Some("COFFEE"));
    assert_eq!(correct("FRB"), Some("F&B"));
    // Listed, too short, or too far in length: left alone.
    assert_eq!(correct("BAKERY"), None);
    assert_eq!(correct("PASIR"), None);
    assert_eq!(correct("MORT"), None);
    assert_eq!(correct("GARDENIA"), None);
    assert_eq!(correct("FEB"), None);
    assert_eq!(
        merchant_of(&["VERBENA CONFECTIUNERY SDN BHD"]).as_deref(),
        Some("VERBENA CONFECTIONERY SDN BHD")
    );
}

#[test]
fn hostile_names_and_roundings_are_quick() {
    let word = "CONFECTIUNERYS";
    let long = vec![word; 80].join(" ");
    let mut texts: Vec<String> = (0..20).map(|_| long.clone()).collect();
    for i in 0..1_000 {
        texts.push(match i % 3 {
            0 => format!("TOTAL {}.{:02}", i, i % 100),
            1 => "ROUNDING 0.01".to_string(),
            _ => "CASH 9.00 CHANGE 1.00".to_string(),
        });
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let started = std::time::Instant::now();
    let fields = extract(&page(&refs), &day_first());
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(fields.merchant.is_some());
}
