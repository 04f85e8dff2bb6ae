//! End-to-end test harness: starts the real `fin` binary with a temporary
//! state folder and port 0, talks HTTPS to it with a client that trusts
//! exactly its certificate, runs the real `finctl`, and cleans up on drop.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use fin_proto::{LISTENERS_FILE, Listeners};

/// How long a daemon may take to become ready in a test (debug build, slow CI).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Path of a workspace binary built beside this test (`cargo build` first).
pub fn bin(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("FIN_BIN_DIR") {
        return PathBuf::from(dir).join(name);
    }
    // target/<profile>/deps/<test-binary> -> target/<profile>/<name>
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "{} not found: build the binaries first (cargo build --workspace --bins), or set FIN_BIN_DIR",
        path.display()
    );
    path
}

/// The SROIE development receipts (`../shared/fixtures/receipts-sroie-dev`
/// beside the repository, or `FIN_TEST_RECEIPTS`), or `None` with a note on
/// stderr saying why the calling test skips.
pub fn receipt_fixtures(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("FIN_TEST_RECEIPTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/receipts-sroie-dev")
        });
    if dir.join("entities").is_dir() && dir.join("img").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: the receipt fixtures are not at {} (set FIN_TEST_RECEIPTS to their folder)",
            dir.display()
        );
        None
    }
}

/// A temporary box: its folder, its configuration, and a daemon when started.
pub struct TestBox {
    dir: tempfile::TempDir,
    extra_config: String,
    env: Vec<(String, String)>,
}

impl TestBox {
    pub fn new() -> Self {
        Self::with_config("")
    }

