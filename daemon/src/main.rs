//! `fin`: parse arguments, load configuration, start logging, run the app,
//! map the result to an exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
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
}

fn main() -> ExitCode {
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
