//! The rate limiter over HTTPS: headers, 429 with Retry-After, per-client keys.

use fin_e2e::TestBox;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn login_attempts_are_limited_per_client_with_standard_headers() {
    // Behind a trusted proxy, X-Forwarded-For tells clients apart.
    let testbox = TestBox::new().env("FIN_SERVER__TRUSTED_PROXIES", "127.0.0.1");
    let daemon = testbox.start();
    let client = testbox.client(&daemon);
    let login = |from: &str| {
        client
            .post(daemon.url("/api/v1/auth/login"))
            .header("x-forwarded-for", from)
            .json(&json!({"username": "nobody", "password": "wrong password here"}))
            .send()
    };

    for expected_remaining in (0..5).rev() {
        let response = login("198.51.100.1").await.expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["ratelimit-limit"], "5");
        assert_eq!(
            response.headers()["ratelimit-remaining"],
            expected_remaining.to_string().as_str()
        );
        assert!(response.headers().contains_key("ratelimit-reset"));
    }
    let refused = login("198.51.100.1").await.expect("request");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=12).contains(&retry_after), "{retry_after}");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["code"], "rate_limited");

    // Another client is not affected by the noisy one.
    assert_eq!(
        login("198.51.100.2").await.expect("request").status(),
        StatusCode::UNAUTHORIZED
    );
    // Health checks are not limited.
    for _ in 0..30 {
        assert_eq!(
            client
                .get(daemon.url("/healthz"))
                .send()
                .await
                .expect("request")
                .status(),
            StatusCode::OK
        );
    }

    let metrics = reqwest::get(format!("http://{}/metrics", daemon.metrics_addr()))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(r#"fin_rate_limited_total{class="login"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_forged_forwarded_for_from_an_untrusted_peer_changes_nothing() {
    let testbox = TestBox::new();
    let daemon = testbox.start();
    let client = testbox.client(&daemon);
    let mut last = StatusCode::OK;
    for i in 0..6 {
        last = client
            .post(daemon.url("/api/v1/auth/login"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .json(&json!({"username": "nobody", "password": "wrong password here"}))
            .send()
            .await
            .expect("request")
            .status();
    }
    assert_eq!(
        last,
        StatusCode::TOO_MANY_REQUESTS,
        "the socket peer is the key, not the header"
    );
}

#[tokio::test]
async fn a_user_spreading_requests_over_many_addresses_is_limited_too() {
    let testbox = TestBox::new()
        .env("FIN_SERVER__TRUSTED_PROXIES", "127.0.0.1")
        .env("FIN_LIMITS__API_BURST", "3")
        .env("FIN_LIMITS__API_PER_SECOND", "1");
    let daemon = testbox.start();
    let output = testbox.finctl(&["user", "add", "dora", "--random-password", "--json"]);
    assert!(output.status.success(), "{}", fin_e2e::text(&output));
    let dora: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let client = testbox.client(&daemon);
    let tokens: serde_json::Value = client
        .post(daemon.url("/api/v1/auth/login"))
        .json(&json!({"username": "dora", "password": dora["password"]}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = tokens["access_token"].as_str().expect("access");
    let mut statuses = Vec::new();
    for i in 0..5 {
        let response = client
            .get(daemon.url("/api/v1/auth/me"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"));
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 429, 429],
        "each address is new, the user is not"
    );
}
