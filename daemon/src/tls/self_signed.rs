//! `tls.mode = "self-signed"`: a certificate generated on first start, kept
//! under `<state>/tls/` (key 0600) and reused until it nears expiry or the
//! configured host names change.

use std::path::Path;

use time::{Duration, OffsetDateTime};

use super::{LoadedCert, TlsError, files};

const CERT_FILE: &str = "self-signed.crt";
const KEY_FILE: &str = "self-signed.key";
/// Apple platforms refuse TLS server certificates valid for longer than 825 days.
const LIFETIME_DAYS: i64 = 825;
/// Regenerate when less than this remains, so a restart renews in time.
const RENEW_BEFORE_DAYS: i64 = 30;

pub fn load_or_create(dir: &Path, hostnames: &[String]) -> Result<LoadedCert, TlsError> {
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(KEY_FILE);
    if cert_path.exists() && key_path.exists() {
        let existing = files::load(&cert_path, &key_path)?;
        if still_fits(&existing, hostnames) {
            return Ok(existing);
        }
        tracing::info!(path = %cert_path.display(), "self-signed certificate expires soon or names changed: generating a new one");
    }
    create(dir, &cert_path, &key_path, hostnames)
}

fn still_fits(cert: &LoadedCert, hostnames: &[String]) -> bool {
    let renew_at = OffsetDateTime::now_utc() + Duration::days(RENEW_BEFORE_DAYS);
    let mut wanted: Vec<&str> = hostnames.iter().map(String::as_str).collect();
    let mut have: Vec<&str> = cert.info.sans.iter().map(String::as_str).collect();
    wanted.sort_unstable();
    have.sort_unstable();
    cert.info.not_after > renew_at.unix_timestamp() && wanted == have
}

fn create(
    dir: &Path,
    cert_path: &Path,
    key_path: &Path,
    hostnames: &[String],
) -> Result<LoadedCert, TlsError> {
    let generate = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let mut params = rcgen::CertificateParams::new(hostnames.to_vec()).map_err(generate)?;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(LIFETIME_DAYS);
    let mut name = rcgen::DistinguishedName::new();
    name.push(
        rcgen::DnType::CommonName,
        hostnames.first().cloned().unwrap_or_default(),
    );
    name.push(rcgen::DnType::OrganizationName, "fin self-signed");
    params.distinguished_name = name;
    let key = rcgen::KeyPair::generate().map_err(generate)?;
    let cert = params.self_signed(&key).map_err(generate)?;

    std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
    // Key first, then certificate: a crash in between leaves no certificate,
    // so the next start generates a fresh pair instead of a mismatched one.
    write_private(key_path, key.serialize_pem().as_bytes())?;
    write_atomic(cert_path, cert.pem().as_bytes(), 0o644)?;
    tracing::info!(path = %cert_path.display(), names = ?hostnames, "generated a self-signed certificate");
    files::load(cert_path, key_path)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    write_atomic(path, bytes, 0o600)
}

fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
    crate::support::write_atomically(path, bytes, mode).map_err(|e| write_error(path, e))
}

fn write_error(path: &Path, e: std::io::Error) -> TlsError {
    TlsError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn generated_once_then_reused_with_a_private_key_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let names = vec!["fin.lan".to_string(), "127.0.0.1".to_string()];
        let first = load_or_create(dir.path(), &names).expect("create");
        assert_eq!(first.info.sans, names);
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = load_or_create(dir.path(), &names).expect("reuse");
        assert_eq!(
            first.info.fingerprint_sha256,
            second.info.fingerprint_sha256
        );
    }

    #[test]
    fn changed_names_give_a_new_certificate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = load_or_create(dir.path(), &["a.lan".to_string()]).expect("create");
        let second = load_or_create(dir.path(), &["b.lan".to_string()]).expect("recreate");
        assert_ne!(
            first.info.fingerprint_sha256,
            second.info.fingerprint_sha256
        );
        assert_eq!(second.info.sans, vec!["b.lan"]);
    }

    #[test]
    fn a_key_that_does_not_match_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        load_or_create(dir.path(), &["a.lan".to_string()]).expect("create");
        let other = tempfile::tempdir().expect("tempdir");
        load_or_create(other.path(), &["a.lan".to_string()]).expect("create");
        let err = files::load(&dir.path().join(CERT_FILE), &other.path().join(KEY_FILE))
            .err()
            .expect("mismatch must fail");
        assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err}");
    }
}
