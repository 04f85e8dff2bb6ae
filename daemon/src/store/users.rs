//! Accounts. User names arrive normalised from the service layer; the
//! unique index makes a duplicate a [`StoreError::Conflict`].

use surrealdb::types::SurrealValue;

use super::query::Params;
use super::{Store, StoreError};

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct UserRecord {
    pub uid: String,
    pub username: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
    pub failed_logins: i64,
    /// Start of the current run of failed logins.
    pub failed_since: Option<i64>,
    pub locked_until: Option<i64>,
}

/// One change to an account.
#[derive(Debug, Clone)]
pub enum UserChange {
    Role(String),
    Disabled(bool),
    /// A new password hash; also clears any lockout.
    PasswordHash(String),
}

/// What creating a user needs.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub uid: String,
    pub username: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub role: String,
    pub created_at: i64,
}

const FIELDS: &str = "uid, username, email, password_hash, role, disabled, created_at, last_login_at, \
     failed_logins, failed_since, locked_until";

impl Store {
    pub async fn create_user(&self, user: &NewUser) -> Result<(), StoreError> {
        let result = self.try_run("CREATE user SET uid = $uid, username = $username, email = $email, password_hash = $hash, \
                 role = $role, disabled = false, created_at = $created_at, failed_logins = 0",
                Params::new()
                    .with("uid", user.uid.clone())
                    .with("username", user.username.clone())
                    .with("email", user.email.clone())
                    .with("hash", user.password_hash.clone())
                    .with("role", user.role.clone())
                    .with("created_at", user.created_at),
            ).await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.to_string().contains("already contains") => {
                Err(StoreError::Conflict(format!("user {}", user.username)))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        self.first(
            format!("SELECT {FIELDS} FROM user WHERE username = $username LIMIT 1"),
            Params::new().with("username", username.to_string()),
        )
        .await
    }

    pub async fn user_by_uid(&self, uid: &str) -> Result<Option<UserRecord>, StoreError> {
        self.first(
            format!("SELECT {FIELDS} FROM user WHERE uid = $uid LIMIT 1"),
            Params::new().with("uid", uid.to_string()),
        )
        .await
    }

    /// A successful login: its time, and the upgraded hash when the cost changed.
    pub async fn record_login(
        &self,
        uid: &str,
        now: i64,
        new_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        let query = match new_hash {
            Some(_) => {
                "UPDATE user SET last_login_at = $now, failed_logins = 0, password_hash = $hash WHERE uid = $uid"
            }
            None => "UPDATE user SET last_login_at = $now, failed_logins = 0 WHERE uid = $uid",
        };
        self.run(
            query,
            Params::new()
                .with("uid", uid.to_string())
                .with("now", now)
                .with("hash", new_hash.unwrap_or_default().to_string()),
        )
        .await?;
        Ok(())
    }

    /// Reserves one login attempt before the password is checked. The run
    /// of attempts is counted in the database itself, so concurrent guesses
    /// each get their own number and a burst gets no more tries than a
    /// sequence. A run older than `window_start` starts again; a success
    /// ends it (`record_login`). Returns the attempt's number in the run, or
    /// `None` while the account is locked at `now`.
    pub async fn reserve_login_attempt(
        &self,
        uid: &str,
        now: i64,
        window_start: i64,
    ) -> Result<Option<i64>, StoreError> {
        #[derive(SurrealValue)]
        struct Run {
            failed_logins: i64,
        }
        let mut response = self
            .run_contended(
                "UPDATE user SET failed_logins = 0, failed_since = $now \
                 WHERE uid = $uid AND (failed_since = NONE OR failed_since < $window_start) \
                 AND (locked_until = NONE OR locked_until <= $now); \
                 UPDATE user SET failed_logins += 1 \
                 WHERE uid = $uid AND (locked_until = NONE OR locked_until <= $now) \
                 RETURN failed_logins;",
                Params::new()
                    .with("uid", uid.to_string())
                    .with("now", now)
                    .with("window_start", window_start),
            )
            .await?;
        let runs: Vec<Run> = response.take(1)?;
        Ok(runs.first().map(|r| r.failed_logins))
    }

    /// Ends a run of login attempts: the password was right.
    pub async fn end_login_run(&self, uid: &str) -> Result<(), StoreError> {
        self.run_contended(
            "UPDATE user SET failed_logins = 0, failed_since = NONE WHERE uid = $uid",
            Params::new().with("uid", uid.to_string()),
        )
        .await?;
        Ok(())
    }

    /// Runs an update of one row that concurrent requests also update:
    /// conflicting transactions are retried, each re-reading the row.
    async fn run_contended(
        &self,
        query: &str,
        params: Params,
    ) -> Result<surrealdb::IndexedResults, StoreError> {
        let mut last_error = None;
        for round in 0..8u64 {
            match self.try_run(query, params.clone()).await {
                Ok(response) => return Ok(response),
                Err(e) => last_error = Some(e),
            }
            super::back_off(round).await;
        }
        Err(last_error
            .map(StoreError::from)
            .unwrap_or_else(|| StoreError::Query("retries exhausted".into())))
    }

    /// Locks an account until `until` unless it is locked at `now`
    /// already, and ends its run of attempts: after the lock, a new run
    /// starts. True when this call locked it.
    pub async fn lock_user(&self, uid: &str, now: i64, until: i64) -> Result<bool, StoreError> {
        let mut response = self
            .run_contended(
                "UPDATE user SET locked_until = $until, failed_logins = 0, failed_since = NONE \
                 WHERE uid = $uid AND (locked_until = NONE OR locked_until <= $now) RETURN uid;",
                Params::new()
                    .with("uid", uid.to_string())
                    .with("now", now)
                    .with("until", until),
            )
            .await?;
        let locked: Vec<serde_json::Value> = response.take(0)?;
        Ok(!locked.is_empty())
    }

    /// Lifts a lockout; false when there is no such user.
    pub async fn unlock_user(&self, username: &str) -> Result<bool, StoreError> {
        let updated: Vec<serde_json::Value> = self
            .rows(
                "UPDATE user SET failed_logins = 0, failed_since = NONE, locked_until = NONE \
                 WHERE username = $username RETURN uid",
                Params::new().with("username", username.to_string()),
                0,
            )
            .await?;
        Ok(!updated.is_empty())
    }

    /// Changes fields of the user named `username`; false when there is none.
    pub async fn update_user(
        &self,
        username: &str,
        change: UserChange,
    ) -> Result<bool, StoreError> {
        let (assignment, value) = match change {
            UserChange::Role(role) => ("role = $value", serde_json::Value::String(role)),
            UserChange::Disabled(disabled) => {
                ("disabled = $value", serde_json::Value::Bool(disabled))
            }
            UserChange::PasswordHash(hash) => (
                "password_hash = $value, failed_logins = 0, failed_since = NONE, locked_until = NONE",
                serde_json::Value::String(hash),
            ),
        };
        let updated: Vec<serde_json::Value> = self
            .rows(
                format!("UPDATE user SET {assignment} WHERE username = $username RETURN uid"),
                Params::new()
                    .with("username", username.to_string())
                    .with("value", value),
                0,
            )
            .await?;
        Ok(!updated.is_empty())
    }

    /// Deletes a user and everything that is theirs, in one transaction:
    /// sessions, API keys, receipts (with their OCR text and corrections)
    /// and OCR jobs (their receipts come off the transactions they were
    /// attached to). Books they own pass to the first editor or go (see
    /// `USER_BOOKS_ON_DELETE`); their other memberships end. Their images
    /// are left to the blob collector, which removes those no other receipt
    /// uses. The audit trail keeps its entries: it is the record of what
    /// happened. False when there is none.
    pub async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        let Some(user) = self.user_by_username(username).await? else {
            return Ok(false);
        };
        self.run(
            format!(
                "BEGIN TRANSACTION;\n\
                 DELETE session WHERE user_uid = $uid;\n\
                 DELETE api_key WHERE user_uid = $uid;\n\
                 DELETE ocr_job WHERE owner_uid = $uid;\n\
                 DELETE receipt_match WHERE owner_uid = $uid;\n\
                 LET $gone = (SELECT VALUE rid FROM receipt WHERE owner_uid = $uid);\n\
                 UPDATE txn SET receipts = array::complement(receipts, $gone), rev = rev + 1 \
                 WHERE array::len(array::intersect(receipts, $gone)) > 0;\n\
                 DELETE receipt WHERE owner_uid = $uid;\n\
                 {books}\n\
                 DELETE user WHERE uid = $uid;\n\
                 COMMIT TRANSACTION;",
                books = super::books::USER_BOOKS_ON_DELETE
            ),
            Params::new().with("uid", user.uid),
        )
        .await?;
        Ok(true)
    }

