//! Liveness and readiness, for load balancers, systemd and monitoring.

use std::convert::Infallible;

use fin_proto::api::Health;
use warp::Reply;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::service::Services;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, description = "The daemon is alive", body = Health)))]
pub async fn healthz() -> Result<Response, Infallible> {
    Ok(warp::reply::json(&Health {
        status: "ok".into(),
    })
    .into_response())
}

/// Readiness: the database answers and a valid certificate is served.
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses(
        (status = 200, description = "Ready to serve", body = fin_proto::api::Readiness),
        (status = 503, description = "Not ready; the failing checks say why", body = fin_proto::api::Readiness)))]
pub async fn readyz(services: Services) -> Result<Response, Infallible> {
    let readiness = services.system.readiness().await;
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok(warp::reply::with_status(warp::reply::json(&readiness), status).into_response())
}
