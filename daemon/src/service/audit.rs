//! The audit trail: security events stored in the database for admins, and
//! logged (target `fin::audit`) as they happen.

use std::sync::atomic::{AtomicI64, Ordering};

use fin_proto::api::AuditEntry;

use super::ServiceError;
pub use crate::store::AuditQuery;
use crate::store::{AuditRecord, Store};
use crate::support::unix_now;

/// One event to record.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    pub actor: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub action: &'static str,
    pub target: Option<&'a str>,
    pub success: bool,
}

pub struct Audit {
    store: Store,
    /// Orders events within a second; starts from the clock so it keeps
    /// growing across restarts.
    seq: AtomicI64,
}

impl Audit {
    pub fn new(store: Store) -> Self {
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        Audit {
            store,
            seq: AtomicI64::new(start),
        }
    }

    /// Stores the event; a storage failure is logged, never hidden.
    pub async fn record(&self, event: Event<'_>) {
        let outcome = if event.success { "success" } else { "failure" };
        tracing::info!(
            target: "fin::audit",
            action = event.action,
            actor = event.actor.unwrap_or("-"),
            target_user = event.target.unwrap_or("-"),
            ip = event.ip.unwrap_or("-"),
            outcome,
            "audit"
        );
        let record = AuditRecord {
            at: unix_now(),
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            actor: event.actor.map(String::from),
            ip: event.ip.map(String::from),
            action: event.action.to_string(),
            target: event.target.map(String::from),
            outcome: outcome.to_string(),
        };
        if let Err(e) = self.store.append_audit(&record).await {
            tracing::error!(error = %e, action = event.action, "cannot store an audit event");
        }
    }

    /// Matching events, newest first; `offset` pages through older ones.
    pub async fn list(&self, query: AuditQuery) -> Result<Vec<AuditEntry>, ServiceError> {
        let records = self.store.audit(&query).await?;
        Ok(records
            .into_iter()
            .map(|r| AuditEntry {
                at: r.at,
                actor: r.actor,
                ip: r.ip,
                action: r.action,
                target: r.target,
                outcome: r.outcome,
            })
            .collect())
    }
}
