//! Setup and settings, through the real binary: `ccsqm configure` driven by stdin against the
//! sandbox, `ccsqm config show`, missing settings reported together, and a 400's reason.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ccsqm_sandbox::Sandbox;
use serde_json::Value;

mod common;
use common::{ccsqm, runtime, stderr, stdout, wait_within};

/// A value no test hard-codes: differs per run.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{}-{nanos:x}", std::process::id())
}

/// `ccsqm` where no keyring can be reached (no D-Bus session bus): the fallback is tested.
fn ccsqm_without_keyring() -> Command {
    let mut cmd = ccsqm();
    cmd.env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/ccsqm-test-bus",
    )
    .env("XDG_RUNTIME_DIR", "/nonexistent");
    cmd
}

/// Runs `cmd` with `input` on stdin.
fn run_with_stdin(cmd: &mut Command, input: &str) -> Output {
    let started = std::time::Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // A closed pipe (the command stopped reading) is not the test's failure.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    let status = wait_within(&mut child, started, Duration::from_secs(60));
    let mut output = child.wait_with_output().unwrap();
    output.status = status;
    output
}

fn run(cmd: &mut Command) -> Output {
    common::run_within(cmd, Duration::from_secs(60))
}

struct Site {
    _rt: tokio::runtime::Runtime,
    sandbox: Sandbox,
    app_key: String,
    app_secret: String,
    user_id: String,
}

