//! Invitation codes.

use super::query::Params;
use super::{Store, StoreError};

impl Store {
    pub async fn create_invite(
        &self,
        code_hash: &str,
        role: &str,
        created_by: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.run("CREATE invite SET code_hash = $hash, role = $role, created_by = $by, created_at = $now, \
                 expires_at = $expires_at",
                Params::new()
                    .with("hash", code_hash.to_string())
                    .with("role", role.to_string())
                    .with("by", created_by.to_string())
                    .with("now", now)
                    .with("expires_at", expires_at),
            ).await?;
        Ok(())
    }

    /// Marks a live invite used, once; its role, or none when the code is
    /// unknown, used or expired.
    pub async fn use_invite(
        &self,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let mut response = self.run("UPDATE invite SET used_at = $now WHERE code_hash = $hash AND used_at = NONE AND expires_at > $now \
                 RETURN role",
                Params::new()
                    .with("hash", code_hash.to_string())
                    .with("now", now),
            ).await?;
        let mut roles: Vec<String> = response.take((0, "role"))?;
        Ok(roles.pop())
    }

    /// Puts an invite back when the account it was for could not be made.
    pub async fn release_invite(&self, code_hash: &str) -> Result<(), StoreError> {
        self.run(
            "UPDATE invite SET used_at = NONE WHERE code_hash = $hash",
            Params::new().with("hash", code_hash.to_string()),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_invite_is_used_once_and_only_before_it_expires() {
        let store = Store::open("mem://", "fin", "fin").await.expect("open");
        store
            .create_invite("h1", "guest", "admin", 100, 200)
            .await
            .expect("create");
        store
            .create_invite("h2", "user", "admin", 100, 150)
            .await
            .expect("create");
        assert_eq!(
            store.use_invite("h1", 120).await.expect("use").as_deref(),
            Some("guest")
        );
        assert_eq!(
            store.use_invite("h1", 121).await.expect("use"),
            None,
            "single use"
        );
        assert_eq!(
            store.use_invite("h2", 150).await.expect("use"),
            None,
            "expired"
        );
        assert_eq!(store.use_invite("nope", 120).await.expect("use"), None);
        store.release_invite("h1").await.expect("release");
        assert_eq!(
            store.use_invite("h1", 122).await.expect("use").as_deref(),
            Some("guest")
        );
    }
}
