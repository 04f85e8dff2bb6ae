//! The wall clock, as stored: UTC seconds or milliseconds since 1970.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (0 if the clock is set before 1970).
pub fn unix_now() -> i64 {
    since_epoch().as_secs() as i64
}

/// Milliseconds since the Unix epoch, for ordering events within a second.
pub fn unix_now_ms() -> i64 {
    since_epoch().as_millis() as i64
}

fn since_epoch() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_milliseconds_agree() {
        let (s, ms) = (unix_now(), unix_now_ms());
        assert!(s > 1_700_000_000, "{s}");
        assert!((ms / 1000 - s).abs() <= 1, "{s} {ms}");
    }
}
