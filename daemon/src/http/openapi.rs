//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::sync::OnceLock;

use utoipa::OpenApi;

use super::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "fin API", description = "Self-hosted personal finance: the JSON API over HTTPS."),
    paths(routes::healthz, routes::readyz, routes::openapi_json),
    components(schemas(fin_proto::api::Problem, fin_proto::api::Health, fin_proto::api::Readiness, fin_proto::api::Check)),
    tags((name = "system", description = "Liveness, readiness and this document"))
)]
struct ApiDoc;

/// Built once; the document never changes while the daemon runs.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.info.version = crate::VERSION.to_string();
        doc
    })
}
