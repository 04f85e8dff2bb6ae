//! The OpenAPI document against the live daemon: schemathesis (from PyPI,
//! installed by `tests/deps`) generates requests from the document, valid
//! and invalid, and checks every answer against it (statuses, content
//! types, headers, schemas, that invalid input is refused and valid input
//! taken, `Allow` on 405), signed in as a user and as an admin.

use std::path::PathBuf;
use std::process::Command;

use fin_e2e::{Api, TestBox, text};

/// Where `tests/deps` puts schemathesis, unless `FIN_SCHEMATHESIS` names it.
fn schemathesis() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FIN_SCHEMATHESIS") {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "FIN_SCHEMATHESIS={} does not exist",
            path.display()
        );
        return Some(path);
    }
    let default =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/schemathesis/bin/schemathesis");
    default.exists().then_some(default)
}

#[tokio::test]
async fn generated_requests_find_nothing_the_document_does_not_say() {
    let Some(schemathesis) = schemathesis() else {
        eprintln!("SKIPPED: schemathesis is not installed; run tests/deps (or tests/run)");
        return;
    };
    // Generous limits and lockout, so that the run tests the API rather than
    // the rate limiter; idle connections stay open for the slow argon2 calls.
    let mut api = Api::start(
        TestBox::with_config(
            r#"
[limits]
login_per_minute = 100000
login_burst = 100000
upload_per_second = 10000
upload_burst = 10000
api_per_second = 100000
api_burst = 100000

[auth]
lockout_attempts = 1000
access_token_minutes = 60
"#,
        )
        .env("FIN_SERVER__HEADER_READ_TIMEOUT_SECONDS", "300"),
    );
    api.add_user("alice", "user");
    api.add_user("root", "admin");
    let document = api.testbox.path().join("openapi.json");
    let response = api
        .client
        .get(api.daemon.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("document");
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.expect("document body");
    std::fs::write(&document, &body).expect("write document");
    let certificate = api.testbox.state_dir().join("tls/self-signed.crt");
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemathesis.toml");

    // One seed, so that a failure can be run again as it was (set
    // FIN_SCHEMATHESIS_SEED to explore other inputs).
    let seed = std::env::var("FIN_SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261130".into());
    for name in ["alice", "root"] {
        let token = api.sign_in(name).await;
        // Ending one's own session is tested last: it ends the run's login.
        let runs: [&[&str]; 2] = [
            &[
                "--exclude-path",
                "/api/v1/auth/logout",
                "--exclude-path",
                "/api/v1/auth/sessions/{id}",
            ],
            &[
                "--include-path",
                "/api/v1/auth/sessions/{id}",
                "--include-path",
                "/api/v1/auth/logout",
            ],
        ];
        for (run, selection) in runs.into_iter().enumerate() {
            let output = Command::new(&schemathesis)
                .arg("--config-file")
                .arg(&config)
                .arg("run")
                .arg(&document)
                .args(["--url", &api.daemon.url("")])
                .arg("--tls-verify")
                .arg(&certificate)
                .args(["--header", &format!("Authorization: Bearer {token}")])
                .args(["--checks", "all", "--max-examples", "25"])
                .args(["--seed", &seed, "--workers", "1"])
                .args(selection)
                .env("NO_COLOR", "1")
                // Its cache of found crashes stays in the box, out of the tree.
                .current_dir(api.testbox.path())
                .output()
                .expect("run schemathesis");
            assert!(
                output.status.success(),
                "schemathesis (seed {seed}) found failures as {name}:\n{}",
                text(&output)
            );
            // The run tested the API signed in to the end: it could not
            // lock its own account (an admin cannot demote, disable,
            // delete or reset themselves), so no answer was a 401 by default.
            if run == 0 {
                let (status, me) = api.me(&token).await;
                assert_eq!(status, 200, "{name} still signed in after the run: {me}");
            }
        }
    }
}
