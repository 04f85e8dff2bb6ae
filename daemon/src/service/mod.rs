//! Use cases, independent of HTTP and of the admin socket. Both front ends
//! call into [`Services`]; only this layer talks to the store.

pub mod auth;
mod system;

use std::sync::Arc;

pub(crate) use system::unix_now;
pub use system::{System, TlsProbe};

/// Everything the front ends can ask for.
#[derive(Clone)]
pub struct Services {
    pub system: Arc<System>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
