//! QIF: the first byte picks the date order and the fraction digits.
#![no_main]

use fin_fuzz::import::{DateOrder, parse_qif};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let order = match first % 3 {
        0 => DateOrder::MonthFirst,
        1 => DateOrder::DayFirst,
        _ => DateOrder::Detect,
    };
    fin_fuzz::check(&parse_qif(rest, u32::from(first / 3 % 4), order));
});
