//! Books and their members: creating, sharing (editor or viewer),
//! transferring and deleting a book.

use serde::Deserialize;

use super::{Ledger, actor};
use crate::domain::ledger::{self, BookRole, Need};
use crate::service::ServiceError;
use crate::service::auth::sessions::Principal;
use crate::service::users::normal_name;
use crate::store::{BookRecord, MemberRecord};
use crate::support::unix_now;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBook {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// ISO 4217 code new accounts get unless they name their own.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookPatch {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

impl Ledger {
    pub async fn create_book(
        &self,
        principal: &Principal,
        book: NewBook,
    ) -> Result<BookRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        let name = ledger::name("name", &book.name)?;
        let currency = ledger::currency("currency", &book.currency)?;
        let bid = crate::service::new_id()?;
        Ok(self
            .store
            .create_book(actor, &bid, &name, &currency, unix_now())
            .await?)
    }

    pub async fn books(&self, principal: &Principal) -> Result<Vec<BookRecord>, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        Ok(self.store.books_of(actor).await?)
    }

    pub async fn book(&self, principal: &Principal, bid: &str) -> Result<BookRecord, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        Ok(self.store.book(actor, bid).await?)
    }

    pub async fn update_book(
        &self,
        principal: &Principal,
        bid: &str,
        patch: BookPatch,
    ) -> Result<BookRecord, ServiceError> {
        let actor = actor(principal, Need::Own)?;
        let name = patch.name.map(|n| ledger::name("name", &n)).transpose()?;
        let currency = patch
            .currency
            .map(|c| ledger::currency("currency", &c))
            .transpose()?;
        Ok(self
            .store
            .update_book(actor, bid, name, currency, unix_now())
            .await?)
    }

    pub async fn delete_book(&self, principal: &Principal, bid: &str) -> Result<(), ServiceError> {
        let actor = actor(principal, Need::Own)?;
        Ok(self.store.delete_book(actor, bid).await?)
    }

    pub async fn members(
        &self,
        principal: &Principal,
        bid: &str,
    ) -> Result<Vec<MemberRecord>, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        Ok(self.store.members(actor, bid).await?)
    }

    /// Shares the book with `username` as `role` (`editor` or `viewer`), or
    /// changes their role. A guest account can only be a viewer.
    pub async fn set_member(
        &self,
        principal: &Principal,
        bid: &str,
        username: &str,
        role: &str,
    ) -> Result<MemberRecord, ServiceError> {
        let actor = actor(principal, Need::Own)?;
        let role = match BookRole::parse(role) {
            Some(role @ (BookRole::Editor | BookRole::Viewer)) => role,
            _ => {
                return Err(ServiceError::Invalid(
                    "role must be editor or viewer (the owner is changed by transferring the book)"
                        .into(),
                ));
            }
        };
        // Only the owner may look users up through a book.
        self.store.book_role(actor, bid).await.and_then(|role| {
            if role == "owner" {
                Ok(())
            } else {
                Err(crate::store::StoreError::Denied)
            }
        })?;
        let member = self.user_named(username).await?;
        if member.role == "guest" && role != BookRole::Viewer {
            return Err(ServiceError::Invalid(format!(
                "{} is a guest account: guests can only be viewers",
                member.username
            )));
        }
        Ok(self
            .store
            .set_member(actor, bid, &member.uid, role.as_str(), unix_now())
            .await?)
    }

    /// Removes `username` from the book: the owner removes anyone else, and
    /// any member may leave.
    pub async fn remove_member(
        &self,
        principal: &Principal,
        bid: &str,
        username: &str,
    ) -> Result<(), ServiceError> {
        let leaving = normal_name(username).is_ok_and(|n| n == principal.username);
        let need = if leaving { Need::Read } else { Need::Own };
        let actor = actor(principal, need)?;
        let uid = if leaving {
            actor.to_string()
        } else {
            // The owner's check comes first: nobody else learns through a
            // book which user names exist.
            if self.store.book_role(actor, bid).await? != "owner" {
                return Err(crate::store::StoreError::Denied.into());
            }
            match self.user_named(username).await {
                Ok(user) => user.uid,
                Err(ServiceError::NotFound(_)) => return Err(no_member(username)),
                Err(e) => return Err(e),
            }
        };
        if self.store.remove_member(actor, bid, &uid, need).await? {
            Ok(())
        } else {
            Err(no_member(username))
        }
    }

    /// Makes `username` the owner; the old owner stays on as an editor.
    pub async fn transfer_book(
        &self,
        principal: &Principal,
        bid: &str,
        username: &str,
    ) -> Result<BookRecord, ServiceError> {
        let actor = actor(principal, Need::Own)?;
        if self.store.book_role(actor, bid).await? != "owner" {
            return Err(crate::store::StoreError::Denied.into());
        }
        let heir = self.user_named(username).await?;
        if heir.role == "guest" {
            return Err(ServiceError::Invalid(format!(
                "{} is a guest account and cannot own a book",
                heir.username
            )));
        }
        if heir.uid != actor {
            self.store
                .transfer_book(actor, bid, &heir.uid, unix_now())
                .await?;
        }
        Ok(self.store.book(actor, bid).await?)
    }

    async fn user_named(&self, username: &str) -> Result<crate::store::UserRecord, ServiceError> {
        let name = normal_name(username)?;
        self.store
            .user_by_username(&name)
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(|| ServiceError::NotFound(format!("no user {username:?}")))
    }
}

fn no_member(username: &str) -> ServiceError {
    ServiceError::NotFound(format!("{username:?} is not a member of this book"))
}
