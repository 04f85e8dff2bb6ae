//! GCRA arithmetic, free of clocks and maps so it can be tested exactly.

use std::time::Duration;

/// `burst` requests at once, then one every `period / count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Nanoseconds between two requests at the sustained rate.
    interval: u64,
    /// How far ahead of now the TAT may run: `interval * (burst - 1)`.
    tolerance: u64,
    burst: u32,
}

impl Quota {
    /// `count` requests per `period`, with bursts of up to `burst`.
    pub fn new(count: u32, period: Duration, burst: u32) -> Self {
        let count = count.max(1);
        let burst = burst.max(1);
        let interval =
            (u64::try_from(period.as_nanos()).unwrap_or(u64::MAX) / u64::from(count)).max(1);
        Quota {
            interval,
            tolerance: interval.saturating_mul(u64::from(burst - 1)),
            burst,
        }
    }

    /// The decision for a request at `now` given the stored TAT, and the TAT
    /// to store (none when the request is refused: refusals cost nothing).
    pub fn decide(&self, stored_tat: Option<u64>, now: u64) -> (Decision, Option<u64>) {
        let tat = stored_tat.unwrap_or(now).max(now);
        let allow_at = tat.saturating_sub(self.tolerance);
        if now < allow_at {
            let decision = Decision {
                allowed: false,
                limit: self.burst,
                remaining: 0,
                reset: Duration::from_nanos(tat - now),
                retry_after: Duration::from_nanos(allow_at - now),
            };
            return (decision, None);
        }
        let new_tat = tat.saturating_add(self.interval);
        // Requests still allowed right now after this one.
        let headroom =
            (now + self.tolerance + self.interval).saturating_sub(new_tat) / self.interval;
        let decision = Decision {
            allowed: true,
            limit: self.burst,
            remaining: u32::try_from(headroom).unwrap_or(u32::MAX).min(self.burst),
            reset: Duration::from_nanos(new_tat - now),
            retry_after: Duration::ZERO,
        };
        (decision, Some(new_tat))
    }
}

/// The outcome for one request, with what the `RateLimit-*` headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Requests allowed at once (the burst).
    pub limit: u32,
    /// Requests still allowed right now.
    pub remaining: u32,
    /// Time until the bucket is full again.
    pub reset: Duration,
    /// For a refusal: time until the next request would be allowed.
    pub retry_after: Duration,
}
