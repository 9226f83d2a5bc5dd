//! `ccsqm sync` as a service (issue #23, items 3 to 5): `--metrics` serves `/metrics` that
//! Prometheus' own `promtool check metrics` accepts and a real Prometheus scrapes (its query
//! API gives the stored calls, equal to the database's rows), `/healthz` and `/readyz`;
//! `--log-format json` writes only JSON lines, without the secrets; the systemd unit and the
//! Prometheus configuration of `contrib/` pass `systemd-analyze verify` and `promtool`.
//!
//! SQLite always, PostgreSQL when `CCSQM_TEST_POSTGRES_URL` names a server. Prometheus and
//! promtool come from Debian's `prometheus` package (`cargo xtask test` installs it, as root,
//! when missing); without them the tests say "skipped" and why, and fail unless
//! `CCSQM_TEST_ALLOW_SKIP=1`. Run them with `cargo xtask test -p ccsqm-cli --test service`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ccsqm_sandbox::{Faults, Sandbox};
use serde_json::Value;

mod common;
use common::databases::{backends, skip};
use common::{ccsqm, run_within, runtime, stderr};

const LIMIT: Duration = Duration::from_secs(120);

/// The sandbox's app secret: never said.
const SECRET: &str = "s3cr3t-of-the-service-tests";
/// A database password: never said.
const PASSWORD: &str = "pa55word-of-the-service-tests";

/// A tool of Prometheus (`promtool`, `prometheus`) on the PATH, or `None` after [`skip`].
fn tool(test: &str, name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        skip(
            test,
            &format!(
                "{name} is not installed (Debian's prometheus package; `cargo xtask test` \
                 installs it when run as root)"
            ),
        );
    }
    found
}

fn sandbox(rt: &tokio::runtime::Runtime, faults: Faults) -> Sandbox {
    rt.block_on(
        Sandbox::builder()
            .calls(600)
            .seed(23)
            .app_secret(SECRET)
            .faults(faults)
            .start(),
    )
    .unwrap()
}

/// `ccsqm sync` against `sandbox` (its secret in the environment) into `db`.
fn sync_cmd(sandbox: &Sandbox, db: &str) -> Command {
    let credentials = sandbox.credentials();
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", sandbox.base_url())
        .env("CCSQM_USER_ID", &credentials.user_id)
        .env("CCSQM_APP_KEY", &credentials.app_key)
        .env("CCSQM_APP_SECRET", credentials.app_secret.expose())
        .env("CCSQM_DB", db)
        .args(["sync"]);
    cmd
}

/// A PostgreSQL URL with a password (the test servers trust the loopback: it is never sent).
fn with_password(url: &str) -> String {
    match url.split_once("://") {
        Some(("postgres" | "postgresql", rest)) => {
            // A user without a password (`postgres@host`, as `cargo xtask test` gives it) gets
            // one too: else the check that no line shows it could not fail.
            let (user, at) = match rest.split_once('@') {
                Some((user, at)) => (user.split(':').next().unwrap_or(user), at),
                None => ("postgres", rest),
            };
            let (host, path) = at.split_once('/').unwrap_or((at, ""));
            format!("postgres://{user}:{PASSWORD}@{host}/{path}")
        }
        _ => url.to_owned(),
    }
}

/// A running `ccsqm sync --watch … --metrics 127.0.0.1:0 --log-format json`: its stderr's
/// lines as they come, the address it listens on.
struct Watch {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    address: SocketAddr,
}

