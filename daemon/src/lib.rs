//! The `fin` daemon as a library: `main.rs` only parses arguments and calls
//! [`app::run`], so tests can start the whole application in process too.
//!
//! Modules depend downwards only (see `docs/architecture.md`):
//!
//! ```text
//! app -> http, admin, tls, metrics, telemetry, config
//! http, admin -> service -> store
//! ```

pub mod admin;
pub mod app;
pub mod archive;
pub mod config;
pub mod domain;
pub mod http;
pub mod import;
pub mod jobs;
pub mod metrics;
pub mod ocr;
pub mod ratelimit;
pub mod service;
pub mod store;
pub mod support;
pub mod telemetry;
pub mod tls;

/// The version of this build, as reported by `/api/v1`, `finctl status` and metrics.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
