//! Drift from live traffic (#24 item 5): what a server sends that `spec/ccsqm.yaml` does not
//! describe (a key it does not name, an enumeration value it does not list) is kept and said,
//! never silently dropped. A tiny server sends pages with such keys at every level and a status
//! code the spec lacks; `ccsqm details` and `ccsqm sync` (SQLite and PostgreSQL) are run
//! against it.
//!
//! The PostgreSQL parts need `CCSQM_TEST_POSTGRES_URL`: run them with
//! `cargo xtask test -p ccsqm-cli --test drift` (it starts a throwaway server).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

mod common;
use common::databases::{backends, Backend};
use common::{ccsqm, run_within, stderr, stdout};

const LIMIT: Duration = Duration::from_secs(240);

/// The sentence that opens the drift message.
const SAID: &str = "does not describe";

/// An inspection status the spec does not list (one past the largest it does).
fn unknown_status() -> i64 {
    ccsqm_client::spec::enums::INSPECTION_STATUS
        .values
        .iter()
        .map(|v| v.code)
        .max()
        .unwrap()
        + 1
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The groups the server holds: `with_drift`, with keys the spec does not name (on the page,
/// its paging, a group, calls: nested values included) and an unknown status; else only what
/// the spec names.
fn groups(with_drift: bool, start: i64) -> Vec<Value> {
    let status = if with_drift { unknown_status() } else { 2 };
    let mut a = json!({"call_uuid": "a", "status": 2, "call_type": 0, "upload_time": start - 100});
    let mut b =
        json!({"call_uuid": "b", "status": status, "call_type": 0, "upload_time": start - 50});
    let c = json!({"call_uuid": "c", "status": 2, "call_type": 2, "upload_time": start - 20});
    let mut g1 = json!({"call_group_id": "g1"});
    if with_drift {
        a["sentiment"] = json!({"score": 0.25, "label": "calm", "tags": ["x", 1]});
        b["sentiment"] = json!({"score": -1, "label": null});
        b["queue_ms"] = json!(12345678901_i64);
        g1["region"] = json!("eu-1");
    }
    g1["calls"] = json!([a]);
    vec![
        g1,
        json!({"call_group_id": "g2", "calls": [b]}),
        json!({"call_group_id": "g3", "calls": [c]}),
    ]
}

/// The page a request asks for, of the groups whose call was uploaded in its window.
fn page(body: &Value, groups: &[Value], with_drift: bool) -> Value {
    let from = body["upload_from"].as_i64().unwrap_or(i64::MIN);
    let to = body["upload_to"].as_i64().unwrap_or(i64::MAX);
    let matching: Vec<&Value> = groups
        .iter()
        .filter(|g| (from..=to).contains(&g["calls"][0]["upload_time"].as_i64().unwrap()))
        .collect();
    let limit = body["limit"].as_u64().unwrap_or(100) as usize;
    let number = body["page"].as_u64().unwrap_or(1) as usize;
    let data: Vec<&Value> = matching
        .iter()
        .copied()
        .skip((number - 1) * limit)
        .take(limit)
        .collect();
    let mut page = json!({"data": data, "paging": {"total": matching.len()}});
    if with_drift {
        page["request_id"] = json!("r-1");
        page["paging"]["cursor"] = json!("next");
    }
    page
}

/// A server of `appraisecall/details` answering from [`groups`]; `mode` 1: with drift, 0:
/// without.
fn server(start: i64) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mode = Arc::new(AtomicU64::new(1));
    let switch = mode.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mode = mode.clone();
            std::thread::spawn(move || {
                let Ok((mut stream, body)) = read(stream) else {
                    return;
                };
                let with_drift = mode.load(Ordering::SeqCst) == 1;
                let body = page(&body, &groups(with_drift, start), with_drift).to_string();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
            });
        }
    });
    (format!("http://{addr}"), switch)
}

