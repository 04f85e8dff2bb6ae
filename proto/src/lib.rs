//! Wire types shared by the `fin` daemon, `finctl` and the end-to-end tests.
//!
//! Only plain serde types live here, so that `finctl` can depend on this crate
//! without pulling in the daemon's heavy dependencies.

use serde::{Deserialize, Serialize};

pub mod admin;
pub mod api;

/// Name of the file, inside the state folder, where the daemon records the
/// addresses it actually bound (useful with port 0 and for `finctl`).
pub const LISTENERS_FILE: &str = "listeners.json";

/// The addresses a running daemon listens on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listeners {
    /// HTTPS API and web UI, e.g. `127.0.0.1:8443`.
    pub https: String,
    /// Plain HTTP (redirects to HTTPS, ACME challenges); `None` when disabled.
    pub http: Option<String>,
    /// Prometheus metrics; `None` when disabled.
    pub metrics: Option<String>,
    /// Path of the admin socket.
    pub admin_socket: String,
    /// Process id of the daemon that wrote this record.
    pub pid: u32,
}
