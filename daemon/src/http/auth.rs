//! Authentication routes and the filter that turns a bearer token into the
//! acting principal.

use fin_proto::api::{
    ApiKeyCreated, ApiKeyInfo, ChangePassword, CreateApiKey, LoginRequest, Me, RefreshRequest,
    SessionInfo, TokenPair,
};
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::error::reject;
use super::limits::{Class, RateLimits};
use super::peer::PeerAddr;
use super::problem::ApiRejection;
use crate::service::Services;
use crate::service::audit::AuditQuery;
use crate::service::auth::sessions::{AuthError, ClientInfo, Principal};

/// JSON request bodies are small; uploads have their own limits.
pub const MAX_JSON_BYTES: u64 = 64 * 1024;

/// A JSON body of at most [`MAX_JSON_BYTES`], `Content-Type: application/json`.
pub fn json_body<T: serde::de::DeserializeOwned + Send>()
-> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    warp::body::content_length_limit(MAX_JSON_BYTES).and(warp::body::json())
}

/// The principal behind `Authorization: Bearer <access token>`, or 401.
pub fn authenticated(services: Services, limits: RateLimits) -> BoxedFilter<(Principal,)> {
    authenticated_for(services, limits, Class::Api, None)
}

/// As [`authenticated`], charging the user's allowance of `class`; an API
/// key with `area_scope` (e.g. `receipts`) may read and write that area.
pub fn authenticated_for(
    services: Services,
    limits: RateLimits,
    class: Class,
    area_scope: Option<&'static str>,
) -> BoxedFilter<(Principal,)> {
    warp::header::optional::<String>("authorization")
        .and(warp::ext::optional::<PeerAddr>())
        .and(warp::method())
        .and_then(
            move |header: Option<String>, peer: Option<PeerAddr>, method: warp::http::Method| {
                let services = services.clone();
                let limits = limits.clone();
                async move {
                    let token = header
                        .as_deref()
                        .and_then(|h| {
                            h.strip_prefix("Bearer ")
                                .or_else(|| h.strip_prefix("bearer "))
                        })
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .ok_or_else(|| reject(AuthError::InvalidToken))?;
                    let mut principal = services
                        .sessions
                        .authenticate(token)
                        .await
                        .map_err(reject)?;
                    principal.ip = peer.map(|p| p.0.ip().to_string());
                    let decision = limits.check_user(class, &principal.user_id);
                    if !decision.allowed {
                        return Err(warp::reject::custom(super::limits::refusal(
                            class, &decision,
                        )));
                    }
                    if let Some(grant) = &principal.api_key {
                        let reading =
                            method == warp::http::Method::GET || method == warp::http::Method::HEAD;
                        let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
                        let in_area = area_scope.is_some_and(has);
                        if !(in_area || has("write") || (reading && has("read"))) {
                            let needed = if reading { "read" } else { "write" };
                            return Err(warp::reject::custom(ApiRejection::new(
                                StatusCode::FORBIDDEN,
                                "insufficient_scope",
                                format!("this API key lacks the {needed} scope"),
                            )));
                        }
                    }
                    Ok::<_, Rejection>(principal)
                }
            },
        )
        .boxed()
}

/// An authenticated admin, or 403.
pub fn admin(services: Services, limits: RateLimits) -> BoxedFilter<(Principal,)> {
    authenticated(services, limits)
        .and_then(|principal: Principal| async move {
            if principal.role == "admin" {
                Ok(principal)
            } else {
                Err(warp::reject::custom(ApiRejection::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "this needs the admin role",
                )))
            }
        })
        .boxed()
}

/// Filters of `GET /api/v1/admin/audit`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only events at or after this Unix time.
    pub since: Option<i64>,
    /// Only events by or about this user.
    pub user: Option<String>,
    /// At most this many events (default 100, at most 10000).
    pub limit: Option<u32>,
    /// Skip this many (newest) events: the next page.
    pub offset: Option<u32>,
}

/// The audit trail of security events, newest first (admins only).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", security(("bearer" = [])), params(AuditParams),
    responses(
        (status = 200, description = "Events, newest first", body = [fin_proto::api::AuditEntry]),
        (status = 401, description = "Not logged in", body = fin_proto::api::Problem),
        (status = 403, description = "Not an admin", body = fin_proto::api::Problem)))]
pub async fn audit(
    _admin: Principal,
    params: AuditParams,
    services: Services,
) -> Result<Response, Rejection> {
    let user = params.user.map(|u| u.trim().to_lowercase());
    let entries = services
        .audit
        .list(AuditQuery {
            since: params.since,
            user,
            limit: params.limit.unwrap_or(100),
            offset: params.offset.unwrap_or(0),
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reading the audit trail failed");
            warp::reject::custom(ApiRejection::internal())
        })?;
    Ok(warp::reply::json(&entries).into_response())
}

