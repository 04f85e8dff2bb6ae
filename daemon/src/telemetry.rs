//! Logging: `tracing` to stdout (journald picks it up) and, when enabled, to
//! daily rolling files under the log folder with a retention count.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

#[cfg(test)]
mod tests {
    use super::directives;

    #[test]
    fn a_bare_level_quiets_libraries_but_a_filter_is_taken_as_written() {
        assert_eq!(directives("debug"), "warn,fin_daemon=debug,fin=debug");
        assert_eq!(directives("error"), "error");
        assert_eq!(directives("info,surrealdb=debug"), "info,surrealdb=debug");
    }
}

/// Keeps the log file writer alive; dropping it flushes what is buffered.
#[must_use = "dropping the guard stops file logging"]
pub struct TelemetryGuard {
    _file: Option<WorkerGuard>,
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error(
        "cannot write logs to {dir}: {reason} (fix paths.log_dir or its permissions, or set log.file = false)"
    )]
    LogDir { dir: String, reason: String },
    #[error("logging was already initialised")]
    AlreadyInitialised,
}

/// What to log and where (from `[log]` and `paths.log_dir`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// A level (`info`) or a full filter (`info,surrealdb=debug`).
    pub level: String,
    /// One JSON object a line instead of text.
    pub json: bool,
    /// Rolling daily files in this folder, keeping this many.
    pub files: Option<(PathBuf, usize)>,
}

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `log.level`.
pub fn init(options: &LogOptions) -> Result<TelemetryGuard, TelemetryError> {
    let filter = || {
        std::env::var("RUST_LOG")
            .ok()
            .and_then(|v| EnvFilter::try_new(v).ok())
            .unwrap_or_else(|| EnvFilter::new(directives(&options.level)))
    };

    let mut layers: Vec<BoxedLayer> = vec![
        format_layer(options.json, std::io::stdout, true)
            .with_filter(filter())
            .boxed(),
    ];
    let mut guard = None;
    if let Some((dir, max_files)) = &options.files {
        let (writer, file_guard) = file_writer(dir, *max_files)?;
        layers.push(
            format_layer(options.json, writer, false)
                .with_filter(filter())
                .boxed(),
        );
        guard = Some(file_guard);
    }

    tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInitialised)?;
    Ok(TelemetryGuard { _file: guard })
}

/// A bare level applies to fin's own logs; libraries (SurrealDB is chatty)
/// stay at `warn` unless the operator writes a full filter naming them.
fn directives(level: &str) -> String {
    match level {
        "info" | "debug" | "trace" => format!("warn,fin_daemon={level},fin={level}"),
        other => other.to_string(),
    }
}

type BoxedLayer = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;

fn format_layer<W>(json: bool, writer: W, ansi: bool) -> BoxedLayer
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    if json {
        fmt::layer().json().with_writer(writer).boxed()
    } else {
        fmt::layer()
            .with_writer(writer)
            .with_ansi(ansi && std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .boxed()
    }
}

fn file_writer(
    dir: &Path,
    max_files: usize,
) -> Result<(tracing_appender::non_blocking::NonBlocking, WorkerGuard), TelemetryError> {
    let err = |reason: String| TelemetryError::LogDir {
        dir: dir.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    let appender = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix("fin")
        .filename_suffix("log")
        .max_log_files(max_files)
        .build(dir)
        .map_err(|e| err(e.to_string()))?;
    Ok(tracing_appender::non_blocking(appender))
}
