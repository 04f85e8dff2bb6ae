//! Receipts meet the ledger: `/api/v1/books/{book}/receipts/{receipt}/confirm`
//! records a read receipt as a transaction; `/matches` are the bank lines
//! fin proposes as the payments of the caller's receipts, to accept or
//! reject.

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
use super::transactions::{Transaction, transaction};
use crate::service::Services;
use crate::service::auth::sessions::Principal;
use crate::service::ledger::{ConfirmReceipt, MatchSearch, MatchView};

pub fn routes(services: &Services, limits: &RateLimits) -> Vec<Route> {
    let member = || access::user_in(services, limits, Some("ledger"));
    let api = Some(Class::Api);
    vec![
        Route::new::<__path_confirm, _>(
            api,
            Body::Json,
            path_params()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(confirm),
        ),
        Route::new::<__path_list, _>(
            api,
            Body::None,
            path_param()
                .and(member())
                .and(with(services))
                .and_then(list),
        ),
        Route::new::<__path_find, _>(
            api,
            Body::Json,
            path_param()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(find),
        ),
        Route::new::<__path_accept, _>(
            api,
            Body::None,
            path_params()
                .and(member())
                .and(with(services))
                .and_then(accept),
        ),
        Route::new::<__path_refuse, _>(
            api,
            Body::None,
            path_params()
                .and(member())
                .and(with(services))
                .and_then(refuse),
        ),
    ]
}

/// The receipt's side of a proposal, as read and corrected.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MatchedReceipt {
    pub id: String,
    pub merchant: String,
    pub date: String,
    /// Minor units.
    pub total: i64,
    /// Empty when the receipt does not say.
    pub currency: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Match {
    pub id: String,
    /// From 0.6 (same amount and currency, dates a few days apart) to 1
    /// (same day, same name).
    pub score: f64,
    pub receipt: MatchedReceipt,
    pub transaction: Transaction,
    pub created_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MatchList {
    /// Best first.
    pub items: Vec<Match>,
}

fn view(m: MatchView) -> Match {
    Match {
        id: m.record.mid,
        score: (m.record.score * 1000.0).round() / 1000.0,
        receipt: MatchedReceipt {
            id: m.record.rid,
            merchant: m.receipt.merchant,
            date: m.receipt.date,
            total: m.receipt.total,
            currency: m.receipt.currency,
        },
        transaction: transaction(m.transaction),
        created_at: m.record.created_at,
    }
}

fn list_of(views: Vec<MatchView>) -> Response {
    warp::reply::json(&MatchList {
        items: views.into_iter().map(view).collect(),
    })
    .into_response()
}

/// Record one of your read receipts as a transaction with the receipt
/// attached (editor or owner). Its corrections carry over; line items
/// given categories become split parts.
#[utoipa::path(post, path = "/api/v1/books/{book}/receipts/{receipt}/confirm", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("receipt" = String, Path, description = "Receipt id")),
    request_body = ConfirmReceipt,
    responses((status = 201, description = "The transaction", body = Transaction),
        (status = 404, description = "No such book, or no such receipt of yours", body = fin_proto::api::Problem),
        (status = 409, description = "The receipt is on a transaction already, or fin proposes a bank line for it", body = fin_proto::api::Problem),
        (status = 422, description = "The receipt has no total or date, is in another currency than the account, or a value is not valid", body = fin_proto::api::Problem)))]
pub async fn confirm(
    book: String,
    receipt: String,
    principal: Principal,
    body: ConfirmReceipt,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .confirm_receipt(&principal, &book, &receipt, body)
        .await
        .map_err(reject)?;
    Ok(created(&transaction(record)))
}

/// Bank lines fin proposes as the payments of your receipts.
#[utoipa::path(get, path = "/api/v1/books/{book}/matches", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    responses((status = 200, description = "The open proposals", body = MatchList),
        (status = 403, description = "A viewer: matches attach receipts, which needs an editor", body = fin_proto::api::Problem),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem)))]
pub async fn list(
    book: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let views = services
        .ledger
        .matches(&principal, &book)
        .await
        .map_err(reject)?;
    Ok(list_of(views))
}

/// Look for the bank lines that paid your unmatched receipts (lines
/// dated in the range); each receipt's best line is proposed.
#[utoipa::path(post, path = "/api/v1/books/{book}/matches/find", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = MatchSearch,
    responses((status = 200, description = "The open proposals", body = MatchList),
        (status = 403, description = "A viewer", body = fin_proto::api::Problem),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 422, description = "A date is not valid", body = fin_proto::api::Problem)))]
pub async fn find(
    book: String,
    principal: Principal,
    search: MatchSearch,
    services: Services,
) -> Result<Response, Rejection> {
    let views = services
        .ledger
        .find_matches(&principal, &book, search)
        .await
        .map_err(reject)?;
    Ok(list_of(views))
}

/// Accept a proposal: the receipt is attached to the bank line's
/// transaction (one transaction, never two).
#[utoipa::path(post, path = "/api/v1/books/{book}/matches/{id}/accept", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Proposal id")),
    responses((status = 200, description = "The transaction with the receipt attached", body = Transaction),
        (status = 404, description = "No such book, or no open proposal of yours of that id", body = fin_proto::api::Problem),
        (status = 409, description = "The line was deleted or has a receipt, or the receipt is attached elsewhere", body = fin_proto::api::Problem)))]
pub async fn accept(
    book: String,
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .accept_match(&principal, &book, &id)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&transaction(record)).into_response())
}

/// Reject a proposal: that pair is never proposed again.
#[utoipa::path(post, path = "/api/v1/books/{book}/matches/{id}/reject", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Proposal id")),
    responses((status = 204, description = "Rejected"),
        (status = 404, description = "No such book, or no open proposal of yours of that id", body = fin_proto::api::Problem)))]
pub async fn refuse(
    book: String,
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    services
        .ledger
        .reject_match(&principal, &book, &id)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
