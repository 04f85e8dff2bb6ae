//! `/api/v1/receipts`: upload (multipart field `file`, or a raw image body),
//! status and result, listing, the image, corrections, deletion, retry.

use bytes::{Buf, Bytes};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::access;
use super::error::reject;
use super::extract::{json_body, page, with};
use super::limits::{Class, RateLimits};
use super::problem::ApiRejection;
use super::route::{Body, Route, path_param};
use crate::domain::image::ImageKind;
use crate::domain::receipt::{ReceiptFields, ReceiptQuery};
use crate::service::Services;
use crate::service::auth::sessions::Principal;
use crate::service::receipts::{Corrections, ReceiptView};

/// The receipts area's routes; an API key with the `receipts` scope may use them all.
pub fn routes(services: &Services, limits: &RateLimits) -> Vec<Route> {
    let owner = || access::user_in(services, limits, Some("receipts"));
    let api = Some(Class::Api);
    vec![
        Route::new::<__path_upload, _>(
            Some(Class::Upload),
            Body::Upload,
            owner().and(upload_body()).and(with(services)).and_then(
                |principal, content_type, body, services| {
                    upload(principal, content_type, Box::pin(body), services)
                },
            ),
        ),
        Route::new::<__path_list, _>(
            api,
            Body::None,
            owner()
                .and(warp::query::<ListParams>())
                .and(with(services))
                .and_then(list),
        ),
        Route::new::<__path_get, _>(
            api,
            Body::None,
            path_param().and(owner()).and(with(services)).and_then(get),
        ),
        Route::new::<__path_correct, _>(
            api,
            Body::Json,
            path_param()
                .and(owner())
                .and(json_body())
                .and(with(services))
                .and_then(correct),
        ),
        Route::new::<__path_delete, _>(
            api,
            Body::None,
            path_param()
                .and(owner())
                .and(with(services))
                .and_then(delete),
        ),
        Route::new::<__path_image, _>(
            api,
            Body::None,
            path_param()
                .and(owner())
                .and(with(services))
                .and_then(image),
        ),
        Route::new::<__path_retry, _>(
            api,
            Body::None,
            path_param()
                .and(owner())
                .and(with(services))
                .and_then(retry),
        ),
    ]
}

/// Room for multipart framing around the largest accepted image.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// The body limit of the upload route: the image limit plus multipart framing.
pub fn upload_body_limit(max_upload_bytes: u64) -> u64 {
    max_upload_bytes + MULTIPART_OVERHEAD
}

