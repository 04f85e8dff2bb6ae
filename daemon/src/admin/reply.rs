//! The admin socket's answers: JSON bodies and errors, as every route
//! gives them.

use bytes::Bytes;
use fin_proto::admin::AdminError;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode, header};
use serde::Serialize;

use super::stream::AdminBody;
use crate::service::{ErrorKind, Failure};

/// Admin requests are small JSON documents.
pub(super) const MAX_BODY: usize = 64 * 1024;

pub(super) async fn read_json<T: serde::de::DeserializeOwned>(
    req: Request<Incoming>,
) -> Result<T, Response<AdminBody>> {
    let body = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("cannot read the request: {e}"),
            )
        })?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("the request is not valid JSON for this endpoint: {e}"),
        )
    })
}

/// A use case's failure, mapped by its kind as the HTTPS API maps it.
pub(super) fn service_error(e: impl Failure) -> Response<AdminBody> {
    let kind = e.kind();
    if kind == ErrorKind::Internal {
        tracing::error!(error = %e, "admin request failed");
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the daemon failed; the cause is in its log".into(),
        );
    }
    let status = StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error(status, e.code(), e.to_string())
}

pub(super) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<AdminBody> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let full = Full::new(Bytes::from(bytes)).map_err(|never| match never {});
    let mut response = Response::new(BodyExt::boxed(full));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

pub(super) fn error(status: StatusCode, code: &str, message: String) -> Response<AdminBody> {
    json(
        status,
        &AdminError {
            code: code.into(),
            message,
        },
    )
}
