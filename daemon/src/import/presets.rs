//! The CSV presets shipped with fin, one TOML file each under `presets/`
//! (documented in docs/import.md). Users write their own in the same form.

use super::csv::Preset;

const SHIPPED: [&str; 4] = [
    include_str!("presets/iso-signed.toml"),
    include_str!("presets/us-mdy.toml"),
    include_str!("presets/uk-dmy-debit-credit.toml"),
    include_str!("presets/eu-semicolon.toml"),
];

/// A preset from its TOML text, checked.
pub fn preset_from_toml(text: &str) -> Result<Preset, String> {
    let preset: Preset =
        toml::from_str(text).map_err(|e| format!("the preset does not parse: {e}"))?;
    preset.check()?;
    Ok(preset)
}

/// The shipped presets as (name, TOML text).
pub fn shipped_texts() -> Vec<(String, String)> {
    SHIPPED
        .iter()
        .filter_map(|text| {
            preset_from_toml(text)
                .ok()
                .map(|p| (p.name, text.to_string()))
        })
        .collect()
}

/// The shipped presets, by name.
pub fn shipped() -> Vec<Preset> {
    SHIPPED
        .iter()
        .filter_map(|text| preset_from_toml(text).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_preset_parses_and_passes_its_checks() {
        for text in SHIPPED {
            preset_from_toml(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        }
        assert_eq!(shipped().len(), SHIPPED.len());
    }

    #[test]
    fn a_preset_that_breaks_the_rules_is_refused_with_a_reason() {
        let both = "name = \"x\"\ndate_format = \"%Y-%m-%d\"\n[columns]\ndate = 1\namount = 2\ndebit = 3\ncredit = 4\n";
        assert!(
            preset_from_toml(both)
                .expect_err("refused")
                .contains("either an amount")
        );
        let unknown = "name = \"x\"\ndate_format = \"%Y-%m-%d\"\nsheet = 2\n[columns]\ndate = 1\namount = 2\n";
        assert!(
            preset_from_toml(unknown)
                .expect_err("refused")
                .contains("sheet")
        );
        let zero = "name = \"x\"\nheader = false\ndate_format = \"%Y-%m-%d\"\n[columns]\ndate = 0\namount = 2\n";
        assert!(
            preset_from_toml(zero)
                .expect_err("refused")
                .contains("from 1")
        );
    }
}
