//! The hyper-level service around the warp filters: body limit, caught
//! panics, security headers, one access-log line and metrics per request.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::FutureExt;
use http_body_util::Limited;
use hyper::body::{Body, Incoming};
use tower_service::Service as _;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, Request, StatusCode, header};
use warp::reply::Response;

use super::problem::RateLimited;
use super::problem::{internal_error, problem};
use super::router::{RoutePattern, Router};

/// What the access log and metrics learn about one answered request.
pub struct RequestRecord<'a> {
    pub method: &'a str,
    /// Route pattern, or `unmatched`: bounded, safe as a metric label.
    pub route: &'a str,
    pub status: u16,
    pub seconds: f64,
    /// The rate-limit class that refused the request, if one did.
    pub rate_limited: Option<&'static str>,
}

/// Called once per answered request (the composition root feeds metrics with it).
pub type RequestObserver = Arc<dyn Fn(&RequestRecord<'_>) + Send + Sync>;

/// Security headers for every HTTPS response. The API serves JSON only, so
/// the content security policy can forbid everything.
/// Response headers a cross-origin page may read.
const EXPOSED_HEADERS: &str = "ratelimit-limit, ratelimit-remaining, ratelimit-reset, retry-after";

/// The answer to a CORS preflight: allowed for listed origins, 403 otherwise.
fn preflight(origin: Option<&str>) -> Response {
    let Some(origin) = origin.and_then(|o| HeaderValue::from_str(o).ok()) else {
        return problem(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this origin may not call the API (see server.cors_origins)",
        );
    };
    let mut response = warp::http::Response::new(warp::hyper::body::Bytes::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("origin"));
    warp::Reply::into_response(response)
}

const SECURITY_HEADERS: [(&str, &str); 6] = [
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
];

/// What answers the requests: the API's router, or one filter for all (the redirector).
#[derive(Clone)]
enum Dispatch {
    Routes(Arc<Router>),
    Filter {
        filter: BoxedFilter<(Response,)>,
        max_body_bytes: u64,
    },
}

#[derive(Clone)]
pub struct HttpService {
    dispatch: Dispatch,
    observer: Option<RequestObserver>,
    security_headers: bool,
    peer: Option<SocketAddr>,
    cors_origins: Arc<Vec<String>>,
}

impl HttpService {
    /// Every request goes to `filter`, with bodies up to `max_body_bytes`.
    pub(super) fn new(
        filter: BoxedFilter<(Response,)>,
        observer: impl Into<Option<RequestObserver>>,
        max_body_bytes: u64,
        security_headers: bool,
    ) -> Self {
        HttpService {
            dispatch: Dispatch::Filter {
                filter,
                max_body_bytes,
            },
            observer: observer.into(),
            security_headers,
            peer: None,
            cors_origins: Arc::new(Vec::new()),
        }
    }

    /// Requests go through the route table of `router`.
    pub(super) fn routed(router: Router, observer: RequestObserver) -> Self {
        HttpService {
            dispatch: Dispatch::Routes(Arc::new(router)),
            observer: Some(observer),
            security_headers: true,
            peer: None,
            cors_origins: Arc::new(Vec::new()),
        }
    }

    /// Lets pages from these origins call the API (CORS).
    pub(super) fn with_cors(mut self, origins: Vec<String>) -> Self {
        self.cors_origins = Arc::new(origins);
        self
    }

    /// The same service for one connection from `peer`.
    pub fn for_peer(&self, peer: SocketAddr) -> Self {
        HttpService {
            peer: Some(peer),
            ..self.clone()
        }
    }

    async fn answer<B>(self, req: Request<B>) -> Response
    where
        B: Body<Data = Bytes> + Send + Sync + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_lowercase)
            .filter(|o| self.cors_origins.contains(o));
        if method == warp::http::Method::OPTIONS
            && req.headers().contains_key("access-control-request-method")
        {
            return self.finish(preflight(origin.as_deref()), &method, &path, started);
        }

        let dispatched = match &self.dispatch {
            Dispatch::Routes(router) => router.answer(req, self.peer).boxed(),
            Dispatch::Filter {
                filter,
                max_body_bytes,
            } => answer_with(filter.clone(), *max_body_bytes, req).boxed(),
        };
        let mut response = match AssertUnwindSafe(dispatched).catch_unwind().await {
            Ok(response) => response,
            Err(_) => {
                tracing::error!(method = %method, path = %path, "request handler panicked");
                internal_error()
            }
        };

        if let Some(origin) = origin
            .as_deref()
            .and_then(|o| HeaderValue::from_str(o).ok())
        {
            response
                .headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            response.headers_mut().insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_HEADERS),
            );
        }
        if !self.cors_origins.is_empty() {
            response
                .headers_mut()
                .append(header::VARY, HeaderValue::from_static("origin"));
        }
        self.finish(response, &method, &path, started)
    }

    /// Security headers, the access-log line and metrics, for every answer.
    fn finish(
        &self,
        mut response: Response,
        method: &warp::http::Method,
        path: &str,
        started: Instant,
    ) -> Response {
        if self.security_headers {
            let headers = response.headers_mut();
            for (name, value) in SECURITY_HEADERS {
                headers.insert(name, HeaderValue::from_static(value));
            }
        }

        let route = response
            .extensions()
            .get::<RoutePattern>()
            .map(|p| p.0.clone());
        let route = route.as_deref().unwrap_or("unmatched");
        let record = RequestRecord {
            method: method.as_str(),
            route,
            status: response.status().as_u16(),
            seconds: started.elapsed().as_secs_f64(),
            rate_limited: response.extensions().get::<RateLimited>().map(|r| r.0),
        };
        // Paths can carry ids but never secrets; query strings are not logged.
        tracing::info!(
            target: "fin::access",
            method = record.method,
            route = record.route,
            path = %path,
            status = record.status,
            duration_ms = (record.seconds * 1000.0 * 1000.0).round() / 1000.0,
            peer = %self.peer.map(|p| p.to_string()).unwrap_or_default(),
            "request"
        );
        if let Some(observer) = &self.observer {
            observer(&record);
        }
        response
    }
}

