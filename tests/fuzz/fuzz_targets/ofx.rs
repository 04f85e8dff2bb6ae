//! OFX and QFX, SGML 1.x and XML 2.x.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fin_fuzz::check(&fin_fuzz::import::parse_ofx(data, "EUR"));
});
