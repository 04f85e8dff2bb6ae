//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::convert::Infallible;
use std::sync::OnceLock;

use utoipa::OpenApi;
use warp::Reply;
use warp::reply::Response;

use super::{admin_users, auth, receipts, system};

#[derive(OpenApi)]
#[openapi(
    info(title = "fin API", description = "Self-hosted personal finance: the JSON API over HTTPS."),
    paths(
        system::healthz, system::readyz, openapi_json,
        auth::login, auth::refresh, auth::logout, auth::me,
        auth::change_password, auth::sessions, auth::end_session, auth::audit,
        auth::create_api_key, auth::api_keys, auth::revoke_api_key,
        admin_users::list, admin_users::create, admin_users::show, admin_users::set_role,
        admin_users::action, admin_users::set_password, admin_users::delete,
        admin_users::create_invite, admin_users::register,
        receipts::upload, receipts::list, receipts::get, receipts::correct, receipts::delete,
        receipts::image, receipts::retry
    ),
    components(schemas(
        fin_proto::api::Problem, fin_proto::api::Health, fin_proto::api::Readiness, fin_proto::api::Check,
        fin_proto::api::LoginRequest, fin_proto::api::RefreshRequest, fin_proto::api::TokenPair, fin_proto::api::Me,
        fin_proto::api::ChangePassword, fin_proto::api::SessionInfo, fin_proto::api::AuditEntry,
        fin_proto::api::CreateApiKey, fin_proto::api::ApiKeyInfo, fin_proto::api::ApiKeyCreated,
        fin_proto::api::RegisterRequest, fin_proto::api::CreateInvite, fin_proto::api::Invite,
        receipts::Receipt, receipts::ImageInfo, receipts::JobInfo, receipts::StageMillis,
        receipts::ReceiptList, crate::service::receipts::Corrections
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "system", description = "Liveness, readiness and this document"),
        (name = "auth", description = "Log in, refresh, log out, who am I"),
        (name = "admin", description = "For admins: accounts and the audit trail"),
        (name = "receipts", description = "Receipt images, read by OCR in the daemon")
    )
)]
struct ApiDoc;

/// Declares the `bearer` security scheme the authenticated routes use.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Built once; the document never changes while the daemon runs.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.info.version = crate::VERSION.to_string();
        doc
    })
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json")))]
pub async fn openapi_json() -> Result<Response, Infallible> {
    Ok(warp::reply::json(document()).into_response())
}
