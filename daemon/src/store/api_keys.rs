//! API keys. Calls on a user's keys take that user's id.

use surrealdb::types::SurrealValue;

use super::query::Params;
use super::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct ApiKeyRecord {
    pub kid: String,
    pub user_uid: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub secret_hash: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

const FIELDS: &str =
    "kid, user_uid, name, scopes, secret_hash, created_at, expires_at, last_used_at, revoked";

impl Store {
    pub async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.run("CREATE api_key SET kid = $kid, user_uid = $user_uid, name = $name, scopes = $scopes, \
                 secret_hash = $secret_hash, created_at = $created_at, expires_at = $expires_at, revoked = false",
                Params::new()
                    .with("kid", key.kid.clone())
                    .with("user_uid", key.user_uid.clone())
                    .with("name", key.name.clone())
                    .with("scopes", key.scopes.clone())
                    .with("secret_hash", key.secret_hash.clone())
                    .with("created_at", key.created_at)
                    .with("expires_at", key.expires_at),
            ).await?;
        Ok(())
    }

    /// A key by id, whoever owns it: used to resolve a presented key.
    pub async fn api_key_by_kid(&self, kid: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.first(
            format!("SELECT {FIELDS} FROM api_key WHERE kid = $kid LIMIT 1"),
            Params::new().with("kid", kid.to_string()),
        )
        .await
    }

    pub async fn api_keys_of(&self, user_uid: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.rows(format!(
                "SELECT {FIELDS} FROM api_key WHERE user_uid = $user AND revoked = false ORDER BY created_at DESC"
            ), Params::new().with("user", user_uid.to_string()), 0).await
    }

    /// Revokes one of `user_uid`'s keys; false when it is not theirs or unknown.
    pub async fn revoke_api_key(&self, user_uid: &str, kid: &str) -> Result<bool, StoreError> {
        let updated: Vec<serde_json::Value> = self.rows("UPDATE api_key SET revoked = true WHERE kid = $kid AND user_uid = $user AND revoked = false RETURN kid",
                Params::new()
                    .with("kid", kid.to_string())
                    .with("user", user_uid.to_string()),
                0,
            ).await?;
        Ok(!updated.is_empty())
    }

    /// Revokes every key of `user_uid` (after a password reset).
    pub async fn revoke_all_api_keys(&self, user_uid: &str) -> Result<(), StoreError> {
        self.run(
            "UPDATE api_key SET revoked = true WHERE user_uid = $user",
            Params::new().with("user", user_uid.to_string()),
        )
        .await?;
        Ok(())
    }

    pub async fn touch_api_key(&self, kid: &str, now: i64) -> Result<(), StoreError> {
        self.run(
            "UPDATE api_key SET last_used_at = $now WHERE kid = $kid",
            Params::new().with("kid", kid.to_string()).with("now", now),
        )
        .await?;
        Ok(())
    }
}
