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

    let metrics = daemon.metrics().await;
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

#[tokio::test]
async fn behind_a_trusted_proxy_one_client_address_is_used_everywhere() {
    let api = fin_e2e::Api::start(TestBox::new().env("FIN_SERVER__TRUSTED_PROXIES", "127.0.0.1"));
    api.add_user("erin", "admin");
    let login = |password: &str| {
        api.client
            .post(api.daemon.url("/api/v1/auth/login"))
            .header("x-forwarded-for", "203.0.113.77")
            .json(&json!({"username": "erin", "password": password}))
            .send()
    };
    let refused = login("not the password at all").await.expect("request");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let tokens: serde_json::Value = login(fin_e2e::PASSWORD)
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let token = tokens["access_token"].as_str().expect("access");

    // The session, the audit trail and the fail2ban line record the client,
    // not the proxy.
    let (_, sessions) = api.get_as("/api/v1/auth/sessions", token).await;
    assert_eq!(sessions[0]["ip"], "203.0.113.77", "{sessions}");
    let (_, events) = api.get_as("/api/v1/admin/audit?user=erin", token).await;
    let failure = events
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["outcome"] == "failure")
        .expect("the failed login");
    assert_eq!(failure["ip"], "203.0.113.77", "{events}");
    assert!(
        api.daemon
            .output()
            .contains("auth failure user=erin ip=203.0.113.77"),
        "{}",
        api.daemon.output()
    );

    // A request from the proxy that forwards for nobody (no header, or only
    // proxies in it) has no known client: the fail2ban line says `ip=-`, so
    // fail2ban can never ban the proxy.
    for forwarded in [None, Some("127.0.0.1")] {
        let mut request = api
            .client
            .post(api.daemon.url("/api/v1/auth/login"))
            .json(&json!({"username": "erin", "password": "wrong again, proxy"}));
        if let Some(hops) = forwarded {
            request = request.header("x-forwarded-for", hops);
        }
        let refused = request.send().await.expect("request");
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    let output = api.daemon.output();
    assert!(
        !output.contains("auth failure user=erin ip=127.0.0.1"),
        "{output}"
    );
    assert_eq!(
        output.matches("auth failure user=erin ip=-").count(),
        2,
        "{output}"
    );
}

/// A script uploading a folder of scans in bursts: every upload gets its
/// answer (the 429 with its Retry-After, or a 401 for a bad token), none a
/// connection torn down while it was still sending its body.
#[tokio::test]
async fn refused_uploads_get_their_answer_not_a_broken_connection() {
    let api = fin_e2e::Api::start(
        TestBox::new()
            .env("FIN_LIMITS__UPLOAD_BURST", "4")
            .env("FIN_LIMITS__UPLOAD_PER_SECOND", "1"),
    );
    api.add_user("fay", "user");
    let token = api.login("fay").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    // HTTP/1.1, as Python's standard client speaks it.
    let client = api
        .daemon
        .client_trusting(&api.testbox.self_signed_cert())
        .http1_only()
        .build()
        .expect("client");
    let scan: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let burst = |tokens: Vec<String>| {
        let uploads = tokens.into_iter().map(|token| {
            let request = client
                .post(api.daemon.url("/api/v1/receipts"))
                .header("content-type", "image/png")
                .bearer_auth(token)
                .body(scan.clone());
            async move { request.send().await.map(|r| r.status().as_u16()) }
        });
        async move {
            futures_util::future::join_all(uploads)
                .await
                .into_iter()
                .map(|a| a.unwrap_or_else(|e| panic!("connection broken: {e:?}")))
                .collect::<Vec<u16>>()
        }
    };
    // Refused by the login check, before the body is read.
    assert_eq!(burst(vec!["not-a-token".into(); 2]).await, [401, 401]);
    // Refused by the rate limiter, before the body is read.
    let statuses = burst(vec![token.clone(); 14]).await;
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [415, 429].contains(s)),
        "{statuses:?}"
    );
}

/// Hundreds of concurrent logins from as many addresses: password hashing
/// (19 MiB each) runs a few at a time, the rest are refused as busy with
/// `Retry-After`, and the daemon's memory stays bounded.
#[tokio::test]
async fn a_login_flood_is_refused_as_busy_and_memory_stays_bounded() {
    let testbox = TestBox::new()
        .env("FIN_SERVER__TRUSTED_PROXIES", "127.0.0.1")
        .env("FIN_LIMITS__LOGIN_BURST", "1000");
    let daemon = testbox.start();
    let client = testbox.client(&daemon);
    // The daemon hashes one per core with four per core queued: send well
    // over that, and allow memory for what may run and wait at once.
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let flood = 200.max(cores * 20);
    let logins = (0..flood).map(|i| {
        let request = client
            .post(daemon.url("/api/v1/auth/login"))
            .header(
                "x-forwarded-for",
                format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256),
            )
            .json(&json!({"username": format!("nobody{i}"), "password": "some password here"}));
        async move {
            let response = request.send().await.expect("request");
            let retry_after = response.headers().get("retry-after").cloned();
            (response.status(), retry_after)
        }
    });
    let answers = futures_util::future::join_all(logins).await;
    let busy: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(
        answers
            .iter()
            .all(|(status, _)| [401, 503].contains(&status.as_u16())),
        "{answers:?}"
    );
    assert!(
        !busy.is_empty(),
        "some logins wait for a slot, the rest are told to come back"
    );
    assert!(busy.iter().all(|(_, retry)| retry.is_some()), "{busy:?}");

    // Peak memory: unbounded, 200 hashes at 19 MiB each took gigabytes.
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.pid())).expect("status");
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    let allowed_kib = 600 * 1024 + cores as u64 * 5 * 20 * 1024;
    assert!(peak_kib < allowed_kib, "peak memory {peak_kib} KiB");

    // Once the flood is over, logins are checked again.
    let response = client
        .post(daemon.url("/api/v1/auth/login"))
        .json(&json!({"username": "nobody", "password": "some password here"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
