//! Reliability suites beside `reliability.rs`: the real `ccsqm` binary against servers that echo
//! credentials, inject terminal escapes, ask for absurd waits or hand out odd tokens, and with
//! broken configuration.
//!
//! - `secrets_*`: whatever a server echoes, at any status, no token or app secret comes out.
//! - `injection_*`: server text never reaches the terminal with control or bidi characters.
//! - `hostile_*`: `Retry-After` beyond any deadline; the token interface's odd answers.
//! - `config_*`: configuration errors exit 2; the credential is chosen by layer; `--dry-run`
//!   makes the checks a real run makes; `-v` logs every request and where settings came from.
//!
//! Run them with `cargo test -p ccsqm-cli --test hardening`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ccsqm_sandbox::Sandbox;
use serde_json::{json, Value};

mod common;
use common::{ccsqm, run_within, stderr, stdout};

const USER_ID: &str = "1611917095665261978";
const SECRET_TOKEN: &str = "tok-RECOGNISABLE-7f3e1d";
const SECRET_APP_SECRET: &str = "appsecret-RECOGNISABLE-c0ffee";
const TOKEN_PATH: &str = "tokenByAkSk";

fn run(cmd: &mut Command) -> Output {
    run_within(cmd, Duration::from_secs(30))
}

/// A request as the server saw it: its path, and its whole text (head and body).
struct Seen {
    path: String,
    text: String,
}

/// An answer: status, content type, extra headers, body.
struct Reply {
    status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn reply(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Reply {
    Reply {
        status,
        content_type,
        headers: Vec::new(),
        body: body.into(),
    }
}

type Answer = dyn Fn(&Seen) -> Reply + Send + Sync;

/// A server on a free loopback port answering each request with `answer`; the paths of the
/// requests it saw, in order.
fn server(
    answer: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let answer: Arc<Answer> = Arc::new(answer);
    let paths = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let answer = answer.clone();
            let paths = paths.clone();
            std::thread::spawn(move || {
                stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
                let mut reader = BufReader::new(stream);
                let mut head = String::new();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let path = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                paths.lock().unwrap().push(path.clone());
                let seen = Seen {
                    path,
                    text: format!("{head}{}", String::from_utf8_lossy(&body)),
                };
                let r = answer(&seen);
                let mut stream = reader.into_inner();
                let mut out = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
                    r.status,
                    r.content_type,
                    r.body.len()
                );
                for (name, value) in &r.headers {
                    out.push_str(&format!("{name}: {value}\r\n"));
                }
                out.push_str("\r\n");
                let _ = stream.write_all(out.as_bytes());
                let _ = stream.write_all(&r.body);
                let _ = stream.flush();
            });
        }
    });
    (format!("http://{addr}"), seen)
}

/// A token answer of the token interface.
fn token_reply(token: &str, expires: Value) -> Reply {
    reply(
        200,
        "application/json",
        json!({"AccessToken": token, "Expires": expires}).to_string(),
    )
}

/// One page of `calls`, with `total`.
fn page_reply(calls: Vec<Value>, total: u64) -> Reply {
    reply(
        200,
        "application/json",
        json!({"data": [{"call_group_id": "g", "calls": calls}], "paging": {"total": total}})
            .to_string(),
    )
}

fn assert_no_secret(what: &str, output: &Output) {
    for (place, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        for secret in [SECRET_TOKEN, SECRET_APP_SECRET] {
            assert!(
                !text.contains(secret),
                "{what}: {secret} in {place}: {text}"
            );
        }
    }
}

/// Characters that must not reach a terminal: every control but the line ends `ccsqm` writes
/// itself, and the bidi controls.
fn assert_inert(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| *c != '\n' && ccsqm_client::is_unsafe_for_terminal(*c))
        .collect();
    assert!(bad.is_empty(), "{what}: {bad:?} in {text:?}");
}

// ---------------------------------------------------------------------------------------------
// Secrets

