//! Rules that tidy a book's transactions: conditions on the payee, the
//! description, the amount and the account; actions that set the category
//! and the payee and add tags. Checked and compiled once, then applied in
//! order to as many transactions as a preview or an import holds. Pure.
//!
//! Rules run in their order; each sees the transaction as the rules before
//! it left it, so a later rule can build on an earlier one, and where two
//! set the same field the later one wins. A rule whose conditions all hold
//! applies all of its actions.

use regex::{Regex, RegexBuilder};

use super::ledger::{self, Invalid, MAX_TAGS};

/// How a text condition compares: case-insensitively in every kind.
pub const MATCH_KINDS: [&str; 3] = ["contains", "equals", "regex"];

/// The longest pattern a condition holds, in characters.
pub const MAX_PATTERN_CHARS: usize = 500;

/// Rules one book keeps: each import and preview runs all of them.
pub const MAX_RULES: usize = 500;

/// A compiled pattern's memory: the `regex` crate matches in linear time,
/// so a hostile pattern can only cost its compiled size, bounded here.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A condition on a text field, as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextCondition {
    /// One of [`MATCH_KINDS`].
    pub kind: String,
    pub value: String,
}

/// A rule as stored: what it looks for and what it does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSpec {
    pub payee: Option<TextCondition>,
    pub description: Option<TextCondition>,
    /// The amount (signed minor units) is at least this.
    pub min_amount: Option<i64>,
    /// The amount is at most this.
    pub max_amount: Option<i64>,
    /// The transaction is in this account.
    pub account_id: Option<String>,
    pub set_category_id: Option<String>,
    pub set_payee: Option<String>,
    pub add_tags: Vec<String>,
}

/// The fields a rule reads and writes, of one transaction or import row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub account_id: String,
    pub amount: i64,
    pub payee: String,
    pub description: String,
    pub category_id: Option<String>,
    pub tags: Vec<String>,
    /// Whether the category may be set: not on a split (its parts carry
    /// the categories) nor on a transfer (money that stays in the book).
    pub categorisable: bool,
}

enum Matcher {
    /// Lower-cased.
    Contains(String),
    /// Lower-cased.
    Equals(String),
    Regex(Regex),
}

impl Matcher {
    fn new(field: &str, condition: &TextCondition) -> Result<Matcher, Invalid> {
        let value = &condition.value;
        if value.is_empty() || value.chars().count() > MAX_PATTERN_CHARS {
            return Err(Invalid(format!(
                "{field}.value must be 1 to {MAX_PATTERN_CHARS} characters"
            )));
        }
        if value.chars().any(char::is_control) {
            return Err(Invalid(format!("{field}.value holds control characters")));
        }
        match condition.kind.as_str() {
            "contains" => Ok(Matcher::Contains(value.to_lowercase())),
            "equals" => Ok(Matcher::Equals(value.trim().to_lowercase())),
            "regex" => RegexBuilder::new(value)
                .case_insensitive(true)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map(Matcher::Regex)
                .map_err(|e| Invalid(format!("{field}.value is not a valid pattern: {e}"))),
            other => Err(Invalid(format!(
                "{field}.match must be one of {}, not {other:?}",
                MATCH_KINDS.join(", ")
            ))),
        }
    }

    fn holds(&self, text: &str) -> bool {
        match self {
            Matcher::Contains(needle) => text.to_lowercase().contains(needle.as_str()),
            Matcher::Equals(wanted) => text.trim().to_lowercase() == *wanted,
            Matcher::Regex(regex) => regex.is_match(text),
        }
    }
}

/// A rule ready to run.
pub struct Rule {
    pub id: String,
    payee: Option<Matcher>,
    description: Option<Matcher>,
    min_amount: Option<i64>,
    max_amount: Option<i64>,
    account_id: Option<String>,
    set_category_id: Option<String>,
    set_payee: Option<String>,
    add_tags: Vec<String>,
}