/// A receipt as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub id: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub image: ImageInfo,
    pub job: JobInfo,
    /// Extracted fields with the owner's corrections applied. Amounts are
    /// integer minor units of `currency`; each field has a `confidence` and
    /// the OCR `source` line it was read from (none when set by hand).
    #[schema(value_type = Object)]
    pub fields: ReceiptFields,
    /// Names of the fields the owner corrected.
    pub corrected: Vec<String>,
    /// This receipt's URL (poll it for the status).
    pub url: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImageInfo {
    pub content_type: String,
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
    pub sha256: String,
    pub url: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobInfo {
    pub state: String,
    pub attempts: i64,
    /// Milliseconds since the Unix epoch.
    pub queued_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub last_error: Option<String>,
    /// Time per stage of the last successful run, in milliseconds.
    pub timings_ms: Option<StageMillis>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StageMillis {
    pub decode: i64,
    pub detect: i64,
    pub recognise: i64,
    pub extract: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReceiptList {
    pub items: Vec<Receipt>,
    /// Receipts matching the filters, over all pages.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// Filters of `GET /api/v1/receipts`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `queued`, `running`, `done` or `failed`.
    #[param(nullable = false, pattern = "^(queued|running|done|failed)$")]
    pub status: Option<String>,
    /// Receipt dates from (inclusive), `YYYY-MM-DD`.
    #[param(nullable = false, format = Date)]
    pub from: Option<String>,
    /// Receipt dates to (inclusive), `YYYY-MM-DD`.
    #[param(nullable = false, format = Date)]
    pub to: Option<String>,
    /// Page size (default 50).
    #[param(nullable = false, minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Skip this many (newest) receipts: the next page.
    #[param(nullable = false, maximum = 1000000)]
    pub offset: Option<u32>,
}

/// The largest page of receipts.
const MAX_PAGE: u32 = 200;

fn to_api(view: &ReceiptView) -> Receipt {
    let r = &view.receipt;
    let url = format!("/api/v1/receipts/{}", r.rid);
    let job = view.job.as_ref();
    let timings_ms = job.and_then(|j| {
        Some(StageMillis {
            decode: j.decode_ms?,
            detect: j.detect_ms?,
            recognise: j.recognise_ms?,
            extract: j.extract_ms?,
        })
    });
    let corrected = view
        .corrections()
        .map(|c| c.names().into_iter().map(String::from).collect())
        .unwrap_or_default();
    Receipt {
        id: r.rid.clone(),
        status: view.state().to_string(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        image: ImageInfo {
            content_type: r.content_type.clone(),
            bytes: r.byte_size,
            width: r.width,
            height: r.height,
            sha256: r.sha256.clone(),
            url: format!("{url}/image"),
        },
        job: JobInfo {
            state: view.state().to_string(),
            attempts: job.map_or(0, |j| j.attempts),
            queued_at: job.map(|j| j.queued_at),
            started_at: job.and_then(|j| j.started_at),
            finished_at: job.and_then(|j| j.finished_at),
            last_error: job.and_then(|j| j.last_error.clone()),
            timings_ms,
        },
        fields: view.fields(),
        corrected,
        url,
    }
}

fn bad_request(code: &'static str, detail: impl Into<String>) -> Rejection {
    warp::reject::custom(ApiRejection::new(StatusCode::BAD_REQUEST, code, detail))
}

fn too_large(limit: u64) -> Rejection {
    warp::reject::custom(ApiRejection::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("receipt images are limited to {limit} bytes"),
    ))
}

/// The request's content type and its body as a stream of chunks.
pub fn upload_body() -> impl Filter<
    Extract = (
        Option<String>,
        impl Stream<Item = Result<Bytes, warp::Error>> + Send + 'static,
    ),
    Error = Rejection,
> + Clone {
    warp::header::optional::<String>("content-type").and(warp::body::stream().map(into_bytes))
}

fn into_bytes<S, B>(body: S) -> impl Stream<Item = Result<Bytes, warp::Error>> + Send + 'static
where
    S: Stream<Item = Result<B, warp::Error>> + Send + 'static,
    B: Buf,
{
    body.map(|chunk| chunk.map(|mut buf| buf.copy_to_bytes(buf.remaining())))
}

/// Upload a receipt image.
#[utoipa::path(post, path = "/api/v1/receipts", tag = "receipts", security(("bearer" = [])),
    request_body(description = "multipart/form-data with the image in field `file`, or the image itself with Content-Type image/jpeg, image/png, image/webp or image/tiff", content = Vec<u8>),
    responses(
        (status = 202, description = "Stored and queued for OCR; poll the URL in Location", body = Receipt),
        (status = 200, description = "The same image was uploaded before: that receipt", body = Receipt),
        (status = 400, description = "Empty body or bad multipart form", body = fin_proto::api::Problem),
        (status = 413, description = "Over the byte or pixel limit", body = fin_proto::api::Problem),
        (status = 415, description = "Not a JPEG, PNG, WebP or TIFF, or not what its type says", body = fin_proto::api::Problem),
        (status = 422, description = "Damaged, truncated, animated or multi-page image", body = fin_proto::api::Problem),
        (status = 429, description = "Too many uploads (rate limit), or too many of one's receipts waiting to be read (`user_queue_full`); Retry-After says when to try again", body = fin_proto::api::Problem),
        (status = 503, description = "OCR queue full; Retry-After says when to try again", body = fin_proto::api::Problem),
        (status = 507, description = "The server's disk is full, or one's storage quota would be exceeded (`quota_exceeded`)", body = fin_proto::api::Problem)))]
pub async fn upload<S>(
    principal: Principal,
    content_type: Option<String>,
    body: S,
    services: Services,
) -> Result<Response, Rejection>
where
    S: Stream<Item = Result<Bytes, warp::Error>> + Send + Unpin + 'static,
{
    let limit = services.receipts.settings().max_upload_bytes;
    let content_type = content_type.unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (bytes, declared) = if essence == "multipart/form-data" {
        read_multipart(&content_type, body, limit).await?
    } else if let Some(kind) = ImageKind::from_mime(&essence) {
        (read_all(body, limit).await?, Some(kind))
    } else if essence.is_empty() || essence == "application/octet-stream" {
        (read_all(body, limit).await?, None)
    } else {
        return Err(warp::reject::custom(ApiRejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "send multipart/form-data with a `file` field, or an image body (image/jpeg, image/png, image/webp, image/tiff), not {essence}"
            ),
        )));
    };
    let uploaded = services
        .receipts
        .upload(&principal, bytes, declared)
        .await
        .map_err(reject)?;
    let receipt = to_api(&uploaded.view);
    let status = if uploaded.created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let location = HeaderValue::from_str(&receipt.url).ok();
    let mut response =
        warp::reply::with_status(warp::reply::json(&receipt), status).into_response();
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn read_all<S>(mut body: S, limit: u64) -> Result<Bytes, Rejection>
where
    S: Stream<Item = Result<Bytes, warp::Error>> + Unpin,
{
    let mut collected = bytes::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| body_error(&e, collected.len() as u64, limit))?;
        if (collected.len() + chunk.len()) as u64 > limit {
            return Err(too_large(limit));
        }
        collected.extend_from_slice(&chunk);
    }
    Ok(collected.freeze())
}

