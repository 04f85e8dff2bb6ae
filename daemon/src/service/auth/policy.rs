//! Password and user-name rules. Passwords: 12 to 1024 characters, not too
//! guessable (zxcvbn score 3 or more), no composition rules (NIST SP 800-63B).

use unicode_normalization::UnicodeNormalization;

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 1024;
const MIN_ZXCVBN_SCORE: u8 = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters long")]
    TooShort,
    #[error("the password must be at most {MAX_PASSWORD_CHARS} characters long")]
    TooLong,
    #[error("the password is too easy to guess{0}")]
    TooGuessable(String),
    #[error(
        "user names are 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
    )]
    BadUsername,
    #[error(
        "a user name is written in one script (letters of Latin and Cyrillic mixed look like other names)"
    )]
    MixedScripts,
}

/// Checks a new password; `context` (user name, e-mail) counts as guessable.
pub fn check_password(password: &str, context: &[&str]) -> Result<(), PolicyError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PolicyError::TooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PolicyError::TooLong);
    }
    // zxcvbn's cost grows with length; past 256 characters a password is not guessable.
    if chars <= 256 {
        let estimate = zxcvbn::zxcvbn(password, context);
        if u8::from(estimate.score()) < MIN_ZXCVBN_SCORE {
            let hint = estimate
                .feedback()
                .and_then(|f| f.warning())
                .map(|w| format!(": {w}"))
                .unwrap_or_default();
            return Err(PolicyError::TooGuessable(hint));
        }
    }
    Ok(())
}

/// The canonical form of a user name: NFKC, lower case, trimmed. Two names
/// that differ only in case or Unicode representation are the same user.
pub fn normalize_username(name: &str) -> Result<String, PolicyError> {
    let normal: String = name.trim().nfkc().collect::<String>().to_lowercase();
    let mut chars = normal.chars();
    let first_ok = chars.next().is_some_and(char::is_alphanumeric);
    let rest_ok = normal
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if first_ok && rest_ok && normal.chars().count() <= 64 {
        Ok(normal)
    } else {
        Err(PolicyError::BadUsername)
    }
}

/// Refuses a new user name that mixes scripts (`аdmin` with a Cyrillic
/// `а`): such names are made to pass for others. Digits and `.`, `_`, `-`
/// go with any script.
pub fn check_new_username(name: &str) -> Result<(), PolicyError> {
    use unicode_security::MixedScript;
    if name.is_single_script() {
        Ok(())
    } else {
        Err(PolicyError::MixedScripts)
    }
}

/// What a name looks like (Unicode's confusable skeleton, UTS #39): two
/// names with one skeleton are hard to tell apart on screen, like `admin`
/// and `аdmіn` written in Cyrillic letters.
pub fn look(name: &str) -> String {
    unicode_security::skeleton(name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_guessability_are_checked_without_composition_rules() {
        assert_eq!(check_password("short", &[]), Err(PolicyError::TooShort));
        assert!(matches!(
            check_password("password1234", &[]),
            Err(PolicyError::TooGuessable(_))
        ));
        assert!(matches!(
            check_password("alice-alice-alice", &["alice"]),
            Err(PolicyError::TooGuessable(_))
        ));
        assert_eq!(check_password("vivid otter harbours 42 plums", &[]), Ok(()));
        assert_eq!(
            check_password(&"x".repeat(1025), &[]),
            Err(PolicyError::TooLong)
        );
        // Long passphrases pass without a zxcvbn run.
        assert_eq!(
            check_password(&"correct horse battery staple ".repeat(20), &[]),
            Ok(())
        );
    }

    #[test]
    fn user_names_are_case_and_unicode_insensitive() {
        assert_eq!(normalize_username("  Alice ").as_deref(), Ok("alice"));
        // Fullwidth letters fold to ASCII under NFKC.
        assert_eq!(normalize_username("ＡＬＩＣＥ").as_deref(), Ok("alice"));
        assert_eq!(normalize_username("Zoë").as_deref(), Ok("zoë"));
        assert_eq!(normalize_username(""), Err(PolicyError::BadUsername));
        assert_eq!(normalize_username("-dash"), Err(PolicyError::BadUsername));
        assert_eq!(normalize_username("a b"), Err(PolicyError::BadUsername));
        assert_eq!(
            normalize_username(&"a".repeat(65)),
            Err(PolicyError::BadUsername)
        );
    }

    #[test]
    fn look_alike_and_mixed_script_names_are_caught() {
        assert!(check_new_username("admin").is_ok());
        assert!(
            check_new_username("иван_2").is_ok(),
            "one script, with digits"
        );
        assert_eq!(
            check_new_username("\u{430}dmin"),
            Err(PolicyError::MixedScripts),
            "a Cyrillic a among Latin letters"
        );
        // All Cyrillic, one script, but it looks like a Latin name.
        assert_eq!(look("\u{430}\u{441}\u{435}"), look("ace"));
        assert_ne!(look("alice"), look("bob"));
    }
}
