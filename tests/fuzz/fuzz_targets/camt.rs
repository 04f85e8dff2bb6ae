//! CAMT.053 (ISO 20022 XML): entities are never expanded or fetched.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fin_fuzz::check(&fin_fuzz::import::parse_camt(data, "EUR"));
});
