//! `ccsqm sync --with-transcripts`: the real binary against an in-process sandbox, into SQLite
//! (always) and PostgreSQL (when `CCSQM_TEST_POSTGRES_URL` names a server where the tests may
//! create databases; `.ci/run` starts one). `call_segments` is compared with what
//! `ccsqm transcript -o json` prints for the same calls, read with the backend's own tools
//! (rusqlite; `psql` with `row_to_json`).
//!
//! Run them with `cargo test -p ccsqm-cli --test sync_transcripts`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use ccsqm_sandbox::Sandbox;
use serde_json::{Map, Value};

mod common;
use common::{ccsqm, run_within, stderr, stdout};

const LIMIT: Duration = Duration::from_secs(240);
const POSTGRES_ENV: &str = "CCSQM_TEST_POSTGRES_URL";
/// The statuses that are not final (the README's: waiting, in inspection, in transcription).
const IN_PROGRESS: [i64; 3] = [0, 1, 3];

enum Backend {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        url: String,
    },
}

fn backends(test: &str) -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calls.sqlite3");
    let mut backends = vec![Backend::Sqlite { _dir: dir, path }];
    match std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty()) {
        Some(server) => {
            let name = format!("ccsqm_{test}");
            psql(&server, &format!("DROP DATABASE IF EXISTS {name}"));
            psql(&server, &format!("CREATE DATABASE {name}"));
            let (base, query) = match server.split_once('?') {
                Some((b, q)) => (b.to_owned(), format!("?{q}")),
                None => (server.clone(), String::new()),
            };
            let scheme_end = base.find("://").map_or(0, |i| i + 3);
            let host_end = base[scheme_end..]
                .find('/')
                .map_or(base.len(), |i| scheme_end + i);
            backends.push(Backend::Postgres {
                url: format!("{}/{name}{query}", &base[..host_end]),
            });
        }
        None => eprintln!(
            "{test}: PostgreSQL skipped: {POSTGRES_ENV} is not set (`.ci/run` starts a server \
             and sets it); SQLite only"
        ),
    }
    backends
}

fn psql(url: &str, sql: &str) -> String {
    let output = Command::new("psql")
        .args([
            url,
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .expect("psql (the PostgreSQL client) is needed for the PostgreSQL tests");
    assert!(
        output.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

impl Backend {
    fn url(&self) -> String {
        match self {
            Backend::Sqlite { path, .. } => format!("sqlite:{}", path.display()),
            Backend::Postgres { url } => url.clone(),
        }
    }

    fn rows(&self, table: &str) -> Vec<Map<String, Value>> {
        match self {
            Backend::Sqlite { path, .. } => {
                let conn = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .unwrap();
                let mut statement = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
                let names: Vec<String> = statement.column_names().map(|n| n.to_string()).collect();
                statement
                    .query_map([], |row| {
                        let mut object = Map::new();
                        for (i, name) in names.iter().enumerate() {
                            use rusqlite::types::Value as V;
                            let value = match row.get::<_, V>(i)? {
                                V::Null => Value::Null,
                                V::Integer(n) => n.into(),
                                V::Real(f) => f.into(),
                                V::Text(s) => s.into(),
                                V::Blob(_) => panic!("a blob in {name}"),
                            };
                            object.insert(name.clone(), value);
                        }
                        Ok(object)
                    })
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            }
            Backend::Postgres { url } => {
                psql(url, &format!("SELECT row_to_json(t) FROM {table} t"))
                    .lines()
                    .map(|line| serde_json::from_str(line).unwrap())
                    .collect()
            }
        }
    }

    fn edit(&self, sql: &str) {
        match self {
            Backend::Sqlite { path, .. } => {
                rusqlite::Connection::open(path)
                    .unwrap()
                    .execute_batch(sql)
                    .unwrap();
            }
            Backend::Postgres { url } => {
                psql(url, sql);
            }
        }
    }
}

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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = rt
        .block_on(Sandbox::builder().calls(300).seed(29).start())
        .unwrap();
    let data = sandbox.data().clone();
    let mut finished: Vec<String> = Vec::new();
    let mut in_progress = 0;
    for i in 0..data.len() {
        let call = data.call(i).unwrap();
        let uuid = call.call_uuid.clone().unwrap();
        match call.status {
            Some(s) if IN_PROGRESS.contains(&s) => in_progress += 1,
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

    for backend in backends("with_transcripts") {
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
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
