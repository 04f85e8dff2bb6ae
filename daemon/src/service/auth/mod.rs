//! Identity: password hashing and policy, access tokens.

pub mod jwt;
pub mod password;
pub mod policy;
pub mod sessions;