/// Checks a rule as the user wrote it; the spec comes back normalised
/// (payee trimmed, tags as the ledger keeps them).
pub fn check(spec: &RuleSpec) -> Result<RuleSpec, Invalid> {
    let mut spec = spec.clone();
    if spec.payee.is_none()
        && spec.description.is_none()
        && spec.min_amount.is_none()
        && spec.max_amount.is_none()
        && spec.account_id.is_none()
    {
        return Err(Invalid(
            "a rule needs at least one condition (payee, description, amount or account)".into(),
        ));
    }
    if spec.set_category_id.is_none() && spec.set_payee.is_none() && spec.add_tags.is_empty() {
        return Err(Invalid(
            "a rule needs at least one action (category, payee or tags)".into(),
        ));
    }
    if let Some(min) = spec.min_amount {
        ledger::amount("conditions.min_amount", min)?;
    }
    if let Some(max) = spec.max_amount {
        ledger::amount("conditions.max_amount", max)?;
    }
    if let (Some(min), Some(max)) = (spec.min_amount, spec.max_amount)
        && min > max
    {
        return Err(Invalid(
            "conditions.min_amount is above conditions.max_amount".into(),
        ));
    }
    if let Some(payee) = &spec.set_payee {
        spec.set_payee = Some(ledger::name("actions.payee", payee)?);
    }
    spec.add_tags = ledger::tags(&spec.add_tags)?;
    compile("", &spec)?;
    Ok(spec)
}

/// Compiles a checked rule.
pub fn compile(id: &str, spec: &RuleSpec) -> Result<Rule, Invalid> {
    let matcher = |field: &str, c: &Option<TextCondition>| {
        c.as_ref().map(|c| Matcher::new(field, c)).transpose()
    };
    Ok(Rule {
        id: id.to_string(),
        payee: matcher("conditions.payee", &spec.payee)?,
        description: matcher("conditions.description", &spec.description)?,
        min_amount: spec.min_amount,
        max_amount: spec.max_amount,
        account_id: spec.account_id.clone(),
        set_category_id: spec.set_category_id.clone(),
        set_payee: spec.set_payee.clone(),
        add_tags: spec.add_tags.clone(),
    })
}

impl Rule {
    fn holds(&self, s: &Subject) -> bool {
        self.account_id.as_ref().is_none_or(|a| *a == s.account_id)
            && self.min_amount.is_none_or(|min| s.amount >= min)
            && self.max_amount.is_none_or(|max| s.amount <= max)
            && self.payee.as_ref().is_none_or(|m| m.holds(&s.payee))
            && self
                .description
                .as_ref()
                .is_none_or(|m| m.holds(&s.description))
    }

    fn act(&self, s: &mut Subject) {
        if let Some(category) = &self.set_category_id
            && s.categorisable
        {
            s.category_id = Some(category.clone());
        }
        if let Some(payee) = &self.set_payee {
            payee.clone_into(&mut s.payee);
        }
        for tag in &self.add_tags {
            // Past the ledger's limit a tag is left off rather than the
            // whole transaction refused.
            if !s.tags.contains(tag) && s.tags.len() < MAX_TAGS {
                s.tags.push(tag.clone());
            }
        }
        s.tags.sort();
    }
}

