//! Reports over a book's transactions: spending by category per month,
//! income against expense per month, top payees, account balances at each
//! month's end, and what a budget's month has spent. Pure sums over the
//! entries handed in, in integer minor units, grouped by currency and
//! never converted: every report adds up exactly to its entries.
//!
//! A split counts each part under its own category. A transfer moves money
//! inside the book: it is not income, expense or a payee's, but it does
//! move the balances of its two accounts.

use std::collections::{BTreeMap, HashMap, HashSet};

/// A transaction as the reports read it, or several of one month, account,
/// category, currency and sign summed into one (`count` says how many).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub account_id: String,
    pub amount: i64,
    pub currency: String,
    pub category_id: Option<String>,
    /// The parts of a split: (category, amount).
    pub splits: Vec<(Option<String>, i64)>,
    pub transfer: bool,
    pub payee: String,
    /// The transactions it stands for: 1, or more for a monthly sum, whose
    /// transactions all have the sign of `amount` (or are transfers).
    pub count: i64,
}

impl Entry {
    /// The amounts this entry puts in each category, with the number of
    /// transactions (or split parts) each stands for.
    fn parts(&self) -> Vec<(Option<&str>, i64, i64)> {
        if self.splits.is_empty() {
            vec![(self.category_id.as_deref(), self.amount, self.count)]
        } else {
            self.splits
                .iter()
                .map(|(c, a)| (c.as_deref(), *a, 1))
                .collect()
        }
    }

    fn month(&self) -> &str {
        self.date.get(..7).unwrap_or(&self.date)
    }
}

/// Money in and out of one group: `spent` and `received` are both at least
/// 0, and `net = received - spent`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flow {
    pub spent: i64,
    pub received: i64,
    /// Entries (or split parts) counted.
    pub count: i64,
}

impl Flow {
    /// Adds `count` entries of one sign summing to `amount`.
    fn add(&mut self, amount: i64, count: i64) {
        if amount < 0 {
            self.spent -= amount;
        } else {
            self.received += amount;
        }
        self.count += count;
    }

    pub fn net(&self) -> i64 {
        self.received - self.spent
    }
}

/// One line of spending by category: a month, a category (none for the
/// uncategorised), a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryMonth {
    pub month: String,
    pub category_id: Option<String>,
    pub currency: String,
    pub flow: Flow,
}

/// Spending by category per month, by month then currency then category.
pub fn by_category(entries: &[Entry]) -> Vec<CategoryMonth> {
    let mut groups: BTreeMap<(&str, &str, Option<&str>), Flow> = BTreeMap::new();
    for entry in entries.iter().filter(|e| !e.transfer) {
        for (category, amount, count) in entry.parts() {
            groups
                .entry((entry.month(), entry.currency.as_str(), category))
                .or_default()
                .add(amount, count);
        }
    }
    groups
        .into_iter()
        .map(|((month, currency, category), flow)| CategoryMonth {
            month: month.to_string(),
            category_id: category.map(str::to_string),
            currency: currency.to_string(),
            flow,
        })
        .collect()
}

/// Income against expense in one month and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthFlow {
    pub month: String,
    pub currency: String,
    pub flow: Flow,
}

/// Income (`received`) against expense (`spent`) per month and currency.
/// A split counts as the one transaction it is, by its total.
pub fn income_expense(entries: &[Entry]) -> Vec<MonthFlow> {
    let mut groups: BTreeMap<(&str, &str), Flow> = BTreeMap::new();
    for entry in entries.iter().filter(|e| !e.transfer) {
        groups
            .entry((entry.month(), entry.currency.as_str()))
            .or_default()
            .add(entry.amount, entry.count);
    }
    groups
        .into_iter()
        .map(|((month, currency), flow)| MonthFlow {
            month: month.to_string(),
            currency: currency.to_string(),
            flow,
        })
        .collect()
}

/// A payee's totals in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayeeTotal {
    pub payee: String,
    pub currency: String,
    pub flow: Flow,
}

