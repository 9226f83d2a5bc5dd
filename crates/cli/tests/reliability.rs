//! Reliability suites: the real `ccsqm` binary, run as a process, against a sandbox that injects
//! faults, against hostile servers, and with recognisable secrets that must never come out.
//!
//! - `faults_*`: an export through 20 % failures finishes with every call exactly once; at
//!   100 % it stops within the retry budget, with a clear error and no output file.
//! - `hostile_*`: error statuses, HTML pages, empty, non-JSON, truncated and huge bodies,
//!   unknown fields and values, a wrong content type, slow answers: the documented exit code and
//!   one line on stderr, never a panic or a hang.
//! - `secrets_*`: every command, with `-vv`, never shows the configured token or app secret.
//!
//! Run them with `cargo test -p ccsqm-cli --test reliability` (a few seconds).

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ccsqm_sandbox::{Faults, Latency, Sandbox};
use httpmock::MockServer;
use serde_json::{json, Value};

mod common;
use common::{ccsqm, read_request, run_timed, runtime, stderr, stdout, uuids_of_ndjson};

const USER_ID: &str = "1611917095665261978";

/// `ccsqm` pointed at a sandbox with its app key and app secret (so the token interface goes
/// through the faults too).
fn ccsqm_at_sandbox(sandbox: &Sandbox) -> Command {
    let credentials = sandbox.credentials();
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", sandbox.base_url())
        .env("CCSQM_USER_ID", &credentials.user_id)
        .env("CCSQM_APP_KEY", &credentials.app_key)
        .env("CCSQM_APP_SECRET", credentials.app_secret.expose());
    cmd
}

// ---------------------------------------------------------------------------------------------
// Fault injection

/// 20 % of requests fail: 502, 503 and 504 in turn, dropped connections, truncated bodies;
/// every answer waits 0 to 20 ms.
fn twenty_percent_faults() -> Faults {
    Faults {
        error_rate: 0.10,
        error_statuses: "502,503,504".parse().unwrap(),
        drop_rate: 0.05,
        truncate_rate: 0.05,
        latency: Latency::Range(Duration::ZERO, Duration::from_millis(20)),
        seed: 2024,
        ..Faults::none()
    }
}

#[test]
fn faults_an_export_through_20_percent_failures_has_every_call_exactly_once() {
    let rt = runtime();
    let sandbox = rt
        .block_on(
            Sandbox::builder()
                .calls(2_000)
                .seed(6)
                .faults(twenty_percent_faults())
                .start(),
        )
        .unwrap();
    let data = sandbox.data().clone();
    let expected: BTreeSet<String> = (0..data.len())
        .map(|i| data.call(i).unwrap().call_uuid.unwrap())
        .collect();
    assert_eq!(
        expected.len(),
        2_006,
        "the generated calls and the vendor's six"
    );

    let dir = tempfile::tempdir().unwrap();
    for concurrency in ["1", "4"] {
        let file = dir.path().join(format!("calls-{concurrency}.ndjson"));
        let (output, elapsed) = run_timed(
            ccsqm_at_sandbox(&sandbox)
                .args(["details", "--all", "--limit", "50", "-v", "--concurrency"])
                .arg(concurrency)
                .args(["--max-retries", "10", "--timeout", "5", "--output-file"])
                .arg(&file),
            Duration::from_secs(60),
        );
        let err = stderr(&output);
        assert_eq!(
            output.status.code(),
            Some(0),
            "concurrency {concurrency}: {err}"
        );
        let retries = err.matches("retrying").count();
        assert!(retries >= 3, "the faults were injected and retried: {err}");
        let written = uuids_of_ndjson(&std::fs::read_to_string(&file).unwrap());
        assert_eq!(written.len(), expected.len(), "no call lost or repeated");
        let written: BTreeSet<String> = written.into_iter().collect();
        assert_eq!(written, expected, "exactly the sandbox's calls");
        eprintln!("concurrency {concurrency}: {retries} retries, {elapsed:?}");
    }
}

