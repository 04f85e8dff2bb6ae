//! Login, refresh with rotation and reuse detection, logout, and turning a
//! bearer token into the acting principal.

use crate::domain::text::is_blank;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use fin_proto::api::TokenPair;

use super::jwt::{AUDIENCE, AccessClaims, ISSUER, JwtKeys};
use super::password::{HashError, PasswordHashing, Verified};
use super::policy::normalize_username;
use crate::service::audit::{Audit, Event};
use crate::service::{ErrorKind, Failure};
use crate::store::{SessionRecord, Store, StoreError, UserRecord};
use crate::support::{self, sha256_hex, unix_now};

/// Who is acting, established from a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
    pub email: Option<String>,
    pub role: String,
    pub session_id: String,
    /// The client's address, when the front end knows it.
    pub ip: Option<String>,
    /// Set when the caller used an API key rather than a login session.
    pub api_key: Option<ApiKeyGrant>,
}

/// What an API key allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyGrant {
    pub id: String,
    pub scopes: Vec<String>,
}

pub const SCOPES: [&str; 4] = ["read", "write", "receipts", "ledger"];
/// Spent refresh secrets remembered per session for reuse detection.
const USED_SECRETS_KEPT: usize = 32;
/// `last_used_at` is written at most this often per key, not on every request.
const TOUCH_EVERY_SECONDS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown user, wrong password or disabled account: one answer for all.
    #[error(
        "the user name or password is wrong, or the account is locked for a while after repeated failures"
    )]
    InvalidCredentials,
    #[error("missing or invalid access token")]
    InvalidToken,
    #[error("invalid or expired refresh token")]
    InvalidRefresh,
    /// An already-used refresh token came back: the whole session is ended.
    #[error("this refresh token was already used; the session has been ended, log in again")]
    RefreshReused,
    /// A new password breaks the policy.
    #[error("{0}")]
    Invalid(String),
    /// Another field of the request is not acceptable.
    #[error("{0}")]
    InvalidRequest(String),
    #[error("no such session")]
    NoSuchSession,
    #[error("no such API key")]
    NoSuchApiKey,
    /// Authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many password checks at once (see `password.rs`).
    #[error("too many logins at once; try again in a second")]
    Busy,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<HashError> for AuthError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => AuthError::Busy,
            other => AuthError::Internal(other.to_string()),
        }
    }
}

/// The longest an API key may be made to live: ten years.
pub const MAX_API_KEY_DAYS: u32 = 3650;

impl Failure for AuthError {
    fn kind(&self) -> ErrorKind {
        match self {
            AuthError::InvalidCredentials
            | AuthError::InvalidToken
            | AuthError::InvalidRefresh
            | AuthError::RefreshReused => ErrorKind::Unauthenticated,
            AuthError::Invalid(_) | AuthError::InvalidRequest(_) => ErrorKind::Invalid,
            AuthError::NoSuchSession | AuthError::NoSuchApiKey => ErrorKind::NotFound,
            AuthError::Forbidden(_) => ErrorKind::Forbidden,
            AuthError::Busy => ErrorKind::Busy,
            AuthError::Internal(_) => ErrorKind::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AuthError::InvalidCredentials => "invalid_credentials",
            AuthError::InvalidToken => "unauthorized",
            AuthError::InvalidRefresh => "invalid_refresh_token",
            AuthError::RefreshReused => "refresh_token_reused",
            AuthError::Invalid(_) => "invalid_password",
            AuthError::InvalidRequest(_) => "invalid",
            AuthError::NoSuchSession | AuthError::NoSuchApiKey => "not_found",
            AuthError::Forbidden(_) => "forbidden",
            AuthError::Busy => "busy",
            AuthError::Internal(_) => "internal_error",
        }
    }

    fn retry_after_seconds(&self) -> Option<u64> {
        matches!(self, AuthError::Busy).then_some(1)
    }
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        AuthError::Internal(e.to_string())
    }
}

/// Token lifetimes and the lockout rule (from `[auth]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub access_token: Duration,
    pub refresh_token: Duration,
    /// Failed logins within `lockout_window` that lock an account...
    pub lockout_attempts: u32,
    pub lockout_window: Duration,
    /// ...for this long.
    pub lockout: Duration,
}

/// Request facts recorded with a session.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub struct Sessions {
    store: Store,
    hashing: PasswordHashing,
    keys: Arc<RwLock<JwtKeys>>,
    secrets_dir: PathBuf,
    policy: SessionPolicy,
    audit: Arc<Audit>,
}

