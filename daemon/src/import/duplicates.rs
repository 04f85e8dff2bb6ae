//! Which rows of a statement are already in the account. A bank's own id
//! (OFX `FITID`, CAMT `AcctSvcrRef`) is compared by equality where both
//! sides have one, with the amount (two different ids are two transactions); otherwise a fingerprint of account, date, amount and
//! normalised payee. Fingerprints are matched as a multiset: two identical
//! coffees on one day in the file need two in the account to both be
//! duplicates, so the same file imported twice is all duplicates and an
//! overlapping statement only where it overlaps. A transaction the user
//! deleted is no longer in the account, so it never blocks a later import.

use std::collections::HashMap;

use super::Row;
use crate::support::sha256_hex;

/// A transaction already in the account.
pub struct Known {
    pub tid: String,
    pub amount: i64,
    pub external_id: Option<String>,
    pub fingerprint: Option<String>,
}

/// The payee as the fingerprint sees it: letters and digits, lower case,
/// single spaces (`ACME  Corp.` and `acme corp` are one payee).
pub fn normal_payee(payee: &str) -> String {
    payee
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The fingerprint of a row in account `aid`.
pub fn fingerprint(aid: &str, row: &Row) -> String {
    let key = format!(
        "{aid}\u{1f}{}\u{1f}{}\u{1f}{}",
        row.date,
        row.amount,
        normal_payee(&row.payee)
    );
    sha256_hex(key.as_bytes())[..32].to_string()
}

/// For each row, the id of the transaction it duplicates, if any.
pub fn duplicates(aid: &str, rows: &[Row], known: &[Known]) -> Vec<Option<String>> {
    let mut by_external: HashMap<&str, (&str, i64)> = HashMap::new();
    let mut by_fingerprint: HashMap<&str, Vec<(&str, bool)>> = HashMap::new();
    for k in known {
        if let Some(external) = k.external_id.as_deref() {
            by_external.insert(external, (&k.tid, k.amount));
        }
        if let Some(print) = k.fingerprint.as_deref() {
            by_fingerprint
                .entry(print)
                .or_default()
                .push((&k.tid, k.external_id.is_some()));
        }
    }
    // A known transaction matched once is not matched again; bank ids are
    // matched first, so that a row without one cannot take the transaction
    // a later row names by its id.
    let mut used: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut found: Vec<Option<String>> = rows
        .iter()
        .map(|row| {
            // The amount too: not every reference a bank gives is unique
            // for good (a statement's entry numbers start again).
            let (tid, _) = row
                .external_id
                .as_deref()
                .and_then(|e| by_external.get(e))
                .filter(|(_, amount)| *amount == row.amount)?;
            used.insert(tid).then(|| tid.to_string())
        })
        .collect();
    for (row, slot) in rows.iter().zip(found.iter_mut()) {
        if slot.is_some() {
            continue;
        }
        let print = fingerprint(aid, row);
        let Some(candidates) = by_fingerprint.get(print.as_str()) else {
            continue;
        };
        let has_id = row.external_id.is_some();
        let free = candidates.iter().find(|(tid, known_id)| {
            // Two different bank ids are two transactions.
            let other_bank_id = has_id && *known_id;
            !used.contains(tid) && !other_bank_id
        });
        if let Some((tid, _)) = free {
            used.insert(tid);
            *slot = Some(tid.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(date: &str, amount: i64, payee: &str, external: Option<&str>) -> Row {
        Row {
            line: 1,
            date: date.into(),
            amount,
            payee: payee.into(),
            description: String::new(),
            external_id: external.map(str::to_string),
        }
    }

    impl Row {
        fn with_external(mut self, id: Option<String>) -> Row {
            self.external_id = id;
            self
        }
    }

    fn known(tid: &str, r: &Row) -> Known {
        Known {
            tid: tid.into(),
            amount: r.amount,
            external_id: r.external_id.clone(),
            fingerprint: Some(fingerprint("a1", r)),
        }
    }

    #[test]
    fn the_same_file_twice_is_all_duplicates_and_two_coffees_stay_two() {
        let coffee = row("2026-01-02", -350, "Café  Central", None);
        let file = vec![
            coffee.clone(),
            coffee.clone(),
            row("2026-01-03", -100, "Bus", None),
        ];
        let existing: Vec<Known> = file
            .iter()
            .enumerate()
            .map(|(i, r)| known(&format!("t{i}"), r))
            .collect();
        let again = duplicates("a1", &file, &existing);
        assert_eq!(
            again,
            [Some("t0".into()), Some("t1".into()), Some("t2".into())]
        );
        // Only one coffee imported before: the second is new.
        let third = duplicates("a1", &file, &existing[..1]);
        assert_eq!(third, [Some("t0".into()), None, None]);
        assert_eq!(normal_payee("CAFÉ central!"), "café central");
    }

    #[test]
    fn bank_ids_decide_where_both_sides_have_one() {
        let booked = row("2026-01-02", -350, "Shop", Some("FIT-1"));
        let existing = vec![known("t1", &booked)];
        // The bank corrected the payee text: the id still matches.
        let renamed = row("2026-01-02", -350, "SHOP 1234 BERLIN", Some("FIT-1"));
        assert_eq!(duplicates("a1", &[renamed], &existing), [Some("t1".into())]);
        // The same reference with another amount: a reference the bank
        // gave again (entry numbers that restart), another transaction.
        let reused = row("2026-01-20", -999, "Shop", Some("FIT-1"));
        assert_eq!(duplicates("a1", &[reused], &existing), [None]);
        // Same day, amount and payee but another bank id: another purchase.
        let other = row("2026-01-02", -350, "Shop", Some("FIT-2"));
        assert_eq!(duplicates("a1", &[other], &existing), [None]);
        // A row without an id matches a booked one by its fingerprint.
        let bare = row("2026-01-02", -350, "shop", None);
        assert_eq!(duplicates("a1", &[bare], &existing), [Some("t1".into())]);
        // A row without an id cannot take the transaction a later row names
        // by its bank id, whatever the order.
        let first = row("2026-01-02", -350, "Shop", None);
        let named = row("2026-01-02", -350, "Shop", Some("FIT-1"));
        assert_eq!(
            duplicates("a1", &[first, named], &existing),
            [None, Some("t1".into())]
        );
        // Another account's fingerprint never matches.
        assert_eq!(
            duplicates("a2", &[row("2026-01-02", -350, "Shop", None)], &existing),
            [None]
        );
    }

    proptest::proptest! {
        /// Importing a statement, then the same statement again, then a
        /// statement overlapping it: the second is all duplicates (each row
        /// of a different transaction), and the third duplicates exactly its
        /// overlap. Rows may repeat (two coffees on one day) and may or may
        /// not carry bank ids.
        #[test]
        fn importing_again_adds_nothing_and_overlaps_only_their_part(
            rows in proptest::collection::vec(
                (0u8..4, -3i64..3, 0u8..3, proptest::option::of(0u16..400)),
                1..40,
            ),
            overlap in 0usize..40,
        ) {
            let rows: Vec<Row> = rows
                .into_iter()
                .map(|(day, amount, payee, id)| {
                    row(
                        &format!("2026-01-0{}", day + 1),
                        amount,
                        ["Cafe", "CAFE ", "Shop"][payee as usize],
                        None,
                    )
                    .with_external(id.map(|n| format!("B{n}")))
                })
                .collect();
            // Bank ids are unique within one statement, as banks give them.
            let mut seen = std::collections::HashSet::new();
            let rows: Vec<Row> = rows
                .into_iter()
                .map(|mut r| {
                    if let Some(id) = r.external_id.clone() && !seen.insert(id) {
                        r.external_id = None;
                    }
                    r
                })
                .collect();
            // First import: nothing known, nothing flagged; all written.
            proptest::prop_assert!(duplicates("a1", &rows, &[]).iter().all(Option::is_none));
            let written: Vec<Known> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| known(&format!("t{i}"), r))
                .collect();
            let again = duplicates("a1", &rows, &written);
            proptest::prop_assert!(again.iter().all(Option::is_some), "{:?}", again);
            let mut tids: Vec<&String> = again.iter().flatten().collect();
            tids.sort();
            tids.dedup();
            proptest::prop_assert_eq!(tids.len(), rows.len(), "each row its own transaction");
            // An overlapping statement: the tail of this one and new rows.
            let start = overlap.min(rows.len());
            let mut next: Vec<Row> = rows[start..].to_vec();
            let fresh = row("2026-02-01", 7, "New Shop", Some("NEW1"));
            next.push(fresh);
            let flags = duplicates("a1", &next, &written);
            proptest::prop_assert!(flags[..next.len() - 1].iter().all(Option::is_some));
            proptest::prop_assert!(flags[next.len() - 1].is_none());
        }
    }
}
