//! The checks every section shares: addresses, ranges, paths, names, log
//! filters. Each error names the key, the value and what is allowed.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::ConfigError;

const LISTEN_HELP: &str = "expected an IP address and port, e.g. 0.0.0.0:443 or [::]:443";

pub(super) fn parse_addr(key: &'static str, value: &str) -> Result<SocketAddr, ConfigError> {
    value
        .parse()
        .map_err(|_| ConfigError::invalid(key, value, LISTEN_HELP))
}

pub(super) fn parse_optional_addr(
    key: &'static str,
    value: &str,
) -> Result<Option<SocketAddr>, ConfigError> {
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| ConfigError::invalid(key, value, format!("{LISTEN_HELP}, or \"\" to disable")))
}

pub(super) fn in_range(
    key: &'static str,
    value: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::invalid(
            key,
            value.to_string(),
            format!("expected a whole number from {min} to {max}"),
        ))
    }
}

pub(super) fn absolute_path(key: &'static str, value: &str) -> Result<PathBuf, ConfigError> {
    let path = PathBuf::from(value);
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(ConfigError::invalid(
            key,
            value,
            "expected an absolute path, e.g. /var/lib/fin",
        ))
    }
}

/// A level, or a filter with at least one `target=level` or `level,` part
/// (a bare word like "loud" would silently be read as a target name).
pub(super) fn is_log_filter(value: &str) -> bool {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    if LEVELS.contains(&value) {
        return true;
    }
    (value.contains('=') || value.contains(','))
        && tracing_subscriber::EnvFilter::try_new(value).is_ok()
        && value.split(',').all(|part| {
            LEVELS.contains(&part)
                || part
                    .split_once('=')
                    .is_some_and(|(_, l)| LEVELS.contains(&l))
        })
}

pub(super) fn is_valid_hostname(name: &str) -> bool {
    if name.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