impl Sessions {
    pub fn new(
        store: Store,
        hashing: PasswordHashing,
        keys: Arc<RwLock<JwtKeys>>,
        secrets_dir: PathBuf,
        policy: SessionPolicy,
        audit: Arc<Audit>,
    ) -> Self {
        Sessions {
            store,
            hashing,
            keys,
            secrets_dir,
            policy,
            audit,
        }
    }

    /// How long the previous signing secret is honoured after a rotation.
    pub fn previous_key_grace(&self) -> Duration {
        self.policy.access_token + Duration::from_secs(super::jwt::LEEWAY_SECONDS)
    }

    /// Makes a new signing secret. Tokens signed with the old one stay valid
    /// until they expire (the longest access-token lifetime plus leeway).
    /// Returns the new key id.
    pub async fn rotate_signing_key(&self, actor: &str) -> Result<String, AuthError> {
        let grace = self.previous_key_grace();
        let rotated = JwtKeys::rotate(&self.secrets_dir, unix_now(), grace)
            .map_err(|e| AuthError::Internal(e.to_string()))?;
        let kid = rotated.current_kid().to_string();
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = rotated;
        self.audit
            .record(Event {
                actor: Some(actor),
                ip: None,
                action: "secrets.rotate_jwt",
                target: None,
                success: true,
            })
            .await;
        Ok(kid)
    }

    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        let user = match normalize_username(username) {
            Ok(name) => self.store.user_by_username(&name).await?,
            Err(_) => None,
        };
        let now = unix_now();
        let ip = client.ip.as_deref().unwrap_or("-");
        let verified = self
            .check_password(user.as_ref(), password, now, ip)
            .await?;
        let user = match (user, &verified) {
            (Some(user), Verified::Yes | Verified::YesRehashed(_)) if !user.disabled => user,
            (user, _) => {
                let name = user
                    .as_ref()
                    .map(|u| u.username.clone())
                    .unwrap_or_else(|| "(unknown)".into());
                // The fail2ban-friendly line.
                tracing::warn!(target: "fin::audit", "auth failure user={name} ip={ip}");
                self.audit
                    .record(Event {
                        actor: Some(&name),
                        ip: client.ip.as_deref(),
                        action: "login",
                        target: None,
                        success: false,
                    })
                    .await;
                return Err(AuthError::InvalidCredentials);
            }
        };
        let new_hash = match verified {
            Verified::YesRehashed(hash) => Some(hash),
            _ => None,
        };
        self.store
            .record_login(&user.uid, now, new_hash.as_deref())
            .await?;

