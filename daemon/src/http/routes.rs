//! The route table: every area's routes, and the OpenAPI document built
//! from them.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use super::limits::RateLimits;
use super::router::{BodyLimits, Router};
use super::{
    accounts, admin, auth, books, budgets, imports, matches, openapi, presets, receipts, reports,
    rules, system, transactions,
};
use crate::service::Services;

/// Every route the HTTPS API serves, behind one router.
pub fn router(services: &Services, limits: RateLimits, body_limits: BodyLimits) -> Router {
    let document = Arc::new(OnceLock::new());
    let mut routes = system::routes(services);
    routes.push(openapi::route(document.clone()));
    routes.extend(auth::routes(services, &limits));
    routes.extend(admin::routes(services, &limits));
    routes.extend(receipts::routes(services, &limits));
    routes.extend(books::routes(services, &limits));
    routes.extend(accounts::routes(services, &limits));
    routes.extend(transactions::routes(services, &limits));
    routes.extend(imports::routes(services, &limits));
    routes.extend(rules::routes(services, &limits));
    routes.extend(budgets::routes(services, &limits));
    routes.extend(reports::routes(services, &limits));
    routes.extend(matches::routes(services, &limits));
    routes.extend(presets::routes(services, &limits));
    let json = serde_json::to_vec(&openapi::document(&routes))
        .expect("the OpenAPI document is plain data and always serialises");
    let _ = document.set(Bytes::from(json));
    Router::new(routes, limits, body_limits).with_maintenance(services.backups.maintenance())
}

#[cfg(test)]
mod tests {
    use http_body_util::Full;
    use warp::http::Request;

    use super::*;
    use crate::http::problem::tests::body_of;
    use crate::http::route::Body;
    use crate::service::testing::services;

    fn test_router(services: &Services, login_burst: u32) -> Router {
        let quota =
            |burst| crate::ratelimit::Quota::new(burst, std::time::Duration::from_secs(60), burst);
        let limits = RateLimits::new(super::super::limits::RateLimitOptions {
            login: quota(login_burst),
            upload: quota(60),
            // More than one request to every route.
            api: quota(500),
            max_tracked_clients: 1000,
            trusted_proxies: Vec::new(),
        });
        let body_limits = BodyLimits {
            none: 1024 * 1024,
            json: 64 * 1024,
            statement: 1024 * 1024,
            upload: 2 * 1024 * 1024,
            pause: std::time::Duration::from_secs(30),
        };
        router(services, limits, body_limits)
    }

    fn request(method: &str, path: &str, body: &str) -> Request<Full<Bytes>> {
        Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .header("content-length", body.len().to_string())
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("request")
    }