/// The bodies a server may echo a request in, at `status`: HTML, plain text, JSON that is not a
/// page (its serde error quotes the string).
fn echo(status: u16, seen: &Seen, shape: usize) -> Reply {
    match shape % 3 {
        0 => reply(
            status,
            "text/html",
            format!("<html><body><pre>{}</pre></body></html>", seen.text),
        ),
        1 => reply(status, "text/plain", seen.text.clone()),
        _ => reply(
            status,
            "application/json",
            json!({ "data": seen.text }).to_string(),
        ),
    }
}

const STATUSES: [u16; 13] = [
    200, 201, 400, 401, 403, 404, 409, 418, 429, 500, 502, 503, 504,
];

#[test]
fn secrets_echoed_by_the_api_at_any_status_never_appear() {
    for (i, status) in STATUSES.into_iter().enumerate() {
        for shape in [i, i + 1, i + 2] {
            // A fixed token, echoed in the Authorization header.
            let (url, _) = server(move |seen| echo(status, seen, shape));
            let output = run(ccsqm()
                .env("CCSQM_BASE_URL", &url)
                .env("CCSQM_USER_ID", USER_ID)
                .env("CCSQM_TOKEN", SECRET_TOKEN)
                .args(["details", "--max-retries", "0", "-vv"]));
            let what = format!("token, details answered {status} (shape {shape})");
            assert_ne!(output.status.code(), Some(0), "{what}: {}", stderr(&output));
            assert!(!stderr(&output).contains("panicked"), "{what}");
            assert_no_secret(&what, &output);

            // AK/SK: the token interface issues the recognisable token; the query echoes it.
            let (url, _) = server(move |seen| {
                if seen.path.contains(TOKEN_PATH) {
                    token_reply(SECRET_TOKEN, json!("600"))
                } else {
                    echo(status, seen, shape)
                }
            });
            let output = run(ccsqm()
                .env("CCSQM_BASE_URL", &url)
                .env("CCSQM_USER_ID", USER_ID)
                .env("CCSQM_APP_KEY", "app-key")
                .env("CCSQM_APP_SECRET", SECRET_APP_SECRET)
                .args(["details", "--max-retries", "0", "-vv"]));
            let what = format!("ak/sk, details answered {status} (shape {shape})");
            assert_ne!(output.status.code(), Some(0), "{what}: {}", stderr(&output));
            assert_no_secret(&what, &output);
        }
        // The token interface echoes the app secret (its body) at this status.
        let (url, _) = server(move |seen| echo(status, seen, i));
        for command in [vec!["details"], vec!["token"]] {
            let output = run(ccsqm()
                .env("CCSQM_BASE_URL", &url)
                .env("CCSQM_USER_ID", USER_ID)
                .env("CCSQM_APP_KEY", "app-key")
                .env("CCSQM_APP_SECRET", SECRET_APP_SECRET)
                .args(&command)
                .args(["--max-retries", "0", "-vv"]));
            let what = format!("{command:?}, the token interface answered {status}");
            assert_ne!(output.status.code(), Some(0), "{what}: {}", stderr(&output));
            assert!(
                stderr(&output).contains("tokenByAkSk"),
                "{what}: names the token interface: {}",
                stderr(&output)
            );
            assert_no_secret(&what, &output);
        }
    }
}

#[test]
fn secrets_any_bearer_value_in_server_text_is_removed() {
    let (url, _) = server(|_| {
        reply(
            403,
            "text/plain",
            "denied: authorization=Bearer someone-elses-token-123 (logged)",
        )
    });
    let output = run(ccsqm()
        .env("CCSQM_BASE_URL", &url)
        .env("CCSQM_USER_ID", USER_ID)
        .env("CCSQM_TOKEN", SECRET_TOKEN)
        .args(["details", "--max-retries", "0"]));
    assert_eq!(output.status.code(), Some(5));
    let err = stderr(&output);
    assert!(!err.contains("someone-elses-token-123"), "{err}");
    assert!(err.contains("Bearer ***"), "{err}");
}

