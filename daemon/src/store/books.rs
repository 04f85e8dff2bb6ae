//! Books and their members. A book's owner is a member with role `owner`;
//! every call goes through the guard (`guard.rs`) with the caller's id.

use surrealdb::types::SurrealValue;

use super::query::Params;
use super::{Store, StoreError};
use crate::domain::ledger::Need;

/// A book as one member sees it: with their role.
#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct BookRecord {
    pub bid: String,
    pub name: String,
    pub currency: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The caller's role in the book.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct MemberRecord {
    pub uid: String,
    /// None when the user is gone (never kept: deleting a user removes their memberships).
    pub username: Option<String>,
    pub role: String,
    pub added_at: i64,
}

const BOOK_FIELDS: &str = "bid, name, currency, created_at, updated_at, \
     (SELECT VALUE role FROM book_member WHERE bid = $parent.bid AND uid = $actor LIMIT 1)[0] AS role";

const MEMBER_FIELDS: &str = "uid, role, added_at, \
     (SELECT VALUE username FROM user WHERE uid = $parent.uid LIMIT 1)[0] AS username";

impl Store {
    /// Creates a book owned by `actor`.
    pub async fn create_book(
        &self,
        actor: &str,
        bid: &str,
        name: &str,
        currency: &str,
        now: i64,
    ) -> Result<BookRecord, StoreError> {
        let mut response = self
            .run(
                format!(
                    "BEGIN TRANSACTION;\n\
                     CREATE book SET bid = $bid, name = $name, currency = $currency, created_at = $now, updated_at = $now;\n\
                     CREATE book_member SET bid = $bid, uid = $actor, role = 'owner', added_at = $now;\n\
                     COMMIT TRANSACTION;\n\
                     SELECT {BOOK_FIELDS} FROM book WHERE bid = $bid;"
                ),
                Params::new()
                    .with("actor", actor.to_string())
                    .with("bid", bid.to_string())
                    .with("name", name.to_string())
                    .with("currency", currency.to_string())
                    .with("now", now),
            )
            .await?;
        let last = response.num_statements().saturating_sub(1);
        let mut books: Vec<BookRecord> = response.take(last)?;
        books
            .pop()
            .ok_or_else(|| StoreError::Query("the new book was not found".into()))
    }

    /// The books `actor` is a member of, by name.
    pub async fn books_of(&self, actor: &str) -> Result<Vec<BookRecord>, StoreError> {
        self.rows(
            format!(
                "SELECT {BOOK_FIELDS} FROM book \
                 WHERE bid IN (SELECT VALUE bid FROM book_member WHERE uid = $actor) \
                 ORDER BY name, bid"
            ),
            Params::new().with("actor", actor.to_string()),
            0,
        )
        .await
    }

    pub async fn book(&self, actor: &str, bid: &str) -> Result<BookRecord, StoreError> {
        let books: Vec<BookRecord> = self
            .guarded(
                actor,
                bid,
                Need::Read,
                "book",
                &format!("SELECT {BOOK_FIELDS} FROM book WHERE bid = $book;"),
                Params::new(),
            )
            .await?;
        books.into_iter().next().ok_or(StoreError::NoBook)
    }

    /// Renames a book or changes the currency new accounts get: the owner only.
    pub async fn update_book(
        &self,
        actor: &str,
        bid: &str,
        name: Option<String>,
        currency: Option<String>,
        now: i64,
    ) -> Result<BookRecord, StoreError> {
        let books: Vec<BookRecord> = self
            .guarded(
                actor,
                bid,
                Need::Own,
                "book",
                &format!(
                    "UPDATE book SET name = $name ?? name, currency = $currency ?? currency, updated_at = $now WHERE bid = $book;\n\
                     SELECT {BOOK_FIELDS} FROM book WHERE bid = $book;"
                ),
                Params::new()
                    .with("name", name)
                    .with("currency", currency)
                    .with("now", now),
            )
            .await?;
        books.into_iter().next().ok_or(StoreError::NoBook)
    }

    /// Deletes a book with everything in it: the owner only.
    pub async fn delete_book(&self, actor: &str, bid: &str) -> Result<(), StoreError> {
        self.guarded::<serde_json::Value>(
            actor,
            bid,
            Need::Own,
            "book",
            DELETE_BOOK_CONTENT,
            Params::new(),
        )
        .await?;
        Ok(())
    }

    pub async fn members(&self, actor: &str, bid: &str) -> Result<Vec<MemberRecord>, StoreError> {
        self.guarded(
            actor,
            bid,
            Need::Read,
            "member",
            &format!(
                "SELECT {MEMBER_FIELDS} FROM book_member WHERE bid = $book ORDER BY added_at, uid;"
            ),
            Params::new(),
        )
        .await
    }

