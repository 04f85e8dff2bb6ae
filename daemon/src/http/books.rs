//! `/api/v1/books`: the books one belongs to, and sharing them. A book
//! that is not one's own or shared with one answers 404, like one that does
//! not exist; a viewer who tries to change it gets 403.

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
use crate::service::ledger::{BookPatch, NewBook};
use crate::service::ledger::{BookRecord, MemberRecord};

/// The books area's routes; an API key with the `ledger` scope may use them.
pub fn routes(services: &Services, limits: &RateLimits) -> Vec<Route> {
    let member = || access::user_in(services, limits, Some("ledger"));
    let api = Some(Class::Api);
    vec![
        Route::new::<__path_list, _>(api, Body::None, member().and(with(services)).and_then(list)),
        Route::new::<__path_create, _>(
            api,
            Body::Json,
            member()
                .and(json_body())
                .and(with(services))
                .and_then(create),
        ),
        Route::new::<__path_show, _>(
            api,
            Body::None,
            path_param()
                .and(member())
                .and(with(services))
                .and_then(show),
        ),
        Route::new::<__path_update, _>(
            api,
            Body::Json,
            path_param()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(update),
        ),
        Route::new::<__path_delete, _>(
            api,
            Body::None,
            path_param()
                .and(member())
                .and(with(services))
                .and_then(delete),
        ),
        Route::new::<__path_members, _>(
            api,
            Body::None,
            path_param()
                .and(member())
                .and(with(services))
                .and_then(members),
        ),
        Route::new::<__path_set_member, _>(
            api,
            Body::Json,
            path_params()
                .and(member())
                .and(json_body())
                .and(with(services))
                .and_then(set_member),
        ),
        Route::new::<__path_remove_member, _>(
            api,
            Body::None,
            path_params()
                .and(member())
                .and(with(services))
                .and_then(remove_member),
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

/// A book as the caller sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Book {
    pub id: String,
    pub name: String,
    /// The currency new accounts get unless they name their own.
    pub currency: String,
    /// Your role: `owner`, `editor` or `viewer`.
    pub role: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub url: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BookList {
    pub items: Vec<Book>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub username: Option<String>,
    /// `owner`, `editor` or `viewer`.
    pub role: String,
    pub added_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberList {
    pub items: Vec<Member>,
}

/// A member's role.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRole {
    /// `editor` (reads and writes) or `viewer` (reads).
    #[schema(pattern = "^(editor|viewer)$")]
    pub role: String,
}

/// Who is to own the book.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOwner {
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
}

fn book(record: BookRecord) -> Book {
    Book {
        url: format!("/api/v1/books/{}", record.bid),
        id: record.bid,
        name: record.name,
        currency: record.currency,
        role: record.role,
        created_at: record.created_at,
        updated_at: record.updated_at,
    }
}

fn member(record: MemberRecord) -> Member {
    Member {
        username: record.username,
        role: record.role,
        added_at: record.added_at,
    }
}

/// The books you own or that are shared with you, by name.
#[utoipa::path(get, path = "/api/v1/books", tag = "books", security(("bearer" = [])),
    responses((status = 200, description = "Your books", body = BookList)))]
pub async fn list(principal: Principal, services: Services) -> Result<Response, Rejection> {
    let books = services.ledger.books(&principal).await.map_err(reject)?;
    Ok(warp::reply::json(&BookList {
        items: books.into_iter().map(book).collect(),
    })
    .into_response())
}

/// Create a book; you own it.
#[utoipa::path(post, path = "/api/v1/books", tag = "books", security(("bearer" = [])),
    request_body = NewBook,
    responses((status = 201, description = "Created", body = Book),
        (status = 422, description = "A value is not valid", body = fin_proto::api::Problem)))]
pub async fn create(
    principal: Principal,
    new: NewBook,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .create_book(&principal, new)
        .await
        .map_err(reject)?;
    Ok(created(&book(record)))
}

/// One book.
#[utoipa::path(get, path = "/api/v1/books/{book}", tag = "books", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    responses((status = 200, description = "The book", body = Book),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem)))]
pub async fn show(
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .book(&principal, &id)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&book(record)).into_response())
}

/// Rename a book or change the currency new accounts get (owner).
#[utoipa::path(patch, path = "/api/v1/books/{book}", tag = "books", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = BookPatch,
    responses((status = 200, description = "The book", body = Book),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem),
        (status = 422, description = "A value is not valid", body = fin_proto::api::Problem)))]
pub async fn update(
    id: String,
    principal: Principal,
    patch: BookPatch,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .update_book(&principal, &id, patch)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&book(record)).into_response())
}

/// Delete a book with all its accounts, categories and transactions (owner).
#[utoipa::path(delete, path = "/api/v1/books/{book}", tag = "books", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem)))]
pub async fn delete(
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    services
        .ledger
        .delete_book(&principal, &id)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The book's members and their roles.
#[utoipa::path(get, path = "/api/v1/books/{book}/members", tag = "books", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    responses((status = 200, description = "The members", body = MemberList),
        (status = 404, description = "No such book of yours or shared with you", body = fin_proto::api::Problem)))]
pub async fn members(
    id: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    let members = services
        .ledger
        .members(&principal, &id)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&MemberList {
        items: members.into_iter().map(member).collect(),
    })
    .into_response())
}

/// Share the book with a user, or change their role (owner).
#[utoipa::path(put, path = "/api/v1/books/{book}/members/{username}", tag = "books", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"),
        ("username" = String, Path, description = "The user to share with")),
    request_body = MemberRole,
    responses((status = 200, description = "The member", body = Member),
        (status = 404, description = "No such book of yours, or no such user", body = fin_proto::api::Problem),
        (status = 409, description = "That user owns the book", body = fin_proto::api::Problem),
        (status = 422, description = "Not a role one can be given, or a guest as an editor", body = fin_proto::api::Problem)))]
pub async fn set_member(
    id: String,
    username: String,
    principal: Principal,
    role: MemberRole,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .set_member(&principal, &id, &username, &role.role)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&member(record)).into_response())
}

/// Stop sharing the book with a user (owner), or leave it yourself.
#[utoipa::path(delete, path = "/api/v1/books/{book}/members/{username}", tag = "books", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id"),
        ("username" = String, Path, description = "The member to remove (yourself to leave)")),
    responses((status = 204, description = "Removed"),
        (status = 404, description = "No such book of yours, or no such member", body = fin_proto::api::Problem),
        (status = 409, description = "The owner cannot leave: transfer or delete the book", body = fin_proto::api::Problem)))]
pub async fn remove_member(
    id: String,
    username: String,
    principal: Principal,
    services: Services,
) -> Result<Response, Rejection> {
    services
        .ledger
        .remove_member(&principal, &id, &username)
        .await
        .map_err(reject)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Hand the book to another user (owner); you stay on as an editor.
#[utoipa::path(post, path = "/api/v1/books/{book}/owner", tag = "books", security(("bearer" = [])),
    params(("book" = String, Path, description = "Book id")),
    request_body = NewOwner,
    responses((status = 200, description = "The book, as you now see it", body = Book),
        (status = 404, description = "No such book of yours, or no such user", body = fin_proto::api::Problem),
        (status = 422, description = "A guest account cannot own a book", body = fin_proto::api::Problem)))]
pub async fn transfer(
    id: String,
    principal: Principal,
    owner: NewOwner,
    services: Services,
) -> Result<Response, Rejection> {
    let record = services
        .ledger
        .transfer_book(&principal, &id, &owner.username)
        .await
        .map_err(reject)?;
    Ok(warp::reply::json(&book(record)).into_response())
}
