//! Log in, refresh, log out, and hostile tokens, over HTTPS.

use fin_e2e::{Api, PASSWORD, TestBox, text};
use reqwest::Method;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A started box with `alice` of `role`.
fn api_with_user(role: &str) -> Api {
    // These tests log in more often than the default login limit allows.
    let api = Api::start(TestBox::new().env("FIN_LIMITS__LOGIN_BURST", "100"));
    api.add_user("alice", role);
    api
}

#[tokio::test]
async fn login_me_refresh_logout() {
    let api = api_with_user("admin");
    let tokens = api.login("Alice").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let access = tokens["access_token"].as_str().expect("access");

    let (status, me) = api.me(access).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["username"], "alice");
    assert_eq!(me["role"], "admin");

    let (status, renewed) = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    assert_ne!(
        renewed["refresh_token"], tokens["refresh_token"],
        "the refresh token rotates"
    );
    let new_access = renewed["access_token"].as_str().expect("access");
    assert_eq!(api.me(new_access).await.0, StatusCode::OK);

    let response = api
        .send(Method::POST, "/api/v1/auth/logout", Some(new_access), None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api.me(new_access).await.0,
        StatusCode::UNAUTHORIZED,
        "access token dead at once"
    );
    assert_eq!(
        api.me(access).await.0,
        StatusCode::UNAUTHORIZED,
        "older access token too"
    );
    let (status, _) = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": renewed["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "refresh token dead too");
}

#[tokio::test]
async fn reusing_a_refresh_token_ends_the_whole_session() {
    let api = api_with_user("user");
    let tokens = api.login("Alice").await;
    let (status, renewed) = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The first refresh token again: someone copied it.
    let (status, problem) = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem["code"], "refresh_token_reused");

    // The legitimate holder's newer tokens are revoked with the family.
    let (status, _) = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": renewed["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.me(renewed["access_token"].as_str().expect("access"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let api = api_with_user("user");
    let (status_a, wrong) = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "alice", "password": "not the password!"}),
        )
        .await;
    let (status_b, unknown) = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "mallory", "password": "not the password!"}),
        )
        .await;
    assert_eq!(status_a, StatusCode::UNAUTHORIZED);
    assert_eq!(status_b, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["code"], "invalid_credentials");
    let log = api.daemon.output();
    assert!(
        log.contains("auth failure user=alice ip=127.0.0.1"),
        "fail2ban-friendly line:\n{log}"
    );
    assert!(
        !log.contains("not the password"),
        "passwords never reach the log"
    );
}

