//! Accounts: creation with the password policy and argon2id, listing.

use fin_proto::admin::{CreateUser, User};
use fin_proto::api::{CreateInvite, Invite, RegisterRequest};

use std::sync::Arc;

use super::ServiceError;
use super::audit::{Audit, Event};
use super::auth::password::{HashError, PasswordHashing};
use super::auth::policy::{check_new_username, check_password, look, normalize_username};
use crate::domain::account::Registration;
use crate::store::{NewUser, Store, UserChange, UserRecord};
use crate::support::{self, sha256_hex, unix_now};

pub const ROLES: [&str; 3] = ["admin", "user", "guest"];

pub struct Users {
    store: Store,
    hashing: PasswordHashing,
    audit: Arc<Audit>,
    registration: Registration,
    /// Held while a new name is checked against the existing ones and
    /// stored, so two look-alike names made at the same instant cannot both
    /// pass the check. One daemon's lock: daemons sharing a database
    /// (issue 18) need the skeleton stored under a unique index.
    naming: tokio::sync::Mutex<()>,
}

/// How long an invitation code is valid unless asked otherwise: a week.
const DEFAULT_INVITE_HOURS: u32 = 168;

impl Users {
    pub fn new(
        store: Store,
        hashing: PasswordHashing,
        audit: Arc<Audit>,
        registration: Registration,
    ) -> Self {
        Users {
            store,
            hashing,
            audit,
            registration,
            naming: tokio::sync::Mutex::new(()),
        }
    }

    /// A single-use invitation code for an account of `role`.
    pub async fn create_invite(
        &self,
        request: CreateInvite,
        actor: &str,
    ) -> Result<Invite, ServiceError> {
        let role = request.role.unwrap_or_else(|| "user".into());
        if !ROLES.contains(&role.as_str()) {
            return Err(ServiceError::Invalid(format!(
                "unknown role {role:?}: use admin, user or guest"
            )));
        }
        let hours = request.expires_in_hours.unwrap_or(DEFAULT_INVITE_HOURS);
        if !(1..=24 * 90).contains(&hours) {
            return Err(ServiceError::Invalid(
                "expires_in_hours must be from 1 to 2160 (90 days)".into(),
            ));
        }
        let code = new_id()?;
        let now = unix_now();
        let expires_at = now + i64::from(hours) * 3600;
        self.store
            .create_invite(&sha256_hex(&code), &role, actor, now, expires_at)
            .await?;
        self.event(actor, "invite.create", &role).await;
        Ok(Invite {
            code,
            role,
            expires_at,
        })
    }

    /// Self-registration, as `auth.registration` allows.
    pub async fn register(
        &self,
        request: RegisterRequest,
        ip: Option<&str>,
    ) -> Result<User, ServiceError> {
        let (role, invite_hash) = match self.registration {
            Registration::Closed => {
                return Err(ServiceError::Forbidden(
                    "registration is closed on this box: ask an admin for an account".into(),
                ));
            }
            Registration::Open => ("user".to_string(), None),
            Registration::Invite => {
                let code = request.invite.as_deref().map(str::trim).unwrap_or_default();
                let hash = sha256_hex(code);
                let role = self
                    .store
                    .use_invite(&hash, unix_now())
                    .await?
                    .ok_or_else(|| {
                        ServiceError::Forbidden(
                            "this invitation code is unknown, used or expired".into(),
                        )
                    })?;
                (role, Some(hash))
            }
        };
        let create = CreateUser {
            username: request.username,
            email: request.email,
            role,
            password: request.password,
        };
        let actor = format!("registration ip={}", ip.unwrap_or("-"));
        match self.create(create, &actor).await {
            Ok(user) => Ok(user),
            Err(e) => {
                // The code stays usable when the account could not be made.
                if let Some(hash) = invite_hash {
                    self.store.release_invite(&hash).await?;
                }
                Err(e)
            }
        }
    }

    /// A new name that looks like an existing one (the same confusable
    /// skeleton) is refused like a taken one: it is made to pass for it.
    async fn refuse_look_alike(&self, username: &str) -> Result<(), ServiceError> {
        let wanted = look(username);
        let users = self.store.list_users().await?;
        if users
            .iter()
            .any(|u| u.username != username && look(&u.username) == wanted)
        {
            return Err(ServiceError::Conflict(format!(
                "{username:?} looks too much like the name of an existing account"
            )));
        }
        Ok(())
    }

    async fn event(&self, actor: &str, action: &'static str, target: &str) {
        self.audit
            .record(Event {
                actor: Some(actor),
                ip: None,
                action,
                target: Some(target),
                success: true,
            })
            .await;
    }