/// A server that answers at most N requests at a time (429 with `Retry-After` above): `--all`
/// with no concurrency flag adapts to it, uses its capacity, meets few 429s, and writes every
/// call once.
#[test]
fn faults_an_export_with_no_flag_adapts_to_a_servers_capacity() {
    let rt = runtime();
    for capacity in [2usize, 5] {
        let sandbox = rt
            .block_on(
                Sandbox::builder()
                    .calls(1_200)
                    .faults(Faults {
                        latency: Latency::Fixed(Duration::from_millis(20)),
                        ..Faults::none()
                    })
                    .max_in_flight(std::num::NonZeroUsize::new(capacity).unwrap())
                    .start(),
            )
            .unwrap();
        let data = sandbox.data().clone();
        let expected: BTreeSet<String> = (0..data.len())
            .map(|i| data.call(i).unwrap().call_uuid.unwrap())
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("calls.ndjson");
        let (output, _) = run_timed(
            ccsqm_at_sandbox(&sandbox)
                .args(["details", "--all", "--limit", "10", "--output-file"])
                .arg(&file),
            Duration::from_secs(120),
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let written = uuids_of_ndjson(&std::fs::read_to_string(&file).unwrap());
        assert_eq!(written.len(), expected.len(), "no call lost or repeated");
        assert_eq!(written.into_iter().collect::<BTreeSet<_>>(), expected);
        let pages = data.len().div_ceil(10) as u64;
        let throttled = sandbox.throttled();
        assert!(
            throttled * 10 <= pages,
            "capacity {capacity}: {throttled} 429s for {pages} pages"
        );
        let peak = sandbox.peak_in_flight();
        assert!(
            peak + 1 >= capacity,
            "its capacity is used: peak {peak} of {capacity}"
        );
    }
}

/// What `ccsqm` does when every request to a sandbox fails one way.
fn export_when_all_fail(faults: Faults, extra: &[&str]) -> (Output, Duration, Vec<String>) {
    let rt = runtime();
    let sandbox = rt
        .block_on(Sandbox::builder().calls(100).faults(faults).start())
        .unwrap();
    // A fixed token: the failures hit the query itself.
    let token = sandbox.issue_token(Duration::from_secs(600));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calls.csv");
    let (output, elapsed) = run_timed(
        ccsqm()
            .env("CCSQM_BASE_URL", sandbox.base_url())
            .env("CCSQM_USER_ID", &sandbox.credentials().user_id)
            .env("CCSQM_TOKEN", token.expose())
            .args(["details", "--all", "--limit", "10"])
            .args(extra)
            .arg("--output-file")
            .arg(&file),
        Duration::from_secs(30),
    );
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    (output, elapsed, left)
}

fn all_fail(error_rate: f64, drop_rate: f64) -> Faults {
    Faults {
        error_rate,
        error_statuses: "502,503,504".parse().unwrap(),
        drop_rate,
        seed: 1,
        ..Faults::none()
    }
}

#[test]
fn faults_when_every_answer_is_an_error_the_export_stops_after_its_retries() {
    let (output, elapsed, left) = export_when_all_fail(all_fail(1.0, 0.0), &["--max-retries", "2"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(5), "{err}");
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");
    assert!(
        err.starts_with("ccsqm: HTTP 50") && err.contains("sandbox: injected fault"),
        "{err}"
    );
    assert!(left.is_empty(), "no output file: {left:?}");
    // Two retries with the default backoff (200 ms, then 400 ms, jittered): well under 5 s.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[test]
fn faults_when_every_connection_drops_the_export_is_a_network_error() {
    let (output, elapsed, left) =
        export_when_all_fail(all_fail(0.0, 1.0), &["--max-retries", "2", "-vv"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(6), "{err}");
    // -vv logs every attempt: the first and exactly two retries.
    assert_eq!(err.matches("ccsqm request failed").count(), 3, "{err}");
    assert_eq!(err.matches("retrying").count(), 2, "{err}");
    let last = err.lines().last().unwrap();
    assert!(last.starts_with("ccsqm: network error"), "{err}");
    assert!(left.is_empty(), "no output file: {left:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[test]
fn faults_the_total_retry_time_bounds_an_export_with_many_retries_allowed() {
    let (output, elapsed, left) = export_when_all_fail(
        all_fail(1.0, 0.0),
        &["--max-retries", "100", "--max-retry-time", "1.5"],
    );
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(left.is_empty(), "no output file: {left:?}");
    // Without the time bound, 100 retries backing off up to 5 s each would take minutes.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

// ---------------------------------------------------------------------------------------------
// Hostile servers

/// How one hostile answer must end.
struct Expect {
    code: i32,
    /// Stderr's one line contains each of these.
    says: &'static [&'static str],
}

const fn expect(code: i32, says: &'static [&'static str]) -> Expect {
    Expect { code, says }
}

/// Runs `ccsqm details` (one page, ndjson) against `base_url` with a 1 s timeout and no retry,
/// and checks the exit code, the one line on stderr, and that it neither panics nor hangs.
fn check_details_against(base_url: &str, what: &str, expected: &Expect) -> Output {
    let (output, elapsed) = run_timed(
        ccsqm()
            .env("CCSQM_BASE_URL", base_url)
            .env("CCSQM_TOKEN", "hostile-test-token")
            .env("CCSQM_USER_ID", USER_ID)
            .args(["details", "--timeout", "1", "--max-retries", "0"]),
        Duration::from_secs(20),
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(expected.code), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert!(elapsed < Duration::from_secs(10), "{what}: {elapsed:?}");
    if expected.code == 0 {
        // A success says nothing, but what the spec does not describe (drift, said once).
        for needle in expected.says {
            assert!(err.contains(needle), "{what}: {needle:?} in: {err}");
        }
        assert!(expected.says.is_empty() || err.matches("does not describe").count() == 1);
        assert!(!expected.says.is_empty() || err.is_empty(), "{what}: {err}");
    } else {
        assert_eq!(err.lines().count(), 1, "{what}: one clear line: {err}");
        assert!(
            err.len() < 1_000,
            "{what}: a short line: {} bytes",
            err.len()
        );
        assert!(err.starts_with("ccsqm: "), "{what}: {err}");
        for needle in expected.says {
            assert!(err.contains(needle), "{what}: should say {needle:?}: {err}");
        }
    }
    output
}

#[test]
fn hostile_answers_give_the_documented_exit_code_and_one_line() {
    let html = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>\
                <body><h1>Bad Gateway</h1></body></html>";
    let call = json!({"call_uuid": "c1", "status": 2, "call_type": 0});
    // (what, status, content type, body, expected)
    let cases: Vec<(&str, u16, &str, Vec<u8>, Expect)> = vec![
        (
            "400",
            400,
            "text/plain",
            b"bad".to_vec(),
            expect(5, &["HTTP 400", "Check the request path and parameters."]),
        ),
        (
            "401",
            401,
            "text/plain",
            Vec::new(),
            expect(3, &["HTTP 401", "Unauthorized operation."]),
        ),
        (
            "404",
            404,
            "text/plain",
            Vec::new(),
            expect(4, &["HTTP 404", "Check the request path."]),
        ),
        (
            "500",
            500,
            "text/plain",
            Vec::new(),
            expect(5, &["HTTP 500", "Business failure."]),
        ),
        (
            "an HTML error page from a firewall",
            403,
            "text/html",
            html.as_bytes().to_vec(),
            expect(5, &["HTTP 403", "<!DOCTYPE html>"]),
        ),
        (
            "an HTML gateway page, after the retries",
            502,
            "text/html",
            html.as_bytes().to_vec(),
            expect(5, &["HTTP 502", "Bad Gateway"]),
        ),
        (
            "an HTML page with status 200 (a captive portal)",
            200,
            "text/html",
            html.as_bytes().to_vec(),
            expect(
                5,
                &["unreadable response body (HTTP 200 OK)", "<!DOCTYPE html>"],
            ),
        ),
        (
            "an empty body",
            200,
            "application/json",
            Vec::new(),
            expect(5, &["unreadable response body", "EOF"]),
        ),
        (
            "a body that is not JSON",
            200,
            "application/json",
            b"OK, here are your calls".to_vec(),
            expect(5, &["unreadable response body", "OK, here are your calls"]),
        ),
        (
            "JSON cut short",
            200,
            "application/json",
            br#"{"data": [{"call_group_id": "g", "calls": [{"call_uuid": "c"#.to_vec(),
            expect(5, &["unreadable response body", "EOF"]),
        ),
        (
            "JSON of the wrong shape",
            200,
            "application/json",
            br#"{"data": {"calls": 3}}"#.to_vec(),
            expect(5, &["unreadable response body", "invalid type"]),
        ),
        (
            "a 50 MB body that is not JSON",
            200,
            "application/json",
            vec![b'x'; 50 * 1024 * 1024],
            expect(5, &["unreadable response body", "xxxx"]),
        ),
        (
            "unknown fields and unknown enum values (tolerated, and said)",
            200,
            "application/json",
            json!({
                "data": [{"call_group_id": "g", "new_group_field": [1, 2],
                          "calls": [{"call_uuid": "c1", "status": 77, "call_type": 9,
                                     "sentiment": {"score": 0.5}}]}],
                "paging": {"total": 1, "cursor": "abc"},
                "request_id": "r-1"
            })
            .to_string()
            .into_bytes(),
            expect(
                0,
                &[
                    "spec/ccsqm.yaml does not describe",
                    "field `new_group_field` of CallGroup (1 call)",
                    "field `sentiment` of Call (1 call)",
                    "field `cursor` of Paging (1 page)",
                    "field `request_id` of AppraisecallDetailsResponse (1 page)",
                    "value 77 of Call.status, not in InspectionStatus (1 call)",
                    "value 9 of Call.call_type, not in CallType (1 call)",
                ],
            ),
        ),
        (
            "a JSON page sent as text/html (tolerated)",
            200,
            "text/html; charset=iso-8859-1",
            json!({"data": [{"call_group_id": "c1", "calls": [call]}], "paging": {"total": 1}})
                .to_string()
                .into_bytes(),
            expect(0, &[]),
        ),
        (
            "a redirect (not followed: credentials stay here)",
            302,
            "text/plain",
            Vec::new(),
            expect(5, &["HTTP 302"]),
        ),
    ];
    let server = MockServer::start();
    for (what, status, content_type, body, expected) in cases {
        let mut mock = server.mock(|_, then| {
            then.status(status)
                .header("content-type", content_type)
                .header("location", "https://elsewhere.example/")
                .body(body);
        });
        let output = check_details_against(&server.base_url(), what, &expected);
        if expected.code == 0 {
            let calls: Vec<Value> = stdout(&output)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(calls.len(), 1, "{what}");
            assert_eq!(calls[0]["call_uuid"], "c1", "{what}");
            if what.starts_with("unknown") {
                assert_eq!(calls[0]["status"], 77, "kept as the number it is");
                assert_eq!(calls[0]["call_type"], 9);
            }
        }
        mock.delete();
    }
}

/// A server on a free loopback port that answers each connection with `answer` (after reading
/// the request), on its own thread, for the rest of the test process.
fn raw_server(answer: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || {
                if let Ok(stream) = read_request(stream).map(|(stream, _)| stream) {
                    answer(stream);
                }
            });
        }
    });
    format!("http://{addr}")
}

#[test]
fn hostile_slow_and_cut_answers_end_within_the_timeout() {
    type Answer = fn(TcpStream);
    let cases: [(&str, Answer, Expect); 4] = [
        (
            "headers, then a body trickling slower than the timeout (slow loris)",
            |mut s| {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                            content-length: 1000\r\n\r\n";
                if s.write_all(head.as_bytes()).is_err() {
                    return;
                }
                for _ in 0..100 {
                    std::thread::sleep(Duration::from_millis(200));
                    if s.write_all(b" ").and_then(|()| s.flush()).is_err() {
                        return;
                    }
                }
            },
            expect(6, &["timed out"]),
        ),
        (
            "no answer at all",
            |_s| std::thread::sleep(Duration::from_secs(15)),
            expect(6, &["timed out"]),
        ),
        (
            "a body shorter than its Content-Length, then the connection closes",
            |mut s| {
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                      content-length: 1000\r\n\r\n{\"data\": [",
                );
            },
            expect(6, &["network error"]),
        ),
        (
            "the connection closes before any answer",
            drop,
            expect(6, &["network error"]),
        ),
    ];
    for (what, answer, expected) in cases {
        let base_url = raw_server(answer);
        check_details_against(&base_url, what, &expected);
    }
}

#[test]
fn hostile_a_long_retry_after_ends_the_retries_instead_of_hanging() {
    let server = MockServer::start();
    let mock = server.mock(|_, then| {
        then.status(503).header("retry-after", "3600");
    });
    let (output, elapsed) = run_timed(
        ccsqm()
            .env("CCSQM_BASE_URL", server.base_url())
            .env("CCSQM_TOKEN", "hostile-test-token")
            .env("CCSQM_USER_ID", USER_ID)
            .arg("details"),
        Duration::from_secs(20),
    );
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(stderr(&output).contains("HTTP 503"), "{}", stderr(&output));
    assert_eq!(
        mock.calls(),
        1,
        "an hour's wait is past the retry time: no retry"
    );
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

// ---------------------------------------------------------------------------------------------
// Secrets

const SECRET_TOKEN: &str = "tok-RECOGNISABLE-7f3e1d";
const SECRET_APP_SECRET: &str = "appsecret-RECOGNISABLE-c0ffee";

/// Asserts that no configured secret appears in the output or in any file under `dir`.
fn assert_no_secret(what: &str, output: &Output, dir: &Path) {
    let mut places: HashMap<String, Vec<u8>> = HashMap::new();
    places.insert("stdout".into(), output.stdout.clone());
    places.insert("stderr".into(), output.stderr.clone());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        places.insert(path.display().to_string(), std::fs::read(&path).unwrap());
    }
    for (place, bytes) in places {
        let text = String::from_utf8_lossy(&bytes);
        for secret in [SECRET_TOKEN, SECRET_APP_SECRET] {
            assert!(
                !text.contains(secret),
                "{what}: {secret} appears in {place}: {text}"
            );
        }
    }
}

#[test]
fn secrets_never_appear_in_any_output_log_or_file() {
    let rt = runtime();
    // A sandbox whose app secret is the recognisable one: AK/SK commands really use it.
    let sandbox = rt
        .block_on(
            Sandbox::builder()
                .calls(120)
                .app_secret(SECRET_APP_SECRET)
                .start(),
        )
        .unwrap();
    // A mock that accepts only the recognisable token.
    let server = MockServer::start();
    server.mock(|when, then| {
        when.header("authorization", format!("Bearer {SECRET_TOKEN}"))
            .json_body_includes(json!({"page": 1}).to_string());
        then.status(200).json_body(json!({
            "data": [{"call_group_id": "g", "calls": [{"call_uuid": "c1", "status": 2}]}],
            "paging": {"total": 1}
        }));
    });
    server.mock(|_, then| {
        then.status(401);
    });

    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name).display().to_string();
    let ak_sk = |cmd: &mut Command| {
        cmd.env("CCSQM_BASE_URL", sandbox.base_url())
            .env("CCSQM_USER_ID", &sandbox.credentials().user_id)
            .env("CCSQM_APP_KEY", &sandbox.credentials().app_key)
            .env("CCSQM_APP_SECRET", SECRET_APP_SECRET);
    };
    let token = |cmd: &mut Command| {
        cmd.env("CCSQM_BASE_URL", server.base_url())
            .env("CCSQM_USER_ID", USER_ID)
            .env("CCSQM_TOKEN", SECRET_TOKEN)
            .env("CCSQM_APP_KEY", "app-key")
            .env("CCSQM_APP_SECRET", SECRET_APP_SECRET);
    };
    type Env<'a> = &'a dyn Fn(&mut Command);
    let cases: Vec<(Env, Vec<String>, i32)> = vec![
        (
            &ak_sk,
            vec![
                "details".into(),
                "--limit".into(),
                "10".into(),
                "--output-file".into(),
                file("ak-page.ndjson"),
            ],
            0,
        ),
        (
            &ak_sk,
            vec![
                "details".into(),
                "--all".into(),
                "--limit".into(),
                "25".into(),
                "--output-file".into(),
                file("ak-all.csv"),
            ],
            0,
        ),
        (
            &ak_sk,
            vec![
                "details".into(),
                "-o".into(),
                "json".into(),
                "--output-file".into(),
                file("ak-page.json"),
            ],
            0,
        ),
        (
            &ak_sk,
            vec![
                "details".into(),
                "--all".into(),
                "-o".into(),
                "table".into(),
            ],
            0,
        ),
        (&ak_sk, vec!["details".into(), "--dry-run".into()], 0),
        (
            &ak_sk,
            vec!["token".into(), "--expire".into(), "60".into()],
            0,
        ),
        (
            &token,
            vec![
                "details".into(),
                "--output-file".into(),
                file("token-page.ndjson"),
            ],
            0,
        ),
        (
            &token,
            vec![
                "details".into(),
                "--all".into(),
                "--output-file".into(),
                file("token-all.csv"),
            ],
            0,
        ),
        (&token, vec!["details".into(), "--dry-run".into()], 0),
        (
            &token,
            vec![
                "details".into(),
                "--page".into(),
                "2".into(),
                "--output-file".into(),
                file("refused.ndjson"),
            ],
            3,
        ),
        (&token, vec!["token".into()], 2),
        (&token, vec!["schema".into(), "request".into()], 0),
        (&token, vec!["completions".into(), "bash".into()], 0),
        (&token, vec!["man".into()], 0),
        (&token, vec!["--help".into()], 0),
        (
            &token,
            vec!["details".into(), "--limit".into(), "0".into()],
            2,
        ),
        (
            &ak_sk,
            vec!["sync".into(), "--db".into(), file("ak.sqlite3")],
            0,
        ),
        (
            &token,
            vec!["sync".into(), "--db".into(), file("token.sqlite3")],
            0,
        ),
        // A database URL's password is a secret too (nothing listens on port 9).
        (
            &token,
            vec![
                "sync".into(),
                "--db".into(),
                format!("postgres://me:{SECRET_APP_SECRET}@127.0.0.1:9/calls"),
            ],
            7,
        ),
    ];
    for (env, args, code) in cases {
        let mut cmd = ccsqm();
        env(&mut cmd);
        cmd.args(&args).arg("-vv");
        let (output, _) = run_timed(&mut cmd, Duration::from_secs(30));
        let what = args.join(" ");
        assert_eq!(
            output.status.code(),
            Some(code),
            "{what}: {}",
            stderr(&output)
        );
        assert_no_secret(&what, &output, dir.path());
    }
    let mut written: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "ak-all.csv",
            "ak-page.json",
            "ak-page.ndjson",
            "ak.sqlite3",
            "token-all.csv",
            "token-page.ndjson",
            "token.sqlite3"
        ],
        "the files checked"
    );

    // A wrong app secret, refused by the sandbox: the error does not repeat it.
    let mut cmd = ccsqm();
    ak_sk(&mut cmd);
    cmd.env("CCSQM_APP_SECRET", format!("{SECRET_APP_SECRET}-wrong"))
        .args(["details", "-vv"]);
    let (output, _) = run_timed(&mut cmd, Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_no_secret("a wrong app secret", &output, dir.path());
}

