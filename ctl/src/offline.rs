//! Work with the daemon stopped is done by the daemon binary (`fin
//! restore`, `fin upgrade-check`), which finctl runs and reads the JSON of.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::de::DeserializeOwned;

use crate::error::CtlError;

/// The `fin` binary: `FIN_BINARY`, else the one beside finctl, else `fin`
/// on the PATH.
fn fin_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("FIN_BINARY") {
        return PathBuf::from(path);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("fin")))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("fin"))
}

/// Runs `fin [--config FILE] ARGS --json`: its JSON answer, or the error it
/// printed (as `{code, message}`) mapped to finctl's error.
pub fn run_fin<T: DeserializeOwned>(config: Option<&Path>, args: &[&str]) -> Result<T, CtlError> {
    let binary = fin_binary();
    let mut command = Command::new(&binary);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    let output = command.args(args).arg("--json").output().map_err(|e| {
        CtlError::Other(format!(
            "cannot run {} for work with the daemon stopped: {e} (set FIN_BINARY to the daemon binary)",
            binary.display()
        ))
    })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answer: Option<serde_json::Value> = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok());
    match (output.status.success(), answer) {
        (true, Some(answer)) => serde_json::from_value(answer).map_err(|e| {
            CtlError::Other(format!(
                "{} answered in a way finctl does not understand ({e}); are fin and finctl the same version?",
                binary.display()
            ))
        }),
        (false, Some(answer)) if answer.get("code").is_some() => Err(CtlError::Daemon {
            code: answer["code"]
                .as_str()
                .unwrap_or("internal_error")
                .to_string(),
            message: answer["message"].as_str().unwrap_or("").to_string(),
        }),
        (_, answer) => Err(CtlError::Other(format!(
            "{} failed: {}{}",
            binary.display(),
            String::from_utf8_lossy(&output.stderr).trim(),
            answer.map(|a| format!(" {a}")).unwrap_or_default()
        ))),
    }
}
