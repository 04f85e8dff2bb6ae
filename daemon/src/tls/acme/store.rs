//! Files under the ACME state folder (`<state>/acme/`, mode 0700):
//!
//!   account.key              the ACME account key (acme-lib's P-256 key, PEM), 0600
//!   certs/<name>.crt         certificate chain for the name set whose first
//!   certs/<name>.key         sorted name is <name>, and its private key; both 0600
//!
//! acme-lib's own FilePersist names files after a `DefaultHasher` hash of the
//! account e-mail, which Rust does not promise to keep stable across releases
//! (an upgrade could silently "lose" the account) and writes certificates
//! world-readable. So acme-lib only sees `AccountPersist`, for the account
//! key, and certificates are written here with stable names.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use acme_lib::persist::{Persist, PersistKey, PersistKind};

use super::{AcmeError, Issued};
use crate::support;

const ACCOUNT_KEY: &str = "account.key";
const CERTS: &str = "certs";

pub(super) fn account_key_path(dir: &Path) -> PathBuf {
    dir.join(ACCOUNT_KEY)
}

/// acme-lib's persistence, reduced to the one thing we let it keep: the
/// account key. Its certificate writes are ignored (we store those ourselves).
#[derive(Clone)]
pub(super) struct AccountPersist {
    dir: PathBuf,
}

impl AccountPersist {
    pub(super) fn new(dir: &Path) -> Self {
        AccountPersist {
            dir: dir.to_path_buf(),
        }
    }
}

impl Persist for AccountPersist {
    fn put(&self, key: &PersistKey, value: &[u8]) -> acme_lib::Result<()> {
        match key.kind {
            PersistKind::AccountPrivateKey => write_private(&account_key_path(&self.dir), value)
                .map_err(|e| acme_lib::Error::Other(e.to_string())),
            PersistKind::PrivateKey | PersistKind::Certificate => Ok(()),
        }
    }

    fn get(&self, key: &PersistKey) -> acme_lib::Result<Option<Vec<u8>>> {
        match key.kind {
            PersistKind::AccountPrivateKey => match std::fs::read(account_key_path(&self.dir)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(acme_lib::Error::Io(e)),
            },
            PersistKind::PrivateKey | PersistKind::Certificate => Ok(None),
        }
    }
}

/// Makes the state folder (0700) if needed and tightens it if it exists.
pub(super) fn ensure_dir(dir: &Path) -> Result<(), AcmeError> {
    let write = |e: std::io::Error| AcmeError::Write {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(write)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(write)
}

/// File stem for a name set: its first sorted name, with `*` spelled out so
/// a wildcard name makes an ordinary file name.
fn stem(names: &[String]) -> String {
    names
        .first()
        .map(|n| n.replace('*', "_wildcard_"))
        .unwrap_or_default()
}

fn cert_paths(dir: &Path, names: &[String]) -> (PathBuf, PathBuf) {
    // Not `with_extension`: it would replace the name's own ".org".
    let certs = dir.join(CERTS);
    let stem = stem(names);
    (
        certs.join(format!("{stem}.crt")),
        certs.join(format!("{stem}.key")),
    )
}

/// Saves a certificate and its key for this (sorted) name set.
pub(super) fn save(dir: &Path, names: &[String], issued: &Issued) -> Result<(), AcmeError> {
    ensure_dir(dir)?;
    ensure_dir(&dir.join(CERTS))?;
    let (crt, key) = cert_paths(dir, names);
    // Two files cannot be replaced atomically together: a crash between the
    // renames leaves a new key beside the old certificate. `load` checks that
    // the pair matches, so such a pair is ignored and a new order made.
    write_private(&key, issued.key_pem.as_bytes())?;
    write_private(&crt, issued.cert_pem.as_bytes())
}

/// The stored certificate for exactly this (sorted) name set, if there is a
/// readable one. Anything odd is logged and treated as absent, so the caller
/// simply orders a new certificate.
pub(super) fn load(dir: &Path, names: &[String]) -> Option<Issued> {
    let (crt, key) = cert_paths(dir, names);
    let cert_pem = std::fs::read_to_string(&crt).ok()?;
    let key_pem = std::fs::read_to_string(&key).ok()?;
    let issued = match Issued::from_pem(cert_pem, key_pem) {
        Ok(issued) => issued,
        Err(e) => {
            tracing::warn!(path = %crt.display(), error = %e, "ignoring unreadable stored ACME certificate");
            return None;
        }
    };
    if !key_matches(&issued) {
        tracing::warn!(path = %key.display(), "stored ACME key does not match its certificate: ignoring both");
        return None;
    }
    match issued.names() {
        Ok(have) if have == names => Some(issued),
        _ => None,
    }
}

/// Whether the private key belongs to the leaf certificate (openssl is there
/// anyway: acme-lib is built on it).
fn key_matches(issued: &Issued) -> bool {
    let Ok(cert) = openssl::x509::X509::from_pem(issued.cert_pem.as_bytes()) else {
        return false;
    };
    let Ok(key) = openssl::pkey::PKey::private_key_from_pem(issued.key_pem.as_bytes()) else {
        return false;
    };
    cert.public_key().is_ok_and(|public| public.public_eq(&key))
}

/// Writes a 0600 file whole or not at all.
pub(super) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AcmeError> {
    support::write_private(path, bytes).map_err(|e| AcmeError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}
