//! `/api/v1/books/{book}/reports/{kind}`: the book's reports as JSON, or
//! as CSV for a spreadsheet (`format=csv`): the same columns either way.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use warp::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::access;
use super::error::reject;
use super::extract::with;
use super::limits::{Class, RateLimits};
use super::route::{Body, Route, path_params};
use crate::service::Services;
use crate::service::auth::sessions::Principal;
use crate::service::ledger::{Cell, Report, ReportQuery};

pub fn routes(services: &Services, limits: &RateLimits) -> Vec<Route> {
    let member = || access::user_in(services, limits, Some("ledger"));
    vec![Route::new::<__path_report, _>(
        Some(Class::Api),
        Body::None,
        path_params()
            .and(member())
            .and(warp::query::<ReportParams>())
            .and(with(services))
            .and_then(report),
    )]
}

/// What a report covers and how it is written.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// First month, `YYYY-MM` (11 months before `to` when left out).
    #[param(nullable = false, pattern = r"^\d{4}-(0[1-9]|1[0-2])$")]
    pub from: Option<String>,
    /// Last month, `YYYY-MM` (this month when left out). At most 120 months in all.
    #[param(nullable = false, pattern = r"^\d{4}-(0[1-9]|1[0-2])$")]
    pub to: Option<String>,
    /// `json` (the default) or `csv`.
    #[param(nullable = false, pattern = "^(json|csv)$")]
    pub format: Option<String>,
    /// `top-payees`: payees per currency (default 20).
    #[param(nullable = false, minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// A report: its columns, and one object per row with those keys.
/// Amounts are integer minor units of the row's currency, never
/// converted; `spent` and `received` are both at least 0 and `net =
/// received - spent`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportTable {
    /// `spending-by-category`, `income-expense`, `balances` or `top-payees`.
    pub kind: String,
    /// First and last month covered, `YYYY-MM`.
    pub from: String,
    pub to: String,
    pub columns: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Map<String, Value>>,
}

fn table(report: Report) -> ReportTable {
    let items = report
        .rows
        .into_iter()
        .map(|row| {
            report
                .columns
                .iter()
                .zip(row)
                .map(|(column, cell)| {
                    let value = match cell {
                        Cell::Text(t) => Value::String(t),
                        Cell::Int(n) => Value::from(n),
                        Cell::Empty => Value::Null,
                    };
                    (column.to_string(), value)
                })
                .collect()
        })
        .collect();
    ReportTable {
        kind: report.kind,
        from: report.from,
        to: report.to,
        columns: report.columns.iter().map(|c| c.to_string()).collect(),
        items,
    }
}

/// A report over the book's transactions: `spending-by-category` (per
/// month, category and currency; split parts by their own category),
/// `income-expense` (per month and currency), `balances` (each account at
/// the end of each month) or `top-payees` (per currency, by money spent).
/// Transfers count in balances only.
#[utoipa::path(get, path = "/api/v1/books/{book}/reports/{kind}", tag = "ledger", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"),
        ("kind" = String, Path, description = "`spending-by-category`, `income-expense`, `balances` or `top-payees`"),
        ReportParams),
    responses((status = 200, description = "The report", content(
            (ReportTable = "application/json"),
            (String = "text/csv"))),
        (status = 404, description = "No such book of yours or shared with you, or no such report", body = fin_proto::api::Problem),
        (status = 422, description = "A month is not valid, or the range is over 120 months", body = fin_proto::api::Problem)))]
pub async fn report(
    book: String,
    kind: String,
    principal: Principal,
    params: ReportParams,
    services: Services,
) -> Result<Response, Rejection> {
    let csv = match params.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(reject(crate::service::ServiceError::Invalid(format!(
                "format must be json or csv, not {other:?}"
            ))));
        }
    };
    let query = ReportQuery {
        from: params.from,
        to: params.to,
        limit: params.limit,
    };
    let report = services
        .ledger
        .report(&principal, &book, &kind, query)
        .await
        .map_err(reject)?;
    if !csv {
        return Ok(warp::reply::json(&table(report)).into_response());
    }
    let filename = format!("{}-{}-{}.csv", report.kind, report.from, report.to);
    let mut response = Response::new(report.csv().into());
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        warp::http::HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = format!("attachment; filename=\"{filename}\"").parse() {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