/// A page that holds the token or the app secret in its data is written without them (a
/// secret in an export is a leak too); the rest of the page is untouched.
#[test]
fn secrets_in_the_data_of_a_page_are_not_written() {
    let (url, _) = server(|seen| {
        if seen.path.contains(TOKEN_PATH) {
            return token_reply(SECRET_TOKEN, json!("600"));
        }
        page_reply(
            vec![json!({
                "call_uuid": "c1", "staff_name": SECRET_TOKEN,
                "file_name": format!("{SECRET_APP_SECRET}.wav"), "staff_id": "s"
            })],
            1,
        )
    });
    for format in ["ndjson", "csv", "json", "table"] {
        let output = run(ccsqm()
            .env("CCSQM_BASE_URL", &url)
            .env("CCSQM_USER_ID", USER_ID)
            .env("CCSQM_APP_KEY", "k")
            .env("CCSQM_APP_SECRET", SECRET_APP_SECRET)
            .args(["details", "-o", format]));
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format}: {}",
            stderr(&output)
        );
        assert_no_secret(format, &output);
        let shown = if format == "table" { "***" } else { "***.wav" };
        assert!(
            stdout(&output).contains(shown),
            "{format}: {}",
            stdout(&output)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Terminal injection

const HOSTILE_TEXT: &str =
    "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31mred\r\nforged\tline\u{9b}1m\u{7f}\u{202e}exe.txt\u{2066}\u{200f}\u{61c}";

#[test]
fn injection_server_text_never_drives_the_terminal() {
    // The table: every text field of a call holds escapes.
    let call = json!({
        "call_uuid": HOSTILE_TEXT, "staff_name": HOSTILE_TEXT, "staff_id": HOSTILE_TEXT,
        "left_channel": HOSTILE_TEXT, "right_channel": HOSTILE_TEXT, "left_speech_ratio": 0.5,
        "call_type": 0, "status": 2, "call_time": 1_622_633_782, "duration": 61.0
    });
    let (url, _) = server(move |_| page_reply(vec![call.clone()], 1));
    let output = run(ccsqm()
        .env("CCSQM_BASE_URL", &url)
        .env("CCSQM_USER_ID", USER_ID)
        .env("CCSQM_TOKEN", "t")
        // No width limit: every cell whole, to be seen escaped.
        .env_remove("COLUMNS")
        .args(["details", "-o", "table"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = stdout(&output);
    assert_inert("the table", &table);
    assert_eq!(table.lines().count(), 2, "a header and one row: {table}");
    assert!(table.contains(r"\u{1b}]0;pwned"), "shown, escaped: {table}");

    // An error body, on stderr.
    let (url, _) = server(|_| reply(403, "text/html", HOSTILE_TEXT));
    let output = run(ccsqm()
        .env("CCSQM_BASE_URL", &url)
        .env("CCSQM_USER_ID", USER_ID)
        .env("CCSQM_TOKEN", "t")
        .args(["details", "--max-retries", "0"]));
    assert_eq!(output.status.code(), Some(5));
    assert_inert("an error body", &stderr(&output));
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));

    // A body that is not JSON, at 200.
    let (url, _) = server(|_| reply(200, "application/json", HOSTILE_TEXT));
    let output = run(ccsqm()
        .env("CCSQM_BASE_URL", &url)
        .env("CCSQM_USER_ID", USER_ID)
        .env("CCSQM_TOKEN", "t")
        .args(["details", "--max-retries", "0"]));
    assert_eq!(output.status.code(), Some(5));
    assert_inert("an unreadable body", &stderr(&output));

    // `ccsqm token`: Expires.
    let (url, _) = server(|_| token_reply("issued-token", json!(HOSTILE_TEXT)));
    let output = run(ccsqm()
        .env("CCSQM_BASE_URL", &url)
        .env("CCSQM_USER_ID", USER_ID)
        .env("CCSQM_APP_KEY", "k")
        .env("CCSQM_APP_SECRET", "s")
        .arg("token"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "issued-token\n");
    assert_inert("token's Expires", &stderr(&output));
    assert!(stderr(&output).contains("Expires"), "{}", stderr(&output));
}

// ---------------------------------------------------------------------------------------------
// Retry-After and the token interface

#[test]
fn hostile_a_retry_after_beyond_any_deadline_neither_panics_nor_waits() {
    for (asked, says) in [
        ("18446744073709551615", "days"),
        ("99999999999999999999999", "days"),
        ("97200", "27 h"),
        ("Thu, 01 Jan 2099 00:00:00 GMT", "days"),
    ] {
        let (url, seen) = server(move |_| Reply {
            headers: vec![("retry-after", asked.to_owned())],
            ..reply(503, "text/plain", "busy")
        });
        let started = Instant::now();
        let output = run(ccsqm()
            .env("CCSQM_BASE_URL", &url)
            .env("CCSQM_USER_ID", USER_ID)
            .env("CCSQM_TOKEN", "t")
            .args(["details", "--max-retries", "5"]));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(5), "{asked}: {err}");
        assert!(!err.contains("panicked"), "{asked}: {err}");
        assert!(
            err.contains("the server asked to wait") && err.contains("not waiting"),
            "{asked}: {err}"
        );
        assert!(err.contains(says), "{asked}: should say {says:?}: {err}");
        assert_eq!(seen.lock().unwrap().len(), 1, "{asked}: no retry");
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}

/// An export of three pages of one call each, through AK/SK, with the token interface
/// answering `expires`: (output, token requests, page requests).
fn export_with_expires(expires: Value, args: &[&str]) -> (Output, usize, usize) {
    let (url, seen) = server(move |seen| {
        if seen.path.contains(TOKEN_PATH) {
            return token_reply("issued-token", expires.clone());
        }
        let page = ["1", "2", "3"]
            .into_iter()
            .find(|p| seen.text.contains(&format!("\"page\":{p}")))
            .unwrap_or("9");
        page_reply(vec![json!({ "call_uuid": format!("c{page}") })], 3)
    });
    let output = run(ccsqm()
        .env("CCSQM_BASE_URL", &url)
        .env("CCSQM_USER_ID", USER_ID)
        .env("CCSQM_APP_KEY", "k")
        .env("CCSQM_APP_SECRET", "s")
        .args(args));
    let paths = seen.lock().unwrap();
    let tokens = paths.iter().filter(|p| p.contains(TOKEN_PATH)).count();
    (output, tokens, paths.len() - tokens)
}

#[test]
fn hostile_an_expires_the_client_cannot_use_gets_the_default_lifetime_with_a_warning() {
    let all = ["details", "--all", "--limit", "1", "-o", "ndjson"];
    for expires in [
        json!("0"),
        json!("-5"),
        json!("soon"),
        json!(""),
        json!(0),
        json!(-30),
        json!(1.5),
        json!(["600"]),
    ] {
        let (output, tokens, pages) = export_with_expires(expires.clone(), &all);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{expires}: {err}");
        assert_eq!(stdout(&output).lines().count(), 3, "{expires}");
        assert_eq!(
            (tokens, pages),
            (1, 3),
            "{expires}: one token for the export"
        );
        assert!(
            err.contains("Expires") && err.contains("assuming 600 seconds"),
            "{expires}: a warning: {err}"
        );
        // `ccsqm token` says the same.
        let (output, _, _) = export_with_expires(expires.clone(), &["token"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{expires}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("warning") && stderr(&output).contains("600 seconds"),
            "{expires}: {}",
            stderr(&output)
        );
    }
    // A JSON number of seconds is read (with a warning: the spec says a string).
    let (output, tokens, _) = export_with_expires(json!(900), &all);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(tokens, 1);
    assert!(
        stderr(&output).contains("JSON number"),
        "{}",
        stderr(&output)
    );
    let (output, _, _) = export_with_expires(json!(900), &["token"]);
    assert!(
        stderr(&output).contains("900 seconds"),
        "{}",
        stderr(&output)
    );
    // A usable Expires: no warning at all.
    let (output, tokens, _) = export_with_expires(json!("600"), &all);
    assert_eq!((output.status.code(), tokens), (Some(0), 1));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "only the export's summary: {err}");
    assert!(
        err.starts_with("ccsqm: 3 call(s) written, with 0 paging warning(s);"),
        "{err}"
    );
}

#[test]
fn hostile_a_token_interface_without_a_usable_token_is_a_server_failure() {
    type Case = (&'static str, fn() -> Reply);
    let cases: [Case; 4] = [
        ("an empty AccessToken", || token_reply("", json!("600"))),
        ("a blank AccessToken", || token_reply("  ", json!("600"))),
        ("an HTML page at 200", || {
            reply(200, "text/html", "<html>maintenance</html>")
        }),
        ("JSON without a token", || {
            reply(200, "application/json", r#"{"Expires": "600"}"#)
        }),
    ];
    for (what, answer) in cases {
        let (url, seen) = server(move |_| answer());
        for command in ["details", "token"] {
            let output = run(ccsqm()
                .env("CCSQM_BASE_URL", &url)
                .env("CCSQM_USER_ID", USER_ID)
                .env("CCSQM_APP_KEY", "k")
                .env("CCSQM_APP_SECRET", "s")
                .arg(command));
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(5), "{what}, {command}: {err}");
            assert!(err.contains("tokenByAkSk"), "{what}, {command}: {err}");
            assert_eq!(stdout(&output), "", "{what}, {command}");
        }
        let paths = seen.lock().unwrap();
        assert!(
            paths.iter().all(|p| p.contains(TOKEN_PATH)),
            "{what}: no query sent with an empty token: {paths:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration

fn private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// `ccsqm details --dry-run` with an address and a user ID in the environment.
fn dry_run() -> Command {
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", "https://api.example.com")
        .env("CCSQM_USER_ID", USER_ID)
        .args(["details", "--dry-run"]);
    cmd
}

#[test]
fn config_errors_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let not_utf8 = dir.path().join("latin1.toml");
    std::fs::write(&not_utf8, b"[default]\nuser_id = \"caf\xe9\"\n").unwrap();
    let huge = dir.path().join("huge.toml");
    let mut big = b"[default]\n".to_vec();
    big.extend(std::iter::repeat_n(b'#', 1024 * 1024 + 1));
    std::fs::write(&huge, big).unwrap();
    let missing = dir.path().join("missing.toml");
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    /// (what, arguments, environment, what the message says)
    type Case = (
        &'static str,
        Vec<String>,
        Vec<(&'static str, String)>,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "a directory",
            vec!["--config".into(), folder.display().to_string()],
            vec![],
            "directory",
        ),
        (
            "a missing file",
            vec!["--config".into(), missing.display().to_string()],
            vec![],
            "missing.toml",
        ),
        (
            "a missing file, from the environment",
            vec![],
            vec![("CCSQM_CONFIG", missing.display().to_string())],
            "missing.toml",
        ),
        (
            "not UTF-8",
            vec!["--config".into(), not_utf8.display().to_string()],
            vec![],
            "UTF-8",
        ),
        (
            "over 1 MiB",
            vec!["--config".into(), huge.display().to_string()],
            vec![],
            "larger than",
        ),
        (
            "a missing --token-file",
            vec!["--token-file".into(), missing.display().to_string()],
            vec![],
            "missing.toml",
        ),
        (
            "a --token-file that is a directory",
            vec!["--token-file".into(), folder.display().to_string()],
            vec![],
            "folder",
        ),
        (
            "a missing --app-secret-file",
            vec![
                "--app-key".into(),
                "k".into(),
                "--app-secret-file".into(),
                missing.display().to_string(),
            ],
            vec![],
            "missing.toml",
        ),
        (
            "a missing CCSQM_APP_SECRET_FILE",
            vec!["--app-key".into(), "k".into()],
            vec![("CCSQM_APP_SECRET_FILE", missing.display().to_string())],
            "missing.toml",
        ),
    ];
    for (what, args, env, says) in cases {
        let mut cmd = dry_run();
        for (name, value) in env {
            cmd.env(name, value);
        }
        let output = run(cmd.args(&args));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(says), "{what}: should say {says:?}: {err}");
        assert_eq!(stdout(&output), "", "{what}");
    }
}

#[test]
fn config_an_unreadable_default_config_nobody_asked_for_is_a_warning() {
    let home = tempfile::tempdir().unwrap();
    // The default path is a directory.
    std::fs::create_dir_all(home.path().join("ccsqm/config.toml")).unwrap();
    let output = run(dry_run().env("XDG_CONFIG_HOME", home.path()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("warning: ignoring the config file"),
        "{}",
        stderr(&output)
    );
    // Named with --profile, it is an error.
    let output = run(dry_run()
        .env("XDG_CONFIG_HOME", home.path())
        .args(["--profile", "default"]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
fn config_the_credential_is_chosen_by_layer_and_its_source_is_said() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = rt.block_on(Sandbox::builder().calls(5).start()).unwrap();
    let credentials = sandbox.credentials().clone();
    let dir = tempfile::tempdir().unwrap();
    // A profile with a token the sandbox refuses.
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[default]\nbase_url = \"{}\"\nuser_id = \"{}\"\ntoken = \"{SECRET_TOKEN}\"\n",
            sandbox.base_url(),
            credentials.user_id
        ),
    )
    .unwrap();
    private(&config);
    let secret_file = dir.path().join("app_secret");
    std::fs::write(&secret_file, credentials.app_secret.expose()).unwrap();
    private(&secret_file);

    // The environment's app key and secret beat the profile's token.
    let env_ak_sk = |cmd: &mut Command| {
        cmd.arg("--config")
            .arg(&config)
            .env("CCSQM_APP_KEY", &credentials.app_key)
            .env("CCSQM_APP_SECRET", credentials.app_secret.expose());
    };
    let mut cmd = ccsqm();
    cmd.args(["details", "-o", "ndjson", "-v"]);
    env_ak_sk(&mut cmd);
    let output = run(&mut cmd);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).lines().count() >= 5);
    let err = stderr(&output);
    assert!(
        err.contains("app secret (for tokens from tokenByAkSk): from CCSQM_APP_SECRET"),
        "-v says where: {err}"
    );
    assert!(
        err.contains(&format!(
            "API address: from base_url of profile \"default\" of {}",
            config.display()
        )),
        "{err}"
    );
    assert_no_secret("-v", &output);

    let mut cmd = ccsqm();
    cmd.args(["details", "--dry-run"]);
    env_ak_sk(&mut cmd);
    let output = run(&mut cmd);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains("# app secret (for tokens from tokenByAkSk): from CCSQM_APP_SECRET"),
        "{out}"
    );
    assert!(out.contains("# app key: from CCSQM_APP_KEY"), "{out}");
    assert!(out.contains("# user ID: from user_id of profile"), "{out}");
    assert_no_secret("--dry-run", &output);

    // A flag beats the environment: --app-secret-file over CCSQM_TOKEN.
    let output = run(ccsqm()
        .args(["details", "-o", "ndjson", "--config"])
        .arg(&config)
        .env("CCSQM_TOKEN", SECRET_TOKEN)
        .args(["--app-key", &credentials.app_key, "--app-secret-file"])
        .arg(&secret_file)
        .arg("--dry-run"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("from --app-secret-file"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("# app key: from --app-key"),
        "{}",
        stdout(&output)
    );

    // Within one layer, a token comes before an app secret.
    let output = run(ccsqm()
        .args(["details", "--dry-run", "--config"])
        .arg(&config)
        .env("CCSQM_TOKEN", SECRET_TOKEN)
        .env("CCSQM_APP_KEY", "k")
        .env("CCSQM_APP_SECRET", SECRET_APP_SECRET));
    assert!(
        stdout(&output).contains("# token: from CCSQM_TOKEN"),
        "{}",
        stdout(&output)
    );
    // The profile's token is used when no other layer has a credential (and refused here).
    let output = run(ccsqm().args(["details", "--config"]).arg(&config));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
}

#[test]
fn config_dry_run_makes_the_checks_of_a_real_run() {
    /// (what, environment, arguments)
    type Case = (
        &'static str,
        Vec<(&'static str, &'static str)>,
        Vec<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            "plain http elsewhere",
            vec![("CCSQM_BASE_URL", "http://api.example.com")],
            vec![],
        ),
        (
            "a malformed URL",
            vec![("CCSQM_BASE_URL", "https://exa mple.com:99999")],
            vec![],
        ),
        (
            "not a URL",
            vec![("CCSQM_BASE_URL", "service.example.com")],
            vec![],
        ),
        (
            "a token base URL in plain http",
            vec![],
            vec!["--token-base-url", "http://tokens.example.com"],
        ),
        ("an empty user ID", vec![], vec!["--user-id", ""]),
        ("a blank user ID", vec![], vec!["--user-id", "   "]),
        (
            "a non-ASCII user ID",
            vec![],
            vec!["--user-id", "opérateur"],
        ),
        (
            "a control character in the user ID",
            vec![],
            vec!["--user-id", "a\tb"],
        ),
        (
            "an escape in the user ID",
            vec![],
            vec!["--user-id", "a\u{1b}[31mb"],
        ),
        (
            "an empty app key",
            vec![("CCSQM_TOKEN", "t")],
            vec!["--app-key", ""],
        ),
        (
            "a control character in the app key",
            vec![],
            vec!["--app-key", "k\u{7f}"],
        ),
        (
            "a token with a line break",
            vec![("CCSQM_TOKEN", "t\nX-Injected: 1")],
            vec![],
        ),
    ];
    for (what, env, args) in cases {
        for dry in [true, false] {
            let mut cmd = dry_run();
            if !dry {
                // The same settings without --dry-run (the real run must stop before sending).
                cmd = ccsqm();
                cmd.env("CCSQM_BASE_URL", "https://127.0.0.1:9")
                    .env("CCSQM_USER_ID", USER_ID)
                    .env("CCSQM_TOKEN", "t")
                    .args(["details", "--max-retries", "0"]);
            }
            for (name, value) in &env {
                cmd.env(name, value);
            }
            let output = run(cmd.args(&args));
            let err = stderr(&output);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{what} (dry run: {dry}): {err}"
            );
            assert_eq!(stdout(&output), "", "{what}");
            assert_inert(what, &err);
        }
    }
}

#[test]
fn config_v_logs_every_request() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = rt.block_on(Sandbox::builder().calls(30).start()).unwrap();
    let credentials = sandbox.credentials();
    let output = run(ccsqm()
        .env("CCSQM_BASE_URL", sandbox.base_url())
        .env("CCSQM_USER_ID", &credentials.user_id)
        .env("CCSQM_APP_KEY", &credentials.app_key)
        .env("CCSQM_APP_SECRET", credentials.app_secret.expose())
        .args(["details", "--all", "--limit", "10", "-o", "ndjson", "-v"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let calls = stdout(&output).lines().count();
    let pages = calls.div_ceil(10);
    let err = stderr(&output);
    let logged: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("ccsqm request"))
        .collect();
    assert_eq!(logged.len(), pages + 1, "every page and the token: {err}");
    assert!(
        logged
            .iter()
            .all(|l| l.contains("DEBUG") && l.contains("status=200")),
        "{err}"
    );
    assert_eq!(
        logged.iter().filter(|l| l.contains("tokenByAkSk")).count(),
        1,
        "{err}"
    );
    // Without -v: nothing.
    let output = run(ccsqm()
        .env("CCSQM_BASE_URL", sandbox.base_url())
        .env("CCSQM_USER_ID", &credentials.user_id)
        .env("CCSQM_APP_KEY", &credentials.app_key)
        .env("CCSQM_APP_SECRET", credentials.app_secret.expose())
        .args(["details", "-o", "ndjson"]));
    assert_eq!(stderr(&output), "");
}