    /// `extra` is appended to the generated configuration (TOML).
    pub fn with_config(extra: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("fin-e2e-")
            .tempdir()
            .expect("tempdir");
        TestBox {
            dir,
            extra_config: extra.to_string(),
            env: Vec::new(),
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn state_dir(&self) -> PathBuf {
        self.path().join("state")
    }

    pub fn config_path(&self) -> PathBuf {
        self.path().join("fin.toml")
    }

    pub fn socket_path(&self) -> PathBuf {
        self.path().join("admin.sock")
    }

    /// Writes the configuration: loopback port 0 everywhere, everything under the temp folder.
    pub fn write_config(&self) {
        let text = format!(
            r#"[server]
https_listen = "127.0.0.1:0"
http_listen = "127.0.0.1:0"
hostnames = ["localhost", "127.0.0.1"]
shutdown_grace_seconds = 5

[paths]
state_dir = "{state}"
log_dir = "{log}"

[metrics]
listen = "127.0.0.1:0"

[admin]
socket = "{socket}"
group = ""

{extra}
"#,
            state = self.state_dir().display(),
            log = self.path().join("log").display(),
            socket = self.socket_path().display(),
            extra = self.extra_config,
        );
        std::fs::write(self.config_path(), text).expect("write config");
    }

    /// `fin` with this box's configuration and environment (not started).
    pub fn fin_command(&self) -> Command {
        let mut cmd = Command::new(bin("fin"));
        cmd.arg("--config").arg(self.config_path());
        cmd.env_remove("RUST_LOG");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Starts the daemon and waits until it has written its listeners file.
    pub fn start(&self) -> Daemon {
        self.write_config();
        let _ = std::fs::remove_file(self.state_dir().join(LISTENERS_FILE));
        let stdout = std::fs::File::create(self.path().join("stdout.log")).expect("stdout file");
        let stderr = std::fs::File::create(self.path().join("stderr.log")).expect("stderr file");
        let child = self
            .fin_command()
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("spawn fin");
        let mut daemon = Daemon {
            child: Some(child),
            listeners: None,
            dir: self.path().to_path_buf(),
        };
        daemon.wait_ready(&self.state_dir());
        daemon
    }

    /// Runs `finctl` against this box's admin socket.
    pub fn finctl(&self, args: &[&str]) -> Output {
        Command::new(bin("finctl"))
            .arg("--socket")
            .arg(self.socket_path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run finctl")
    }

    /// Starts `finctl` in the background, its output discarded: for work a
    /// test interrupts (a backup or restore killed halfway).
    pub fn finctl_spawn(&self, args: &[&str]) -> std::process::Child {
        Command::new(bin("finctl"))
            .arg("--socket")
            .arg(self.socket_path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run finctl")
    }

    /// Runs `finctl` with `stdin` on its standard input (e.g. a password).
    pub fn finctl_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = Command::new(bin("finctl"))
            .arg("--socket")
            .arg(self.socket_path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run finctl");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("finctl output")
    }

    /// An HTTPS client for `daemon` that trusts exactly its self-signed certificate.
    pub fn client(&self, daemon: &Daemon) -> reqwest::Client {
        daemon
            .client_trusting(&self.self_signed_cert())
            .build()
            .expect("client")
    }

    /// The self-signed certificate the daemon generated (PEM).
    pub fn self_signed_cert(&self) -> Vec<u8> {
        std::fs::read(self.state_dir().join("tls/self-signed.crt"))
            .expect("self-signed certificate")
    }
}

impl Default for TestBox {
    fn default() -> Self {
        Self::new()
    }
}

/// A running `fin`; killed on drop if still running.
pub struct Daemon {
    child: Option<Child>,
    listeners: Option<Listeners>,
    dir: PathBuf,
}

impl Daemon {
    fn wait_ready(&mut self, state_dir: &Path) {
        let file = state_dir.join(LISTENERS_FILE);
        let deadline = Instant::now() + START_TIMEOUT;
        let pid = self.pid();
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("try_wait"))
            {
                panic!("fin exited during start ({status}):\n{}", self.output());
            }
            if let Ok(text) = std::fs::read_to_string(&file)
                && let Ok(listeners) = serde_json::from_str::<Listeners>(&text)
                && listeners.pid == pid
            {
                self.listeners = Some(listeners);
                return;
            }
            assert!(
                Instant::now() < deadline,
                "fin did not become ready in time:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .map(Child::id)
            .expect("daemon was started")
    }

    pub fn listeners(&self) -> &Listeners {
        self.listeners.as_ref().expect("daemon is ready")
    }

    pub fn https_addr(&self) -> SocketAddr {
        self.listeners().https.parse().expect("https address")
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.listeners()
            .http
            .as_deref()
            .expect("http listener")
            .parse()
            .expect("http address")
    }

    pub fn metrics_addr(&self) -> SocketAddr {
        self.listeners()
            .metrics
            .as_deref()
            .expect("metrics listener")
            .parse()
            .expect("metrics address")
    }

    /// The metrics page, as Prometheus scrapes it.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("http://{}/metrics", self.metrics_addr()))
            .await
            .expect("scrape")
            .text()
            .await
            .expect("text")
    }

    /// `https://localhost:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.https_addr().port())
    }

    /// An HTTPS client that trusts only `cert_pem` and resolves localhost to the daemon.
    pub fn client_trusting(&self, cert_pem: &[u8]) -> reqwest::ClientBuilder {
        let cert = reqwest::Certificate::from_pem(cert_pem).expect("certificate PEM");
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(cert)
            .resolve("localhost", self.https_addr())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid() as i32), signal)
            .expect("send signal");
    }

    /// SIGTERM, then waits (at most 30 s) for the exit status.
    pub fn stop(&mut self) -> ExitStatus {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        self.wait(Duration::from_secs(30))
    }

    /// Waits for the process to end, killing it after `limit`.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        let child = self.child.as_mut().expect("daemon was started");
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("fin did not stop within {limit:?}:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the daemon printed so far (stdout and stderr).
    pub fn output(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        format!(
            "--- stdout ---\n{}--- stderr ---\n{}",
            read("stdout.log"),
            read("stderr.log")
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Text of a command's stdout and stderr, for assertions and failure messages.
pub fn text(output: &Output) -> String {
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The password every test account gets (the password policy accepts it).
pub const PASSWORD: &str = "vivid otter harbours 42 plums";

/// A running box and a client that trusts exactly its certificate, with the
/// moves most tests make: accounts, logging in, JSON requests, uploads.
/// `token` is the signed-in user's access token (empty until `sign_in`).
pub struct Api {
    pub testbox: TestBox,
    pub daemon: Daemon,
    pub client: reqwest::Client,
    pub token: String,
}

impl Api {
    /// Starts the daemon of `testbox`.
    pub fn start(testbox: TestBox) -> Api {
        let daemon = testbox.start();
        let client = trusting_client(&testbox, &daemon);
        Api {
            testbox,
            daemon,
            client,
            token: String::new(),
        }
    }

    /// Starts the daemon again (after a stop or a kill), with a new client.
    pub fn restart(&mut self) {
        self.daemon = self.testbox.start();
        self.client = trusting_client(&self.testbox, &self.daemon);
    }

    /// Adds an account with [`PASSWORD`] through `finctl user add`.
    pub fn add_user(&self, name: &str, role: &str) {
        let output = self.testbox.finctl_with_stdin(
            &["user", "add", name, "--role", role, "--password-stdin"],
            &format!("{PASSWORD}\n"),
        );
        assert!(output.status.success(), "{}", text(&output));
    }

    /// Logs `name` in with [`PASSWORD`]: the token pair.
    pub async fn login(&self, name: &str) -> serde_json::Value {
        let (status, body) = self
            .post(
                "/api/v1/auth/login",
                None,
                &serde_json::json!({"username": name, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        body
    }

    /// Logs `name` in and keeps the access token for later requests.
    pub async fn sign_in(&mut self, name: &str) -> String {
        let tokens = self.login(name).await;
        self.token = tokens["access_token"]
            .as_str()
            .expect("access token")
            .to_string();
        self.token.clone()
    }

    /// `method path`, with `token` and a JSON `body` when given: the response.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method.clone(), self.daemon.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// As [`Api::send`]: the status and the JSON body (`null` when not JSON).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        json_of(self.send(method, path, token, body).await).await
    }

    /// `POST path` with a JSON body, with `token` if given.
    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// `GET path` as the signed-in user.
    pub async fn get(&self, path: &str) -> (reqwest::StatusCode, serde_json::Value) {
        self.get_as(path, &self.token).await
    }

    /// `GET path` with `token`.
    pub async fn get_as(
        &self,
        path: &str,
        token: &str,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    /// Who `token` belongs to.
    pub async fn me(&self, token: &str) -> (reqwest::StatusCode, serde_json::Value) {
        self.get_as("/api/v1/auth/me", token).await
    }

    /// Uploads a receipt as the request body, as the signed-in user.
    pub async fn upload_raw(
        &self,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> (
        reqwest::StatusCode,
        serde_json::Value,
        reqwest::header::HeaderMap,
    ) {
        let response = self
            .client
            .post(self.daemon.url("/api/v1/receipts"))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .expect("upload");
        let headers = response.headers().clone();
        let (status, body) = json_of(response).await;
        (status, body, headers)
    }

    /// Uploads a receipt as the multipart field `file`, as the signed-in user.
    pub async fn upload_form(
        &self,
        bytes: Vec<u8>,
        file_type: &str,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name("receipt")
            .mime_str(file_type)
            .expect("mime");
        let form = reqwest::multipart::Form::new().part("file", part);
        let request = self
            .client
            .post(self.daemon.url("/api/v1/receipts"))
            .bearer_auth(&self.token)
            .multipart(form);
        json_of(request.send().await.expect("upload")).await
    }

    /// Polls a receipt until OCR has finished with it.
    pub async fn wait_finished(&self, id: &str, limit: Duration) -> serde_json::Value {
        let started = Instant::now();
        loop {
            let (status, receipt) = self.get(&format!("/api/v1/receipts/{id}")).await;
            assert_eq!(status, reqwest::StatusCode::OK, "{receipt}");
            if receipt["status"] == "done" || receipt["status"] == "failed" {
                return receipt;
            }
            assert!(
                started.elapsed() < limit,
                "receipt {id} still {} after {limit:?}\n{}",
                receipt["status"],
                self.daemon.output()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

fn trusting_client(testbox: &TestBox, daemon: &Daemon) -> reqwest::Client {
    testbox.client(daemon)
}

/// A response's status and JSON body (`null` when the body is not JSON).
async fn json_of(response: reqwest::Response) -> (reqwest::StatusCode, serde_json::Value) {
    let status = response.status();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}
