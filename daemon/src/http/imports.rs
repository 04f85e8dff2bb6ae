//! `/api/v1/books/{book}/imports`: a bank statement uploaded as the request
//! body is previewed (rows, duplicates, problems), then committed or left;
//! a committed import can be undone. `/api/v1/import-presets` lists the
//! CSV presets shipped.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::access;
use super::error::reject;
use super::extract::{json_body, with};
use super::json::created;
use super::limits::{Class, RateLimits};
use super::problem::ApiRejection;
use super::receipts::upload_body;
use super::route::{Body, Route, path_param, path_params};
use crate::service::Services;
use crate::service::auth::sessions::Principal;
use crate::service::ledger::{ImportRecord, ImportView, Upload};

pub fn routes(services: &Services, limits: &RateLimits) -> Vec<Route> {
    let member = || access::user_in(services, limits, Some("ledger"));
    let api = Some(Class::Api);
    vec![
        Route::new::<__path_upload, _>(
            Some(Class::Upload),
            Body::Statement,
            path_param()
                .and(member())
                .and(warp::query::<UploadParams>())
                .and(upload_body())
                .and(with(services))
                .and_then(|book, principal, params, _type, body, services| {
                    upload(book, principal, params, Box::pin(body), services)
                }),
        ),
        Route::new::<__path_list, _>(
            api,
            Body::None,
            path_param()
                .and(member())
                .and(with(services))
                .and_then(list),
        ),
        Route::new::<__path_show, _>(
            api,
            Body::None,
            path_params()
                .and(member())
                .and(warp::query::<PageParams>())
                .and(with(services))
                .and_then(show),
        ),
        Route::new::<__path_commit, _>(
            api,
            Body::Json,
            path_params()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(commit),
        ),
        Route::new::<__path_undo, _>(
            api,
            Body::None,
            path_params()
                .and(member())
                .and(with(services))
                .and_then(undo),
        ),
        Route::new::<__path_presets, _>(
            api,
            Body::None,
            member().and(with(services)).and_then(presets),
        ),
    ]
}

/// How to read an uploaded statement.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    /// The account the statement is of.
    #[param(min_length = 1, max_length = 64, pattern = r"\S")]
    pub account: String,
    /// `csv`, `ofx` (also QFX), `qif` or `camt` (CAMT.053).
    #[param(pattern = "^(csv|ofx|qif|camt)$")]
    pub format: String,
    /// For CSV: a preset's name (default `iso-signed`; see `/api/v1/import-presets`).
    #[param(nullable = false, min_length = 1, max_length = 64, pattern = r"\S")]
    pub preset: Option<String>,
    /// For QIF: `day_first` or `month_first` (detected when left out).
    #[param(nullable = false, pattern = "^(day_first|month_first)$")]
    pub date_order: Option<String>,
    /// The file's name, for the list of imports.
    #[param(nullable = false, max_length = 200)]
    pub filename: Option<String>,
}

/// Which rows of a preview to show.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Rows to skip.
    #[param(nullable = false, maximum = 1000000)]
    pub offset: Option<u32>,
    /// Rows to show (default 200).
    #[param(nullable = false, minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Import {
    pub id: String,
    pub account_id: String,
    /// `csv`, `ofx`, `qif` or `camt`.
    pub format: String,
    pub preset: Option<String>,
    pub filename: String,
    pub bytes: i64,
    /// `preview`, `committed` or `undone`.
    pub status: String,
    pub created_at: i64,
    pub committed_at: Option<i64>,
    pub undone_at: Option<i64>,
    /// Transactions the commit created.
    pub committed_rows: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportList {
    pub items: Vec<Import>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviewRow {
    /// Its place among the file's rows, from 0: what `keep_duplicates` names.
    pub index: usize,
    /// The line of the file it starts on.
    pub line: usize,
    pub date: String,
    /// Signed minor units of the account's currency.
    pub amount: i64,
    pub payee: String,
    pub description: String,
    /// The bank's own id for it, if the file gives one.
    pub external_id: Option<String>,
    /// The transaction already in the account that this row duplicates:
    /// left out at commit unless its line is kept.
    pub duplicate_of: Option<String>,
    /// The category, payee and tags the transaction will have once the
    /// book's rules have run over it (`payee` above is the bank's).
    pub after_rules: super::rules::TidiedView,
    /// The rules that held, in the order they ran.
    pub rule_ids: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportProblem {
    pub line: usize,
    pub column: Option<usize>,
    pub message: String,
}

/// An import and what its file holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportPreview {
    pub import: Import,
    /// Rows read, over all pages.
    pub rows_total: usize,
    /// Of those, duplicates of transactions already in the account.
    pub duplicates: usize,
    /// A page of the rows (`offset`, `limit`).
    pub rows: Vec<PreviewRow>,
    /// What could not be read (at most 100); while there is any, the import cannot be committed.
    pub problems: Vec<ImportProblem>,
    /// Entries the file lists that are not transactions yet (a CAMT entry
    /// pending or only for information), left out of the import (at most
    /// 100). They do not stop a commit; a pending entry comes again, booked,
    /// in a later statement.
    pub skipped: Vec<ImportProblem>,
}

/// What to commit besides the new rows.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Commit {
    /// The `index` of each row flagged as a duplicate to import anyway (at
    /// most 1,000: more duplicates than that are a file imported twice).
    #[schema(max_items = 1000)]
    #[serde(default)]
    pub keep_duplicates: Vec<RowIndex>,
}

