//! Tests. Those marked "Pebble" run against a real Pebble started by
//! `tests/pebble/run.sh` (which exports FIN_PEBBLE_* and SSL_CERT_FILE):
//!
//!   tests/pebble/run.sh cargo test -p fin-daemon tls::acme
//!
//! Without it they print why and pass without checking anything.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use x509_parser::pem::Pem;

use super::*;

/// What `tests/pebble/start.sh` exported.
struct Pebble {
    directory: String,
    management: String,
}

fn pebble(test: &str) -> Option<Pebble> {
    let installed = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("pebble").is_file()));
    if !installed {
        eprintln!("SKIPPED {test}: pebble is not installed (apt-get install -y pebble)");
        return None;
    }
    let (Ok(directory), Ok(management)) = (
        std::env::var("FIN_PEBBLE_DIRECTORY"),
        std::env::var("FIN_PEBBLE_MANAGEMENT"),
    ) else {
        eprintln!(
            "SKIPPED {test}: Pebble is not running; run the tests through tests/pebble/run.sh"
        );
        return None;
    };
    Some(Pebble {
        directory,
        management,
    })
}

fn pebble_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/pebble")
        .join(name)
}

/// The one http-01 server of this test process, on the port Pebble's
/// validator connects to; every test publishes into the same answers.
fn challenge_server() -> Http01Answers {
    static ANSWERS: OnceLock<Http01Answers> = OnceLock::new();
    ANSWERS
        .get_or_init(|| {
            let answers = Http01Answers::new();
            let port: u16 = std::env::var("FIN_PEBBLE_HTTP_PORT")
                .expect("FIN_PEBBLE_HTTP_PORT")
                .parse()
                .expect("a port number");
            let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the http-01 port");
            let served = answers.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let answers = served.clone();
                    std::thread::spawn(move || {
                        let mut reader = BufReader::new(&stream);
                        let mut request_line = String::new();
                        let _ = reader.read_line(&mut request_line);
                        // Skip the headers up to the blank line.
                        let mut line = String::new();
                        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                            line.clear();
                        }
                        let path = request_line.split_whitespace().nth(1).unwrap_or("");
                        let response = match answers.answer_path(path) {
                            Some(body) => format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                body.len()
                            ),
                            None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                        };
                        let mut stream = &stream;
                        let _ = stream.write_all(response.as_bytes());
                    });
                }
            });
            answers
        })
        .clone()
}

fn settings(directory: &str, dir: &Path, domains: &[&str]) -> AcmeSettings {
    AcmeSettings {
        directory: Directory::Url(directory.to_string()),
        email: "admin@fin.example.org".to_string(),
        domains: domains.iter().map(|d| d.to_string()).collect(),
        dir: dir.to_path_buf(),
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// Every certificate of a PEM chain, as DER.
fn chain_der(pem: &str) -> Vec<Vec<u8>> {
    Pem::iter_from_buffer(pem.as_bytes())
        .map(|p| p.expect("PEM").contents)
        .collect()
}

fn subject_and_issuer(der: &[u8]) -> (String, String) {
    let (_, cert) = x509_parser::parse_x509_certificate(der).expect("X.509");
    (cert.subject().to_string(), cert.issuer().to_string())
}

#[test]
fn http01_issues_stores_and_reuses() {
    let Some(pebble) = pebble("http01_issues_stores_and_reuses") else {
        return;
    };
    let answers = challenge_server();
    let state = tempfile::tempdir().expect("tempdir");
    let dir = state.path().join("acme");
    let s = settings(
        &pebble.directory,
        &dir,
        &["www.fin-http.example.org", "fin-http.example.org"],
    );
    assert!(stored(&s).is_none(), "nothing stored yet");

    let issued = order(&s, &Challenge::Http01(answers.clone())).expect("order over http-01");
    assert_eq!(
        issued.names().expect("names"),
        vec!["fin-http.example.org", "www.fin-http.example.org"]
    );
    assert!(issued.not_before < issued.not_after);
    assert!(issued.key_pem.contains("PRIVATE KEY"));
    assert!(
        answers.answer("anything").is_none(),
        "answers are withdrawn after validation"
    );

    // The chain ends at Pebble's root: leaf <- intermediate <- root.
    let root_pem = ureq::get(&format!("{}/roots/0", pebble.management))
        .call()
        .expect("Pebble root")
        .into_string()
        .expect("root PEM");
    let (root_subject, _) = subject_and_issuer(&chain_der(&root_pem)[0]);
    let chain = chain_der(&issued.cert_pem);
    assert!(chain.len() >= 2, "leaf and intermediate");
    let (_, leaf_issuer) = subject_and_issuer(&chain[0]);
    let (intermediate_subject, intermediate_issuer) = subject_and_issuer(&chain[1]);
    assert_eq!(leaf_issuer, intermediate_subject);
    assert_eq!(intermediate_issuer, root_subject);
    assert!(root_subject.contains("Pebble Root CA"), "{root_subject}");

    // Files: folder 0700, account key and certificate files 0600.
    let account_key = store::account_key_path(&dir);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&account_key), 0o600);
    assert_eq!(mode(&dir.join("certs/fin-http.example.org.crt")), 0o600);
    assert_eq!(mode(&dir.join("certs/fin-http.example.org.key")), 0o600);

    // A restart finds it again, for the same names in any order only.
    let again = stored(&s).expect("stored certificate");
    assert_eq!(again, issued);
    let mut reordered = s.clone();
    reordered.domains.reverse();
    assert_eq!(stored(&reordered).as_ref(), Some(&issued));
    let mut fewer = s.clone();
    fewer.domains.pop();
    assert!(
        stored(&fewer).is_none(),
        "a different name set is not reused"
    );

    // A second order reuses the account: the key file is unchanged.
    let key_before = std::fs::read(&account_key).expect("account key");
    let renewed = order(&s, &Challenge::Http01(answers)).expect("second order");
    assert_eq!(
        std::fs::read(&account_key).expect("account key"),
        key_before
    );
    assert_ne!(renewed.cert_pem, issued.cert_pem, "a new certificate");
    assert_ne!(renewed.key_pem, issued.key_pem, "with a fresh key");
    assert_eq!(stored(&s), Some(renewed));
}