/// Starts `ccsqm sandbox` with `env` and `args`, reads its banner (stdout) until it is ready,
/// stops it, and returns (banner, stderr): stderr is read to its end once the process is gone.
fn sandbox_server_output(env: &[(&str, &str)], args: &[&str]) -> (String, String) {
    let mut cmd = ccsqm();
    for (name, value) in env {
        cmd.env(name, value);
    }
    let mut child = cmd
        .args(["sandbox", "--port", "0", "--calls", "10", "-vv"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        err.read_to_string(&mut text).map(|_| text)
    });
    let mut banner = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    while !banner.contains("Press Ctrl-C") {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap() == 0 {
            break;
        }
        banner.push_str(&line);
    }
    // A request, so that the server logs something of its own.
    if let Some(url) = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
    {
        let _ = run_timed(
            ccsqm()
                .env("CCSQM_BASE_URL", url)
                .env("CCSQM_USER_ID", "sandbox-user")
                .env("CCSQM_APP_KEY", "sandbox-app-key")
                .env("CCSQM_APP_SECRET", SECRET_APP_SECRET)
                .args(["details", "--max-retries", "0"]),
            Duration::from_secs(20),
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    (banner, err.join().unwrap().unwrap())
}

#[test]
fn secrets_of_the_environment_never_appear_when_the_sandbox_server_starts() {
    let (banner, err) = sandbox_server_output(
        &[
            ("CCSQM_TOKEN", SECRET_TOKEN),
            ("CCSQM_APP_SECRET", SECRET_APP_SECRET),
        ],
        &[],
    );
    assert!(
        banner.contains("listening on http://127.0.0.1:"),
        "{banner}"
    );
    for secret in [SECRET_TOKEN, SECRET_APP_SECRET] {
        assert!(!banner.contains(secret), "{secret} in the banner: {banner}");
        assert!(!err.contains(secret), "{secret} on stderr: {err}");
    }
}

#[test]
fn secrets_the_sandbox_server_takes_its_app_secret_from_a_file_or_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app_secret");
    std::fs::write(&file, format!("{SECRET_APP_SECRET}\n")).unwrap();
    let from_file = ["--app-secret-file".to_owned(), file.display().to_string()];
    let from_file: Vec<&str> = from_file.iter().map(String::as_str).collect();
    for (env, args) in [
        (
            vec![("CCSQM_SANDBOX_APP_SECRET", SECRET_APP_SECRET)],
            vec![],
        ),
        (vec![], from_file),
    ] {
        let (banner, err) = sandbox_server_output(&env, &args);
        assert!(banner.contains("listening on"), "{banner}");
        assert!(!banner.contains(SECRET_APP_SECRET), "{banner}");
        assert!(!err.contains(SECRET_APP_SECRET), "{err}");
        assert!(
            !banner.contains("sandbox-app-secret"),
            "not the default: {banner}"
        );
    }
    // There is no flag for the value itself.
    let output = ccsqm()
        .args(["sandbox", "--port", "0", "--app-secret", SECRET_APP_SECRET])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        !stderr(&output).contains(SECRET_APP_SECRET),
        "{}",
        stderr(&output)
    );
    // A missing file is bad usage.
    let output = ccsqm()
        .args(["sandbox", "--port", "0", "--app-secret-file"])
        .arg(dir.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--app-secret-file"),
        "{}",
        stderr(&output)
    );
}