/// A body that broke off while streaming: over the hard cut-off, or the client went away.
fn body_error(e: &warp::Error, read: u64, limit: u64) -> Rejection {
    if read + MULTIPART_OVERHEAD >= limit || e.to_string().contains("length limit") {
        too_large(limit)
    } else {
        bad_request(
            "body_read_failed",
            "the request body could not be read to its end",
        )
    }
}

async fn read_multipart<S>(
    content_type: &str,
    body: S,
    limit: u64,
) -> Result<(Bytes, Option<ImageKind>), Rejection>
where
    S: Stream<Item = Result<Bytes, warp::Error>> + Send + Unpin + 'static,
{
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        bad_request(
            "bad_multipart",
            "the multipart Content-Type has no boundary",
        )
    })?;
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(upload_body_limit(limit))
            .for_field("file", limit),
    );
    let mut form = multer::Multipart::with_constraints(body, boundary, constraints);
    loop {
        let field = form
            .next_field()
            .await
            .map_err(|e| multipart_error(e, limit))?;
        let Some(field) = field else {
            return Err(bad_request(
                "missing_file",
                "the form has no `file` field with the receipt image",
            ));
        };
        if field.name() != Some("file") {
            continue;
        }
        let declared = field
            .content_type()
            .and_then(|mime| ImageKind::from_mime(mime.essence_str()));
        let bytes = field.bytes().await.map_err(|e| multipart_error(e, limit))?;
        return Ok((bytes, declared));
    }
}

fn multipart_error(e: multer::Error, limit: u64) -> Rejection {
    match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => {
            too_large(limit)
        }
        multer::Error::StreamReadFailed(inner) if inner.to_string().contains("length limit") => {
            too_large(limit)
        }
        other => bad_request(
            "bad_multipart",
            format!("the multipart form is malformed: {other}"),
        ),
    }
}

