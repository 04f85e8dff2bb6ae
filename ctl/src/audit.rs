//! `finctl audit`: the daemon's audit trail of security events.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fin_proto::admin::AUDIT_PATH;
use fin_proto::api::AuditEntry;

use crate::client::AdminClient;
use crate::error::CtlError;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Only events since this long ago (e.g. 1h, 2days) or this time (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events by or about this user.
    #[arg(long)]
    pub user: Option<String>,
    /// At most this many events.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// Skip this many newer events (the next page).
    #[arg(long, default_value_t = 0)]
    pub offset: u32,
}

pub fn run(client: &AdminClient, args: AuditArgs, json: bool) -> Result<(), CtlError> {
    let mut query = vec![
        format!("limit={}", args.limit),
        format!("offset={}", args.offset),
    ];
    if let Some(since) = &args.since {
        query.push(format!("since={}", parse_since(since)?));
    }
    if let Some(user) = &args.user {
        query.push(format!("user={}", crate::user::encode(user)));
    }
    let entries: Vec<AuditEntry> = client.get(&format!("{AUDIT_PATH}?{}", query.join("&")))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).map_err(|e| CtlError::Other(e.to_string()))?
        );
        return Ok(());
    }
    println!(
        "{:<20}  {:<22} {:<20} {:<16} {:<15} OUTCOME",
        "TIME", "ACTOR", "ACTION", "TARGET", "IP"
    );
    for e in entries {
        let time =
            humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(e.at.max(0) as u64));
        println!(
            "{:<20}  {:<22} {:<20} {:<16} {:<15} {}",
            time.to_string(),
            e.actor.unwrap_or_else(|| "-".into()),
            e.action,
            e.target.unwrap_or_else(|| "-".into()),
            e.ip.unwrap_or_else(|| "-".into()),
            e.outcome
        );
    }
    Ok(())
}

/// Unix seconds from "1h" (ago) or an RFC 3339 time.
fn parse_since(text: &str) -> Result<i64, CtlError> {
    let now = SystemTime::now();
    let at = if let Ok(ago) = humantime::parse_duration(text) {
        now.checked_sub(ago).unwrap_or(UNIX_EPOCH)
    } else {
        humantime::parse_rfc3339_weak(text).map_err(|_| {
            CtlError::Other(format!("--since {text:?}: give a duration like 1h or 7days, or a time like 2026-11-22T10:00:00Z"))
        })?
    };
    Ok(at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_durations_and_times() {
        let hour_ago = parse_since("1h").expect("duration");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64;
        assert!((now - 3601..=now - 3599).contains(&hour_ago));
        assert_eq!(parse_since("1970-01-02T00:00:00Z").expect("time"), 86_400);
        assert!(parse_since("yesterday-ish").is_err());
    }
}
