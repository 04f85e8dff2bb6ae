//! The public HTTPS API and the plain-HTTP redirector. Only this module knows warp.

mod admin_users;
mod auth;
mod error;
mod limits;
mod openapi;
mod peer;
mod problem;
mod receipts;
mod redirect;
mod routes;
mod service;
mod system;

pub use limits::{RateLimitOptions, RateLimits};
pub use peer::PeerAddr;
pub use redirect::{ChallengeAnswers, redirect_service};
pub use service::{HttpService, RequestObserver, RequestRecord};

use crate::service::Services;

/// The HTTPS API: every route, problem+json errors, security headers, access
/// log and metrics through `observer`, bodies limited to `max_body_bytes`,
/// request rates limited per client and route class.
pub fn api_service(
    services: Services,
    limits: RateLimits,
    observer: RequestObserver,
    max_body_bytes: u64,
    cors_origins: Vec<String>,
) -> HttpService {
    let upload_limit = receipts::upload_body_limit(services.receipts.settings().max_upload_bytes);
    let routes = routes::all(services, &limits);
    let limited = routes::limited(&routes);
    HttpService::new(routes::combine(routes), observer, max_body_bytes, true)
        .with_limits(limits, limited)
        .with_cors(cors_origins)
        .with_upload_limit(upload_limit)
}
