//! The book guard: every ledger query runs in a transaction that first
//! checks the caller's membership of the book, so a change of membership
//! can never slip between the check and the work. A stranger's call fails
//! as if the book did not exist; a member whose role is too low is denied.

use surrealdb::types::SurrealValue;

use super::query::Params;
use super::{Store, StoreError, back_off};
use crate::domain::ledger::Need;

/// Thrown by the guard and by ledger queries; told apart in [`classify`].
const NO_BOOK: &str = "fin:no_book";
const DENIED: &str = "fin:denied";
/// A record the statement needs (an account, a category) is not in the book.
pub(super) const MISSING: &str = "fin:missing";
/// The change breaks a rule the database checks (a category's parent, say).
pub(super) const REFUSED: &str = "fin:refused";

/// The roles that meet `need`, as a SurrealQL array literal.
fn roles(need: Need) -> &'static str {
    match need {
        Need::Read => "['owner', 'editor', 'viewer']",
        Need::Write => "['owner', 'editor']",
        Need::Own => "['owner']",
    }
}

/// `body` (statements using `$book`, `$actor` and its own parameters) in a
/// transaction behind the guard.
fn guarded_sql(need: Need, body: &str) -> String {
    format!(
        "BEGIN TRANSACTION;\n\
         LET $role = (SELECT VALUE role FROM book_member WHERE bid = $book AND uid = $actor LIMIT 1)[0];\n\
         IF $role = NONE {{ THROW \"{NO_BOOK}\" }};\n\
         IF $role NOT IN {allowed} {{ THROW \"{DENIED}\" }};\n\
         {body}\n\
         COMMIT TRANSACTION;",
        allowed = roles(need)
    )
}

/// Runs of a guarded transaction the database refused for a conflict
/// (with [`super::back_off`], about a second in all: enough for a busy
/// machine, where each transaction takes longer and meets more others).
const CONFLICT_RETRIES: u64 = 20;

/// A transaction the database refused because another one committed a
/// write it depended on first (nothing of it was applied). A unique
/// index's message quotes a value the user chose, so it never counts.
fn retryable(e: &surrealdb::Error) -> bool {
    let text = e.to_string();
    !text.contains("already contains") && text.contains("This transaction can be retried")
}

/// A failed ledger query: a guard refusal, a thrown rule, a unique index
/// (`what` names the record), or a database error.
fn classify(e: surrealdb::Error, what: &str) -> StoreError {
    let text = e.to_string();
    // A unique index's message quotes the value, which the user chose (an
    // account named "fin:no_book"): it is told apart first.
    if text.contains("already contains") {
        return StoreError::Conflict(what.to_string());
    }
    if text.contains(NO_BOOK) {
        StoreError::NoBook
    } else if text.contains(DENIED) {
        StoreError::Denied
    } else if let Some(detail) = thrown(&text, MISSING) {
        StoreError::Missing(detail)
    } else if let Some(detail) = thrown(&text, REFUSED) {
        StoreError::Refused(detail)
    } else {
        StoreError::Query(text)
    }
}

/// The text after `marker: ` in a thrown error, up to the closing quote.
fn thrown(text: &str, marker: &str) -> Option<String> {
    let at = text.find(marker)?;
    let rest = text[at + marker.len()..]
        .trim_start_matches(':')
        .trim_start();
    let end = rest.find(['"', '\'']).unwrap_or(rest.len());
    Some(rest[..end].trim().to_string())
}

impl Store {
    /// Runs `body` behind the guard; the rows of its last statement.
    /// `what` names the record a unique-index conflict is about.
    pub(super) async fn guarded<T: SurrealValue>(
        &self,
        actor: &str,
        book: &str,
        need: Need,
        what: &str,
        body: &str,
        params: Params,
    ) -> Result<Vec<T>, StoreError> {
        let params = params
            .with("actor", actor.to_string())
            .with("book", book.to_string());
        let sql = guarded_sql(need, body);
        // Writes to one book meet in its monthly sums (`txn_month`): when
        // two commit at once, the database refuses one, which applied
        // nothing and is run again.
        let mut round = 0;
        loop {
            match self.run_explained(sql.clone(), params.clone()).await {
                Err(e) if retryable(&e) && round < CONFLICT_RETRIES => {
                    back_off(round).await;
                    round += 1;
                }
                Err(e) => return Err(classify(e, what)),
                Ok(mut response) => {
                    // The body's last statement is the one before COMMIT,
                    // which has a result slot of its own.
                    let last = response.num_statements().saturating_sub(2);
                    return response.take(last).map_err(|e| classify(e, what));
                }
            }
        }
    }

    /// The caller's role in the book, or [`StoreError::NoBook`].
    pub async fn book_role(&self, actor: &str, book: &str) -> Result<String, StoreError> {
        let roles: Vec<String> = self
            .guarded(
                actor,
                book,
                Need::Read,
                "book",
                "RETURN $role;",
                Params::new(),
            )
            .await?;
        roles.into_iter().next().ok_or(StoreError::NoBook)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thrown_details_are_read_back() {
        let text = "An error occurred: fin:missing: account abc'";
        assert_eq!(thrown(text, MISSING).as_deref(), Some("account abc"));
        assert_eq!(thrown("nothing", MISSING), None);
    }
}
