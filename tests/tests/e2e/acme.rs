//! Certificates from a real ACME server: Pebble, started around the test run
//! by `tests/run` (through `tests/pebble/run.sh`). Skipped, with a message,
//! when Pebble is not running.

use std::time::{Duration, Instant};

use fin_e2e::{Daemon, TestBox, text};
use reqwest::StatusCode;

struct Pebble {
    directory: String,
    management: String,
    http_port: String,
    ca_pem: Vec<u8>,
}

fn pebble(test: &str) -> Option<Pebble> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let found = (|| {
        Some(Pebble {
            directory: var("FIN_PEBBLE_DIRECTORY")?,
            management: var("FIN_PEBBLE_MANAGEMENT")?,
            http_port: var("FIN_PEBBLE_HTTP_PORT")?,
            ca_pem: std::fs::read(var("FIN_PEBBLE_CA")?).ok()?,
        })
    })();
    if found.is_none() {
        eprintln!("SKIPPED {test}: no Pebble (run the tests with tests/run, which starts one)");
    }
    found
}

impl Pebble {
    /// Pebble's root for the certificates it issues (it changes every start).
    async fn issuing_root(&self) -> Vec<u8> {
        let client = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&self.ca_pem).expect("ca"))
            .build()
            .expect("client");
        client
            .get(format!("{}/roots/0", self.management))
            .send()
            .await
            .expect("roots")
            .bytes()
            .await
            .expect("bytes")
            .to_vec()
    }

    fn testbox(&self, domain: &str) -> TestBox {
        TestBox::with_config(&format!(
            "[tls]\nmode = \"acme\"\n\n[tls.acme]\ndirectory = \"{}\"\nemail = \"ops@{domain}\"\ndomains = [\"{domain}\"]\n",
            self.directory
        ))
        .env("FIN_SERVER__HTTP_LISTEN", &format!("127.0.0.1:{}", self.http_port))
    }
}

