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
                ..Default::default()
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

// ---------------------------------------------------------------------------------------------
// Item 5: `sync status` tells an interrupted run from a running one, and only reads.
// ---------------------------------------------------------------------------------------------

/// A sandbox that answers each request after 40 ms: a sync of it is caught in the middle.
fn slow_sandbox(rt: &tokio::runtime::Runtime, calls: usize, seed: u64) -> Sandbox {
    rt.block_on(
        Sandbox::builder()
            .calls(calls)
            .seed(seed)
            .faults(Faults {
                latency: Latency::Fixed(Duration::from_millis(40)),
                ..Faults::none()
            })
            .start(),
    )
    .unwrap()
}

/// Polls `done` until it holds (failing after the test's limit).
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < LIMIT, "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The line of run `id` in `sync status`'s output.
fn run_line(output: &Output, id: u32) -> String {
    stdout(output)
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("run {id}:")))
        .unwrap_or_else(|| panic!("no run {id} in: {}", stdout(output)))
        .to_owned()
}

/// A run killed (SIGKILL) in the middle: while it runs, `status` says "running"; once it is
/// dead, "interrupted" (not "running" for ever); the next sync marks it interrupted in
/// `sync_runs`, says so, and its own run is done.
#[test]
fn a_killed_run_is_shown_interrupted_and_the_next_sync_closes_it() {
    let rt = runtime();
    let sandbox = slow_sandbox(&rt, 3_000, 5);
    for backend in backends("hardening_killed") {
        let db = backend.url();
        let mut child = sync_cmd(&sandbox, &db)
            .args(["--limit", "20", "--concurrency", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until("some pages committed", || backend.count() >= 100);
        let output = status(&db);
        succeeded(&output, "status while the sync runs");
        let line = run_line(&output, 1);
        assert!(
            line.contains(" running ") && !line.contains("interrupted"),
            "{}: {line}",
            backend.name()
        );
        child.kill().unwrap();
        child.wait().unwrap();
        // The server notices a lost connection at once on the loopback; allow it a moment.
        wait_until("status says interrupted", || {
            let output = status(&db);
            output.status.success() && run_line(&output, 1).contains("interrupted")
        });
        let line = run_line(&status(&db), 1);
        assert!(
            line.contains("killed or lost") && !line.contains(" running "),
            "{}: {line}",
            backend.name()
        );
        // `status` changed nothing: the row still says running.
        assert_eq!(backend.rows("sync_runs")[0]["state"], "running");

        let output = sync(&sandbox, &db, &["--limit", "100"]);
        succeeded(&output, "the sync after the kill");
        assert!(
            stderr(&output).contains("run(s) 1 had not finished"),
            "{}",
            stderr(&output)
        );
        let runs = backend.rows("sync_runs");
        let state = |id: i64| {
            runs.iter()
                .find(|r| r["id"] == id)
                .map(|r| r["state"].clone())
                .unwrap()
        };
        assert_eq!(state(1), "interrupted", "{runs:?}");
        assert_eq!(state(2), "done", "{runs:?}");
        let output = status(&db);
        assert!(run_line(&output, 1).contains("interrupted"));
        assert!(run_line(&output, 2).contains(" done "));
    }
}

/// The names and contents of the files of `dir` (the `-shm` index aside: a reader of a log
/// may write its marks there, as any SQLite reader does).
fn files_of(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    names_in(dir)
        .into_iter()
        .map(|n| {
            let bytes = (!n.ends_with("-shm")).then(|| std::fs::read(dir.join(&n)).unwrap());
            (n, bytes)
        })
        .collect()
}

/// How many transactions run `id` committed (SQLite, read with rusqlite).
fn run_commits(path: &Path, id: i64) -> i64 {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    conn.query_row("SELECT commits FROM sync_runs WHERE id = ?1", [id], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap_or(0)
}

/// `ccsqm` as the user `nobody` (for root, whom permissions do not stop), when `setpriv` is
/// there; as this user otherwise.
fn as_unprivileged(mut cmd: Command) -> Option<Command> {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        return Some(cmd);
    }
    let setpriv = Command::new("setpriv").arg("--version").output();
    if !setpriv.is_ok_and(|o| o.status.success()) {
        return None;
    }
    let mut wrapped = Command::new("setpriv");
    wrapped
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(cmd.get_program());
    wrapped.args(cmd.get_args());
    for (name, value) in cmd.get_envs() {
        match value {
            Some(value) => wrapped.env(name, value),
            None => wrapped.env_remove(name),
        };
    }
    cmd = wrapped;
    Some(cmd)
}

/// `sync status` of SQLite only reads: it creates no file beside the database (no `-wal`, no
/// `-shm`) and changes no byte, whether the last sync finished or was killed (its log left
/// beside the file); and it works in a read-only folder, on a read-only file (run as an
/// unprivileged user when the tests run as root).
#[test]
fn status_only_reads_and_works_on_a_read_only_database() {
    use std::os::unix::fs::PermissionsExt;
    let rt = runtime();
    let sandbox = slow_sandbox(&rt, 2_000, 6);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calls.sqlite3");
    let db = path.display().to_string();
    // A finished sync: no log beside the file.
    succeeded(&sync(&sandbox, &db, &["--limit", "500"]), "the first sync");
    let before = files_of(dir.path());
    assert_eq!(before.len(), 1, "{:?}", before.keys());
    succeeded(&status(&db), "status");
    assert_eq!(files_of(dir.path()), before, "status wrote beside the file");

    // A killed sync: its log left beside the file, read as it is.
    let mut child = sync_cmd(&sandbox, &db)
        .args(["--since", "0", "--limit", "20", "--concurrency", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the second run commits pages", || run_commits(&path, 2) > 2);
    child.kill().unwrap();
    child.wait().unwrap();
    let before = files_of(dir.path());
    let output = status(&db);
    succeeded(&output, "status after the kill");
    assert!(
        run_line(&output, 2).contains("interrupted"),
        "{}",
        stdout(&output)
    );
    assert_eq!(files_of(dir.path()), before, "status changed the files");

    // Read-only: the folder and the files.
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    for name in names_in(dir.path()) {
        mode(&dir.path().join(name), 0o444);
    }
    mode(dir.path(), 0o555);
    let mut cmd = ccsqm();
    cmd.args(["sync", "status", "--db", &db]);
    match as_unprivileged(cmd) {
        Some(mut cmd) => {
            let output = run_within(&mut cmd, LIMIT);
            succeeded(&output, "status of a read-only database");
            assert!(
                run_line(&output, 2).contains("interrupted"),
                "{}",
                stdout(&output)
            );
            assert!(stdout(&output).contains("calls:"), "{}", stdout(&output));
            assert_eq!(files_of(dir.path()), before, "status changed the files");
        }
        None => eprintln!(
            "the read-only case is skipped: the tests run as root and setpriv is missing, so \
             permissions would not stop a write"
        ),
    }
    mode(dir.path(), 0o755);
    for name in names_in(dir.path()) {
        mode(&dir.path().join(name), 0o644);
    }
    // And read-only after a finished sync (no log beside the file).
    succeeded(
        &sync(&sandbox, &db, &["--limit", "500"]),
        "the sync after the kill",
    );
    mode(&path, 0o444);
    mode(dir.path(), 0o555);
    let before = files_of(dir.path());
    assert_eq!(before.len(), 1, "{:?}", before.keys());
    let mut cmd = ccsqm();
    cmd.args(["sync", "status", "--db", &db]);
    if let Some(mut cmd) = as_unprivileged(cmd) {
        let output = run_within(&mut cmd, LIMIT);
        succeeded(&output, "status of a read-only database");
        assert!(
            run_line(&output, 3).contains(" done "),
            "{}",
            stdout(&output)
        );
        assert_eq!(stderr(&output), "", "a note where none was due");
        assert_eq!(files_of(dir.path()), before, "status changed the files");
    }
    mode(dir.path(), 0o755);
}

// ---------------------------------------------------------------------------------------------
// Item 6: a table changed by hand gets a true message.
// ---------------------------------------------------------------------------------------------

fn sandbox(rt: &tokio::runtime::Runtime, calls: usize, seed: u64) -> Sandbox {
    rt.block_on(Sandbox::builder().calls(calls).seed(seed).start())
        .unwrap()
}

/// Drops a column of `calls` (and the view that names it).
fn drop_column(backend: &Backend, column: &str) {
    match backend {
        Backend::Sqlite { .. } => backend.edit(&format!(
            "DROP VIEW IF EXISTS calls_readable; ALTER TABLE calls DROP COLUMN \"{column}\""
        )),
        Backend::Postgres { .. } => backend.edit(&format!(
            "ALTER TABLE calls DROP COLUMN \"{column}\" CASCADE"
        )),
    }
}

/// Columns added by hand (to `calls` and `call_segments`) are kept, with their values, and
/// said (not "written by a newer ccsqm"); the sync goes on, its new calls inserted with those
/// columns empty; `status` says it too.
#[test]
fn columns_added_by_hand_are_kept_and_said() {
    let rt = runtime();
    let sandbox = sandbox(&rt, 300, 21);
    for backend in backends("hardening_extra") {
        let db = backend.url();
        succeeded(&sync(&sandbox, &db, &[]), "the first sync");
        backend.edit("ALTER TABLE calls ADD COLUMN my_note TEXT");
        backend.edit("ALTER TABLE calls ADD COLUMN reviewed INTEGER DEFAULT 0");
        backend.edit("ALTER TABLE call_segments ADD COLUMN mood TEXT");
        backend.edit("UPDATE calls SET my_note = 'kept'");
        // Some calls gone: the next sync inserts them again.
        backend.edit("DELETE FROM calls WHERE call_uuid IN (SELECT call_uuid FROM calls ORDER BY call_uuid LIMIT 7)");
        let output = sync(&sandbox, &db, &["--since", "0"]);
        succeeded(&output, "the sync with columns added by hand");
        let err = stderr(&output);
        for column in ["my_note", "reviewed", "mood"] {
            assert!(err.contains(column), "{}: {err}", backend.name());
        }
        assert!(err.contains("not ccsqm's"), "{err}");
        assert!(!err.contains("newer"), "{err}");
        assert!(err.contains("7 inserted"), "{err}");
        assert_equal(&backend, &sandbox, &["my_note", "reviewed"]);
        let rows = backend.rows("calls");
        let kept = rows.iter().filter(|r| r["my_note"] == "kept").count();
        assert_eq!(kept, rows.len() - 7, "{}", backend.name());
        // The inserted calls: NULL, or the column's default.
        assert!(rows
            .iter()
            .filter(|r| r["my_note"].is_null())
            .all(|r| r["reviewed"] == 0));
        let output = status(&db);
        succeeded(&output, "status");
        assert!(stdout(&output).contains("my_note"), "{}", stdout(&output));
        // Twice: nothing changes.
        succeeded(&sync(&sandbox, &db, &[]), "the sync after");
        assert_eq!(backend.count(), sandbox.data().len());
        // One that the inserts cannot fill (NOT NULL, no default): refused before anything.
        backend.edit("ALTER TABLE calls ADD COLUMN owner TEXT NOT NULL DEFAULT 'x'");
        match backend {
            // SQLite adds a NOT NULL column only with a default: the default taken out of
            // the table's definition.
            Backend::Sqlite { .. } => backend.edit(
                "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = \
                 replace(sql, 'NOT NULL DEFAULT ''x''', 'NOT NULL') WHERE name = 'calls'; \
                 PRAGMA writable_schema = OFF",
            ),
            Backend::Postgres { .. } => {
                backend.edit("ALTER TABLE calls ALTER COLUMN owner DROP DEFAULT")
            }
        }
        let before = backend.snapshot();
        refused(
            &unreachable_api(&db, &[]),
            7,
            &["owner", "NOT NULL without a default"],
        );
        assert_eq!(backend.snapshot(), before);
    }
}

/// A column renamed by hand (ccsqm's missing, an unknown one present) is refused naming both
/// and how to repair it, not as a newer ccsqm's; the database is left untouched; `status` says
/// the same.
#[test]
fn a_column_renamed_by_hand_is_named_both_ways() {
    let rt = runtime();
    let sandbox = sandbox(&rt, 100, 22);
    for backend in backends("hardening_renamed") {
        let db = backend.url();
        succeeded(&sync(&sandbox, &db, &[]), "the first sync");
        for (table, from, to) in [
            ("calls", "staff_name", "agent_name"),
            ("calls", "duration", "length_s"),
            ("call_segments", "asr_text", "text"),
        ] {
            backend.edit(&format!(
                "ALTER TABLE {table} RENAME COLUMN \"{from}\" TO \"{to}\""
            ));
            let before = backend.snapshot();
            let output = unreachable_api(&db, &[]);
            refused(&output, 7, &[from, to, table, "renamed"]);
            assert!(!stderr(&output).contains("newer"), "{}", stderr(&output));
            assert_eq!(backend.snapshot(), before, "{}", backend.name());
            refused(&status(&db), 7, &[from, to, "renamed"]);
            backend.edit(&format!(
                "ALTER TABLE {table} RENAME COLUMN \"{to}\" TO \"{from}\""
            ));
        }
        succeeded(&sync(&sandbox, &db, &[]), "the sync once renamed back");
        assert_equal(&backend, &sandbox, &[]);
    }
}

/// A column dropped by hand is recreated and filled again for every stored call (not NULL for
/// the calls before the checkpoint), even with --since; a bookkeeping column too.
#[test]
fn a_column_dropped_by_hand_is_recreated_and_filled_again() {
    let rt = runtime();
    let sandbox = sandbox(&rt, 400, 23);
    for backend in backends("hardening_dropped") {
        let db = backend.url();
        succeeded(&sync(&sandbox, &db, &[]), "the first sync");
        for (columns, extra) in [
            (vec!["duration"], vec![]),
            (vec!["staff_name", "call_time"], vec!["--since", "1h"]),
            (vec!["last_seen"], vec![]),
        ] {
            for column in &columns {
                drop_column(&backend, column);
            }
            let output = status(&db);
            succeeded(&output, "status");
            let output = sync(&sandbox, &db, &extra);
            succeeded(&output, "the sync after the drop");
            let err = stderr(&output);
            for column in &columns {
                assert!(err.contains(column), "{}: {err}", backend.name());
            }
            assert_equal(&backend, &sandbox, &[]);
            let rows = backend.rows("calls");
            for column in ["last_seen", "first_seen", "last_changed"] {
                assert!(rows.iter().all(|r| r[column].is_i64()), "{column}");
            }
            assert_eq!(backend.rows("calls_readable").len(), rows.len());
            assert_eq!(backend.rows("sync_checkpoint").len(), 1);
            // Filled: the next run reads from the checkpoint again.
            let output = sync(&sandbox, &db, &[]);
            succeeded(&output, "the next sync");
            assert!(
                !stderr(&output).contains("from the first call"),
                "{}",
                stderr(&output)
            );
        }
    }
}

/// Columns a newer ccsqm wrote (its recorded version newer, its schema another) are still
/// refused as such, naming the writer's version, not this one's as the writer.
#[test]
fn columns_of_a_newer_ccsqm_are_refused_naming_its_version() {
    let rt = runtime();
    let sandbox = sandbox(&rt, 50, 24);
    for backend in backends("hardening_newer") {
        let db = backend.url();
        succeeded(&sync(&sandbox, &db, &[]), "the first sync");
        backend.edit("UPDATE ccsqm_meta SET value = '99.1.0' WHERE key = 'ccsqm_version'");
        backend.edit("UPDATE ccsqm_meta SET value = 'ffffffffffffffff' WHERE key = 'schema_hash'");
        backend.edit("ALTER TABLE calls ADD COLUMN drill_score REAL");
        let before = backend.snapshot();
        refused(
            &unreachable_api(&db, &[]),
            7,
            &["newer ccsqm (99.1.0)", "drill_score"],
        );
        assert_eq!(backend.snapshot(), before);
    }
}

/// A column of `call_segments` dropped by hand is recreated, and filled again by the next
/// sync with --with-transcripts (a sync without it says that it is still due).
#[test]
fn a_segments_column_dropped_by_hand_is_filled_again_with_transcripts() {
    let rt = runtime();
    let sandbox = sandbox(&rt, 200, 25);
    for backend in backends("hardening_segments") {
        let db = backend.url();
        succeeded(
            &sync(&sandbox, &db, &["--with-transcripts"]),
            "the first sync",
        );
        let before = common::databases::sorted(backend.rows("call_segments"));
        assert!(!before.is_empty());
        backend.edit("ALTER TABLE call_segments DROP COLUMN asr_text");
        let output = sync(&sandbox, &db, &[]);
        succeeded(&output, "the sync without transcripts");
        assert!(
            stderr(&output).contains("--with-transcripts"),
            "{}",
            stderr(&output)
        );
        assert!(stdout(&status(&db)).contains("refill"));
        let output = sync(&sandbox, &db, &["--with-transcripts", "--since", "1h"]);
        succeeded(&output, "the sync with transcripts");
        let after = common::databases::sorted(backend.rows("call_segments"));
        let text = |rows: &[Map<String, Value>]| -> Vec<Value> {
            let mut t: Vec<Value> = rows.iter().map(|r| r["asr_text"].clone()).collect();
            t.sort_by_key(|v| v.to_string());
            t
        };
        assert_eq!(text(&after), text(&before), "{}", backend.name());
        assert!(!stdout(&status(&db)).contains("refill"));
    }
}