/// A request's body as JSON (`Null` when it is not JSON).
fn read(stream: TcpStream) -> std::io::Result<(TcpStream, Value)> {
    let (stream, body) = common::read_request(stream)?;
    Ok((stream, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

fn with_server(cmd: &mut Command, url: &str) {
    cmd.env("CCSQM_BASE_URL", url)
        .env("CCSQM_USER_ID", "u")
        .env("CCSQM_TOKEN", "t0k3n-not-shown");
}

fn details(url: &str, args: &[&str]) -> Output {
    let mut cmd = ccsqm();
    with_server(&mut cmd, url);
    cmd.args(["details", "--max-retries", "0"]).args(args);
    run_within(&mut cmd, LIMIT)
}

fn sync(url: &str, db: &str, args: &[&str]) -> Output {
    let mut cmd = ccsqm();
    with_server(&mut cmd, url);
    cmd.args(["sync", "--db", db, "--max-retries", "0"])
        .args(args);
    run_within(&mut cmd, LIMIT)
}

fn succeeded(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {:?}\n{}",
        output.status,
        stderr(output)
    );
}

/// The drift message names each finding with its count and where to describe it, once.
fn assert_said_once(err: &str) {
    assert_eq!(err.matches(SAID).count(), 1, "said once:\n{err}");
    let status = unknown_status();
    for line in [
        "field `sentiment` of Call (2 calls)".to_owned(),
        "field `queue_ms` of Call (1 call)".to_owned(),
        "field `region` of CallGroup (1 call)".to_owned(),
        format!("value {status} of Call.status, not in InspectionStatus (1 call)"),
        "spec/ccsqm.yaml".to_owned(),
        "cargo xtask codegen".to_owned(),
    ] {
        assert!(err.contains(&line), "{line:?} in:\n{err}");
    }
}

/// Each call of the server, as sent, with its group's `call_group_id` (and the group's keys
/// the spec does not name).
fn sent_calls(start: i64) -> Vec<Value> {
    groups(true, start)
        .into_iter()
        .map(|g| {
            let mut call = g["calls"][0].clone();
            for (key, value) in g.as_object().unwrap() {
                if key != "calls" {
                    call[key] = value.clone();
                }
            }
            call
        })
        .collect()
}

#[test]
fn details_ndjson_and_json_carry_unknown_fields_unchanged_and_say_it_once() {
    let start = now();
    let (url, _) = server(start);
    let want = sent_calls(start);

    let ndjson = details(&url, &["--all", "-o", "ndjson"]);
    succeeded(&ndjson, "--all -o ndjson");
    let lines: Vec<Value> = stdout(&ndjson)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, want, "NDJSON: each call as sent");
    assert_said_once(&stderr(&ndjson));
    assert!(
        stderr(&ndjson).contains("kept in the output"),
        "{}",
        stderr(&ndjson)
    );

    let array = details(&url, &["--all", "-o", "json"]);
    succeeded(&array, "--all -o json");
    let array: Value = serde_json::from_str(&stdout(&array)).unwrap();
    assert_eq!(
        array,
        Value::Array(want.clone()),
        "JSON array: each call as sent"
    );

    // One page, as the API's response: every unknown key in its place, at every level.
    let one = details(&url, &["-o", "json", "--limit", "10"]);
    succeeded(&one, "-o json (one page)");
    let shown: Value = serde_json::from_str(&stdout(&one)).unwrap();
    let sent = page(&json!({"limit": 10, "page": 1}), &groups(true, start), true);
    assert_eq!(shown, sent, "one page: as sent");
    assert_eq!(stderr(&one).matches(SAID).count(), 1, "{}", stderr(&one));
    assert!(stderr(&one).contains("field `request_id` of AppraisecallDetailsResponse (1 page)"));
    assert!(stderr(&one).contains("field `cursor` of Paging (1 page)"));

    // One page of NDJSON (without --all) too.
    let one = details(&url, &["-o", "ndjson", "--limit", "10"]);
    succeeded(&one, "-o ndjson (one page)");
    let lines: Vec<Value> = stdout(&one)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, want);
}

#[test]
fn csv_leaves_unknown_fields_out_and_says_so_and_quiet_is_silent() {
    let start = now();
    let (url, _) = server(start);
    let csv = details(&url, &["--all", "-o", "csv"]);
    succeeded(&csv, "-o csv");
    let header = stdout(&csv).lines().next().unwrap().to_owned();
    assert!(
        !header.contains("sentiment") && !header.contains("region"),
        "{header}"
    );
    let err = stderr(&csv);
    assert_said_once(&err);
    assert!(err.contains("left out of CSV"), "{err}");

    let quiet = details(&url, &["--all", "-o", "ndjson", "-q"]);
    succeeded(&quiet, "-q");
    assert!(!stderr(&quiet).contains(SAID), "-q: {}", stderr(&quiet));
    assert_eq!(stdout(&quiet).lines().count(), 3);
}

