//! Liveness and readiness, for load balancers, systemd and monitoring.

use fin_proto::api::Health;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::extract::with;
use super::route::{Body, Route};
use crate::service::Services;

/// Health checks: no login, no rate limit (monitoring polls them).
pub fn routes(services: &Services) -> Vec<Route> {
    vec![
        Route::new::<__path_healthz, _>(None, Body::None, warp::any().and_then(healthz)),
        Route::new::<__path_readyz, _>(None, Body::None, with(services).and_then(readyz)),
    ]
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, description = "The daemon is alive", body = Health)))]
pub async fn healthz() -> Result<Response, Rejection> {
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
pub async fn readyz(services: Services) -> Result<Response, Rejection> {
    let readiness = services.system.readiness().await;
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok(warp::reply::with_status(warp::reply::json(&readiness), status).into_response())
}