/// Polls `/readyz` (trusting any certificate) until it is 200.
async fn wait_ready(daemon: &Daemon, limit: Duration) -> serde_json::Value {
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .resolve("localhost", daemon.https_addr())
        .build()
        .expect("client");
    let started = Instant::now();
    loop {
        let response = client
            .get(daemon.url("/readyz"))
            .send()
            .await
            .expect("readyz");
        let status = response.status();
        let body: serde_json::Value = response.json().await.expect("json");
        if status == StatusCode::OK {
            return body;
        }
        assert!(
            started.elapsed() < limit,
            "not ready after {limit:?}: {body}\n{}",
            daemon.output()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A client that trusts only Pebble's issuing root and finds `domain` on the daemon.
fn trusting_pebble(root: &[u8], domain: &str, daemon: &Daemon) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(root).expect("root"))
        .resolve(domain, daemon.https_addr())
        .build()
        .expect("client")
}

/// The only test on the shared Pebble's http-01 port (others use dns-01 or a
/// Pebble of their own), so tests can run in parallel.
#[tokio::test]
async fn a_certificate_is_obtained_over_http01_served_and_reused_after_a_restart() {
    let Some(pebble) = pebble("a_certificate_is_obtained_over_http01") else {
        return;
    };
    let domain = "fin.test";
    let testbox = pebble.testbox(domain);
    let mut daemon = testbox.start();
    wait_ready(&daemon, Duration::from_secs(90)).await;

    let root = pebble.issuing_root().await;
    let url = format!("https://{domain}:{}/healthz", daemon.https_addr().port());
    let response = trusting_pebble(&root, domain, &daemon)
        .get(&url)
        .send()
        .await
        .expect("a client trusting only the CA accepts the daemon");
    assert_eq!(response.status(), StatusCode::OK);

    let output = testbox.finctl(&["status", "--json"]);
    assert!(output.status.success(), "{}", text(&output));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(status["tls"]["mode"], "acme");
    assert!(
        status["tls"]["acme"]["issued_not_after"].is_i64(),
        "{status}"
    );
    assert!(status["tls"]["acme"]["last_error"].is_null(), "{status}");
    let fingerprint = status["tls"]["fingerprint_sha256"].clone();
    let m = daemon.metrics().await;
    assert!(
        m.contains("fin_acme_orders_total{outcome=\"success\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("fin_tls_certificate_expiry_timestamp_seconds{name=\"fin.test\"}"),
        "{m}"
    );
    for file in ["acme/account.key", "acme/certs/fin.test.key"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(testbox.state_dir().join(file))
                .expect(file)
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }

    // Not due yet: renew refuses without --force; with it the new
    // certificate is swapped in while a connection opened before it stays usable.
    let output = testbox.finctl(&["cert", "renew"]);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("--force"), "{}", text(&output));
    // One pooled HTTP/1.1 connection, opened before the renewal and reused after it.
    let kept_alive = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&root).expect("root"))
        .resolve(domain, daemon.https_addr())
        .http1_only()
        .pool_max_idle_per_host(1)
        .pool_idle_timeout(Duration::from_secs(300))
        .build()
        .expect("client");
    let response = kept_alive.get(&url).send().await.expect("before renewal");
    assert_eq!(response.status(), StatusCode::OK);
    let output = testbox.finctl(&["cert", "renew", "--force"]);
    assert!(output.status.success(), "{}", text(&output));
    let started = Instant::now();
    let renewed = loop {
        let output = testbox.finctl(&["status", "--json"]);
        let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        if status["tls"]["fingerprint_sha256"] != fingerprint {
            break status["tls"]["fingerprint_sha256"].clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no new certificate: {status}\n{}",
            daemon.output()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let response = kept_alive
        .get(&url)
        .send()
        .await
        .expect("the open connection still works");
    assert_eq!(response.status(), StatusCode::OK);
    let m = daemon.metrics().await;
    assert!(
        m.contains("fin_acme_orders_total{outcome=\"success\"} 2"),
        "{m}"
    );
    let output = testbox.finctl(&["cert", "status"]);
    let shown = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        shown.contains("mode         acme") && shown.contains("last error   none"),
        "{shown}"
    );
    assert!(
        shown.contains("fin.test") && shown.contains("next renewal"),
        "{shown}"
    );
    let output = testbox.finctl(&["cert", "reload"]);
    assert!(
        !output.status.success(),
        "reload is for files mode: {}",
        text(&output)
    );
    let fingerprint = renewed;

    // A restart serves the stored certificate: no new order.
    daemon.stop();
    let daemon = testbox.start();
    wait_ready(&daemon, Duration::from_secs(30)).await;
    let response = trusting_pebble(&root, domain, &daemon)
        .get(format!(
            "https://{domain}:{}/healthz",
            daemon.https_addr().port()
        ))
        .send()
        .await
        .expect("still trusted after the restart");
    assert_eq!(response.status(), StatusCode::OK);
    let m = daemon.metrics().await;
    // The counters exist from the start, at zero: no order was made.
    assert!(
        m.contains("fin_acme_orders_total{outcome=\"success\"} 0")
            && m.contains("fin_acme_orders_total{outcome=\"failure\"} 0"),
        "no order after a restart: {m}"
    );
    let output = testbox.finctl(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(status["tls"]["fingerprint_sha256"], fingerprint);
}

#[tokio::test]
async fn an_unreachable_ca_leaves_the_box_up_not_ready_and_saying_why() {
    let Some(_pebble) = pebble("an_unreachable_ca_leaves_the_box_up") else {
        return;
    };
    let testbox = TestBox::with_config(
        "[tls]\nmode = \"acme\"\n\n[tls.acme]\ndirectory = \"https://127.0.0.1:1/dir\"\ndomains = [\"down.test\"]\n",
    );
    let daemon = testbox.start();
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .resolve("localhost", daemon.https_addr())
        .build()
        .expect("client");
    let started = Instant::now();
    loop {
        let response = client
            .get(daemon.url("/readyz"))
            .send()
            .await
            .expect("readyz");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: serde_json::Value = response.json().await.expect("json");
        let detail = body["checks"][1]["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(detail.contains("ACME"), "{body}");
        if detail.contains("failed") {
            // Anyone may read /readyz: the cause is for the operator only.
            assert!(!detail.contains("unreachable"), "{body}");
            assert!(!detail.contains("127.0.0.1"), "{body}");
            let output = testbox.finctl(&["cert", "status"]);
            assert!(
                String::from_utf8_lossy(&output.stdout).contains("unreachable"),
                "{}",
                fin_e2e::text(&output)
            );
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The temporary certificate keeps serving; the daemon did not exit.
    let response = client
        .get(daemon.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(response.status(), StatusCode::OK);
    let m = daemon.metrics().await;
    assert!(
        m.contains("fin_acme_orders_total{outcome=\"failure\"} 1"),
        "{m}"
    );
}

#[tokio::test]
async fn dns01_through_the_operators_hook() {
    let Some(pebble) = pebble("dns01_through_the_operators_hook") else {
        return;
    };
    let hook = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pebble/dns-hook.sh");
    let domain = "dns.test";
    let testbox = TestBox::with_config(&format!(
        "[tls]\nmode = \"acme\"\n\n[tls.acme]\ndirectory = \"{}\"\ndomains = [\"{domain}\"]\ndns_hook = \"{}\"\n",
        pebble.directory,
        hook.display()
    ));
    let daemon = testbox.start();
    wait_ready(&daemon, Duration::from_secs(90)).await;
    let root = pebble.issuing_root().await;
    let response = trusting_pebble(&root, domain, &daemon)
        .get(format!(
            "https://{domain}:{}/healthz",
            daemon.https_addr().port()
        ))
        .send()
        .await
        .expect("trusted");
    assert_eq!(response.status(), StatusCode::OK);
}

/// A Pebble of this test's own, so it can be taken down and brought back.
struct PrivatePebble {
    dir: tempfile::TempDir,
    script_dir: std::path::PathBuf,
    env: std::collections::HashMap<String, String>,
}

impl PrivatePebble {
    fn start() -> PrivatePebble {
        let dir = tempfile::tempdir().expect("tempdir");
        let script_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pebble");
        let mut pebble = PrivatePebble {
            dir,
            script_dir,
            env: Default::default(),
        };
        pebble.up();
        pebble
    }

    fn up(&mut self) {
        let output = std::process::Command::new(self.script_dir.join("start.sh"))
            .arg(self.dir.path())
            .output()
            .expect("start.sh");
        assert!(output.status.success(), "{}", text(&output));
        self.env = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    }

    fn down(&self) {
        let output = std::process::Command::new(self.script_dir.join("stop.sh"))
            .arg(self.dir.path())
            .output()
            .expect("stop.sh");
        assert!(output.status.success(), "{}", text(&output));
    }

    fn var(&self, name: &str) -> &str {
        self.env.get(name).map(String::as_str).expect(name)
    }
}

impl Drop for PrivatePebble {
    fn drop(&mut self) {
        self.down();
    }
}

fn acme_status(testbox: &TestBox) -> serde_json::Value {
    let output = testbox.finctl(&["status", "--json"]);
    assert!(output.status.success(), "{}", text(&output));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    status["tls"].clone()
}

#[tokio::test]
async fn a_ca_down_at_renewal_leaves_the_old_certificate_serving_until_it_is_back() {
    let Some(_shared) = pebble("a_ca_down_at_renewal") else {
        return;
    };
    let mut ca = PrivatePebble::start();
    let domain = "renew.test";
    let testbox = TestBox::with_config(&format!(
        "[tls]\nmode = \"acme\"\n\n[tls.acme]\ndirectory = \"{}\"\ndomains = [\"{domain}\"]\n",
        ca.var("FIN_PEBBLE_DIRECTORY")
    ))
    .env(
        "FIN_SERVER__HTTP_LISTEN",
        &format!("127.0.0.1:{}", ca.var("FIN_PEBBLE_HTTP_PORT")),
    )
    .env("SSL_CERT_FILE", ca.var("SSL_CERT_FILE"));
    let daemon = testbox.start();
    wait_ready(&daemon, Duration::from_secs(90)).await;
    let first = acme_status(&testbox)["fingerprint_sha256"].clone();

    ca.down();
    let output = testbox.finctl(&["cert", "renew", "--force"]);
    assert!(output.status.success(), "{}", text(&output));
    let started = Instant::now();
    loop {
        let tls = acme_status(&testbox);
        if let Some(error) = tls["acme"]["last_error"].as_str() {
            assert!(error.contains("unreachable"), "{tls}");
            assert_eq!(
                tls["fingerprint_sha256"], first,
                "the old certificate keeps serving"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no error shown: {tls}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let shown = String::from_utf8_lossy(&testbox.finctl(&["cert", "status"]).stdout).to_string();
    assert!(
        shown.contains("last error") && shown.contains("unreachable"),
        "{shown}"
    );
    let response = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .resolve(domain, daemon.https_addr())
        .build()
        .expect("client")
        .get(format!(
            "https://{domain}:{}/readyz",
            daemon.https_addr().port()
        ))
        .send()
        .await
        .expect("readyz");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a failed renewal does not make the box unready"
    );

    ca.up();
    let output = testbox.finctl(&["cert", "renew", "--force"]);
    assert!(output.status.success(), "{}", text(&output));
    let started = Instant::now();
    loop {
        let tls = acme_status(&testbox);
        if tls["fingerprint_sha256"] != first && tls["acme"]["last_error"].is_null() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no renewal: {tls}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