    /// Adds `member` as `role` (editor or viewer) or changes their role: the
    /// owner only, and never the owner's own row (ownership is transferred).
    pub async fn set_member(
        &self,
        actor: &str,
        bid: &str,
        member: &str,
        role: &str,
        now: i64,
    ) -> Result<MemberRecord, StoreError> {
        let mut members: Vec<MemberRecord> = self
            .guarded(
                actor,
                bid,
                Need::Own,
                "member",
                &format!(
                    "LET $had = (SELECT VALUE role FROM book_member WHERE bid = $book AND uid = $member LIMIT 1)[0];\n\
                     IF $had = 'owner' {{ THROW \"{refused}: the owner's role changes only by transferring the book\" }};\n\
                     IF $had = NONE {{ CREATE book_member SET bid = $book, uid = $member, role = $member_role, added_at = $now }} \
                     ELSE {{ UPDATE book_member SET role = $member_role WHERE bid = $book AND uid = $member }};\n\
                     SELECT {MEMBER_FIELDS} FROM book_member WHERE bid = $book AND uid = $member;",
                    refused = super::guard::REFUSED
                ),
                Params::new()
                    .with("member", member.to_string())
                    .with("member_role", role.to_string())
                    .with("now", now),
            )
            .await?;
        members
            .pop()
            .ok_or_else(|| StoreError::Query("the member row was not found".into()))
    }

    /// Removes `member` from the book: the owner removes anyone but
    /// themselves; any member may leave (`need` is `Read` then).
    pub async fn remove_member(
        &self,
        actor: &str,
        bid: &str,
        member: &str,
        need: Need,
    ) -> Result<bool, StoreError> {
        let removed: Vec<serde_json::Value> = self
            .guarded(
                actor,
                bid,
                need,
                "member",
                &format!(
                    "IF (SELECT VALUE role FROM book_member WHERE bid = $book AND uid = $member LIMIT 1)[0] = 'owner' \
                     {{ THROW \"{refused}: the owner cannot leave the book; transfer it or delete it\" }};\n\
                     DELETE book_member WHERE bid = $book AND uid = $member RETURN BEFORE;",
                    refused = super::guard::REFUSED
                ),
                Params::new().with("member", member.to_string()),
            )
            .await?;
        Ok(!removed.is_empty())
    }

    /// Makes `new_owner` (added if need be) the owner; the old owner stays as an editor.
    pub async fn transfer_book(
        &self,
        actor: &str,
        bid: &str,
        new_owner: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.guarded::<serde_json::Value>(
            actor,
            bid,
            Need::Own,
            "member",
            "IF array::len((SELECT VALUE uid FROM book_member WHERE bid = $book AND uid = $new_owner)) > 0 \
             { UPDATE book_member SET role = 'owner' WHERE bid = $book AND uid = $new_owner } \
             ELSE { CREATE book_member SET bid = $book, uid = $new_owner, role = 'owner', added_at = $now };\n\
             UPDATE book_member SET role = 'editor' WHERE bid = $book AND uid = $actor AND uid != $new_owner;",
            Params::new()
                .with("new_owner", new_owner.to_string())
                .with("now", now),
        )
        .await?;
        Ok(())
    }
}

/// What becomes of `uid`'s books when the account is deleted, inside the
/// deletion's transaction: a book with an editor passes to the editor who
/// joined first (an enabled account); a book with none is deleted with everything in it; other
/// memberships end.
pub(super) const USER_BOOKS_ON_DELETE: &str = "\
        FOR $owned IN (SELECT VALUE bid FROM book_member WHERE uid = $uid AND role = 'owner') {\n\
            LET $heir = (SELECT VALUE uid FROM book_member WHERE bid = $owned AND role = 'editor' \
                AND uid IN (SELECT VALUE uid FROM user WHERE disabled = false) ORDER BY added_at LIMIT 1)[0];\n\
            IF $heir = NONE {\n\
                DELETE txn WHERE bid = $owned; DELETE import WHERE bid = $owned; DELETE category WHERE bid = $owned; DELETE account WHERE bid = $owned;\n\
                DELETE rule WHERE bid = $owned; DELETE budget WHERE bid = $owned; DELETE receipt_match WHERE bid = $owned; DELETE csv_preset WHERE bid = $owned;\n\
                DELETE book_member WHERE bid = $owned; DELETE book WHERE bid = $owned;\n\
            } ELSE {\n\
                UPDATE book_member SET role = 'owner' WHERE bid = $owned AND uid = $heir;\n\
            };\n\
        };\n\
        DELETE book_member WHERE uid = $uid;";

/// Everything in book `$book`, then the book.
const DELETE_BOOK_CONTENT: &str = "DELETE txn WHERE bid = $book;\n\
     DELETE import WHERE bid = $book;\n\
     DELETE category WHERE bid = $book;\n\
     DELETE rule WHERE bid = $book;\n\
     DELETE budget WHERE bid = $book;\n\
     DELETE receipt_match WHERE bid = $book;\n\
     DELETE csv_preset WHERE bid = $book;\n\
     DELETE account WHERE bid = $book;\n\
     DELETE book_member WHERE bid = $book;\n\
     DELETE book WHERE bid = $book;";
