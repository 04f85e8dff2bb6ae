//! The OpenAPI 3.1 document, built from the route table: each route's
//! operation comes from its handler's annotation, and what every route of
//! its kind can answer (401 and 403 when it needs a login, 429 when it is
//! rate limited, 400, 411, 413 and 415 when it reads JSON, 404 when its path
//! names something, 503 under `/api/` while a restore runs, 500 always) is
//! added here, from the same declaration the router enforces. Every error
//! is `application/problem+json`.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Content, Ref, RefOr, Response as DocResponse};
use warp::http::{HeaderValue, header};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::problem::PROBLEM_JSON;
use super::route::{Body, Route};
use super::router::MAINTAINED_PREFIX;
use super::{accounts, books, imports, receipts, transactions};

#[derive(OpenApi)]
#[openapi(
    info(title = "fin API", description = "Self-hosted personal finance: the JSON API over HTTPS."),
    components(schemas(
        fin_proto::api::Problem, fin_proto::api::Health, fin_proto::api::Readiness, fin_proto::api::Check,
        fin_proto::api::LoginRequest, fin_proto::api::RefreshRequest, fin_proto::api::TokenPair, fin_proto::api::Me,
        fin_proto::api::ChangePassword, fin_proto::api::SessionInfo, fin_proto::api::AuditEntry,
        fin_proto::api::CreateApiKey, fin_proto::api::ApiKeyInfo, fin_proto::api::ApiKeyCreated,
        fin_proto::api::RegisterRequest, fin_proto::api::CreateInvite, fin_proto::api::Invite,
        fin_proto::admin::User, fin_proto::admin::CreateUser, fin_proto::admin::SetRole,
        fin_proto::admin::SetPassword,
        receipts::Receipt, receipts::ImageInfo, receipts::JobInfo, receipts::StageMillis,
        receipts::ReceiptList, crate::service::receipts::Corrections,
        books::Book, books::BookList, books::Member, books::MemberList, books::MemberRole,
        books::NewOwner, crate::service::ledger::NewBook, crate::service::ledger::BookPatch,
        accounts::Account, accounts::AccountList, accounts::Category, accounts::CategoryList,
        accounts::CategoryName, crate::service::ledger::NewAccount, crate::service::ledger::AccountPatch,
        crate::service::ledger::NewCategory,
        transactions::Transaction, transactions::Split, transactions::TransactionPage,
        transactions::TransferPair, transactions::Deleted, transactions::Categorise,
        transactions::Categorised, crate::service::ledger::NewTransaction,
        crate::service::ledger::NewTransfer, crate::service::ledger::TransactionPatch,
        crate::service::ledger::SplitInput,
        imports::Import, imports::ImportList, imports::PreviewRow, imports::ImportProblem,
        imports::ImportPreview, imports::Commit, imports::RowIndex, imports::Preset, imports::PresetList
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "system", description = "Liveness, readiness and this document"),
        (name = "auth", description = "Log in, refresh, log out, who am I"),
        (name = "admin", description = "For admins: accounts and the audit trail"),
        (name = "receipts", description = "Receipt images, read by OCR in the daemon"),
        (name = "books", description = "Books: shared household ledgers, their members and roles"),
        (name = "ledger", description = "A book's accounts, categories, transactions and transfers"),
        (name = "imports", description = "Bank statements: upload, preview, commit, undo")
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

/// The document describing `routes`.
pub fn document(routes: &[Route]) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = crate::VERSION.to_string();
    for route in routes {
        doc.paths.add_path_operation(
            &*route.pattern,
            vec![route.doc_method.clone()],
            complete(route),
        );
    }
    doc
}

/// The route serving the document, filled in once the whole table is known.
pub fn route(document: Arc<OnceLock<Bytes>>) -> Route {
    Route::new::<__path_openapi_json, _>(None, Body::None, openapi_json(document))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json")))]
fn openapi_json(
    document: Arc<OnceLock<Bytes>>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::any().and_then(move || {
        let body = document.get().cloned().unwrap_or_default();
        async move {
            let mut response = Response::new(body.into());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok::<_, Rejection>(response)
        }
    })
}

/// The route's operation with every answer it can give.
fn complete(route: &Route) -> Operation {
    let mut operation = route.operation.clone();
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let has = |place: ParameterIn, operation: &Operation| {
        operation
            .parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == place)
    };
    let (in_path, in_query) = (
        has(ParameterIn::Path, &operation),
        has(ParameterIn::Query, &operation),
    );
    let mut standard: Vec<(&str, &str)> = Vec::new();
    match route.body {
        Body::Json => standard.extend([
            (
                "400",
                "Malformed JSON, or a field missing or of the wrong type",
            ),
            ("411", "No Content-Length"),
            ("413", "The body is larger than this endpoint accepts"),
            ("415", "The body is not application/json"),
        ]),
        Body::Upload => standard.push(("413", "Over the byte or pixel limit")),
        Body::Statement => standard.push(("413", "Over `import.max_file_bytes`")),
        Body::None => standard.push(("413", "A body over `server.max_body_bytes`")),
    }
    if in_query && route.body != Body::Json {
        standard.push(("400", "A query parameter is not valid"));
    }
    if secured {
        standard.extend([
            ("401", "No valid access token or API key"),
            (
                "403",
                "Not allowed: an API key without the scope, or not an admin",
            ),
        ]);
    }
    if in_path {
        standard.push(("404", "Not found, or not yours"));
    }
    if route.class.is_some() {
        standard.push((
            "429",
            "Too many requests; Retry-After says when to try again",
        ));
    }
    if route.pattern.starts_with(MAINTAINED_PREFIX) {
        standard.push((
            "503",
            "A backup is being restored (`maintenance`); Retry-After says when to try again",
        ));
    }
    standard.push(("500", "The server failed; the cause is in its log"));

    let responses = &mut operation.responses.responses;
    for (status, description) in standard {
        responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(DocResponse::new(description)));
    }
    for (status, response) in responses.iter_mut() {
        // Errors are problem+json, except answers with a body of their own
        // (a failed readiness check shows its checks).
        if let RefOr::T(response) = response
            && status.as_str() >= "400"
            && response.content.values().all(is_problem)
        {
            response.content.clear();
            response.content.insert(
                PROBLEM_JSON.to_string(),
                Content::new(Some(Ref::from_schema_name("Problem"))),
            );
            if status == "429" || status == "503" {
                response.headers.insert(
                    "Retry-After".to_string(),
                    utoipa::openapi::header::Header::new(
                        ObjectBuilder::new().schema_type(Type::Integer),
                    ),
                );
            }
        }
    }
    operation
}

fn is_problem(content: &Content) -> bool {
    matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"))
}
