//! Account administration over HTTPS, for admins; the same operations as
//! `finctl user` on the admin socket.

use fin_proto::admin::{CreateUser, SetPassword, SetRole};
use fin_proto::api::{CreateInvite, Invite, RegisterRequest};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Rejection, Reply};

use super::error::reject;
use crate::service::auth::sessions::Principal;
use crate::service::{ServiceError, Services};

fn user_reply(result: Result<fin_proto::admin::User, ServiceError>) -> Result<Response, Rejection> {
    result
        .map(|user| warp::reply::json(&user).into_response())
        .map_err(reject)
}

/// All accounts.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Accounts"), (status = 403, description = "Not an admin", body = fin_proto::api::Problem)))]
pub async fn list(_admin: Principal, services: Services) -> Result<Response, Rejection> {
    let users = services.users.list().await.map_err(reject)?;
    Ok(warp::reply::json(&users).into_response())
}

/// Create an account.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 201, description = "Created"),
        (status = 409, description = "The name is taken", body = fin_proto::api::Problem),
        (status = 422, description = "Bad name, role, e-mail or password", body = fin_proto::api::Problem)))]
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
    Ok(warp::reply::with_status(warp::reply::json(&user), StatusCode::CREATED).into_response())
}

/// One account.
#[utoipa::path(get, path = "/api/v1/admin/users/{name}", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "User name")),
    responses((status = 200, description = "The account"), (status = 404, description = "No such user", body = fin_proto::api::Problem)))]
pub async fn show(
    name: String,
    _admin: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    user_reply(services.users.show(&name).await)
}

/// Change an account's role.
#[utoipa::path(post, path = "/api/v1/admin/users/{name}/role", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "User name")),
    responses((status = 200, description = "Changed"), (status = 422, description = "Unknown role", body = fin_proto::api::Problem)))]
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

/// Disable, enable or unlock an account.
#[utoipa::path(post, path = "/api/v1/admin/users/{name}/{action}", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "User name"), ("action" = String, Path, description = "disable, enable or unlock")),
    responses((status = 200, description = "Done"), (status = 404, description = "No such user or action", body = fin_proto::api::Problem)))]
pub async fn action(
    name: String,
    action: String,
    admin: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let users = &services.users;
    let result = match action.as_str() {
        "disable" => users.set_disabled(&name, true, &admin.username).await,
        "enable" => users.set_disabled(&name, false, &admin.username).await,
        "unlock" => match users.unlock(&name, &admin.username).await {
            Ok(()) => users.show(&name).await,
            Err(e) => Err(e),
        },
        _ => return Err(warp::reject::not_found()),
    };
    user_reply(result)
}

/// Set a new password; the account's sessions end.
#[utoipa::path(post, path = "/api/v1/admin/users/{name}/password", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "User name")),
    responses((status = 200, description = "Set"), (status = 422, description = "The password breaks the policy", body = fin_proto::api::Problem)))]
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
    Ok(warp::reply::with_status(warp::reply::json(&invite), StatusCode::CREATED).into_response())
}

/// Create one's own account, when `auth.registration` is `open` or `invite`.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, description = "Created; log in next"),
        (status = 403, description = "Registration closed, or the invitation code is unknown, used or expired", body = fin_proto::api::Problem),
        (status = 409, description = "The name is taken", body = fin_proto::api::Problem),
        (status = 422, description = "Bad name, e-mail or password", body = fin_proto::api::Problem)))]
pub async fn register(
    request: RegisterRequest,
    client: crate::service::auth::sessions::ClientInfo,
    services: Services,
) -> Result<Response, Rejection> {
    let user = services
        .users
        .register(request, client.ip.as_deref())
        .await
        .map_err(reject)?;
    Ok(warp::reply::with_status(warp::reply::json(&user), StatusCode::CREATED).into_response())
}
