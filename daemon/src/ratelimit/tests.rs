use std::time::Duration;

use proptest::prelude::*;

use super::*;

const SECOND: u64 = 1_000_000_000;

#[test]
fn a_burst_is_allowed_then_the_sustained_rate() {
    // 5 per minute, burst 5: the login class default.
    let limiter = RateLimiter::new(Quota::new(5, Duration::from_secs(60), 5), 1000);
    let remaining: Vec<u32> = (0..5)
        .map(|_| limiter.check_at(&"ip", 0))
        .map(|d| {
            assert!(d.allowed);
            d.remaining
        })
        .collect();
    assert_eq!(remaining, [4, 3, 2, 1, 0]);
    let refused = limiter.check_at(&"ip", 0);
    assert!(!refused.allowed);
    assert_eq!(refused.retry_after, Duration::from_secs(12));
    assert!(!limiter.check_at(&"ip", 11 * SECOND).allowed);
    assert!(limiter.check_at(&"ip", 12 * SECOND).allowed);
}

#[test]
fn one_noisy_key_does_not_limit_another() {
    let limiter = RateLimiter::new(Quota::new(1, Duration::from_secs(1), 1), 1000);
    assert!(limiter.check_at(&"noisy", 0).allowed);
    assert!(!limiter.check_at(&"noisy", 0).allowed);
    assert!(limiter.check_at(&"quiet", 0).allowed);
}

#[test]
fn memory_stays_capped_under_a_million_distinct_keys() {
    let cap = 10_000;
    let limiter = RateLimiter::new(Quota::new(10, Duration::from_secs(1), 20), cap);
    for key in 0..1_000_000u64 {
        limiter.check_at(&key, key);
    }
    let tracked = limiter.tracked();
    assert!(
        tracked <= cap.div_ceil(SHARDS) * SHARDS,
        "{tracked} keys tracked"
    );
    assert!(tracked > cap / 2, "the cap is used, not emptied: {tracked}");
}

#[test]
fn sweeping_forgets_full_buckets_only() {
    let limiter = RateLimiter::new(Quota::new(1, Duration::from_secs(3600), 1), 1000);
    limiter.check(&"recent");
    limiter.sweep();
    assert_eq!(limiter.tracked(), 1, "a bucket still refilling is kept");
}

proptest! {
    /// Over any window, never more than `burst + window / interval` requests pass.
    #[test]
    fn never_more_than_the_rate_over_any_window(
        count in 1u32..20,
        period_ms in 100u64..5_000,
        burst in 1u32..10,
        mut times in proptest::collection::vec(0u64..20_000_000_000, 1..300),
    ) {
        times.sort_unstable();
        let quota = Quota::new(count, Duration::from_millis(period_ms), burst);
        let interval = (period_ms * 1_000_000 / u64::from(count)).max(1);
        let mut tat = None;
        let mut allowed = Vec::new();
        for &t in &times {
            let (decision, new_tat) = quota.decide(tat, t);
            if decision.allowed {
                allowed.push(t);
                tat = new_tat;
            } else {
                prop_assert!(decision.retry_after > Duration::ZERO);
            }
        }
        for (i, &start) in allowed.iter().enumerate() {
            for (j, &end) in allowed.iter().enumerate().skip(i) {
                let in_window = (j - i + 1) as u64;
                let max = u64::from(burst) + (end - start) / interval;
                prop_assert!(in_window <= max, "{in_window} requests in {} ns, max {max}", end - start);
            }
        }
    }

    /// A client that waits the advertised Retry-After is let through.
    #[test]
    fn retry_after_is_honest(count in 1u32..20, burst in 1u32..10, extra in 1u32..10) {
        let quota = Quota::new(count, Duration::from_secs(1), burst);
        let mut tat = None;
        let mut refusal = None;
        for _ in 0..(burst + extra) {
            let (decision, new_tat) = quota.decide(tat, 0);
            if decision.allowed { tat = new_tat } else { refusal = Some(decision); break }
        }
        let refusal = refusal.expect("the burst runs out");
        let wait = u64::try_from(refusal.retry_after.as_nanos()).expect("fits");
        prop_assert!(quota.decide(tat, wait).0.allowed);
        prop_assert!(!quota.decide(tat, wait - 1).0.allowed);
    }
}
