//! The real `ccsqm` binary, run as a process, against the typed mocks and the sandbox: flags, output
//! formats, errors and exit codes, compared with checked-in expected files (`tests/snapshots`).

use std::path::{Path, PathBuf};

use ccsqm_httpmock::MockServerExt;
use ccsqm_models::{AppraisecallDetailsRequest, AppraisecallDetailsResponse};
use httpmock::MockServer;
use serde_json::{json, Value};
use std::process::Command;

mod common;
use common::{ccsqm, fixture, stderr, stdout, uuids_of_ndjson};

const TOKEN: &str = "tok-SECRET-4f1c9a";
const USER_ID: &str = "1611917095665261978";

/// `ccsqm` configured for `server`, through the environment.
fn ccsqm_at(server: &MockServer) -> Command {
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", server.base_url())
        .env("CCSQM_TOKEN", TOKEN)
        .env("CCSQM_USER_ID", USER_ID);
    cmd
}

fn serve_seed_page(server: &MockServer) -> httpmock::Mock<'_> {
    let page: AppraisecallDetailsResponse =
        serde_json::from_value(fixture("seed-response.json")).unwrap();
    server.appraisecall_details(|when, then| {
        when.x_user_id(USER_ID)
            .into_inner()
            .header("authorization", format!("Bearer {TOKEN}"));
        then.ok(&page);
    })
}

#[test]
fn help_is_documented_with_examples() {
    let top = ccsqm().arg("--help").output().unwrap();
    assert!(top.status.success());
    insta::assert_snapshot!("help", stdout(&top));
    let details = ccsqm().args(["details", "--help"]).output().unwrap();
    assert!(details.status.success());
    insta::assert_snapshot!("details-help", stdout(&details));
}

