//! Configuration errors reach the operator as one line naming key and value.

use fin_e2e::{TestBox, bin, text};

#[test]
fn a_bad_value_stops_the_daemon_with_the_key_named() {
    let testbox = TestBox::new().env("FIN_SERVER__HTTPS_LISTEN", "localhost-443");
    testbox.write_config();
    let output = testbox.fin_command().output().expect("run fin");
    assert_eq!(output.status.code(), Some(78), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("server.https_listen"), "{stderr}");
    assert!(stderr.contains("localhost-443"), "{stderr}");
    assert!(stderr.contains("IP address and port"), "{stderr}");
}

#[test]
fn check_config_accepts_a_valid_file_and_rejects_unknown_keys() {
    let testbox = TestBox::new();
    testbox.write_config();
    let output = testbox
        .fin_command()
        .arg("check-config")
        .output()
        .expect("run fin");
    assert!(output.status.success(), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("configuration is valid"));

    let typo = TestBox::with_config("[log]\nlevle = \"debug\"\n");
    typo.write_config();
    let output = typo
        .fin_command()
        .arg("check-config")
        .output()
        .expect("run fin");
    assert_eq!(output.status.code(), Some(78), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("levle"),
        "{}",
        text(&output)
    );

    let output = std::process::Command::new(bin("fin"))
        .args(["check-config", "--config", "/nonexistent/fin.toml"])
        .output()
        .expect("run fin");
    assert_eq!(output.status.code(), Some(78), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/fin.toml"));
}

#[test]
fn conf_d_overrides_the_main_file() {
    let testbox = TestBox::new();
    testbox.write_config();
    let conf_d = testbox.path().join("conf.d");
    std::fs::create_dir(&conf_d).expect("conf.d");
    std::fs::write(
        conf_d.join("50-typo.toml"),
        "[tls]\nmode = \"carrier-pigeon\"\n",
    )
    .expect("write");
    let output = testbox
        .fin_command()
        .arg("check-config")
        .output()
        .expect("run fin");
    assert_eq!(output.status.code(), Some(78), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("tls.mode"),
        "{}",
        text(&output)
    );
}
