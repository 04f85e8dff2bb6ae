//! finctl's errors and the exit codes scripts can rely on.

use std::path::PathBuf;

/// Exit codes, documented in `finctl --help`.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    // 2 is clap's usage error.
    pub const NOT_RUNNING: u8 = 3;
    pub const PERMISSION: u8 = 4;
    pub const DAEMON_ERROR: u8 = 5;
    /// Backup archives refused, each for its own reason.
    pub const BACKUP_CORRUPT: u8 = 6;
    pub const BACKUP_TRUNCATED: u8 = 7;
    pub const BACKUP_PASSPHRASE: u8 = 8;
    pub const BACKUP_FOREIGN: u8 = 9;
    pub const BACKUP_TOO_NEW: u8 = 10;
    /// The disk (or a file size limit) had no room.
    pub const NO_SPACE: u8 = 11;
}

#[derive(Debug)]
pub enum CtlError {
    /// No daemon answers on the socket.
    NotRunning { socket: PathBuf, reason: String },
    /// The socket or the daemon refused us.
    Permission { message: String },
    /// The daemon answered with an error.
    Daemon { code: String, message: String },
    /// The command line asks for something that cannot work.
    Usage(String),
    /// No room on the disk (or over a file size limit) for what finctl writes.
    NoSpace(String),
    /// Anything else, already phrased for the operator.
    Other(String),
}

impl CtlError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CtlError::NotRunning { .. } => exit::NOT_RUNNING,
            CtlError::Permission { .. } => exit::PERMISSION,
            CtlError::Daemon { code, .. } => match code.as_str() {
                "backup_corrupt" => exit::BACKUP_CORRUPT,
                "backup_truncated" => exit::BACKUP_TRUNCATED,
                "backup_passphrase" => exit::BACKUP_PASSPHRASE,
                "backup_foreign" => exit::BACKUP_FOREIGN,
                "backup_too_new" | "schema_too_new" => exit::BACKUP_TOO_NEW,
                "insufficient_storage" => exit::NO_SPACE,
                _ => exit::DAEMON_ERROR,
            },
            CtlError::Usage(_) => 2,
            CtlError::NoSpace(_) => exit::NO_SPACE,
            CtlError::Other(_) => exit::FAILURE,
        }
    }
}

impl std::fmt::Display for CtlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CtlError::NotRunning { socket, reason } => write!(
                f,
                "fin is not running: nothing answers on {} ({reason}).\n\
                 Start it with `sudo systemctl start fin` (or `fin --dev` for a development run, then \
                 FIN_ADMIN_SOCKET=fin-dev/admin.sock), or point finctl at the right socket with --socket.",
                socket.display()
            ),
            CtlError::Permission { message } => write!(f, "{message}"),
            CtlError::Daemon { code, message } => {
                write!(f, "the daemon refused: {message} ({code})")
            }
            CtlError::Usage(message) | CtlError::NoSpace(message) | CtlError::Other(message) => {
                write!(f, "{message}")
            }
        }
    }
}