#[tokio::test]
async fn hostile_tokens_and_bodies_get_precise_4xx() {
    let api = api_with_user("user");
    let access = api.login("Alice").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    let mut parts: Vec<String> = access.split('.').map(String::from).collect();
    parts[2] = parts[2].chars().rev().collect();
    let forged = parts.join(".");

    for (name, token) in [
        ("forged", forged.as_str()),
        ("truncated", &access[..access.len() - 10]),
        ("garbage", "garbage"),
        (
            "alg none",
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.",
        ),
    ] {
        let (status, body) = api.me(token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(body["code"], "unauthorized", "{name}");
    }
    let response = api
        .client
        .get(api.daemon.url("/api/v1/auth/me"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .expect("header")
            .starts_with("Bearer")
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    let url = api.daemon.url("/api/v1/auth/login");
    let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
        (
            api.client
                .post(&url)
                .header("content-type", "application/json")
                .body("{not json"),
            400,
        ),
        (
            api.client.post(&url).json(&json!({"username": "alice"})),
            400,
        ),
        (
            api.client
                .post(&url)
                .json(&json!({"username": "alice", "password": "x", "extra": 1})),
            400,
        ),
        (
            api.client
                .post(&url)
                .header("content-type", "text/plain")
                .body("{}"),
            415,
        ),
        (
            api.client
                .post(&url)
                .json(&json!({"username": "a".repeat(50_000), "password": "x"})),
            401,
        ),
        (
            api.client
                .post(&url)
                .json(&json!({"username": "\u{202e}\u{0000}💣", "password": "\u{fffd}"})),
            401,
        ),
        (
            api.client
                .post(&url)
                .header("content-type", "application/json")
                .body(vec![b' '; 10 * 1024 * 1024]),
            413,
        ),
    ];
    for (request, expected) in cases {
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_u16(), expected);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    assert!(api.testbox.state_dir().exists());
}

#[tokio::test]
async fn repeated_failures_lock_the_account_until_an_admin_unlocks_it() {
    let api = api_with_user("user");
    for _ in 0..5 {
        let (status, _) = api
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "alice", "password": "not the password!"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is refused, with the same answer.
    let (status, body) = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "invalid_credentials");
    assert!(
        api.daemon
            .output()
            .contains("auth lockout user=alice ip=127.0.0.1")
    );
    let listed = api.testbox.finctl(&["user", "list", "--json"]);
    let users: Vec<fin_proto::admin::User> = serde_json::from_slice(&listed.stdout).expect("json");
    assert!(users[0].locked_until.is_some(), "finctl shows the lock");

    let output = api.testbox.finctl(&["user", "unlock", "Alice"]);
    assert!(output.status.success(), "{}", text(&output));
    api.login("Alice").await;

    let output = api.testbox.finctl(&["user", "unlock", "nobody"]);
    assert_eq!(output.status.code(), Some(5), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no user nobody"));
}

/// A burst of concurrent wrong guesses with the right password sent just
/// after them: every guess takes its number in the run before its password
/// is hashed, so the right one, past the allowed tries, is never accepted
/// (before, all read "not locked" before any failure was counted).
#[tokio::test]
async fn a_burst_of_guesses_gets_no_more_tries_than_the_lockout_allows() {
    // Two tries per run: the right password would have to overtake all but
    // one of the guesses sent before it to be checked at all.
    let api = Api::start(
        TestBox::new()
            .env("FIN_LIMITS__LOGIN_BURST", "100")
            .env("FIN_AUTH__LOCKOUT_ATTEMPTS", "2"),
    );
    api.add_user("alice", "user");
    let url = api.daemon.url("/api/v1/auth/login");
    // One connection, open before the burst, so the guesses go out at once.
    let warm = api.client.get(api.daemon.url("/healthz")).send().await;
    assert_eq!(warm.expect("healthz").status(), StatusCode::OK);
    // Each core hashes one password and queues four; more would only be
    // told "busy" (and a busy attempt is not counted).
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let wrong = (cores * 5).clamp(6, 9);
    let guesses = (0..wrong).map(|i| {
        let request = api
            .client
            .post(&url)
            .json(&json!({"username": "alice", "password": format!("wrong guess {i}")}));
        async move { request.send().await.expect("guess").status() }
    });
    let right = async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        api.client
            .post(&url)
            .json(&json!({"username": "alice", "password": PASSWORD}))
            .send()
            .await
            .expect("right")
            .status()
    };
    let (statuses, right) = tokio::join!(futures_util::future::join_all(guesses), right);
    assert!(
        statuses
            .iter()
            .all(|s| [StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE].contains(s)),
        "{statuses:?}"
    );
    assert_ne!(
        right,
        StatusCode::OK,
        "the right password came after {wrong} wrong ones in one burst"
    );
    // The run locked the account: the right password alone is refused too.
    let (status, _) = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(api.daemon.output().contains("auth lockout user=alice"));
}

/// The `kid` in a JWT's header.
fn key_id(token: &str) -> String {
    segment_json(token, 0)["kid"]
        .as_str()
        .expect("kid")
        .to_string()
}

/// A JWT segment (0 header, 1 claims) as JSON.
fn segment_json(token: &str, index: usize) -> Value {
    let header = token.split('.').nth(index).expect("segment");
    let mut bits = 0u32;
    let mut n = 0;
    let mut bytes = Vec::new();
    for c in header.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            _ => 63,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            bytes.push((bits >> n) as u8);
        }
    }
    serde_json::from_slice(&bytes).expect("segment json")
}

