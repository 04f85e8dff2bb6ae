//! Categories, two levels deep.

use serde::Deserialize;

use super::{Ledger, actor, not_found};
use crate::domain::ledger::{self, Need};
use crate::service::ServiceError;
use crate::service::auth::sessions::Principal;
use crate::store::CategoryRecord;
use crate::support::unix_now;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// The id of a top-level category, to make this one its subcategory.
    #[schema(min_length = 1, max_length = 64)]
    pub parent: Option<String>,
}

impl Ledger {
    pub async fn create_category(
        &self,
        principal: &Principal,
        bid: &str,
        category: NewCategory,
    ) -> Result<CategoryRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        if category.parent.as_deref() == Some("") {
            return Err(ServiceError::Invalid(
                "parent must be a category id; leave it out for a top-level category".into(),
            ));
        }
        let record = CategoryRecord {
            cid: crate::service::new_id()?,
            name: ledger::name("name", &category.name)?,
            parent: category.parent.unwrap_or_default(),
            created_at: unix_now(),
        };
        Ok(self.store.create_category(actor, bid, &record).await?)
    }

    pub async fn categories(
        &self,
        principal: &Principal,
        bid: &str,
    ) -> Result<Vec<CategoryRecord>, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        Ok(self.store.categories(actor, bid).await?)
    }

    pub async fn rename_category(
        &self,
        principal: &Principal,
        bid: &str,
        cid: &str,
        name: &str,
    ) -> Result<CategoryRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        let name = ledger::name("name", name)?;
        self.store
            .rename_category(actor, bid, cid, &name)
            .await?
            .ok_or_else(|| not_found("category"))
    }

    pub async fn delete_category(
        &self,
        principal: &Principal,
        bid: &str,
        cid: &str,
    ) -> Result<(), ServiceError> {
        let actor = actor(principal, Need::Write)?;
        if self
            .store
            .delete_category(actor, bid, cid, unix_now())
            .await?
        {
            Ok(())
        } else {
            Err(not_found("category"))
        }
    }
}
