//! `tls.mode = "acme"`: certificates from an ACME CA (Let's Encrypt, its
//! staging server, or any RFC 8555 directory). Only this module knows
//! acme-lib. Everything here blocks (acme-lib uses ureq and sleeps while
//! polling): call it from `spawn_blocking`.
//!
//! The daemon's part: serve `Http01Answers` on its plain-HTTP listener, call
//! `stored` at start, `order` when there is none or `renewal_due` says so,
//! and swap the returned certificate in.

mod account_key;
mod client;
mod directory;
mod dns_hook;
mod error;
mod http01;
mod in_flight;
mod issued;
mod store;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use directory::Directory;
pub use error::AcmeError;
pub use http01::{CHALLENGE_PATH_PREFIX, Http01Answers};
pub use issued::{Issued, renewal_due};

/// What `tls.acme.*` in the config says, plus where to keep the files.
#[derive(Debug, Clone)]
pub struct AcmeSettings {
    pub directory: Directory,
    /// Contact for expiry and policy mail from the CA; may be empty.
    pub email: String,
    /// The names the certificate is for (any order; duplicates are ignored).
    pub domains: Vec<String>,
    /// The state folder, `<state>/acme/`.
    pub dir: PathBuf,
}

/// How to prove control of the names.
#[derive(Debug, Clone)]
pub enum Challenge {
    /// http-01, answered by the daemon's own plain-HTTP listener (port 80).
    Http01(Http01Answers),
    /// dns-01 through the operator's hook command (`tls.acme.dns_hook`).
    Dns01 { hook: PathBuf },
}

/// Orders a certificate for all `settings.domains`, stores it and its key
/// under `settings.dir` (0600) and returns it. The account is created on
/// first use and reused afterwards. Fails with `OrderInFlight` if an order
/// for the same names is already running in this process.
pub fn order(settings: &AcmeSettings, challenge: &Challenge) -> Result<Issued, AcmeError> {
    let names = normalized(&settings.domains)?;
    let _claim = in_flight::InFlight::claim(&names)?;
    client::run_with_retries(settings, &names, challenge)
}

/// The stored certificate for exactly these domains, if there is one (it
/// may be expired or due for renewal: check with `renewal_due`).
pub fn stored(settings: &AcmeSettings) -> Option<Issued> {
    let names = normalized(&settings.domains).ok()?;
    store::load(&settings.dir, &names)
}

/// The names as the CA and our files see them: lower case, sorted, once each.
fn normalized(domains: &[String]) -> Result<Vec<String>, AcmeError> {
    let mut names = Vec::with_capacity(domains.len());
    for domain in domains {
        let name = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if !valid_name(&name) {
            return Err(AcmeError::BadDomain(domain.clone()));
        }
        names.push(name);
    }
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Err(AcmeError::NoDomains);
    }
    Ok(names)
}

/// A DNS name, optionally with one leading `*.` label; this also keeps names
/// safe to use in file names (no `/`, no `..`).
fn valid_name(name: &str) -> bool {
    let base = name.strip_prefix("*.").unwrap_or(name);
    !base.is_empty()
        && base.len() <= 253
        && base.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}