/// The payees money went to most, at most `limit` per currency: by spent,
/// then by name. Payees are told apart without case and outer spaces, and
/// shown as first written.
pub fn top_payees(entries: &[Entry], limit: usize) -> Vec<PayeeTotal> {
    let mut groups: HashMap<(String, &str), (String, Flow)> = HashMap::new();
    for entry in entries.iter().filter(|e| !e.transfer) {
        let key = (entry.payee.trim().to_lowercase(), entry.currency.as_str());
        groups
            .entry(key)
            .or_insert_with(|| (entry.payee.trim().to_string(), Flow::default()))
            .1
            .add(entry.amount, entry.count);
    }
    let mut totals: Vec<PayeeTotal> = groups
        .into_iter()
        .map(|((_, currency), (payee, flow))| PayeeTotal {
            payee,
            currency: currency.to_string(),
            flow,
        })
        .collect();
    totals.sort_by(|a, b| {
        a.currency
            .cmp(&b.currency)
            .then(b.flow.spent.cmp(&a.flow.spent))
            .then(a.payee.cmp(&b.payee))
    });
    let mut shown: HashMap<String, usize> = HashMap::new();
    totals.retain(|t| {
        let n = shown.entry(t.currency.clone()).or_default();
        *n += 1;
        *n <= limit
    });
    totals
}

/// An account as the balance report needs it: its balance before the
/// first month reported (opening balance plus every earlier transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStart {
    pub account_id: String,
    pub currency: String,
    pub balance: i64,
}

/// An account's balance at the end of a month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalancePoint {
    pub month: String,
    pub account_id: String,
    pub currency: String,
    pub balance: i64,
}

/// Each account's balance at the end of each of `months` (ascending,
/// `YYYY-MM`), from its start and the entries in those months.
pub fn balances(
    accounts: &[AccountStart],
    entries: &[Entry],
    months: &[String],
) -> Vec<BalancePoint> {
    let mut moved: HashMap<(&str, &str), i64> = HashMap::new();
    for entry in entries {
        *moved
            .entry((entry.account_id.as_str(), entry.month()))
            .or_default() += entry.amount;
    }
    let mut points = Vec::with_capacity(accounts.len() * months.len());
    for account in accounts {
        let mut balance = account.balance;
        for month in months {
            balance += moved
                .get(&(account.account_id.as_str(), month.as_str()))
                .copied()
                .unwrap_or(0);
            points.push(BalancePoint {
                month: month.clone(),
                account_id: account.account_id.clone(),
                currency: account.currency.clone(),
                balance,
            });
        }
    }
    points
}

/// What the entries spent in `categories` and `currency`: money out less
/// refunds, so a month with more refunds than purchases spent less than 0.
pub fn spent_in(entries: &[Entry], categories: &HashSet<&str>, currency: &str) -> i64 {
    entries
        .iter()
        .filter(|e| !e.transfer && e.currency == currency)
        .flat_map(Entry::parts)
        .filter(|(c, _, _)| c.is_some_and(|c| categories.contains(c)))
        .map(|(_, amount, _)| -amount)
        .sum()
}

/// The flow of transfers.
pub const TRANSFER: &str = "transfer";
/// The flows of split transactions, money out and in: their sums say
/// nothing of the parts' categories.
pub const SPLIT_FLOWS: [&str; 2] = ["split-out", "split-in"];

/// How the monthly sums (`txn_month`, migration 15, which computes the same
/// in SurrealQL) sort a transaction: a transfer, a split by the sign of its
/// total, or money out or in.
pub fn flow(transfer: bool, split: bool, amount: i64) -> &'static str {
    match (transfer, split, amount < 0) {
        (true, _, _) => TRANSFER,
        (false, true, true) => SPLIT_FLOWS[0],
        (false, true, false) => SPLIT_FLOWS[1],
        (false, false, true) => "out",
        (false, false, false) => "in",
    }
}

/// The month after `month` (`YYYY-MM`), if it is one.
pub fn next_month(month: &str) -> Option<String> {
    let (y, m) = month.split_once('-')?;
    let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
    (month.len() == 7 && (1..=12).contains(&m)).then(|| {
        if m == 12 {
            format!("{:04}-01", y + 1)
        } else {
            format!("{y:04}-{:02}", m + 1)
        }
    })
}

