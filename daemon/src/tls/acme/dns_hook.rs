//! dns-01 through the operator's hook (`tls.acme.dns_hook`): fin cannot know
//! every DNS provider's API, so a command sets and clears the TXT record:
//!
//!   HOOK set   _acme-challenge.NAME VALUE
//!   HOOK clear _acme-challenge.NAME VALUE
//!
//! No shell is involved: the arguments are passed as they are. The hook
//! should return only once the record is visible to the CA.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::AcmeError;

/// How long a hook may take before it is killed (DNS APIs can be slow, and a
/// hook may wait for propagation).
pub(super) const HOOK_TIME_LIMIT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy)]
pub(super) enum HookAction {
    Set,
    Clear,
}

impl HookAction {
    fn arg(self) -> &'static str {
        match self {
            HookAction::Set => "set",
            HookAction::Clear => "clear",
        }
    }
}

/// Runs the hook once; a non-zero exit, a failure to start or overrunning
/// `limit` is an error naming the hook and the last line it wrote to stderr.
pub(super) fn run(
    hook: &Path,
    action: HookAction,
    record: &str,
    value: &str,
    limit: Duration,
) -> Result<(), AcmeError> {
    let failed = |reason: String| AcmeError::HookFailed {
        hook: hook.to_path_buf(),
        action: action.arg(),
        record: record.to_string(),
        reason,
    };
    let mut child = Command::new(hook)
        .arg(action.arg())
        .arg(record)
        .arg(value)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("cannot start it: {e}")))?;

    // Drain stderr on its own thread so a chatty hook cannot block on a full pipe.
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = stderr {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    });

    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(format!(
                    "it did not finish within {} s and was stopped",
                    limit.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(failed(format!("cannot wait for it: {e}"))),
        }
    };
    // The pipe closes when the hook exits (unless it left a background child
    // holding it; then we give up on its stderr rather than hang).
    let stderr = if reader.is_finished() || wait_briefly(&reader) {
        reader.join().unwrap_or_default()
    } else {
        String::new()
    };
    if status.success() {
        return Ok(());
    }
    let last_line = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(nothing on stderr)");
    Err(failed(format!(
        "it exited with {status}: {}",
        last_line.trim()
    )))
}

fn wait_briefly(reader: &std::thread::JoinHandle<String>) -> bool {
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        if reader.is_finished() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}
