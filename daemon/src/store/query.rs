//! The one sequence every query of this module takes: SurrealQL with named
//! parameters bound (never user input in the text), every statement checked,
//! rows taken by statement index.

use surrealdb::IndexedResults;
use surrealdb::types::{Object, SurrealValue};

use super::{Store, StoreError};

/// The named parameters of a query: `Params::new().with("uid", uid)`.
#[derive(Clone)]
pub(super) struct Params(Object);

impl Params {
    pub(super) fn new() -> Self {
        Params(Object::new())
    }

    pub(super) fn with(mut self, name: &str, value: impl SurrealValue) -> Self {
        self.0.insert(name, value);
        self
    }
}

/// A page after a `(date, tid)` cursor, as one statement: the rest of the
/// cursor's day past its id, then the days past it, at most `$limit` in
/// all. Two index ranges, because the `OR` of a keyset condition in one
/// query keeps SurrealDB from ending its index scan at the limit.
/// `select` writes one `SELECT` (ordered and limited) around an extra
/// condition.
pub(super) fn page_after_cursor(
    select: impl Fn(&str) -> String,
    rest_of_day: &str,
    days_past: &str,
) -> String {
    format!(
        "RETURN array::slice(array::concat(({}), ({})), 0, $limit);",
        select(rest_of_day),
        select(days_past)
    )
}

impl Store {
    /// Runs `sql` (one or more statements); an error in any statement is
    /// the error, as SurrealDB gives it (for callers that tell kinds apart).
    pub(super) async fn try_run(
        &self,
        sql: impl Into<String>,
        params: Params,
    ) -> Result<IndexedResults, surrealdb::Error> {
        self.db().query(sql.into()).bind(params.0).await?.check()
    }

    /// Runs `sql` (one transaction or more) and gives back every statement's
    /// result. When a statement fails inside a transaction, every other one
    /// fails with "not executed due to a failed transaction"; the error
    /// given is the one that says why (a `THROW`, a unique index).
    pub(super) async fn run_explained(
        &self,
        sql: impl Into<String>,
        params: Params,
    ) -> Result<IndexedResults, surrealdb::Error> {
        let mut response = self.db().query(sql.into()).bind(params.0).await?;
        let mut errors: Vec<(usize, surrealdb::Error)> =
            response.take_errors().into_iter().collect();
        if errors.is_empty() {
            return Ok(response);
        }
        errors.sort_by_key(|(index, _)| *index);
        let cause = errors
            .iter()
            .position(|(_, e)| !e.to_string().contains("failed transaction"))
            .unwrap_or(0);
        Err(errors.swap_remove(cause).1)
    }

    /// Runs `sql`; an error in any statement is an error.
    pub(super) async fn run(
        &self,
        sql: impl Into<String>,
        params: Params,
    ) -> Result<IndexedResults, StoreError> {
        Ok(self.try_run(sql, params).await?)
    }

    /// The rows of the statement at `index`.
    pub(super) async fn rows<T: SurrealValue>(
        &self,
        sql: impl Into<String>,
        params: Params,
        index: usize,
    ) -> Result<Vec<T>, StoreError> {
        Ok(self.run(sql, params).await?.take(index)?)
    }

    /// The first row of the first statement, if any.
    pub(super) async fn first<T: SurrealValue>(
        &self,
        sql: impl Into<String>,
        params: Params,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.rows(sql, params, 0).await?.into_iter().next())
    }
}
