use std::io::Write;

use super::*;
use crate::domain::account::Registration;

fn opts(file: Option<PathBuf>, env: &[(&str, &str)]) -> LoadOptions {
    LoadOptions {
        file,
        dev_dir: None,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(text.as_bytes()).expect("write");
    path
}

#[test]
fn defaults_are_valid_and_match_the_design() {
    let s = RawConfig::default().validate().expect("defaults validate");
    assert_eq!(s.https_listen.port(), 443);
    assert_eq!(s.http_listen.map(|a| a.port()), Some(80));
    assert_eq!(
        s.metrics_listen.map(|a| a.to_string()),
        Some("127.0.0.1:9464".into())
    );
    assert_eq!(s.store_url, "surrealkv:///var/lib/fin/db");
    assert_eq!(s.admin_socket, PathBuf::from("/run/fin/admin.sock"));
    assert_eq!(s.tls, TlsSource::SelfSigned);
    assert_eq!(s.auth.registration, Registration::Closed);
    assert_eq!(
        (
            s.auth.argon2_memory_kib,
            s.auth.argon2_iterations,
            s.auth.argon2_parallelism
        ),
        (19_456, 2, 1),
        "OWASP minimum for argon2id"
    );
    assert_eq!(s.auth.access_token.as_secs(), 15 * 60);
}

#[test]
fn layers_apply_in_order_file_conf_d_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write_file(
        dir.path(),
        "fin.toml",
        "[server]\nhttps_listen = \"127.0.0.1:1001\"\nhttp_listen = \"127.0.0.1:1002\"\n[log]\nformat = \"json\"\n",
    );
    std::fs::create_dir(dir.path().join("conf.d")).expect("mkdir");
    write_file(
        &dir.path().join("conf.d"),
        "10-a.toml",
        "[server]\nhttp_listen = \"127.0.0.1:2002\"\n",
    );
    write_file(
        &dir.path().join("conf.d"),
        "20-b.toml",
        "[server]\nhttp_listen = \"127.0.0.1:3002\"\n",
    );
    write_file(
        &dir.path().join("conf.d"),
        "ignored.txt",
        "not toml at all [",
    );
    let loaded = load(&opts(
        Some(file),
        &[
            ("FIN_LOG__FORMAT", "text"),
            ("FIN_SERVER__HOSTNAMES", "a.example,b.example"),
            ("FIN_ADMIN_SOCKET", "/belongs/to/finctl"),
        ],
    ))
    .expect("load");
    let s = loaded.settings;
    assert_eq!(
        s.https_listen.to_string(),
        "127.0.0.1:1001",
        "file beats defaults"
    );
    assert_eq!(
        s.http_listen.map(|a| a.to_string()),
        Some("127.0.0.1:3002".into()),
        "conf.d in name order"
    );
    assert_eq!(s.log_format, LogFormat::Text, "environment beats files");
    assert_eq!(s.hostnames, vec!["a.example", "b.example"]);
    assert_eq!(loaded.sources.len(), 3);
}

#[test]
fn unknown_keys_are_errors_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write_file(
        dir.path(),
        "fin.toml",
        "[server]\nhttps_lisen = \"127.0.0.1:1\"\n",
    );
    let err = load(&opts(Some(file), &[]))
        .expect_err("typo must fail")
        .to_string();
    assert!(err.contains("https_lisen"), "{err}");

    let err = load(&opts(None, &[("FIN_SERVER__NOPE", "1")]))
        .expect_err("unknown env key")
        .to_string();
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn bad_values_name_key_value_and_what_is_allowed() {
    let err = load(&opts(
        None,
        &[("FIN_SERVER__HTTPS_LISTEN", "not-an-address")],
    ))
    .expect_err("bad address")
    .to_string();
    assert!(err.contains("server.https_listen"), "{err}");
    assert!(err.contains("not-an-address"), "{err}");
    assert!(err.contains("IP address and port"), "{err}");

    let err = load(&opts(None, &[("FIN_TLS__MODE", "plaintext")]))
        .expect_err("bad mode")
        .to_string();
    assert!(
        err.contains("tls.mode") && err.contains("self-signed"),
        "{err}"
    );

    let err = load(&opts(None, &[("FIN_LOG__MAX_FILES", "0")]))
        .expect_err("zero files")
        .to_string();
    assert!(
        err.contains("log.max_files") && err.contains("from 1"),
        "{err}"
    );

    let err = load(&opts(None, &[("FIN_LOG__LEVEL", "loud")]))
        .expect_err("bad level")
        .to_string();
    assert!(err.contains("log.level") && err.contains("loud"), "{err}");
    load(&opts(None, &[("FIN_LOG__LEVEL", "info,surrealdb=debug")])).expect("a filter is fine");

    let err = load(&opts(None, &[("FIN_STORE__URL", "postgres://x")]))
        .expect_err("bad url")
        .to_string();
    assert!(err.contains("store.url"), "{err}");

    let err = load(&opts(None, &[("FIN_SERVER__HOSTNAMES", "bad host")]))
        .expect_err("bad host")
        .to_string();
    assert!(err.contains("server.hostnames"), "{err}");
}

