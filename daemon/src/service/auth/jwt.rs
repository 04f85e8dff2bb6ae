//! Access tokens: HS256 JWTs signed with a 256-bit secret kept in the
//! secrets folder. After a rotation the previous secret still verifies
//! tokens until the longest access-token lifetime has passed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::support::{self, hex, unhex};

pub const SECRET_FILE: &str = "jwt.key";
pub const PREVIOUS_FILE: &str = "jwt.previous";
pub const ISSUER: &str = "fin";
pub const AUDIENCE: &str = "fin-api";
/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 30;
const MIN_SECRET_BYTES: usize = 32;

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// User id.
    pub sub: String,
    pub role: String,
    /// Session (refresh-token family) the token belongs to.
    pub sid: String,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the JWT secret {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error(
        "the JWT secret {path} is readable by other users (mode {mode:o}): run chmod 600 {path}"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error(
        "the JWT secret {path} is too short or not hex: it needs at least 64 hex characters (256 bits); run `finctl secrets rotate-jwt`"
    )]
    TooShort { path: PathBuf },
    #[error("cannot write the JWT secret {path}: {reason}")]
    Write { path: PathBuf, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid access token: {0}")]
pub struct TokenError(pub String);

#[derive(Clone)]
struct Key {
    kid: String,
    secret: Vec<u8>,
}

impl Key {
    fn new(secret: Vec<u8>) -> Self {
        let kid = hex(&Sha256::digest(&secret)[..6]);
        Key { kid, secret }
    }
}

/// The signing secret, and the previous one while it is still honoured.
#[derive(Clone)]
pub struct JwtKeys {
    current: Key,
    previous: Option<(Key, i64)>,
}

impl JwtKeys {
    /// Loads the secrets from `dir`, generating the current one when absent.
    pub fn load_or_create(dir: &Path, now: i64) -> Result<Self, KeyError> {
        let path = dir.join(SECRET_FILE);
        if !path.exists() {
            write_secret(&path, &random_secret()?)?;
            tracing::info!(path = %path.display(), "generated a JWT signing secret");
        }
        let current = Key::new(read_secret(&path)?);
        let previous_path = dir.join(PREVIOUS_FILE);
        let previous = if previous_path.exists() {
            let text = read_private(&previous_path)?;
            let mut parts = text.split_whitespace();
            let secret = parts
                .next()
                .and_then(unhex)
                .filter(|s| s.len() >= MIN_SECRET_BYTES);
            let retire_at = parts.next().and_then(|t| t.parse::<i64>().ok());
            match (secret, retire_at) {
                (Some(secret), Some(retire_at)) if retire_at > now => {
                    Some((Key::new(secret), retire_at))
                }
                _ => None,
            }
        } else {
            None
        };
        Ok(JwtKeys { current, previous })
    }

    /// Makes a new signing secret; the current one keeps verifying for `grace`.
    pub fn rotate(dir: &Path, now: i64, grace: Duration) -> Result<Self, KeyError> {
        let path = dir.join(SECRET_FILE);
        let old = read_secret(&path)?;
        let retire_at = now + i64::try_from(grace.as_secs()).unwrap_or(i64::MAX / 2);
        write_secret(
            &dir.join(PREVIOUS_FILE),
            &format!("{} {retire_at}", hex(&old)),
        )?;
        write_secret(&path, &random_secret()?)?;
        Self::load_or_create(dir, now)
    }

    /// Key id of the current secret (first bytes of its SHA-256).
    pub fn current_kid(&self) -> &str {
        &self.current.kid
    }

    pub fn sign(&self, claims: &AccessClaims) -> Result<String, TokenError> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.kid.clone());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_secret(&self.current.secret),
        )
        .map_err(|e| TokenError(e.to_string()))
    }

    /// Verifies signature (HS256 only), `exp`, `nbf`, `iss` and `aud`.
    pub fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| TokenError(e.to_string()))?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let key = match header.kid.as_deref() {
            Some(kid) if kid == self.current.kid => &self.current,
            Some(kid) => match &self.previous {
                Some((key, retire_at)) if key.kid == kid && now < *retire_at => key,
                _ => return Err(TokenError("signed with an unknown or retired key".into())),
            },
            None => return Err(TokenError("no key id".into())),
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<AccessClaims>(
            token,
            &DecodingKey::from_secret(&key.secret),
            &validation,
        )
        .map(|data| data.claims)
        .map_err(|e| TokenError(e.to_string()))
    }
}

fn random_secret() -> Result<String, KeyError> {
    support::random_hex(32).map_err(|e| KeyError::Write {
        path: PathBuf::from(SECRET_FILE),
        reason: e.to_string(),
    })
}

fn read_private(path: &Path) -> Result<String, KeyError> {
    let meta = std::fs::metadata(path).map_err(|e| KeyError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::TooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    std::fs::read_to_string(path).map_err(|e| KeyError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn read_secret(path: &Path) -> Result<Vec<u8>, KeyError> {
    unhex(read_private(path)?.trim())
        .filter(|s| s.len() >= MIN_SECRET_BYTES)
        .ok_or_else(|| KeyError::TooShort {
            path: path.to_path_buf(),
        })
}

/// Writes a 0600 file whole or not at all.
fn write_secret(path: &Path, text: &str) -> Result<(), KeyError> {
    support::write_private(path, format!("{text}\n").as_bytes()).map_err(|e| KeyError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests;