/// Runs `rules` in order over `subject`: the ids of the rules that held.
pub fn apply(rules: &[Rule], subject: &mut Subject) -> Vec<String> {
    let mut held = Vec::new();
    for rule in rules {
        if rule.holds(subject) {
            rule.act(subject);
            held.push(rule.id.clone());
        }
    }
    held
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn text(kind: &str, value: &str) -> Option<TextCondition> {
        Some(TextCondition {
            kind: kind.into(),
            value: value.into(),
        })
    }

    fn subject(payee: &str, amount: i64) -> Subject {
        Subject {
            account_id: "a1".into(),
            amount,
            payee: payee.into(),
            description: "CARD 1234".into(),
            category_id: None,
            tags: vec![],
            categorisable: true,
        }
    }

    fn rule(id: &str, spec: RuleSpec) -> Rule {
        compile(id, &check(&spec).expect("valid")).expect("compiles")
    }

    #[test]
    fn conditions_all_hold_and_compare_without_case() {
        let groceries = rule(
            "r1",
            RuleSpec {
                payee: text("contains", "lidl"),
                max_amount: Some(0),
                set_category_id: Some("food".into()),
                add_tags: vec!["Groceries".into()],
                ..RuleSpec::default()
            },
        );
        let mut s = subject("LIDL Berlin", -1250);
        assert_eq!(apply(&[groceries], &mut s), vec!["r1".to_string()]);
        assert_eq!(s.category_id.as_deref(), Some("food"));
        assert_eq!(s.tags, vec!["groceries".to_string()]);

        let refund = rule(
            "r1",
            RuleSpec {
                payee: text("contains", "lidl"),
                max_amount: Some(0),
                set_category_id: Some("food".into()),
                ..RuleSpec::default()
            },
        );
        let mut s = subject("Lidl", 500);
        assert!(apply(&[refund], &mut s).is_empty());
        assert_eq!(s.category_id, None);
    }

    #[test]
    fn equals_and_regex_and_account() {
        let equals = rule(
            "e",
            RuleSpec {
                payee: text("equals", " Netflix "),
                set_payee: Some("Netflix".into()),
                ..RuleSpec::default()
            },
        );
        let mut s = subject("netflix", -999);
        assert_eq!(apply(&[equals], &mut s).len(), 1);
        assert_eq!(s.payee, "Netflix");

        let regex = rule(
            "x",
            RuleSpec {
                description: text("regex", r"^card \d{4}$"),
                account_id: Some("a1".into()),
                add_tags: vec!["card".into()],
                ..RuleSpec::default()
            },
        );
        let mut s = subject("x", -1);
        assert_eq!(apply(&[regex], &mut s).len(), 1);
        let regex = rule(
            "x",
            RuleSpec {
                description: text("regex", r"^card"),
                account_id: Some("other".into()),
                add_tags: vec!["card".into()],
                ..RuleSpec::default()
            },
        );
        let mut s = subject("x", -1);
        assert!(apply(&[regex], &mut s).is_empty());
    }

    #[test]
    fn later_rules_see_and_override_earlier_ones() {
        let rename = rule(
            "1",
            RuleSpec {
                payee: text("contains", "amzn"),
                set_payee: Some("Amazon".into()),
                set_category_id: Some("shopping".into()),
                ..RuleSpec::default()
            },
        );
        let books = rule(
            "2",
            RuleSpec {
                payee: text("equals", "amazon"),
                min_amount: Some(-5000),
                set_category_id: Some("books".into()),
                ..RuleSpec::default()
            },
        );
        let mut s = subject("AMZN Mktp DE", -1999);
        assert_eq!(apply(&[rename, books], &mut s), vec!["1", "2"]);
        assert_eq!(s.payee, "Amazon");
        assert_eq!(s.category_id.as_deref(), Some("books"));
    }

    #[test]
    fn a_split_or_transfer_keeps_its_category() {
        let r = rule(
            "1",
            RuleSpec {
                payee: text("contains", "a"),
                set_category_id: Some("c".into()),
                add_tags: vec!["t".into()],
                ..RuleSpec::default()
            },
        );
        let mut s = subject("a", -1);
        s.categorisable = false;
        apply(&[r], &mut s);
        assert_eq!(s.category_id, None);
        assert_eq!(s.tags, vec!["t".to_string()]);
    }

    #[test]
    fn bad_rules_are_refused_with_the_field() {
        let none = RuleSpec {
            set_payee: Some("x".into()),
            ..RuleSpec::default()
        };
        assert!(check(&none).expect_err("refused").0.contains("condition"));
        let no_action = RuleSpec {
            payee: text("contains", "x"),
            ..RuleSpec::default()
        };
        assert!(check(&no_action).expect_err("refused").0.contains("action"));
        let bad = |spec: RuleSpec, needle: &str| {
            let e = check(&spec).expect_err("refused").0;
            assert!(e.contains(needle), "{e}");
        };
        let base = RuleSpec {
            add_tags: vec!["t".into()],
            ..RuleSpec::default()
        };
        bad(
            RuleSpec {
                payee: text("regex", "(unclosed"),
                ..base.clone()
            },
            "conditions.payee.value is not a valid pattern",
        );
        bad(
            RuleSpec {
                payee: text("like", "x"),
                ..base.clone()
            },
            "conditions.payee.match",
        );
        bad(
            RuleSpec {
                description: text("contains", ""),
                ..base.clone()
            },
            "conditions.description.value",
        );
        bad(
            RuleSpec {
                min_amount: Some(5),
                max_amount: Some(1),
                ..base.clone()
            },
            "min_amount",
        );
        // A pattern whose compiled form is huge is refused, not built.
        bad(
            RuleSpec {
                payee: text("regex", r"\w{200}\w{200}"),
                ..base.clone()
            },
            "not a valid pattern",
        );
    }

    proptest! {
        /// Running the same rules twice changes nothing more: applying on
        /// demand after an import is idempotent.
        #[test]
        fn rules_are_idempotent(payee in "[a-zA-Z ]{0,20}", amount in -10_000i64..10_000) {
            let rules = [
                rule("1", RuleSpec { payee: text("contains", "a"), set_payee: Some("Alpha".into()), ..RuleSpec::default() }),
                rule("2", RuleSpec { max_amount: Some(0), set_category_id: Some("out".into()), add_tags: vec!["spent".into()], ..RuleSpec::default() }),
            ];
            let mut s = subject(&payee, amount);
            apply(&rules, &mut s);
            let once = s.clone();
            apply(&rules, &mut s);
            prop_assert_eq!(once, s);
        }
    }
}
