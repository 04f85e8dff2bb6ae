//! Matches each request once against the route table, then applies the
//! route's rate-limit class and body limit before its filter runs. Unknown
//! paths get 404; a known path with another method gets 405 with `Allow`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Limited;
use hyper::body::Body as HttpBody;
use tower_service::Service as _;
use warp::http::{HeaderValue, Method, Request, StatusCode, header};
use warp::reply::Response;

use super::drain::{SharedBody, drain};
use super::limits::{self, RateLimits};
use super::pace::Paced;
use super::peer::ClientAddr;
use super::problem::problem;
use super::route::{Body, Matched, Route};
use crate::service::backup::Maintenance;

/// The route a response answered, attached to it for the access log and metrics.
#[derive(Debug, Clone)]
pub struct RoutePattern(pub Arc<str>);

/// The largest body of each kind of route, and the longest pause while one
/// is sent.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Routes that read no body (`server.max_body_bytes`).
    pub none: u64,
    pub json: u64,
    pub upload: u64,
    /// `import.max_file_bytes`.
    pub statement: u64,
    /// `server.body_timeout_seconds`.
    pub pause: Duration,
}

impl BodyLimits {
    fn of(&self, body: Body) -> u64 {
        match body {
            Body::None => self.none,
            Body::Json => self.json,
            Body::Upload => self.upload,
            Body::Statement => self.statement,
        }
    }
}

pub struct Router {
    routes: Vec<Route>,
    limits: RateLimits,
    body_limits: BodyLimits,
    /// On while a restore runs: the API answers 503 meanwhile.
    maintenance: Maintenance,
}

/// How long a client is asked to wait while a restore runs.
const MAINTENANCE_RETRY_SECONDS: u64 = 30;

/// The paths a restore closes (the API); health checks and metrics stay up.
pub const MAINTAINED_PREFIX: &str = "/api/";

enum Lookup<'a> {
    Found(&'a Route, Vec<String>),
    /// The path exists, for these methods only.
    WrongMethod(Vec<Method>),
    NotFound,
}

impl Router {
    pub fn new(routes: Vec<Route>, limits: RateLimits, body_limits: BodyLimits) -> Self {
        Router {
            routes,
            limits,
            body_limits,
            maintenance: Maintenance::default(),
        }
    }

    pub fn with_maintenance(mut self, maintenance: Maintenance) -> Self {
        self.maintenance = maintenance;
        self
    }

