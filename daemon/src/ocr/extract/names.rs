//! Cleaning a business name as OCR read it: registration numbers dropped,
//! the legal form repaired (`SUN RHI` → `SDN BHD`, `5/8` → `S/B`), OCR slips
//! in everyday words undone by the lexicon, and what follows the name on its
//! line cut off.

use super::layout::{distance, normalise};
use super::lexicon;

/// A cleaned name and how many of its words were changed by guesswork
/// (legal-form or lexicon repairs), which lowers its confidence.
pub struct Cleaned {
    pub text: String,
    pub repairs: usize,
}

/// Words after which a name may go on with something else on the same line
/// (`YONG CEN ENTERPRISE POSTED`), cut when nothing of a business follows.
pub const NAME_ENDS: [&str; 3] = ["ENTERPRISE", "ENTERPRISES", "TRADING"];

/// Legal forms that end a name: what follows on its line is something else.
const FINAL_FORMS: [&str; 9] = [
    "BHD", "BERHAD", "LTD", "LIMITED", "INC", "GMBH", "LLC", "CO", "S B",
];

/// Words of a name looked up in the lexicon at most (names are short).
const MAX_NAME_WORDS: usize = 12;

pub fn clean(text: &str) -> Cleaned {
    let mut repairs = 0;
    let out = drop_numbered_groups(text);
    let words: Vec<&str> = out
        .split_whitespace()
        .filter(|w| w.chars().filter(char::is_ascii_digit).count() < 4)
        .flat_map(split_dotted_form)
        .collect();
    let mut words: Vec<String> = words.iter().map(|w| (*w).to_string()).collect();
    for word in &mut words {
        if let Some(fixed) = repair_slash_form(word) {
            *word = fixed;
            repairs += 1;
        }
    }
    repairs += repair_sdn_bhd(&mut words);
    for word in words.iter_mut().take(MAX_NAME_WORDS) {
        if let Some(fixed) = lexicon_fix(word) {
            *word = fixed;
            repairs += 1;
        }
    }
    if let Some(end) = words
        .iter()
        .rposition(|w| FINAL_FORMS.contains(&normalise(w).as_str()))
        && end + 1 < words.len()
        && end >= 1
    {
        words.truncate(end + 1);
    } else if let Some(end) = words
        .iter()
        .rposition(|w| NAME_ENDS.contains(&normalise(w).as_str()))
        && end >= 1
        && words[end + 1..]
            .iter()
            .all(|w| !w.contains('(') && !lexicon::known(&normalise(w)))
    {
        words.truncate(end + 1);
    }
    let text = words
        .join(" ")
        .trim_matches(|c: char| ",;:-*".contains(c))
        .trim()
        .to_string();
    Cleaned { text, repairs }
}

/// Drops parenthesised groups holding digits (`(123456-X)`,
/// `(CO REG :860671-D)`). An unclosed `(` before another `(` is kept as
/// text, so `(KL SDN BHD (139388 X)` keeps its `(KL SDN BHD`.
fn drop_numbered_groups(text: &str) -> String {
    let mut out = String::new();
    let mut group = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' if depth == 1 && !group.contains(')') => {
                out.push_str(&group);
                group.clear();
                group.push(c);
            }
            '(' => {
                depth += 1;
                group.push(c);
            }
            ')' if depth > 0 => {
                depth -= 1;
                group.push(c);
                if depth == 0 {
                    if !group.chars().any(|c| c.is_ascii_digit()) {
                        out.push_str(&group);
                    }
                    group.clear();
                }
            }
            _ if depth > 0 => group.push(c),
            _ => out.push(c),
        }
    }
    if !group.chars().any(|c| c.is_ascii_digit()) {
        out.push_str(&group);
    }
    out
}

/// `SDN.BHD` (and its misreadings such as `Srn.Rhd`, or `Sn.Rhd` with a
/// letter lost) as two words, so the legal-form repair sees them.
fn split_dotted_form(word: &str) -> Vec<&str> {
    let trimmed = word.trim_end_matches('.');
    if let Some((a, b)) = trimmed.split_once('.')
        && (2..=3).contains(&a.len())
        && b.len() == 3
        && a.chars()
            .chain(b.chars())
            .all(|c| c.is_ascii_alphanumeric())
        && is_sdn(&a.to_uppercase())
        && is_bhd(&b.to_uppercase())
    {
        return vec![a, b];
    }
    vec![word]
}

