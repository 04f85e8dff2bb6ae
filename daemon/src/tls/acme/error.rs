//! What can go wrong while getting a certificate, worded for the operator who
//! reads it in the log or in `finctl status`.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    #[error(
        "unknown ACME directory {0:?}: use \"letsencrypt\", \"letsencrypt-staging\" or an https:// directory URL"
    )]
    BadDirectory(String),
    #[error("tls.acme.domains is empty: list the host names the certificate is for")]
    NoDomains,
    #[error("{0:?} is not a host name a certificate can be issued for")]
    BadDomain(String),
    #[error(
        "the ACME server at {url} is unreachable: {reason} (check the URL, DNS and the network; for a private CA point SSL_CERT_FILE at its certificate)"
    )]
    Unreachable { url: String, reason: String },
    #[error(
        "the ACME server at {url} requires external account binding, which fin does not support"
    )]
    ExternalAccountRequired { url: String },
    #[error("the ACME server refused the account (contact {contact:?}): {reason}")]
    AccountRefused { contact: String, reason: String },
    #[error("the ACME server refused to open an order for {names}: {reason}")]
    OrderRefused { names: String, reason: String },
    #[error(
        "the ACME server offers no {kind} challenge for {name}: configure another challenge type"
    )]
    ChallengeUnavailable { name: String, kind: &'static str },
    #[error("{kind} validation of {name} failed: {reason}")]
    ChallengeFailed {
        name: String,
        kind: &'static str,
        reason: String,
    },
    #[error("the DNS hook {} failed to {action} {record}: {reason}", hook.display())]
    HookFailed {
        hook: PathBuf,
        action: &'static str,
        record: String,
        reason: String,
    },
    #[error("the ACME server did not issue the certificate for {names}: {reason}")]
    IssuanceFailed { names: String, reason: String },
    #[error("a certificate order for {names} is already in progress")]
    OrderInFlight { names: String },
    #[error("the certificate from the ACME server cannot be used: {0}")]
    BadCertificate(String),
    #[error("cannot read {}: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    #[error("cannot write {}: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
}
