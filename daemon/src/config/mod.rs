//! Configuration: built-in defaults < the config file < `conf.d/*.toml` beside
//! it < `FIN_*` environment variables, then validated into [`Settings`].

mod checks;
mod raw;
mod sections;
mod settings;

use std::path::{Path, PathBuf};

pub use raw::RawConfig;
pub use settings::{
    AcmeSource, AuthSettings, Connections, Limit, Limits, LogFormat, OcrModels, OcrSettings,
    Settings, TlsSource,
};

/// Where the packaged daemon looks for its configuration.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/fin/fin.toml";

/// Prefix of the environment variables that override configuration keys:
/// `FIN_SERVER__HTTPS_LISTEN` sets `server.https_listen`.
pub const ENV_PREFIX: &str = "FIN";

/// Why the configuration could not be used. The message is meant for an
/// operator: it names the key, the value and what is allowed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("invalid configuration: {0}")]
    Parse(String),
    #[error("invalid configuration: {key} = {value:?}: {allowed}")]
    Invalid {
        key: &'static str,
        value: String,
        allowed: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(
        key: &'static str,
        value: impl Into<String>,
        allowed: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            key,
            value: value.into(),
            allowed: allowed.into(),
        }
    }
}

/// How the daemon was asked to find its configuration.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--config FILE`: must exist. Without it the default file is read when present.
    pub file: Option<PathBuf>,
    /// `--dev DIR`: development defaults with everything under DIR.
    pub dev_dir: Option<PathBuf>,
    /// The process environment (passed in so tests need not change the real one).
    pub env: Vec<(String, String)>,
}

impl LoadOptions {
    /// Options for this process: its arguments plus its real environment.
    pub fn from_process(file: Option<PathBuf>, dev_dir: Option<PathBuf>) -> Self {
        LoadOptions {
            file,
            dev_dir,
            env: std::env::vars().collect(),
        }
    }
}

/// The configuration that was loaded, with the files it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    pub sources: Vec<PathBuf>,
}

/// Reads every layer, rejects unknown keys and validates the result.
pub fn load(opts: &LoadOptions) -> Result<Loaded, ConfigError> {
    let defaults = match &opts.dev_dir {
        Some(dir) => RawConfig::dev(&absolute(dir)?),
        None => RawConfig::default(),
    };
    let mut builder = config::Config::builder().add_source(
        config::Config::try_from(&defaults).map_err(|e| ConfigError::Parse(e.to_string()))?,
    );

    let mut sources = Vec::new();
    let file = match (&opts.file, &opts.dev_dir) {
        (Some(file), _) => {
            if !file.is_file() {
                return Err(ConfigError::Read {
                    path: file.clone(),
                    reason: "no such file (create it with `finctl setup --config FILE`)".into(),
                });
            }
            Some(file.clone())
        }
        // A development run never picks up the system-wide configuration by accident.
        (None, Some(_)) => None,
        (None, None) => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|f| f.is_file()),
    };
    if let Some(file) = file {
        for path in std::iter::once(file.clone()).chain(conf_d_files(&file)?) {
            builder = builder
                .add_source(config::File::from(path.as_path()).format(config::FileFormat::Toml));
            sources.push(path);
        }
    }

    builder = builder.add_source(
        config::Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("_")
            .separator("__")
            .list_separator(",")
            .with_list_parse_key("server.hostnames")
            .with_list_parse_key("server.trusted_proxies")
            .with_list_parse_key("server.cors_origins")
            .with_list_parse_key("tls.acme.domains")
            .try_parsing(true)
            .source(Some(env_overrides(&opts.env))),
    );

    let raw: RawConfig = builder
        .build()
        .and_then(|c| c.try_deserialize())
        .map_err(|e| ConfigError::Parse(e.to_string()))?;
    let settings = raw.validate()?;
    Ok(Loaded { settings, sources })
}

/// `FIN_SECTION__KEY` variables only: `FIN_ADMIN_SOCKET` and friends belong to
/// `finctl` and must not be mistaken for unknown daemon keys.
fn env_overrides(env: &[(String, String)]) -> config::Map<String, String> {
    let prefix = format!("{ENV_PREFIX}_");
    env.iter()
        .filter(|(k, _)| {
            k.strip_prefix(&prefix)
                .is_some_and(|rest| rest.contains("__"))
        })
        .cloned()
        .collect()
}

/// `conf.d/*.toml` beside the main file, in name order.
fn conf_d_files(file: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let dir = file.parent().unwrap_or(Path::new(".")).join("conf.d");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(ConfigError::Read {
                path: dir,
                reason: e.to_string(),
            });
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "toml") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn absolute(dir: &Path) -> Result<PathBuf, ConfigError> {
    std::path::absolute(dir).map_err(|e| ConfigError::Read {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests;
