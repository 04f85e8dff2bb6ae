//! Start, stop, restart, and start-up failures that say what to fix.

use std::time::Duration;

use fin_e2e::{TestBox, text};
use nix::sys::signal::Signal;

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn sigterm_stops_cleanly_and_a_restart_keeps_certificate_and_database() {
    let testbox = TestBox::new();
    let mut daemon = testbox.start();
    let first = status(&testbox);
    let client = testbox.client(&daemon);
    client
        .get(daemon.url("/healthz"))
        .send()
        .await
        .expect("request");
    // The client keeps its idle connection open; the runtime has worker
    // threads so it can answer the server's GOAWAY while this thread waits.

    let asked = std::time::Instant::now();
    let exit = daemon.stop();
    assert!(
        asked.elapsed() < Duration::from_secs(4),
        "an idle client must not hold up shutdown"
    );
    assert!(exit.success(), "exit {exit}:\n{}", daemon.output());
    assert!(
        !testbox.socket_path().exists(),
        "admin socket removed at exit"
    );
    assert!(!testbox.state_dir().join(fin_proto::LISTENERS_FILE).exists());
    let stdout = daemon.output();
    assert!(stdout.contains("is ready"), "{stdout}");

    let log_files: Vec<_> = std::fs::read_dir(testbox.path().join("log"))
        .expect("log dir")
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(log_files.len(), 1, "one daily log file");
    let log = std::fs::read_to_string(log_files[0].path()).expect("log");
    assert!(
        log.contains(r#"route="/healthz""#),
        "access log line expected:\n{log}"
    );
    assert!(log.contains("stopped"), "log flushed at exit:\n{log}");

    let again = testbox.start();
    let second = status(&testbox);
    assert_ne!(first.pid, second.pid);
    assert_eq!(
        first.tls.fingerprint_sha256, second.tls.fingerprint_sha256,
        "certificate reused"
    );
    assert_eq!(first.schema, second.schema, "database kept");
    drop(again);
}

#[test]
fn sigint_stops_cleanly_too() {
    let testbox = TestBox::new();
    let mut daemon = testbox.start();
    daemon.signal(Signal::SIGINT);
    let exit = daemon.wait(Duration::from_secs(30));
    assert!(exit.success(), "exit {exit}:\n{}", daemon.output());
}

fn status(testbox: &TestBox) -> fin_proto::admin::Status {
    let output = testbox.finctl(&["status", "--json"]);
    assert!(output.status.success(), "{}", text(&output));
    serde_json::from_slice(&output.stdout).expect("status json")
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let testbox = TestBox::new().env("FIN_SERVER__HTTPS_LISTEN", &addr.to_string());
    testbox.write_config();
    let output = testbox.fin_command().output().expect("run fin");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("in use") && stderr.contains("server.https_listen"),
        "{stderr}"
    );
}

#[test]
fn a_second_daemon_on_the_same_database_is_refused() {
    let first = TestBox::new();
    let _running = first.start();
    let second = TestBox::new().env(
        "FIN_PATHS__STATE_DIR",
        &first.state_dir().display().to_string(),
    );
    second.write_config();
    let output = second.fin_command().output().expect("run fin");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in use by another process"), "{stderr}");
}

#[test]
fn readiness_and_stopping_are_reported_to_systemd() {
    let testbox = TestBox::new();
    let notify_path = testbox.path().join("notify.sock");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).expect("bind notify socket");
    notify
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let testbox = testbox.env("NOTIFY_SOCKET", &notify_path.display().to_string());
    let mut daemon = testbox.start();

    let mut buf = [0u8; 512];
    let n = notify.recv(&mut buf).expect("READY message");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("READY=1"));
    assert!(daemon.stop().success());
    let n = notify.recv(&mut buf).expect("STOPPING message");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1"));
}
