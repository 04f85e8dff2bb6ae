//! Admin requests and their answers.

use bytes::Bytes;
use fin_proto::admin::{AdminError, STATUS_PATH};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};
use serde::Serialize;

use crate::service::Services;

pub async fn answer(
    services: &Services,
    verdict: Result<(), String>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    if let Err(reason) = verdict {
        return error(StatusCode::FORBIDDEN, "forbidden", reason);
    }
    match (req.method(), req.uri().path()) {
        (&Method::GET, STATUS_PATH) => match services.system.status().await {
            Ok(status) => json(StatusCode::OK, &status),
            Err(e) => {
                tracing::error!(error = %e, "admin: status failed");
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    format!("the daemon could not build its status: {e}"),
                )
            }
        },
        (_, STATUS_PATH) => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "use GET".into(),
        ),
        (_, path) => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("this daemon has no admin endpoint {path}: is finctl newer than the daemon?"),
        ),
    }
}

fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

fn error(status: StatusCode, code: &str, message: String) -> Response<Full<Bytes>> {
    json(
        status,
        &AdminError {
            code: code.into(),
            message,
        },
    )
}