    #[tokio::test]
    async fn the_document_is_the_route_table_with_every_answer() {
        let router = test_router(&services().await, 60);
        let doc = serde_json::to_value(openapi::document(router.routes())).expect("json");
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1"))
        );
        let documented: usize = doc["paths"]
            .as_object()
            .expect("paths")
            .values()
            .map(|item| item.as_object().map_or(0, |ops| ops.len()))
            .sum();
        assert_eq!(documented, router.routes().len(), "one entry per route");
        for route in router.routes() {
            let op = &doc["paths"][&*route.pattern][route.method.as_str().to_lowercase()];
            let responses = op["responses"].as_object().expect("responses");
            let has = |status: &str| responses.contains_key(status);
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            assert_eq!(
                has("401") && has("403"),
                secured,
                "{} {}",
                route.method,
                route.pattern
            );
            assert_eq!(has("429"), route.class.is_some(), "{}", route.pattern);
            // The per-user allowance is charged in the route's class: a route
            // that needs a login without one would be unlimited.
            assert!(!secured || route.class.is_some(), "{}", route.pattern);
            assert!(
                has("413"),
                "{} {}: every route refuses big bodies",
                route.method,
                route.pattern
            );
            if route.body == Body::Json {
                for status in ["400", "411", "413", "415"] {
                    assert!(
                        has(status),
                        "{} {} lacks {status}",
                        route.method,
                        route.pattern
                    );
                }
            }
            for (status, response) in responses {
                if status.as_str() >= "400" && route.pattern.as_ref() != "/readyz" {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{} {} {status} is not problem+json",
                        route.method,
                        route.pattern
                    );
                }
            }
        }
    }

    #[tokio::test]
    async fn a_route_asks_for_a_login_exactly_when_its_document_says_so() {
        let router = test_router(&services().await, 60);
        let doc = serde_json::to_value(openapi::document(router.routes())).expect("json");
        for route in router.routes() {
            let op = &doc["paths"][&*route.pattern][route.method.as_str().to_lowercase()];
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let path = route
                .pattern
                .split('/')
                .map(|s| if s.starts_with('{') { "x" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let body = if route.body == Body::Json { "{}" } else { "" };
            let response = router
                .answer(request(route.method.as_str(), &path, body), None)
                .await;
            assert_eq!(
                response.status() == 401,
                secured,
                "{} {} answered {} without a login",
                route.method,
                route.pattern,
                response.status()
            );
        }
    }

    #[tokio::test]
    async fn a_client_waiting_to_send_is_answered_without_its_body() {
        use http_body_util::StreamBody;
        use hyper::body::Frame;

        let router = test_router(&services().await, 60);
        // A body that never comes: the client waits for `100 Continue`.
        let never =
            futures_util::stream::pending::<Result<Frame<Bytes>, std::convert::Infallible>>();
        let request = Request::builder()
            .method("POST")
            .uri("/api/v1/receipts")
            .header("content-type", "image/png")
            .header("content-length", "2000000")
            .header("expect", "100-continue")
            .body(StreamBody::new(never))
            .expect("request");
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            router.answer(request, None),
        )
        .await
        .expect("answered at once, not after waiting for the body");
        assert_eq!(answer.status(), 401);
    }

    #[tokio::test]
    async fn requests_are_matched_once_with_405_allow_404_and_head() {
        let router = test_router(&services().await, 60);
        let response = router.answer(request("GET", "/healthz", ""), None).await;
        assert_eq!(response.status(), 200);
        let response = router.answer(request("HEAD", "/healthz", ""), None).await;
        assert_eq!(response.status(), 200);
        let response = router.answer(request("TRACE", "/healthz", ""), None).await;
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET, HEAD");
        let response = router
            .answer(request("PUT", "/api/v1/receipts/abc", ""), None)
            .await;
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET, HEAD, PATCH, DELETE");
        // A literal segment beats a parameter: `categorise` is not an id.
        let response = router
            .answer(
                request("GET", "/api/v1/books/b/transactions/categorise", ""),
                None,
            )
            .await;
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "POST");
        let response = router.answer(request("GET", "/nope", ""), None).await;
        assert_eq!(response.status(), 404);
        assert_eq!(body_of(response).await["code"], "not_found");
    }

    #[tokio::test]
    async fn the_route_declares_its_rate_limit_class_and_body_limit() {
        let router = test_router(&services().await, 2);
        let login = r#"{"username":"nobody","password":"wrong password here"}"#;
        for _ in 0..2 {
            let response = router
                .answer(request("POST", "/api/v1/auth/login", login), None)
                .await;
            assert_eq!(response.status(), 401);
            assert!(response.headers().contains_key("ratelimit-remaining"));
        }
        let response = router
            .answer(request("POST", "/api/v1/auth/login", login), None)
            .await;
        assert_eq!(response.status(), 429);
        // Health checks have no class: never limited.
        for _ in 0..5 {
            let response = router.answer(request("GET", "/healthz", ""), None).await;
            assert_eq!(response.status(), 200);
        }

        let router = test_router(&services().await, 60);
        let big = format!(
            r#"{{"username":"{}","password":"x"}}"#,
            "a".repeat(70 * 1024)
        );
        let response = router
            .answer(request("POST", "/api/v1/auth/login", &big), None)
            .await;
        assert_eq!(response.status(), 413);
        let response = router
            .answer(request("POST", "/api/v1/auth/login", "[1, 2]"), None)
            .await;
        assert_eq!(response.status(), 400, "only a JSON object is a body");
    }
}
