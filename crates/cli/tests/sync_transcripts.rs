//! `ccsqm sync --with-transcripts`: the real binary against an in-process sandbox, into SQLite
//! and PostgreSQL (the server `CCSQM_TEST_POSTGRES_URL` names, where the tests may create
//! databases; `cargo xtask test` starts one). `call_segments` is compared with what
//! `ccsqm transcript -o json` prints for the same calls, read with the backend's own tools
//! (rusqlite; `psql` with `row_to_json`).
//!
//! Run them with `cargo xtask test -p ccsqm-cli --test sync_transcripts`.

use std::collections::{BTreeMap, BTreeSet};

use std::process::{Command, Output};
use std::time::Duration;

use ccsqm_sandbox::Sandbox;
use serde_json::Value;

mod common;
use common::databases::{backends, in_progress_statuses, Backend};
use common::{ccsqm, run_within, runtime, stderr, stdout};

const LIMIT: Duration = Duration::from_secs(240);

fn connected(sandbox: &Sandbox, mut cmd: Command) -> Command {
    let credentials = sandbox.credentials();
    cmd.env("CCSQM_BASE_URL", sandbox.base_url())
        .env("CCSQM_USER_ID", &credentials.user_id)
        .env("CCSQM_APP_KEY", &credentials.app_key)
        .env("CCSQM_APP_SECRET", credentials.app_secret.expose());
    cmd
}

fn sync(sandbox: &Sandbox, db: &str, extra: &[&str]) -> Output {
    let mut cmd = connected(sandbox, ccsqm());
    cmd.args(["sync", "--db", db, "--with-transcripts"])
        .args(extra);
    let output = run_within(&mut cmd, LIMIT);
    assert!(
        output.status.success(),
        "sync: {:?}\n{}",
        output.status,
        stderr(&output)
    );
    output
}

/// What `ccsqm transcript -o json` prints for `uuids`: each call's segments as the rows of
/// `call_segments` would hold them, by (call_uuid, segment_order).
fn transcripts_of(sandbox: &Sandbox, uuids: &[String]) -> BTreeMap<(String, i64), Value> {
    let mut cmd = connected(sandbox, ccsqm());
    cmd.args(["transcript", "-o", "json", "--concurrency", "8"])
        .args(uuids);
    let output = run_within(&mut cmd, LIMIT);
    assert!(output.status.success(), "{}", stderr(&output));
    let responses: Vec<Value> = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(responses.len(), uuids.len());
    let mut rows = BTreeMap::new();
    for (uuid, response) in uuids.iter().zip(responses) {
        let segments = response["segments"].as_array().cloned().unwrap_or_default();
        for (i, segment) in segments.iter().enumerate() {
            let field = |name: &str| segment.get(name).cloned().unwrap_or(Value::Null);
            // The speaker is text: a string as it is, a number as its digits.
            let speaker = match field("speaker") {
                Value::Number(n) => Value::String(n.to_string()),
                other => other,
            };
            let row = serde_json::json!({
                "call_uuid": uuid,
                "segment_order": i as i64 + 1,
                "segment_id": field("segment_id"),
                "speaker": speaker,
                "start_time": field("start_time"),
                "end_time": field("end_time"),
                "asr_text": field("asr_text"),
                "status": field("status"),
            });
            rows.insert((uuid.clone(), i as i64 + 1), numbers_as_f64(row));
        }
    }
    rows
}

fn stored_segments(backend: &Backend) -> BTreeMap<(String, i64), Value> {
    backend
        .rows("call_segments")
        .into_iter()
        .map(|row| {
            let key = (
                row["call_uuid"].as_str().unwrap().to_owned(),
                row["segment_order"].as_i64().unwrap(),
            );
            (key, numbers_as_f64(Value::Object(row)))
        })
        .collect()
}