/// One filter for every request, bodies limited to `max_body_bytes`.
async fn answer_with<B>(
    filter: BoxedFilter<(Response,)>,
    max_body_bytes: u64,
    req: Request<B>,
) -> Response
where
    B: Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if declared_length(&req).is_some_and(|len| len > max_body_bytes) {
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request bodies are limited to {max_body_bytes} bytes"),
        );
    }
    let limit = usize::try_from(max_body_bytes).unwrap_or(usize::MAX);
    let req = req.map(|body| Limited::new(body, limit));
    match warp::service(filter).call(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn declared_length<B>(req: &Request<B>) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

impl hyper::service::Service<Request<Incoming>> for HttpService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.answer(req).await) })
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::Full;

    use crate::http::problem::tests::body_of;
    use warp::{Filter, Reply};

    use super::*;

    fn service_with(filter: BoxedFilter<(Response,)>, max_body: u64) -> HttpService {
        HttpService::new(filter, None, max_body, true)
    }

    #[tokio::test]
    async fn a_panicking_handler_becomes_a_500_problem_and_the_service_lives_on() {
        let filter = warp::path("boom")
            .map(|| -> Response { panic!("handler bug") })
            .or(warp::path("ok").map(|| warp::reply().into_response()))
            .unify()
            .boxed();
        let service = service_with(filter, 1024);
        let request = Request::builder()
            .uri("/boom")
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = service.clone().answer(request).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        let body = body_of(response).await;
        assert_eq!(body["code"], "internal_error");
        assert!(
            !body.to_string().contains("handler bug"),
            "the cause stays in the log"
        );

        let request = Request::builder()
            .uri("/ok")
            .body(Full::new(Bytes::new()))
            .expect("request");
        assert_eq!(service.answer(request).await.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_declared_oversized_body_is_refused_before_routing() {
        let filter = warp::any().map(|| warp::reply().into_response()).boxed();
        let request = Request::builder()
            .method("POST")
            .uri("/")
            .header(header::CONTENT_LENGTH, "2048")
            .body(Full::new(Bytes::from(vec![0u8; 2048])))
            .expect("request");
        let response = service_with(filter, 1024).answer(request).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body_of(response).await["code"], "payload_too_large");
    }
}
