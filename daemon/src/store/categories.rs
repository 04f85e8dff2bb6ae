//! Categories of a book, two levels deep: a top-level category (`parent`
//! empty) may have subcategories; a subcategory has none.

use surrealdb::types::SurrealValue;

use super::guard::{MISSING, REFUSED};
use super::query::Params;
use super::{Store, StoreError};
use crate::domain::ledger::Need;

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct CategoryRecord {
    pub cid: String,
    pub name: String,
    /// The parent's id, or empty at the top level.
    pub parent: String,
    pub created_at: i64,
}

const FIELDS: &str = "cid, name, parent, created_at";

/// Stops unless `$parent` is empty or a top-level category of the book.
fn parent_check() -> String {
    format!(
        "IF $parent != '' AND (SELECT VALUE parent FROM category WHERE bid = $book AND cid = $parent LIMIT 1)[0] != '' \
         {{ THROW \"{MISSING}: top-level category to be the parent\" }};"
    )
}

impl Store {
    pub async fn create_category(
        &self,
        actor: &str,
        bid: &str,
        category: &CategoryRecord,
    ) -> Result<CategoryRecord, StoreError> {
        let mut rows: Vec<CategoryRecord> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                &format!("category {:?}", category.name),
                &format!(
                    "{check}\n\
                     CREATE category SET cid = $cid, bid = $book, name = $name, parent = $parent, created_at = $now;\n\
                     SELECT {FIELDS} FROM category WHERE cid = $cid;",
                    check = parent_check()
                ),
                Params::new()
                    .with("cid", category.cid.clone())
                    .with("name", category.name.clone())
                    .with("parent", category.parent.clone())
                    .with("now", category.created_at),
            )
            .await?;
        rows.pop()
            .ok_or_else(|| StoreError::Query("the new category was not found".into()))
    }

    pub async fn categories(
        &self,
        actor: &str,
        bid: &str,
    ) -> Result<Vec<CategoryRecord>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Read,
            "category",
            &format!("SELECT {FIELDS} FROM category WHERE bid = $book ORDER BY parent, name;"),
            Params::new(),
        )
        .await
    }

    /// Renames a category; `None` when the book has no such category.
    pub async fn rename_category(
        &self,
        actor: &str,
        bid: &str,
        cid: &str,
        name: &str,
    ) -> Result<Option<CategoryRecord>, StoreError> {
        let mut rows: Vec<CategoryRecord> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                &format!("category {name:?}"),
                &format!(
                    "UPDATE category SET name = $name WHERE bid = $book AND cid = $cid;\n\
                     SELECT {FIELDS} FROM category WHERE bid = $book AND cid = $cid;"
                ),
                Params::new()
                    .with("cid", cid.to_string())
                    .with("name", name.to_string()),
            )
            .await?;
        Ok(rows.pop())
    }

    /// Deletes a category without subcategories; transactions in it become
    /// uncategorised. A split part in it stops the deletion: a split's
    /// parts must keep adding up to something the user chose.
    pub async fn delete_category(
        &self,
        actor: &str,
        bid: &str,
        cid: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let deleted: Vec<serde_json::Value> = self
            .guarded(
                actor,
                bid,
                Need::Write,
                "category",
                &format!(
                    "IF array::len((SELECT VALUE cid FROM category WHERE bid = $book AND parent = $cid LIMIT 1)) > 0 \
                     {{ THROW \"{REFUSED}: the category has subcategories; delete them first\" }};\n\
                     IF array::len((SELECT VALUE tid FROM txn WHERE bid = $book AND $cid IN splits.*.cid LIMIT 1)) > 0 \
                     {{ THROW \"{REFUSED}: split transactions use the category; change their parts first\" }};\n\
                     UPDATE txn SET cid = NONE, rev = rev + 1, updated_at = $now WHERE bid = $book AND cid = $cid;\n\
                     UPDATE rule SET set_cid = NONE, updated_at = $now WHERE bid = $book AND set_cid = $cid;\n\
                     DELETE budget WHERE bid = $book AND cid = $cid;\n\
                     DELETE category WHERE bid = $book AND cid = $cid RETURN BEFORE;"
                ),
                Params::new()
                    .with("cid", cid.to_string())
                    .with("now", now),
            )
            .await?;
        Ok(!deleted.is_empty())
    }
}
