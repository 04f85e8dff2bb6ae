//! The HTTPS API basics: health, problems, headers, metrics, OpenAPI, redirect.

use fin_e2e::TestBox;
use reqwest::{StatusCode, Version};

const PROBLEM_JSON: &str = "application/problem+json";

#[tokio::test]
async fn healthz_answers_over_h2_and_http11_with_security_headers() {
    let testbox = TestBox::new();
    let daemon = testbox.start();
    let cert = testbox.self_signed_cert();

    let h2 = daemon.client_trusting(&cert).build().expect("client");
    let response = h2
        .get(daemon.url("/healthz"))
        .send()
        .await
        .expect("h2 request");
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert!(
        headers["strict-transport-security"]
            .to_str()
            .expect("hsts")
            .contains("max-age=")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("frame-ancestors 'none'")
    );
    assert!(headers.contains_key("referrer-policy"));

    let h1 = daemon
        .client_trusting(&cert)
        .http1_only()
        .build()
        .expect("client");
    let response = h1
        .get(daemon.url("/healthz"))
        .send()
        .await
        .expect("http/1.1 request");
    assert_eq!(response.version(), Version::HTTP_11);
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_is_refused() {
    let testbox = TestBox::new();
    let daemon = testbox.start();
    let stranger = TestBox::new();
    let other = stranger.start();
    let wrong_cert = stranger.self_signed_cert();
    drop(other);
    let client = daemon.client_trusting(&wrong_cert).build().expect("client");
    let err = client
        .get(daemon.url("/healthz"))
        .send()
        .await
        .expect_err("must not trust");
    assert!(err.is_connect() || err.is_request(), "{err:?}");
}

#[tokio::test]
async fn readyz_reports_database_tls_and_ocr_models() {
    let testbox = TestBox::new();
    let daemon = testbox.start();
    let client = testbox.client(&daemon);
    let response = client
        .get(daemon.url("/readyz"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["ready"], true);
    let names: Vec<&str> = body["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["database", "tls", "ocr"]);
    let ocr = &body["checks"][2];
    assert!(
        ocr["detail"].as_str().is_some_and(
            |d| d.contains("text-detection.onnx") && d.contains("text-recognition.onnx")
        ),
        "{body}"
    );
}

#[tokio::test]
async fn errors_are_problem_json_with_stable_codes() {
    let testbox = TestBox::new();
    let daemon = testbox.start();
    let client = testbox.client(&daemon);

    let cases = [
        (client.get(daemon.url("/no/such/thing")), 404, "not_found"),
        (
            client.delete(daemon.url("/healthz")),
            405,
            "method_not_allowed",
        ),
        (
            client
                .post(daemon.url("/healthz"))
                .body(vec![b'x'; 2 * 1024 * 1024]),
            413,
            "payload_too_large",
        ),
    ];
    for (request, status, code) in cases {
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["content-type"], PROBLEM_JSON);
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["code"], code);
        assert_eq!(body["status"], status);
        assert!(
            body["title"].is_string() && body["type"].is_string(),
            "{body}"
        );
    }

    // A streamed body without Content-Length is cut off at the same limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b'y'; 64 * 1024])).collect();
    let stream = futures_util::stream::iter(chunks);
    let response = client
        .post(daemon.url("/healthz"))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("request");
    assert!(response.status().is_client_error(), "{}", response.status());
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_not_raw_path() {
    let testbox = TestBox::new();
    let daemon = testbox.start();
    let client = testbox.client(&daemon);
    for _ in 0..3 {
        client
            .get(daemon.url("/healthz"))
            .send()
            .await
            .expect("request");
    }
    client
        .get(daemon.url("/secret-looking/path/12345"))
        .send()
        .await
        .expect("request");

    let text = daemon.metrics().await;
    assert!(
        text.contains(r#"fin_http_requests_total{method="GET",route="/healthz",status="200"} 3"#),
        "{text}"
    );
    assert!(text.contains(r#"route="unmatched",status="404""#), "{text}");
    assert!(!text.contains("12345"), "raw paths must not become labels");
    assert!(
        text.contains("fin_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("fin_build_info{version="), "{text}");
    assert!(text.contains("process_resident_memory_bytes"), "{text}");
}

#[tokio::test]
async fn every_documented_path_exists() {
    let testbox = TestBox::new();
    let daemon = testbox.start();
    let client = testbox.client(&daemon);
    let doc: serde_json::Value = client
        .get(daemon.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/healthz") && paths.contains_key("/readyz"));
    for (path, methods) in paths {
        if methods.get("get").is_some() && !path.contains('{') {
            let status = client
                .get(daemon.url(path))
                .send()
                .await
                .expect("request")
                .status();
            assert_ne!(
                status,
                StatusCode::NOT_FOUND,
                "{path} is documented but not served"
            );
        }
    }
}

#[tokio::test]
async fn plain_http_redirects_to_the_same_host_and_path_over_https() {
    let testbox = TestBox::new();
    let daemon = testbox.start();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let port = daemon.http_addr().port();
    let response = client
        .post(format!("http://localhost:{port}/api/v1/things?page=2"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        response.headers()["location"],
        format!(
            "https://localhost:{}/api/v1/things?page=2",
            daemon.https_addr().port()
        )
        .as_str()
    );

    // A forged Host is not reflected: the client goes to a configured name.
    let response = client
        .get(format!("http://127.0.0.1:{port}/login"))
        .header("host", "evil.example")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        response.headers()["location"],
        format!("https://localhost:{}/login", daemon.https_addr().port()).as_str()
    );
}

#[tokio::test]
async fn cors_answers_listed_origins_only() {
    let testbox = TestBox::new().env("FIN_SERVER__CORS_ORIGINS", "https://app.example.org");
    let daemon = testbox.start();
    let client = testbox.client(&daemon);
    let preflight = |origin: &str| {
        client
            .request(reqwest::Method::OPTIONS, daemon.url("/api/v1/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://app.example.org").await.expect("request");
    assert_eq!(allowed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    assert!(
        allowed.headers()["access-control-allow-methods"]
            .to_str()
            .expect("methods")
            .contains("POST")
    );
    assert!(
        allowed.headers()["access-control-allow-headers"]
            .to_str()
            .expect("headers")
            .contains("authorization")
    );

    let refused = preflight("https://evil.example").await.expect("request");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(refused.headers()["content-type"], PROBLEM_JSON);
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );

    let simple = client
        .get(daemon.url("/healthz"))
        .header("origin", "https://app.example.org")
        .send()
        .await
        .expect("request");
    assert_eq!(
        simple.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    let other = client
        .get(daemon.url("/healthz"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("request");
    assert_eq!(other.status(), StatusCode::OK);
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}