#[tokio::test]
async fn rotating_the_signing_secret_keeps_issued_tokens_valid() {
    let mut api = api_with_user("user");
    let before = api.login("Alice").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();

    let output = api.testbox.finctl(&["secrets", "rotate-jwt", "--json"]);
    assert!(output.status.success(), "{}", text(&output));
    let rotated: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(rotated["previous_valid_for_seconds"], 930);
    let after = api.login("Alice").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    assert_eq!(key_id(&after), rotated["kid"].as_str().expect("kid"));
    assert_ne!(key_id(&after), key_id(&before));

    assert_eq!(
        api.me(&before).await.0,
        StatusCode::OK,
        "old token valid during the grace period"
    );
    assert_eq!(api.me(&after).await.0, StatusCode::OK);

    // The grace period survives a restart.
    assert!(api.daemon.stop().success());
    api.daemon = api.testbox.start();
    assert_eq!(api.me(&before).await.0, StatusCode::OK);
    let secrets = api.testbox.state_dir().join("secrets");
    for file in ["jwt.key", "jwt.previous"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(secrets.join(file))
            .expect(file)
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
}

#[tokio::test]
async fn operators_manage_accounts_and_changes_apply_at_once() {
    let api = api_with_user("user");
    let finctl = |args: &[&str]| {
        let output = api.testbox.finctl(args);
        assert!(output.status.success(), "{}", text(&output));
        output
    };
    let access = api.login("Alice").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();

    let shown: fin_proto::admin::User =
        serde_json::from_slice(&finctl(&["user", "show", "alice", "--json"]).stdout).expect("json");
    assert_eq!(shown.role, "user");
    assert!(shown.last_login_at.is_some());

    finctl(&["user", "set-role", "alice", "guest"]);
    assert_eq!(
        api.me(&access).await.1["role"],
        "guest",
        "the role applies to live tokens"
    );

    finctl(&["user", "disable", "alice"]);
    assert_eq!(
        api.me(&access).await.0,
        StatusCode::UNAUTHORIZED,
        "a disabled user is cut off at once"
    );
    let (status, _) = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    finctl(&["user", "enable", "alice"]);
    assert_eq!(
        api.me(&access).await.0,
        StatusCode::UNAUTHORIZED,
        "enabling does not revive the sessions disabling ended"
    );
    let access = api.login("alice").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    assert_eq!(api.me(&access).await.0, StatusCode::OK);

    let output = finctl(&[
        "user",
        "reset-password",
        "alice",
        "--random-password",
        "--json",
    ]);
    let text_out = String::from_utf8_lossy(&output.stdout);
    let new_password: Value =
        serde_json::from_str(text_out.lines().last().expect("line")).expect("json");
    let new_password = new_password["password"]
        .as_str()
        .expect("password")
        .to_string();
    assert_eq!(
        api.me(&access).await.0,
        StatusCode::UNAUTHORIZED,
        "a reset ends the sessions"
    );
    let (status, _) = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "alice", "password": new_password}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let refused = api.testbox.finctl(&["user", "delete", "alice"]);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "no --yes and no terminal: nothing deleted"
    );
    finctl(&["user", "delete", "alice", "--yes"]);
    let missing = api.testbox.finctl(&["user", "show", "alice"]);
    assert_eq!(missing.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user alice"));
}

