//! Login sessions (refresh-token families). Every call on a user's sessions
//! takes that user's id, so one user can never see or end another's.

use surrealdb::types::SurrealValue;

use super::query::Params;
use super::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct SessionRecord {
    pub sid: String,
    pub user_uid: String,
    pub refresh_hash: String,
    pub used_hashes: Vec<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

const FIELDS: &str = "sid, user_uid, refresh_hash, used_hashes, created_at, last_used_at, expires_at, revoked, ip, user_agent";

impl Store {
    pub async fn create_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.run("CREATE session SET sid = $sid, user_uid = $user_uid, refresh_hash = $refresh_hash, used_hashes = [], \
                 created_at = $created_at, last_used_at = $created_at, expires_at = $expires_at, \
                 revoked = false, ip = $ip, user_agent = $user_agent",
                Params::new()
                    .with("sid", s.sid.clone())
                    .with("user_uid", s.user_uid.clone())
                    .with("refresh_hash", s.refresh_hash.clone())
                    .with("created_at", s.created_at)
                    .with("expires_at", s.expires_at)
                    .with("ip", s.ip.clone())
                    .with("user_agent", s.user_agent.clone()),
            ).await?;
        Ok(())
    }

    /// A session by id, whoever owns it: used to resolve a presented refresh
    /// token before its owner is known.
    pub async fn session_by_sid(&self, sid: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.first(
            format!("SELECT {FIELDS} FROM session WHERE sid = $sid LIMIT 1"),
            Params::new().with("sid", sid.to_string()),
        )
        .await
    }

    /// Replaces the refresh secret only if it is still `old_hash`, so two
    /// concurrent refreshes with one token cannot both win. True when rotated.
    pub async fn rotate_refresh(
        &self,
        sid: &str,
        old_hash: &str,
        new_hash: &str,
        used_hashes: Vec<String>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let updated: Vec<serde_json::Value> = self
            .rows(
                "UPDATE session SET refresh_hash = $new, used_hashes = $used, last_used_at = $now \
                 WHERE sid = $sid AND refresh_hash = $old AND revoked = false RETURN sid",
                Params::new()
                    .with("sid", sid.to_string())
                    .with("old", old_hash.to_string())
                    .with("new", new_hash.to_string())
                    .with("used", used_hashes)
                    .with("now", now),
                0,
            )
            .await?;
        Ok(!updated.is_empty())
    }

    /// Ends one session of `user_uid`; false when it is not theirs or unknown.
    pub async fn revoke_session(&self, user_uid: &str, sid: &str) -> Result<bool, StoreError> {
        let updated: Vec<serde_json::Value> = self.rows("UPDATE session SET revoked = true WHERE sid = $sid AND user_uid = $user RETURN sid",
                Params::new()
                    .with("sid", sid.to_string())
                    .with("user", user_uid.to_string()),
                0,
            ).await?;
        Ok(!updated.is_empty())
    }

    /// Ends every session of `user_uid` except `keep`.
    pub async fn revoke_other_sessions(
        &self,
        user_uid: &str,
        keep: Option<&str>,
    ) -> Result<(), StoreError> {
        self.run(
            "UPDATE session SET revoked = true WHERE user_uid = $user AND sid != $keep",
            Params::new()
                .with("user", user_uid.to_string())
                .with("keep", keep.unwrap_or_default().to_string()),
        )
        .await?;
        Ok(())
    }

    /// The live sessions of `user_uid`, newest first.
    pub async fn sessions_of(
        &self,
        user_uid: &str,
        now: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let params = Params::new()
            .with("user", user_uid.to_string())
            .with("now", now);
        self.rows(format!(
                "SELECT {FIELDS} FROM session WHERE user_uid = $user AND revoked = false AND expires_at > $now \
                 ORDER BY created_at DESC"
            ), params, 0).await
    }
}
