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

/// The UTC calendar day of `unix_seconds`, as `YYYY-MM-DD`.
pub fn iso_date(unix_seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .map(|t| {
            let date = t.date();
            format!(
                "{:04}-{:02}-{:02}",
                date.year(),
                u8::from(date.month()),
                date.day()
            )
        })
        .unwrap_or_else(|_| "1970-01-01".to_string())
}

/// `unix_seconds` as RFC 3339 in UTC (`2026-12-02T03:00:00Z`).
pub fn rfc3339(unix_seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .map(|t| {
            format!(
                "{}T{:02}:{:02}:{:02}Z",
                iso_date(unix_seconds),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// `unix_seconds` as a compact UTC stamp for file names (`20261202T030000Z`).
pub fn file_stamp(unix_seconds: i64) -> String {
    rfc3339(unix_seconds).replace(['-', ':'], "")
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

    #[test]
    fn days_are_utc_calendar_days() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(1_709_164_800), "2024-02-29");
    }
}
