//! The auth area: log in, refresh, log out, who am I, one's password,
//! sessions and API keys, and registration.

use fin_proto::api::{
    ApiKeyCreated, ApiKeyInfo, ChangePassword, CreateApiKey, LoginRequest, Me, RefreshRequest,
    RegisterRequest, SessionInfo, TokenPair,
};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::access;
use super::error::reject;
use super::extract::{client_info, json_body, with};
use super::json::created;
use super::limits::{Class, RateLimits};
use super::route::{Body, Route, path_param};
use crate::service::Services;
use crate::service::auth::sessions::{ClientInfo, Principal};

/// The auth area's routes.
pub fn routes(services: &Services, limits: &RateLimits) -> Vec<Route> {
    let user = || access::user(services, limits);
    let (login_class, api) = (Some(Class::Login), Some(Class::Api));
    vec![
        Route::new::<__path_login, _>(
            login_class,
            Body::Json,
            json_body()
                .and(client_info())
                .and(with(services))
                .and_then(login),
        ),
        Route::new::<__path_refresh, _>(
            login_class,
            Body::Json,
            json_body().and(with(services)).and_then(refresh),
        ),
        Route::new::<__path_logout, _>(
            api,
            Body::None,
            user().and(with(services)).and_then(logout),
        ),
        Route::new::<__path_me, _>(api, Body::None, user().and_then(me)),
        Route::new::<__path_change_password, _>(
            login_class,
            Body::Json,
            user()
                .and(json_body())
                .and(with(services))
                .and_then(change_password),
        ),
        Route::new::<__path_sessions, _>(
            api,
            Body::None,
            user().and(with(services)).and_then(sessions),
        ),
        Route::new::<__path_end_session, _>(
            api,
            Body::None,
            path_param()
                .and(user())
                .and(with(services))
                .and_then(end_session),
        ),
        Route::new::<__path_create_api_key, _>(
            api,
            Body::Json,
            user()
                .and(json_body())
                .and(with(services))
                .and_then(create_api_key),
        ),
        Route::new::<__path_api_keys, _>(
            api,
            Body::None,
            user().and(with(services)).and_then(api_keys),
        ),
        Route::new::<__path_revoke_api_key, _>(
            api,
            Body::None,
            path_param()
                .and(user())
                .and(with(services))
                .and_then(revoke_api_key),
        ),
        Route::new::<__path_register, _>(
            login_class,
            Body::Json,
            json_body()
                .and(client_info())
                .and(with(services))
                .and_then(register),
        ),
    ]
}

/// Log in with user name and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        (status = 401, description = "Wrong user name or password", body = fin_proto::api::Problem),
        (status = 503, description = "Too many password checks at once; Retry-After says when to try again", body = fin_proto::api::Problem)))]
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

/// Change one's password; the other sessions end and one's API keys are revoked.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])), request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed; other sessions ended"),
        (status = 401, description = "Not logged in, or the current password is wrong", body = fin_proto::api::Problem),
        (status = 422, description = "The new password breaks the policy", body = fin_proto::api::Problem),
        (status = 503, description = "Too many password checks at once; Retry-After says when to try again", body = fin_proto::api::Problem)))]
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

/// Make an API key for scripts, with one's current password; the key is
/// shown only in this answer.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "auth", security(("bearer" = [])), request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created; `key` is shown only now", body = ApiKeyCreated),
        (status = 401, description = "Not logged in, or the password is wrong (counts toward the lockout)", body = fin_proto::api::Problem),
        (status = 503, description = "Too many password checks at once; Retry-After says when to try again", body = fin_proto::api::Problem),
        (status = 403, description = "Called with an API key, or a guest asking for more than read", body = fin_proto::api::Problem),
        (status = 422, description = "Bad name, scopes or expiry", body = fin_proto::api::Problem)))]
pub async fn create_api_key(
    principal: Principal,
    request: CreateApiKey,
    services: Services,
) -> Result<Response, Rejection> {
    let made = services
        .sessions
        .create_api_key(&principal, request)
        .await
        .map_err(reject)?;
    Ok(no_store(created(&made)))
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

/// Create one's own account, when `auth.registration` is `open` or `invite`.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, description = "Created; log in next", body = fin_proto::admin::User),
        (status = 403, description = "Registration closed, or the invitation code is unknown, used or expired", body = fin_proto::api::Problem),
        (status = 409, description = "The name is taken", body = fin_proto::api::Problem),
        (status = 422, description = "Bad name, e-mail or password", body = fin_proto::api::Problem),
        (status = 503, description = "Too many password checks at once; Retry-After says when to try again", body = fin_proto::api::Problem)))]
pub async fn register(
    request: RegisterRequest,
    client: ClientInfo,
    services: Services,
) -> Result<Response, Rejection> {
    let user = services
        .users
        .register(request, client.ip.as_deref())
        .await
        .map_err(reject)?;
    Ok(created(&user))
}

/// Token responses must not be cached anywhere.
fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        "cache-control",
        warp::http::HeaderValue::from_static("no-store"),
    );
    response
}
