//! `/api/v1/books/{book}/import-presets`: the CSV presets a book's imports
//! can use, its own (written by its members for their banks) and fin's.

use serde::Serialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::access;
use super::error::reject;
use super::extract::{json_body, with};
use super::json::created;
use super::limits::{Class, RateLimits};
use super::route::{Body, Route, path_param, path_params};
use crate::service::Services;
use crate::service::auth::sessions::Principal;
use crate::service::ledger::{NewPreset, PresetView};

pub fn routes(services: &Services, limits: &RateLimits) -> Vec<Route> {
    let member = || access::user_in(services, limits, Some("ledger"));
    let api = Some(Class::Api);
    vec![
        Route::new::<__path_list, _>(
            api,
            Body::None,
            path_param()
                .and(member())
                .and(with(services))
                .and_then(list),
        ),
        Route::new::<__path_create, _>(
            api,
            Body::Json,
            path_param()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(create),
        ),
        Route::new::<__path_delete, _>(
            api,
            Body::None,
            path_params()
                .and(member())
                .and(with(services))
                .and_then(delete),
        ),
    ]
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BookPreset {
    pub name: String,
    /// The preset as TOML.
    pub toml: String,
    /// Shipped with fin (not to be deleted) or the book's own.
    pub shipped: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BookPresetList {
    /// The book's own first, then fin's.
    pub items: Vec<BookPreset>,
}

fn preset(p: PresetView) -> BookPreset {
    BookPreset {
        name: p.name,
        toml: p.toml,
        shipped: p.shipped,
    }
}

/// The CSV presets the book's imports can use.
#[utoipa::path(get, path = "/api/v1/books/{book}/import-presets", tag = "imports", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    responses((status = 200, description = "The presets", body = BookPresetList),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem)))]
pub async fn list(
    book: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let items = services
        .ledger
        .presets(&principal, &book)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&BookPresetList {
        items: items.into_iter().map(preset).collect(),
    })
    .into_response())
}

/// Save a CSV preset for the book's imports (editor or owner).
#[utoipa::path(post, path = "/api/v1/books/{book}/import-presets", tag = "imports", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = NewPreset,
    responses((status = 201, description = "Saved", body = BookPreset),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 409, description = "The book or fin has a preset of that name, or the book has 100", body = fin_proto::api::Problem),
        (status = 422, description = "The TOML is not a valid preset; the problem is named", body = fin_proto::api::Problem)))]
pub async fn create(
    book: String,
    principal: Principal,
    new: NewPreset,
    services: Services,
) -> Result<Response, Rejection> {
    let saved = services
        .ledger
        .create_preset(&principal, &book, new)
        .await
        .map_err(reject)?;
    Ok(created(&preset(saved)))
}

/// Delete one of the book's presets (imports read with it keep their copy).
#[utoipa::path(delete, path = "/api/v1/books/{book}/import-presets/{name}", tag = "imports", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("name" = String, Path, description = "Preset name")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such book or preset of the book", body = fin_proto::api::Problem)))]
pub async fn delete(
    book: String,
    name: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    services
        .ledger
        .delete_preset(&principal, &book, &name)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
