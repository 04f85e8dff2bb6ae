//! The route table. Every route is declared here with its method and path
//! pattern; the pattern labels metrics and logs, and a test checks that the
//! OpenAPI document lists every route of this table.

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;

use super::limits::{Class, LimitedRoutes, RateLimits};
use super::{admin_users, auth, openapi, problem, receipts, system};
use crate::service::Services;

/// A route's pattern, attached to its responses for labelling.
#[derive(Debug, Clone, Copy)]
pub struct RoutePattern(pub &'static str);

pub struct Route {
    /// The rate-limit class requests to this route count against; none for health checks.
    pub class: Option<Class>,
    pub method: Method,
    /// OpenAPI-style path template, e.g. `/api/v1/receipts/{id}`.
    pub pattern: &'static str,
    pub filter: BoxedFilter<(Response,)>,
}

fn route<F>(class: Option<Class>, method: Method, pattern: &'static str, filter: F) -> Route
where
    F: Filter<Extract = (Response,), Error = warp::Rejection> + Clone + Send + Sync + 'static,
{
    Route {
        class,
        method,
        pattern,
        filter: filter.boxed(),
    }
}

/// Every route the HTTPS API serves.
pub fn all(services: Services, limits: &RateLimits) -> Vec<Route> {
    let with_services = with(&services);
    vec![
        route(
            None,
            Method::GET,
            "/healthz",
            warp::path!("healthz")
                .and(warp::get())
                .and_then(system::healthz),
        ),
        route(
            None,
            Method::GET,
            "/readyz",
            warp::path!("readyz")
                .and(warp::get())
                .and(with_services)
                .and_then(system::readyz),
        ),
        route(
            Some(Class::Login),
            Method::POST,
            "/api/v1/auth/login",
            warp::path!("api" / "v1" / "auth" / "login")
                .and(warp::post())
                .and(auth::json_body())
                .and(auth::client_info())
                .and(with(&services))
                .and_then(auth::login),
        ),
        route(
            Some(Class::Login),
            Method::POST,
            "/api/v1/auth/refresh",
            warp::path!("api" / "v1" / "auth" / "refresh")
                .and(warp::post())
                .and(auth::json_body())
                .and(with(&services))
                .and_then(auth::refresh),
        ),
        route(
            Some(Class::Api),
            Method::POST,
            "/api/v1/auth/logout",
            warp::path!("api" / "v1" / "auth" / "logout")
                .and(warp::post())
                .and(auth::authenticated(services.clone(), limits.clone()))
                .and(with(&services))
                .and_then(auth::logout),
        ),
        route(
            Some(Class::Api),
            Method::GET,
            "/api/v1/auth/me",
            warp::path!("api" / "v1" / "auth" / "me")
                .and(warp::get())
                .and(auth::authenticated(services.clone(), limits.clone()))
                .and_then(auth::me),
        ),
        route(
            Some(Class::Login),
            Method::POST,
            "/api/v1/auth/password",
            warp::path!("api" / "v1" / "auth" / "password")
                .and(warp::post())
                .and(auth::authenticated(services.clone(), limits.clone()))
                .and(auth::json_body())
                .and(with(&services))
                .and_then(auth::change_password),
        ),
        route(
            Some(Class::Api),
            Method::GET,
            "/api/v1/auth/sessions",
            warp::path!("api" / "v1" / "auth" / "sessions")
                .and(warp::get())
                .and(auth::authenticated(services.clone(), limits.clone()))
                .and(with(&services))
                .and_then(auth::sessions),
        ),
        route(
            Some(Class::Api),
            Method::DELETE,
            "/api/v1/auth/sessions/{id}",
            warp::path!("api" / "v1" / "auth" / "sessions" / String)
                .and(warp::delete())
                .and(auth::authenticated(services.clone(), limits.clone()))
                .and(with(&services))
                .and_then(auth::end_session),
        ),
        route(
            Some(Class::Api),
            Method::POST,
            "/api/v1/api-keys",
            warp::path!("api" / "v1" / "api-keys")
                .and(warp::post())
                .and(auth::authenticated(services.clone(), limits.clone()))
                .and(auth::json_body())
                .and(with(&services))
                .and_then(auth::create_api_key),
        ),
        route(
            Some(Class::Api),
            Method::GET,
            "/api/v1/api-keys",
            warp::path!("api" / "v1" / "api-keys")
                .and(warp::get())
                .and(auth::authenticated(services.clone(), limits.clone()))
                .and(with(&services))
                .and_then(auth::api_keys),
        ),
        route(
            Some(Class::Api),
            Method::DELETE,
            "/api/v1/api-keys/{id}",
            warp::path!("api" / "v1" / "api-keys" / String)
                .and(warp::delete())
                .and(auth::authenticated(services.clone(), limits.clone()))
                .and(with(&services))
                .and_then(auth::revoke_api_key),
        ),
        route(
            Some(Class::Api),
            Method::GET,
            "/api/v1/admin/users",
            warp::path!("api" / "v1" / "admin" / "users")
                .and(warp::get())
                .and(auth::admin(services.clone(), limits.clone()))
                .and(with(&services))
                .and_then(admin_users::list),
        ),
        route(
            Some(Class::Api),
            Method::POST,
            "/api/v1/admin/users",
            warp::path!("api" / "v1" / "admin" / "users")
                .and(warp::post())
                .and(auth::admin(services.clone(), limits.clone()))
                .and(auth::json_body())
                .and(with(&services))
                .and_then(admin_users::create),
        ),
        route(
            Some(Class::Api),
            Method::GET,
            "/api/v1/admin/users/{name}",
            warp::path!("api" / "v1" / "admin" / "users" / String)
                .and(warp::get())
                .and(auth::admin(services.clone(), limits.clone()))
                .and(with(&services))
                .and_then(admin_users::show),
        ),
        route(
            Some(Class::Api),
            Method::DELETE,
            "/api/v1/admin/users/{name}",
            warp::path!("api" / "v1" / "admin" / "users" / String)
                .and(warp::delete())
                .and(auth::admin(services.clone(), limits.clone()))
                .and(with(&services))
                .and_then(admin_users::delete),
        ),
        route(
            Some(Class::Api),
            Method::POST,
            "/api/v1/admin/users/{name}/role",
            warp::path!("api" / "v1" / "admin" / "users" / String / "role")
                .and(warp::post())
                .and(auth::admin(services.clone(), limits.clone()))
                .and(auth::json_body())
                .and(with(&services))
                .and_then(admin_users::set_role),
        ),
        route(
            Some(Class::Api),
            Method::POST,
            "/api/v1/admin/users/{name}/password",
            warp::path!("api" / "v1" / "admin" / "users" / String / "password")
                .and(warp::post())
                .and(auth::admin(services.clone(), limits.clone()))
                .and(auth::json_body())
                .and(with(&services))
                .and_then(admin_users::set_password),
        ),
        route(
            Some(Class::Api),
            Method::POST,
            "/api/v1/admin/users/{name}/{action}",
            warp::path!("api" / "v1" / "admin" / "users" / String / String)
                .and(warp::post())
                .and(auth::admin(services.clone(), limits.clone()))
                .and(with(&services))
                .and_then(admin_users::action),
        ),
        route(
            Some(Class::Api),
            Method::POST,
            "/api/v1/admin/invites",
            warp::path!("api" / "v1" / "admin" / "invites")
                .and(warp::post())
                .and(auth::admin(services.clone(), limits.clone()))
                .and(auth::json_body())
                .and(with(&services))
                .and_then(admin_users::create_invite),
        ),
        route(
            Some(Class::Login),
            Method::POST,
            "/api/v1/auth/register",
            warp::path!("api" / "v1" / "auth" / "register")
                .and(warp::post())
                .and(auth::json_body())
                .and(auth::client_info())
                .and(with(&services))
                .and_then(admin_users::register),
        ),
        route(
            Some(Class::Api),
            Method::GET,
            "/api/v1/admin/audit",
            warp::path!("api" / "v1" / "admin" / "audit")
                .and(warp::get())
                .and(auth::admin(services.clone(), limits.clone()))
                .and(warp::query::<auth::AuditParams>())
                .and(with(&services))
                .and_then(auth::audit),
        ),
        route(
            Some(Class::Upload),
            Method::POST,
            "/api/v1/receipts",
            warp::path!("api" / "v1" / "receipts")
                .and(warp::post())
                .and(receipts_user(&services, limits, Class::Upload))
                .and(receipts::upload_body())
                .and(with(&services))
                .and_then(|principal, content_type, body, services| {
                    receipts::upload(principal, content_type, Box::pin(body), services)
                }),
        ),
        route(
            Some(Class::Api),
            Method::GET,
            "/api/v1/receipts",
            warp::path!("api" / "v1" / "receipts")
                .and(warp::get())
                .and(receipts_user(&services, limits, Class::Api))
                .and(warp::query::<receipts::ListParams>())
                .and(with(&services))
                .and_then(receipts::list),
        ),
        route(
            Some(Class::Api),
            Method::GET,
            "/api/v1/receipts/{id}",
            warp::path!("api" / "v1" / "receipts" / String)
                .and(warp::get())
                .and(receipts_user(&services, limits, Class::Api))
                .and(with(&services))
                .and_then(receipts::get),
        ),
        route(
            Some(Class::Api),
            Method::PATCH,
            "/api/v1/receipts/{id}",
            warp::path!("api" / "v1" / "receipts" / String)
                .and(warp::patch())
                .and(receipts_user(&services, limits, Class::Api))
                .and(auth::json_body())
                .and(with(&services))
                .and_then(receipts::correct),
        ),
        route(
            Some(Class::Api),
            Method::DELETE,
            "/api/v1/receipts/{id}",
            warp::path!("api" / "v1" / "receipts" / String)
                .and(warp::delete())
                .and(receipts_user(&services, limits, Class::Api))
                .and(with(&services))
                .and_then(receipts::delete),
        ),
        route(
            Some(Class::Api),
            Method::GET,
            "/api/v1/receipts/{id}/image",
            warp::path!("api" / "v1" / "receipts" / String / "image")
                .and(warp::get())
                .and(receipts_user(&services, limits, Class::Api))
                .and(with(&services))
                .and_then(receipts::image),
        ),
        route(
            Some(Class::Api),
            Method::POST,
            "/api/v1/receipts/{id}/retry",
            warp::path!("api" / "v1" / "receipts" / String / "retry")
                .and(warp::post())
                .and(receipts_user(&services, limits, Class::Api))
                .and(with(&services))
                .and_then(receipts::retry),
        ),
        route(
            None,
            Method::GET,
            "/api/v1/openapi.json",
            warp::path!("api" / "v1" / "openapi.json")
                .and(warp::get())
                .and_then(openapi::openapi_json),
        ),
    ]
}

/// A signed-in user (or an API key with the `receipts` scope), charged to `class`.
fn receipts_user(
    services: &Services,
    limits: &RateLimits,
    class: Class,
) -> BoxedFilter<(crate::service::auth::sessions::Principal,)> {
    auth::authenticated_for(services.clone(), limits.clone(), class, Some("receipts"))
}

/// The rate-limit class of each limited route.
pub fn limited(routes: &[Route]) -> LimitedRoutes {
    LimitedRoutes::new(
        routes
            .iter()
            .filter_map(|r| r.class.map(|class| (r.method.clone(), r.pattern, class)))
            .collect(),
    )
}

/// Hands a clone of the services to a handler.
fn with(
    services: &Services,
) -> impl Filter<Extract = (Services,), Error = std::convert::Infallible> + Clone + use<> {
    let services = services.clone();
    warp::any().map(move || services.clone())
}

/// One filter answering every route, unknown ones included, with problem+json errors.
pub fn combine(routes: Vec<Route>) -> BoxedFilter<(Response,)> {
    let mut combined: Option<BoxedFilter<(Response,)>> = None;
    for r in routes {
        let pattern = r.pattern;
        let labelled = r
            .filter
            .map(move |mut response: Response| {
                response.extensions_mut().insert(RoutePattern(pattern));
                response
            })
            .boxed();
        combined = Some(match combined {
            None => labelled,
            Some(previous) => previous.or(labelled).unify().boxed(),
        });
    }
    match combined {
        Some(routes) => routes.recover(problem::recover).unify().boxed(),
        None => warp::any()
            .and_then(|| async { Err::<Response, _>(warp::reject::not_found()) })
            .recover(problem::recover)
            .unify()
            .boxed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testing::services;

    fn test_limits() -> RateLimits {
        let quota = crate::ratelimit::Quota::new(60, std::time::Duration::from_secs(60), 60);
        RateLimits::new(super::super::limits::RateLimitOptions {
            login: quota,
            upload: quota,
            api: quota,
            max_tracked_clients: 1000,
            trusted_proxies: Vec::new(),
        })
    }

    #[tokio::test]
    async fn the_openapi_document_lists_every_route() {
        let doc = serde_json::to_value(openapi::document()).expect("json");
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "{doc}"
        );
        for r in all(services().await, &test_limits()) {
            let method = r.method.as_str().to_lowercase();
            assert!(
                doc["paths"][r.pattern][&method].is_object(),
                "route {} {} is missing from the OpenAPI document",
                r.method,
                r.pattern
            );
        }
    }

    #[tokio::test]
    async fn routes_answer_and_carry_their_pattern() {
        let filter = combine(all(services().await, &test_limits()));
        let response = warp::test::request().path("/healthz").reply(&filter).await;
        assert_eq!(response.status(), 200);

        let response = warp::test::request().path("/readyz").reply(&filter).await;
        assert_eq!(response.status(), 200, "{:?}", response.body());

        let response = warp::test::request()
            .method("POST")
            .path("/healthz")
            .reply(&filter)
            .await;
        assert_eq!(response.status(), 405);

        let response = warp::test::request().path("/nope").reply(&filter).await;
        assert_eq!(response.status(), 404);
    }
}
