//! `/api/v1/books/{book}/transactions` and `/transfers`: a book's
//! transactions, filtered and paged by cursor; splits; transfers; bulk
//! categorising.

use serde::{Deserialize, Serialize};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::access;
use super::error::reject;
use super::extract::{json_body, with};
use super::json::created;
use super::limits::{Class, RateLimits};
use super::problem::ApiRejection;
use super::route::{Body, Route, path_param, path_params};
use crate::service::Services;
use crate::service::auth::sessions::Principal;
use crate::service::ledger::TxnRecord;
use crate::service::ledger::{NewTransaction, NewTransfer, TransactionPatch, TransactionQuery};

pub fn routes(services: &Services, limits: &RateLimits) -> Vec<Route> {
    let member = || access::user_in(services, limits, Some("ledger"));
    let api = Some(Class::Api);
    vec![
        Route::new::<__path_list, _>(
            api,
            Body::None,
            path_param()
                .and(member())
                .and(warp::query::<ListParams>())
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
        Route::new::<__path_categorise, _>(
            api,
            Body::Json,
            path_param()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(categorise),
        ),
        Route::new::<__path_show, _>(
            api,
            Body::None,
            path_params()
                .and(member())
                .and(with(services))
                .and_then(show),
        ),
        Route::new::<__path_update, _>(
            api,
            Body::Json,
            path_params()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(update),
        ),
        Route::new::<__path_delete, _>(
            api,
            Body::None,
            path_params()
                .and(member())
                .and(with(services))
                .and_then(delete),
        ),
        Route::new::<__path_transfer, _>(
            api,
            Body::Json,
            path_param()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(transfer),
        ),
    ]
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Split {
    pub category_id: Option<String>,
    /// Minor units; the parts add up to the transaction's amount.
    pub amount: i64,
    pub memo: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Transaction {
    pub id: String,
    pub account_id: String,
    pub date: String,
    /// Signed minor units of `currency` (the account's): negative is money out.
    pub amount: i64,
    pub currency: String,
    pub payee: String,
    pub description: String,
    pub category_id: Option<String>,
    pub tags: Vec<String>,
    pub notes: String,
    /// `uncleared`, `cleared` or `reconciled`.
    pub state: String,
    pub splits: Vec<Split>,
    /// Ids of the attached receipts.
    pub receipts: Vec<String>,
    /// Shared by the two sides of a transfer.
    pub transfer_id: Option<String>,
    /// The import it came from, and the bank's own id for it.
    pub import_id: Option<String>,
    pub external_id: Option<String>,
    /// Goes up by one with every change.
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransactionPage {
    pub items: Vec<Transaction>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransferPair {
    /// The side leaving the first account, then the side arriving.
    pub items: Vec<Transaction>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// The ids deleted: two for a transfer.
    pub deleted: Vec<String>,
}

/// Transactions to put in one category.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Categorise {
    #[schema(min_items = 1, max_items = 1000)]
    pub ids: Vec<String>,
    /// The category, or `null` for none.
    #[schema(min_length = 1, max_length = 64, nullable)]
    pub category_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Categorised {
    /// The ids changed; split and transfer transactions and unknown ids are left out.
    pub changed: Vec<String>,
}

/// Filters of `GET /api/v1/books/{book}/transactions`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Dates from (inclusive), `YYYY-MM-DD`.
    #[param(nullable = false, format = Date)]
    pub from: Option<String>,
    /// Dates to (inclusive), `YYYY-MM-DD`.
    #[param(nullable = false, format = Date)]
    pub to: Option<String>,
    #[param(nullable = false, min_length = 1, max_length = 64, pattern = r"\S")]
    pub account: Option<String>,
    /// In this category, directly or in a split part.
    #[param(nullable = false, min_length = 1, max_length = 64, pattern = r"\S")]
    pub category: Option<String>,
    /// Text in the payee or the description, any case.
    #[param(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    pub q: Option<String>,
    #[param(nullable = false, minimum = -1_000_000_000_000_i64, maximum = 1_000_000_000_000_i64)]
    pub min_amount: Option<i64>,
    #[param(nullable = false, minimum = -1_000_000_000_000_i64, maximum = 1_000_000_000_000_i64)]
    pub max_amount: Option<i64>,
    #[param(nullable = false, min_length = 1, max_length = 50, pattern = r"\S")]
    pub tag: Option<String>,
    /// Only those with no category, no split and not a transfer.
    #[param(nullable = false)]
    pub uncategorised: Option<bool>,
    /// Only those with (true) or without (false) a receipt attached.
    #[param(nullable = false)]
    pub has_receipt: Option<bool>,
    /// `next_cursor` of the page before.
    #[param(nullable = false, min_length = 1, max_length = 400, pattern = r"\S")]
    pub cursor: Option<String>,
    /// Page size (default 50).
    #[param(nullable = false, minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

pub(super) fn transaction(r: TxnRecord) -> Transaction {
    Transaction {
        id: r.tid,
        account_id: r.aid,
        date: r.date,
        amount: r.amount,
        currency: r.currency,
        payee: r.payee,
        description: r.description,
        category_id: r.cid,
        tags: r.tags,
        notes: r.notes,
        state: r.state,
        splits: r
            .splits
            .into_iter()
            .map(|s| Split {
                category_id: s.cid,
                amount: s.amount,
                memo: s.memo,
            })
            .collect(),
        receipts: r.receipts,
        transfer_id: r.transfer_id,
        import_id: r.import_id,
        external_id: r.external_id,
        revision: r.rev,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn bad_query(detail: String) -> Rejection {
    warp::reject::custom(ApiRejection::new(
        warp::http::StatusCode::BAD_REQUEST,
        "invalid_query",
        detail,
    ))
}

/// The book's transactions, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/books/{book}/transactions", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ListParams),
    responses((status = 200, description = "A page of transactions", body = TransactionPage),
        (status = 400, description = "A filter or page size out of range", body = fin_proto::api::Problem),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 422, description = "A date or cursor that does not parse", body = fin_proto::api::Problem)))]
pub async fn list(
    book: String,
    principal: Principal,
    params: ListParams,
    services: Services,
) -> Result<Response, Rejection> {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(bad_query(format!("limit must be 1 to {MAX_PAGE}")));
    }
    let bounded = [
        ("account", &params.account, 64),
        ("category", &params.category, 64),
        ("q", &params.q, 200),
        ("tag", &params.tag, 50),
        ("cursor", &params.cursor, 400),
    ];
    for (name, value, max) in bounded {
        if let Some(value) = value
            && (value.trim().is_empty() || value.chars().count() > max)
        {
            return Err(bad_query(format!(
                "{name} must be 1 to {max} characters; leave it out for no filter"
            )));
        }
    }
    let out_of_range = [params.min_amount, params.max_amount]
        .into_iter()
        .flatten()
        .any(|a| a.abs() > crate::domain::ledger::MAX_AMOUNT);
    if out_of_range {
        return Err(bad_query(format!(
            "min_amount and max_amount are at most {} minor units either way",
            crate::domain::ledger::MAX_AMOUNT
        )));
    }
    let query = TransactionQuery {
        from: params.from,
        to: params.to,
        account_id: params.account,
        category_id: params.category,
        text: params.q,
        min_amount: params.min_amount,
        max_amount: params.max_amount,
        tag: params.tag,
        uncategorised: params.uncategorised.unwrap_or(false),
        has_receipt: params.has_receipt,
        cursor: params.cursor,
        limit,
    };
    let page = services
        .ledger
        .transactions(&principal, &book, query)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&TransactionPage {
        items: page.items.into_iter().map(transaction).collect(),
        next_cursor: page.next_cursor,
    })
    .into_response())
}

/// Record a transaction, split across categories if need be (editor or owner).
#[utoipa::path(post, path = "/api/v1/books/{book}/transactions", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = NewTransaction,
    responses((status = 201, description = "Created", body = Transaction),
        (status = 404, description = "No such book, or no such account in it", body = fin_proto::api::Problem),
        (status = 422, description = "A value is not valid: a split that does not add up, an unknown category or receipt", body = fin_proto::api::Problem)))]