impl Watch {
    fn start(mut cmd: Command) -> Watch {
        let mut child = cmd
            .args(["--metrics", "127.0.0.1:0", "--log-format", "json"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let into = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                into.lock().unwrap().push(line);
            }
        });
        let mut watch = Watch {
            child,
            lines,
            reader: Some(reader),
            address: "127.0.0.1:1".parse().unwrap(),
        };
        let started = Instant::now();
        watch.address = loop {
            let said = watch.events("metrics_listening");
            if let Some(event) = said.first() {
                break event["address"].as_str().unwrap().parse().unwrap();
            }
            if let Some(status) = watch.child.try_wait().unwrap() {
                panic!("ccsqm ended ({status}): {:?}", watch.lines());
            }
            assert!(
                started.elapsed() < LIMIT,
                "never listened: {:?}",
                watch.lines()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        watch
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// The JSON lines of one event (each line must be JSON).
    fn events(&self, event: &str) -> Vec<Value> {
        self.lines()
            .iter()
            .map(|l| json_line(l))
            .filter(|v| v["event"] == event)
            .collect()
    }

    fn wait_for(&self, what: &str, done: impl Fn(&Watch) -> bool) {
        let started = Instant::now();
        while !done(self) {
            assert!(
                started.elapsed() < LIMIT,
                "never: {what}: {:?}",
                self.lines()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then every line it said (exit 143: stopped as asked).
    fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = common::wait_within(&mut self.child, Instant::now(), LIMIT);
        assert_eq!(status.code(), Some(143), "{:?}", self.lines());
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        self.lines()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A line of `--log-format json`: a JSON object with a time, a level and an event.
fn json_line(line: &str) -> Value {
    let value: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
    for field in ["time", "level", "event"] {
        assert!(value[field].is_string(), "no {field}: {line}");
    }
    value
}

/// Every line is JSON, none shows a secret.
fn all_json_without_secrets(lines: &[String]) {
    assert!(!lines.is_empty());
    for line in lines {
        json_line(line);
        assert!(!line.contains(SECRET), "{line}");
        assert!(!line.contains(PASSWORD), "{line}");
    }
}

/// `GET path` of `address` (HTTP/1.0: the whole body, no chunks), with `accept`: the status
/// and the body.
fn get(address: &str, path: &str, accept: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {address}\r\n{accept}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}

/// The value of a sample without labels in the text format.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .find_map(|v| v.trim().parse().ok())
}

/// `promtool check metrics` on `text`: its verdict and what it said.
fn promtool_check_metrics(promtool: &Path, text: &str) -> (bool, String) {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let said = format!("{}{}", stderr(&output), common::stdout(&output));
    (output.status.success(), said)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Prometheus server of its own (a free port, a temporary storage) scraping `target` every
/// second; killed when dropped.
struct Prometheus {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(binary: &Path, target: SocketAddr) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: ccsqm-sync\n    static_configs:\n      \
                 - targets: [\"{target}\"]\n        labels:\n          tenant: default\n"
            ),
        )
        .unwrap();
        let address = format!("127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Prometheus {
            child,
            address,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// The value of an instant query's first sample, once there is one.
    fn query(&mut self, query: &str) -> f64 {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("prometheus ended ({status}): {}", self.log());
            }
            let encoded: String = query
                .bytes()
                .map(|b| match b.is_ascii_alphanumeric() || b == b'_' {
                    true => char::from(b).to_string(),
                    false => format!("%{b:02X}"),
                })
                .collect();
            let path = format!("/api/v1/query?query={encoded}");
            if let Ok(mut stream) = TcpStream::connect(&self.address) {
                drop(stream.set_read_timeout(Some(Duration::from_secs(10))));
                let _ = write!(stream, "GET {path} HTTP/1.0\r\n\r\n");
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
                if let Ok(value) = serde_json::from_str::<Value>(body) {
                    let found = value["data"]["result"][0]["value"][1]
                        .as_str()
                        .and_then(|v| v.parse().ok());
                    if let Some(found) = found {
                        return found;
                    }
                }
            }
            assert!(
                started.elapsed() < LIMIT,
                "prometheus never answered {query}: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A watch with `--metrics`: `/healthz` answers; `/readyz` once a round succeeded; `/metrics`
/// passes `promtool check metrics` (as it is served to a client that does not ask for
/// OpenMetrics) and its stored calls are the database's rows; a real Prometheus scrapes it
/// (asking for OpenMetrics) and its query API gives the same number, with the target up.
#[test]
fn metrics_pass_promtool_and_prometheus_reads_the_stored_calls() {
    let test = "service_metrics";
    let Some(promtool) = tool(test, "promtool") else {
        return;
    };
    let Some(prometheus) = tool(test, "prometheus") else {
        return;
    };
    let rt = runtime();
    let sandbox = sandbox(&rt, Faults::none());
    for backend in backends(test) {
        let db = with_password(&backend.url());
        let mut cmd = sync_cmd(&sandbox, &db);
        cmd.args(["--watch", "2s"]);
        let watch = Watch::start(cmd);
        let address = watch.address.to_string();
        assert_eq!(get(&address, "/healthz", None).0, 200);
        watch.wait_for("a round succeeded", |w| !w.events("round_end").is_empty());
        assert_eq!(get(&address, "/readyz", None).0, 200);
        assert_eq!(get(&address, "/nothing", None).0, 404);

        let (status, text) = get(&address, "/metrics", None);
        assert_eq!(status, 200);
        let (valid, said) = promtool_check_metrics(&promtool, &text);
        assert!(valid && said.trim().is_empty(), "promtool: {said}\n{text}");
        let rows = backend.count();
        assert!(rows > 0, "{}", backend.name());
        assert_eq!(
            sample(&text, "ccsqm_sync_calls_stored"),
            Some(rows as f64),
            "{text}"
        );
        for name in [
            "ccsqm_sync_last_success_timestamp_seconds",
            "ccsqm_sync_lag_seconds",
            "ccsqm_sync_calls_in_progress",
            "ccsqm_sync_transcripts_missing",
            "ccsqm_sync_request_retries_total",
            "ccsqm_sync_round_duration_seconds_count",
        ] {
            assert!(sample(&text, name).is_some(), "{name}: {text}");
        }
        assert!(
            text.contains("ccsqm_sync_rounds_total{outcome=\"succeeded\"}"),
            "{text}"
        );
        let (_, open) = get(
            &address,
            "/metrics",
            Some("application/openmetrics-text;version=1.0.0"),
        );
        assert!(open.ends_with("# EOF\n"), "{open}");

        let mut server = Prometheus::start(&prometheus, watch.address);
        assert_eq!(
            server.query("up{job=\"ccsqm-sync\"}"),
            1.0,
            "{}",
            backend.name()
        );
        assert_eq!(
            server.query("ccsqm_sync_calls_stored{job=\"ccsqm-sync\",tenant=\"default\"}"),
            rows as f64,
            "{}",
            backend.name()
        );
        assert!(server.query("ccsqm_sync_rounds_total{outcome=\"succeeded\"}") >= 1.0);
        drop(server);
        let lines = watch.stop();
        all_json_without_secrets(&lines);
    }
}

/// `--log-format json`: every line of stderr is a JSON object, with `-v`'s client events too:
/// a one-off sync (round start and end with the counts), a watch whose rounds fail (each
/// failure with its kind, not ready, the failed rounds counted), the final error with its
/// exit code and class; no secret in any (the app secret, the database's password).
#[test]
fn json_logs_are_json_lines_without_secrets() {
    let rt = runtime();
    let sandbox = sandbox(&rt, Faults::none());
    for backend in backends("service_json_logs") {
        let db = with_password(&backend.url());
        let output = run_within(
            sync_cmd(&sandbox, &db).args(["--log-format", "json", "-v"]),
            LIMIT,
        );
        assert!(output.status.success(), "{}", stderr(&output));
        let lines: Vec<String> = stderr(&output).lines().map(str::to_owned).collect();
        all_json_without_secrets(&lines);
        let events: Vec<Value> = lines.iter().map(|l| json_line(l)).collect();
        let end = events
            .iter()
            .find(|e| e["event"] == "round_end")
            .unwrap_or_else(|| panic!("{lines:?}"));
        assert_eq!(end["outcome"], "succeeded");
        assert_eq!(
            end["inserted"].as_i64(),
            Some(backend.count() as i64),
            "{end}"
        );
        assert_eq!(end["tenant"], "default");
        assert!(events.iter().any(|e| e["event"] == "round_start"));
        // -v: the client's requests, as JSON too.
        assert!(
            events
                .iter()
                .any(|e| e["event"] == "log" && e["path"].is_string()),
            "{lines:?}"
        );
    }

    // Rounds that fail (every answer a 503, no retry): said with their kind, not ready.
    let failing = sandbox_failing(&rt);
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("calls.sqlite3").display());
    let mut cmd = sync_cmd(&failing, &db);
    cmd.args(["--watch", "1s", "--max-retries", "0"]);
    let watch = Watch::start(cmd);
    let address = watch.address.to_string();
    watch.wait_for("a failed round", |w| !w.events("round_failed").is_empty());
    let failed = &watch.events("round_failed")[0];
    assert_eq!(failed["kind"], "server", "{failed}");
    assert!(failed["message"].as_str().is_some_and(|m| !m.is_empty()));
    let (status, body) = get(&address, "/readyz", None);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("no round has succeeded"), "{body}");
    assert_eq!(get(&address, "/healthz", None).0, 200);
    let (_, text) = get(&address, "/metrics", None);
    let failed_rounds = text
        .lines()
        .find_map(|l| l.strip_prefix("ccsqm_sync_rounds_total{outcome=\"failed\"} "))
        .and_then(|v| v.parse::<f64>().ok());
    assert!(failed_rounds.is_some_and(|n| n >= 1.0), "{text}");
    assert!(!text.contains("ccsqm_sync_lag_seconds"), "{text}");
    let lines = watch.stop();
    all_json_without_secrets(&lines);
    let last = json_line(lines.last().unwrap());
    assert_eq!(last["event"], "exit");
    assert_eq!(last["exit_code"], 143);

    // The final error: a JSON line with its exit code and class; the token not shown.
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", "http://127.0.0.1:9")
        .env("CCSQM_USER_ID", "u")
        .env("CCSQM_TOKEN", SECRET)
        .env("CCSQM_DB", &db)
        .args(["sync", "--max-retries", "0", "--log-format", "json"]);
    let output = run_within(&mut cmd, LIMIT);
    assert_eq!(output.status.code(), Some(6), "{}", stderr(&output));
    let lines: Vec<String> = stderr(&output).lines().map(str::to_owned).collect();
    all_json_without_secrets(&lines);
    let last = json_line(lines.last().unwrap());
    assert_eq!(last["event"], "exit", "{last}");
    assert_eq!(last["kind"], "network", "{last}");
    assert_eq!(last["exit_code"], 6, "{last}");
}

fn sandbox_failing(rt: &tokio::runtime::Runtime) -> Sandbox {
    sandbox(
        rt,
        Faults {
            error_rate: 1.0,
            ..Faults::none()
        },
    )
}

/// A command line refused by the parser, with `--log-format json`: a JSON line too (exit 2).
#[test]
fn a_refused_command_line_is_a_json_line_with_log_format_json() {
    for args in [
        &["sync", "--log-format", "json", "--watch", "0s"][..],
        &["sync", "--log-format=json", "--metrics", "not-an-address"],
    ] {
        let output = run_within(ccsqm().args(args), LIMIT);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        let lines: Vec<String> = stderr(&output).lines().map(str::to_owned).collect();
        all_json_without_secrets(&lines);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = json_line(&lines[0]);
        assert_eq!(line["kind"], "usage", "{line}");
    }
}

/// An address `--metrics` cannot listen on is the configuration's fault: exit 2, before any
/// request and before the database is created, said as JSON.
#[test]
fn metrics_address_taken_is_a_usage_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("calls.sqlite3");
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", "http://127.0.0.1:9")
        .env("CCSQM_USER_ID", "u")
        .env("CCSQM_TOKEN", SECRET)
        .args(["sync", "--watch", "1m", "--log-format", "json"])
        .args(["--metrics", &address, "--db"])
        .arg(&db);
    let output = run_within(&mut cmd, LIMIT);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        !db.exists(),
        "the database was created before the address was refused"
    );
    let lines: Vec<String> = stderr(&output).lines().map(str::to_owned).collect();
    all_json_without_secrets(&lines);
    let last = json_line(lines.last().unwrap());
    assert_eq!(last["kind"], "usage", "{last}");
    assert!(
        last["message"].as_str().unwrap().contains(&address),
        "{last}"
    );
}

/// `contrib/`: the systemd unit passes `systemd-analyze verify` (its `ccsqm` path pointed at
/// this build's binary, which the check requires to exist), the Prometheus configuration
/// `promtool check config` (with its rules), the rules `promtool check rules`, and the lag's
/// alert fires as `promtool test rules` expects.
#[test]
fn contrib_unit_and_prometheus_configuration_pass_their_checkers() {
    let test = "service_contrib";
    let contrib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contrib");
    if let Some(promtool) = tool(test, "promtool") {
        for args in [
            &["check", "config", "prometheus.yml"][..],
            &["check", "rules", "ccsqm-sync.rules.yml"],
            &["test", "rules", "ccsqm-sync.rules.test.yml"],
        ] {
            let output = Command::new(&promtool)
                .args(args)
                .current_dir(&contrib)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "promtool {args:?}: {}{}",
                common::stdout(&output),
                stderr(&output)
            );
        }
    }
    match Command::new("systemd-analyze").arg("--version").output() {
        Ok(found) if found.status.success() => {
            let unit = std::fs::read_to_string(contrib.join("ccsqm-sync.service")).unwrap();
            assert!(unit.contains("ExecStart=/usr/local/bin/ccsqm sync --watch"));
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("ccsqm-sync.service");
            std::fs::write(
                &path,
                unit.replace("/usr/local/bin/ccsqm", env!("CARGO_BIN_EXE_ccsqm")),
            )
            .unwrap();
            let output = Command::new("systemd-analyze")
                .arg("verify")
                .arg(&path)
                .output()
                .unwrap();
            let said = stderr(&output);
            assert!(
                output.status.success() && !said.contains("ccsqm-sync.service"),
                "systemd-analyze verify: {said}"
            );
        }
        _ => skip(test, "systemd-analyze is not installed (systemd)"),
    }
}