/// `S/B` (for SDN BHD) as OCR reads it.
fn repair_slash_form(word: &str) -> Option<String> {
    let upper = word.to_uppercase();
    let (head, tail) = upper.split_once('/')?;
    let s_like = matches!(head, "S" | "5" | "$");
    let b_like = matches!(tail.trim_end_matches('.'), "B" | "8" | "6" | "R" | "E");
    (s_like && b_like && upper != "S/B").then(|| "S/B".to_string())
}

/// A word OCR may have made of `SDN`: three characters, or two when a letter
/// was lost (`SN`); only ever taken next to a word like `BHD`.
fn is_sdn(word: &str) -> bool {
    (2..=3).contains(&word.len())
        && (distance(word, "SDN", 1) <= 1
            || (word.len() == 3 && word.starts_with(['S', '5']) && word.ends_with(['N', 'M', 'H'])))
}

/// A three-character word OCR may have made of `BHD`.
fn is_bhd(word: &str) -> bool {
    if word.len() != 3 || !word.starts_with(['B', '8', 'R', 'H']) {
        return false;
    }
    match distance(word, "BHD", 2) {
        0 | 1 => true,
        // Two slips only when the last letter is one `D` is misread as.
        2 => word.ends_with(['D', '0', 'O', 'I', 'T']),
        _ => false,
    }
}

/// Repairs `SUN RHI`, `SIN RHI`, `S0N BH0` and a glued `KLSDN BHD` to
/// `SDN BHD`: the pair together is far more likely than either alone.
/// Returns how many words were changed.
fn repair_sdn_bhd(words: &mut Vec<String>) -> usize {
    let mut repairs = 0;
    let mut i = 1;
    while i < words.len() {
        let prev = words[i - 1].to_uppercase();
        let cur = words[i].to_uppercase();
        let cur = cur.trim_end_matches('.');
        let prev_core = prev.trim_end_matches('.');
        if is_bhd(cur) && (prev_core != "SDN" || cur != "BHD") {
            if is_sdn(prev_core) {
                repairs += usize::from(prev_core != "SDN") + usize::from(cur != "BHD");
                words[i - 1] = "SDN".to_string();
                words[i] = "BHD".to_string();
            } else if prev_core.len() > 3
                && prev_core.ends_with("SDN")
                && let Some(head) = words[i - 1].get(..prev_core.len() - 3)
            {
                let head = head.to_string();
                words[i - 1] = head;
                words[i] = "BHD".to_string();
                words.insert(i, "SDN".to_string());
                repairs += 1;
                i += 1;
            }
        }
        i += 1;
    }
    repairs
}

/// The lexicon's word for an unlisted word of letters, in the case OCR read.
/// Words OCR joined with a dot (`Heaith.Ard`) are looked up one by one.
fn lexicon_fix(word: &str) -> Option<String> {
    if word.trim_matches('.').contains('.') {
        let parts: Vec<String> = word
            .split('.')
            .map(|part| lexicon_fix_word(part).unwrap_or_else(|| part.to_string()))
            .collect();
        let joined = parts.join(".");
        return (joined != word).then_some(joined);
    }
    lexicon_fix_word(word)
}

fn lexicon_fix_word(word: &str) -> Option<String> {
    let core = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '&');
    let upper = core.to_uppercase();
    if upper.chars().any(|c| c.is_ascii_digit()) && upper.len() != 3 {
        return None;
    }
    let fixed = lexicon::correct(&upper)?;
    let fixed = if core.chars().any(char::is_lowercase) {
        let mut out = String::new();
        for (i, c) in fixed.chars().enumerate() {
            if i == 0 {
                out.push(c);
            } else {
                out.extend(c.to_lowercase());
            }
        }
        out
    } else {
        fixed.to_string()
    };
    Some(word.replacen(core, &fixed, 1))
}
