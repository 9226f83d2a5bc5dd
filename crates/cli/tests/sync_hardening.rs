//! `ccsqm sync` hardening (issue #22, items 5 to 7): `sync status` tells an interrupted run from
//! a running one and only reads; a table changed by hand gets a true message (an extra column
//! kept, a renamed one named, a dropped one recreated and filled again); `--db` naming a
//! non-file and `--until` before `--since` are refused before anything is created.
//!
//! SQLite always, PostgreSQL when `CCSQM_TEST_POSTGRES_URL` names a server (`source
//! .ci/postgres.sh`). Run them with `cargo test -p ccsqm-cli --test sync_hardening`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ccsqm_sandbox::{Faults, Latency, Sandbox};
use serde_json::{Map, Value};

mod common;
use common::databases::{assert_row_is_call, backends, Backend};
use common::{ccsqm, run_within, runtime, stderr, stdout};

const LIMIT: Duration = Duration::from_secs(240);

/// `ccsqm sync` against `sandbox`, with its app key and secret, into `db`.
fn sync_cmd(sandbox: &Sandbox, db: &str) -> Command {
    let credentials = sandbox.credentials();
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", sandbox.base_url())
        .env("CCSQM_USER_ID", &credentials.user_id)
        .env("CCSQM_APP_KEY", &credentials.app_key)
        .env("CCSQM_APP_SECRET", credentials.app_secret.expose())
        .args(["sync", "--db", db]);
    cmd
}

fn sync(sandbox: &Sandbox, db: &str, extra: &[&str]) -> Output {
    run_within(sync_cmd(sandbox, db).args(extra), LIMIT)
}

fn status(db: &str) -> Output {
    run_within(ccsqm().args(["sync", "status", "--db", db]), LIMIT)
}

/// A sync against an API that is never reached: what is refused is refused before any request.
fn unreachable_api(db: &str, extra: &[&str]) -> Output {
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", "http://127.0.0.1:9")
        .env("CCSQM_USER_ID", "u")
        .env("CCSQM_TOKEN", "t0k3n-not-shown")
        .args(["sync", "--db", db, "--max-retries", "0"])
        .args(extra);
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

fn refused(output: &Output, code: i32, words: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{err}");
    for word in words {
        assert!(err.contains(word), "expected {word:?} in: {err}");
    }
    assert!(!err.contains("t0k3n"), "{err}");
}

/// The sandbox's calls by `call_uuid`, as `ccsqm details -o ndjson` writes them.
fn sandbox_calls(sandbox: &Sandbox) -> BTreeMap<String, Map<String, Value>> {
    let data = sandbox.data();
    (0..data.len())
        .map(|i| {
            let record = ccsqm_client::CallRecord {
                call_group_id: data.call_group_id(i),
                call: data.call(i).unwrap(),
            };
            let Value::Object(object) = serde_json::to_value(record).unwrap() else {
                unreachable!()
            };
            (object["call_uuid"].as_str().unwrap().to_owned(), object)
        })
        .collect()
}

/// Every call of the sandbox is stored with every field equal (columns `ignore` aside).
fn assert_equal(backend: &Backend, sandbox: &Sandbox, ignore: &[&str]) {
    let expected = sandbox_calls(sandbox);
    let rows = backend.rows("calls");
    assert_eq!(rows.len(), expected.len(), "{}", backend.name());
    for row in rows {
        let key = row["call_uuid"].as_str().unwrap().to_owned();
        let mut row = row.clone();
        for column in ignore {
            row.remove(*column);
        }
        assert_row_is_call(backend, &key, &row, &expected[&key], "");
    }
}

// ---------------------------------------------------------------------------------------------
// Item 7: --db naming a non-file; --until before --since.
// ---------------------------------------------------------------------------------------------

/// The names in `dir` (sorted).
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A device, a directory, a FIFO, a socket (and a link to a device) as `--db`: refused with
/// exit 7 (the database's class), by `sync` and by `sync status`, before anything is created
/// beside them (no journal, `-wal` or `-shm`), and without hanging on the FIFO.
#[test]
fn a_db_that_is_not_a_file_is_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    let socket = dir.path().join("socket");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let link = dir.path().join("link-to-null");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    let mut cases: Vec<(String, &str)> = vec![
        ("/dev/null".into(), "character device"),
        ("sqlite:/dev/zero".into(), "character device"),
        (folder.display().to_string(), "directory"),
        (socket.display().to_string(), "socket"),
        (link.display().to_string(), "character device"),
    ];
    match made {
        Ok(s) if s.success() => cases.push((fifo.display().to_string(), "FIFO")),
        _ => eprintln!("the FIFO case is skipped: mkfifo is not available"),
    }
    let dev_before: Vec<String> = names_in(Path::new("/dev"))
        .into_iter()
        .filter(|n| n.starts_with("null") || n.starts_with("zero"))
        .collect();
    let before = names_in(dir.path());
    for (db, kind) in &cases {
        refused(&unreachable_api(db, &[]), 7, &[kind, "not a database file"]);
        refused(&status(db), 7, &[kind, "not a database file"]);
        assert_eq!(names_in(dir.path()), before, "{db}: something was created");
        assert_eq!(names_in(&folder), Vec::<String>::new(), "{db}");
    }
    let dev_after: Vec<String> = names_in(Path::new("/dev"))
        .into_iter()
        .filter(|n| n.starts_with("null") || n.starts_with("zero"))
        .collect();
    assert_eq!(dev_after, dev_before, "files were created in /dev");
}

/// `--until` earlier than `--since`, in any of their forms: a usage error (exit 2) naming
/// both, before any request and before the database is created.
#[test]
fn until_before_since_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("calls.sqlite3");
    let db = db.display().to_string();
    for (since, until) in [
        ("2024-05-02", "2024-05-01"),
        ("2024-05-01T10:00:01Z", "2024-05-01T10:00:00Z"),
        ("1714557600", "1714557599"),
        ("1h", "2h"),
        ("now", "1d"),
        ("2024-05-01 12:00", "2024-05-01T11:59:59Z"),
    ] {
        let output = unreachable_api(&db, &["--since", since, "--until", until]);
        refused(&output, 2, &["--until", "--since", since, until]);
        assert!(stderr(&output).contains("earlier"), "{}", stderr(&output));
        assert!(!Path::new(&db).exists(), "the database was created");
    }
    // Equal bounds, or a day against itself, are a window (refused later, for the API).
    for (since, until) in [("2024-05-01", "2024-05-01"), ("1714557600", "1714557600")] {
        let output = unreachable_api(&db, &["--since", since, "--until", until]);
        assert_ne!(output.status.code(), Some(2), "{}", stderr(&output));
    }
}