    pub async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.rows(
            format!("SELECT {FIELDS} FROM user ORDER BY username"),
            Params::new(),
            0,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> NewUser {
        NewUser {
            uid: "u-alice".into(),
            username: "alice".into(),
            email: Some("alice@example.org".into()),
            password_hash: "$argon2id$stub".into(),
            role: "admin".into(),
            created_at: 1000,
        }
    }

    #[tokio::test]
    async fn users_round_trip_and_names_are_unique() {
        let store = Store::open("mem://", "fin", "fin").await.expect("open");
        store.create_user(&alice()).await.expect("create");
        let found = store
            .user_by_username("alice")
            .await
            .expect("query")
            .expect("found");
        assert_eq!(found.uid, "u-alice");
        assert_eq!(found.email.as_deref(), Some("alice@example.org"));
        assert!(!found.disabled);
        assert_eq!(found.failed_logins, 0);
        assert_eq!(found.last_login_at, None);
        assert_eq!(
            store.user_by_uid("u-alice").await.expect("query"),
            Some(found)
        );
        assert_eq!(store.user_by_username("bob").await.expect("query"), None);

        let duplicate = NewUser {
            uid: "u-other".into(),
            ..alice()
        };
        let err = store.create_user(&duplicate).await.expect_err("duplicate");
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(store.list_users().await.expect("list").len(), 1);
    }

    #[tokio::test]
    async fn roles_outside_the_three_are_rejected_by_the_schema() {
        let store = Store::open("mem://", "fin", "fin").await.expect("open");
        let err = store
            .create_user(&NewUser {
                role: "superuser".into(),
                ..alice()
            })
            .await
            .expect_err("bad role");
        assert!(matches!(err, StoreError::Query(_)), "{err}");
    }

    #[tokio::test]
    async fn user_input_is_bound_not_spliced() {
        let store = Store::open("mem://", "fin", "fin").await.expect("open");
        store.create_user(&alice()).await.expect("create");
        let hostile = "alice' OR true; DELETE user; --";
        assert_eq!(store.user_by_username(hostile).await.expect("query"), None);
        assert_eq!(store.list_users().await.expect("list").len(), 1);
    }
}

#[cfg(test)]
mod lockout_tests {
    use super::*;