#[test]
fn an_explicit_missing_file_is_an_error() {
    let err = load(&opts(Some("/nonexistent/fin.toml".into()), &[]))
        .expect_err("missing")
        .to_string();
    assert!(err.contains("/nonexistent/fin.toml"), "{err}");
}

#[test]
fn dev_mode_keeps_everything_under_its_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loaded = load(&LoadOptions {
        file: None,
        dev_dir: Some(dir.path().to_path_buf()),
        env: Vec::new(),
    })
    .expect("dev config");
    let s = loaded.settings;
    assert!(s.state_dir.starts_with(dir.path()));
    assert!(s.log_dir.starts_with(dir.path()));
    assert!(s.admin_socket.starts_with(dir.path()));
    assert_eq!(s.https_listen.to_string(), "127.0.0.1:8443");
    assert_eq!(
        s.http_listen.map(|a| a.to_string()),
        Some("127.0.0.1:8080".into())
    );
    assert!(loaded.sources.is_empty());
}

/// The shipped `etc/fin.toml` lists every key, each commented out with its
/// true default, so the file and the code cannot drift apart.
#[test]
fn the_shipped_config_documents_every_key_with_its_default() {
    let shipped = include_str!("../../../etc/fin.toml");
    let mut uncommented = String::new();
    for line in shipped.lines() {
        let trimmed = line.trim_start();
        let is_key = trimmed
            .strip_prefix('#')
            .and_then(|rest| rest.split_once(" = "))
            .is_some_and(|(key, _)| {
                !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            });
        if trimmed.starts_with('[') {
            uncommented.push_str(trimmed);
        } else if is_key {
            uncommented.push_str(&trimmed[1..]);
        }
        uncommented.push('\n');
    }
    let documented: RawConfig =
        toml::from_str(&uncommented).expect("etc/fin.toml, uncommented, is a valid configuration");
    assert_eq!(
        documented,
        RawConfig::default(),
        "a documented default differs from the code"
    );

    let defaults: toml::Table =
        toml::Table::try_from(RawConfig::default()).expect("defaults as TOML");
    let shown: toml::Table = toml::from_str(&uncommented).expect("toml");
    for (section, keys) in &defaults {
        let keys = keys.as_table().expect("sections are tables");
        for key in keys.keys() {
            assert!(
                shown.get(section).and_then(|s| s.get(key)).is_some(),
                "etc/fin.toml does not document {section}.{key}"
            );
        }
    }
}

#[test]
fn acme_mode_is_checked_for_names_directory_and_a_way_to_prove_them() {
    let acme = |extra: &[(&str, &str)]| {
        let mut env = vec![("FIN_TLS__MODE", "acme")];
        env.extend_from_slice(extra);
        load(&opts(None, &env))
    };
    let err = acme(&[]).expect_err("localhost only").to_string();
    assert!(err.contains("tls.acme.domains"), "{err}");

    let settings = acme(&[(
        "FIN_SERVER__HOSTNAMES",
        "fin.example.org,10.0.0.2,localhost",
    )])
    .expect("names from hostnames");
    let crate::config::TlsSource::Acme(source) = settings.settings.tls else {
        panic!("acme mode");
    };
    assert_eq!(source.domains, ["fin.example.org"]);
    assert_eq!(source.directory, "letsencrypt");
    assert_eq!(source.dns_hook, None);

    let err = acme(&[
        ("FIN_TLS__ACME__DOMAINS", "fin.example.org"),
        ("FIN_SERVER__HTTP_LISTEN", ""),
    ])
    .expect_err("no way to answer http-01")
    .to_string();
    assert!(
        err.contains("server.http_listen") && err.contains("dns_hook"),
        "{err}"
    );

    let err = acme(&[("FIN_TLS__ACME__DOMAINS", "*.example.org")])
        .expect_err("wildcard needs dns-01")
        .to_string();
    assert!(err.contains("dns_hook"), "{err}");
    acme(&[
        ("FIN_TLS__ACME__DOMAINS", "*.example.org,example.org"),
        ("FIN_TLS__ACME__DNS_HOOK", "/usr/local/bin/dns-hook"),
    ])
    .expect("wildcard with a hook");

    let err = acme(&[
        ("FIN_TLS__ACME__DOMAINS", "fin.example.org"),
        ("FIN_TLS__ACME__DIRECTORY", "http://ca.example/dir"),
    ])
    .expect_err("plain http directory")
    .to_string();
    assert!(err.contains("tls.acme.directory"), "{err}");
}
