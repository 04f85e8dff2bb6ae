//! The backup archive format (documented in `docs/backup-format.md`): a tar
//! stream, compressed with zstd, optionally encrypted with a passphrase
//! (age, scrypt). Pure and synchronous over `std::io`: no database, no
//! clock, no network, so it can be fuzzed and used off the async runtime.
//!
//! Members, in order: [`HEADER`] (what made the archive, first so that an
//! archive from a newer fin is refused before anything else is read), the
//! database export in parts, the receipt images, the secrets when asked
//! for, and [`MANIFEST`] last: the header again, record counts per table
//! and the size and SHA-256 of every other member. An archive is whole
//! only when the manifest is there and every member matches it.

mod manifest;
mod reader;
mod trailer;
mod writer;

pub use manifest::{Header, Manifest, Member};
pub use reader::{ArchiveReader, Check};
pub use writer::ArchiveWriter;

/// An archive's passphrase (kept out of logs and `Debug`).
pub type Passphrase = age::secrecy::SecretString;

/// The format this build writes and the newest it reads.
pub const FORMAT: u32 = 1;
/// The first member.
pub const HEADER: &str = "fin-backup.json";
/// The last member.
pub const MANIFEST: &str = "manifest.json";
/// Members holding the database export, in order (`db/000001.surql`, ...).
pub const DB_PREFIX: &str = "db/";
/// Members holding receipt images (`blobs/<sha256>`).
pub const BLOB_PREFIX: &str = "blobs/";
/// Members holding secrets, only in archives made with them asked for.
pub const SECRET_PREFIX: &str = "secrets/";

/// The scrypt work factor (N = 2^17, r = 8: 128 MiB, OWASP's minimum for
/// scrypt), and the largest accepted when reading, which bounds the memory
/// and time a hostile archive can make a restore spend.
const WORK_FACTOR: u8 = 17;
const MAX_WORK_FACTOR: u8 = 18;

/// Why an archive was refused. Each kind has its own admin error code and
/// finctl exit code, so scripts can tell them apart.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("this is not a fin backup archive (neither zstd-compressed nor age-encrypted)")]
    Foreign,
    #[error("the archive is encrypted: give its passphrase (--passphrase-file)")]
    PassphraseNeeded,
    #[error("the passphrase does not open this archive")]
    WrongPassphrase,
    #[error("the archive ends early ({0}): it was cut short while being written or copied")]
    Truncated(String),
    #[error("the archive is damaged: {0}")]
    Corrupt(String),
    #[error("the archive was made by a newer fin: {0}")]
    TooNew(String),
    #[error("{0}")]
    Io(String),
}

impl ArchiveError {
    /// The stable machine code (admin socket, `--json`).
    pub fn code(&self) -> &'static str {
        match self {
            ArchiveError::Foreign => "backup_foreign",
            ArchiveError::PassphraseNeeded | ArchiveError::WrongPassphrase => "backup_passphrase",
            ArchiveError::Truncated(_) => "backup_truncated",
            ArchiveError::Corrupt(_) => "backup_corrupt",
            ArchiveError::TooNew(_) => "backup_too_new",
            ArchiveError::Io(_) => "backup_io",
        }
    }
}

#[cfg(test)]
mod tests;