/// Every number as a float: `3` and `3.0` are the same value (PostgreSQL's JSON writes a whole
/// double without its fraction).
fn numbers_as_f64(value: Value) -> Value {
    match value {
        Value::Number(n) => n.as_f64().map_or(Value::Number(n), Value::from),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, numbers_as_f64(v))).collect())
        }
        other => other,
    }
}

fn stored_line(output: &Output) -> String {
    stderr(output)
        .lines()
        .find(|l| l.contains("synced "))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn finished_calls_transcripts_are_stored_once_and_equal_ccsqm_transcript() {
    let rt = runtime();
    let sandbox = rt
        .block_on(Sandbox::builder().calls(300).seed(29).start())
        .unwrap();
    let data = sandbox.data().clone();
    let mut finished: Vec<String> = Vec::new();
    let in_progress_statuses = in_progress_statuses();
    let mut in_progress = 0;
    for i in 0..data.len() {
        let call = data.call(i).unwrap();
        let uuid = call.call_uuid.clone().unwrap();
        match call.status {
            Some(s) if in_progress_statuses.contains(&s) => in_progress += 1,
            _ => finished.push(uuid),
        }
    }
    assert!(
        !finished.is_empty() && in_progress > 0,
        "the data set needs both"
    );
    finished.sort();
    let expected = transcripts_of(&sandbox, &finished);
    assert!(!expected.is_empty(), "the finished calls have segments");

    for backend in backends("transcripts_stored") {
        let db = backend.url();
        let first = sync(&sandbox, &db, &["--limit", "40"]);
        assert!(
            stored_line(&first).contains(&format!("{} transcript(s) stored", finished.len())),
            "{}",
            stderr(&first)
        );
        assert_eq!(stored_segments(&backend), expected);
        let fetched: BTreeSet<String> = backend
            .rows("call_transcripts")
            .iter()
            .map(|r| r["call_uuid"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(fetched, finished.iter().cloned().collect());
        let before = backend.rows("call_transcripts");

        // Every call read again: no transcript fetched again.
        let second = sync(&sandbox, &db, &["--limit", "40", "--overlap", "10000d"]);
        let line = stored_line(&second);
        assert!(
            line.contains(&format!("{} unchanged", data.len()))
                && !line.contains("transcript(s) stored"),
            "{line}"
        );
        assert_eq!(backend.rows("call_transcripts"), before);
        assert_eq!(stored_segments(&backend), expected);

        // A call whose final status differs from the one its transcript was fetched at is
        // fetched again, and only it; its segments are replaced, not added.
        let one = &finished[0];
        backend.edit(&format!(
            "UPDATE call_transcripts SET status = -7 WHERE call_uuid = '{one}'; \
             UPDATE call_segments SET asr_text = 'stale' WHERE call_uuid = '{one}'"
        ));
        let third = sync(&sandbox, &db, &["--limit", "40", "--overlap", "10000d"]);
        assert!(
            stored_line(&third).contains(", 1 transcript(s) stored"),
            "{}",
            stderr(&third)
        );
        assert_eq!(stored_segments(&backend), expected);
    }
}

#[test]
fn a_database_without_the_transcripts_tables_gains_them() {
    let rt = runtime();
    let sandbox = rt
        .block_on(Sandbox::builder().calls(50).seed(31).start())
        .unwrap();
    for backend in backends("transcripts_upgrade") {
        let db = backend.url();
        let mut cmd = connected(&sandbox, ccsqm());
        cmd.args(["sync", "--db", &db]);
        let output = run_within(&mut cmd, LIMIT);
        assert!(output.status.success(), "{}", stderr(&output));
        // As a ccsqm of before --with-transcripts left it; --since reads the older calls again
        // (the checkpoint would not), and fetches their transcripts.
        backend.edit("DROP TABLE call_segments; DROP TABLE call_transcripts");
        let output = sync(&sandbox, &db, &["--since", "2000-01-01"]);
        assert!(
            stderr(&output).contains("created tables call_transcripts, call_segments"),
            "{}",
            stderr(&output)
        );
        assert!(!backend.rows("call_transcripts").is_empty());
    }
}
