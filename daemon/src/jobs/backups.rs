//! Scheduled backups: one a day at a local wall-clock time (the system's
//! time zone, so 03:00 stays 03:00 across daylight saving), each followed
//! by a prune. A backup whose time passed while the daemon was not running
//! is counted as missed and taken at start.

use std::sync::Arc;
use std::time::Duration;

use jiff::Zoned;
use jiff::civil::Time;
use tokio::sync::watch;

use crate::service::backup::{Backups, Kind, Request};

/// The wall clock is looked at again at least this often while waiting,
/// so a clock change or a suspended machine does not push a backup far out.
const RECHECK: Duration = Duration::from_secs(60);

/// The next time `hour:minute` comes on the local clock after `now`.
pub fn next_after(now: &Zoned, hour: u8, minute: u8) -> Option<Zoned> {
    let today = on(now, now.date(), hour, minute)?;
    if today > *now {
        return Some(today);
    }
    on(now, now.date().tomorrow().ok()?, hour, minute)
}

/// The last time `hour:minute` came on the local clock at or before `now`.
pub fn last_due(now: &Zoned, hour: u8, minute: u8) -> Option<Zoned> {
    let today = on(now, now.date(), hour, minute)?;
    if today <= *now {
        return Some(today);
    }
    on(now, now.date().yesterday().ok()?, hour, minute)
}

/// `hour:minute` of `date` in `now`'s time zone.
fn on(now: &Zoned, date: jiff::civil::Date, hour: u8, minute: u8) -> Option<Zoned> {
    let at = Time::new(hour as i8, minute as i8, 0, 0).ok()?;
    date.to_datetime(at).to_zoned(now.time_zone().clone()).ok()
}

/// Runs the schedule until `stop` turns true.
pub async fn run(backups: Arc<Backups>, hour: u8, minute: u8, mut stop: watch::Receiver<bool>) {
    catch_up(&backups, hour, minute).await;
    loop {
        let now = Zoned::now();
        let Some(next) = next_after(&now, hour, minute) else {
            tracing::error!(
                hour,
                minute,
                "cannot work out the next backup time; scheduled backups stop"
            );
            return;
        };
        backups.set_next_scheduled(Some(next.timestamp().as_second()));
        // Wait in short steps against the wall clock.
        loop {
            let left = next.timestamp().as_second() - jiff::Timestamp::now().as_second();
            if left <= 0 {
                break;
            }
            let step = Duration::from_secs(u64::try_from(left).unwrap_or(0)).min(RECHECK);
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = tokio::time::sleep(step) => {}
            }
        }
        take(&backups).await;
    }
}

/// At start: when the newest scheduled backup is older than the last time
/// one was due, the daemon was not running then: counted, and taken now.
async fn catch_up(backups: &Backups, hour: u8, minute: u8) {
    let Some(due) = last_due(&Zoned::now(), hour, minute) else {
        return;
    };
    let newest = backups.list().ok().and_then(|files| {
        files
            .iter()
            .filter(|f| f.kind == Kind::Scheduled)
            .map(|f| f.created)
            .max()
    });
    if let Some(newest) = newest
        && newest < due.timestamp().as_second()
    {
        backups.report_missed(due.timestamp().as_second());
        take(backups).await;
    }
}

async fn take(backups: &Backups) {
    // Failures are reported (log, metrics, status) by the service.
    if backups
        .create_in_folder(Kind::Scheduled, &Request::default())
        .await
        .is_ok()
    {
        match backups.prune_by_policy(false) {
            Ok(removed) if !removed.is_empty() => {
                let names: Vec<&str> = removed.iter().map(|f| f.name.as_str()).collect();
                tracing::info!(archives = ?names, "pruned backups the retention policy does not keep");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning backups failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::*;

    fn at(text: &str) -> Zoned {
        let tz = TimeZone::get("Europe/Berlin").expect("the system's time zone data (tzdata)");
        text.parse::<jiff::civil::DateTime>()
            .expect("datetime")
            .to_zoned(tz)
            .expect("zoned")
    }

    #[test]
    fn the_next_and_last_times_follow_the_local_clock() {
        let now = at("2026-03-28T12:00");
        assert_eq!(
            next_after(&now, 3, 0).expect("next").datetime().to_string(),
            "2026-03-29T03:00:00"
        );
        assert_eq!(
            last_due(&now, 3, 0).expect("last").datetime().to_string(),
            "2026-03-28T03:00:00"
        );
        let early = at("2026-03-28T02:00");
        assert_eq!(
            next_after(&early, 3, 0)
                .expect("next")
                .datetime()
                .to_string(),
            "2026-03-28T03:00:00"
        );
        assert_eq!(
            last_due(&early, 3, 0).expect("last").datetime().to_string(),
            "2026-03-27T03:00:00"
        );
        // Across the spring change (02:00 -> 03:00 on 29 March) the daily
        // backup is 23 hours after the one before.
        let before = next_after(&now, 3, 0).expect("next");
        let after = next_after(&before, 3, 0).expect("next");
        assert_eq!(
            after.timestamp().as_second() - before.timestamp().as_second(),
            24 * 3600
        );
        let sat = at("2026-03-28T03:00");
        let sun = next_after(&sat, 3, 0).expect("next");
        assert_eq!(
            sun.timestamp().as_second() - sat.timestamp().as_second(),
            23 * 3600
        );
    }
}
