//! `finctl setup`: writes the configuration and prepares the folders and
//! secrets the daemon needs. Safe to run again: it never replaces an existing
//! configuration without `--force` and never regenerates an existing secret.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::CtlError;

/// File name of the JWT signing secret under `<state_dir>/secrets/`.
pub const JWT_SECRET_FILE: &str = "jwt.key";
/// The system user and group the package creates.
const SERVICE_ACCOUNT: &str = "fin";

#[derive(Debug, clap::Args)]
pub struct SetupArgs {
    /// Configuration file to write.
    #[arg(long, value_name = "FILE", default_value = "/etc/fin/fin.toml")]
    pub config: PathBuf,
    /// A name this box answers to (repeat for several); used for the certificate.
    #[arg(long = "hostname", value_name = "NAME")]
    pub hostnames: Vec<String>,
    /// How HTTPS gets its certificate.
    #[arg(long, value_enum)]
    pub tls_mode: Option<TlsMode>,
    /// PEM certificate chain (with --tls-mode files).
    #[arg(long, value_name = "FILE")]
    pub cert_file: Option<PathBuf>,
    /// PEM private key (with --tls-mode files).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// E-mail for the ACME account (with --tls-mode acme): the CA writes about expiry.
    #[arg(long, value_name = "EMAIL")]
    pub acme_email: Option<String>,
    /// ACME CA: letsencrypt-staging (untrusted certificates, generous limits:
    /// try it first), letsencrypt, or a directory URL.
    #[arg(long, value_name = "CA", default_value = "letsencrypt-staging")]
    pub acme_directory: String,
    /// dns-01 hook command (with --tls-mode acme), for boxes that port 80
    /// cannot reach or for wildcard names; without it http-01 on port 80 is used.
    #[arg(long, value_name = "FILE")]
    pub acme_dns_hook: Option<PathBuf>,
    #[arg(long, value_name = "DIR", default_value = "/var/lib/fin")]
    pub state_dir: PathBuf,
    #[arg(long, value_name = "DIR", default_value = "/var/log/fin")]
    pub log_dir: PathBuf,
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:443")]
    pub https_listen: String,
    /// Plain HTTP listener (redirects to HTTPS); "" disables it.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:80")]
    pub http_listen: String,
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9464")]
    pub metrics_listen: String,
    #[arg(long, value_name = "PATH", default_value = "/run/fin/admin.sock")]
    pub admin_socket: PathBuf,
    /// Replace an existing configuration file.
    #[arg(long)]
    pub force: bool,
    /// Never prompt; take flags and defaults as they are.
    #[arg(long)]
    pub non_interactive: bool,
    /// Create this first admin account (through the running daemon; the
    /// password is generated and shown once, or read with --admin-password-stdin).
    #[arg(long, value_name = "NAME")]
    pub admin: Option<String>,
    /// Read the first admin's password from standard input.
    #[arg(long, requires = "admin")]
    pub admin_password_stdin: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsMode {
    SelfSigned,
    Files,
    /// From Let's Encrypt (or another ACME CA), renewed automatically.
    Acme,
}

/// What setup did, for humans and for `--json`.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub config: String,
    pub config_written: bool,
    pub created: Vec<String>,
    pub kept: Vec<String>,
    pub notes: Vec<String>,
    /// The first admin, when one was created.
    pub admin: Option<String>,
    /// Its generated password, shown once.
    pub admin_password: Option<String>,
}

pub fn run(mut args: SetupArgs, json: bool) -> Result<(), CtlError> {
    if !args.non_interactive && std::io::stdin().is_terminal() {
        prompt_missing(&mut args)?;
    }
    let mut report = apply(&args)?;
    if args.tls_mode == Some(TlsMode::Acme) {
        report.notes.push(acme_note(&args));
    }
    if let Some(name) = &args.admin {
        first_admin(&args, name, &mut report)?;
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| CtlError::Other(e.to_string()))?
        );
    } else {
        print_report(&report);
    }
    Ok(())
}

