//! The ACME account key, made by us rather than by acme-lib.
//!
//! acme-lib 0.9.1 writes the key's public coordinates into the JWK without
//! padding them to 32 bytes, so for about one P-256 key in 128 (a coordinate
//! with a leading zero byte) every request is rejected as a bad signature,
//! forever. We generate the key ourselves, keep only one whose coordinates
//! are full length, and store it where acme-lib looks for it.

use std::path::Path;

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;

use super::AcmeError;
use super::store;

/// A usable key turns up with probability 127/128 per try; 64 tries failing
/// would mean a broken random generator.
const MAX_TRIES: usize = 64;

/// Creates `account.key` (0600) if there is none; an existing key is kept,
/// so the account is reused across restarts.
pub(super) fn ensure(dir: &Path) -> Result<(), AcmeError> {
    let path = store::account_key_path(dir);
    if path.exists() {
        return Ok(());
    }
    let failed = |e: openssl::error::ErrorStack| AcmeError::Write {
        path: path.clone(),
        reason: format!("cannot generate the account key: {e}"),
    };
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(failed)?;
    let mut ctx = BigNumContext::new().map_err(failed)?;
    for _ in 0..MAX_TRIES {
        let key = EcKey::generate(&group).map_err(failed)?;
        let mut x = BigNum::new().map_err(failed)?;
        let mut y = BigNum::new().map_err(failed)?;
        key.public_key()
            .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
            .map_err(failed)?;
        if x.num_bytes() == 32 && y.num_bytes() == 32 {
            // SEC1 "EC PRIVATE KEY" PEM: the format acme-lib reads and writes.
            let pem = key.private_key_to_pem().map_err(failed)?;
            return store::write_private(&path, &pem);
        }
    }
    Err(AcmeError::Write {
        path: path.clone(),
        reason: "cannot generate a usable account key".to_string(),
    })
}
