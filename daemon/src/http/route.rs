//! One route, declared once: its method and path pattern come from the
//! handler's OpenAPI annotation, and the same declaration carries its
//! rate-limit class, its body limit and the filter that serves it. The
//! router (`router.rs`) matches a request against these declarations once.

use std::sync::Arc;

use utoipa::openapi::path::{HttpMethod, Operation};
use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::limits::Class;
use super::problem;

/// What a route reads from the request body, which fixes how large a body it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Nothing: bodies up to `server.max_body_bytes` are ignored.
    None,
    /// A small JSON document (`application/json`).
    Json,
    /// A receipt image, bare or in a multipart form.
    Upload,
    /// A bank statement file, as the body.
    Statement,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param,
}

pub struct Route {
    pub method: Method,
    /// The same method, as the OpenAPI document writes it.
    pub doc_method: HttpMethod,
    /// OpenAPI-style path template, e.g. `/api/v1/receipts/{id}`; labels metrics and logs.
    pub pattern: Arc<str>,
    segments: Vec<Segment>,
    /// The rate-limit class requests to this route count against; none for health checks.
    pub class: Option<Class>,
    pub body: Body,
    /// The route's entry in the OpenAPI document.
    pub operation: Operation,
    /// Serves a request the router has matched to this route; every rejection
    /// is already a problem response.
    pub filter: BoxedFilter<(Response,)>,
}

/// What the router found for a request, handed to the route's filter.
#[derive(Debug, Clone)]
pub struct Matched {
    pub class: Option<Class>,
    /// The values of the pattern's `{…}` segments, in order.
    pub params: Vec<String>,
}

impl Route {
    /// The route `P` documents (`#[utoipa::path]` on its handler), served by `filter`.
    pub fn new<P, F>(class: Option<Class>, body: Body, filter: F) -> Route
    where
        P: utoipa::Path,
        F: Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static,
    {
        let doc_method = match P::methods().as_slice() {
            [one] => one.clone(),
            other => panic!(
                "route {} must have one method, has {}",
                P::path(),
                other.len()
            ),
        };
        let pattern = P::path();
        Route {
            method: http_method(&doc_method),
            doc_method,
            segments: segments(&pattern),
            pattern: pattern.into(),
            class,
            body,
            operation: P::operation(),
            filter: filter.recover(problem::recover).unify().boxed(),
        }
    }

    /// How many segments of the pattern are literal: the more, the more specific.
    pub fn literal_segments(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }

    /// The values of the `{…}` segments when `path` fits this route's pattern.
    pub fn fit(&self, path: &str) -> Option<Vec<String>> {
        let path = path.strip_prefix('/')?;
        let path = path.strip_suffix('/').unwrap_or(path);
        let mut params = Vec::new();
        let mut have = path.split('/');
        for want in &self.segments {
            let segment = have.next()?;
            match want {
                Segment::Literal(literal) if literal == segment => {}
                Segment::Param if !segment.is_empty() => params.push(segment.to_string()),
                _ => return None,
            }
        }
        have.next().is_none().then_some(params)
    }
}

fn segments(pattern: &str) -> Vec<Segment> {
    pattern
        .trim_matches('/')
        .split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Segment::Param
            } else {
                Segment::Literal(s.to_string())
            }
        })
        .collect()
}

fn http_method(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// The route's first `{…}` path segment, as the router matched it.
pub fn path_param() -> impl Filter<Extract = (String,), Error = Rejection> + Clone {
    warp::ext::get::<Matched>().and_then(|matched: Matched| async move {
        matched
            .params
            .into_iter()
            .next()
            .ok_or_else(warp::reject::not_found)
    })
}

/// The route's first two `{…}` path segments (a book, then a record in it).
pub fn path_params() -> impl Filter<Extract = (String, String), Error = Rejection> + Clone {
    warp::ext::get::<Matched>()
        .and_then(|matched: Matched| async move {
            let mut params = matched.params.into_iter();
            match (params.next(), params.next()) {
                (Some(first), Some(second)) => Ok((first, second)),
                _ => Err(warp::reject::not_found()),
            }
        })
        .untuple_one()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[utoipa::path(get, path = "/api/v1/things/{id}/parts", responses((status = 200)))]
    #[allow(dead_code)]
    fn parts() {}

    #[test]
    fn a_pattern_fits_whole_paths_and_yields_its_parameter() {
        let route = Route::new::<__path_parts, _>(
            None,
            Body::None,
            warp::ext::get::<Matched>().map(|_| warp::reply::Reply::into_response(warp::reply())),
        );
        assert_eq!(route.method, Method::GET);
        assert_eq!(&*route.pattern, "/api/v1/things/{id}/parts");
        assert_eq!(
            route.fit("/api/v1/things/42/parts"),
            Some(vec!["42".to_string()])
        );
        assert_eq!(
            route.fit("/api/v1/things/42/parts/"),
            Some(vec!["42".to_string()])
        );
        assert_eq!(route.fit("/api/v1/things//parts"), None);
        assert_eq!(route.fit("/api/v1/things/42"), None);
        assert_eq!(route.fit("/api/v1/things/42/parts/x"), None);
        assert_eq!(route.fit("api/v1/things/42/parts"), None);
    }
}