pub fn apply(args: &SetupArgs) -> Result<Report, CtlError> {
    validate(args)?;
    let owner = service_account();
    let mut report = Report {
        config: args.config.display().to_string(),
        ..Report::default()
    };

    for (dir, mode) in [
        (args.state_dir.clone(), 0o750),
        (args.state_dir.join("secrets"), 0o700),
        (args.log_dir.clone(), 0o750),
    ] {
        if ensure_dir(&dir, mode, owner)? {
            report.created.push(format!("{} ({mode:o})", dir.display()));
        } else {
            report.kept.push(dir.display().to_string());
        }
    }

    let secret = args.state_dir.join("secrets").join(JWT_SECRET_FILE);
    if secret.exists() {
        tighten_mode(&secret, &mut report)?;
        report.kept.push(secret.display().to_string());
    } else {
        write_new_file(
            &secret,
            format!("{}\n", random_hex(32)?).as_bytes(),
            0o600,
            owner,
        )?;
        report
            .created
            .push(format!("{} (600, JWT signing secret)", secret.display()));
    }

    if args.config.exists() && !args.force {
        report.kept.push(args.config.display().to_string());
        report.notes.push(format!(
            "kept the existing {} (use --force to replace it)",
            args.config.display()
        ));
    } else {
        if let Some(parent) = args.config.parent() {
            ensure_dir(parent, 0o755, None)?;
        }
        replace_file(
            &args.config,
            render_config(args).as_bytes(),
            0o640,
            owner.map(|(_, gid)| gid),
        )?;
        report.config_written = true;
    }
    if owner.is_none() {
        report.notes.push(format!(
            "no '{SERVICE_ACCOUNT}' system user here: files belong to the current user (the package creates that user)"
        ));
    }
    Ok(report)
}

fn validate(args: &SetupArgs) -> Result<(), CtlError> {
    for name in &args.hostnames {
        if name.is_empty()
            || name
                .chars()
                .any(|c| c.is_whitespace() || c == '"' || c == '/')
        {
            return Err(CtlError::Other(format!(
                "--hostname {name:?} is not a host name"
            )));
        }
    }
    if args.tls_mode == Some(TlsMode::Acme) {
        if args
            .acme_dns_hook
            .as_ref()
            .is_some_and(|h| !h.is_absolute())
        {
            return Err(CtlError::Other(
                "--acme-dns-hook must be an absolute path".into(),
            ));
        }
        if args.acme_dns_hook.is_none() && args.http_listen.is_empty() {
            return Err(CtlError::Other(
                "--tls-mode acme without --acme-dns-hook proves the names over http-01 on port 80: keep --http-listen".into(),
            ));
        }
    }
    if args.tls_mode == Some(TlsMode::Files)
        && (args.cert_file.is_none() || args.key_file.is_none())
    {
        return Err(CtlError::Other(
            "--tls-mode files needs --cert-file and --key-file (PEM files readable by the fin user)".into(),
        ));
    }
    for (flag, path) in [
        ("--config", &args.config),
        ("--state-dir", &args.state_dir),
        ("--log-dir", &args.log_dir),
        ("--admin-socket", &args.admin_socket),
    ] {
        if !path.is_absolute() {
            return Err(CtlError::Other(format!(
                "{flag} must be an absolute path, not {}",
                path.display()
            )));
        }
    }
    Ok(())
}

fn prompt_missing(args: &mut SetupArgs) -> Result<(), CtlError> {
    let stdin = std::io::stdin();
    let ask = |question: &str, default: &str| -> Result<String, CtlError> {
        print!("{question} [{default}]: ");
        std::io::stdout()
            .flush()
            .map_err(|e| CtlError::Other(e.to_string()))?;
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| CtlError::Other(e.to_string()))?;
        let line = line.trim();
        Ok(if line.is_empty() {
            default.to_string()
        } else {
            line.to_string()
        })
    };
    if args.hostnames.is_empty() {
        let answer = ask(
            "Host names for this box (comma-separated)",
            &default_hostname(),
        )?;
        args.hostnames = answer
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    if args.tls_mode.is_none() {
        let answer = ask(
            "TLS certificate: self-signed, files or acme (Let's Encrypt)",
            "self-signed",
        )?;
        args.tls_mode = Some(match answer.as_str() {
            "files" => TlsMode::Files,
            "self-signed" => TlsMode::SelfSigned,
            "acme" => TlsMode::Acme,
            other => {
                return Err(CtlError::Other(format!(
                    "unknown TLS mode {other:?}: answer self-signed, files or acme"
                )));
            }
        });
    }
    if args.tls_mode == Some(TlsMode::Files) {
        if args.cert_file.is_none() {
            args.cert_file = Some(PathBuf::from(ask(
                "Certificate chain (PEM)",
                "/etc/fin/tls/fullchain.pem",
            )?));
        }
        if args.key_file.is_none() {
            args.key_file = Some(PathBuf::from(ask(
                "Private key (PEM)",
                "/etc/fin/tls/privkey.pem",
            )?));
        }
    }
    if args.tls_mode == Some(TlsMode::Acme) && args.acme_email.is_none() {
        let answer = ask("E-mail for the certificate authority (optional)", "")?;
        args.acme_email = Some(answer).filter(|a| !a.is_empty());
    }
    if args.admin.is_none() {
        let answer = ask("First admin account (empty: none now)", "admin")?;
        args.admin = Some(answer).filter(|a| !a.is_empty());
    }
    Ok(())
}