        let (refresh_token, refresh_hash, sid) = new_refresh(None)?;
        self.store
            .create_session(&SessionRecord {
                sid: sid.clone(),
                user_uid: user.uid.clone(),
                refresh_hash,
                used_hashes: Vec::new(),
                created_at: now,
                last_used_at: now,
                expires_at: now + secs(self.policy.refresh_token),
                revoked: false,
                ip: client.ip.clone(),
                user_agent: client.user_agent.map(|ua| ua.chars().take(256).collect()),
            })
            .await?;
        self.audit
            .record(Event {
                actor: Some(&user.username),
                ip: client.ip.as_deref(),
                action: "login",
                target: None,
                success: true,
            })
            .await;
        self.token_pair(&user, &sid, refresh_token, now)
    }

    /// Checks `password` for `user` under the lockout. The attempt is
    /// counted before the slow hash, so concurrent guesses each take a
    /// number and only the first `lockout_attempts` of a run are checked at
    /// all. Unknown users, locked accounts and attempts over the limit are
    /// verified against a dummy hash: same work, same answer (`No`). An
    /// attempt that is wrong at the limit, or over it, locks the account
    /// (unless it is locked already), which also ends the run; a right one
    /// ends the run. An attempt refused as busy still counts: giving it back
    /// could hand the limit's number to nobody, and a flood of them is
    /// itself an attack on the account.
    async fn check_password(
        &self,
        user: Option<&UserRecord>,
        password: &str,
        now: i64,
        ip: &str,
    ) -> Result<Verified, AuthError> {
        let attempt = match user {
            Some(user) => {
                let window_start = now - secs(self.policy.lockout_window);
                self.store
                    .reserve_login_attempt(&user.uid, now, window_start)
                    .await?
            }
            None => None,
        };
        let limit = i64::from(self.policy.lockout_attempts);
        let checked = user.filter(|_| attempt.is_some_and(|n| n <= limit));
        let verified = match self
            .hashing
            .verify_in_slot(
                password.to_string(),
                checked.map(|u| u.password_hash.clone()),
            )
            .await
        {
            Ok(verified) => verified,
            Err(e) => return Err(e.into()),
        };
        match (checked, &verified, user) {
            (Some(user), Verified::Yes | Verified::YesRehashed(_), _) => {
                self.store.end_login_run(&user.uid).await?;
            }
            (_, _, Some(user)) if attempt.is_some_and(|n| n >= limit) => {
                self.lock(user, now, ip).await?;
            }
            _ => {}
        }
        Ok(if checked.is_some() {
            verified
        } else {
            Verified::No
        })
    }

    /// Locks an account after a run of failed logins reached the limit.
    async fn lock(&self, user: &UserRecord, now: i64, ip: &str) -> Result<(), AuthError> {
        if !self
            .store
            .lock_user(&user.uid, now, now + secs(self.policy.lockout))
            .await?
        {
            return Ok(());
        }
        tracing::warn!(target: "fin::audit", "auth lockout user={} ip={ip}", user.username);
        self.audit
            .record(Event {
                actor: Some(&user.username),
                ip: Some(ip),
                action: "lockout",
                target: Some(&user.username),
                success: true,
            })
            .await;
        Ok(())
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, AuthError> {
        let (sid, secret) = refresh_token
            .split_once('.')
            .ok_or(AuthError::InvalidRefresh)?;
        let session = self
            .store
            .session_by_sid(sid)
            .await?
            .ok_or(AuthError::InvalidRefresh)?;
        let now = unix_now();
        if session.revoked || session.expires_at <= now {
            return Err(AuthError::InvalidRefresh);
        }
        let presented = sha256_hex(secret);
        // A secret this family never had is just wrong: refusing it must not
        // let whoever knows a session id end that session.
        let replayed = session.used_hashes.contains(&presented);
        if presented != session.refresh_hash && !replayed {
            return Err(AuthError::InvalidRefresh);
        }
        let (new_token, new_hash, _) = new_refresh(Some(sid))?;
        let mut used = session.used_hashes.clone();
        used.push(presented.clone());
        let keep_from = used.len().saturating_sub(USED_SECRETS_KEPT);
        let used = used.split_off(keep_from);
        if replayed
            || !self
                .store
                .rotate_refresh(sid, &presented, &new_hash, used, now)
                .await?
        {
            // A spent token of this family came back, or two uses of one
            // token raced: someone holds a copy, so the family ends.
            self.store.revoke_session(&session.user_uid, sid).await?;
            self.audit
                .record(Event {
                    actor: None,
                    ip: None,
                    action: "refresh.reuse",
                    target: Some(&session.user_uid),
                    success: false,
                })
                .await;
            return Err(AuthError::RefreshReused);
        }
        let user = self
            .live_user(&session.user_uid)
            .await
            .ok_or(AuthError::InvalidRefresh)?;
        self.token_pair(&user, sid, new_token, now)
    }

    /// Ends the principal's session: its refresh token and every access token
    /// issued for it stop working at once.
    pub async fn logout(&self, principal: &Principal) -> Result<(), AuthError> {
        require_session(principal)?;
        self.store
            .revoke_session(&principal.user_id, &principal.session_id)
            .await?;
        self.principal_event(principal, "logout").await;
        Ok(())
    }

    /// The caller's account, when `password` is its current password. What
    /// outlives a session (a new password, an API key) asks again who the
    /// caller is, so that a stolen access token cannot turn into lasting
    /// access. A wrong password counts toward the lockout like a failed
    /// login, and a locked account is refused: a stolen token is no way
    /// around guessing limits.
    async fn reauthenticate(
        &self,
        principal: &Principal,
        password: &str,
    ) -> Result<UserRecord, AuthError> {
        require_session(principal)?;
        let user = self
            .live_user(&principal.user_id)
            .await
            .ok_or(AuthError::InvalidToken)?;
        let now = unix_now();
        let ip = principal.ip.as_deref().unwrap_or("-");
        let verified = self.check_password(Some(&user), password, now, ip).await?;
        if verified == Verified::No {
            // Guessing with a stolen token shows as a login failure would:
            // the fail2ban line, the audit trail and the lockout.
            tracing::warn!(target: "fin::audit", "auth failure user={} ip={ip}", user.username);
            self.audit
                .record(Event {
                    actor: Some(&user.username),
                    ip: principal.ip.as_deref(),
                    action: "reauthenticate",
                    target: None,
                    success: false,
                })
                .await;
            return Err(AuthError::InvalidCredentials);
        }
        Ok(user)
    }

    /// Changes the caller's password after checking the current one, and
    /// ends their other sessions.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: &str,
        new: &str,
    ) -> Result<(), AuthError> {
        let user = self.reauthenticate(principal, current).await?;
        let context: Vec<&str> = [Some(user.username.as_str()), user.email.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        super::policy::check_password(new, &context)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        let hash = self.hashing.hash_in_slot(new.to_string()).await?;
        self.store
            .update_user(&user.username, crate::store::UserChange::PasswordHash(hash))
            .await?;
        self.store
            .revoke_other_sessions(&user.uid, Some(&principal.session_id))
            .await?;
        // Keys made with a stolen login must not outlive the password that
        // takes the account back: the user makes new ones.
        self.store.revoke_all_api_keys(&user.uid).await?;
        self.principal_event(principal, "password.change").await;
        Ok(())
    }

    async fn principal_event(&self, principal: &Principal, action: &'static str) {
        self.audit
            .record(Event {
                actor: Some(&principal.username),
                ip: principal.ip.as_deref(),
                action,
                target: None,
                success: true,
            })
            .await;
    }

    /// The caller's live sessions, newest first.
    pub async fn list(
        &self,
        principal: &Principal,
    ) -> Result<Vec<fin_proto::api::SessionInfo>, AuthError> {
        require_session(principal)?;
        let sessions = self
            .store
            .sessions_of(&principal.user_id, unix_now())
            .await?;
        Ok(sessions
            .into_iter()
            .map(|s| fin_proto::api::SessionInfo {
                current: s.sid == principal.session_id,
                id: s.sid,
                created_at: s.created_at,
                last_used_at: s.last_used_at,
                expires_at: s.expires_at,
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect())
    }

    /// Ends one of the caller's sessions; another user's session is "not found".
    pub async fn end(&self, principal: &Principal, sid: &str) -> Result<(), AuthError> {
        require_session(principal)?;
        if self.store.revoke_session(&principal.user_id, sid).await? {
            Ok(())
        } else {
            Err(AuthError::NoSuchSession)
        }
    }

    /// Makes an API key for the caller; the key is shown only in this answer.
    /// It lives at most [`MAX_API_KEY_DAYS`] days, or until revoked.
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        request: fin_proto::api::CreateApiKey,
    ) -> Result<fin_proto::api::ApiKeyCreated, AuthError> {
        self.reauthenticate(principal, &request.password).await?;
        // The length as sent, as the API document states it.
        if is_blank(&request.name) || request.name.chars().count() > 100 {
            return Err(AuthError::InvalidRequest(
                "the key needs a name of 1 to 100 characters, not all blank".into(),
            ));
        }
        let name = request.name.trim().to_string();
        let mut scopes = request.scopes;
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() || scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
            return Err(AuthError::InvalidRequest(
                "scopes must be one or more of read, write, receipts, ledger".into(),
            ));
        }
        if principal.role == "guest" && scopes.iter().any(|s| s != "read") {
            return Err(AuthError::Forbidden(
                "guests can only make read keys".into(),
            ));
        }
        let now = unix_now();
        let expires_at = match request.expires_in_days {
            Some(days @ 1..=MAX_API_KEY_DAYS) => Some(now + i64::from(days) * 86_400),
            Some(_) => {
                return Err(AuthError::InvalidRequest(format!(
                    "expires_in_days must be 1 to {MAX_API_KEY_DAYS}"
                )));
            }
            None => None,
        };
        let (kid, secret) = (random_hex(8)?, random_hex(24)?);
        let record = crate::store::ApiKeyRecord {
            kid: kid.clone(),
            user_uid: principal.user_id.clone(),
            name,
            scopes,
            secret_hash: sha256_hex(&secret),
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked: false,
        };
        self.store.create_api_key(&record).await?;
        self.principal_event(principal, "api_key.create").await;
        Ok(fin_proto::api::ApiKeyCreated {
            key: format!("fin_{kid}_{secret}"),
            info: key_info(record),
        })
    }

    pub async fn api_keys(
        &self,
        principal: &Principal,
    ) -> Result<Vec<fin_proto::api::ApiKeyInfo>, AuthError> {
        require_session(principal)?;
        Ok(self
            .store
            .api_keys_of(&principal.user_id)
            .await?
            .into_iter()
            .map(key_info)
            .collect())
    }

    /// Revokes one of the caller's keys; another user's key is "not found".
    pub async fn revoke_api_key(&self, principal: &Principal, id: &str) -> Result<(), AuthError> {
        require_session(principal)?;
        if !self.store.revoke_api_key(&principal.user_id, id).await? {
            return Err(AuthError::NoSuchApiKey);
        }
        self.principal_event(principal, "api_key.revoke").await;
        Ok(())
    }

    /// The principal behind `fin_<id>_<secret>`.
    async fn authenticate_key(&self, token: &str, now: i64) -> Result<Principal, AuthError> {
        let (kid, secret) = token
            .strip_prefix("fin_")
            .and_then(|rest| rest.split_once('_'))
            .ok_or(AuthError::InvalidToken)?;
        let key = self
            .store
            .api_key_by_kid(kid)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        let valid = !key.revoked
            && key.expires_at.is_none_or(|at| at > now)
            && key.secret_hash == sha256_hex(secret);
        if !valid {
            return Err(AuthError::InvalidToken);
        }
        let user = self
            .live_user(&key.user_uid)
            .await
            .ok_or(AuthError::InvalidToken)?;
        if key
            .last_used_at
            .is_none_or(|at| now - at >= TOUCH_EVERY_SECONDS)
        {
            self.store.touch_api_key(kid, now).await?;
        }
        Ok(principal(
            user,
            String::new(),
            Some(ApiKeyGrant {
                id: key.kid,
                scopes: key.scopes,
            }),
        ))
    }

    /// The principal behind an access token or API key: signature and claims
    /// valid (or key known and live), its session live, its user active.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        let now = unix_now();
        if token.starts_with("fin_") {
            return self.authenticate_key(token, now).await;
        }
        let claims = {
            let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
            keys.verify(token, now)
                .map_err(|_| AuthError::InvalidToken)?
        };
        let session = self.store.session_by_sid(&claims.sid).await?;
        let live =
            session.is_some_and(|s| !s.revoked && s.user_uid == claims.sub && s.expires_at > now);
        if !live {
            return Err(AuthError::InvalidToken);
        }
        let user = self
            .live_user(&claims.sub)
            .await
            .ok_or(AuthError::InvalidToken)?;
        Ok(principal(user, claims.sid, None))
    }

    async fn live_user(&self, uid: &str) -> Option<UserRecord> {
        match self.store.user_by_uid(uid).await {
            Ok(Some(user)) if !user.disabled => Some(user),
            Ok(_) => None,
            Err(e) => {
                tracing::error!(error = %e, "user lookup failed");
                None
            }
        }
    }

    fn token_pair(
        &self,
        user: &UserRecord,
        sid: &str,
        refresh_token: String,
        now: i64,
    ) -> Result<TokenPair, AuthError> {
        let claims = AccessClaims {
            sub: user.uid.clone(),
            role: user.role.clone(),
            sid: sid.to_string(),
            jti: random_hex(16)?,
            iat: now,
            nbf: now,
            exp: now + secs(self.policy.access_token),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        let access_token = self
            .keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .sign(&claims)
            .map_err(|e| AuthError::Internal(e.to_string()))?;
        Ok(TokenPair {
            access_token,
            token_type: "Bearer".into(),
            expires_in: self.policy.access_token.as_secs(),
            refresh_token,
        })
    }
}