#[tokio::test]
async fn sessions_are_listed_ended_and_isolated_between_users() {
    let api = api_with_user("user");
    let add_bob = api.testbox.finctl_with_stdin(
        &["user", "add", "bob", "--password-stdin"],
        "another fine passphrase 77\n",
    );
    assert!(add_bob.status.success(), "{}", text(&add_bob));

    let first = api.login("Alice").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    let second = api.login("Alice").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    let (status, bob_tokens) = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "bob", "password": "another fine passphrase 77"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let bob = bob_tokens["access_token"]
        .as_str()
        .expect("access")
        .to_string();

    let list = |token: String| {
        let client = api.client.clone();
        let url = api.daemon.url("/api/v1/auth/sessions");
        async move {
            let response = client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Vec<Value>>().await.expect("json")
        }
    };
    let alice_sessions = list(second.clone()).await;
    assert_eq!(alice_sessions.len(), 2);
    assert_eq!(
        alice_sessions
            .iter()
            .filter(|s| s["current"] == true)
            .count(),
        1
    );
    let bob_sessions = list(bob.clone()).await;
    assert_eq!(bob_sessions.len(), 1, "bob sees only his own");

    // Bob cannot end Alice's session: it does not exist for him.
    let alice_first = alice_sessions
        .iter()
        .find(|s| s["current"] == false)
        .expect("other session");
    let url = api.daemon.url(&format!(
        "/api/v1/auth/sessions/{}",
        alice_first["id"].as_str().expect("id")
    ));
    let response = api
        .client
        .delete(&url)
        .bearer_auth(&bob)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(api.me(&first).await.0, StatusCode::OK);

    // Alice can.
    let response = api
        .client
        .delete(&url)
        .bearer_auth(&second)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(api.me(&first).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(api.me(&second).await.0, StatusCode::OK);

    // Changing the password needs the current one, ends the other sessions
    // and revokes the API keys (one made with a stolen login dies with it).
    let third = api.login("Alice").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    let (status, key) = api
        .post(
            "/api/v1/api-keys",
            Some(&third),
            &json!({"name": "made by a thief", "scopes": ["read"], "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let key = key["key"].as_str().expect("key").to_string();
    assert_eq!(api.me(&key).await.0, StatusCode::OK);
    let change = |current: &str, new: &str| {
        api.client
            .post(api.daemon.url("/api/v1/auth/password"))
            .bearer_auth(&second)
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
    };
    assert_eq!(
        change("wrong", "brand new passphrase 2026")
            .await
            .expect("request")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        change(PASSWORD, "short").await.expect("request").status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        change(PASSWORD, "brand new passphrase 2026")
            .await
            .expect("request")
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.me(&second).await.0,
        StatusCode::OK,
        "the session that changed it lives on"
    );
    assert_eq!(
        api.me(&third).await.0,
        StatusCode::UNAUTHORIZED,
        "the others end"
    );
    assert_eq!(
        api.me(&key).await.0,
        StatusCode::UNAUTHORIZED,
        "the API keys are revoked"
    );
    assert_eq!(
        api.me(&bob).await.0,
        StatusCode::OK,
        "other users are untouched"
    );
    let (status, _) = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "alice", "password": "brand new passphrase 2026"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn security_events_reach_the_audit_trail_for_admins_only() {
    let api = api_with_user("admin");
    let (status, _) = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "alice", "password": "not the password!"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let admin = api.login("Alice").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    let output = api.testbox.finctl(&[
        "user",
        "add",
        "guest1",
        "--role",
        "guest",
        "--random-password",
        "--json",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let guest: Value = serde_json::from_slice(&output.stdout).expect("json");
    let guest_password = guest["password"].as_str().expect("password").to_string();
    let output = api.testbox.finctl(&["secrets", "rotate-jwt"]);
    assert!(output.status.success(), "{}", text(&output));

    let response = api
        .send(
            Method::GET,
            "/api/v1/admin/audit?limit=50",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let events: Vec<Value> = response.json().await.expect("json");
    let summary: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["actor"].as_str().unwrap_or("-").to_string(),
                e["outcome"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let has =
        |action: &str, outcome: &str| summary.iter().any(|(a, _, o)| a == action && o == outcome);
    assert!(has("login", "failure"), "{summary:?}");
    assert!(has("login", "success"), "{summary:?}");
    assert!(has("user.create", "success"), "{summary:?}");
    assert!(has("secrets.rotate_jwt", "success"), "{summary:?}");
    assert_eq!(summary[0].0, "secrets.rotate_jwt", "newest first");
    assert!(
        summary
            .iter()
            .any(|(a, actor, _)| a == "user.create" && actor.starts_with("operator uid="))
    );
    let failure = events
        .iter()
        .find(|e| e["outcome"] == "failure")
        .expect("failure");
    assert_eq!(failure["ip"], "127.0.0.1");

    let response = api
        .send(
            Method::GET,
            "/api/v1/admin/audit?user=guest1",
            Some(&admin),
            None,
        )
        .await;
    let events: Vec<Value> = response.json().await.expect("json");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["target"], "guest1");

    let (status, tokens) = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "guest1", "password": guest_password}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let response = api
        .client
        .get(api.daemon.url("/api/v1/admin/audit"))
        .bearer_auth(tokens["access_token"].as_str().expect("access"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = api
        .send(
            Method::GET,
            "/api/v1/admin/audit?limit=lots",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let output = api
        .testbox
        .finctl(&["audit", "--since", "1h", "--user", "alice"]);
    assert!(output.status.success(), "{}", text(&output));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("login") && table.contains("failure") && !table.contains("guest1"),
        "{table}"
    );
}

#[tokio::test]
async fn api_keys_work_as_bearer_tokens_within_their_scopes() {
    let api = api_with_user("user");
    let session = api.login("Alice").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    let create = |scopes: Value, token: String| {
        api.client
            .post(api.daemon.url("/api/v1/api-keys"))
            .bearer_auth(token)
            .json(&json!({"name": "backup script", "scopes": scopes, "expires_in_days": 30, "password": PASSWORD}))
            .send()
    };
    // A stolen access token alone makes no key: the password is asked again.
    let (status, refused) = api
        .post(
            "/api/v1/api-keys",
            Some(&session),
            &json!({"name": "thief", "scopes": ["read"], "password": "not the password!"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");
    let response = create(json!(["read"]), session.clone())
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let created: Value = response.json().await.expect("json");
    let key = created["key"].as_str().expect("key").to_string();
    assert!(key.starts_with(&format!("fin_{}_", created["id"].as_str().expect("id"))));

    // A read key reads...
    let (status, me) = api.me(&key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "alice");
    // ...but does not write, and cannot manage keys or log out.
    let response = create(json!(["read"]), key.clone()).await.expect("request");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["code"], "insufficient_scope");
    let write_key = create(json!(["write", "read"]), session.clone())
        .await
        .expect("request");
    let write_key: Value = write_key.json().await.expect("json");
    let write_key = write_key["key"].as_str().expect("key").to_string();
    let response = api
        .send(Method::POST, "/api/v1/auth/logout", Some(&write_key), None)
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Listing shows no secrets and records use.
    let response = api
        .send(Method::GET, "/api/v1/api-keys", Some(&session), None)
        .await;
    let listed: Vec<Value> = response.json().await.expect("json");
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|k| k.get("key").is_none() && k.get("secret_hash").is_none())
    );
    let read = listed
        .iter()
        .find(|k| k["scopes"] == json!(["read"]))
        .expect("read key");
    assert!(read["last_used_at"].is_i64(), "last use recorded: {read}");

    // Bad requests are precise.
    let response = create(json!(["admin"]), session.clone())
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Forged, unknown and revoked keys are refused.
    assert_eq!(api.me(&format!("{key}x")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.me("fin_0000000000000000_nothing").await.0,
        StatusCode::UNAUTHORIZED
    );
    let url = api.daemon.url(&format!(
        "/api/v1/api-keys/{}",
        created["id"].as_str().expect("id")
    ));
    let response = api
        .client
        .delete(&url)
        .bearer_auth(&session)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api.me(&key).await.0,
        StatusCode::UNAUTHORIZED,
        "revoked at once"
    );
    let response = api
        .client
        .delete(&url)
        .bearer_auth(&session)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // A disabled user's keys stop working too.
    assert_eq!(api.me(&write_key).await.0, StatusCode::OK);
    let output = api.testbox.finctl(&["user", "disable", "alice"]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(api.me(&write_key).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn admins_manage_accounts_over_https_and_others_cannot() {
    let api = api_with_user("admin");
    let admin = api.login("Alice").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    let url = |path: &str| api.daemon.url(path);

    let response = api
        .client
        .post(url("/api/v1/admin/users"))
        .bearer_auth(&admin)
        .json(
            &json!({"username": "carol", "role": "user", "password": "another fine passphrase 77"}),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);
    let duplicate = api
        .client
        .post(url("/api/v1/admin/users"))
        .bearer_auth(&admin)
        .json(
            &json!({"username": "Carol", "role": "user", "password": "another fine passphrase 77"}),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);

    let (status, carol) = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "carol", "password": "another fine passphrase 77"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let carol = carol["access_token"].as_str().expect("access").to_string();
    let response = api
        .client
        .get(url("/api/v1/admin/users"))
        .bearer_auth(&carol)
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "users are not admins"
    );

    let response = api
        .client
        .post(url("/api/v1/admin/users/carol/role"))
        .bearer_auth(&admin)
        .json(&json!({"role": "guest"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(api.me(&carol).await.1["role"], "guest");
    let response = api
        .client
        .post(url("/api/v1/admin/users/carol/disable"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(api.me(&carol).await.0, StatusCode::UNAUTHORIZED);
    let response = api
        .client
        .get(url("/api/v1/admin/users"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("request");
    let users: Vec<Value> = response.json().await.expect("json");
    let listed = users
        .iter()
        .find(|u| u["username"] == "carol")
        .expect("carol");
    assert_eq!(listed["disabled"], true);
    // Enabling the account again does not bring its sessions back.
    let (status, _) = api
        .call(
            Method::POST,
            "/api/v1/admin/users/carol/enable",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(api.me(&carol).await.0, StatusCode::UNAUTHORIZED);
    let response = api
        .client
        .delete(url("/api/v1/admin/users/carol"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = api
        .client
        .get(url("/api/v1/admin/users/carol"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // An admin cannot lock themself out, nor take their own account over
    // without its password: their own password is changed where the
    // current one is asked for.
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/admin/users/alice/role",
            Some(json!({"role": "user"})),
        ),
        (Method::POST, "/api/v1/admin/users/alice/disable", None),
        // Another spelling of one's own name is still one's own account.
        (Method::POST, "/api/v1/admin/users/ALICE/disable", None),
        (
            Method::POST,
            "/api/v1/admin/users/alice/password",
            Some(json!({"password": "a brand new passphrase 99"})),
        ),
        (Method::DELETE, "/api/v1/admin/users/alice", None),
    ] {
        let (status, problem) = api.call(method, path, Some(&admin), body.as_ref()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {problem}");
    }
    let (_, me) = api.me(&admin).await;
    assert_eq!(me["role"], "admin");

    // Account management needs a login session: an API key, even an
    // admin's with every scope, is refused.
    let (status, key) = api
        .post(
            "/api/v1/api-keys",
            Some(&admin),
            &json!({"name": "ops script", "scopes": ["read", "write"], "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let key = key["key"].as_str().expect("key");
    let (status, problem) = api.get_as("/api/v1/admin/users", key).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert_eq!(problem["code"], "session_required");
}

/// Tokens signed with the box's real secret but with bad claims or another
/// algorithm: each must be refused with 401 problem+json.
#[tokio::test]
async fn tokens_with_bad_claims_or_algorithms_are_refused_even_when_signed_with_the_real_key() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};

    let api = api_with_user("user");
    let good = api.login("Alice").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    assert_eq!(api.me(&good).await.0, StatusCode::OK);

    let header = jsonwebtoken::decode_header(&good).expect("header");
    let claims = segment_json(&good, 1);
    let secret_hex =
        std::fs::read_to_string(api.testbox.state_dir().join("secrets/jwt.key")).expect("secret");
    let secret: Vec<u8> = (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(&secret_hex.trim()[i..i + 2], 16).expect("hex"))
        .collect();
    let now = claims["iat"].as_i64().expect("iat");
    let sign = |alg: Algorithm, changes: Value| {
        let mut c = claims.clone();
        for (k, v) in changes.as_object().expect("object") {
            c[k] = v.clone();
        }
        let mut h = Header::new(alg);
        h.kid = header.kid.clone();
        jsonwebtoken::encode(&h, &c, &EncodingKey::from_secret(&secret)).expect("sign")
    };
    // The same claims, re-signed: accepted, so the refusals below are about what changed.
    assert_eq!(
        api.me(&sign(Algorithm::HS256, json!({}))).await.0,
        StatusCode::OK
    );
    for (name, token) in [
        ("expired", sign(Algorithm::HS256, json!({"exp": now - 120}))),
        (
            "not yet valid",
            sign(
                Algorithm::HS256,
                json!({"nbf": now + 600, "exp": now + 900}),
            ),
        ),
        (
            "wrong audience",
            sign(Algorithm::HS256, json!({"aud": "someone-else"})),
        ),
        (
            "wrong issuer",
            sign(Algorithm::HS256, json!({"iss": "someone-else"})),
        ),
        ("other algorithm", sign(Algorithm::HS512, json!({}))),
        (
            "unknown session",
            sign(Algorithm::HS256, json!({"sid": "0000"})),
        ),
        (
            "someone else",
            sign(Algorithm::HS256, json!({"sub": "0000"})),
        ),
    ] {
        let (status, body) = api.me(&token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(body["code"], "unauthorized", "{name}");
    }
}

#[tokio::test]
async fn guests_read_and_users_never_touch_each_others_keys() {
    let api = api_with_user("guest");
    let guest = api.login("Alice").await["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    assert_eq!(api.me(&guest).await.1["role"], "guest");
    let create = |token: &str, scopes: Value| {
        api.client
            .post(api.daemon.url("/api/v1/api-keys"))
            .bearer_auth(token.to_string())
            .json(&json!({"name": "k", "scopes": scopes, "password": PASSWORD}))
            .send()
    };
    assert_eq!(
        create(&guest, json!(["write"]))
            .await
            .expect("request")
            .status(),
        StatusCode::FORBIDDEN
    );
    let response = create(&guest, json!(["read"])).await.expect("request");
    assert_eq!(response.status(), StatusCode::CREATED, "guests may read");
    let guest_key: Value = response.json().await.expect("json");

    let output = api
        .testbox
        .finctl(&["user", "add", "bob", "--random-password", "--json"]);
    let bob: Value = serde_json::from_slice(&output.stdout).expect("json");
    let (_, tokens) = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "bob", "password": bob["password"]}),
        )
        .await;
    let bob = tokens["access_token"].as_str().expect("access").to_string();
    let response = api
        .send(Method::GET, "/api/v1/api-keys", Some(&bob), None)
        .await;
    let listed: Vec<Value> = response.json().await.expect("json");
    assert!(listed.is_empty(), "bob sees none of alice's keys");
    let url = api.daemon.url(&format!(
        "/api/v1/api-keys/{}",
        guest_key["id"].as_str().expect("id")
    ));
    let response = api
        .client
        .delete(&url)
        .bearer_auth(&bob)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        api.me(guest_key["key"].as_str().expect("key")).await.0,
        StatusCode::OK,
        "still alice's, still working"
    );
}

#[tokio::test]
async fn review_findings_stay_fixed() {
    let api = api_with_user("user");
    let tokens = api.login("Alice").await;
    let access = tokens["access_token"].as_str().expect("access").to_string();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();

    // Knowing a session id is not enough to end the session.
    let sid = refresh.split('.').next().expect("sid");
    let (status, body) = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": format!("{sid}.{}", "0".repeat(64))}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "invalid_refresh_token");
    assert_eq!(
        api.me(&access).await.0,
        StatusCode::OK,
        "the session lives on"
    );
    let (status, _) = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // API keys cannot manage sessions or the password.
    let response = api
        .client
        .post(api.daemon.url("/api/v1/api-keys"))
        .bearer_auth(&access)
        .json(&json!({"name": "k", "scopes": ["read", "write"], "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    let key: Value = response.json().await.expect("json");
    let key = key["key"].as_str().expect("key").to_string();
    let response = api
        .send(Method::GET, "/api/v1/auth/sessions", Some(&key), None)
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = api
        .client
        .post(api.daemon.url("/api/v1/auth/password"))
        .bearer_auth(&key)
        .json(&json!({"current_password": PASSWORD, "new_password": "brand new passphrase 2026"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Guessing the current password through a stolen token counts toward the lockout.
    for _ in 0..5 {
        let response = api
            .client
            .post(api.daemon.url("/api/v1/auth/password"))
            .bearer_auth(&access)
            .json(&json!({"current_password": "a wrong guess!!", "new_password": "brand new passphrase 2026"}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let (status, _) = api
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "locked");

    // An admin's password reset takes the account back: keys die too.
    assert_eq!(api.me(&key).await.0, StatusCode::OK);
    let output = api
        .testbox
        .finctl(&["user", "reset-password", "alice", "--random-password"]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(api.me(&key).await.0, StatusCode::UNAUTHORIZED);
}
