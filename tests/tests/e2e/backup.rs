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

/// Commits a CSV statement of `rows` lines to `account`: the book grows
/// fast enough for backups and restores that take a moment.
async fn grow(api: &Api, book: &str, account: &str, rows: usize, shop: &str) {
    let mut csv = String::from("date,amount,payee,description\n");
    for n in 0..rows {
        csv += &format!(
            "2026-02-{:02},-{}.{:02},{shop} {n},line {n}\n",
            n % 28 + 1,
            n % 90 + 1,
            n % 100
        );
    }
    let query = format!("account={account}&format=csv&preset=iso-signed&filename=big.csv");
    let (status, preview) =
        crate::ledger::upload(api, &api.token, book, &query, csv.as_bytes()).await;
    assert_eq!(status, StatusCode::CREATED, "{preview}");
    let import = preview["import"]["id"]
        .as_str()
        .expect("import id")
        .to_string();
    let (status, done) = crate::ledger::step(api, &api.token, book, &import, "commit").await;
    assert_eq!(status, StatusCode::OK, "{done}");
}

/// Every transaction of the book, page by page.
async fn all_txns(api: &Api, book: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/books/{book}/transactions?limit=500&cursor={c}"),
            None => format!("/api/v1/books/{book}/transactions?limit=500"),
        };
        let (status, page) = call(api, Method::GET, &path, &api.token, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        all.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return all,
        }
    }
}

async fn txn_count(api: &Api, book: &str) -> usize {
    all_txns(api, book).await.len()
}