/// The acting principal for an active `user`.
fn principal(user: UserRecord, session_id: String, api_key: Option<ApiKeyGrant>) -> Principal {
    Principal {
        user_id: user.uid,
        username: user.username,
        email: user.email,
        role: user.role,
        session_id,
        ip: None,
        api_key,
    }
}

/// Session and key management needs a login session, not an API key.
fn require_session(principal: &Principal) -> Result<(), AuthError> {
    if principal.api_key.is_some() {
        Err(AuthError::Forbidden(
            "this needs a login session, not an API key (revoke keys with DELETE /api/v1/api-keys/{id})".into(),
        ))
    } else {
        Ok(())
    }
}

fn key_info(record: crate::store::ApiKeyRecord) -> fin_proto::api::ApiKeyInfo {
    fin_proto::api::ApiKeyInfo {
        id: record.kid,
        name: record.name,
        scopes: record.scopes,
        created_at: record.created_at,
        expires_at: record.expires_at,
        last_used_at: record.last_used_at,
    }
}

/// A refresh token `<sid>.<secret>`, the hash of its secret, and the sid.
fn new_refresh(sid: Option<&str>) -> Result<(String, String, String), AuthError> {
    let sid = match sid {
        Some(sid) => sid.to_string(),
        None => random_hex(16)?,
    };
    let secret = random_hex(32)?;
    let hash = sha256_hex(&secret);
    Ok((format!("{sid}.{secret}"), hash, sid))
}

fn random_hex(bytes: usize) -> Result<String, AuthError> {
    support::random_hex(bytes).map_err(|e| AuthError::Internal(e.to_string()))
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4)
}
