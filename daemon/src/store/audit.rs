//! The audit trail of security events.

use surrealdb::types::SurrealValue;

use super::query::Params;
use super::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct AuditRecord {
    pub at: i64,
    /// Orders events within one second.
    pub seq: i64,
    pub actor: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only events at or after this Unix time.
    pub since: Option<i64>,
    /// Only events whose actor or target is this user name.
    pub user: Option<String>,
    pub limit: u32,
    /// Events to skip, for paging through older ones.
    pub offset: u32,
}

impl Store {
    pub async fn append_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        self.run(
            "CREATE audit SET at = $at, seq = $seq, actor = $actor, ip = $ip, action = $action, \
                 target = $target, outcome = $outcome",
            Params::new()
                .with("at", record.at)
                .with("seq", record.seq)
                .with("actor", record.actor.clone())
                .with("ip", record.ip.clone())
                .with("action", record.action.clone())
                .with("target", record.target.clone())
                .with("outcome", record.outcome.clone()),
        )
        .await?;
        Ok(())
    }

    /// Matching events, newest first.
    pub async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let mut conditions = vec!["at >= $since"];
        if query.user.is_some() {
            conditions.push("(actor = $user OR target = $user)");
        }
        let sql = format!(
            "SELECT at, seq, actor, ip, action, target, outcome FROM audit WHERE {} \
             ORDER BY at DESC, seq DESC LIMIT $limit START $offset",
            conditions.join(" AND ")
        );
        self.rows(
            sql,
            Params::new()
                .with("since", query.since.unwrap_or(0))
                .with("user", query.user.clone().unwrap_or_default())
                .with("limit", i64::from(query.limit.clamp(1, 10_000)))
                .with("offset", i64::from(query.offset)),
            0,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: i64, seq: i64, actor: &str, action: &str) -> AuditRecord {
        AuditRecord {
            at,
            seq,
            actor: Some(actor.into()),
            ip: None,
            action: action.into(),
            target: None,
            outcome: "success".into(),
        }
    }

    #[tokio::test]
    async fn events_come_back_newest_first_and_filtered() {
        let store = Store::open("mem://", "fin", "fin").await.expect("open");
        store
            .append_audit(&event(10, 1, "alice", "login"))
            .await
            .expect("append");
        store
            .append_audit(&event(20, 2, "bob", "login"))
            .await
            .expect("append");
        store
            .append_audit(&event(20, 3, "alice", "logout"))
            .await
            .expect("append");
        let all = store
            .audit(&AuditQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .expect("query");
        let actions: Vec<(i64, &str)> = all.iter().map(|e| (e.seq, e.action.as_str())).collect();
        assert_eq!(actions, [(3, "logout"), (2, "login"), (1, "login")]);
        let alice = store
            .audit(&AuditQuery {
                user: Some("alice".into()),
                since: Some(15),
                limit: 10,
                offset: 0,
            })
            .await
            .expect("query");
        assert_eq!(alice.len(), 1);
        assert_eq!(alice[0].action, "logout");
        let second_page = store
            .audit(&AuditQuery {
                limit: 2,
                offset: 2,
                ..Default::default()
            })
            .await
            .expect("query");
        assert_eq!(second_page.len(), 1);
        assert_eq!(second_page[0].seq, 1);
    }
}