/// The names in `dir` that pass `keep` (none when it cannot be read).
fn names_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| keep(n))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn killed_backups_leave_no_whole_looking_file_and_killed_restores_leave_the_old_data() {
    let mut api = Api::start(TestBox::with_config(FAST));
    let (book, _) = fill(&mut api).await;
    let (_, accounts) = call(
        &api,
        Method::GET,
        &format!("/api/v1/books/{book}/accounts"),
        &api.token,
        None,
    )
    .await;
    let account = accounts["items"][0]["id"]
        .as_str()
        .expect("account")
        .to_string();
    grow(&api, &book, &account, 6000, "Shop").await;
    let before = txn_count(&api, &book).await;
    let work = tempfile::tempdir().expect("tempdir");
    let archive = work.path().join("big.finbak");
    finctl_ok(
        &api.testbox,
        &["backup", "--output", archive.to_str().expect("path")],
    );

    // A backup into the folder, the daemon killed while it writes.
    let folder = api.testbox.state_dir().join("backups");
    let mut backup = api.testbox.finctl_spawn(&["backup"]);
    let started = std::time::Instant::now();
    let partial = loop {
        let found = std::fs::read_dir(&folder).ok().and_then(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .find(|p| p.to_string_lossy().ends_with(".partial"))
        });
        if let Some(found) = found {
            break Some(found);
        }
        if started.elapsed() > std::time::Duration::from_secs(30)
            || backup.try_wait().ok().flatten().is_some()
        {
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    api.daemon.signal(nix::sys::signal::Signal::SIGKILL);
    api.daemon.wait(std::time::Duration::from_secs(10));
    let _ = backup.wait();
    let whole = names_in(&folder, |n| n.ends_with(".finbak"));
    if partial.is_some() {
        assert!(whole.is_empty(), "a killed backup left {whole:?}");
    }
    api.restart();
    api.sign_in("alice").await;
    let left = names_in(&folder, |n| n.ends_with(".partial"));
    assert!(
        left.is_empty(),
        "the start removes what a killed backup left: {left:?}"
    );

    // A change after the archive, then a restore killed while it runs: the
    // API says 503 with Retry-After during it, and after the restart the
    // data is the old one.
    grow(&api, &book, &account, 10, "Later").await;
    let changed = txn_count(&api, &book).await;
    assert_eq!(changed, before + 10);
    let mut restore =
        api.testbox
            .finctl_spawn(&["restore", archive.to_str().expect("path"), "--yes"]);
    // Killed once the archive is checked and being loaded into the fresh
    // database (the daemon says so in its log): the last moment before
    // the switch that a test can find for certain.
    let started = std::time::Instant::now();
    let mut saw_503 = false;
    while !api
        .daemon
        .output()
        .contains("loading the archive into a fresh database")
    {
        let response = api
            .send(
                Method::GET,
                &format!("/api/v1/books/{book}"),
                Some(&api.token.clone()),
                None,
            )
            .await;
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert!(response.headers().get("retry-after").is_some());
            saw_503 = true;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the restore never started loading"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    assert!(saw_503, "the API answered 503 while the restore ran");
    api.daemon.signal(nix::sys::signal::Signal::SIGKILL);
    api.daemon.wait(std::time::Duration::from_secs(10));
    let _ = restore.wait();
    let killed_log = api.daemon.output();
    api.restart();
    api.sign_in("alice").await;
    assert_eq!(
        txn_count(&api, &book).await,
        changed,
        "the old data serves after a killed restore; the killed daemon said:\n{killed_log}\nand now:\n{}",
        api.daemon.output()
    );
    let staging = names_in(&api.testbox.state_dir(), |n| {
        n.starts_with("restore-staging-")
    });
    assert!(staging.is_empty(), "{staging:?}");

    // With the daemon stopped, finctl has the daemon binary restore.
    api.daemon.stop();
    let config = api.testbox.config_path();
    finctl_ok(
        &api.testbox,
        &[
            "--config",
            config.to_str().expect("path"),
            "restore",
            archive.to_str().expect("path"),
            "--yes",
        ],
    );
    api.restart();
    api.sign_in("alice").await;
    assert_eq!(
        txn_count(&api, &book).await,
        before,
        "restored with the daemon stopped"
    );
}

#[tokio::test]
async fn a_backup_taken_while_transfers_are_written_is_one_point_in_time() {
    let mut api = Api::start(TestBox::with_config(FAST));
    let (book, _) = fill(&mut api).await;
    let (_, accounts) = call(
        &api,
        Method::GET,
        &format!("/api/v1/books/{book}/accounts"),
        &api.token,
        None,
    )
    .await;
    let ids: Vec<String> = accounts["items"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_string())
        .collect();
    grow(&api, &book, &ids[0], 2000, "Shop").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writer = {
        let (client, url, token, stop, count) = (
            api.client.clone(),
            api.daemon.url(&format!("/api/v1/books/{book}/transfers")),
            api.token.clone(),
            stop.clone(),
            count.clone(),
        );
        let (from, to) = (ids[0].clone(), ids[1].clone());
        tokio::spawn(async move {
            let mut written = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let response = client.post(&url).bearer_auth(&token)
                    .json(&json!({"from_account_id": from, "to_account_id": to, "date": "2026-05-01", "amount": 1}))
                    .send().await.expect("transfer");
                assert_eq!(response.status(), StatusCode::CREATED);
                written += 1;
                count.store(written, std::sync::atomic::Ordering::Relaxed);
            }
            written
        })
    };
    // Some transfers before the backup starts (they must be in it), more
    // while it runs.
    while count.load(std::sync::atomic::Ordering::Relaxed) < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let archive = work.path().join("busy.finbak");
    let testbox_socket = api.testbox.socket_path();
    let archive_arg = archive.clone();
    tokio::task::spawn_blocking(move || {
        let output = std::process::Command::new(fin_e2e::bin("finctl"))
            .arg("--socket")
            .arg(testbox_socket)
            .args(["backup", "--output", archive_arg.to_str().expect("path")])
            .output()
            .expect("finctl");
        assert!(output.status.success(), "{}", text(&output));
    })
    .await
    .expect("backup");
    let after = count.load(std::sync::atomic::Ordering::Relaxed);
    while count.load(std::sync::atomic::Ordering::Relaxed) < after + 3 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.expect("writer");
    assert!(
        written > 2,
        "transfers went on during the backup ({written})"
    );

    let mut target = Api::start(TestBox::with_config(FAST));
    finctl_ok(
        &target.testbox,
        &["restore", archive.to_str().expect("path"), "--yes"],
    );
    target.sign_in("alice").await;
    let mut sides: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for t in all_txns(&target, &book).await {
        if let Some(pair) = t["transfer_id"].as_str() {
            sides
                .entry(pair.to_string())
                .or_default()
                .push(t["amount"].as_i64().expect("amount"));
        }
    }
    assert!(
        sides.len() >= 6,
        "the transfers written before the backup are in it: {sides:?}"
    );
    for (pair, amounts) in &sides {
        assert_eq!(
            amounts.len(),
            2,
            "transfer {pair} has both sides: {amounts:?}"
        );
        assert_eq!(amounts.iter().sum::<i64>(), 0, "{pair}");
    }
}

/// A tmpfs of `kib` KiB at `dir` (root only): `None` where mounting is not
/// allowed, and the test then says it skips.
fn tiny_disk(dir: &Path, kib: u32) -> Option<TinyDisk> {
    std::fs::create_dir_all(dir).ok()?;
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipping the full-disk part: cannot mount a tmpfs here (needs root)");
        return None;
    }
    Some(TinyDisk(dir.to_path_buf()))
}

