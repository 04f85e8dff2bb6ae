//! Rules for short texts people type: names, merchants, payment methods.

/// Whether `text` is blank: nothing but white space. White space is what
/// Unicode calls so, plus the four ASCII separators (U+001C to U+001F) that
/// most regular-expression engines count as `\s`, so that a schema's `\S`
/// and this rule agree.
pub fn is_blank(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_white_space_only() {
        assert!(is_blank(""));
        assert!(is_blank(" \t\u{a0}\u{1c}\u{2003}"));
        assert!(!is_blank(" a "));
        assert!(!is_blank("\u{0}"), "a control character is not white space");
    }
}
