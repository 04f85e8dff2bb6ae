//! `/api/v1/books/{book}/accounts` and `/categories`: a book's accounts
//! (with their computed balances) and its two-level categories.

use serde::{Deserialize, Serialize};
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
use crate::service::ledger::{AccountPatch, NewAccount, NewCategory};
use crate::service::ledger::{AccountRecord, CategoryRecord};

pub fn routes(services: &Services, limits: &RateLimits) -> Vec<Route> {
    let member = || access::user_in(services, limits, Some("ledger"));
    let api = Some(Class::Api);
    vec![
        Route::new::<__path_list_accounts, _>(
            api,
            Body::None,
            path_param()
                .and(member())
                .and(with(services))
                .and_then(list_accounts),
        ),
        Route::new::<__path_create_account, _>(
            api,
            Body::Json,
            path_param()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(create_account),
        ),
        Route::new::<__path_show_account, _>(
            api,
            Body::None,
            path_params()
                .and(member())
                .and(with(services))
                .and_then(show_account),
        ),
        Route::new::<__path_update_account, _>(
            api,
            Body::Json,
            path_params()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(update_account),
        ),
        Route::new::<__path_delete_account, _>(
            api,
            Body::None,
            path_params()
                .and(member())
                .and(with(services))
                .and_then(delete_account),
        ),
        Route::new::<__path_list_categories, _>(
            api,
            Body::None,
            path_param()
                .and(member())
                .and(with(services))
                .and_then(list_categories),
        ),
        Route::new::<__path_create_category, _>(
            api,
            Body::Json,
            path_param()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(create_category),
        ),
        Route::new::<__path_rename_category, _>(
            api,
            Body::Json,
            path_params()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(rename_category),
        ),
        Route::new::<__path_delete_category, _>(
            api,
            Body::None,
            path_params()
                .and(member())
                .and(with(services))
                .and_then(delete_category),
        ),
    ]
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// `checking`, `savings`, `credit_card`, `cash` or `loan`.
    pub kind: String,
    pub currency: String,
    /// Minor units of `currency`.
    pub opening_balance: i64,
    pub opening_date: String,
    pub archived: bool,
    /// Opening balance plus every transaction, in minor units: computed, never stored.
    pub balance: i64,
    /// How many transactions the account has.
    pub transactions: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountList {
    pub items: Vec<Account>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Category {
    pub id: String,
    pub name: String,
    /// The top-level category this one belongs to, if it is a subcategory.
    pub parent_id: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryList {
    pub items: Vec<Category>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryName {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
}

fn account(r: AccountRecord) -> Account {
    Account {
        id: r.aid,
        name: r.name,
        kind: r.kind,
        currency: r.currency,
        opening_balance: r.opening_balance,
        opening_date: r.opening_date,
        archived: r.archived,
        balance: r.balance,
        transactions: r.transactions,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn category(r: CategoryRecord) -> Category {
    Category {
        id: r.cid,
        name: r.name,
        parent_id: Some(r.parent).filter(|p| !p.is_empty()),
        created_at: r.created_at,
    }
}

/// The book's accounts with their balances; archived ones last.
#[utoipa::path(get, path = "/api/v1/books/{book}/accounts", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    responses((status = 200, description = "The accounts", body = AccountList),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem)))]
pub async fn list_accounts(
    book: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let items = services
        .ledger
        .accounts(&principal, &book)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&AccountList {
        items: items.into_iter().map(account).collect(),
    })
    .into_response())
}

/// Open an account (editor or owner). Its currency never changes.
#[utoipa::path(post, path = "/api/v1/books/{book}/accounts", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = NewAccount,
    responses((status = 201, description = "Created", body = Account),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 409, description = "The book has an account of that name", body = fin_proto::api::Problem),
        (status = 422, description = "A value is not valid", body = fin_proto::api::Problem)))]
pub async fn create_account(
    book: String,
    principal: Principal,
    new: NewAccount,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .create_account(&principal, &book, new)
        .await
        .map_err(reject)?;
    Ok(created(&account(record)))
}

/// One account with its balance.
#[utoipa::path(get, path = "/api/v1/books/{book}/accounts/{id}", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Account id")),
    responses((status = 200, description = "The account", body = Account),
        (status = 404, description = "No such book or account", body = fin_proto::api::Problem)))]
pub async fn show_account(
    book: String,
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .account(&principal, &book, &id)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&account(record)).into_response())
}

/// Rename, re-open or archive an account, or correct its opening balance.
#[utoipa::path(patch, path = "/api/v1/books/{book}/accounts/{id}", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Account id")),
    request_body = AccountPatch,
    responses((status = 200, description = "The account", body = Account),
        (status = 404, description = "No such book or account", body = fin_proto::api::Problem),
        (status = 409, description = "The book has an account of that name", body = fin_proto::api::Problem),
        (status = 422, description = "A value is not valid", body = fin_proto::api::Problem)))]
pub async fn update_account(
    book: String,
    id: String,
    principal: Principal,
    patch: AccountPatch,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .update_account(&principal, &book, &id, patch)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&account(record)).into_response())
}

/// Delete an account that has no transactions (archive one that has).
#[utoipa::path(delete, path = "/api/v1/books/{book}/accounts/{id}", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Account id")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such book or account", body = fin_proto::api::Problem),
        (status = 409, description = "The account has transactions", body = fin_proto::api::Problem)))]
pub async fn delete_account(
    book: String,
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    services
        .ledger
        .delete_account(&principal, &book, &id)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The book's categories: top-level ones and their subcategories.
#[utoipa::path(get, path = "/api/v1/books/{book}/categories", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    responses((status = 200, description = "The categories", body = CategoryList),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem)))]
pub async fn list_categories(
    book: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let items = services
        .ledger
        .categories(&principal, &book)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&CategoryList {
        items: items.into_iter().map(category).collect(),
    })
    .into_response())
}

/// Add a category, or a subcategory of a top-level one.
#[utoipa::path(post, path = "/api/v1/books/{book}/categories", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = NewCategory,
    responses((status = 201, description = "Created", body = Category),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 409, description = "A category of that name is already there", body = fin_proto::api::Problem),
        (status = 422, description = "A value is not valid, or the parent is not a top-level category of the book", body = fin_proto::api::Problem)))]
pub async fn create_category(
    book: String,
    principal: Principal,
    new: NewCategory,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .create_category(&principal, &book, new)
        .await
        .map_err(reject)?;
    Ok(created(&category(record)))
}

/// Rename a category.
#[utoipa::path(patch, path = "/api/v1/books/{book}/categories/{id}", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Category id")),
    request_body = CategoryName,
    responses((status = 200, description = "The category", body = Category),
        (status = 404, description = "No such book or category", body = fin_proto::api::Problem),
        (status = 409, description = "A category of that name is already there", body = fin_proto::api::Problem),
        (status = 422, description = "A value is not valid", body = fin_proto::api::Problem)))]
pub async fn rename_category(
    book: String,
    id: String,
    principal: Principal,
    name: CategoryName,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .rename_category(&principal, &book, &id, &name.name)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&category(record)).into_response())
}

/// Delete a category; its transactions become uncategorised.
#[utoipa::path(delete, path = "/api/v1/books/{book}/categories/{id}", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Category id")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such book or category", body = fin_proto::api::Problem),
        (status = 409, description = "It has subcategories, or split transactions use it", body = fin_proto::api::Problem)))]
pub async fn delete_category(
    book: String,
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    services
        .ledger
        .delete_category(&principal, &book, &id)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
