//! The public HTTPS API and the plain-HTTP redirector. Only this module knows warp.

mod access;
mod accounts;
mod admin;
mod auth;
mod books;
mod budgets;
mod drain;
mod error;
mod extract;
mod imports;
mod json;
mod limits;
mod matches;
mod openapi;
mod pace;
mod peer;
mod presets;
mod problem;
mod receipts;
mod redirect;
mod reports;
mod route;
mod router;
mod routes;
mod rules;
mod service;
mod system;
mod transactions;

pub use limits::{Class, RateLimitOptions, RateLimits};
pub use redirect::{ChallengeAnswers, redirect_service};
pub use service::{HttpService, RequestObserver, RequestRecord};

use crate::service::Services;

/// The HTTPS API: every route, problem+json errors, security headers, access
/// log and metrics through `observer`, bodies limited to `max_body_bytes`
/// and to pauses of `body_timeout`, request rates limited per client and
/// route class.
pub fn api_service(
    services: Services,
    limits: RateLimits,
    observer: RequestObserver,
    max_body_bytes: u64,
    body_timeout: std::time::Duration,
    cors_origins: Vec<String>,
) -> HttpService {
    let body_limits = router::BodyLimits {
        none: max_body_bytes,
        json: extract::MAX_JSON_BYTES.min(max_body_bytes),
        upload: receipts::upload_body_limit(services.receipts.settings().max_upload_bytes),
        statement: services.ledger.settings().max_import_bytes,
        pause: body_timeout,
    };
    HttpService::routed(routes::router(&services, limits, body_limits), observer)
        .with_cors(cors_origins)
}
