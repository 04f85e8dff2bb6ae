//! Who is calling: the filters that turn `Authorization: Bearer <token>`
//! into the acting principal, charge the user's allowance of the route's
//! rate-limit class, and check API-key scopes and the admin role.

use warp::filters::BoxedFilter;
use warp::http::{Method, StatusCode};
use warp::{Filter, Rejection};

use super::error::reject;
use super::limits::RateLimits;
use super::peer::ClientAddr;
use super::problem::ApiRejection;
use super::route::Matched;
use crate::service::Services;
use crate::service::auth::sessions::{AuthError, Principal};

/// A signed-in user (or an API key with the `read` or `write` scope the method needs).
pub fn user(services: &Services, limits: &RateLimits) -> BoxedFilter<(Principal,)> {
    user_in(services, limits, None)
}

/// As [`user`]; an API key with `area_scope` (e.g. `receipts`) may also
/// read and write that area.
pub fn user_in(
    services: &Services,
    limits: &RateLimits,
    area_scope: Option<&'static str>,
) -> BoxedFilter<(Principal,)> {
    let services = services.clone();
    let limits = limits.clone();
    warp::header::optional::<String>("authorization")
        .and(warp::ext::optional::<ClientAddr>())
        .and(warp::ext::get::<Matched>())
        .and(warp::method())
        .and_then(
            move |header: Option<String>,
                  client: Option<ClientAddr>,
                  matched: Matched,
                  method: Method| {
                let services = services.clone();
                let limits = limits.clone();
                async move {
                    let token = bearer_token(header.as_deref())
                        .ok_or_else(|| reject(AuthError::InvalidToken))?;
                    let mut principal = services
                        .sessions
                        .authenticate(token)
                        .await
                        .map_err(reject)?;
                    principal.ip = client.map(|c| c.0.to_string());
                    // The user's own allowance, so that spreading requests
                    // over many addresses does not escape the limit.
                    if let Some(class) = matched.class {
                        let decision = limits.check_user(class, &principal.user_id);
                        if !decision.allowed {
                            return Err(warp::reject::custom(super::limits::refusal(
                                class, &decision,
                            )));
                        }
                    }
                    check_scope(&principal, &method, area_scope)?;
                    Ok::<_, Rejection>(principal)
                }
            },
        )
        .boxed()
}

/// A signed-in admin, or 403. Account management wants a login session:
/// an API key, made for scripts and kept in files, never manages accounts.
pub fn admin(services: &Services, limits: &RateLimits) -> BoxedFilter<(Principal,)> {
    user(services, limits)
        .and_then(|principal: Principal| async move {
            if principal.role != "admin" {
                Err(forbidden("forbidden", "this needs the admin role"))
            } else if principal.api_key.is_some() {
                Err(forbidden(
                    "session_required",
                    "admin actions need a signed-in session, not an API key",
                ))
            } else {
                Ok(principal)
            }
        })
        .boxed()
}

fn forbidden(code: &'static str, detail: &'static str) -> Rejection {
    warp::reject::custom(ApiRejection::new(StatusCode::FORBIDDEN, code, detail))
}

fn bearer_token(header: Option<&str>) -> Option<&str> {
    header
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// An API key acts only within its scopes: `read` for GET and HEAD,
/// `write` for everything, or the route's area scope.
fn check_scope(
    principal: &Principal,
    method: &Method,
    area_scope: Option<&'static str>,
) -> Result<(), Rejection> {
    let Some(grant) = &principal.api_key else {
        return Ok(());
    };
    let reading = method == Method::GET || method == Method::HEAD;
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    let in_area = area_scope.is_some_and(has);
    if in_area || has("write") || (reading && has("read")) {
        return Ok(());
    }
    let needed = if reading { "read" } else { "write" };
    Err(warp::reject::custom(ApiRejection::new(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        format!("this API key lacks the {needed} scope"),
    )))
}