fn default_hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

/// What the operator must arrange for ACME to work.
fn acme_note(args: &SetupArgs) -> String {
    let names = args.hostnames.join(", ");
    let proof = match &args.acme_dns_hook {
        Some(hook) => format!(
            "dns-01: {} will be run as `HOOK set _acme-challenge.NAME VALUE` and `HOOK clear ...`; it must update your DNS",
            hook.display()
        ),
        None => format!(
            "http-01: port 80 (here {}) must be reachable from the internet, and {names} must resolve to this box",
            args.http_listen
        ),
    };
    format!(
        "ACME from {}: {proof}; port 443 serves the certificate. Until the first one arrives a temporary self-signed certificate is served and /readyz says why; watch `finctl cert status`. Switch --acme-directory to letsencrypt once staging works.",
        args.acme_directory
    )
}

pub fn render_config(args: &SetupArgs) -> String {
    let hostnames = if args.hostnames.is_empty() {
        vec![default_hostname()]
    } else {
        args.hostnames.clone()
    };
    let hostnames: Vec<String> = hostnames.iter().map(|h| toml_string(h)).collect();
    let path = |p: &Path| toml_string(&p.display().to_string());
    let mut text = String::new();
    text += "# fin configuration, written by `finctl setup`.\n";
    text += "# Every key and its default is documented in the packaged example\n";
    text += "# (/usr/share/doc/fin/fin.toml) and in docs/configuration.md.\n";
    text += "# Overrides can go in conf.d/*.toml beside this file, or in FIN_SECTION__KEY variables.\n\n";
    text += "[server]\n";
    text += &format!("hostnames = [{}]\n", hostnames.join(", "));
    text += &format!("https_listen = {}\n", toml_string(&args.https_listen));
    text += &format!("http_listen = {}\n\n", toml_string(&args.http_listen));
    text += "[paths]\n";
    text += &format!("state_dir = {}\n", path(&args.state_dir));
    text += &format!("log_dir = {}\n\n", path(&args.log_dir));
    text += "[tls]\n";
    match (args.tls_mode, &args.cert_file, &args.key_file) {
        (Some(TlsMode::Files), Some(cert), Some(key)) => {
            text += "mode = \"files\"\n";
            text += &format!("cert_file = {}\n", path(cert));
            text += &format!("key_file = {}\n", path(key));
        }
        (Some(TlsMode::Acme), _, _) => {
            text += "mode = \"acme\"\n\n[tls.acme]\n";
            text += "# letsencrypt-staging first: once it works, change to \"letsencrypt\".\n";
            text += &format!("directory = {}\n", toml_string(&args.acme_directory));
            text += &format!(
                "email = {}\n",
                toml_string(args.acme_email.as_deref().unwrap_or(""))
            );
            if let Some(hook) = &args.acme_dns_hook {
                text += &format!("dns_hook = {}\n", path(hook));
            }
        }
        _ => text += "mode = \"self-signed\"\n",
    }
    if args.tls_mode != Some(TlsMode::Acme)
        && let Some(email) = &args.acme_email
    {
        text += "\n[tls.acme]\n# Used once mode = \"acme\" (finctl setup --tls-mode acme).\n";
        text += &format!("email = {}\n", toml_string(email));
    }
    text += "\n[metrics]\n";
    text += &format!("listen = {}\n\n", toml_string(&args.metrics_listen));
    text += "[admin]\n";
    text += &format!("socket = {}\n", path(&args.admin_socket));
    text
}

