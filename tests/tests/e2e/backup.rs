//! Backups and restores with the real binaries: a box backed up with
//! `finctl backup`, restored on a fresh box with `finctl restore`, holds
//! the same records and images; damaged, cut, foreign and wrongly
//! encrypted archives are refused, each with its own exit code, and the
//! data stays as it was.

use std::path::Path;

use fin_e2e::{Api, TestBox, text};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::ledger::{call, created, id};
use crate::receipts::synthetic_png;

/// Many calls in a moment.
const FAST: &str = "[limits]\napi_per_second = 10000\napi_burst = 10000\nupload_per_second = 100\nupload_burst = 100\n";

/// A book with an account, transactions with awkward text, a transfer and
/// a receipt image: (book id, receipt id).
async fn fill(api: &mut Api) -> (String, String) {
    api.add_user("alice", "user");
    let token = api.sign_in("alice").await;
    let book = id(&created(
        api,
        "/api/v1/books",
        &token,
        json!({"name": "Home", "currency": "EUR"}),
    )
    .await);
    let accounts = format!("/api/v1/books/{book}/accounts");
    let checking = id(&created(
        api,
        &accounts,
        &token,
        json!({"name": "Checking", "kind": "checking", "currency": "EUR"}),
    )
    .await);
    let savings = id(&created(
        api,
        &accounts,
        &token,
        json!({"name": "Savings", "kind": "savings", "currency": "EUR"}),
    )
    .await);
    let txns = format!("/api/v1/books/{book}/transactions");
    for (n, payee) in [
        "O'Brien's \"shop\"",
        "{brace} [x] ⟨y⟩ `z`",
        "Ünïcödé 🧾\nline",
    ]
    .iter()
    .enumerate()
    {
        created(
            api,
            &txns,
            &token,
            json!({
                "account_id": checking, "date": format!("2026-03-0{}", n + 1),
                "amount": -1000 - n as i64, "payee": payee,
            }),
        )
        .await;
    }
    created(api, &format!("/api/v1/books/{book}/transfers"), &token, json!({
        "from_account_id": checking, "to_account_id": savings, "date": "2026-03-05", "amount": 5000,
    })).await;
    let (status, receipt, _) = api
        .upload_raw(synthetic_png(7, 300, 200), "image/png")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{receipt}");
    (book, id(&receipt))
}

