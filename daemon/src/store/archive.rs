//! The database's side of backups: a consistent export as it streams,
//! with the records of every table counted on the way, and an import into
//! a fresh database (see `live.rs`).
//!
//! The export is SurrealDB's own: one read transaction, so it is one point
//! in time while writes go on, and SurrealQL that recreates the schema and
//! the records. It comes as one statement per message.

use std::collections::BTreeMap;
use std::path::Path;

use futures_util::StreamExt;
use surrealdb::method::Backup;

use super::{Store, StoreError};

/// An export on its way: [`Export::next_part`] until `None`, then [`Export::counts`].
pub struct Export {
    stream: Backup,
    table: Option<String>,
    counts: BTreeMap<String, u64>,
}

impl Export {
    /// The next piece of SurrealQL, counted.
    pub async fn next_part(&mut self) -> Option<Result<Vec<u8>, StoreError>> {
        match self.stream.next().await? {
            Ok(bytes) => {
                self.observe(&bytes);
                Some(Ok(bytes))
            }
            Err(e) => Some(Err(e.into())),
        }
    }

    /// The records of every table the export held (a table with none: 0).
    pub fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    fn observe(&mut self, statement: &[u8]) {
        let text = String::from_utf8_lossy(statement);
        if let Some(name) = text.strip_prefix("-- TABLE DATA: ") {
            let name = name.trim().to_string();
            self.counts.entry(name.clone()).or_insert(0);
            self.table = Some(name);
        } else if text.starts_with("-- TABLE: ") {
            self.table = None;
        } else if text.starts_with("INSERT ")
            && let Some(table) = &self.table
        {
            *self.counts.entry(table.clone()).or_insert(0) += records_in(&text);
        }
    }
}

/// The records of one `INSERT [ {...}, {...} ];` as SurrealDB's export
/// writes it: the objects at the top level of its array. Strings, quoted
/// names and record ids are skipped whole, so braces inside them (a payee
/// named `{x}`) do not count.
pub(super) fn records_in(statement: &str) -> u64 {
    let mut depth = 0u32;
    let mut records = 0;
    let mut quote: Option<char> = None;
    let mut chars = statement.chars();
    while let Some(c) = chars.next() {
        if let Some(close) = quote {
            if c == '\\' {
                chars.next();
            } else if c == close {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '⟨' => quote = Some('⟩'),
            '[' | '{' | '(' => {
                if c == '{' && depth == 1 {
                    records += 1;
                }
                depth += 1;
            }
            ']' | '}' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    records
}

impl Store {
    /// Starts a consistent export of the live database.
    pub async fn export(&self) -> Result<Export, StoreError> {
        let stream = self.db().export(()).await?;
        Ok(Export {
            stream,
            table: None,
            counts: BTreeMap::new(),
        })
    }

    /// Runs an export file (SurrealQL) against this database: for a fresh
    /// one from [`Store::fresh`], never the live one.
    pub async fn load_export(&self, path: &Path) -> Result<(), StoreError> {
        self.db().import(path).await?;
        Ok(())
    }

    /// The records of every table of the database.
    pub async fn table_counts(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let info: Option<serde_json::Value> = self
            .run("INFO FOR DB", super::Params::new())
            .await?
            .take(0)?;
        let tables: Vec<String> = info
            .as_ref()
            .and_then(|i| i.get("tables"))
            .and_then(serde_json::Value::as_object)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        let mut counts = BTreeMap::new();
        for table in tables {
            let rows: Vec<serde_json::Value> = self
                .rows(
                    "SELECT count() AS n FROM type::table($table) GROUP ALL",
                    super::Params::new().with("table", table.clone()),
                    0,
                )
                .await?;
            counts.insert(table, super::count_of(&rows));
        }
        Ok(counts)
    }
}