/// Creates the first admin through the running daemon, which applies the
/// password policy and hashes the password; finctl never opens the database.
fn first_admin(args: &SetupArgs, name: &str, report: &mut Report) -> Result<(), CtlError> {
    use fin_proto::admin::{CreateUser, USERS_PATH, User};
    let client = crate::client::AdminClient::new(&args.admin_socket);
    let existing: Vec<User> = match client.get(USERS_PATH) {
        Ok(users) => users,
        Err(CtlError::NotRunning { .. }) => {
            report.notes.push(format!(
                "fin is not running, so no admin was created: start it (sudo systemctl start fin), then run: \
                 sudo finctl user add {name} --role admin --random-password"
            ));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if existing.iter().any(|u| u.role == "admin") {
        report
            .notes
            .push("an admin account exists already: none was created".into());
        return Ok(());
    }
    let (password, generated) = if args.admin_password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CtlError::Other(format!("cannot read the admin password: {e}")))?;
        (line.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (crate::user::random_password_text()?, true)
    };
    let user: User = client.post(
        USERS_PATH,
        &CreateUser {
            username: name.to_string(),
            email: None,
            role: "admin".into(),
            password: password.clone(),
        },
    )?;
    report.admin = Some(user.username);
    report.admin_password = generated.then_some(password);
    Ok(())
}

fn print_report(report: &Report) {
    if let Some(admin) = &report.admin {
        println!("created the admin account {admin}");
        if let Some(password) = &report.admin_password {
            println!(
                "its password: {password}   (shown once: keep it safe, change it after logging in)"
            );
        }
    }
    if report.config_written {
        println!("wrote {}", report.config);
    }
    for item in &report.created {
        println!("created {item}");
    }
    for note in &report.notes {
        println!("note: {note}");
    }
    if report.config_written {
        println!(
            "next: sudo systemctl restart fin (it reads the configuration at start; enable --now on a first start), then: sudo finctl status"
        );
    } else {
        println!("next: sudo finctl status");
    }
}

/// The `fin` system user's uid and gid, when the package created it.
fn service_account() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&SERVICE_ACCOUNT) && fields.len() > 3)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })
}

/// Creates `dir` with `mode` when missing; true when it was created.
fn ensure_dir(dir: &Path, mode: u32, owner: Option<(u32, u32)>) -> Result<bool, CtlError> {
    if dir.is_dir() {
        return Ok(false);
    }
    DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(|e| fs_error("create", dir, e))?;
    // The umask may have narrowed the mode; set it exactly.
    std::fs::set_permissions(dir, Permissions::from_mode(mode))
        .map_err(|e| fs_error("set the mode of", dir, e))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid))
            .map_err(|e| fs_error("change the owner of", dir, e))?;
    }
    Ok(true)
}

fn write_new_file(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), CtlError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| fs_error("create", path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| fs_error("write", path, e))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .map_err(|e| fs_error("change the owner of", path, e))?;
    }
    Ok(())
}

/// Writes through a temporary file and a rename, so a crash never leaves half a config.
fn replace_file(path: &Path, bytes: &[u8], mode: u32, group: Option<u32>) -> Result<(), CtlError> {
    let tmp = path.with_extension("toml.tmp");
    let _ = std::fs::remove_file(&tmp);
    write_new_file(&tmp, bytes, mode, None)?;
    if let Some(gid) = group {
        std::os::unix::fs::chown(&tmp, None, Some(gid))
            .map_err(|e| fs_error("change the group of", &tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| fs_error("replace", path, e))
}

fn tighten_mode(path: &Path, report: &mut Report) -> Result<(), CtlError> {
    let meta = std::fs::metadata(path).map_err(|e| fs_error("read", path, e))?;
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, Permissions::from_mode(0o600))
            .map_err(|e| fs_error("set the mode of", path, e))?;
        report.notes.push(format!(
            "{} was readable by others: set to 600",
            path.display()
        ));
    }
    Ok(())
}

