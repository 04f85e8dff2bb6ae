//! The public HTTPS API and the plain-HTTP redirector. Only this module knows warp.

mod auth;
mod openapi;
mod problem;
mod redirect;
mod routes;
mod service;

pub use redirect::redirect_service;
pub use service::{HttpService, PeerAddr, RequestObserver, RequestRecord};

use crate::service::Services;

/// The HTTPS API: every route, problem+json errors, security headers, access
/// log and metrics through `observer`, bodies limited to `max_body_bytes`.
pub fn api_service(
    services: Services,
    observer: RequestObserver,
    max_body_bytes: u64,
) -> HttpService {
    let filter = routes::combine(routes::all(services));
    HttpService::new(filter, observer, max_body_bytes, true)
}
