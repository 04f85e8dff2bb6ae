//! What an archive says about itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The first member: enough to refuse an archive this fin cannot read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The archive format ([`super::FORMAT`]).
    pub format: u32,
    /// The fin that wrote it.
    pub fin_version: String,
    /// The database schema version of the data in it.
    pub schema_version: u32,
    /// When the snapshot was taken (RFC 3339, UTC).
    pub created_at: String,
    /// The host that made it.
    pub host: String,
    /// Whether the JWT signing secret and the ACME account are in it.
    pub includes_secrets: bool,
}

/// The last member: the header again, the record count of every table and
/// the size and SHA-256 of every other member, in archive order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(flatten)]
    pub header: Header,
    pub tables: BTreeMap<String, u64>,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

impl Manifest {
    /// The receipt images it holds.
    pub fn blob_count(&self) -> usize {
        self.members
            .iter()
            .filter(|m| m.path.starts_with(super::BLOB_PREFIX))
            .count()
    }

    /// The bytes of its members (uncompressed).
    pub fn content_bytes(&self) -> u64 {
        self.members.iter().map(|m| m.size).sum()
    }
}