fn random_hex(bytes: usize) -> Result<String, CtlError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| CtlError::Other(format!("no randomness from the system: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn fs_error(action: &str, path: &Path, e: std::io::Error) -> CtlError {
    CtlError::Other(format!(
        "cannot {action} {}: {e} (are you root? try sudo)",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: SetupArgs,
    }

    fn args(dir: &Path, extra: &[&str]) -> SetupArgs {
        let config = dir.join("etc/fin.toml");
        let state = dir.join("state");
        let log = dir.join("log");
        let sock = dir.join("admin.sock");
        let mut argv = vec![
            "setup".to_string(),
            "--non-interactive".into(),
            format!("--config={}", config.display()),
            format!("--state-dir={}", state.display()),
            format!("--log-dir={}", log.display()),
            format!("--admin-socket={}", sock.display()),
        ];
        argv.extend(extra.iter().map(|s| s.to_string()));
        Wrapper::parse_from(argv).args
    }

    #[test]
    fn creates_config_folders_and_a_private_secret_then_is_idempotent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = args(
            dir.path(),
            &["--hostname", "fin.lan", "--acme-email", "me@example.org"],
        );
        let report = apply(&a).expect("first run");
        assert!(report.config_written);
        let config = std::fs::read_to_string(&a.config).expect("config");
        assert!(config.contains("hostnames = [\"fin.lan\"]"), "{config}");
        assert!(config.contains("mode = \"self-signed\""), "{config}");
        assert!(config.contains("me@example.org"), "{config}");
        let secret_path = a.state_dir.join("secrets").join(JWT_SECRET_FILE);
        let secret = std::fs::read_to_string(&secret_path).expect("secret");
        assert_eq!(secret.trim().len(), 64, "256-bit secret in hex");
        let mode = std::fs::metadata(&secret_path)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let mode = std::fs::metadata(a.state_dir.join("secrets"))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700);

        let again = apply(&args(dir.path(), &["--hostname", "other.lan"])).expect("second run");
        assert!(
            !again.config_written,
            "an existing config is kept without --force"
        );
        assert_eq!(
            std::fs::read_to_string(&secret_path).expect("secret"),
            secret,
            "secret kept"
        );
        assert!(
            std::fs::read_to_string(&a.config)
                .expect("config")
                .contains("fin.lan")
        );

        let forced =
            apply(&args(dir.path(), &["--hostname", "other.lan", "--force"])).expect("forced");
        assert!(forced.config_written);
        assert!(
            std::fs::read_to_string(&a.config)
                .expect("config")
                .contains("other.lan")
        );
    }

    #[test]
    fn files_mode_needs_both_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = apply(&args(
            dir.path(),
            &["--tls-mode", "files", "--cert-file", "/x.pem"],
        ))
        .expect_err("no key");
        assert!(err.to_string().contains("--key-file"));
    }

    #[test]
    fn acme_mode_writes_staging_first_and_checks_how_names_are_proved() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = args(
            dir.path(),
            &[
                "--hostname",
                "fin.example.org",
                "--tls-mode",
                "acme",
                "--acme-email",
                "me@example.org",
            ],
        );
        let config = render_config(&a);
        assert!(config.contains("mode = \"acme\""), "{config}");
        assert!(config.contains("[tls.acme]\n"), "{config}");
        assert!(
            config.contains("directory = \"letsencrypt-staging\""),
            "{config}"
        );
        assert!(config.contains("email = \"me@example.org\""), "{config}");
        assert!(acme_note(&a).contains("port 80"));
        let err = apply(&args(
            dir.path(),
            &["--tls-mode", "acme", "--http-listen", ""],
        ))
        .expect_err("no way to prove the names");
        assert!(err.to_string().contains("--acme-dns-hook"), "{err}");
        let hooked = args(
            dir.path(),
            &[
                "--hostname",
                "fin.example.org",
                "--tls-mode",
                "acme",
                "--acme-dns-hook",
                "/usr/local/bin/dns-hook",
            ],
        );
        assert!(render_config(&hooked).contains("dns_hook = \"/usr/local/bin/dns-hook\""));
        assert!(acme_note(&hooked).contains("dns-01"));
    }
}
