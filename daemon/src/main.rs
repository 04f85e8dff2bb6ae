//! `fin`: parse arguments, load configuration, start logging, run the app,
//! map the result to an exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use fin_daemon::{app, config, telemetry};

/// Exit code for an unusable configuration (sysexits EX_CONFIG); the systemd
/// unit does not restart on it.
const EXIT_CONFIG: u8 = 78;
const EXIT_FAILURE: u8 = 1;

#[derive(Parser)]
#[command(
    name = "fin",
    version,
    about = "fin: self-hosted personal finance over HTTPS"
)]
struct Cli {
    /// Configuration file (conf.d/*.toml beside it is read too).
    #[arg(long, global = true, value_name = "FILE", env = "FIN_CONFIG")]
    config: Option<PathBuf>,
    /// Development mode: everything under DIR, HTTPS on 127.0.0.1:8443, a self-signed certificate.
    #[arg(long, global = true, value_name = "DIR", num_args = 0..=1, default_missing_value = "fin-dev")]
    dev: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon (the default).
    Run,
    /// Validate the configuration and exit: 0 when valid, 78 otherwise.
    CheckConfig,
    /// Restore a backup archive with the daemon stopped (finctl calls this
    /// when no daemon answers). Run as root, it works as the owner of the
    /// state folder.
    Restore {
        file: Option<PathBuf>,
        /// Restore the newest pre-upgrade backup of the backup folder.
        #[arg(long, conflicts_with = "file")]
        pre_upgrade: bool,
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
        /// Do not keep the replaced data as a restore point.
        #[arg(long)]
        no_restore_point: bool,
        #[arg(long)]
        json: bool,
    },
    /// Whether this binary can run on the data (the daemon stopped), or on
    /// data of schema N (`--schema-applied N`, as a running daemon reports).
    UpgradeCheck {
        #[arg(long, value_name = "N")]
        schema_applied: Option<u32>,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    if let Some(out) = app::cli_docs::requested() {
        return match app::cli_docs::write(Cli::command(), &out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("fin: cannot write the docs into {}: {e}", out.display());
                ExitCode::from(EXIT_FAILURE)
            }
        };
    }
    let cli = Cli::parse();
    let options = config::LoadOptions::from_process(cli.config.clone(), cli.dev.clone());
    let loaded = match config::load(&options) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("fin: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };

    if let Some(Command::CheckConfig) = cli.command {
        let sources: Vec<String> = loaded
            .sources
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let from = if sources.is_empty() {
            "built-in defaults and environment".to_string()
        } else {
            sources.join(", ")
        };
        println!("configuration is valid ({from})");
        return ExitCode::SUCCESS;
    }

    match cli.command {
        Some(Command::Restore {
            file,
            pre_upgrade,
            passphrase_file,
            no_restore_point,
            json,
        }) => {
            return offline_restore(
                &loaded.settings,
                file,
                pre_upgrade,
                passphrase_file,
                !no_restore_point,
                json,
            );
        }
        Some(Command::UpgradeCheck {
            schema_applied,
            json,
        }) => return upgrade_check(&loaded.settings, schema_applied, json),
        _ => {}
    }

    let guard = match telemetry::init(&app::log_options(&loaded.settings)) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("fin: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let result = app::runtime()
        .map_err(|e| app::AppError::Internal(format!("cannot start the async runtime: {e}")))
        .and_then(|rt| {
            let result = rt.block_on(app::run(loaded.settings, cli.dev.is_some()));
            // An OCR run still going on a blocking thread is not waited for:
            // its job stays leased and is taken back at the next start.
            rt.shutdown_timeout(std::time::Duration::from_secs(1));
            result
        });
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line on stderr (the journal keeps it too), not a log line as well.
            eprintln!("fin: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    };
    // Flushes the log file before the process ends.
    drop(guard);
    code
}

/// `fin restore`: prints the result (JSON with `--json`), exit 0 or 1.
fn offline_restore(
    settings: &config::Settings,
    file: Option<PathBuf>,
    pre_upgrade: bool,
    passphrase_file: Option<PathBuf>,
    restore_point: bool,
    json: bool,
) -> ExitCode {
    let fail = |code: &str, message: String| {
        if json {
            println!(
                "{}",
                serde_json::json!({ "code": code, "message": message })
            );
        } else {
            eprintln!("fin: {message}");
        }
        ExitCode::from(EXIT_FAILURE)
    };
    let file = match (file, pre_upgrade) {
        (Some(file), _) => file,
        (None, true) => match app::offline::newest_pre_upgrade(settings) {
            Some(file) => file,
            None => {
                return fail(
                    "not_found",
                    "there is no pre-upgrade backup in the backup folder".into(),
                );
            }
        },
        (None, false) => return fail("invalid", "give an archive, or --pre-upgrade".into()),
    };
    let passphrase = match passphrase_file.map(|p| {
        std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    }) {
        Some(Ok(text)) => Some(age_passphrase(&text)),
        Some(Err(e)) => return fail("invalid", e),
        None => None,
    };
    // Opened as the caller (root may read files the daemon may not), then
    // the work is done as the state folder's owner.
    let input = match std::fs::File::open(&file) {
        Ok(input) => input,
        Err(e) => return fail("not_found", format!("cannot open {}: {e}", file.display())),
    };
    if let Err(e) = app::offline::act_as_state_owner(&settings.state_dir) {
        return fail("forbidden", e);
    }
    let result = app::runtime()
        .map_err(|e| app::AppError::Internal(e.to_string()))
        .and_then(|rt| {
            rt.block_on(app::offline::restore(
                settings,
                input,
                passphrase,
                restore_point,
            ))
        });
    match result {
        Ok(restored) => {
            if json {
                let answer = fin_proto::admin::Restored::from(&restored);
                println!("{}", serde_json::to_string(&answer).unwrap_or_default());
            } else {
                println!(
                    "restored {} (taken {})",
                    file.display(),
                    restored.manifest.header.created_at
                );
            }
            ExitCode::SUCCESS
        }
        Err(app::AppError::Restore { code, message }) => fail(code, message),
        Err(e) => fail("internal_error", e.to_string()),
    }
}

fn age_passphrase(text: &str) -> fin_daemon::archive::Passphrase {
    fin_daemon::archive::Passphrase::from(text.lines().next().unwrap_or("").to_string())
}

/// `fin upgrade-check`: exit 0 when this binary can run on the data.
fn upgrade_check(settings: &config::Settings, schema_applied: Option<u32>, json: bool) -> ExitCode {
    if let Err(e) = app::offline::act_as_state_owner(&settings.state_dir) {
        eprintln!("fin: {e}");
        return ExitCode::from(EXIT_FAILURE);
    }
    let check = match schema_applied {
        Some(applied) => Ok(app::offline::check_against(applied)),
        None => app::runtime()
            .map_err(|e| app::AppError::Internal(e.to_string()))
            .and_then(|rt| rt.block_on(app::offline::upgrade_check(settings))),
    };
    match check {
        Ok(check) => {
            if json {
                let mut value = serde_json::to_value(&check).unwrap_or_default();
                if !check.can_run {
                    value["code"] = "schema_too_new".into();
                    value["message"] = check.reason.clone().into();
                }
                println!("{value}");
            } else {
                println!("{}", check.reason);
            }
            if check.can_run {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_FAILURE)
            }
        }
        Err(e) => {
            eprintln!("fin: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
