//! Numbered schema migrations, applied in order at start. The applied version
//! is recorded in the database; a database newer than this build is refused.

use surrealdb::Surreal;
use surrealdb::engine::any::Any;

use super::StoreError;

struct Migration {
    version: u32,
    name: &'static str,
    sql: &'static str,
}

/// Append only: a released migration is never edited, a change is a new one.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "schema bookkeeping",
        sql: include_str!("migrations/0001_schema_bookkeeping.surql"),
    },
    Migration {
        version: 2,
        name: "users",
        sql: include_str!("migrations/0002_users.surql"),
    },
    Migration {
        version: 3,
        name: "sessions",
        sql: include_str!("migrations/0003_sessions.surql"),
    },
    Migration {
        version: 4,
        name: "audit trail",
        sql: include_str!("migrations/0004_audit.surql"),
    },
    Migration {
        version: 5,
        name: "API keys",
        sql: include_str!("migrations/0005_api_keys.surql"),
    },
    Migration {
        version: 6,
        name: "invites",
        sql: include_str!("migrations/0006_invites.surql"),
    },
    Migration {
        version: 7,
        name: "receipts and OCR jobs",
        sql: include_str!("migrations/0007_receipts.surql"),
    },
    Migration {
        version: 8,
        name: "receipt images index",
        sql: include_str!("migrations/0008_receipt_images.surql"),
    },
    Migration {
        version: 9,
        name: "OCR job retries",
        sql: include_str!("migrations/0009_job_retries.surql"),
    },
    Migration {
        version: 10,
        name: "ledger: books, members, accounts, categories, transactions",
        sql: include_str!("migrations/0010_ledger.surql"),
    },
    Migration {
        version: 11,
        name: "bank statement imports",
        sql: include_str!("migrations/0011_imports.surql"),
    },
    Migration {
        version: 12,
        name: "ledger rules and budgets",
        sql: include_str!("migrations/0012_rules_budgets.surql"),
    },
    Migration {
        version: 13,
        name: "receipts matched to bank lines",
        sql: include_str!("migrations/0013_receipt_matches.surql"),
    },
    Migration {
        version: 14,
        name: "CSV presets per book",
        sql: include_str!("migrations/0014_book_presets.surql"),
    },
    Migration {
        version: 15,
        name: "monthly sums for reports",
        sql: include_str!("migrations/0015_report_months.surql"),
    },
    Migration {
        version: 16,
        name: "transactions paged by date and id",
        sql: include_str!("migrations/0016_txn_page_order.surql"),
    },
];

/// A migration not yet applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub version: u32,
    pub name: &'static str,
}

/// The migrations past `applied`, in order.
pub(super) fn pending(applied: u32) -> Vec<Pending> {
    MIGRATIONS
        .iter()
        .filter(|m| m.version > applied)
        .map(|m| Pending {
            version: m.version,
            name: m.name,
        })
        .collect()
}

/// The newest schema this build knows.
pub const LATEST_SCHEMA: u32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

pub(super) async fn applied_version(db: &Surreal<Any>) -> Result<u32, StoreError> {
    let mut response = db
        .query("SELECT VALUE version FROM schema_migration")
        .await?;
    let versions: Vec<i64> = match response.take(0) {
        Ok(versions) => versions,
        // A brand-new database has no bookkeeping table yet.
        Err(e) if e.to_string().contains("does not exist") => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    Ok(versions
        .into_iter()
        .max()
        .unwrap_or(0)
        .clamp(0, i64::from(u32::MAX)) as u32)
}

pub(super) async fn apply(db: &Surreal<Any>) -> Result<(), StoreError> {
    apply_up_to(db, LATEST_SCHEMA).await
}

/// Applies the migrations up to and including `last` (tests make data of
/// an older schema with it).
pub(super) async fn apply_up_to(db: &Surreal<Any>, last: u32) -> Result<(), StoreError> {
    let applied = applied_version(db).await?;
    if applied > LATEST_SCHEMA {
        return Err(StoreError::SchemaTooNew {
            applied,
            latest: LATEST_SCHEMA,
        });
    }
    run(db, MIGRATIONS, applied, last).await
}

/// Runs the migrations of `list` past `applied`, up to `last`, in order.
async fn run(
    db: &Surreal<Any>,
    list: &[Migration],
    applied: u32,
    last: u32,
) -> Result<(), StoreError> {
    for m in list
        .iter()
        .filter(|m| m.version > applied && m.version <= last)
    {
        // The migration and its bookkeeping record commit together; the fixed
        // record id makes a second daemon racing on the same database fail
        // instead of applying the migration twice.
        let sql = format!(
            "BEGIN TRANSACTION;\n{}\nCREATE schema_migration:{} SET version = $version, name = $name, applied_at = time::now();\nCOMMIT TRANSACTION;",
            m.sql, m.version
        );
        db.query(sql)
            .bind(("version", i64::from(m.version)))
            .bind(("name", m.name))
            .await
            .and_then(|r| r.check())
            .map_err(|e| StoreError::Migration {
                version: m.version,
                name: m.name,
                reason: e.to_string(),
            })?;
        tracing::info!(
            version = m.version,
            name = m.name,
            "applied schema migration"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_migration_that_fails_midway_leaves_the_version_before_it_and_its_data() {
        let store = crate::store::Store::open("mem://", "fin", "fin")
            .await
            .expect("open");
        let db = store.db();
        let next = LATEST_SCHEMA + 1;
        let later = [
            Migration {
                version: next,
                name: "a good one",
                sql: "DEFINE TABLE probe SCHEMALESS; CREATE probe:one SET n = 1;",
            },
            Migration {
                version: next + 1,
                name: "one that fails halfway",
                sql: "UPDATE probe SET n = 2; CREATE probe:two SET n = 2; THROW 'broken';",
            },
        ];
        let err = run(&db, &later, LATEST_SCHEMA, next + 1)
            .await
            .expect_err("the second fails");
        assert!(
            matches!(err, StoreError::Migration { version, .. } if version == next + 1),
            "{err}"
        );
        assert_eq!(applied_version(&db).await.expect("version"), next);
        let mut rows = db
            .query("SELECT VALUE n FROM probe ORDER BY n")
            .await
            .expect("query");
        let values: Vec<i64> = rows.take(0).expect("rows");
        assert_eq!(values, vec![1], "nothing of the failed migration stayed");
        store.ping().await.expect("still usable");
    }
}
