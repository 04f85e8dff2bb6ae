//! An issued certificate and what the daemon needs to know about it: its
//! validity (for renewal) and its names (to know it still fits the config).

use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;

use super::AcmeError;

/// A certificate chain (leaf first) and its private key, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
    /// Validity of the leaf, in unix seconds.
    pub not_before: i64,
    pub not_after: i64,
}

impl Issued {
    /// Builds it from PEM text, reading the validity from the leaf.
    pub(super) fn from_pem(cert_pem: String, key_pem: String) -> Result<Issued, AcmeError> {
        let leaf = Leaf::parse(&cert_pem)?;
        Ok(Issued {
            cert_pem,
            key_pem,
            not_before: leaf.not_before,
            not_after: leaf.not_after,
        })
    }

    /// The DNS names of the leaf, sorted and deduplicated.
    pub fn names(&self) -> Result<Vec<String>, AcmeError> {
        Ok(Leaf::parse(&self.cert_pem)?.names)
    }

    /// The unix time from which `renewal_due` says yes: when a third of the
    /// lifetime remains. The renewal loop can sleep until then.
    pub fn renewal_at(&self) -> i64 {
        let lifetime = self.not_after.saturating_sub(self.not_before).max(0);
        self.not_after.saturating_sub(lifetime / 3)
    }
}

/// True when less than a third of the certificate's lifetime remains (also
/// for a nonsensical validity, so a broken certificate gets replaced).
pub fn renewal_due(issued: &Issued, now: i64) -> bool {
    let lifetime = i128::from(issued.not_after) - i128::from(issued.not_before);
    let remaining = i128::from(issued.not_after) - i128::from(now);
    lifetime <= 0 || remaining * 3 < lifetime
}

/// What we read from the first certificate of a chain.
struct Leaf {
    not_before: i64,
    not_after: i64,
    names: Vec<String>,
}

impl Leaf {
    fn parse(cert_pem: &str) -> Result<Leaf, AcmeError> {
        let bad = |what: String| AcmeError::BadCertificate(what);
        let pem = Pem::iter_from_buffer(cert_pem.as_bytes())
            .next()
            .ok_or_else(|| bad("no PEM certificate in the chain".into()))?
            .map_err(|e| bad(format!("invalid PEM: {e}")))?;
        let cert = pem
            .parse_x509()
            .map_err(|e| bad(format!("invalid X.509 certificate: {e}")))?;
        let validity = cert.validity();
        let mut names: Vec<String> = match cert.subject_alternative_name() {
            Ok(Some(san)) => san
                .value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(name) => Some(name.to_ascii_lowercase()),
                    _ => None,
                })
                .collect(),
            Ok(None) => Vec::new(),
            Err(e) => return Err(bad(format!("invalid subjectAltName: {e}"))),
        };
        names.sort();
        names.dedup();
        Ok(Leaf {
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            names,
        })
    }
}
