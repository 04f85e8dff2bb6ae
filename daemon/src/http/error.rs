//! Use-case failures as problem responses: the one place where a service
//! error becomes what an HTTPS client sees. The kind fixes the status
//! (`service::ErrorKind::status`), the error names its stable code, and an
//! internal fault is logged and answered without its cause.

use warp::Rejection;
use warp::http::StatusCode;

use super::problem::ApiRejection;
use crate::service::{ErrorKind, Failure};

/// The problem a failure is answered with.
pub fn api_rejection(e: &impl Failure) -> ApiRejection {
    let kind = e.kind();
    if kind == ErrorKind::Internal {
        tracing::error!(error = %e, "request failed");
        return ApiRejection::internal();
    }
    let status = StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let rejection = ApiRejection::new(status, e.code(), e.to_string());
    match e.retry_after_seconds() {
        Some(seconds) => rejection.retry_after(seconds),
        None => rejection,
    }
}

/// A failure as a warp rejection, for `map_err` in handlers.
pub fn reject(e: impl Failure) -> Rejection {
    warp::reject::custom(api_rejection(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::ServiceError;

    #[tokio::test]
    async fn a_busy_service_is_503_with_retry_after_on_every_route() {
        let e = ServiceError::Busy {
            code: "queue_full",
            reason: "the queue is full".into(),
            retry_after_seconds: 30,
        };
        let response = super::super::problem::tests::response_of(&reject(e));
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "30");
        let body = super::super::problem::tests::body_of(response).await;
        assert_eq!(body["code"], "queue_full");
    }

    #[tokio::test]
    async fn an_internal_fault_hides_its_cause() {
        let e = ServiceError::Internal("secret path /var/lib/fin/db".into());
        let response = super::super::problem::tests::response_of(&reject(e));
        assert_eq!(response.status(), 500);
        let body = super::super::problem::tests::body_of(response).await;
        assert_eq!(body["code"], "internal_error");
        assert!(!body.to_string().contains("secret path"));
    }
}
