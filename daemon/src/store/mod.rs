//! Persistence in SurrealDB (embedded surrealkv by default, `mem://` in
//! tests, `ws://`/`wss://` for a remote server). Only this module knows
//! SurrealDB; every query binds its parameters.

mod accounts;
mod api_keys;
mod archive;
mod audit;
mod books;
mod budgets;
mod categories;
mod guard;
mod imports;
mod invites;
mod jobs;
mod live;
mod matches;
mod migrations;
mod presets;
mod query;
mod receipts;
mod reports;
mod rules;
mod sessions;
mod transactions;
mod users;

use surrealdb::Surreal;

use query::Params;
use surrealdb::engine::any::{self, Any};

pub use accounts::{AccountChange, AccountRecord};
pub use api_keys::ApiKeyRecord;
pub use archive::Export;
pub use audit::{AuditQuery, AuditRecord};
pub use books::{BookRecord, MemberRecord};
pub use budgets::BudgetRecord;
pub use categories::CategoryRecord;
pub use imports::{Existing, ImportRecord};
pub use jobs::{JobOutcome, JobRecord};
pub use matches::MatchRecord;
pub use migrations::{LATEST_SCHEMA, Pending};

/// The migrations a database at schema `applied` still needs.
pub fn pending_after(applied: u32) -> Vec<Pending> {
    migrations::pending(applied)
}
pub use presets::PresetRecord;
pub use receipts::ReceiptRecord;
pub use reports::{AccountTotal, CategorySums, MonthTotal, ReportRow};
pub use rules::{RuleChange, RuleRecord};
pub use sessions::SessionRecord;
pub use transactions::{SplitRecord, TxnChange, TxnFilter, TxnRecord};
pub use users::{NewUser, UserChange, UserRecord};

/// A connection to the database, with the schema migrated to [`LATEST_SCHEMA`].
/// Clones share the live database: a restore switches them all at once
/// (see `live.rs`).
#[derive(Clone)]
pub struct Store {
    live: std::sync::Arc<live::Live>,
    url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database at {url} is in use by another process (is another fin running with the same paths.state_dir?)"
    )]
    Locked { url: String },
    #[error("cannot open the database at {url}: {reason}")]
    Open { url: String, reason: String },
    #[error(
        "the database schema is version {applied}, newer than this fin knows ({latest}): \
         install the newer fin again, or restore a backup taken before the upgrade"
    )]
    SchemaTooNew { applied: u32, latest: u32 },
    #[error("schema migration {version} ({name}) failed: {reason}")]
    Migration {
        version: u32,
        name: &'static str,
        reason: String,
    },
    #[error("{0} already exists")]
    Conflict(String),
    /// No such book, or the caller is not one of its members: the same
    /// answer, so that ids reveal nothing.
    #[error("no such book")]
    NoBook,
    /// A member whose role does not allow the call.
    #[error("your role in this book does not allow this")]
    Denied,
    /// A record the call refers to is not in the book (e.g. `account abc`).
    #[error("no {0} in this book")]
    Missing(String),
    /// The book's state does not allow the change; the text says why.
    #[error("{0}")]
    Refused(String),
    #[error("database error: {0}")]
    Query(String),
}

/// Waits before retry `round` (from 0) of a transaction that conflicted:
/// longer each round, and spread, so a burst stops colliding.
async fn back_off(round: u64) {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    let pause = (2u64 << round.min(5)) + u64::from(byte[0] % 8);
    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
}

impl From<surrealdb::Error> for StoreError {
    fn from(e: surrealdb::Error) -> Self {
        StoreError::Query(e.to_string())
    }
}

impl Store {
    /// Connects, selects the namespace and database, and applies pending migrations.
    pub async fn open(url: &str, namespace: &str, database: &str) -> Result<Store, StoreError> {
        let store = Store::connect(url, namespace, database).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects and selects the live database without migrating it, for a
    /// start that first looks at what is pending (and takes a backup).
    /// A database newer than this build is refused here already.
    pub async fn connect(url: &str, namespace: &str, database: &str) -> Result<Store, StoreError> {
        let store = Store::connect_any(url, namespace, database).await?;
        let applied = store.schema_version().await?;
        if applied > LATEST_SCHEMA {
            return Err(StoreError::SchemaTooNew {
                applied,
                latest: LATEST_SCHEMA,
            });
        }
        Ok(store)
    }

    /// Connects whatever the schema's version, even one newer than this
    /// build: for a restore that replaces it (rolling an upgrade back).
    pub async fn connect_any(
        url: &str,
        namespace: &str,
        database: &str,
    ) -> Result<Store, StoreError> {
        let shown = redact(url);
        if let Some(dir) = url.strip_prefix("surrealkv://") {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                url: shown.clone(),
                reason: e.to_string(),
            })?;
        }
        let db = any::connect(url)
            .await
            .map_err(|e| classify_open_error(&shown, e))?;
        let live = live::Live::open(db, namespace, database)
            .await
            .map_err(|e| classify_open_error(&shown, e))?;
        Ok(Store {
            live: std::sync::Arc::new(live),
            url: shown,
        })
    }

    /// A database migrated only up to `version`: data of an older fin.
    #[cfg(test)]
    pub(crate) async fn open_at_schema(version: u32) -> Store {
        let store = Store::connect("mem://", "fin", "fin")
            .await
            .expect("connect");
        migrations::apply_up_to(&store.db(), version)
            .await
            .expect("migrations");
        store
    }

    /// Applies the pending migrations, each in its own transaction: one
    /// that fails leaves the data at the version before it.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrations::apply(&self.db()).await
    }

    /// The migrations this build would apply.
    pub async fn pending_migrations(&self) -> Result<Vec<Pending>, StoreError> {
        Ok(migrations::pending(self.schema_version().await?))
    }

    /// The live database's connection (one session, shared by every clone
    /// until a restore switches it).
    fn db(&self) -> std::sync::Arc<Surreal<Any>> {
        self.live.current()
    }

    /// The URL with any credentials removed, safe to show and log.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A round trip to the database.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run("RETURN 1", Params::new()).await?;
        Ok(())
    }

    /// The schema version recorded in the database.
    pub async fn schema_version(&self) -> Result<u32, StoreError> {
        migrations::applied_version(&self.db()).await
    }
}

/// The `n` of a `SELECT count() AS n ... GROUP ALL` statement's rows (no rows: 0).
fn count_of(rows: &[serde_json::Value]) -> u64 {
    rows.first()
        .and_then(|row| row.get("n"))
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

fn classify_open_error(url: &str, e: surrealdb::Error) -> StoreError {
    let reason = e.to_string();
    let lower = reason.to_lowercase();
    if lower.contains("lock")
        && (lower.contains("held") || lower.contains("acquire") || lower.contains("already"))
    {
        StoreError::Locked {
            url: url.to_string(),
        }
    } else {
        StoreError::Open {
            url: url.to_string(),
            reason,
        }
    }
}

/// Drops `user:password@` from a URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod jobs_tests;

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod archive_tests;
#[cfg(test)]
mod imports_tests;
#[cfg(test)]
mod ledger_tests;
#[cfg(test)]
mod reports_tests;
#[cfg(test)]
mod rules_tests;