#[test]
fn strict_spec_fails_with_exit_8_and_leaves_the_output_file_untouched() {
    let start = now();
    let (url, mode) = server(start);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calls.ndjson");
    std::fs::write(&file, "previous\n").unwrap();
    let path = file.to_str().unwrap();

    for (how, args, env) in [
        ("--strict-spec", vec!["--strict-spec"], None),
        ("CCSQM_STRICT_SPEC=1", vec![], Some("1")),
    ] {
        for format in ["ndjson", "json", "csv"] {
            let mut cmd = ccsqm();
            with_server(&mut cmd, &url);
            if let Some(value) = env {
                cmd.env("CCSQM_STRICT_SPEC", value);
            }
            cmd.args(["details", "--all", "-o", format, "--output-file", path])
                .args(&args);
            let output = run_within(&mut cmd, LIMIT);
            assert_eq!(
                output.status.code(),
                Some(8),
                "{how} {format}: {}",
                stderr(&output)
            );
            let err = stderr(&output);
            assert!(err.contains("field `sentiment` of Call (2 calls)"), "{err}");
            assert!(err.contains("the output file was not written"), "{err}");
            assert_eq!(
                std::fs::read_to_string(&file).unwrap(),
                "previous\n",
                "{how} {format}"
            );
        }
        // One page too.
        let mut cmd = ccsqm();
        with_server(&mut cmd, &url);
        if let Some(value) = env {
            cmd.env("CCSQM_STRICT_SPEC", value);
        }
        cmd.args(["details", "-o", "json", "--output-file", path])
            .args(&args);
        let output = run_within(&mut cmd, LIMIT);
        assert_eq!(
            output.status.code(),
            Some(8),
            "{how} one page: {}",
            stderr(&output)
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "previous\n");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left: {left:?}");

    // Without drift, --strict-spec is no error and nothing is said.
    mode.store(0, Ordering::SeqCst);
    let clean = details(&url, &["--all", "-o", "ndjson", "--strict-spec"]);
    succeeded(&clean, "no drift");
    assert!(!stderr(&clean).contains(SAID), "{}", stderr(&clean));
    assert_eq!(stdout(&clean).lines().count(), 3);
}

/// The stored `unknown_fields` of each call, as JSON (`None`: NULL).
fn stored_unknown(backend: &Backend) -> Vec<(String, Option<Value>)> {
    let mut rows: Vec<(String, Option<Value>)> = backend
        .rows("calls")
        .into_iter()
        .map(|row| {
            let key = row["call_uuid"].as_str().unwrap().to_owned();
            let value = match &row["unknown_fields"] {
                Value::Null => None,
                Value::String(text) => Some(serde_json::from_str(text).unwrap()),
                other => Some(other.clone()),
            };
            (key, value)
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn checkpoint(backend: &Backend) -> Option<i64> {
    backend
        .rows("sync_checkpoint")
        .first()
        .and_then(|r| r["upload_to"].as_i64())
}

fn status(db: &str) -> String {
    let output = ccsqm()
        .args(["sync", "status", "--db", db])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn sync_stores_unknown_fields_says_and_records_the_drift_and_strict_stops_it() {
    let start = now();
    let (url, mode) = server(start);
    let want = vec![
        (
            "a".to_owned(),
            Some(
                json!({"sentiment": {"score": 0.25, "label": "calm", "tags": ["x", 1]}, "region": "eu-1"}),
            ),
        ),
        (
            "b".to_owned(),
            Some(json!({"sentiment": {"score": -1, "label": null}, "queue_ms": 12345678901_i64})),
        ),
        ("c".to_owned(), None),
    ];
    for backend in backends("drift_sync") {
        let db = backend.url();
        let name = backend.name();

        // Strict, first: the round fails before any call of the page is written; no
        // checkpoint.
        mode.store(1, Ordering::SeqCst);
        let strict = sync(&url, &db, &["--strict-spec"]);
        assert_eq!(strict.status.code(), Some(8), "{name}: {}", stderr(&strict));
        assert!(
            stderr(&strict).contains("field `sentiment` of Call"),
            "{}",
            stderr(&strict)
        );
        assert_eq!(backend.count(), 0, "{name}: no call of the page written");
        assert_eq!(checkpoint(&backend), None, "{name}: no checkpoint");

        // Not strict: stored, with the unknown keys in their column; said once.
        let output = sync(&url, &db, &[]);
        succeeded(&output, name);
        assert_said_once(&stderr(&output));
        assert!(
            stderr(&output).contains("unknown_fields"),
            "{}",
            stderr(&output)
        );
        assert_eq!(stored_unknown(&backend), want, "{name}");
        let stored_status = backend
            .rows("calls")
            .into_iter()
            .find(|r| r["call_uuid"] == "b")
            .unwrap()["status"]
            .as_i64();
        assert_eq!(
            stored_status,
            Some(unknown_status()),
            "{name}: the code as sent"
        );
        let shown = status(&db);
        assert!(shown.contains("drift:      2 call(s)"), "{name}: {shown}");
        assert!(
            shown.contains("field `sentiment` of Call (2 calls)"),
            "{name}: {shown}"
        );
        assert!(shown.contains(&format!("value {} of Call.status", unknown_status())));
        assert!(
            shown.contains("strict about the spec"),
            "{name}: the strict run's failure: {shown}"
        );

        // -q: stored, not said.
        let quiet = sync(&url, &db, &["-q"]);
        succeeded(&quiet, name);
        assert!(!stderr(&quiet).contains(SAID), "{name}: {}", stderr(&quiet));

        // Strict again after a checkpoint: the round fails, the checkpoint stays.
        let before = checkpoint(&backend);
        assert!(before.is_some());
        std::thread::sleep(Duration::from_millis(1_100));
        let strict = sync(&url, &db, &["--strict-spec"]);
        assert_eq!(strict.status.code(), Some(8), "{name}: {}", stderr(&strict));
        assert_eq!(
            checkpoint(&backend),
            before,
            "{name}: the checkpoint did not move"
        );

        // Without drift: no message, and strict succeeds.
        mode.store(0, Ordering::SeqCst);
        let clean = sync(&url, &db, &["--strict-spec"]);
        succeeded(&clean, name);
        assert!(!stderr(&clean).contains(SAID), "{name}: {}", stderr(&clean));
    }
}
