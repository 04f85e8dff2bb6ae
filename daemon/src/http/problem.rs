//! RFC 9457 problem responses: every error the API gives is one of these,
//! with a stable `code`. The real cause goes to the log, never to the client.

use std::convert::Infallible;

use fin_proto::api::Problem;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reject::{
    InvalidHeader, InvalidQuery, LengthRequired, MethodNotAllowed, MissingHeader, PayloadTooLarge,
    UnsupportedMediaType,
};
use warp::reply::Response;
use warp::{Rejection, Reply};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem response with the standard title for `status`.
pub fn problem(status: StatusCode, code: &str, detail: impl Into<String>) -> Response {
    let body = Problem {
        type_uri: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail: Some(detail.into()),
        code: code.into(),
        instance: None,
    };
    let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = warp::reply::with_status(json, status).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

/// Marks a response refused by the rate limiter (its class), for the metrics.
#[derive(Debug, Clone, Copy)]
pub struct RateLimited(pub &'static str);

/// An error a handler or filter decided on: status, stable code, message.
#[derive(Debug)]
pub struct ApiRejection {
    status: StatusCode,
    code: &'static str,
    detail: String,
    /// Seconds for a `Retry-After` header (temporary refusals).
    retry_after: Option<u64>,
    /// More headers the answer carries (e.g. `RateLimit-*`).
    headers: Vec<(&'static str, HeaderValue)>,
    /// Set when the rate limiter refused the request.
    rate_limited: Option<RateLimited>,
}

impl warp::reject::Reject for ApiRejection {}

impl ApiRejection {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiRejection {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
            headers: Vec::new(),
            rate_limited: None,
        }
    }

    /// Tells the client to try again after `seconds`.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// One more header on the answer.
    pub fn header(mut self, name: &'static str, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Marks the answer as the rate limiter's refusal (for the metrics).
    pub fn limited_by(mut self, class: &'static str) -> Self {
        self.rate_limited = Some(RateLimited(class));
        self
    }

    /// The problem response.
    pub fn render(&self) -> Response {
        let mut response = problem(self.status, self.code, self.detail.clone());
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"fin\""),
            );
        }
        for (name, value) in &self.headers {
            headers.insert(*name, value.clone());
        }
        if let Some(marker) = self.rate_limited {
            response.extensions_mut().insert(marker);
        }
        response
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the server failed to answer; the cause is in its log",
        )
    }
}

/// Maps every rejection warp can produce to a problem response.
pub async fn recover(rejection: Rejection) -> Result<Response, Infallible> {
    Ok(from_rejection(&rejection))
}

fn from_rejection(r: &Rejection) -> Response {
    // A request rejected by several routes carries all their rejections:
    // the route that matched path and method explains best, so "wrong
    // method" (other routes) and "not found" come last.
    if let Some(e) = r.find::<ApiRejection>() {
        e.render()
    } else if r.find::<PayloadTooLarge>().is_some() {
        problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is larger than this endpoint accepts",
        )
    } else if r.find::<UnsupportedMediaType>().is_some() {
        problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "this endpoint does not accept that Content-Type",
        )
    } else if r.find::<LengthRequired>().is_some() {
        problem(
            StatusCode::LENGTH_REQUIRED,
            "length_required",
            "send a Content-Length header",
        )
    } else if let Some(e) = r.find::<warp::filters::body::BodyDeserializeError>() {
        problem(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("the request body is not valid: {e}"),
        )
    } else if r.find::<InvalidQuery>().is_some() {
        problem(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "the query string is not valid",
        )
    } else if let Some(e) = r.find::<MissingHeader>() {
        problem(
            StatusCode::BAD_REQUEST,
            "missing_header",
            format!("missing header {}", e.name()),
        )
    } else if let Some(e) = r.find::<InvalidHeader>() {
        problem(
            StatusCode::BAD_REQUEST,
            "invalid_header",
            format!("invalid header {}", e.name()),
        )
    } else if r.find::<MethodNotAllowed>().is_some() {
        problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not accept that HTTP method",
        )
    } else if r.is_not_found() {
        problem(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such endpoint; the API is described at /api/v1/openapi.json",
        )
    } else {
        tracing::error!(rejection = ?r, "unhandled rejection");
        internal_error()
    }
}

pub fn internal_error() -> Response {
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "the server failed to answer; the cause is in its log",
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use warp::Filter;

    use super::*;

    /// The response a rejection is answered with (shared by the HTTP layer's tests).
    pub(crate) fn response_of(rejection: &Rejection) -> Response {
        from_rejection(rejection)
    }

    /// The JSON body of a response (shared by the HTTP layer's tests).
    pub(crate) async fn body_of(response: Response) -> serde_json::Value {
        use http_body_util::BodyExt;
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        serde_json::from_slice(&bytes).expect("json")
    }

    #[tokio::test]
    async fn every_known_rejection_is_a_problem_with_a_stable_code() {
        let cases: Vec<(Rejection, u16, &str)> = vec![
            (warp::reject::not_found(), 404, "not_found"),
            (warp::reject::custom(Unknown), 500, "internal_error"),
        ];
        for (rejection, status, code) in cases {
            let response = from_rejection(&rejection);
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
            let body = body_of(response).await;
            assert_eq!(body["code"], code);
            assert_eq!(body["status"], status);
        }
    }

    #[tokio::test]
    async fn wrong_content_type_is_415_and_bad_json_is_400() {
        let filter = warp::post()
            .and(warp::body::json::<serde_json::Value>())
            .map(|_| "ok")
            .recover(recover);
        let response = warp::test::request()
            .method("POST")
            .header("content-type", "text/plain")
            .body("{}")
            .reply(&filter)
            .await;
        assert_eq!(response.status(), 415);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);

        let response = warp::test::request()
            .method("POST")
            .header("content-type", "application/json")
            .body("{not json")
            .reply(&filter)
            .await;
        assert_eq!(response.status(), 400);
        let body: serde_json::Value = serde_json::from_slice(response.body()).expect("json");
        assert_eq!(body["code"], "invalid_body");
    }

    #[derive(Debug)]
    struct Unknown;
    impl warp::reject::Reject for Unknown {}
}
