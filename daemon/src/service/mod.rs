//! Use cases, independent of HTTP and of the admin socket. Both front ends
//! call into [`Services`]; only this layer talks to the store.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod blobs;
mod error;
pub mod ledger;
pub mod receipts;
mod system;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
pub(crate) use system::tests as system_tests;
pub mod users;

use std::sync::Arc;

pub use error::{ErrorKind, Failure, ServiceError};
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
    pub ledger: Arc<ledger::Ledger>,
    pub backups: Arc<backup::Backups>,
}
