//! Which backups a grandfather-father-son policy keeps: the newest backup
//! of each of the last `daily` days that have one, of the last `weekly`
//! ISO weeks, and of the last `monthly` months. The newest backup of all
//! is always kept, whatever the policy, so pruning never leaves none.

use std::collections::BTreeSet;

use time::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
}

/// A backup to decide about: its index in the caller's list, its local date
/// and a key that orders backups of one day (e.g. the creation time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dated {
    pub date: Date,
    pub order: i64,
}

/// The indexes (into `backups`) of the backups to keep.
pub fn keep(backups: &[Dated], policy: Policy) -> BTreeSet<usize> {
    let mut newest_first: Vec<usize> = (0..backups.len()).collect();
    newest_first.sort_by_key(|&i| std::cmp::Reverse((backups[i].date, backups[i].order)));
    let mut kept = BTreeSet::new();
    if let Some(&newest) = newest_first.first() {
        kept.insert(newest);
    }
    let day = |d: Date| (d.year(), d.ordinal() as u32);
    let week = |d: Date| {
        let (year, week, _) = d.to_iso_week_date();
        (year, u32::from(week))
    };
    let month = |d: Date| (d.year(), d.month() as u32);
    for (bucket, limit) in [
        (&day as &dyn Fn(Date) -> (i32, u32), policy.daily),
        (&week, policy.weekly),
        (&month, policy.monthly),
    ] {
        let mut last = None;
        let mut taken = 0;
        for &i in &newest_first {
            if taken >= limit {
                break;
            }
            let b = bucket(backups[i].date);
            if last != Some(b) {
                // The first seen (newest) of a new bucket.
                kept.insert(i);
                last = Some(b);
                taken += 1;
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::{Duration, Month};

    use super::*;

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).expect("month"), d).expect("date")
    }

    /// The same rule said another way: a backup is kept when it is the
    /// newest of its bucket and its bucket is among the last `limit`
    /// buckets that have a backup.
    fn oracle(backups: &[Dated], policy: Policy) -> BTreeSet<usize> {
        type Key = fn(Date) -> (i32, u32);
        let keys: [(Key, u32); 3] = [
            (|d| (d.year(), d.ordinal() as u32), policy.daily),
            (
                |d| {
                    let (y, w, _) = d.to_iso_week_date();
                    (y, u32::from(w))
                },
                policy.weekly,
            ),
            (|d| (d.year(), d.month() as u32), policy.monthly),
        ];
        let mut kept = BTreeSet::new();
        let newest = (0..backups.len()).max_by_key(|&i| (backups[i].date, backups[i].order));
        kept.extend(newest);
        for (key, limit) in keys {
            let buckets: BTreeSet<(i32, u32)> = backups.iter().map(|b| key(b.date)).collect();
            let recent: Vec<(i32, u32)> = buckets.into_iter().rev().take(limit as usize).collect();
            for bucket in recent {
                let best = (0..backups.len())
                    .filter(|&i| key(backups[i].date) == bucket)
                    .max_by_key(|&i| (backups[i].date, backups[i].order));
                kept.extend(best);
            }
        }
        kept
    }

    #[test]
    fn a_year_of_daily_backups_keeps_seven_days_four_weeks_twelve_months() {
        let start = date(2026, 1, 1);
        let backups: Vec<Dated> = (0..365)
            .map(|n| Dated {
                date: start + Duration::days(n),
                order: n,
            })
            .collect();
        let policy = Policy {
            daily: 7,
            weekly: 4,
            monthly: 12,
        };
        let kept: Vec<Date> = keep(&backups, policy)
            .into_iter()
            .map(|i| backups[i].date)
            .collect();
        let mut expected: BTreeSet<Date> = BTreeSet::new();
        // The last seven days: 25 to 31 December.
        expected.extend((25..=31).map(|d| date(2026, 12, d)));
        // The newest of the last four ISO weeks: the Sundays 13, 20, 27
        // December and Thursday 31 December (week 53 of 2026).
        expected.extend([date(2026, 12, 13), date(2026, 12, 20), date(2026, 12, 27)]);
        // The last day of each month.
        for m in 1..=12u8 {
            let next = if m == 12 {
                date(2027, 1, 1)
            } else {
                date(2026, m + 1, 1)
            };
            expected.insert(next - Duration::days(1));
        }
        assert_eq!(kept, expected.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn nothing_kept_but_the_newest_with_an_empty_policy() {
        let backups = [
            Dated {
                date: date(2026, 1, 1),
                order: 1,
            },
            Dated {
                date: date(2026, 1, 2),
                order: 2,
            },
        ];
        let policy = Policy {
            daily: 0,
            weekly: 0,
            monthly: 0,
        };
        assert_eq!(keep(&backups, policy), BTreeSet::from([1]));
        assert!(keep(&[], policy).is_empty());
    }

    proptest! {
        #[test]
        fn agrees_with_the_rule_and_keeping_again_keeps_the_same(
            days in proptest::collection::vec((0i64..800, 0i64..3), 0..120),
            daily in 0u32..10, weekly in 0u32..8, monthly in 0u32..14,
        ) {
            let start = date(2025, 6, 1);
            let backups: Vec<Dated> = days
                .iter()
                .enumerate()
                .map(|(n, &(day, hour))| Dated { date: start + Duration::days(day), order: hour * 1000 + n as i64 })
                .collect();
            let policy = Policy { daily, weekly, monthly };
            let kept = keep(&backups, policy);
            prop_assert_eq!(&kept, &oracle(&backups, policy));
            prop_assert!(kept.len() <= (daily + weekly + monthly + 1) as usize);
            // Pruning twice removes nothing more.
            let survivors: Vec<Dated> = kept.iter().map(|&i| backups[i]).collect();
            prop_assert_eq!(keep(&survivors, policy).len(), survivors.len());
        }
    }
}
