//! The admin area over HTTPS: accounts, invitations and the audit trail;
//! the same operations as `finctl user` and `finctl audit` on the admin socket.

use fin_proto::admin::{CreateUser, SetPassword, SetRole, User};
use fin_proto::api::{AuditEntry, CreateInvite, Invite};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::access;
use super::error::reject;
use super::extract::{json_body, page, with};
use super::json::created;
use super::limits::{Class, RateLimits};
use super::problem::ApiRejection;
use super::route::{Body, Route, path_param};
use crate::service::audit::AuditQuery;
use crate::service::auth::sessions::Principal;
use crate::service::{ServiceError, Services};

/// The admin area's routes.
pub fn routes(services: &Services, limits: &RateLimits) -> Vec<Route> {
    let admin = || access::admin(services, limits);
    let api = Some(Class::Api);
    vec![
        Route::new::<__path_list, _>(api, Body::None, admin().and(with(services)).and_then(list)),
        Route::new::<__path_create, _>(
            api,
            Body::Json,
            admin()
                .and(json_body())
                .and(with(services))
                .and_then(create),
        ),
        Route::new::<__path_show, _>(
            api,
            Body::None,
            path_param().and(admin()).and(with(services)).and_then(show),
        ),
        Route::new::<__path_delete, _>(
            api,
            Body::None,
            path_param()
                .and(admin())
                .and(with(services))
                .and_then(delete),
        ),
        Route::new::<__path_set_role, _>(
            api,
            Body::Json,
            path_param()
                .and(admin())
                .and(json_body())
                .and(with(services))
                .and_then(set_role),
        ),
        Route::new::<__path_set_password, _>(
            api,
            Body::Json,
            path_param()
                .and(admin())
                .and(json_body())
                .and(with(services))
                .and_then(set_password),
        ),
        Route::new::<__path_disable, _>(
            api,
            Body::None,
            path_param()
                .and(admin())
                .and(with(services))
                .and_then(disable),
        ),
        Route::new::<__path_enable, _>(
            api,
            Body::None,
            path_param()
                .and(admin())
                .and(with(services))
                .and_then(enable),
        ),
        Route::new::<__path_unlock, _>(
            api,
            Body::None,
            path_param()
                .and(admin())
                .and(with(services))
                .and_then(unlock),
        ),
        Route::new::<__path_create_invite, _>(
            api,
            Body::Json,
            admin()
                .and(json_body())
                .and(with(services))
                .and_then(create_invite),
        ),
        Route::new::<__path_audit, _>(
            api,
            Body::None,
            admin()
                .and(warp::query::<AuditParams>())
                .and(with(services))
                .and_then(audit),
        ),
    ]
}

fn user_reply(result: Result<fin_proto::admin::User, ServiceError>) -> Result<Response, Rejection> {
    result
        .map(|user| warp::reply::json(&user).into_response())
        .map_err(reject)
}

/// All accounts.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Accounts", body = [User])))]
pub async fn list(_admin: Principal, services: Services) -> Result<Response, Rejection> {
    let users = services.users.list().await.map_err(reject)?;
    Ok(warp::reply::json(&users).into_response())
}

/// Create an account.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])), request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = User),
        (status = 409, description = "The name is taken", body = fin_proto::api::Problem),
        (status = 422, description = "Bad name, role, e-mail or password", body = fin_proto::api::Problem),
        (status = 503, description = "Too many password checks at once; Retry-After says when to try again", body = fin_proto::api::Problem)))]
pub async fn create(
    admin: Principal,
    request: CreateUser,
    services: Services,
) -> Result<Response, Rejection> {
    let user = services
        .users
        .create(request, &admin.username)
        .await
        .map_err(reject)?;
    Ok(created(&user))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/admin/users/{name}", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "User name")),
    responses((status = 200, description = "The account", body = User), (status = 404, description = "No such user", body = fin_proto::api::Problem)))]
pub async fn show(
    name: String,
    _admin: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    user_reply(services.users.show(&name).await)
}

/// Change an account's role.
#[utoipa::path(post, path = "/api/v1/admin/users/{name}/role", tag = "admin", security(("bearer" = [])), request_body = SetRole,
    params(("name" = String, Path, description = "User name")),
    responses((status = 200, description = "Changed", body = User), (status = 404, description = "No such user", body = fin_proto::api::Problem),
        (status = 422, description = "Unknown role", body = fin_proto::api::Problem)))]
pub async fn set_role(
    name: String,
    admin: Principal,
    body: SetRole,
    services: Services,
) -> Result<Response, Rejection> {
    user_reply(
        services
            .users
            .set_role(&name, &body.role, &admin.username)
            .await,
    )
}