/// One receipt: OCR status and the fields read.
#[utoipa::path(get, path = "/api/v1/receipts/{id}", tag = "receipts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Receipt id")),
    responses((status = 200, description = "The receipt", body = Receipt),
        (status = 404, description = "No such receipt of yours", body = fin_proto::api::Problem)))]
pub async fn get(
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let view = services
        .receipts
        .get(&principal, &id)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&to_api(&view)).into_response())
}

/// Your receipts, newest first.
#[utoipa::path(get, path = "/api/v1/receipts", tag = "receipts", security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, description = "A page of receipts", body = ReceiptList),
        (status = 400, description = "A page size or offset out of range", body = fin_proto::api::Problem),
        (status = 422, description = "Bad status or date", body = fin_proto::api::Problem)))]
pub async fn list(
    principal: Principal,
    params: ListParams,
    services: Services,
) -> Result<Response, Rejection> {
    let (limit, offset) = page(params.limit, 50, MAX_PAGE, params.offset)?;
    let query = ReceiptQuery {
        state: params.status,
        date_from: params.from,
        date_to: params.to,
        limit,
        offset,
    };
    let (views, total) = services
        .receipts
        .list(&principal, &query)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&ReceiptList {
        items: views.iter().map(to_api).collect(),
        total,
        limit,
        offset,
    })
    .into_response())
}

/// The receipt image as uploaded.
#[utoipa::path(get, path = "/api/v1/receipts/{id}/image", tag = "receipts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Receipt id")),
    responses((status = 200, description = "The image", content_type = "image/*"),
        (status = 404, description = "No such receipt of yours", body = fin_proto::api::Problem)))]
pub async fn image(
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let (bytes, content_type) = services
        .receipts
        .image(&principal, &id)
        .await
        .map_err(reject)?;
    let mut response = Response::new(bytes.into());
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400, immutable"),
    );
    Ok(response)
}

/// Correct extracted fields. Corrections outlive any later OCR run.
#[utoipa::path(patch, path = "/api/v1/receipts/{id}", tag = "receipts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Receipt id")),
    request_body = Corrections,
    responses((status = 200, description = "The corrected receipt", body = Receipt),
        (status = 404, description = "No such receipt of yours", body = fin_proto::api::Problem),
        (status = 422, description = "A value is not valid", body = fin_proto::api::Problem)))]
pub async fn correct(
    id: String,
    principal: Principal,
    corrections: Corrections,
    services: Services,
) -> Result<Response, Rejection> {
    let view = services
        .receipts
        .correct(&principal, &id, corrections)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&to_api(&view)).into_response())
}

/// Delete a receipt and, when no other receipt uses it, its image.
#[utoipa::path(delete, path = "/api/v1/receipts/{id}", tag = "receipts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Receipt id")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such receipt of yours", body = fin_proto::api::Problem)))]
pub async fn delete(
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    services
        .receipts
        .delete(&principal, &id)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Queue a done or failed receipt for OCR again.
#[utoipa::path(post, path = "/api/v1/receipts/{id}/retry", tag = "receipts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Receipt id")),
    responses((status = 202, description = "Queued again", body = Receipt),
        (status = 404, description = "No such receipt of yours", body = fin_proto::api::Problem),
        (status = 409, description = "Already queued or running, or queued again `ocr.max_retries` times already", body = fin_proto::api::Problem),
        (status = 429, description = "Too many of one's receipts wait to be read (`user_queue_full`), or too many requests; Retry-After says when to try again", body = fin_proto::api::Problem),
        (status = 503, description = "OCR queue full; Retry-After says when to try again", body = fin_proto::api::Problem)))]
pub async fn retry(
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let view = services
        .receipts
        .retry(&principal, &id)
        .await
        .map_err(reject)?;
    Ok(
        warp::reply::with_status(warp::reply::json(&to_api(&view)), StatusCode::ACCEPTED)
            .into_response(),
    )
}
