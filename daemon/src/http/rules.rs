//! `/api/v1/books/{book}/rules`: a book's ordered rules, and running them
//! over its transactions (a preview first, then for real).

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
use crate::service::ledger::{NewRule, RuleOutcome, RuleRecord, RuleRun, Tidied};

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
        Route::new::<__path_order, _>(
            api,
            Body::Json,
            path_param()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(order),
        ),
        Route::new::<__path_preview, _>(
            api,
            Body::Json,
            path_param()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(preview),
        ),
        Route::new::<__path_apply, _>(
            api,
            Body::Json,
            path_param()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(apply),
        ),
        Route::new::<__path_replace, _>(
            api,
            Body::Json,
            path_params()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(replace),
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
pub struct TextConditionView {
    /// `contains`, `equals` or `regex`.
    #[serde(rename = "match")]
    #[schema(rename = "match")]
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConditionsView {
    pub payee: Option<TextConditionView>,
    pub description: Option<TextConditionView>,
    pub min_amount: Option<i64>,
    pub max_amount: Option<i64>,
    pub account_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActionsView {
    pub category_id: Option<String>,
    pub payee: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Rule {
    pub id: String,
    /// Where it runs among the book's rules, from 1.
    pub position: i64,
    pub name: String,
    pub conditions: ConditionsView,
    pub actions: ActionsView,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleList {
    /// In the order they run.
    pub items: Vec<Rule>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleOrder {
    /// Every rule of the book, once, in the order they are to run.
    #[schema(max_items = 500)]
    pub ids: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TidiedView {
    pub category_id: Option<String>,
    pub payee: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleEffectView {
    pub transaction_id: String,
    pub date: String,
    pub before: TidiedView,
    pub after: TidiedView,
    /// The rules that held, in the order they ran.
    pub rule_ids: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleRunResult {
    /// Transactions looked at.
    pub examined: usize,
    /// Transactions the rules change (preview) or changed (apply).
    pub changed: usize,
    /// Transactions edited by someone else meanwhile, left as they were (apply).
    pub skipped: usize,
    /// The changes, at most the first 1,000.
    pub items: Vec<RuleEffectView>,
}

pub(super) fn tidied(t: Tidied) -> TidiedView {
    TidiedView {
        category_id: t.category_id,
        payee: t.payee,
        tags: t.tags,
    }
}

fn rule(r: RuleRecord) -> Rule {
    let text = |kind: Option<String>, value: Option<String>| match (kind, value) {
        (Some(kind), Some(value)) => Some(TextConditionView { kind, value }),
        _ => None,
    };
    Rule {
        id: r.rid,
        position: r.position,
        name: r.name,
        conditions: ConditionsView {
            payee: text(r.payee_match, r.payee_value),
            description: text(r.description_match, r.description_value),
            min_amount: r.min_amount,
            max_amount: r.max_amount,
            account_id: r.aid,
        },
        actions: ActionsView {
            category_id: r.set_cid,
            payee: r.set_payee,
            tags: r.add_tags,
        },
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn outcome(o: RuleOutcome) -> RuleRunResult {
    RuleRunResult {
        examined: o.examined,
        changed: o.changed,
        skipped: o.skipped,
        items: o
            .effects
            .into_iter()
            .map(|e| RuleEffectView {
                transaction_id: e.transaction_id,
                date: e.date,
                before: tidied(e.before),
                after: tidied(e.after),
                rule_ids: e.rules,
            })
            .collect(),
    }
}

fn rule_list(records: Vec<RuleRecord>) -> Response {
    warp::reply::json(&RuleList {
        items: records.into_iter().map(rule).collect(),
    })
    .into_response()
}

/// The book's rules, in the order they run.
#[utoipa::path(get, path = "/api/v1/books/{book}/rules", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    responses((status = 200, description = "The rules", body = RuleList),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem)))]
pub async fn list(
    book: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let records = services
        .ledger
        .rules(&principal, &book)
        .await
        .map_err(reject)?;
    Ok(rule_list(records))
}

/// Add a rule; it runs after the book's other rules (editor or owner).
#[utoipa::path(post, path = "/api/v1/books/{book}/rules", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = NewRule,
    responses((status = 201, description = "Created", body = Rule),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 409, description = "The book has 500 rules already", body = fin_proto::api::Problem),
        (status = 422, description = "A condition or action is not valid, or names no account or category of the book", body = fin_proto::api::Problem)))]
pub async fn create(
    book: String,
    principal: Principal,
    new: NewRule,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .create_rule(&principal, &book, new)
        .await
        .map_err(reject)?;
    Ok(created(&rule(record)))
}

/// Replace a rule's name, conditions and actions; it keeps its place.
#[utoipa::path(put, path = "/api/v1/books/{book}/rules/{id}", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Rule id")),
    request_body = NewRule,
    responses((status = 200, description = "The rule", body = Rule),
        (status = 404, description = "No such book or rule", body = fin_proto::api::Problem),
        (status = 422, description = "A condition or action is not valid", body = fin_proto::api::Problem)))]
pub async fn replace(
    book: String,
    id: String,
    principal: Principal,
    new: NewRule,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .replace_rule(&principal, &book, &id, new)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&rule(record)).into_response())
}

/// Delete a rule.
#[utoipa::path(delete, path = "/api/v1/books/{book}/rules/{id}", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"), ("id" = String, Path, description = "Rule id")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such book or rule", body = fin_proto::api::Problem)))]
pub async fn delete(
    book: String,
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    services
        .ledger
        .delete_rule(&principal, &book, &id)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Put the rules in a new order.
#[utoipa::path(post, path = "/api/v1/books/{book}/rules/order", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = RuleOrder,
    responses((status = 200, description = "The rules in their new order", body = RuleList),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 422, description = "The list does not name every rule of the book exactly once", body = fin_proto::api::Problem)))]
pub async fn order(
    book: String,
    principal: Principal,
    body: RuleOrder,
    services: Services,
) -> Result<Response, Rejection> {
    let records = services
        .ledger
        .order_rules(&principal, &book, &body.ids)
        .await
        .map_err(reject)?;
    Ok(rule_list(records))
}

/// What running the rules over the book's transactions would change; nothing is written.
#[utoipa::path(post, path = "/api/v1/books/{book}/rules/preview", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = RuleRun,
    responses((status = 200, description = "What would change", body = RuleRunResult),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 422, description = "A date is not valid, a rule id is not the book's, or the range holds over 50,000 transactions", body = fin_proto::api::Problem)))]
pub async fn preview(
    book: String,
    principal: Principal,
    run: RuleRun,
    services: Services,
) -> Result<Response, Rejection> {
    let result = services
        .ledger
        .preview_rules(&principal, &book, run)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&outcome(result)).into_response())
}

/// Run the rules over the book's transactions and write what they change (editor or owner).
#[utoipa::path(post, path = "/api/v1/books/{book}/rules/apply", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = RuleRun,
    responses((status = 200, description = "What changed", body = RuleRunResult),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 422, description = "A date is not valid, a rule id is not the book's, or the range holds over 50,000 transactions", body = fin_proto::api::Problem)))]
pub async fn apply(
    book: String,
    principal: Principal,
    run: RuleRun,
    services: Services,
) -> Result<Response, Rejection> {
    let result = services
        .ledger
        .apply_rules(&principal, &book, run)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&outcome(result)).into_response())
}
