//! Accounts through finctl and the admin socket.

use fin_e2e::{TestBox, text};

#[test]
fn users_are_added_and_listed_through_the_admin_socket() {
    let testbox = TestBox::new();
    let _daemon = testbox.start();

    let output = testbox.finctl_with_stdin(
        &[
            "user",
            "add",
            "Alice",
            "--role",
            "admin",
            "--email",
            "alice@example.org",
            "--password-stdin",
        ],
        "vivid otter harbours 42 plums\n",
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("created alice (admin)"));

    let output = testbox.finctl(&["user", "add", "bob", "--random-password", "--json"]);
    assert!(output.status.success(), "{}", text(&output));
    let bob: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(bob["role"], "user");
    assert!(bob["password"].as_str().is_some_and(|p| p.len() >= 30));
    assert!(bob.get("password_hash").is_none());

    let output = testbox.finctl(&["user", "list", "--json"]);
    assert!(output.status.success(), "{}", text(&output));
    let users: Vec<fin_proto::admin::User> = serde_json::from_slice(&output.stdout).expect("json");
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(users[0].email.as_deref(), Some("alice@example.org"));

    let output = testbox.finctl(&["user", "list"]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("alice") && table.contains("admin") && table.contains("active"),
        "{table}"
    );
}

#[test]
fn refusals_say_why_and_change_nothing() {
    let testbox = TestBox::new();
    let _daemon = testbox.start();
    let add = |name: &str, password: &str| {
        testbox.finctl_with_stdin(&["user", "add", name, "--password-stdin"], password)
    };

    assert!(
        add("carol", "vivid otter harbours 42 plums\n")
            .status
            .success()
    );
    for (name, password, needle) in [
        ("CAROL", "another fine passphrase 77\n", "already exists"),
        ("dave", "password\n", "at least 12"),
        ("dave", "password1234\n", "too easy to guess"),
        ("no spaces", "vivid otter harbours 42 plums\n", "user names"),
    ] {
        let output = add(name, password);
        assert_eq!(output.status.code(), Some(5), "{}", text(&output));
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(needle),
            "{}",
            text(&output)
        );
    }
    let output = testbox.finctl(&["user", "list", "--json"]);
    let users: Vec<fin_proto::admin::User> = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        users.len(),
        1,
        "nothing was created by the refused requests"
    );
}

#[test]
fn accounts_survive_a_restart() {
    let testbox = TestBox::new();
    let mut daemon = testbox.start();
    let output = testbox.finctl(&["user", "add", "erin", "--random-password"]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(daemon.stop().success());
    let _again = testbox.start();
    let output = testbox.finctl(&["user", "list", "--json"]);
    let users: Vec<fin_proto::admin::User> = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].username, "erin");
}

#[tokio::test]
async fn registration_follows_the_configured_policy() {
    use serde_json::json;

    // Closed (the default): nobody registers.
    let closed = TestBox::new();
    let daemon = closed.start();
    let client = closed.client(&daemon);
    let response = client
        .post(daemon.url("/api/v1/auth/register"))
        .json(&json!({"username": "eve", "password": "vivid otter harbours 42 plums"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);
    drop(daemon);

    // By invitation: a code works once.
    let invite_box = TestBox::new().env("FIN_AUTH__REGISTRATION", "invite");
    let daemon = invite_box.start();
    let client = invite_box.client(&daemon);
    let output = invite_box.finctl(&["user", "invite", "--role", "guest", "--json"]);
    assert!(output.status.success(), "{}", text(&output));
    let invite: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let code = invite["code"].as_str().expect("code");
    let register = |name: &str, code: &str, password: &str| {
        client
            .post(daemon.url("/api/v1/auth/register"))
            .json(&json!({"username": name, "password": password, "invite": code}))
            .send()
    };
    let weak = register("frank", code, "short").await.expect("request");
    assert_eq!(
        weak.status(),
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "refused, and the code is kept"
    );
    let ok = register("frank", code, "vivid otter harbours 42 plums")
        .await
        .expect("request");
    assert_eq!(ok.status(), reqwest::StatusCode::CREATED);
    let user: serde_json::Value = ok.json().await.expect("json");
    assert_eq!(user["role"], "guest", "the invite's role");
    let again = register("grace", code, "vivid otter harbours 42 plums")
        .await
        .expect("request");
    assert_eq!(again.status(), reqwest::StatusCode::FORBIDDEN, "single use");
    let bogus = register("grace", "not-a-code", "vivid otter harbours 42 plums")
        .await
        .expect("request");
    assert_eq!(bogus.status(), reqwest::StatusCode::FORBIDDEN);
}

/// Names made to pass for others are refused: a Cyrillic letter among
/// Latin ones, or a name in another script that looks like an existing one.
#[tokio::test]
async fn look_alike_names_are_refused() {
    use serde_json::json;

    let testbox = TestBox::new().env("FIN_AUTH__REGISTRATION", "open");
    let daemon = testbox.start();
    let client = testbox.client(&daemon);
    let register = |name: &str| {
        client
            .post(daemon.url("/api/v1/auth/register"))
            .json(&json!({"username": name, "password": "vivid otter harbours 42 plums"}))
            .send()
    };
    let status = |name: &'static str| {
        let sent = register(name);
        async move { sent.await.expect("request").status().as_u16() }
    };
    assert_eq!(status("ace").await, 201);
    assert_eq!(status("\u{430}dmin").await, 422, "Latin with a Cyrillic a");
    assert_eq!(
        status("\u{430}\u{441}\u{435}").await,
        409,
        "Cyrillic letters that read 'ace'"
    );
    assert_eq!(status("иван").await, 201, "a name in one script is fine");
}