/// Peer address and user agent, recorded with new sessions.
pub fn client_info() -> impl Filter<Extract = (ClientInfo,), Error = Rejection> + Clone {
    warp::ext::optional::<PeerAddr>()
        .and(warp::header::optional::<String>("user-agent"))
        .map(
            |peer: Option<PeerAddr>, user_agent: Option<String>| ClientInfo {
                ip: peer.map(|p| p.0.ip().to_string()),
                user_agent,
            },
        )
}

/// Log in with user name and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        (status = 401, description = "Wrong user name or password", body = fin_proto::api::Problem)))]
pub async fn login(
    request: LoginRequest,
    client: ClientInfo,
    services: Services,
) -> Result<Response, Rejection> {
    let tokens = services
        .sessions
        .login(&request.username, &request.password, client)
        .await
        .map_err(reject)?;
    Ok(no_store(warp::reply::json(&tokens).into_response()))
}

/// Trade a refresh token for new tokens; the old refresh token is spent.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenPair),
        (status = 401, description = "Invalid, expired or reused refresh token (reuse ends the session)", body = fin_proto::api::Problem)))]
pub async fn refresh(request: RefreshRequest, services: Services) -> Result<Response, Rejection> {
    let tokens = services
        .sessions
        .refresh(&request.refresh_token)
        .await
        .map_err(reject)?;
    Ok(no_store(warp::reply::json(&tokens).into_response()))
}

/// End this session: its access and refresh tokens stop working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not logged in", body = fin_proto::api::Problem)))]
pub async fn logout(principal: Principal, services: Services) -> Result<Response, Rejection> {
    services.sessions.logout(&principal).await.map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The logged-in user", body = Me),
        (status = 401, description = "Not logged in", body = fin_proto::api::Problem)))]
pub async fn me(principal: Principal) -> Result<Response, Rejection> {
    Ok(warp::reply::json(&Me {
        id: principal.user_id,
        username: principal.username,
        email: principal.email,
        role: principal.role,
    })
    .into_response())
}

/// Change one's password; the other sessions end.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])), request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed; other sessions ended"),
        (status = 401, description = "Not logged in, or the current password is wrong", body = fin_proto::api::Problem),
        (status = 422, description = "The new password breaks the policy", body = fin_proto::api::Problem)))]
pub async fn change_password(
    principal: Principal,
    request: ChangePassword,
    services: Services,
) -> Result<Response, Rejection> {
    services
        .sessions
        .change_password(&principal, &request.current_password, &request.new_password)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// One's live login sessions.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "Sessions, newest first", body = [SessionInfo]),
        (status = 401, description = "Not logged in", body = fin_proto::api::Problem)))]
pub async fn sessions(principal: Principal, services: Services) -> Result<Response, Rejection> {
    let list = services.sessions.list(&principal).await.map_err(reject)?;
    Ok(warp::reply::json(&list).into_response())
}

/// End one of one's sessions.
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "No such session of yours", body = fin_proto::api::Problem)))]
pub async fn end_session(
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    services
        .sessions
        .end(&principal, &id)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Make an API key for scripts; the key is shown only in this answer.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "auth", security(("bearer" = [])), request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created; `key` is shown only now", body = ApiKeyCreated),
        (status = 403, description = "Called with an API key, or a guest asking for more than read", body = fin_proto::api::Problem),
        (status = 422, description = "Bad name, scopes or expiry", body = fin_proto::api::Problem)))]
pub async fn create_api_key(
    principal: Principal,
    request: CreateApiKey,
    services: Services,
) -> Result<Response, Rejection> {
    let created = services
        .sessions
        .create_api_key(&principal, request)
        .await
        .map_err(reject)?;
    Ok(no_store(
        warp::reply::with_status(warp::reply::json(&created), StatusCode::CREATED).into_response(),
    ))
}

/// One's API keys (never their secrets).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "Keys, newest first", body = [ApiKeyInfo])))]
pub async fn api_keys(principal: Principal, services: Services) -> Result<Response, Rejection> {
    let keys = services
        .sessions
        .api_keys(&principal)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&keys).into_response())
}

/// Revoke one of one's API keys; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = String, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such key of yours", body = fin_proto::api::Problem)))]
pub async fn revoke_api_key(
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    services
        .sessions
        .revoke_api_key(&principal, &id)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Token responses must not be cached anywhere.
fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        "cache-control",
        warp::http::HeaderValue::from_static("no-store"),
    );
    response
}
