//! finctl over the admin socket.

use std::os::unix::fs::PermissionsExt;

use fin_e2e::{TestBox, bin, text};

#[test]
fn finctl_status_shows_the_running_daemon() {
    let testbox = TestBox::new();
    let daemon = testbox.start();

    let output = testbox.finctl(&["status", "--json"]);
    assert!(output.status.success(), "{}", text(&output));
    let status: fin_proto::admin::Status =
        serde_json::from_slice(&output.stdout).expect("status json");
    assert_eq!(status.pid, daemon.pid());
    assert_eq!(status.schema.applied, status.schema.latest);
    assert!(status.schema.applied >= 1);
    assert_eq!(status.tls.mode, "self-signed");
    assert!(status.tls.sans.contains(&"localhost".to_string()));
    assert!(status.tls.not_after > status.tls.not_before);
    assert_eq!(&status.listeners, daemon.listeners());
    assert!(status.database_url.starts_with("surrealkv://"));

    let output = testbox.finctl(&["status"]);
    assert!(output.status.success(), "{}", text(&output));
    let human = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "running for",
        "schema",
        "self-signed",
        "names localhost",
        "expires",
        "HTTPS",
    ] {
        assert!(human.contains(needle), "missing {needle:?}:\n{human}");
    }
}

#[test]
fn finctl_says_when_the_daemon_is_not_running() {
    let testbox = TestBox::new();
    let output = testbox.finctl(&["status"]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("fin is not running"), "{stderr}");
    assert!(stderr.contains("systemctl start fin"), "{stderr}");
}

#[test]
fn finctl_help_documents_exit_codes() {
    let output = std::process::Command::new(bin("finctl"))
        .arg("--help")
        .output()
        .expect("finctl");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("Exit codes") && help.contains("not running"),
        "{help}"
    );
}

/// Runs finctl as the unprivileged `nobody` user (needs root and runuser).
fn finctl_as_nobody(testbox: &TestBox) -> Option<std::process::Output> {
    if !nix::unistd::geteuid().is_root() || which("runuser").is_none() {
        eprintln!("skipping: needs root and runuser to act as another user");
        return None;
    }
    // The checkout may sit where `nobody` cannot reach the binary (e.g. under /root).
    let reachable = std::process::Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(bin("finctl"))
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !reachable {
        eprintln!(
            "skipping: user nobody cannot run {}",
            bin("finctl").display()
        );
        return None;
    }
    Some(
        std::process::Command::new("runuser")
            .args(["-u", "nobody", "--"])
            .arg(bin("finctl"))
            .arg("--socket")
            .arg(testbox.socket_path())
            .arg("status")
            .output()
            .expect("runuser"),
    )
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_string_lossy()
        .split(':')
        .map(|dir| std::path::Path::new(dir).join(name))
        .find(|p| p.is_file())
}

#[test]
fn other_users_are_refused_by_the_socket_mode_and_by_the_daemon() {
    let testbox = TestBox::new();
    let _daemon = testbox.start();
    // Let nobody reach the socket's folder, so the socket's own mode decides.
    std::fs::set_permissions(testbox.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod dir");
    let mode = std::fs::metadata(testbox.socket_path())
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660, "admin socket mode");

    let Some(output) = finctl_as_nobody(&testbox) else {
        return;
    };
    assert_eq!(output.status.code(), Some(4), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("permission denied"),
        "{}",
        text(&output)
    );

    // Even with the socket opened to everyone, the daemon checks the peer.
    std::fs::set_permissions(
        testbox.socket_path(),
        std::fs::Permissions::from_mode(0o666),
    )
    .expect("chmod socket");
    let Some(output) = finctl_as_nobody(&testbox) else {
        return;
    };
    assert_eq!(output.status.code(), Some(4), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("may not use the fin admin socket"),
        "{}",
        text(&output)
    );
}

#[test]
fn finctl_setup_writes_a_config_the_daemon_runs_with() {
    let testbox = TestBox::new();
    let root = testbox.path();
    let config = root.join("etc/fin.toml");
    let output = std::process::Command::new(bin("finctl"))
        .arg("setup")
        .arg("--non-interactive")
        .arg(format!("--config={}", config.display()))
        .arg(format!("--state-dir={}", root.join("state").display()))
        .arg(format!("--log-dir={}", root.join("log").display()))
        .arg(format!(
            "--admin-socket={}",
            testbox.socket_path().display()
        ))
        .args([
            "--hostname",
            "localhost",
            "--https-listen",
            "127.0.0.1:0",
            "--http-listen",
            "",
        ])
        .args(["--metrics-listen", ""])
        .output()
        .expect("finctl setup");
    assert!(output.status.success(), "{}", text(&output));
    let secret = root.join("state/secrets/jwt.key");
    assert_eq!(
        std::fs::metadata(&secret)
            .expect("secret")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    let check = std::process::Command::new(bin("fin"))
        .arg("check-config")
        .arg("--config")
        .arg(&config)
        .output()
        .expect("fin check-config");
    assert!(check.status.success(), "{}", text(&check));
}

#[test]
fn finctl_setup_creates_the_first_admin_through_the_daemon() {
    let testbox = TestBox::new();
    let _daemon = testbox.start();
    let scratch = tempfile::tempdir().expect("tempdir");
    let setup = |config: &str, socket: &std::path::Path| {
        std::process::Command::new(bin("finctl"))
            .arg("setup")
            .arg("--non-interactive")
            .arg("--json")
            .arg(format!(
                "--config={}",
                scratch.path().join(config).display()
            ))
            .arg(format!(
                "--state-dir={}",
                scratch.path().join("state").display()
            ))
            .arg(format!(
                "--log-dir={}",
                scratch.path().join("log").display()
            ))
            .arg(format!("--admin-socket={}", socket.display()))
            .args(["--admin", "root1"])
            .output()
            .expect("finctl setup")
    };
    let output = setup("a.toml", &testbox.socket_path());
    assert!(output.status.success(), "{}", text(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["admin"], "root1");
    assert!(
        report["admin_password"]
            .as_str()
            .is_some_and(|p| p.len() >= 30)
    );
    let users = testbox.finctl(&["user", "list", "--json"]);
    let users: Vec<fin_proto::admin::User> = serde_json::from_slice(&users.stdout).expect("json");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].role, "admin");

    let again = setup("b.toml", &testbox.socket_path());
    assert!(again.status.success(), "{}", text(&again));
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert!(report["admin"].is_null());
    assert!(
        report["notes"].to_string().contains("exists already"),
        "{report}"
    );

    let no_daemon = setup("c.toml", &scratch.path().join("nothing.sock"));
    assert!(no_daemon.status.success(), "{}", text(&no_daemon));
    assert!(String::from_utf8_lossy(&no_daemon.stdout).contains("fin is not running"));
}
