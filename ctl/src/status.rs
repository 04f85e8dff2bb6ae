//! `finctl status`: what the running daemon reports.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fin_proto::admin::{STATUS_PATH, Status};

use crate::client::AdminClient;
use crate::error::CtlError;

pub fn run(client: &AdminClient, json: bool) -> Result<(), CtlError> {
    let status: Status = client.get(STATUS_PATH)?;
    if json {
        let text =
            serde_json::to_string_pretty(&status).map_err(|e| CtlError::Other(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", render(&status, now()));
    }
    Ok(())
}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn render(s: &Status, now: i64) -> String {
    let mut out = format!(
        "fin {} running for {} (pid {})\n",
        s.version,
        human_duration(s.uptime_seconds),
        s.pid
    );
    let schema_note = if s.schema.applied == s.schema.latest {
        "up to date".to_string()
    } else {
        format!("this daemon knows up to {}", s.schema.latest)
    };
    out += &format!(
        "  schema       version {} ({schema_note})\n",
        s.schema.applied
    );
    out += &format!("  database     {}\n", s.database_url);
    out += &format!("  TLS          {}: {}\n", s.tls.mode, s.tls.subject);
    out += &format!("               issuer {}\n", s.tls.issuer);
    out += &format!("               names {}\n", s.tls.sans.join(", "));
    out += &format!("               {}\n", expiry(s.tls.not_after, now));
    out += &format!("               SHA-256 {}\n", s.tls.fingerprint_sha256);
    out += &format!("  HTTPS        {}\n", s.listeners.https);
    out += &format!(
        "  HTTP         {}\n",
        s.listeners.http.as_deref().unwrap_or("off")
    );
    out += &format!(
        "  metrics      {}\n",
        s.listeners.metrics.as_deref().unwrap_or("off")
    );
    out += &format!("  admin socket {}\n", s.listeners.admin_socket);
    if let Some(b) = &s.backup {
        out += &backups(b, now);
    }
    out
}

fn backups(b: &fin_proto::admin::BackupStatus, now: i64) -> String {
    let mut out = match (&b.newest_archive, b.last_success_at) {
        (_, Some(at)) => format!(
            "  backups      last {} ({}), {}\n",
            timestamp(at),
            ago(now - at),
            b.last_success.as_deref().unwrap_or("")
        ),
        (Some(f), None) => format!(
            "  backups      newest {} ({})\n",
            f.name,
            ago(now - f.created)
        ),
        (None, None) => "  backups      none yet: run `finctl backup`\n".to_string(),
    };
    if let Some(at) = b.last_failure_at {
        out += &format!(
            "               FAILED {}: {}\n",
            timestamp(at),
            b.last_failure.as_deref().unwrap_or("")
        );
    }
    if b.missed > 0 {
        out += &format!(
            "               {} scheduled backup(s) MISSED while fin was not running\n",
            b.missed
        );
    }
    match b.next_scheduled_at {
        Some(at) => out += &format!("               next scheduled {}\n", timestamp(at)),
        None => out += "               no schedule (backup.schedule is empty)\n",
    }
    out
}

fn ago(seconds: i64) -> String {
    format!(
        "{} ago",
        human_duration(u64::try_from(seconds).unwrap_or(0))
    )
}

fn expiry(not_after: i64, now: i64) -> String {
    let when = timestamp(not_after);
    if not_after <= now {
        format!("EXPIRED {when}")
    } else {
        let days = (not_after - now) / 86_400;
        format!("expires {when} (in {days} days)")
    }
}

pub(crate) fn timestamp(unix: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

fn human_duration(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s:02}s"),
        (0, _, _) => format!("{h}h {m:02}m"),
        _ => format!("{d}d {h:02}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fin_proto::Listeners;
    use fin_proto::admin::{SchemaStatus, TlsStatus};

    #[test]
    fn renders_every_field_an_operator_needs() {
        let status = Status {
            version: "1.2.3".into(),
            pid: 42,
            uptime_seconds: 3 * 3600 + 5 * 60,
            started_at: 0,
            schema: SchemaStatus {
                applied: 1,
                latest: 1,
            },
            database_url: "surrealkv:///var/lib/fin/db".into(),
            tls: TlsStatus {
                mode: "self-signed".into(),
                subject: "CN=fin.lan".into(),
                issuer: "CN=fin.lan".into(),
                sans: vec!["fin.lan".into(), "10.0.0.2".into()],
                not_before: 0,
                not_after: 86_400 * 10,
                fingerprint_sha256: "AB:CD".into(),
                acme: None,
            },
            listeners: Listeners {
                https: "0.0.0.0:443".into(),
                http: None,
                metrics: Some("127.0.0.1:9464".into()),
                admin_socket: "/run/fin/admin.sock".into(),
                pid: 42,
            },
            backup: Some(fin_proto::admin::BackupStatus {
                last_failure_at: Some(3600),
                last_failure: Some("scheduled: the disk is full".into()),
                missed: 1,
                ..Default::default()
            }),
        };
        let text = render(&status, 86_400);
        for needle in [
            "fin 1.2.3 running for 3h 05m",
            "version 1 (up to date)",
            "surrealkv:///var/lib/fin/db",
            "self-signed: CN=fin.lan",
            "names fin.lan, 10.0.0.2",
            "expires 1970-01-11T00:00:00Z (in 9 days)",
            "HTTP         off",
            "FAILED 1970-01-01T01:00:00Z: scheduled: the disk is full",
            "1 scheduled backup(s) MISSED",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        assert!(render(&status, 86_400 * 11).contains("EXPIRED"));
    }
}
