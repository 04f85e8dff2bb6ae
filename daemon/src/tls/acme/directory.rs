//! Which ACME server to ask: `tls.acme.directory` in the config.

use std::str::FromStr;

use super::AcmeError;

const LETSENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
const LETSENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directory {
    LetsEncrypt,
    LetsEncryptStaging,
    /// Any RFC 8555 server (a private CA, Pebble in tests), by its directory URL.
    Url(String),
}

impl Directory {
    /// The directory URL. We always hand acme-lib a URL (never its own enum)
    /// so the reachability check and acme-lib talk to the same address.
    pub fn url(&self) -> &str {
        match self {
            Directory::LetsEncrypt => LETSENCRYPT,
            Directory::LetsEncryptStaging => LETSENCRYPT_STAGING,
            Directory::Url(url) => url,
        }
    }
}

impl FromStr for Directory {
    type Err = AcmeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s.to_ascii_lowercase().as_str() {
            "letsencrypt" | "lets-encrypt" => Ok(Directory::LetsEncrypt),
            "letsencrypt-staging" | "lets-encrypt-staging" => Ok(Directory::LetsEncryptStaging),
            // RFC 8555 requires HTTPS for the whole API, so plain http:// is refused.
            lower if lower.starts_with("https://") && lower.len() > "https://".len() => {
                Ok(Directory::Url(s.to_string()))
            }
            _ => Err(AcmeError::BadDirectory(s.to_string())),
        }
    }
}