/// Disable an account: it cannot log in, and its sessions and API keys stop working.
#[utoipa::path(post, path = "/api/v1/admin/users/{name}/disable", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "User name")),
    responses((status = 200, description = "Disabled", body = User), (status = 404, description = "No such user", body = fin_proto::api::Problem)))]
pub async fn disable(
    name: String,
    admin: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    set_disabled(&name, true, &admin, &services).await
}

/// Enable a disabled account again.
#[utoipa::path(post, path = "/api/v1/admin/users/{name}/enable", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "User name")),
    responses((status = 200, description = "Enabled", body = User), (status = 404, description = "No such user", body = fin_proto::api::Problem)))]
pub async fn enable(
    name: String,
    admin: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    set_disabled(&name, false, &admin, &services).await
}

async fn set_disabled(
    name: &str,
    disabled: bool,
    admin: &Principal,
    services: &Services,
) -> Result<Response, Rejection> {
    let result = services
        .users
        .set_disabled(name, disabled, &admin.username)
        .await;
    user_reply(result)
}

/// Lift a lockout after failed logins.
#[utoipa::path(post, path = "/api/v1/admin/users/{name}/unlock", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "User name")),
    responses((status = 200, description = "Unlocked", body = User), (status = 404, description = "No such user", body = fin_proto::api::Problem)))]
pub async fn unlock(
    name: String,
    admin: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let users = &services.users;
    let result = match users.unlock(&name, &admin.username).await {
        Ok(()) => users.show(&name).await,
        Err(e) => Err(e),
    };
    user_reply(result)
}

/// Set a new password; the account's sessions end.
#[utoipa::path(post, path = "/api/v1/admin/users/{name}/password", tag = "admin", security(("bearer" = [])), request_body = SetPassword,
    params(("name" = String, Path, description = "User name")),
    responses((status = 200, description = "Set", body = User), (status = 404, description = "No such user", body = fin_proto::api::Problem),
        (status = 422, description = "The password breaks the policy", body = fin_proto::api::Problem),
        (status = 503, description = "Too many password checks at once; Retry-After says when to try again", body = fin_proto::api::Problem)))]
pub async fn set_password(
    name: String,
    admin: Principal,
    body: SetPassword,
    services: Services,
) -> Result<Response, Rejection> {
    user_reply(
        services
            .users
            .reset_password(&name, body.password, &admin.username)
            .await,
    )
}

/// Delete an account and its sessions.
#[utoipa::path(delete, path = "/api/v1/admin/users/{name}", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "User name")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such user", body = fin_proto::api::Problem)))]
pub async fn delete(
    name: String,
    admin: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    services
        .users
        .delete(&name, &admin.username)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Make a single-use invitation code (for `auth.registration = "invite"`).
#[utoipa::path(post, path = "/api/v1/admin/invites", tag = "admin", security(("bearer" = [])), request_body = CreateInvite,
    responses((status = 201, description = "The code, shown only now", body = Invite),
        (status = 422, description = "Bad role or expiry", body = fin_proto::api::Problem)))]
pub async fn create_invite(
    admin: Principal,
    request: CreateInvite,
    services: Services,
) -> Result<Response, Rejection> {
    let invite = services
        .users
        .create_invite(request, &admin.username)
        .await
        .map_err(reject)?;
    Ok(created(&invite))
}

/// Filters of `GET /api/v1/admin/audit`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only events at or after this Unix time.
    #[param(nullable = false)]
    pub since: Option<i64>,
    /// Only events by or about this user.
    #[param(nullable = false)]
    pub user: Option<String>,
    /// At most this many events (default 100).
    #[param(nullable = false, minimum = 1, maximum = 10000)]
    pub limit: Option<u32>,
    /// Skip this many (newest) events: the next page.
    #[param(nullable = false, maximum = 1000000)]
    pub offset: Option<u32>,
}

/// The largest page of the audit trail.
const MAX_AUDIT_PAGE: u32 = 10_000;

/// The audit trail of security events, newest first (admins only).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", security(("bearer" = [])), params(AuditParams),
    responses(
        (status = 200, description = "Events, newest first", body = [AuditEntry]),
        (status = 400, description = "A filter out of range", body = fin_proto::api::Problem)))]
pub async fn audit(
    _admin: Principal,
    params: AuditParams,
    services: Services,
) -> Result<Response, Rejection> {
    let (limit, offset) = page(params.limit, 100, MAX_AUDIT_PAGE, params.offset)?;
    let user = params.user.map(|u| u.trim().to_lowercase());
    let entries = services
        .audit
        .list(AuditQuery {
            since: params.since,
            user,
            limit,
            offset,
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reading the audit trail failed");
            warp::reject::custom(ApiRejection::internal())
        })?;
    Ok(warp::reply::json(&entries).into_response())
}
