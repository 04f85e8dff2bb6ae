//! The project's own rate limiter: GCRA (the generic cell rate algorithm,
//! a token bucket kept as one timestamp per key), sharded, with a hard cap
//! on the number of tracked keys so memory stays bounded whatever the
//! number of clients.
//!
//! A key is stored as a 64-bit keyed hash and its "theoretical arrival
//! time" (TAT) in nanoseconds: 16 bytes of payload per tracked client.

mod gcra;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use gcra::{Decision, Quota};

const SHARDS: usize = 64;

/// One limiter per route class (login, upload, api).
pub struct RateLimiter {
    quota: Quota,
    shards: Vec<Mutex<HashMap<u64, u64>>>,
    per_shard_cap: usize,
    hasher: std::collections::hash_map::RandomState,
    epoch: Instant,
}

impl RateLimiter {
    /// `max_keys`: the most clients tracked at once (rounded up to a multiple of the shard count).
    pub fn new(quota: Quota, max_keys: usize) -> Self {
        RateLimiter {
            quota,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard_cap: max_keys.div_ceil(SHARDS).max(1),
            hasher: std::collections::hash_map::RandomState::new(),
            epoch: Instant::now(),
        }
    }

    /// Counts one request for `key` now.
    pub fn check(&self, key: &impl Hash) -> Decision {
        let now = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.check_at(key, now)
    }

    /// Counts one request for `key` at `now` (nanoseconds since the limiter's epoch).
    pub fn check_at(&self, key: &impl Hash, now: u64) -> Decision {
        let hash = self.hasher.hash_one(key);
        let shard = &self.shards[(hash as usize) % SHARDS];
        let mut map = shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let stored = map.get(&hash).copied();
        let (decision, new_tat) = self.quota.decide(stored, now);
        if let Some(tat) = new_tat {
            if stored.is_none() && map.len() >= self.per_shard_cap {
                make_room(&mut map, now);
            }
            map.insert(hash, tat);
        }
        decision
    }

    /// How many clients are tracked now.
    pub fn tracked(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    /// Forgets clients whose bucket is full again (their entry says nothing a
    /// missing entry would not). Called periodically.
    pub fn sweep(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        for shard in &self.shards {
            shard
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|_, tat| *tat > now);
        }
    }
}

/// Drops idle entries; if the shard is still full, drops the eighth of the
/// entries closest to a full bucket (they lose the least information), so
/// a flood of new keys costs amortised constant time per request.
fn make_room(map: &mut HashMap<u64, u64>, now: u64) {
    let before = map.len();
    map.retain(|_, tat| *tat > now);
    if map.len() < before {
        return;
    }
    let mut tats: Vec<u64> = map.values().copied().collect();
    let cut = (tats.len() / 8).max(1) - 1;
    let (_, threshold, _) = tats.select_nth_unstable(cut);
    let threshold = *threshold;
    map.retain(|_, tat| *tat > threshold);
}

/// Seconds, rounded up, for `Retry-After` and `RateLimit-Reset`.
pub fn whole_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests;
