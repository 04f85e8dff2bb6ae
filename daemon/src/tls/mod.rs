//! TLS termination: the rustls server configuration, a certificate resolver
//! that can be swapped at runtime, and the certificate sources (self-signed,
//! operator files). Only this module knows rustls.

mod acceptor;
pub mod acme;
mod acme_renewal;
mod files;
mod info;
mod resolver;
mod self_signed;

use std::path::PathBuf;

pub use acceptor::{TlsAcceptor, TlsStream};
pub use acme_renewal::{AcmeObserver, AcmeRenewal};
pub use info::CertInfo;
pub use resolver::CertResolver;

/// A certificate chain with its key, ready to serve, and what it says.
pub struct LoadedCert {
    pub(crate) key: std::sync::Arc<rustls::sign::CertifiedKey>,
    pub info: CertInfo,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no usable private key (expected a PEM PKCS#8, RSA or EC key): {reason}")]
    BadKey { path: PathBuf, reason: String },
    #[error("the key in {key} does not belong to the certificate in {cert}")]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("cannot parse the certificate: {0}")]
    BadCertificate(String),
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// Loads (or on first start creates) the self-signed certificate kept in `dir`.
pub fn self_signed(dir: &std::path::Path, hostnames: &[String]) -> Result<LoadedCert, TlsError> {
    self_signed::load_or_create(dir, hostnames)
}

/// Loads an operator-provided PEM certificate chain and private key.
pub fn from_files(cert: &std::path::Path, key: &std::path::Path) -> Result<LoadedCert, TlsError> {
    files::load(cert, key)
}

/// The one crypto provider used everywhere, so two providers can never clash.
pub(crate) fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
