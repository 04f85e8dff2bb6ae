//! End-to-end tests against the real binaries. One test binary with modules,
//! so the suite links once.

mod acme;
mod admin;
mod auth;
mod backup;
mod config;
mod connections;
mod http_api;
mod ledger;
mod ledger_receipts;
mod ledger_rules;
mod lifecycle;
mod limits;
mod openapi;
mod receipts;
mod tls;
mod users;