    pub async fn create(&self, request: CreateUser, actor: &str) -> Result<User, ServiceError> {
        let username = normalize_username(&request.username)
            .and_then(|name| check_new_username(&name).map(|()| name))
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        self.refuse_look_alike(&username).await?;
        if !ROLES.contains(&request.role.as_str()) {
            return Err(ServiceError::Invalid(format!(
                "unknown role {:?}: use admin, user or guest",
                request.role
            )));
        }
        let email = request
            .email
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty());
        if let Some(email) = &email
            && (email.len() > 254 || !email.contains('@') || email.chars().any(char::is_whitespace))
        {
            return Err(ServiceError::Invalid(format!(
                "{email:?} is not an e-mail address"
            )));
        }
        let context: Vec<&str> = [Some(username.as_str()), email.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        check_password(&request.password, &context)
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;

        let password_hash = self.hash(request.password).await?;

        // Checked above to answer early, and again here under the lock,
        // after the slow hash, right before the name is stored.
        let _naming = self.naming.lock().await;
        self.refuse_look_alike(&username).await?;
        let user = NewUser {
            uid: new_id()?,
            username,
            email,
            password_hash,
            role: request.role,
            created_at: unix_now(),
        };
        self.store.create_user(&user).await?;
        let created = self
            .store
            .user_by_uid(&user.uid)
            .await?
            .ok_or_else(|| ServiceError::Internal("the new user was not found".into()))?;
        self.event(actor, "user.create", &created.username).await;
        Ok(view(created))
    }

    /// Lifts a lockout after repeated failed logins.
    pub async fn unlock(&self, username: &str, actor: &str) -> Result<(), ServiceError> {
        let name = normal_name(username)?;
        if !self.store.unlock_user(&name).await? {
            return Err(ServiceError::NotFound(format!("no user {name}")));
        }
        self.event(actor, "user.unlock", &name).await;
        Ok(())
    }

    pub async fn show(&self, username: &str) -> Result<User, ServiceError> {
        let name = normal_name(username)?;
        self.store
            .user_by_username(&name)
            .await?
            .map(view)
            .ok_or_else(|| ServiceError::NotFound(format!("no user {name}")))
    }

    pub async fn set_role(
        &self,
        username: &str,
        role: &str,
        actor: &str,
    ) -> Result<User, ServiceError> {
        if !ROLES.contains(&role) {
            return Err(ServiceError::Invalid(format!(
                "unknown role {role:?}: use admin, user or guest"
            )));
        }
        refuse_own(username, actor, "change the role of")?;
        self.change(
            username,
            UserChange::Role(role.to_string()),
            "user.set_role",
            actor,
        )
        .await
    }

    /// A disabled user's sessions and tokens stop working at once (every
    /// request checks the account).
    pub async fn set_disabled(
        &self,
        username: &str,
        disabled: bool,
        actor: &str,
    ) -> Result<User, ServiceError> {
        refuse_own(username, actor, "disable or enable")?;
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        let user = self
            .change(username, UserChange::Disabled(disabled), action, actor)
            .await?;
        if disabled {
            // Disabling is how an account is shut against someone who holds
            // its tokens: enabling it again must not bring them back.
            self.store.revoke_other_sessions(&user.id, None).await?;
            self.store.revoke_all_api_keys(&user.id).await?;
        }
        Ok(user)
    }

