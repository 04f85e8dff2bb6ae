//! The http-01 answers the daemon's plain-HTTP listener serves at
//! `GET /.well-known/acme-challenge/{token}`. The ACME order publishes an
//! answer just before asking the CA to validate and withdraws it afterwards.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

/// Where the CA looks for http-01 answers (RFC 8555 section 8.3).
pub const CHALLENGE_PATH_PREFIX: &str = "/.well-known/acme-challenge/";

/// Shared token → key authorization map; clones share the same map, so the
/// HTTP listener and the ACME order can each hold one.
#[derive(Debug, Clone, Default)]
pub struct Http01Answers {
    inner: Arc<RwLock<HashMap<String, String>>>,
}

impl Http01Answers {
    pub fn new() -> Self {
        Self::default()
    }

    /// The body to send (as `text/plain`) for this token, if an order waits for it.
    pub fn answer(&self, token: &str) -> Option<String> {
        // A panic elsewhere while holding the lock leaves the map intact
        // (inserts and removes are single calls), so a poisoned lock is still usable.
        let map = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        map.get(token).cloned()
    }

    /// The answer for a request path, or `None` if the path is not a challenge
    /// path or the token is unknown; convenient for the HTTP listener.
    pub fn answer_path(&self, path: &str) -> Option<String> {
        let token = path.strip_prefix(CHALLENGE_PATH_PREFIX)?;
        if token.is_empty() || token.contains('/') {
            return None;
        }
        self.answer(token)
    }

    /// Publishes an answer until the returned guard is dropped, so an order
    /// that fails half-way never leaves stale answers behind.
    pub(super) fn publish(&self, token: &str, key_authorization: String) -> Published {
        let mut map = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        map.insert(token.to_string(), key_authorization);
        Published {
            answers: self.clone(),
            token: token.to_string(),
        }
    }
}

/// Withdraws a published answer when dropped.
pub(super) struct Published {
    answers: Http01Answers,
    token: String,
}

impl Drop for Published {
    fn drop(&mut self) {
        let mut map = self
            .answers
            .inner
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        map.remove(&self.token);
    }
}