#[test]
fn http01_wrong_answer_reports_the_cas_reason() {
    let Some(pebble) = pebble("http01_wrong_answer_reports_the_cas_reason") else {
        return;
    };
    let _server = challenge_server();
    let state = tempfile::tempdir().expect("tempdir");
    let s = settings(&pebble.directory, state.path(), &["fin-fail.example.org"]);
    // Answers nobody serves: the validator gets a 404.
    let err = order(&s, &Challenge::Http01(Http01Answers::new())).expect_err("must fail");
    match &err {
        AcmeError::ChallengeFailed { name, kind, reason } => {
            assert_eq!(name, "fin-fail.example.org");
            assert_eq!(*kind, "http-01");
            assert!(reason.contains("404"), "CA's reason: {reason}");
        }
        other => panic!("expected ChallengeFailed, got {other:?}"),
    }
    eprintln!("operator sees: {err}");
    assert!(stored(&s).is_none());
}

#[test]
fn dns01_through_the_hook() {
    let Some(pebble) = pebble("dns01_through_the_hook") else {
        return;
    };
    let state = tempfile::tempdir().expect("tempdir");
    let s = settings(
        &pebble.directory,
        state.path(),
        &["fin-dns.example.org", "*.fin-dns.example.org"],
    );
    let hook = pebble_script("dns-hook.sh");
    let issued = order(&s, &Challenge::Dns01 { hook }).expect("order over dns-01");
    assert_eq!(
        issued.names().expect("names"),
        vec!["*.fin-dns.example.org", "fin-dns.example.org"]
    );
    assert_eq!(
        mode(
            &state
                .path()
                .join("certs/_wildcard_.fin-dns.example.org.crt")
        ),
        0o600
    );
    assert_eq!(stored(&s), Some(issued));
}

#[test]
fn unreachable_ca_fails_fast_and_says_so() {
    let state = tempfile::tempdir().expect("tempdir");
    // Port 1 on loopback: nothing listens there, the connection is refused.
    let s = settings(
        "https://127.0.0.1:1/dir",
        state.path(),
        &["fin.example.org"],
    );
    let started = Instant::now();
    let err = order(&s, &Challenge::Http01(Http01Answers::new())).expect_err("must fail");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(err, AcmeError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("unreachable") && text.contains("127.0.0.1:1"),
        "{text}"
    );
    assert!(!state.path().join("account.key").exists());
}

#[test]
fn renewal_due_when_a_third_of_the_lifetime_remains() {
    let day = 86_400;
    let issued = Issued {
        cert_pem: String::new(),
        key_pem: String::new(),
        not_before: 1_000_000,
        not_after: 1_000_000 + 90 * day,
    };
    assert!(!renewal_due(&issued, issued.not_before));
    assert!(!renewal_due(&issued, issued.not_before + 59 * day));
    assert!(
        !renewal_due(&issued, issued.not_before + 60 * day),
        "exactly a third left"
    );
    assert!(renewal_due(&issued, issued.not_before + 60 * day + 1));
    assert!(renewal_due(&issued, issued.not_after + day), "expired");
    assert_eq!(issued.renewal_at(), issued.not_before + 60 * day);
    let broken = Issued {
        not_after: issued.not_before,
        ..issued.clone()
    };
    assert!(renewal_due(&broken, issued.not_before - day));
    let extreme = Issued {
        not_before: i64::MIN,
        not_after: i64::MAX,
        ..issued
    };
    assert!(!renewal_due(&extreme, 0));
}