/// The months from `from` to `to` (`YYYY-MM`), both included; empty when
/// either is not a month or `to` comes first.
pub fn months_between(from: &str, to: &str) -> Vec<String> {
    let parse = |m: &str| -> Option<(i32, u32)> {
        let (y, mo) = m.split_once('-')?;
        let (y, mo) = (y.parse().ok()?, mo.parse().ok()?);
        (m.len() == 7 && (1..=12).contains(&mo)).then_some((y, mo))
    };
    let (Some((mut y, mut m)), Some(end)) = (parse(from), parse(to)) else {
        return Vec::new();
    };
    let mut months = Vec::new();
    while (y, m) <= end {
        months.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    months
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn entry(date: &str, amount: i64, category: Option<&str>) -> Entry {
        Entry {
            date: date.into(),
            account_id: "a".into(),
            amount,
            currency: "EUR".into(),
            category_id: category.map(str::to_string),
            splits: vec![],
            transfer: false,
            payee: "Shop".into(),
            count: 1,
        }
    }

    #[test]
    fn the_month_after() {
        assert_eq!(next_month("2026-12").as_deref(), Some("2027-01"));
        assert_eq!(next_month("2026-03").as_deref(), Some("2026-04"));
        assert_eq!(next_month("2026-13"), None);
        assert_eq!(next_month("2026-1"), None);
    }

    #[test]
    fn splits_count_by_part_and_transfers_only_in_balances() {
        let mut split = entry("2026-03-04", -1000, None);
        split.splits = vec![(Some("food".into()), -700), (Some("home".into()), -300)];
        let mut transfer = entry("2026-03-05", -5000, None);
        transfer.transfer = true;
        let entries = vec![
            split,
            transfer,
            entry("2026-03-09", 200, Some("food")),
            entry("2026-04-01", 250000, None),
        ];
        let cats = by_category(&entries);
        let food = cats
            .iter()
            .find(|c| c.category_id.as_deref() == Some("food"))
            .expect("present");
        assert_eq!(
            (food.flow.spent, food.flow.received, food.flow.net()),
            (700, 200, -500)
        );
        let flows = income_expense(&entries);
        assert_eq!(flows[0].flow.spent, 1000);
        assert_eq!(flows[1].flow.received, 250000);
        let set: HashSet<&str> = ["food"].into();
        assert_eq!(spent_in(&entries, &set, "EUR"), 500);
        assert_eq!(spent_in(&entries, &set, "USD"), 0);
        let start = [AccountStart {
            account_id: "a".into(),
            currency: "EUR".into(),
            balance: 10_000,
        }];
        let points = balances(&start, &entries, &months_between("2026-02", "2026-04"));
        let shown: Vec<i64> = points.iter().map(|p| p.balance).collect();
        assert_eq!(
            shown,
            vec![10_000, 10_000 - 1000 - 5000 + 200, 10_000 - 5800 + 250_000]
        );
    }

    #[test]
    fn payees_ranked_per_currency_and_cut() {
        let mut entries = vec![];
        for (payee, amount) in [
            ("Lidl", -500),
            ("lidl ", -700),
            ("Rent", -90000),
            ("Cafe", -300),
        ] {
            let mut e = entry("2026-01-01", amount, None);
            e.payee = payee.into();
            entries.push(e);
        }
        let top = top_payees(&entries, 2);
        assert_eq!(top.len(), 2);
        assert_eq!(top[0].payee, "Rent");
        assert_eq!(
            (top[1].payee.as_str(), top[1].flow.spent, top[1].flow.count),
            ("Lidl", 1200, 2)
        );
    }

    #[test]
    fn months_run_across_years() {
        assert_eq!(
            months_between("2025-11", "2026-02"),
            ["2025-11", "2025-12", "2026-01", "2026-02"]
        );
        assert!(months_between("2026-02", "2026-01").is_empty());
        assert!(months_between("2026-13", "2027-01").is_empty());
    }

    fn arb_entry() -> impl Strategy<Value = Entry> {
        (
            1u32..=12,
            1u32..=28,
            -1_000_000i64..1_000_000,
            prop::sample::select(vec!["EUR", "USD"]),
            prop::option::of(prop::sample::select(vec!["food", "home", "fun"])),
            prop::bool::weighted(0.2),
            prop::bool::weighted(0.1),
            prop::sample::select(vec!["A", "a", "B", "C "]),
        )
            .prop_map(|(m, d, amount, cur, cat, split, transfer, payee)| {
                let splits = if split {
                    let first = amount / 3;
                    vec![
                        (cat.map(str::to_string), first),
                        (Some("fun".into()), amount - first),
                    ]
                } else {
                    vec![]
                };
                Entry {
                    date: format!("2026-{m:02}-{d:02}"),
                    account_id: if amount % 2 == 0 {
                        "a".into()
                    } else {
                        "b".into()
                    },
                    amount,
                    currency: cur.into(),
                    category_id: cat.map(str::to_string),
                    splits,
                    transfer,
                    payee: payee.into(),
                    count: 1,
                }
            })
    }

    /// Month, account, category, currency, kind.
    type GroupKey = (String, String, Option<String>, String, &'static str);

    /// The entries summed the way the store's monthly table sums them: by
    /// month, account, category, currency and kind (transfer, split or not,
    /// sign), and the split entries with their parts.
    fn monthly(entries: &[Entry]) -> (Vec<Entry>, Vec<Entry>) {
        let mut groups: BTreeMap<GroupKey, (i64, i64)> = BTreeMap::new();
        for e in entries {
            let kind = flow(e.transfer, !e.splits.is_empty(), e.amount);
            let key = (
                e.month().to_string(),
                e.account_id.clone(),
                e.category_id.clone(),
                e.currency.clone(),
                kind,
            );
            let sum = groups.entry(key).or_default();
            sum.0 += e.amount;
            sum.1 += 1;
        }
        let summed = groups
            .into_iter()
            .map(
                |((month, account_id, category_id, currency, kind), (amount, count))| Entry {
                    date: format!("{month}-01"),
                    account_id,
                    amount,
                    currency,
                    category_id,
                    splits: vec![],
                    transfer: kind == "transfer",
                    payee: String::new(),
                    count,
                },
            )
            .collect();
        let splits = entries
            .iter()
            .filter(|e| !e.splits.is_empty())
            .cloned()
            .collect();
        (summed, splits)
    }

    proptest! {
        /// Every report adds up exactly to the entries it covers, per currency.
        #[test]
        fn reports_add_up_to_their_entries(entries in prop::collection::vec(arb_entry(), 0..60)) {
            for currency in ["EUR", "USD"] {
                let total: i64 = entries.iter().filter(|e| !e.transfer && e.currency == currency).map(|e| e.amount).sum();
                let cats: i64 = by_category(&entries).iter().filter(|c| c.currency == currency).map(|c| c.flow.net()).sum();
                let months: i64 = income_expense(&entries).iter().filter(|c| c.currency == currency).map(|c| c.flow.net()).sum();
                let payees: i64 = top_payees(&entries, usize::MAX).iter().filter(|c| c.currency == currency).map(|c| c.flow.net()).sum();
                prop_assert_eq!(total, cats);
                prop_assert_eq!(total, months);
                prop_assert_eq!(total, payees);
                let all: HashSet<&str> = ["food", "home", "fun"].into();
                let categorised: i64 = entries.iter().filter(|e| !e.transfer && e.currency == currency)
                    .flat_map(Entry::parts).filter(|(c, _, _)| c.is_some()).map(|(_, a, _)| a).sum();
                prop_assert_eq!(spent_in(&entries, &all, currency), -categorised);
            }
            let start = [
                AccountStart { account_id: "a".into(), currency: "EUR".into(), balance: 7 },
                AccountStart { account_id: "b".into(), currency: "EUR".into(), balance: -3 },
            ];
            let points = balances(&start, &entries, &months_between("2026-01", "2026-12"));
            for account in ["a", "b"] {
                let last = points.iter().rfind(|p| p.account_id == account).expect("present");
                let first = start.iter().find(|s| s.account_id == account).expect("present").balance;
                let moved: i64 = entries.iter().filter(|e| e.account_id == account).map(|e| e.amount).sum();
                prop_assert_eq!(last.balance, first + moved);
            }
        }
    }

    proptest! {
        /// Monthly sums (with split transactions read part by part) give
        /// exactly the reports the transactions themselves give.
        #[test]
        fn monthly_sums_report_like_their_transactions(entries in prop::collection::vec(arb_entry(), 0..60)) {
            let (summed, splits) = monthly(&entries);
            let unsplit: Vec<Entry> = entries.iter().filter(|e| e.splits.is_empty()).cloned().collect();
            let (not_split, _) = monthly(&unsplit);
            let spending: Vec<Entry> = not_split.into_iter().chain(splits).collect();
            prop_assert_eq!(by_category(&spending), by_category(&entries));
            prop_assert_eq!(income_expense(&summed), income_expense(&entries));
            let all: HashSet<&str> = ["food", "home", "fun"].into();
            for currency in ["EUR", "USD"] {
                prop_assert_eq!(spent_in(&spending, &all, currency), spent_in(&entries, &all, currency));
            }
            let start = [
                AccountStart { account_id: "a".into(), currency: "EUR".into(), balance: 0 },
                AccountStart { account_id: "b".into(), currency: "EUR".into(), balance: 0 },
            ];
            let months = months_between("2026-01", "2026-12");
            prop_assert_eq!(balances(&start, &summed, &months), balances(&start, &entries, &months));
        }
    }
}