/// A row's place among the file's rows (0 is the first).
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct RowIndex(u32);

/// The highest row index taken (a file has at most 500,000 rows).
const MAX_ROW_INDEX: u32 = 1_000_000;

impl utoipa::PartialSchema for RowIndex {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Integer))
            .minimum(Some(0))
            .maximum(Some(MAX_ROW_INDEX))
            .into()
    }
}

impl utoipa::ToSchema for RowIndex {}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Preset {
    pub name: String,
    /// The preset as TOML: copy it to write one's own (docs/import.md).
    pub toml: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PresetList {
    pub items: Vec<Preset>,
}

fn import(r: ImportRecord) -> Import {
    Import {
        id: r.iid,
        account_id: r.aid,
        format: r.format,
        preset: r.preset,
        filename: r.filename,
        bytes: r.byte_size,
        status: r.status,
        created_at: r.created_at,
        committed_at: r.committed_at,
        undone_at: r.undone_at,
        committed_rows: r.committed_rows,
    }
}

fn preview(view: ImportView, offset: u32, limit: u32) -> ImportPreview {
    let duplicates = view.duplicates();
    let rows_total = view.rows.len();
    ImportPreview {
        import: import(view.import),
        rows_total,
        duplicates,
        rows: view
            .rows
            .into_iter()
            .enumerate()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|(index, p)| PreviewRow {
                index,
                line: p.row.line,
                date: p.row.date,
                amount: p.row.amount,
                payee: p.row.payee,
                description: p.row.description,
                external_id: p.row.external_id,
                duplicate_of: p.duplicate_of,
                after_rules: super::rules::tidied(p.tidied),
                rule_ids: p.rules,
            })
            .collect(),
        problems: view.problems.into_iter().map(problem).collect(),
        skipped: view.skipped.into_iter().map(problem).collect(),
    }
}

fn problem(p: crate::service::ledger::Problem) -> ImportProblem {
    ImportProblem {
        line: p.line,
        column: p.column,
        message: p.message,
    }
}

/// The body, up to `limit` bytes.
async fn read_body<S>(mut body: S, limit: u64) -> Result<Bytes, Rejection>
where
    S: Stream<Item = Result<Bytes, warp::Error>> + Unpin,
{
    let mut collected = bytes::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| {
            warp::reject::custom(ApiRejection::new(
                StatusCode::BAD_REQUEST,
                "body_read_failed",
                "the request body could not be read to its end",
            ))
        })?;
        if (collected.len() + chunk.len()) as u64 > limit {
            return Err(warp::reject::custom(ApiRejection::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("statement files are limited to {limit} bytes (import.max_file_bytes)"),
            )));
        }
        collected.extend_from_slice(&chunk);
    }
    Ok(collected.freeze())
}

/// Upload a bank statement to an account: the preview.
#[utoipa::path(post, path = "/api/v1/books/{book}/imports", tag = "imports", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), UploadParams),
    request_body(description = "The statement file as it came from the bank", content = Vec<u8>),
    responses((status = 201, description = "Read and kept as a preview: nothing is in the ledger yet", body = ImportPreview),
        (status = 400, description = "An empty body", body = fin_proto::api::Problem),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 422, description = "No such account in the book, or no such preset", body = fin_proto::api::Problem)))]