#[test]
fn every_flag_reaches_the_request_body() {
    let server = MockServer::start();
    let expected: AppraisecallDetailsRequest = serde_json::from_value(json!({
        "call_from": 1621333149, "call_to": 1623974399,
        "upload_from": 1622505600, "upload_to": 1622591999,
        "call_types": [2], "status": [2, 31, 9],
        "keyword": "refund", "staff_id": "1600226440112042215", "staff_name": "Alice",
        "duration_min": 30, "duration_max": 600, "page": 3, "limit": 25
    }))
    .unwrap();
    let mock = server.appraisecall_details(|when, then| {
        when.x_user_id(USER_ID)
            .x_app_key("my-app-key")
            .body(&expected);
        then.ok(&serde_json::from_value(json!({"data": [], "paging": {"total": 0}})).unwrap());
    });
    let output = ccsqm_at(&server)
        .args(["details", "--app-key", "my-app-key"])
        .args(["--call-from", "1621333149", "--call-to", "2021-06-17"])
        .args([
            "--upload-from",
            "2021-06-01T00:00:00Z",
            "--upload-to",
            "2021-06-01",
        ])
        .args([
            "--call-type",
            "text",
            "--status",
            "inspection-succeeded,31",
            "--status",
            "9",
        ])
        .args([
            "--keyword",
            "refund",
            "--staff-id",
            "1600226440112042215",
            "--staff-name",
            "Alice",
        ])
        .args([
            "--duration-min",
            "30",
            "--duration-max",
            "600",
            "--page",
            "3",
            "--limit",
            "25",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    mock.assert();
}

#[test]
fn defaults_ask_for_every_documented_type_and_status() {
    let server = MockServer::start();
    let expected: AppraisecallDetailsRequest = serde_json::from_value(json!({
        "call_types": ccsqm_client::spec::enums::CALL_TYPE.codes().collect::<Vec<_>>(),
        "status": ccsqm_client::spec::enums::INSPECTION_STATUS.codes().collect::<Vec<_>>(),
        "upload_from": null, "upload_to": null, "page": 1, "limit": 100
    }))
    .unwrap();
    let mock = server.appraisecall_details(|when, then| {
        when.body(&expected).x_app_key(None);
        then.ok(&serde_json::from_value(json!({"data": []})).unwrap());
    });
    let output = ccsqm_at(&server).arg("details").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    mock.assert();
}

#[test]
fn each_output_format_matches_its_expected_file() {
    let server = MockServer::start();
    serve_seed_page(&server);
    for format in ["json", "ndjson", "csv", "table"] {
        let output = ccsqm_at(&server)
            .args(["details", "-o", format])
            .output()
            .unwrap();
        assert!(output.status.success(), "{format}: {}", stderr(&output));
        insta::assert_snapshot!(format!("output-{format}"), stdout(&output));
    }
}

#[test]
fn output_is_ndjson_when_piped() {
    let server = MockServer::start();
    serve_seed_page(&server);
    let output = ccsqm_at(&server).arg("details").output().unwrap();
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    for line in &lines {
        assert_eq!(line["call_group_id"], line["call_uuid"]);
    }
}

#[test]
fn output_file_appears_only_when_complete() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calls.csv");

    let server = MockServer::start();
    serve_seed_page(&server);
    let output = ccsqm_at(&server)
        .args(["details", "--output-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.starts_with("call_group_id,call_id,"),
        "csv by extension: {written}"
    );
    assert_eq!(written.lines().count(), 7);

    let failing = MockServer::start();
    failing.appraisecall_details(|_, then| {
        then.internal_server_error();
    });
    let other = dir.path().join("other.ndjson");
    let output = ccsqm_at(&failing)
        .args(["details", "--output-file"])
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5));
    assert!(!other.exists());
    assert_eq!(
        files_in(dir.path()),
        vec![file],
        "no temporary file is left behind"
    );
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn api_errors_give_the_vendors_guidance_and_an_exit_code_per_class() {
    type Respond = fn(ccsqm_httpmock::operations::AppraisecallDetailsThen);
    let cases: [(u16, Respond, i32, &str); 4] = [
        (
            400,
            |t| drop(t.bad_request()),
            5,
            "Check the request path and parameters.",
        ),
        (
            401,
            |t| drop(t.unauthorized()),
            3,
            "Check whether you have purchased related services.",
        ),
        (404, |t| drop(t.not_found()), 4, "Check the request path."),
        (
            500,
            |t| drop(t.internal_server_error()),
            5,
            "Check the values of parameters in the request.",
        ),
    ];
    for (status, respond, code, guidance) in cases {
        let server = MockServer::start();
        server.appraisecall_details(|_, then| respond(then));
        let output = ccsqm_at(&server).arg("details").output().unwrap();
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(code), "{status}: {err}");
        assert!(
            err.contains(&status.to_string()) && err.contains(guidance),
            "{status}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "one clear line: {err}");
        assert!(!err.contains(TOKEN));
    }
}

#[test]
fn an_unreachable_server_is_a_network_error() {
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = ccsqm()
        .env("CCSQM_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("CCSQM_TOKEN", TOKEN)
        .env("CCSQM_USER_ID", USER_ID)
        .arg("details")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(6), "{}", stderr(&output));
    assert!(stderr(&output).contains("network error"));
}

#[test]
fn dry_run_shows_the_request_and_hides_the_token() {
    let output = ccsqm()
        .env("CCSQM_TOKEN", TOKEN)
        .args(["details", "--base-url", "https://service.besclouds.com"])
        .args([
            "--user-id",
            USER_ID,
            "--call-from",
            "1621333149",
            "--call-to",
            "1623925149",
        ])
        .args(["--status", "2", "--keyword", "it's", "--dry-run"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(!text.contains(TOKEN) && !stderr(&output).contains(TOKEN));
    insta::assert_snapshot!("dry-run", text);
}

/// The dry run's URL and body are what the client sends.
#[test]
fn dry_run_matches_what_is_sent() {
    let server = MockServer::start();
    // An absolute time: a relative one (`7d`) is read by each of the two runs, which may fall in
    // different seconds.
    let args = [
        "details",
        "--call-from",
        "2026-01-01T00:00:00Z",
        "--status",
        "asr-no-speech",
        "--limit",
        "5",
    ];
    let dry = ccsqm_at(&server)
        .args(args)
        .arg("--dry-run")
        .output()
        .unwrap();
    let text = stdout(&dry);
    let url = text
        .lines()
        .next()
        .unwrap()
        .strip_prefix("POST ")
        .unwrap()
        .to_owned();
    let body_text: String = text
        .lines()
        .skip_while(|l| !l.is_empty())
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let body: AppraisecallDetailsRequest = serde_json::from_str(&body_text).unwrap();
    let path = url.strip_prefix(&server.base_url()).unwrap().to_owned();
    let mock = server.mock(|when, then| {
        when.path(path).json_body_obj(&body);
        then.status(200).json_body(json!({"data": []}));
    });
    let sent = ccsqm_at(&server).args(args).output().unwrap();
    assert!(sent.status.success(), "{}", stderr(&sent));
    mock.assert();
}

#[test]
fn bad_input_is_refused_before_any_request_naming_the_flag() {
    let server = MockServer::start();
    let any = server.mock(|_, then| {
        then.status(200);
    });
    let cases: &[(&[&str], &str)] = &[
        (&["--status", "bogus"], "--status"),
        (&["--status", ""], "--status"),
        (&["--call-type", "video"], "--call-type"),
        (&["--call-type", "1"], "--call-type"),
        (&["--call-from", "yesterday"], "--call-from"),
        (&["--call-to", "2021-02-30"], "--call-to"),
        (&["--upload-from", "12:00"], "--upload-from"),
        (
            &["--call-from", "2021-06-02", "--call-to", "2021-06-01"],
            "--call-from",
        ),
        (
            &["--upload-from", "now", "--upload-to", "7d"],
            "--upload-from",
        ),
        (&["--duration-min", "-5"], "--duration-min"),
        (&["--duration-max", "1.5"], "--duration-max"),
        (
            &["--duration-min", "10", "--duration-max", "5"],
            "--duration-min",
        ),
        (&["--limit", "0"], "--limit"),
        (&["--limit", "-1"], "--limit"),
        (&["--page", "0"], "--page"),
        (&["--page", "2", "--all"], "--page"),
        (&["--all", "--concurrency", "0"], "--concurrency"),
        (&["--concurrency", "2"], "--concurrency"),
        (&["-o", "xml"], "--output"),
        (&["--bogus"], "--bogus"),
        (&["--timeout", "0"], "--timeout"),
        (&["--timeout", "abc"], "--timeout"),
        (&["--timeout", "-1"], "--timeout"),
        (&["--timeout", "inf"], "--timeout"),
        (&["--timeout", "1e30"], "--timeout"),
        (&["--connect-timeout", "NaN"], "--connect-timeout"),
        (&["--max-retries", "101"], "--max-retries"),
        (&["--max-retries", "-1"], "--max-retries"),
        (&["--max-retry-time", "0"], "--max-retry-time"),
        (&["--base-url", "ftp://x.example"], "ftp"),
        (&["--base-url", "http://x.example"], "http://x.example"),
        (&["--base-url", "x", "--domain", "y"], "--domain"),
    ];
    for (args, flag) in cases {
        let output = ccsqm_at(&server)
            .arg("details")
            .args(*args)
            .output()
            .unwrap();
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?} should name {flag}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert_eq!(any.calls(), 0, "nothing was sent");
}

/// The other commands refuse bad input too: exit code 2, the flag or value named, no panic, and
/// nothing started (a `ccsqm sandbox` that started would run until killed).
#[test]
fn bad_input_to_every_command_is_refused_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["token", "--expire", "0"], "--expire"),
        (&["token", "--expire", "4000"], "--expire"),
        (&["token", "--expire", "abc"], "--expire"),
        (&["token", "--timeout", "0"], "--timeout"),
        (&["token", "--max-retries", "x"], "--max-retries"),
        (&["sandbox", "--fail-rate", "2"], "--fail-rate"),
        (&["sandbox", "--drop-rate", "-0.1"], "--drop-rate"),
        (&["sandbox", "--truncate-rate", "x"], "--truncate-rate"),
        (
            &["sandbox", "--fail-rate", "0.6", "--drop-rate", "0.6"],
            "--drop-rate",
        ),
        (&["sandbox", "--fail-statuses", "200"], "--fail-statuses"),
        (&["sandbox", "--fail-statuses", "502,x"], "--fail-statuses"),
        (&["sandbox", "--latency", "abc"], "--latency"),
        (&["sandbox", "--latency", "20..10"], "--latency"),
        (&["sandbox", "--port", "70000"], "--port"),
        (&["sandbox", "--bind", "nowhere"], "--bind"),
        (
            &["sandbox", "--bind", "0.0.0.0", "--port", "0"],
            "--allow-non-loopback",
        ),
        (&["sandbox", "--calls", "-1"], "--calls"),
        (
            &["sandbox", "--calls", "20000000", "--port", "0"],
            "--calls",
        ),
        (&["schema", "bogus"], "bogus"),
        (&["schema", "request", "extra"], "extra"),
        (&["completions", "tcsh"], "tcsh"),
        (&["completions"], "<SHELL>"),
        (&["man", "--bogus"], "--bogus"),
        (&["bogus"], "bogus"),
        (&[], "Usage"),
    ];
    for (args, named) in cases {
        let mut child = ccsqm()
            .args(*args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > std::time::Duration::from_secs(20) {
                child.kill().unwrap();
                panic!("{args:?} was not refused: it is still running");
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let output = child.wait_with_output().unwrap();
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?} should name {named}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn missing_configuration_is_a_usage_error() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("CCSQM_TOKEN", TOKEN), ("CCSQM_USER_ID", USER_ID)],
            "--base-url",
        ),
        (
            &[
                ("CCSQM_BASE_URL", "https://x.example"),
                ("CCSQM_USER_ID", USER_ID),
            ],
            "1 setting is missing",
        ),
        (
            &[
                ("CCSQM_BASE_URL", "https://x.example"),
                ("CCSQM_TOKEN", TOKEN),
            ],
            "--user-id",
        ),
    ];
    for (env, message) in cases {
        let mut cmd = ccsqm();
        for (k, v) in *env {
            cmd.env(k, v);
        }
        let output = cmd.arg("details").output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{env:?}");
        assert!(
            stderr(&output).contains(message),
            "{env:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn schema_completions_and_man_page() {
    let request = ccsqm().args(["schema", "request"]).output().unwrap();
    assert!(request.status.success());
    let schema: Value = serde_json::from_slice(&request.stdout).unwrap();
    let required = schema["required"].as_array().unwrap();
    for field in [
        "call_types",
        "limit",
        "page",
        "status",
        "upload_from",
        "upload_to",
    ] {
        assert!(required.contains(&json!(field)), "{field}: {schema}");
    }
    let call = ccsqm().args(["schema", "call"]).output().unwrap();
    let schema: Value = serde_json::from_slice(&call.stdout).unwrap();
    assert!(
        schema["properties"]["call_group_id"].is_object(),
        "{schema}"
    );

    let bash = ccsqm().args(["completions", "bash"]).output().unwrap();
    assert!(bash.status.success());
    assert!(stdout(&bash).contains("--call-from"));

    let man = ccsqm().arg("man").output().unwrap();
    assert!(man.status.success());
    assert!(stdout(&man).starts_with(".ie"), "roff");
    assert!(stdout(&man).contains("ccsqm"));
}

/// `ccsqm details | head -1`: the reader goes away early; ccsqm stops quietly, without panic.
#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let calls: Vec<Value> = (0..20_000)
        .map(|i| json!({"call_uuid": format!("c{i}"), "status": 2, "call_type": 0}))
        .collect();
    let server = MockServer::start();
    server.appraisecall_details(|_, then| {
        then.into_inner()
            .status(200)
            .header("content-type", "application/json")
            .json_body(json!({"data": [{"call_group_id": "g", "calls": calls}], "paging": {"total": 20000}}));
    });
    let mut child = ccsqm_at(&server)
        .args(["details", "-o", "csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("call_group_id,"));
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    assert_eq!(output.status.code(), Some(0), "{err}");
}

#[test]
fn settings_come_from_flags_then_environment_then_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let server = MockServer::start();
    let profile_user = "from-profile";
    let mock_for = |user: &'static str| {
        server.appraisecall_details(move |when, then| {
            when.x_user_id(user);
            then.ok(&serde_json::from_value(json!({"data": []})).unwrap());
        })
    };
    let config = dir.path().join("config.toml");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    private(&token_file);
    std::fs::write(
        &config,
        format!(
            "[default]\nbase_url = \"{}\"\nuser_id = \"{profile_user}\"\ntoken_file = \"{}\"\n\n\
             [other]\nbase_url = \"{}\"\nuser_id = \"other-user\"\ntoken_file = \"{}\"\n",
            server.base_url(),
            token_file.display(),
            server.base_url(),
            token_file.display()
        ),
    )
    .unwrap();

    let from_profile = mock_for("from-profile");
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = ccsqm();
        for (k, v) in env {
            cmd.env(k, v);
        }
        let output = cmd
            .args(["details", "--config"])
            .arg(&config)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{extra:?} {env:?}: {}",
            stderr(&output)
        );
    };
    run(&[], &[]);
    from_profile.assert();

    let from_env = mock_for("from-env");
    run(&[], &[("CCSQM_USER_ID", "from-env")]);
    from_env.assert();

    let from_flag = mock_for("from-flag");
    run(
        &["--user-id", "from-flag"],
        &[("CCSQM_USER_ID", "from-env")],
    );
    from_flag.assert();

    let other = mock_for("other-user");
    run(&["--profile", "other"], &[]);
    other.assert();

    let missing = ccsqm()
        .args(["details", "--config"])
        .arg(&config)
        .args(["--profile", "nope"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no such profile"),
        "{}",
        stderr(&missing)
    );
}