pub async fn create(
    book: String,
    principal: Principal,
    new: NewTransaction,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .create_transaction(&principal, &book, new)
        .await
        .map_err(reject)?;
    Ok(created(&transaction(record)))
}

/// Put transactions in a category, or in none.
#[utoipa::path(post, path = "/api/v1/books/{book}/transactions/categorise", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = Categorise,
    responses((status = 200, description = "The transactions changed", body = Categorised),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 422, description = "No such category in the book, or too many ids", body = fin_proto::api::Problem)))]
pub async fn categorise(
    book: String,
    principal: Principal,
    body: Categorise,
    services: Services,
) -> Result<Response, Rejection> {
    let changed = services
        .ledger
        .categorise(&principal, &book, body.ids, body.category_id)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&Categorised { changed }).into_response())
}

/// One transaction.
#[utoipa::path(get, path = "/api/v1/books/{book}/transactions/{id}", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Transaction id")),
    responses((status = 200, description = "The transaction", body = Transaction),
        (status = 404, description = "No such book or transaction", body = fin_proto::api::Problem)))]
pub async fn show(
    book: String,
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .transaction(&principal, &book, &id)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&transaction(record)).into_response())
}

/// Change a transaction; fields left out stay as they are.
#[utoipa::path(patch, path = "/api/v1/books/{book}/transactions/{id}", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Transaction id")),
    request_body = TransactionPatch,
    responses((status = 200, description = "The transaction", body = Transaction),
        (status = 404, description = "No such book, transaction or account", body = fin_proto::api::Problem),
        (status = 409, description = "A transfer's amount, account or category, or changed by someone else meanwhile", body = fin_proto::api::Problem),
        (status = 422, description = "A value is not valid", body = fin_proto::api::Problem)))]
pub async fn update(
    book: String,
    id: String,
    principal: Principal,
    patch: TransactionPatch,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .update_transaction(&principal, &book, &id, patch)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&transaction(record)).into_response())
}

/// Delete a transaction; a transfer goes with both its sides.
#[utoipa::path(delete, path = "/api/v1/books/{book}/transactions/{id}", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Transaction id")),
    responses((status = 200, description = "The ids deleted", body = Deleted),
        (status = 404, description = "No such book or transaction", body = fin_proto::api::Problem)))]
pub async fn delete(
    book: String,
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let deleted = services
        .ledger
        .delete_transaction(&principal, &book, &id)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&Deleted { deleted }).into_response())
}

/// Move money between two accounts of the book: two linked transactions.
#[utoipa::path(post, path = "/api/v1/books/{book}/transfers", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = NewTransfer,
    responses((status = 201, description = "Both sides", body = TransferPair),
        (status = 404, description = "No such book, or no such account in it", body = fin_proto::api::Problem),
        (status = 422, description = "A value is not valid, or to_amount missing between currencies", body = fin_proto::api::Problem)))]
pub async fn transfer(
    book: String,
    principal: Principal,
    new: NewTransfer,
    services: Services,
) -> Result<Response, Rejection> {
    let pair = services
        .ledger
        .create_transfer(&principal, &book, new)
        .await
        .map_err(reject)?;
    Ok(created(&TransferPair {
        items: pair.into_iter().map(transaction).collect(),
    }))
}
