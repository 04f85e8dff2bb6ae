//! `finctl`: the operator's tool for a fin box. It talks to the running
//! daemon over the admin socket and never opens the database itself.

mod audit;
mod backup;
mod cert;
mod client;
mod docs;
mod error;
mod offline;
mod setup;
mod status;
mod upgrade;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::client::AdminClient;
use crate::error::{CtlError, exit};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure (the message says what to do)
  2  invalid command line
  3  the daemon is not running (no answer on the admin socket)
  4  permission denied (run as root or as a member of group fin)
  5  the daemon answered with an error
  6  the backup archive is damaged (a checksum does not match)
  7  the backup archive is cut short
  8  the passphrase is missing or does not open the archive
  9  the file is not a fin backup archive
 10  the archive, or the data, is from a newer fin
 11  no room on the disk";

#[derive(Parser)]
#[command(name = "finctl", version, about = "Operate a fin box: setup, status and more.", after_help = EXIT_CODES)]
struct Cli {
    /// Admin socket of the daemon.
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "FIN_ADMIN_SOCKET",
        default_value = "/run/fin/admin.sock"
    )]
    socket: PathBuf,
    /// The daemon's configuration, for work done with the daemon stopped
    /// (restore, upgrade check and rollback run the `fin` binary with it).
    #[arg(long, global = true, value_name = "FILE", env = "FIN_CONFIG")]
    config: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show what the running daemon reports: version, uptime, schema, TLS, listeners.
    Status,
    /// Write the configuration and prepare folders and secrets (safe to repeat).
    Setup(Box<setup::SetupArgs>),
    /// Manage accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Show the audit trail of security events, newest first.
    Audit(audit::AuditArgs),
    /// Manage the daemon's secrets.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// The HTTPS certificate: status, ACME renewal, reload of files.
    #[command(subcommand)]
    Cert(cert::CertCommand),
    /// Take a backup of the running box (database and receipt images), or
    /// list, check and prune archives.
    Backup(backup::BackupArgs),
    /// Restore the box to an archive; the data it replaces is kept as a
    /// restore point in the backup folder.
    Restore(backup::RestoreArgs),
    /// Upgrades: versions and pending migrations, can this binary run on
    /// the data, roll back to the pre-upgrade backup.
    #[command(subcommand)]
    Upgrade(upgrade::UpgradeCommand),
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Make a new JWT signing secret; tokens signed with the old one stay
    /// valid until they expire, then the old secret is dropped.
    RotateJwt,
}

fn rotate_jwt(client: &AdminClient, json: bool) -> Result<(), CtlError> {
    let rotated: fin_proto::admin::Rotated =
        client.post(fin_proto::admin::ROTATE_JWT_PATH, &serde_json::json!({}))?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&rotated).map_err(|e| CtlError::Other(e.to_string()))?
        );
    } else {
        println!(
            "new JWT signing secret {}; tokens signed with the previous one stay valid for {} s",
            rotated.kid, rotated.previous_valid_for_seconds
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    if let Some(out) = docs::requested() {
        return match docs::write(Cli::command(), &out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("finctl: cannot write the docs into {}: {e}", out.display());
                ExitCode::from(exit::FAILURE)
            }
        };
    }
    let cli = Cli::parse();
    let result: Result<(), CtlError> = match cli.command {
        Command::Status => status::run(&AdminClient::new(&cli.socket), cli.json),
        Command::Setup(args) => setup::run(*args, cli.json),
        Command::User(command) => user::run(&AdminClient::new(&cli.socket), command, cli.json),
        Command::Audit(args) => audit::run(&AdminClient::new(&cli.socket), args, cli.json),
        Command::Cert(command) => cert::run(&AdminClient::new(&cli.socket), command, cli.json),
        Command::Backup(args) => backup::run(&AdminClient::new(&cli.socket), args, cli.json),
        Command::Restore(args) => backup::restore(
            &AdminClient::new(&cli.socket),
            args,
            cli.config.as_deref(),
            cli.json,
        ),
        Command::Upgrade(command) => upgrade::run(
            &AdminClient::new(&cli.socket),
            command,
            cli.config.as_deref(),
            cli.json,
        ),
        Command::Secrets(SecretsCommand::RotateJwt) => {
            rotate_jwt(&AdminClient::new(&cli.socket), cli.json)
        }
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            if cli.json {
                let body =
                    serde_json::json!({ "error": e.to_string(), "exit_code": e.exit_code() });
                eprintln!("{body}");
            } else {
                eprintln!("finctl: {e}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