#[cfg(unix)]
fn private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[cfg(unix)]
#[test]
fn secrets_readable_by_others_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[default]\nbase_url = \"https://x.example\"\nuser_id = \"u\"\ntoken = \"{TOKEN}\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = ccsqm()
        .args(["details", "--dry-run", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("chmod 600"), "{}", stderr(&output));
    assert!(!stderr(&output).contains(TOKEN));

    private(&config);
    let output = ccsqm()
        .args(["details", "--dry-run", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stdout(&output).contains(TOKEN));
}

/// A mock of `total` calls served `limit` at a time: page n holds calls (n-1)*limit.. .
fn serve_pages(server: &MockServer, total: usize, limit: usize) {
    let pages = total.div_ceil(limit).max(1);
    for page in 1..=pages {
        let calls: Vec<Value> = ((page - 1) * limit..(page * limit).min(total))
            .map(|i| json!({"call_uuid": format!("call-{i:05}"), "status": 2, "call_type": 0}))
            .collect();
        server.mock(|when, then| {
            when.json_body_includes(json!({"page": page, "limit": limit}).to_string());
            then.status(200).json_body(json!({
                "data": [{"call_group_id": format!("group-{page}"), "calls": calls}],
                "paging": {"total": total}
            }));
        });
    }
}

#[test]
fn all_streams_every_page_once_in_order() {
    for (total, limit, concurrency) in [(0, 10, "1"), (30, 10, "1"), (35, 10, "1"), (95, 10, "4")] {
        let server = MockServer::start();
        serve_pages(&server, total, limit);
        let output = ccsqm_at(&server)
            .args([
                "details",
                "--all",
                "--limit",
                &limit.to_string(),
                "--concurrency",
                concurrency,
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{total}: {}", stderr(&output));
        let uuids: Vec<String> = stdout(&output)
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["call_uuid"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let expected: Vec<String> = (0..total).map(|i| format!("call-{i:05}")).collect();
        assert_eq!(
            uuids, expected,
            "total {total}, limit {limit}, concurrency {concurrency}"
        );
    }
}

#[test]
fn all_with_a_failing_page_exits_non_zero_and_leaves_no_file() {
    let server = MockServer::start();
    // The first mock that matches answers: page 3 fails.
    server.mock(|when, then| {
        when.json_body_includes(json!({"page": 3}).to_string());
        then.status(500);
    });
    serve_pages(&server, 25, 10);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calls.ndjson");
    let output = ccsqm_at(&server)
        .args(["details", "--all", "--limit", "10", "--output-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn token_prints_the_token_only_on_stdout_with_its_expiry_on_stderr() {
    let server = MockServer::start();
    let issued: ccsqm_models::TokenByAkSkResponse = serde_json::from_value(json!({
        "AccessToken": "issued-token-77", "ApplyType": "Bearer", "CreateTime": "1545650171",
        "Expires": "1200", "Scope": "s", "AppKey": "ak", "UserID": "Anonymous"
    }))
    .unwrap();
    let mock = server.token_by_ak_sk(|when, then| {
        when.x_token_expire(std::num::NonZeroU64::new(1200)).body(
            &ccsqm_models::TokenByAkSkRequest {
                app_key: "ak".into(),
                app_secret: "app-SECRET-9".into(),
            },
        );
        then.ok(&issued);
    });
    let output = ccsqm()
        .env("CCSQM_BASE_URL", server.base_url())
        .env("CCSQM_USER_ID", USER_ID)
        .env("CCSQM_APP_KEY", "ak")
        .env("CCSQM_APP_SECRET", "app-SECRET-9")
        .args(["token", "--expire", "1200", "-vv"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    mock.assert();
    assert_eq!(stdout(&output), "issued-token-77\n");
    let err = stderr(&output);
    assert!(err.contains("1200 seconds"), "{err}");
    assert!(
        !err.contains("issued-token-77") && !err.contains("app-SECRET-9"),
        "{err}"
    );
}

#[test]
fn details_with_an_app_key_and_secret_obtains_a_token_first() {
    let server = MockServer::start();
    let issued: ccsqm_models::TokenByAkSkResponse = serde_json::from_value(json!({
        "AccessToken": "from-ak-sk", "Expires": "600"
    }))
    .unwrap();
    let token = server.token_by_ak_sk(|when, then| {
        when.x_token_expire(std::num::NonZeroU64::new(600));
        then.ok(&issued);
    });
    let details = server.appraisecall_details(|when, then| {
        when.x_app_key("ak")
            .into_inner()
            .header("authorization", "Bearer from-ak-sk");
        then.ok(&serde_json::from_value(json!({"data": []})).unwrap());
    });
    let output = ccsqm()
        .env("CCSQM_BASE_URL", server.base_url())
        .env("CCSQM_USER_ID", USER_ID)
        .env("CCSQM_APP_KEY", "ak")
        .env("CCSQM_APP_SECRET", "app-SECRET-9")
        .args(["details", "-vv"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    token.assert();
    details.assert();
    let err = stderr(&output);
    assert!(
        !err.contains("from-ak-sk") && !err.contains("app-SECRET-9"),
        "{err}"
    );
}

/// Against the in-process sandbox: `--all` is the concatenation of the pages, every call once,
/// whatever the concurrency.
#[test]
fn all_against_the_sandbox_is_every_page_once() {
    let limit = 50;
    let all = ccsqm()
        .args([
            "details",
            "--sandbox",
            "--all",
            "--limit",
            &limit.to_string(),
        ])
        .output()
        .unwrap();
    assert!(all.status.success(), "{}", stderr(&all));
    let streamed = uuids_of_ndjson(&stdout(&all));
    assert_eq!(
        streamed.len(),
        ccsqm_sandbox::DEFAULT_CALLS + 6,
        "the generated calls and the vendor's six"
    );
    let unique: std::collections::HashSet<&String> = streamed.iter().collect();
    assert_eq!(unique.len(), streamed.len(), "every call exactly once");

    let mut pages = Vec::new();
    for page in 1.. {
        let one = ccsqm()
            .args(["details", "--sandbox", "--limit", &limit.to_string()])
            .args(["--page", &page.to_string()])
            .output()
            .unwrap();
        assert!(one.status.success(), "{}", stderr(&one));
        let calls = uuids_of_ndjson(&stdout(&one));
        if calls.is_empty() {
            break;
        }
        pages.extend(calls);
    }
    assert_eq!(streamed, pages);

    let concurrent = ccsqm()
        .args([
            "details",
            "--sandbox",
            "--all",
            "--limit",
            &limit.to_string(),
        ])
        .args(["--concurrency", "4"])
        .output()
        .unwrap();
    assert_eq!(uuids_of_ndjson(&stdout(&concurrent)), streamed);
}

#[test]
fn filters_filter_against_the_sandbox() {
    let output = ccsqm()
        .args([
            "details",
            "--sandbox",
            "--all",
            "--status",
            "inspection-failed",
        ])
        .args(["--call-type", "text", "--duration-min", "60"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let calls: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        !calls.is_empty(),
        "the sandbox has failed text calls over a minute"
    );
    for call in &calls {
        assert_eq!(call["status"], 9, "{call}");
        assert_eq!(call["call_type"], 2, "{call}");
        assert!(call["duration"].as_f64().unwrap() >= 60.0, "{call}");
    }
}

/// The vendor's example request, against the sandbox, gives the vendor's example response.
#[test]
fn the_vendors_example_against_the_sandbox() {
    let output = ccsqm()
        .args([
            "details",
            "--sandbox",
            "-o",
            "json",
            "--limit",
            "10",
            "--page",
            "1",
        ])
        .args(["--call-type", "0,2", "--status", "2"])
        .args(["--call-from", "1621333149", "--call-to", "1623925149"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let page: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(page, fixture("seed-response.json"));
}