    #[tokio::test]
    async fn failed_login_runs_and_unlock_are_recorded() {
        let store = Store::open("mem://", "fin", "fin").await.expect("open");
        store
            .create_user(&NewUser {
                uid: "u1".into(),
                username: "alice".into(),
                email: None,
                password_hash: "x".into(),
                role: "user".into(),
                created_at: 1,
            })
            .await
            .expect("create");
        for expected in 1..=5 {
            let count = store
                .reserve_login_attempt("u1", 100, 50)
                .await
                .expect("count");
            assert_eq!(count, Some(expected));
        }
        assert!(store.lock_user("u1", 100, 1000).await.expect("lock"));
        assert!(
            !store.lock_user("u1", 200, 5000).await.expect("lock"),
            "locked already"
        );
        // While locked, no attempt is reserved (and none counted).
        assert_eq!(
            store
                .reserve_login_attempt("u1", 500, 50)
                .await
                .expect("count"),
            None
        );
        let user = store.user_by_uid("u1").await.expect("query").expect("user");
        assert_eq!(
            (user.failed_logins, user.failed_since, user.locked_until),
            (0, None, Some(1000)),
            "the lock ends the run: after it, a new one starts"
        );
        // Outside the window a run starts again; concurrent failures all count.
        assert_eq!(
            store
                .reserve_login_attempt("u1", 2000, 1500)
                .await
                .expect("count"),
            Some(1)
        );
        // Concurrent attempts each get their own number.
        let counts = futures_util::future::join_all(
            (0..8).map(|_| store.reserve_login_attempt("u1", 2001, 1500)),
        )
        .await;
        let mut numbers: Vec<i64> = counts
            .into_iter()
            .map(|c| c.expect("counted").expect("not locked"))
            .collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (2..=9).collect::<Vec<_>>());
        assert_eq!(
            store
                .reserve_login_attempt("u1", 2002, 1500)
                .await
                .expect("count"),
            Some(10)
        );
        assert!(store.unlock_user("alice").await.expect("unlock"));
        let user = store.user_by_uid("u1").await.expect("query").expect("user");
        assert_eq!(
            (user.failed_logins, user.failed_since, user.locked_until),
            (0, None, None)
        );
        assert!(!store.unlock_user("nobody").await.expect("unlock"));
    }
}
