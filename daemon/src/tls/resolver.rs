//! A certificate resolver whose certificate can be replaced while the server
//! runs: new handshakes get the new certificate, open connections keep theirs.

use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::{CertInfo, LoadedCert};

#[derive(Debug)]
pub struct CertResolver {
    current: RwLock<Current>,
}

#[derive(Debug, Clone)]
struct Current {
    key: Arc<CertifiedKey>,
    info: CertInfo,
}

impl CertResolver {
    pub fn new(cert: LoadedCert) -> Arc<Self> {
        Arc::new(CertResolver {
            current: RwLock::new(Current {
                key: cert.key,
                info: cert.info,
            }),
        })
    }

    /// Serves `cert` to every handshake from now on.
    pub fn swap(&self, cert: LoadedCert) {
        let mut current = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *current = Current {
            key: cert.key,
            info: cert.info,
        };
    }

    /// What the certificate being served says.
    pub fn info(&self) -> CertInfo {
        self.read().info
    }

    fn read(&self) -> Current {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.read().key)
    }
}