/// What a user sees of the book, in a form two boxes can be compared by.
async fn canonical(api: &Api, book: &str, receipt: &str) -> (Value, Vec<u8>) {
    let token = api.token.clone();
    let mut view = serde_json::Map::new();
    for part in ["accounts", "transactions?limit=500", "categories"] {
        let (status, value) = call(
            api,
            Method::GET,
            &format!("/api/v1/books/{book}/{part}"),
            &token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{part}: {value}");
        view.insert(part.to_string(), value);
    }
    let image = api
        .client
        .get(api.daemon.url(&format!("/api/v1/receipts/{receipt}/image")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("image");
    assert_eq!(image.status(), StatusCode::OK);
    (
        Value::Object(view),
        image.bytes().await.expect("bytes").to_vec(),
    )
}

fn finctl_ok(testbox: &TestBox, args: &[&str]) -> String {
    let output = testbox.finctl(args);
    assert!(
        output.status.success(),
        "finctl {args:?}: {}",
        text(&output)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn exit_code(testbox: &TestBox, args: &[&str]) -> (i32, String) {
    let output = testbox.finctl(args);
    (output.status.code().unwrap_or(-1), text(&output))
}

#[tokio::test]
async fn a_box_restored_from_its_backup_on_a_fresh_box_is_the_same_and_bad_archives_change_nothing()
{
    let mut source = Api::start(TestBox::with_config(FAST));
    let (book, receipt) = fill(&mut source).await;
    let work = tempfile::tempdir().expect("tempdir");
    let archive = work.path().join("box.finbak");
    let archive_arg = archive.to_str().expect("path");
    let out = finctl_ok(
        &source.testbox,
        &["backup", "--output", archive_arg, "--json"],
    );
    let report: Value = serde_json::from_str(out.trim()).expect("json");
    assert!(report["size"].as_u64().expect("size") > 0, "{report}");
    assert!(!work.path().join("box.finbak.partial").exists());
    let verified: Value = serde_json::from_str(
        finctl_ok(
            &source.testbox,
            &["backup", "verify", archive_arg, "--json"],
        )
        .trim(),
    )
    .expect("json");
    assert_eq!(verified["tables"]["txn"], 5, "{verified}");
    assert_eq!(verified["images"], 1, "{verified}");
    let expected = canonical(&source, &book, &receipt).await;

    // A fresh box: the archive brings the users, the book and the image.
    let mut target = Api::start(TestBox::with_config(FAST));
    finctl_ok(&target.testbox, &["restore", archive_arg, "--yes"]);
    target.sign_in("alice").await;
    assert_eq!(canonical(&target, &book, &receipt).await, expected);

    // Bad archives, each refused by `verify` and by `restore` with its own
    // code, and the box untouched.
    let bytes = std::fs::read(&archive).expect("read");
    let write = |name: &str, content: &[u8]| {
        let path = work.path().join(name);
        std::fs::write(&path, content).expect("write");
        path
    };
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let cases = [
        (write("flipped.finbak", &flipped), 6, "damaged"),
        (
            write("cut.finbak", &bytes[..bytes.len() * 2 / 3]),
            7,
            "ends early",
        ),
        (
            write("foreign.finbak", b"PK\x03\x04 a zip file, say"),
            9,
            "not a fin backup",
        ),
    ];
    for (path, code, words) in &cases {
        let path = path.to_str().expect("path");
        for args in [
            vec!["backup", "verify", path],
            vec!["restore", path, "--yes"],
        ] {
            let (got, said) = exit_code(&target.testbox, &args);
            assert_eq!(got, *code, "{args:?}: {said}");
            assert!(said.contains(words), "{args:?}: {said}");
        }
    }
    // Encrypted, then opened with the wrong passphrase and with none.
    let secret = write("pass.txt", b"correct horse battery staple\n");
    let wrong = write("wrong.txt", b"not it\n");
    let sealed = work.path().join("sealed.finbak");
    finctl_ok(
        &source.testbox,
        &[
            "backup",
            "--output",
            sealed.to_str().expect("path"),
            "--passphrase-file",
            secret.to_str().expect("path"),
        ],
    );
    let sealed = sealed.to_str().expect("path");
    let (got, said) = exit_code(
        &target.testbox,
        &[
            "backup",
            "verify",
            sealed,
            "--passphrase-file",
            wrong.to_str().expect("path"),
        ],
    );
    assert_eq!(got, 8, "{said}");
    let (got, said) = exit_code(&target.testbox, &["restore", sealed, "--yes"]);
    assert_eq!(got, 8, "{said}");
    assert_eq!(
        canonical(&target, &book, &receipt).await,
        expected,
        "untouched"
    );
    // The right passphrase opens it.
    finctl_ok(
        &target.testbox,
        &[
            "restore",
            sealed,
            "--yes",
            "--passphrase-file",
            secret.to_str().expect("path"),
        ],
    );
    // The sessions are the archive's now: sign in again.
    target.sign_in("alice").await;
    assert_eq!(canonical(&target, &book, &receipt).await, expected);
    // Secrets go only into encrypted archives.
    let (got, said) = exit_code(
        &source.testbox,
        &["backup", "--output", "/tmp/x.finbak", "--include-secrets"],
    );
    assert_eq!(got, 2, "{said}");
}

#[tokio::test]
async fn restore_replaces_later_changes_keeps_a_restore_point_and_the_folder_lists_and_prunes() {
    let mut api = Api::start(TestBox::with_config(FAST));
    let (book, _) = fill(&mut api).await;
    let out = finctl_ok(&api.testbox, &["backup", "--json"]);
    let created: Value = serde_json::from_str(out.trim()).expect("json");
    let path = created["file"]["path"].as_str().expect("path").to_string();
    assert!(
        Path::new(&path).starts_with(api.testbox.state_dir().join("backups")),
        "{created}"
    );
    let token = api.token.clone();
    let txns = format!("/api/v1/books/{book}/transactions");
    let (_, accounts) = call(
        &api,
        Method::GET,
        &format!("/api/v1/books/{book}/accounts"),
        &token,
        None,
    )
    .await;
    let account = accounts["items"][0]["id"]
        .as_str()
        .expect("account")
        .to_string();
    created_later(&api, &txns, &token, &account).await;
    let count = |v: &Value| v["items"].as_array().map(Vec::len).unwrap_or(0);
    let (_, before) = call(
        &api,
        Method::GET,
        &format!("{txns}?limit=500"),
        &token,
        None,
    )
    .await;

    finctl_ok(&api.testbox, &["restore", &path, "--yes"]);
    let (status, after) = call(
        &api,
        Method::GET,
        &format!("{txns}?limit=500"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(
        count(&after) + 1,
        count(&before),
        "the later transaction is gone"
    );

    let listed: Value =
        serde_json::from_str(finctl_ok(&api.testbox, &["backup", "list", "--json"]).trim())
            .expect("json");
    let kinds: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|f| f["kind"].as_str().unwrap_or(""))
        .collect();
    assert!(
        kinds.contains(&"manual") && kinds.contains(&"pre-restore"),
        "{listed}"
    );
    let pruned: Value = serde_json::from_str(
        finctl_ok(&api.testbox, &["backup", "prune", "--dry-run", "--json"]).trim(),
    )
    .expect("json");
    assert_eq!(
        pruned["removed"],
        json!([]),
        "manual and the newest safety copies stay"
    );
}

async fn created_later(api: &Api, txns: &str, token: &str, account: &str) {
    created(
        api,
        txns,
        token,
        json!({
            "account_id": account, "date": "2026-04-01", "amount": -42, "payee": "After the backup",
        }),
    )
    .await;
}