/// A sandbox with credentials of this run.
fn site() -> Site {
    let rt = runtime();
    let (app_key, app_secret, user_id) = (unique("key"), unique("secret"), unique("op"));
    let sandbox = rt
        .block_on(
            Sandbox::builder()
                .calls(20)
                .app_key(&app_key)
                .app_secret(app_secret.as_str())
                .user_id(&user_id)
                .start(),
        )
        .unwrap();
    Site {
        _rt: rt,
        sandbox,
        app_key,
        app_secret,
        user_id,
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn configure(config: &Path, extra: &[&str], input: &str) -> Output {
    let mut cmd = ccsqm_without_keyring();
    cmd.arg("configure").arg("--config").arg(config).args(extra);
    run_with_stdin(&mut cmd, input)
}

#[test]
fn configure_checks_the_answers_with_a_token_request_before_writing_anything() {
    let site = site();
    let dir = tempfile::tempdir().unwrap();
    let config: PathBuf = dir.path().join("new-dir").join("config.toml");
    let url = site.sandbox.base_url();

    // A wrong secret: refused by tokenByAkSk (exit 3), and no file.
    let wrong = unique("wrong");
    let output = configure(
        &config,
        &[],
        &format!("{url}\n\n{}\n{}\n{wrong}\n", site.user_id, site.app_key),
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert!(err.contains("tokenByAkSk"), "{err}");
    assert!(!err.contains(&wrong), "the secret is never shown: {err}");
    assert!(!config.exists() && !config.parent().unwrap().exists());

    // An address nobody listens on: a network failure (exit 6), no file.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let output = configure(
        &config,
        &[],
        &format!(
            "{dead}\n\n{}\n{}\n{}\n",
            site.user_id, site.app_key, site.app_secret
        ),
    );
    assert_eq!(output.status.code(), Some(6), "{}", stderr(&output));
    assert!(!config.exists());

    // The right answers: checked, written with mode 0600, the fallback said.
    let output = configure(
        &config,
        &[],
        &format!(
            "{url}\n\n{}\n{}\n{}\n",
            site.user_id, site.app_key, site.app_secret
        ),
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(err.contains("tokenByAkSk) succeeded"), "{err}");
    assert!(
        err.contains("the app secret is in the config file") && err.contains("not in a keyring"),
        "which store, and why: {err}"
    );
    assert!(!err.contains(&site.app_secret), "{err}");
    assert_eq!(mode(&config), 0o600);
    assert_eq!(mode(config.parent().unwrap()), 0o700);

    // The profile is used: a real query through it.
    let output = run(ccsqm()
        .args(["details", "-o", "ndjson", "--limit", "5", "--config"])
        .arg(&config));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 5);

    // Again, keeping everything: the current values are offered (the secret masked).
    let before = std::fs::read_to_string(&config).unwrap();
    let output = configure(&config, &[], "\n\n\n\n\n");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("[{url}]")), "{err}");
    assert!(err.contains(&format!("[{}]", site.user_id)), "{err}");
    assert!(err.contains("[********"), "{err}");
    assert!(!err.contains(&site.app_secret), "{err}");
    assert!(err.contains("unchanged"), "{err}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
}

#[test]
fn configure_keeps_the_other_profiles_and_comments_and_writes_nothing_on_a_short_answer() {
    let site = site();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let other =
        "# my settings\n[prod]\ndomain = \"ccsqm.example\" # the real one\nuser_id = \"7\"\n";
    std::fs::write(&config, other).unwrap();

    // stdin ends before the secret: exit 2, the file untouched.
    let output = configure(
        &config,
        &["--profile", "lab"],
        &format!(
            "{}\n\n{}\n{}\n",
            site.sandbox.base_url(),
            site.user_id,
            site.app_key
        ),
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("stdin ended"), "{err}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), other);

    // --secret-store keyring where there is none: exit 2, the file untouched.
    let answers = format!(
        "{}\n\n{}\n{}\n{}\n",
        site.sandbox.base_url(),
        site.user_id,
        site.app_key,
        site.app_secret
    );
    let output = configure(
        &config,
        &["--profile", "lab", "--secret-store", "keyring"],
        &answers,
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("keyring cannot be used"), "{err}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), other);

    let output = configure(&config, &["--profile", "lab"], &answers);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with(other), "{text}");
    assert!(text.contains("[lab]"), "{text}");
    assert_eq!(mode(&config), 0o600);

    let output = run(ccsqm()
        .args([
            "details",
            "-o",
            "ndjson",
            "--limit",
            "2",
            "--profile",
            "lab",
            "--config",
        ])
        .arg(&config));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn config_show_says_each_value_and_where_it_came_from_and_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let secret = unique("profile-secret");
    let user = unique("user");
    std::fs::write(
        &config,
        format!(
            "[default]\ndomain = \"ccsqm.example\"\nuser_id = \"{user}\"\napp_key = \"k1\"\napp_secret = \"{secret}\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    // A symbolic link to it: the real path is shown.
    let link = dir.path().join("link.toml");
    std::os::unix::fs::symlink(&config, &link).unwrap();
    let env_key = unique("env-key");
    let output = run(ccsqm()
        .args(["config", "show", "-o", "json", "--timeout", "7", "--config"])
        .arg(&link)
        .env("CCSQM_APP_KEY", &env_key));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(!out.contains(&secret), "{out}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        shown["config_file"]["path"],
        std::fs::canonicalize(&config)
            .unwrap()
            .display()
            .to_string()
    );
    assert_eq!(shown["config_file"]["source"], "flag");
    assert_eq!(shown["profile"]["name"], "default");
    assert_eq!(shown["profile"]["source"], "default");
    let setting = |name: &str| {
        shown["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["setting"] == name)
            .unwrap_or_else(|| panic!("{name}: {shown}"))
            .clone()
    };
    assert_eq!(setting("API address")["value"], "https://ccsqm.example");
    assert_eq!(setting("API address")["source"], "profile");
    assert_eq!(setting("user ID")["value"], user.as_str());
    assert_eq!(setting("app key")["value"], env_key.as_str());
    assert_eq!(setting("app key")["source"], "environment");
    assert_eq!(setting("app key")["from"], "CCSQM_APP_KEY");
    assert_eq!(setting("app secret")["value"], "********");
    assert_eq!(setting("app secret")["source"], "profile");
    assert_eq!(setting("timeout")["source"], "flag");
    assert_eq!(setting("timeout")["value"], "7 s");
    assert_eq!(setting("connect timeout")["source"], "default");
    assert_eq!(shown["missing"], serde_json::json!([]));

    // The environment's secret beats the profile's, and is masked too; text output.
    let env_secret = unique("env-secret");
    let output = run(ccsqm()
        .args(["config", "show", "--config"])
        .arg(&config)
        .env("CCSQM_APP_SECRET", &env_secret));
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        !out.contains(&env_secret) && !out.contains(&secret),
        "{out}"
    );
    let line = out.lines().find(|l| l.starts_with("app secret")).unwrap();
    assert!(
        line.contains("********") && line.contains("environment: CCSQM_APP_SECRET"),
        "{line}"
    );
}

#[test]
fn missing_settings_are_reported_together_before_any_request() {
    // Nothing configured: one run names all three, each with how to set it.
    let output = run(ccsqm().args(["details"]));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    for needed in [
        "3 settings are missing",
        "API address",
        "--base-url",
        "CCSQM_DOMAIN",
        "user ID",
        "--user-id",
        "CCSQM_USER_ID",
        "user_id",
        "credentials",
        "CCSQM_APP_SECRET",
        "app_secret",
        "ccsqm configure",
    ] {
        assert!(err.contains(needed), "{needed}: {err}");
    }

    // An address but no user ID nor credentials: both, and no request is sent.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    for command in [
        &["details"][..],
        &["transcript", "3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497"],
        &["token"],
    ] {
        let output = run(ccsqm().args(command).env("CCSQM_BASE_URL", &url));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{command:?}: {err}");
        assert!(err.contains("2 settings are missing"), "{command:?}: {err}");
        assert!(!err.contains("API address"), "{command:?}: {err}");
        assert!(
            err.contains("user ID") && err.contains("credentials"),
            "{command:?}: {err}"
        );
    }
    assert!(listener.accept().is_err(), "a request was sent");

    // An app secret without an app key, and no user ID: both named.
    let output = run(ccsqm()
        .args(["details"])
        .env("CCSQM_BASE_URL", &url)
        .env("CCSQM_APP_SECRET", unique("s")));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("app key") && err.contains("user ID"), "{err}");
    assert!(err.contains("CCSQM_APP_KEY"), "{err}");
    assert!(listener.accept().is_err(), "a request was sent");

    // Only the credentials: still the same form; --dry-run does without them.
    let output = run(ccsqm()
        .args(["details"])
        .env("CCSQM_BASE_URL", &url)
        .env("CCSQM_USER_ID", "7"));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("1 setting is missing") && err.contains("credentials"),
        "{err}"
    );
    let output = run(ccsqm()
        .args(["details", "--dry-run"])
        .env("CCSQM_BASE_URL", &url)
        .env("CCSQM_USER_ID", "7"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(listener.accept().is_err(), "a request was sent");
}

#[test]
fn a_400_shows_the_servers_reason_escaped_and_without_secrets_under_the_vendors_guidance() {
    use httpmock::MockServer;
    let server = MockServer::start();
    let token = unique("tok");
    let reason = unique("limit must be at most 100");
    let body = format!(
        "{{\"error\": \"{reason}\", \"echo\": \"Bearer {token}\", \"raw\": \"{token}\", \
         \"evil\": \"\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}\"}}"
    );
    server.mock(|when, then| {
        when.method(httpmock::Method::POST);
        then.status(400)
            .header("content-type", "application/json")
            .body(&body);
    });
    for command in [
        &["details", "-o", "ndjson"][..],
        &["transcript", "3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497"],
    ] {
        let output = run(ccsqm()
            .args(command)
            .env("CCSQM_BASE_URL", server.base_url())
            .env("CCSQM_TOKEN", &token)
            .env("CCSQM_USER_ID", "7"));
        let err = stderr(&output);
        assert_ne!(output.status.code(), Some(0), "{command:?}: {err}");
        assert!(
            err.contains("Incorrect request. Check the request path and parameters."),
            "the vendor's guidance: {err}"
        );
        assert!(err.contains(&reason), "the server's reason: {err}");
        let guidance_at = err.find("Incorrect request").unwrap();
        assert!(
            err.find(&reason).unwrap() > guidance_at,
            "after the guidance: {err}"
        );
        assert!(!err.contains(&token), "no token: {err}");
        assert!(
            !err.chars()
                .any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}'),
            "no control character: {err:?}"
        );
        assert!(err.contains(r"\u{1b}]0;pwned"), "shown escaped: {err}");
    }
    // ccsqm details: exit 5 (the README's class of a 400).
    let output = run(ccsqm()
        .args(["details", "-o", "ndjson"])
        .env("CCSQM_BASE_URL", server.base_url())
        .env("CCSQM_TOKEN", &token)
        .env("CCSQM_USER_ID", "7"));
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));

    // A long reason is cut.
    let long = MockServer::start();
    let long_body = "x".repeat(100_000);
    long.mock(|when, then| {
        when.method(httpmock::Method::POST);
        then.status(400).body(&long_body);
    });
    let output = run(ccsqm()
        .args(["details", "-o", "ndjson"])
        .env("CCSQM_BASE_URL", long.base_url())
        .env("CCSQM_TOKEN", &token)
        .env("CCSQM_USER_ID", "7"));
    let err = stderr(&output);
    assert!(err.contains("xxxx…"), "{err}");
    assert!(err.len() < 2_000, "bounded: {} bytes", err.len());
}

