//! Use cases, independent of HTTP and of the admin socket. Both front ends
//! call into [`Services`]; only this layer talks to the store.

pub mod audit;
pub mod auth;
pub mod blobs;
pub mod receipts;
mod system;
#[cfg(test)]
pub(crate) use system::tests as system_tests;
pub mod users;

use std::sync::Arc;

pub(crate) use system::unix_now;
pub use system::{CertControl, System, TlsProbe};
pub(crate) use users::new_id;

/// Everything the front ends can ask for.
#[derive(Clone)]
pub struct Services {
    pub system: Arc<System>,
    pub users: Arc<users::Users>,
    pub sessions: Arc<auth::sessions::Sessions>,
    pub audit: Arc<audit::Audit>,
    pub receipts: Arc<receipts::Receipts>,
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
    /// An uploaded image was refused; the message says why.
    #[error("{0}")]
    Image(crate::ocr::ImageError),
    #[error("{0}")]
    TooLarge(String),
    /// Temporarily overloaded: the client should retry after a while.
    #[error("{reason}")]
    Busy {
        reason: String,
        retry_after_seconds: u64,
    },
    /// A resource the server needs is missing (e.g. disk space).
    #[error("{0}")]
    Unavailable(String),
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
