//! CSV by preset: the first byte's low two bits are the fraction digits,
//! the next bits pick a shipped preset; from 0x80 up, the input is a TOML preset, a NUL, and
//! the file, so presets are fuzzed together with the files they read.
#![no_main]

use fin_fuzz::import::{parse_csv, preset_from_toml, shipped};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let digits = u32::from(first % 4);
    if first < 0x80 {
        let presets = shipped();
        let preset = &presets[usize::from(first >> 2) % presets.len()];
        fin_fuzz::check(&parse_csv(rest, preset, digits));
    } else if let Some(at) = rest.iter().position(|&b| b == 0)
        && let Ok(text) = std::str::from_utf8(&rest[..at])
        && let Ok(preset) = preset_from_toml(text)
    {
        fin_fuzz::check(&parse_csv(&rest[at + 1..], &preset, digits));
    }
});