pub async fn upload<S>(
    book: String,
    principal: Principal,
    params: UploadParams,
    body: S,
    services: Services,
) -> Result<Response, Rejection>
where
    S: Stream<Item = Result<Bytes, warp::Error>> + Send + Unpin + 'static,
{
    let bytes = read_body(body, services.ledger.settings().max_import_bytes).await?;
    if bytes.is_empty() {
        return Err(warp::reject::custom(ApiRejection::new(
            StatusCode::BAD_REQUEST,
            "empty_body",
            "send the statement file as the request body",
        )));
    }
    let upload = Upload {
        account_id: params.account,
        format: params.format,
        preset: params.preset,
        date_order: params.date_order,
        filename: params.filename.unwrap_or_default(),
        bytes,
    };
    let view = services
        .ledger
        .preview_import(&principal, &book, upload)
        .await
        .map_err(reject)?;
    Ok(created(&preview(view, 0, DEFAULT_ROWS)))
}

const DEFAULT_ROWS: u32 = 200;

/// The book's imports, newest first.
#[utoipa::path(get, path = "/api/v1/books/{book}/imports", tag = "imports", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    responses((status = 200, description = "The imports", body = ImportList),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem)))]
pub async fn list(
    book: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let items = services
        .ledger
        .imports(&principal, &book)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&ImportList {
        items: items.into_iter().map(import).collect(),
    })
    .into_response())
}

/// One import, with its rows read again (a preview's duplicates as they are now).
#[utoipa::path(get, path = "/api/v1/books/{book}/imports/{id}", tag = "imports", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Import id"), PageParams),
    responses((status = 200, description = "The import", body = ImportPreview),
        (status = 404, description = "No such book or import", body = fin_proto::api::Problem)))]
pub async fn show(
    book: String,
    id: String,
    principal: Principal,
    page: PageParams,
    services: Services,
) -> Result<Response, Rejection> {
    let (offset, limit) = super::extract::page(page.limit, DEFAULT_ROWS, 1000, page.offset)?;
    let view = services
        .ledger
        .import(&principal, &book, &id)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&preview(view, offset, limit)).into_response())
}

/// Put a preview's rows in the ledger: all of them, or none.
#[utoipa::path(post, path = "/api/v1/books/{book}/imports/{id}/commit", tag = "imports", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Import id")),
    request_body = Commit,
    responses((status = 200, description = "Committed", body = Import),
        (status = 404, description = "No such book or import", body = fin_proto::api::Problem),
        (status = 409, description = "Not a preview (committed or undone already), or its account was deleted", body = fin_proto::api::Problem),
        (status = 422, description = "The file has problems: nothing was imported", body = fin_proto::api::Problem)))]
pub async fn commit(
    book: String,
    id: String,
    principal: Principal,
    body: Commit,
    services: Services,
) -> Result<Response, Rejection> {
    if body.keep_duplicates.len() > 1_000
        || body.keep_duplicates.iter().any(|i| i.0 > MAX_ROW_INDEX)
    {
        return Err(warp::reject::custom(ApiRejection::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("keep_duplicates holds at most 1000 row indexes, 0 to {MAX_ROW_INDEX}"),
        )));
    }
    let record = services
        .ledger
        .commit_import(
            &principal,
            &book,
            &id,
            &body
                .keep_duplicates
                .iter()
                .map(|l| l.0 as usize)
                .collect::<Vec<_>>(),
        )
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&import(record)).into_response())
}

/// Take a committed import's transactions out of the ledger again, all of them.
#[utoipa::path(post, path = "/api/v1/books/{book}/imports/{id}/undo", tag = "imports", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Import id")),
    responses((status = 200, description = "Undone", body = Import),
        (status = 404, description = "No such book or import", body = fin_proto::api::Problem),
        (status = 409, description = "Not committed", body = fin_proto::api::Problem)))]
pub async fn undo(
    book: String,
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .undo_import(&principal, &book, &id)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&import(record)).into_response())
}

/// The CSV presets shipped with fin.
#[utoipa::path(get, path = "/api/v1/import-presets", tag = "imports", security(("bearer" = [])),
    responses((status = 200, description = "The presets", body = PresetList)))]
pub async fn presets(_principal: Principal, _services: Services) -> Result<Response, Rejection> {
    let items = crate::service::ledger::shipped_presets()
        .into_iter()
        .map(|(name, toml)| Preset { name, toml })
        .collect();
    Ok(warp::reply::json(&PresetList { items }).into_response())
}