    #[cfg(test)]
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The route whose pattern and method fit; a HEAD is served as a GET.
    /// Where several patterns fit, those with the most literal segments win
    /// (`/transactions/categorise` over `/transactions/{id}`), for the
    /// route and for the methods a 405 lists alike.
    fn lookup(&self, method: &Method, path: &str) -> Lookup<'_> {
        let wanted = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let fitting: Vec<(&Route, Vec<String>)> = self
            .routes
            .iter()
            .filter_map(|route| route.fit(path).map(|params| (route, params)))
            .collect();
        let most_literal = fitting
            .iter()
            .map(|(route, _)| route.literal_segments())
            .max()
            .unwrap_or(0);
        let mut allowed = Vec::new();
        for (route, params) in fitting {
            if route.literal_segments() < most_literal {
                continue;
            }
            if route.method == *wanted {
                return Lookup::Found(route, params);
            }
            allowed.push(route.method.clone());
        }
        if allowed.is_empty() {
            Lookup::NotFound
        } else {
            Lookup::WrongMethod(allowed)
        }
    }

    /// Serves one request from `peer`. The answer goes out only once the
    /// body has been read (by the route, or read and dropped here), up to
    /// the route's limit: see `drain.rs`.
    pub async fn answer<B>(&self, req: Request<B>, peer: Option<SocketAddr>) -> Response
    where
        B: HttpBody<Data = Bytes> + Send + Sync + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let lookup = self.lookup(req.method(), req.uri().path());
        let max_body_bytes = match &lookup {
            Lookup::Found(route, _) => self.body_limits.of(route.body),
            _ => self.body_limits.none,
        };
        let declared = declared_length(&req);
        // A client that waits for `100 Continue` sends no body unless the
        // route reads it: then there is nothing to drain, and reading would
        // ask for the body just to drop it.
        let waits_to_send = req
            .headers()
            .get(header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        // A body without Content-Length is cut off at the same limit while it streams.
        let limit = usize::try_from(max_body_bytes).unwrap_or(usize::MAX);
        let stalled = Arc::new(AtomicBool::new(false));
        let (req, kept) = {
            let (parts, body) = req.into_parts();
            let body = Paced::new(body, self.body_limits.pause, stalled.clone());
            let (body, kept) = SharedBody::new(Limited::new(body, limit));
            (Request::from_parts(parts, body), kept)
        };
        let response = self
            .dispatch(lookup, req, peer, declared, max_body_bytes)
            .await;
        if stalled.load(Ordering::Relaxed) {
            // However the route took the broken body, the client hears why.
            return request_timeout(self.body_limits.pause, response);
        }
        if !waits_to_send && declared.is_none_or(|len| len <= max_body_bytes) {
            drain(kept).await;
        }
        response
    }

    async fn dispatch<B>(
        &self,
        lookup: Lookup<'_>,
        mut req: Request<B>,
        peer: Option<SocketAddr>,
        declared: Option<u64>,
        max_body_bytes: u64,
    ) -> Response
    where
        B: HttpBody<Data = Bytes> + Send + Sync + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        // A request no route takes may still not send more than any route would.
        if !matches!(lookup, Lookup::Found(..))
            && declared.is_some_and(|len| len > self.body_limits.none)
        {
            return too_large(self.body_limits.none);
        }
        if self.maintenance.active() && req.uri().path().starts_with(MAINTAINED_PREFIX) {
            let mut response = problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "maintenance",
                "a backup is being restored; try again shortly",
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(MAINTENANCE_RETRY_SECONDS),
            );
            return response;
        }
        let (route, params) = match lookup {
            Lookup::Found(route, params) => (route, params),
            Lookup::WrongMethod(allowed) => return method_not_allowed(&allowed),
            Lookup::NotFound => {
                return problem(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "no such endpoint; the API is described at /api/v1/openapi.json",
                );
            }
        };

        let client = self.client(&req, peer);
        let decision = route
            .class
            .map(|class| (class, self.limits.check(class, client)));

        let mut response = if let Some((class, decision)) = decision.filter(|(_, d)| !d.allowed) {
            limits::refused(class, &decision)
        } else if declared.is_some_and(|len| len > max_body_bytes) {
            too_large(max_body_bytes)
        } else {
            // A walk that ended on a proxy found no client to name.
            if !self.limits.is_trusted_proxy(client) {
                req.extensions_mut().insert(ClientAddr(client));
            }
            req.extensions_mut().insert(Matched {
                class: route.class,
                params,
            });
            match warp::service(route.filter.clone()).call(req).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        };
        if let Some((_, decision)) = decision.filter(|(_, d)| d.allowed) {
            response = limits::with_headers(&decision, response);
        }
        response
            .extensions_mut()
            .insert(RoutePattern(route.pattern.clone()));
        response
    }

    /// The client behind `req` (see [`RateLimits::client`]).
    fn client<B>(&self, req: &Request<B>, peer: Option<SocketAddr>) -> std::net::IpAddr {
        // Every X-Forwarded-For line, in order: a proxy may add its own line
        // instead of appending to the client's.
        // A line with bytes that are not text keeps its other hops: the
        // odd hop just does not parse.
        let forwarded: Vec<String> = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
        self.limits
            .client(peer.map(|p| p.ip()), forwarded.as_deref())
    }
}

/// 408 for a body the client stopped sending, on the route `answered`
/// matched; the connection closes after it.
fn request_timeout(pause: Duration, answered: Response) -> Response {
    let mut response = problem(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        format!(
            "the request body stopped arriving: no bytes for {} s",
            pause.as_secs()
        ),
    );
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    if let Some(route) = answered.extensions().get::<RoutePattern>() {
        response.extensions_mut().insert(route.clone());
    }
    response
}

fn too_large(max_body_bytes: u64) -> Response {
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("request bodies are limited to {max_body_bytes} bytes here"),
    )
}

fn method_not_allowed(allowed: &[Method]) -> Response {
    let allow = allowed
        .iter()
        .flat_map(|m| {
            // A GET route answers HEAD too.
            let head = (*m == Method::GET).then_some("HEAD");
            std::iter::once(m.as_str()).chain(head)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut response = problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("this endpoint accepts {allow}"),
    );
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

fn declared_length<B>(req: &Request<B>) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}