struct TinyDisk(std::path::PathBuf);

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_full_disk_stops_a_backup_with_a_clear_error_and_no_file() {
    let mut api = Api::start(TestBox::with_config(FAST));
    fill(&mut api).await;
    // An image big enough not to fit, and incompressible like a JPEG.
    let mut image = vec![0u8; 300_000];
    {
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut image))
            .expect("random bytes");
    }
    let sha = {
        use sha2::Digest;
        sha2::Sha256::digest(&image)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let shard = api.testbox.state_dir().join("blobs").join(&sha[..2]);
    std::fs::create_dir_all(&shard).expect("shard");
    std::fs::write(shard.join(&sha), &image).expect("image");

    // finctl writing the archive.
    let work = tempfile::tempdir().expect("tempdir");
    let Some(_disk) = tiny_disk(&work.path().join("usb"), 64) else {
        return;
    };
    let target = work.path().join("usb/box.finbak");
    let (code, said) = exit_code(
        &api.testbox,
        &["backup", "--output", target.to_str().expect("path")],
    );
    assert_eq!(code, 11, "{said}");
    assert!(said.contains("no room"), "{said}");
    let left = names_in(&work.path().join("usb"), |_| true);
    assert!(left.is_empty(), "nothing is left: {left:?}");

    // The daemon writing into its backup folder.
    let Some(_folder) = tiny_disk(&api.testbox.state_dir().join("backups"), 64) else {
        return;
    };
    let (code, said) = exit_code(&api.testbox, &["backup"]);
    assert_eq!(code, 11, "{said}");
    let left = names_in(&api.testbox.state_dir().join("backups"), |_| true);
    assert!(left.is_empty(), "nothing is left: {left:?}");
    // The daemon is unharmed.
    let status: Value =
        serde_json::from_str(finctl_ok(&api.testbox, &["status", "--json"]).trim()).expect("json");
    assert!(
        status["backup"]["last_failure"]
            .as_str()
            .is_some_and(|f| f.contains("full")),
        "{status}"
    );
    let (status_code, _) = call(&api, Method::GET, "/api/v1/books", &api.token, None).await;
    assert_eq!(status_code, StatusCode::OK);
}

#[tokio::test]
async fn upgrade_status_check_and_rollback_with_the_daemon_running_or_stopped() {
    let mut api = Api::start(TestBox::with_config(FAST));
    let (book, _) = fill(&mut api).await;
    let before = all_txns(&api, &book).await;
    let config = api.testbox.config_path();
    let config = config.to_str().expect("path");
    let status: Value =
        serde_json::from_str(finctl_ok(&api.testbox, &["upgrade", "status", "--json"]).trim())
            .expect("json");
    assert_eq!(
        status["schema_applied"], status["schema_latest"],
        "{status}"
    );
    assert_eq!(status["pending"], json!([]));
    let check: Value = serde_json::from_str(
        finctl_ok(
            &api.testbox,
            &["--config", config, "upgrade", "check", "--json"],
        )
        .trim(),
    )
    .expect("json");
    assert_eq!(check["can_run"], true, "{check}");
    // Rollback refuses while a daemon runs.
    let (code, said) = exit_code(
        &api.testbox,
        &["--config", config, "upgrade", "rollback", "--yes"],
    );
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("stop it"), "{said}");

    api.daemon.stop();
    let stopped: Value = serde_json::from_str(
        finctl_ok(
            &api.testbox,
            &["--config", config, "upgrade", "status", "--json"],
        )
        .trim(),
    )
    .expect("json");
    assert_eq!(stopped["can_run"], true, "{stopped}");
    assert_eq!(stopped["pending"], json!([]));
    // No upgrade ran, so there is nothing to roll back to.
    let (code, said) = exit_code(
        &api.testbox,
        &["--config", config, "upgrade", "rollback", "--yes"],
    );
    assert_eq!(code, 5, "{said}");
    assert!(said.contains("no pre-upgrade backup"), "{said}");

    // A pre-upgrade archive in the folder (as a start that migrated leaves
    // one; here a backup named so), changes after it, the daemon stopped
    // (the previous package reinstalled): rollback brings the data back to
    // the archive and keeps what it replaced.
    api.restart();
    api.sign_in("alice").await;
    let taken: Value =
        serde_json::from_str(finctl_ok(&api.testbox, &["backup", "--json"]).trim()).expect("json");
    let manual = std::path::PathBuf::from(taken["file"]["path"].as_str().expect("path"));
    let pre_upgrade = manual.with_file_name(
        manual
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .replace("-manual", "-pre-upgrade"),
    );
    std::fs::rename(&manual, &pre_upgrade).expect("rename");
    let account = before[0]["account_id"]
        .as_str()
        .expect("account")
        .to_string();
    let txns = format!("/api/v1/books/{book}/transactions");
    created_later(&api, &txns, &api.token.clone(), &account).await;
    assert_eq!(txn_count(&api, &book).await, before.len() + 1);
    api.daemon.stop();
    let rolled: Value = serde_json::from_str(
        finctl_ok(
            &api.testbox,
            &["--config", config, "upgrade", "rollback", "--yes", "--json"],
        )
        .trim(),
    )
    .expect("json");
    assert_eq!(
        rolled["archive"]["created_at"], taken["archive"]["created_at"],
        "{rolled}"
    );
    let point = rolled["restore_point"]["path"]
        .as_str()
        .expect("restore point");
    assert!(Path::new(point).is_file(), "{rolled}");
    api.restart();
    api.sign_in("alice").await;
    assert_eq!(
        all_txns(&api, &book).await,
        before,
        "the data of the archive"
    );
}
