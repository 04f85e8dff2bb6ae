//! Use cases, independent of HTTP and of the admin socket. Both front ends
//! call into [`Services`]; only this layer talks to the store.

pub mod audit;
pub mod auth;
mod system;
pub mod users;

use std::sync::Arc;

pub(crate) use system::unix_now;
pub use system::{System, TlsProbe};

/// Everything the front ends can ask for.
#[derive(Clone)]
pub struct Services {
    pub system: Arc<System>,
    pub users: Arc<users::Users>,
    pub sessions: Arc<auth::sessions::Sessions>,
    pub audit: Arc<audit::Audit>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(crate::store::StoreError),
}

impl From<crate::store::StoreError> for ServiceError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Conflict(what) => {
                ServiceError::Conflict(format!("{what} already exists"))
            }
            other => ServiceError::Store(other),
        }
    }
}