/// At a terminal (a pseudo-terminal made by util-linux `script`): the questions are asked
/// there, the answers echoed, but not the secret.
#[test]
fn configure_at_a_terminal_reads_the_secret_without_echo() {
    use std::io::Read;
    use std::sync::{Arc, Mutex};
    if Command::new("script").arg("--version").output().is_err() {
        panic!("util-linux `script` is needed for the terminal test");
    }
    let site = site();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let command = format!(
        "{} configure --config {}",
        env!("CARGO_BIN_EXE_ccsqm"),
        config.display()
    );
    let template = ccsqm_without_keyring();
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c", &command, "/dev/null"]);
    for (name, value) in template.get_envs() {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    let started = std::time::Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let screen = Arc::new(Mutex::new(Vec::new()));
    let mut out = child.stdout.take().unwrap();
    let reader = {
        let screen = screen.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = out.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                screen.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        })
    };
    let mut stdin = child.stdin.take().unwrap();
    let url = site.sandbox.base_url().to_owned();
    let steps = [
        ("API address", url.as_str()),
        ("Token interface address", ""),
        ("User ID", site.user_id.as_str()),
        ("App key", site.app_key.as_str()),
        ("App secret", site.app_secret.as_str()),
    ];
    let mut seen = 0;
    for (prompt, answer) in steps {
        // Wait for the question before answering: an answer typed earlier would be echoed
        // by the terminal before ccsqm could turn echo off.
        loop {
            let text = String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();
            if let Some(at) = text[seen..].find(prompt) {
                seen += at + prompt.len();
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no {prompt:?} question: {text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        stdin.write_all(format!("{answer}\r").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    let status = wait_within(&mut child, started, Duration::from_secs(60));
    drop(stdin);
    reader.join().unwrap();
    let text = String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();
    assert!(status.success(), "{text}");
    assert!(
        text.contains(&site.user_id),
        "the answers are echoed: {text}"
    );
    assert!(
        !text.contains(&site.app_secret),
        "the secret is not: {text}"
    );
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(
        written.contains(&site.app_secret),
        "kept in the file: {written}"
    );
    assert_eq!(mode(&config), 0o600);
}

#[test]
fn a_servers_own_body_start_header_is_not_taken_for_its_body() {
    use httpmock::MockServer;
    let server = MockServer::start();
    let forged = unique("forged reason");
    server.mock(|when, then| {
        when.method(httpmock::Method::POST);
        then.status(404).header("x-ccsqm-body-start", &forged);
    });
    let output = run(ccsqm()
        .args(["details", "-o", "ndjson"])
        .env("CCSQM_BASE_URL", server.base_url())
        .env("CCSQM_TOKEN", unique("tok"))
        .env("CCSQM_USER_ID", "7"));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(err.contains("The requested content is not found"), "{err}");
    assert!(
        !err.contains(&forged) && !err.contains("the server said"),
        "{err}"
    );
}