#[test]
fn directory_from_config() {
    assert_eq!(
        "letsencrypt".parse::<Directory>().ok(),
        Some(Directory::LetsEncrypt)
    );
    assert_eq!(
        "letsencrypt-staging".parse::<Directory>().ok(),
        Some(Directory::LetsEncryptStaging)
    );
    assert_eq!(
        "https://ca.lan:14000/dir".parse::<Directory>().ok(),
        Some(Directory::Url("https://ca.lan:14000/dir".into()))
    );
    assert!(
        Directory::LetsEncrypt
            .url()
            .starts_with("https://acme-v02.")
    );
    for bad in ["", "zerossl", "http://ca.lan/dir", "https://"] {
        assert!(bad.parse::<Directory>().is_err(), "{bad:?}");
    }
}

#[test]
fn names_are_normalized_and_checked() {
    let n = |d: &[&str]| normalized(&d.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        n(&["WWW.Example.org.", "example.org", "www.example.org"]).expect("valid"),
        vec!["example.org", "www.example.org"]
    );
    assert!(matches!(n(&[]), Err(AcmeError::NoDomains)));
    for bad in ["../etc", "a/b.org", "-x.org", "a..b", "*.*.x.org", ""] {
        assert!(matches!(n(&[bad]), Err(AcmeError::BadDomain(_))), "{bad:?}");
    }
    assert!(n(&["*.example.org"]).is_ok());
}

#[test]
fn one_order_per_name_set_at_a_time() {
    let names = vec!["guard.example.org".to_string()];
    let first = in_flight::InFlight::claim(&names).expect("first claim");
    assert!(matches!(
        in_flight::InFlight::claim(&names),
        Err(AcmeError::OrderInFlight { .. })
    ));
    assert!(in_flight::InFlight::claim(&["other.example.org".to_string()]).is_ok());
    drop(first);
    assert!(
        in_flight::InFlight::claim(&names).is_ok(),
        "released on drop"
    );
}

#[test]
fn http01_answers_are_shared_and_withdrawn() {
    let answers = Http01Answers::new();
    let listener_side = answers.clone();
    {
        let _published = answers.publish("tok", "tok.thumb".to_string());
        assert_eq!(listener_side.answer("tok").as_deref(), Some("tok.thumb"));
        assert_eq!(
            listener_side
                .answer_path("/.well-known/acme-challenge/tok")
                .as_deref(),
            Some("tok.thumb")
        );
        assert!(listener_side.answer_path("/other/tok").is_none());
    }
    assert!(listener_side.answer("tok").is_none());
}

fn script(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("hook.sh");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write hook");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    path
}

#[test]
fn dns_hook_gets_arguments_unquoted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("args");
    let hook = script(
        dir.path(),
        &format!("printf '%s|' \"$@\" > '{}'", out.display()),
    );
    let value = "a b;$(touch x)";
    dns_hook::run(
        &hook,
        dns_hook::HookAction::Set,
        "_acme-challenge.x.org",
        value,
        Duration::from_secs(10),
    )
    .expect("hook succeeds");
    assert_eq!(
        std::fs::read_to_string(&out).expect("args"),
        format!("set|_acme-challenge.x.org|{value}|")
    );
}

#[test]
fn dns_hook_failure_names_hook_and_last_stderr_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hook = script(
        dir.path(),
        "echo progress >&2; echo 'API token rejected' >&2; exit 3",
    );
    let err = dns_hook::run(
        &hook,
        dns_hook::HookAction::Clear,
        "_acme-challenge.x.org",
        "v",
        Duration::from_secs(10),
    )
    .expect_err("must fail");
    let text = err.to_string();
    assert!(matches!(err, AcmeError::HookFailed { .. }));
    assert!(text.contains("hook.sh") && text.contains("clear"), "{text}");
    assert!(text.ends_with("API token rejected"), "{text}");
    let missing = dns_hook::run(
        &dir.path().join("nope"),
        dns_hook::HookAction::Set,
        "r",
        "v",
        Duration::from_secs(1),
    )
    .expect_err("missing hook");
    assert!(missing.to_string().contains("cannot start"), "{missing}");
}

#[test]
fn dns_hook_is_stopped_at_its_time_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hook = script(dir.path(), "exec sleep 30");
    let started = Instant::now();
    let err = dns_hook::run(
        &hook,
        dns_hook::HookAction::Set,
        "r",
        "v",
        Duration::from_millis(300),
    )
    .expect_err("must time out");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(err.to_string().contains("did not finish"), "{err}");
}
