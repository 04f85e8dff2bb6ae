//! TLS: protocol versions, operator certificate files and SIGHUP reload.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fin_e2e::{TestBox, text};
use nix::sys::signal::Signal;

fn openssl(args: &[&str]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl must be installed (the README's test command installs it)")
}

fn handshake(port: u16, version_flag: &str) -> std::process::Output {
    let connect = format!("127.0.0.1:{port}");
    // SECLEVEL=0 lets the client offer old protocols, so the refusal is the server's.
    openssl(&[
        "s_client",
        "-connect",
        &connect,
        "-servername",
        "localhost",
        version_flag,
        "-cipher",
        "DEFAULT@SECLEVEL=0",
    ])
}

#[test]
fn only_tls12_and_tls13_are_offered() {
    let testbox = TestBox::new();
    let daemon = testbox.start();
    let port = daemon.https_addr().port();

    let old = handshake(port, "-tls1_1");
    assert!(
        !old.status.success(),
        "TLS 1.1 must be refused:\n{}",
        text(&old)
    );

    let tls12 = handshake(port, "-tls1_2");
    assert!(tls12.status.success(), "{}", text(&tls12));
    let out = String::from_utf8_lossy(&tls12.stdout);
    assert!(out.contains("TLSv1.2"), "{out}");
    assert!(
        out.contains("GCM") || out.contains("CHACHA20"),
        "AEAD suite expected:\n{out}"
    );

    let tls13 = handshake(port, "-tls1_3");
    assert!(tls13.status.success(), "{}", text(&tls13));
    assert!(String::from_utf8_lossy(&tls13.stdout).contains("TLSv1.3"));
}

fn make_cert(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    let output = openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "30",
        "-subj",
        &format!("/CN={name}"),
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-keyout",
        key.to_str().expect("utf-8 path"),
        "-out",
        cert.to_str().expect("utf-8 path"),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    (cert, key)
}

#[tokio::test]
async fn sighup_reloads_certificate_files_without_dropping_connections() {
    let certs = tempfile::tempdir().expect("tempdir");
    let (cert_a, key_a) = make_cert(certs.path(), "first");
    let (cert_b, key_b) = make_cert(certs.path(), "second");
    let live_cert = certs.path().join("live.crt");
    let live_key = certs.path().join("live.key");
    std::fs::copy(&cert_a, &live_cert).expect("copy");
    std::fs::copy(&key_a, &live_key).expect("copy");

    let testbox = TestBox::with_config(&format!(
        "[tls]\nmode = \"files\"\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        live_cert.display(),
        live_key.display()
    ));
    let daemon = testbox.start();
    let pem_a = std::fs::read(&cert_a).expect("read");
    let pem_b = std::fs::read(&cert_b).expect("read");

    // A keep-alive connection opened before the reload (HTTP/1.1, one pooled connection).
    let before = daemon
        .client_trusting(&pem_a)
        .http1_only()
        .pool_idle_timeout(Duration::from_secs(300))
        .build()
        .expect("client");
    assert!(
        before
            .get(daemon.url("/healthz"))
            .send()
            .await
            .expect("before")
            .status()
            .is_success()
    );

    std::fs::copy(&cert_b, &live_cert).expect("copy");
    std::fs::copy(&key_b, &live_key).expect("copy");
    daemon.signal(Signal::SIGHUP);

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let fresh = daemon.client_trusting(&pem_b).build().expect("client");
        if fresh.get(daemon.url("/healthz")).send().await.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "new certificate not served:\n{}",
            daemon.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // New handshakes get the new certificate only...
    let stale = daemon.client_trusting(&pem_a).build().expect("client");
    assert!(
        stale.get(daemon.url("/healthz")).send().await.is_err(),
        "old certificate still served"
    );
    // ...while the connection opened before the reload keeps working.
    let response = before
        .get(daemon.url("/healthz"))
        .send()
        .await
        .expect("old connection survives");
    assert!(response.status().is_success());

    let status: fin_proto::admin::Status =
        serde_json::from_slice(&testbox.finctl(&["status", "--json"]).stdout).expect("status");
    assert_eq!(status.pid, daemon.pid(), "no restart");
    assert_eq!(status.tls.mode, "files");
    assert!(
        status.tls.subject.contains("second"),
        "{}",
        status.tls.subject
    );

    // `finctl cert reload` does the same on demand, and says what it loaded.
    std::fs::copy(&cert_a, &live_cert).expect("copy");
    std::fs::copy(&key_a, &live_key).expect("copy");
    let output = testbox.finctl(&["cert", "reload"]);
    assert!(output.status.success(), "{}", fin_e2e::text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("certificate reloaded"),
        "{}",
        fin_e2e::text(&output)
    );
    let status: fin_proto::admin::Status =
        serde_json::from_slice(&testbox.finctl(&["status", "--json"]).stdout).expect("status");
    assert!(
        status.tls.subject.contains("first"),
        "{}",
        status.tls.subject
    );
    // A broken file is refused and the serving certificate stays.
    std::fs::write(&live_cert, "not a certificate").expect("write");
    let output = testbox.finctl(&["cert", "reload"]);
    assert!(!output.status.success(), "{}", fin_e2e::text(&output));
    assert!(
        fin_e2e::text(&output).contains("previous certificate stays"),
        "{}",
        fin_e2e::text(&output)
    );
    let fresh = daemon.client_trusting(&pem_a).build().expect("client");
    assert!(fresh.get(daemon.url("/healthz")).send().await.is_ok());
}

#[test]
fn an_unreadable_certificate_is_one_clear_line() {
    let testbox = TestBox::with_config(
        "[tls]\nmode = \"files\"\ncert_file = \"/nonexistent/cert.pem\"\nkey_file = \"/nonexistent/key.pem\"\n",
    );
    testbox.write_config();
    let output = testbox.fin_command().output().expect("run fin");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/cert.pem"), "{stderr}");
}

#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off() {
    use std::io::Write;
    let testbox = TestBox::new().env("FIN_SERVER__HEADER_READ_TIMEOUT_SECONDS", "1");
    let daemon = testbox.start();
    let connect = format!("127.0.0.1:{}", daemon.https_addr().port());
    let mut client = Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-connect",
            &connect,
            "-servername",
            "localhost",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl");
    let mut stdin = client.stdin.take().expect("stdin");
    // Half a request, and then nothing: a slowloris client.
    stdin
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .expect("write");
    stdin.flush().expect("flush");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = client.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = client.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(stdin);
    assert!(status.is_some(), "the server kept a half-sent request open");
    // The daemon is unharmed.
    assert!(
        handshake(daemon.https_addr().port(), "-tls1_3")
            .status
            .success()
    );
}
