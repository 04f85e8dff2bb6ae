//! `/api/v1/books/{book}/budgets`: monthly budgets per category, with what
//! a month spent against each.

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
use crate::service::ledger::{BudgetMonth, BudgetRecord, NewBudget};

pub fn routes(services: &Services, limits: &RateLimits) -> Vec<Route> {
    let member = || access::user_in(services, limits, Some("ledger"));
    let api = Some(Class::Api);
    vec![
        Route::new::<__path_list, _>(
            api,
            Body::None,
            path_param()
                .and(member())
                .and(warp::query::<MonthParams>())
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
    ]
}

/// Which month's spending to show.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MonthParams {
    /// `YYYY-MM`; this month when left out.
    #[param(nullable = false, pattern = r"^\d{4}-(0[1-9]|1[0-2])$")]
    pub month: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetAmount {
    /// Minor units a month, at least 0.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub amount: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Budget {
    pub id: String,
    /// The category; its subcategories count towards it too.
    pub category_id: String,
    pub currency: String,
    /// Minor units a month.
    pub amount: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BudgetStatus {
    #[serde(flatten)]
    pub budget: Budget,
    /// `YYYY-MM`.
    pub month: String,
    /// Money out less refunds in the month, in the category and its
    /// subcategories (split parts by their own category; transfers never).
    pub spent: i64,
    /// `amount - spent`: below 0 when the budget is overspent.
    pub remaining: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BudgetList {
    pub items: Vec<BudgetStatus>,
}

fn budget(r: BudgetRecord) -> Budget {
    Budget {
        id: r.bgid,
        category_id: r.cid,
        currency: r.currency,
        amount: r.amount,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn status(m: BudgetMonth) -> BudgetStatus {
    let remaining = m.budget.amount - m.spent;
    BudgetStatus {
        budget: budget(m.budget),
        month: m.month,
        spent: m.spent,
        remaining,
    }
}

/// The book's budgets with what a month spent against each.
#[utoipa::path(get, path = "/api/v1/books/{book}/budgets", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), MonthParams),
    responses((status = 200, description = "The budgets", body = BudgetList),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 422, description = "The month is not YYYY-MM", body = fin_proto::api::Problem)))]
pub async fn list(
    book: String,
    principal: Principal,
    params: MonthParams,
    services: Services,
) -> Result<Response, Rejection> {
    let items = services
        .ledger
        .budgets(&principal, &book, params.month)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&BudgetList {
        items: items.into_iter().map(status).collect(),
    })
    .into_response())
}

/// Budget a monthly amount for a category (editor or owner).
#[utoipa::path(post, path = "/api/v1/books/{book}/budgets", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = NewBudget,
    responses((status = 201, description = "Created", body = Budget),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 409, description = "The category has a budget in that currency", body = fin_proto::api::Problem),
        (status = 422, description = "No such category in the book, or a value is not valid", body = fin_proto::api::Problem)))]
pub async fn create(
    book: String,
    principal: Principal,
    new: NewBudget,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .create_budget(&principal, &book, new)
        .await
        .map_err(reject)?;
    Ok(created(&budget(record)))
}

/// Change a budget's monthly amount.
#[utoipa::path(patch, path = "/api/v1/books/{book}/budgets/{id}", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Budget id")),
    request_body = BudgetAmount,
    responses((status = 200, description = "The budget", body = Budget),
        (status = 404, description = "No such book or budget", body = fin_proto::api::Problem),
        (status = 422, description = "The amount is not valid", body = fin_proto::api::Problem)))]
pub async fn update(
    book: String,
    id: String,
    principal: Principal,
    body: BudgetAmount,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .update_budget(&principal, &book, &id, body.amount)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&budget(record)).into_response())
}

/// Delete a budget.
#[utoipa::path(delete, path = "/api/v1/books/{book}/budgets/{id}", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Budget id")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such book or budget", body = fin_proto::api::Problem)))]
pub async fn delete(
    book: String,
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    services
        .ledger
        .delete_budget(&principal, &book, &id)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
