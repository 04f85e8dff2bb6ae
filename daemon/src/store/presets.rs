//! CSV presets a book keeps for its members' banks, as TOML.

use surrealdb::types::SurrealValue;

use super::guard::REFUSED;
use super::query::Params;
use super::{Store, StoreError};
use crate::domain::ledger::Need;

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct PresetRecord {
    pub name: String,
    pub toml: String,
    pub created_by: String,
    pub created_at: i64,
}

/// Presets one book keeps.
pub const MAX_BOOK_PRESETS: usize = 100;

const FIELDS: &str = "name, toml, created_by, created_at";

impl Store {
    pub async fn create_preset(
        &self,
        actor: &str,
        bid: &str,
        preset: &PresetRecord,
    ) -> Result<PresetRecord, StoreError> {
        let mut rows: Vec<PresetRecord> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                &format!("preset {:?}", preset.name),
                &format!(
                    "IF array::len((SELECT VALUE name FROM csv_preset WHERE bid = $book)) >= {MAX_BOOK_PRESETS} \
                     {{ THROW \"{REFUSED}: a book keeps at most {MAX_BOOK_PRESETS} presets\" }};\n\
                     CREATE csv_preset SET bid = $book, name = $name, toml = $toml, created_by = $actor, created_at = $now;\n\
                     SELECT {FIELDS} FROM csv_preset WHERE bid = $book AND name = $name;"
                ),
                Params::new()
                    .with("name", preset.name.clone())
                    .with("toml", preset.toml.clone())
                    .with("now", preset.created_at),
            )
            .await?;
        rows.pop()
            .ok_or_else(|| StoreError::Query("the new preset was not found".into()))
    }

    pub async fn presets(&self, actor: &str, bid: &str) -> Result<Vec<PresetRecord>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Read,
            "preset",
            &format!("SELECT {FIELDS} FROM csv_preset WHERE bid = $book ORDER BY name;"),
            Params::new(),
        )
        .await
    }

    pub async fn delete_preset(
        &self,
        actor: &str,
        bid: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let deleted: Vec<serde_json::Value> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "preset",
                "DELETE csv_preset WHERE bid = $book AND name = $name RETURN BEFORE;",
                Params::new().with("name", name.to_string()),
            )
            .await?;
        Ok(!deleted.is_empty())
    }
}