    /// Sets a new password (policy applies) and ends the user's sessions.
    pub async fn reset_password(
        &self,
        username: &str,
        password: String,
        actor: &str,
    ) -> Result<User, ServiceError> {
        refuse_own(username, actor, "reset the password of")?;
        let user = self.show(username).await?;
        let context: Vec<&str> = [Some(user.username.as_str()), user.email.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        check_password(&password, &context).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let hash = self.hash(password).await?;
        let changed = self
            .change(
                &user.username,
                UserChange::PasswordHash(hash),
                "user.reset_password",
                actor,
            )
            .await?;
        // A reset is how an account is taken back: nothing made before it,
        // session or API key, keeps working.
        self.store.revoke_other_sessions(&changed.id, None).await?;
        self.store.revoke_all_api_keys(&changed.id).await?;
        Ok(changed)
    }

    pub async fn delete(&self, username: &str, actor: &str) -> Result<(), ServiceError> {
        refuse_own(username, actor, "delete")?;
        let name = normal_name(username)?;
        if !self.store.delete_user(&name).await? {
            return Err(ServiceError::NotFound(format!("no user {name}")));
        }
        self.event(actor, "user.delete", &name).await;
        Ok(())
    }

    async fn change(
        &self,
        username: &str,
        change: UserChange,
        action: &'static str,
        actor: &str,
    ) -> Result<User, ServiceError> {
        let name = normal_name(username)?;
        if !self.store.update_user(&name, change).await? {
            return Err(ServiceError::NotFound(format!("no user {name}")));
        }
        self.event(actor, action, &name).await;
        self.show(&name).await
    }

    async fn hash(&self, password: String) -> Result<String, ServiceError> {
        self.hashing
            .hash_in_slot(password)
            .await
            .map_err(|e| match e {
                HashError::Busy => ServiceError::Busy {
                    code: "busy",
                    reason: e.to_string(),
                    retry_after_seconds: 1,
                },
                other => ServiceError::Internal(other.to_string()),
            })
    }

    pub async fn list(&self) -> Result<Vec<User>, ServiceError> {
        Ok(self
            .store
            .list_users()
            .await?
            .into_iter()
            .map(view)
            .collect())
    }
}

/// The stored form of an existing user's name. A name that no account can
/// have names no account: 404, as for any unknown name.
pub(crate) fn normal_name(username: &str) -> Result<String, ServiceError> {
    normalize_username(username)
        .map_err(|_| ServiceError::NotFound(format!("no user {username:?}")))
}

fn view(record: UserRecord) -> User {
    User {
        id: record.uid,
        username: record.username,
        email: record.email,
        role: record.role,
        disabled: record.disabled,
        created_at: record.created_at,
        last_login_at: record.last_login_at,
        locked_until: record.locked_until,
    }
}

/// A random 128-bit id, hex.
pub(crate) fn new_id() -> Result<String, ServiceError> {
    support::new_id().map_err(|e| ServiceError::Internal(e.to_string()))
}

/// An admin acting on their own account through account management could
/// lock every admin out (demote, disable, delete) or, with a stolen token,
/// take the account over (a new password without the current one). Their
/// own password is changed where the current one is asked for. `actor` is
/// an account name over HTTPS and `operator uid=N` on the admin socket, so
/// the operator is never refused.
fn refuse_own(username: &str, actor: &str, what: &str) -> Result<(), ServiceError> {
    if normal_name(username).is_ok_and(|name| name == actor) {
        return Err(ServiceError::Forbidden(format!(
            "you cannot {what} your own account here (your password: POST /api/v1/auth/password)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::auth::password::HashCost;

    async fn users() -> Users {
        let store = Store::open("mem://", "fin", "fin").await.expect("store");
        let cost = HashCost {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let audit = Arc::new(Audit::new(store.clone()));
        Users::new(
            store,
            PasswordHashing::new(cost).expect("hashing"),
            audit,
            Registration::Closed,
        )
    }

    fn request(name: &str, password: &str) -> CreateUser {
        CreateUser {
            username: name.into(),
            email: None,
            role: "user".into(),
            password: password.into(),
        }
    }

    #[tokio::test]
    async fn creates_users_with_normalised_unique_names() {
        let users = users().await;
        let alice = users
            .create(request("Alice", "vivid otter harbours 42 plums"), "test")
            .await
            .expect("create");
        assert_eq!(alice.username, "alice");
        assert_eq!(alice.id.len(), 32);
        let err = users
            .create(request("ALICE", "another fine passphrase 77"), "test")
            .await
            .expect_err("same name");
        assert!(matches!(err, ServiceError::Conflict(_)), "{err}");
        assert_eq!(users.list().await.expect("list").len(), 1);
    }

    #[tokio::test]
    async fn two_look_alike_names_created_at_once_cannot_both_pass() {
        let users = users().await;
        // Latin both: "rn" reads as "m".
        let (mary, rnary) = tokio::join!(
            users.create(request("mary", "vivid otter harbours 42 plums"), "test"),
            users.create(request("rnary", "vivid otter harbours 42 plums"), "test"),
        );
        assert!(
            mary.is_ok() != rnary.is_ok(),
            "exactly one is made: {mary:?} {rnary:?}"
        );
        assert_eq!(users.list().await.expect("list").len(), 1);
    }

    #[tokio::test]
    async fn weak_passwords_bad_roles_and_bad_names_are_refused() {
        let users = users().await;
        for (req, needle) in [
            (request("bob", "short"), "at least 12"),
            (request("bob", "bobbobbobbob1"), "guess"),
            (
                CreateUser {
                    role: "root".into(),
                    ..request("bob", "vivid otter harbours 42 plums")
                },
                "role",
            ),
            (
                request("bo b", "vivid otter harbours 42 plums"),
                "user names",
            ),
        ] {
            let err = users
                .create(req, "test")
                .await
                .expect_err("refused")
                .to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
