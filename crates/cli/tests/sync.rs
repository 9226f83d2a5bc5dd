//! `ccsqm sync`: the real binary, run as a process, against an in-process sandbox, into SQLite
//! and PostgreSQL (the server `CCSQM_TEST_POSTGRES_URL` names, where the tests may create
//! databases; `cargo xtask test` starts one; without it the tests fail, saying "skipped", unless
//! `CCSQM_TEST_ALLOW_SKIP=1`). Each test runs the same steps against each backend.
//!
//! The database is compared with the sandbox's own data set (every field of every call), read
//! with the backend's own tools (rusqlite; `psql` with `row_to_json`), not with ccsqm's code.
//!
//! Run them with `cargo xtask test -p ccsqm-cli --test sync`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ccsqm_sandbox::{Faults, Latency, Sandbox};
use serde_json::{Map, Value};

mod common;
use common::databases::{
    assert_row_is_call, backends, psql, skip, sorted, with_database, Backend, BOOKKEEPING,
    POSTGRES_ENV,
};
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

/// A sandbox that answers each request after 40 ms: a sync of it takes long enough to be
/// caught in the middle.
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

/// A sync of pages of 20, one at a time, running in the background (its stderr as given).
fn spawn_slow_sync(sandbox: &Sandbox, db: &str, stderr: Stdio) -> std::process::Child {
    sync_cmd(sandbox, db)
        .args(["--limit", "20", "--concurrency", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

fn sync(sandbox: &Sandbox, db: &str, extra: &[&str]) -> Output {
    run_within(sync_cmd(sandbox, db).args(extra), LIMIT)
}

fn succeeded(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {:?}\n{}",
        output.status,
        stderr(output)
    );
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

/// The database holds exactly the sandbox's calls, every field equal (absent fields NULL), and
/// each once.
fn assert_equal(backend: &Backend, sandbox: &Sandbox) {
    let expected = sandbox_calls(sandbox);
    let rows = backend.rows("calls");
    let mut stored: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for row in rows.iter() {
        let key = row["call_uuid"].as_str().unwrap().to_owned();
        assert!(
            stored.insert(key.clone(), row.clone()).is_none(),
            "{}: call {key} is stored twice",
            backend.name()
        );
    }
    assert_eq!(
        stored.len(),
        expected.len(),
        "{}: {} calls stored, the sandbox has {}",
        backend.name(),
        stored.len(),
        expected.len()
    );
    for (key, call) in &expected {
        let row = stored
            .get(key)
            .unwrap_or_else(|| panic!("{}: call {key} is missing", backend.name()));
        for column in BOOKKEEPING {
            let value = &row[column];
            assert!(value.as_i64().is_some(), "{column} of {key}: {value}");
        }
        assert_row_is_call(backend, key, row, call, "");
    }
}

/// The counts of the summary line: `N inserted, N updated, N unchanged`.
fn counts(output: &Output) -> (u64, u64, u64) {
    let text = stderr(output);
    let number = |word: &str| -> u64 {
        let at = text
            .find(&format!(" {word}"))
            .unwrap_or_else(|| panic!("no `{word}` in: {text}"));
        text[..at]
            .rsplit(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (number("inserted"), number("updated"), number("unchanged"))
}

#[test]
fn a_sync_stores_every_call_and_a_second_run_changes_nothing() {
    let rt = runtime();
    let sandbox = rt
        .block_on(Sandbox::builder().calls(1_500).seed(13).start())
        .unwrap();
    let calls = sandbox.data().len() as u64;
    for backend in backends("second_run") {
        let db = backend.url();
        let first = sync(&sandbox, &db, &["--limit", "70"]);
        succeeded(&first, "the first sync");
        assert_eq!(counts(&first), (calls, 0, 0), "{}", stderr(&first));
        assert_equal(&backend, &sandbox);
        let before = sorted(backend.rows("calls"));

        // Everything read again (an overlap back to 2000): nothing changes but last_seen.
        let second = sync(&sandbox, &db, &["--limit", "70", "--overlap", "10000d"]);
        succeeded(&second, "the second sync");
        assert_eq!(counts(&second), (0, 0, calls), "{}", stderr(&second));
        assert_equal(&backend, &sandbox);
        let strip = |rows: Vec<Map<String, Value>>| -> Vec<Map<String, Value>> {
            rows.into_iter()
                .map(|mut r| {
                    r.remove("last_seen");
                    r
                })
                .collect()
        };
        assert_eq!(strip(before), strip(sorted(backend.rows("calls"))));

        let runs = backend.rows("sync_runs");
        assert_eq!(runs.len(), 2, "{runs:?}");
        assert!(runs.iter().all(|r| r["state"] == "done"), "{runs:?}");
        let checkpoint = backend.rows("sync_checkpoint");
        assert_eq!(checkpoint.len(), 1);
        let second_run = runs.iter().find(|r| r["id"] == 2).unwrap();
        assert_eq!(checkpoint[0]["upload_to"], second_run["window_to"]);
        assert_eq!(checkpoint[0]["run_id"], 2);

        let status = run_within(ccsqm().args(["sync", "status", "--db", &db]), LIMIT);
        succeeded(&status, "sync status");
        let text = stdout(&status);
        assert!(text.contains("checkpoint: calls uploaded up to"), "{text}");
        assert!(
            text.contains(&format!("calls:      {calls}, of which")),
            "{text}"
        );
        assert!(text.contains("run 2:") && text.contains("run 1:"), "{text}");
    }
}

#[test]
fn calls_in_progress_are_read_again_until_final() {
    let rt = runtime();
    let sandbox = rt
        .block_on(Sandbox::builder().calls(600).seed(5).start())
        .unwrap();
    for backend in backends("in_progress") {
        let db = backend.url();
        succeeded(&sync(&sandbox, &db, &[]), "the first sync");
        // Two final calls as they were while in progress: status 1, no metrics yet.
        let finals: Vec<String> = sandbox_calls(&sandbox)
            .into_iter()
            .filter(|(_, c)| c["status"] == 2)
            .map(|(k, _)| k)
            .take(2)
            .collect();
        for key in &finals {
            backend.edit(&format!(
                "UPDATE calls SET status = 1, duration = NULL WHERE call_uuid = '{key}'"
            ));
        }
        // Within the horizon (the sandbox's calls are from 2021): read again, now final.
        let output = sync(&sandbox, &db, &["--horizon", "10000d"]);
        succeeded(&output, "the sync");
        let (inserted, updated, _) = counts(&output);
        assert_eq!((inserted, updated), (0, 2), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("earlier window(s) of calls in progress read again"),
            "{}",
            stderr(&output)
        );
        assert_equal(&backend, &sandbox);

        // Past the horizon they are no longer read, and reported.
        backend.edit(&format!(
            "UPDATE calls SET status = 0 WHERE call_uuid = '{}'",
            finals[0]
        ));
        let output = sync(&sandbox, &db, &[]);
        succeeded(&output, "the sync");
        assert_eq!(counts(&output).1, 0);
        assert!(
            stderr(&output).contains("uploaded more than 3d before the bound"),
            "{}",
            stderr(&output)
        );
    }
}

/// 20 % of requests fail (error statuses, dropped connections, truncated bodies): the retries
/// get every page, and the database still equals the sandbox.
#[test]
fn through_injected_faults_the_database_still_equals_the_sandbox() {
    let rt = runtime();
    let faults = Faults {
        error_rate: 0.10,
        error_statuses: "502,503,504".parse().unwrap(),
        drop_rate: 0.05,
        truncate_rate: 0.05,
        seed: 77,
        ..Faults::none()
    };
    let sandbox = rt
        .block_on(
            Sandbox::builder()
                .calls(1_200)
                .seed(21)
                .faults(faults)
                .start(),
        )
        .unwrap();
    for backend in backends("faults") {
        let output = sync(
            &sandbox,
            &backend.url(),
            &[
                "--limit",
                "50",
                "--max-retries",
                "10",
                "--max-retry-time",
                "60",
            ],
        );
        succeeded(&output, "the sync through faults");
        assert_equal(&backend, &sandbox);
    }
}

/// Killed (SIGKILL) in the middle of a run: the checkpoint has not moved, and the next run ends
/// with the same database as an uninterrupted one, no call twice.
#[test]
fn killed_in_the_middle_then_run_again_the_database_is_complete() {
    let rt = runtime();
    let sandbox = slow_sandbox(&rt, 3_000, 8);
    for backend in backends("killed") {
        let db = backend.url();
        let mut child = spawn_slow_sync(&sandbox, &db, Stdio::null());
        // Some pages committed, not all.
        wait_until(
            || backend.count() >= 200,
            || child.try_wait().unwrap().is_some(),
        );
        child.kill().unwrap();
        child.wait().unwrap();
        let stored = backend.count();
        assert!(stored < 3_006, "the sync finished before it was killed");
        assert!(
            backend.rows("sync_checkpoint").is_empty(),
            "{}: the checkpoint moved before the window was committed",
            backend.name()
        );
        let runs = backend.rows("sync_runs");
        assert_eq!(runs[0]["state"], "running", "{runs:?}");
        // The committed pages are counted in the run.
        let counted = runs[0]["inserted"].as_u64().unwrap() as usize;
        assert_eq!(counted, stored, "{runs:?}");

        let output = sync(&sandbox, &db, &["--limit", "100"]);
        succeeded(&output, "the sync after the kill");
        let (inserted, updated, unchanged) = counts(&output);
        assert_eq!(inserted as usize, 3_006 - stored, "{}", stderr(&output));
        assert_eq!(updated, 0);
        assert_eq!(unchanged as usize, stored);
        assert_equal(&backend, &sandbox);
        assert_eq!(backend.rows("sync_checkpoint").len(), 1);
    }
}

/// Polls `done` (an event, not a duration) until it holds; fails if `ended` first, or after
/// the test's limit.
fn wait_until(done: impl Fn() -> bool, mut ended: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(!ended(), "the process ended before the awaited state");
        assert!(started.elapsed() < LIMIT, "the awaited state never came");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A second sync into a database that one is writing to refuses, with exit code 7 and one
/// line, and changes nothing; the first one finishes.
#[test]
fn a_second_sync_into_the_same_database_refuses() {
    let rt = runtime();
    let sandbox = slow_sandbox(&rt, 2_000, 3);
    for backend in backends("two_at_once") {
        let db = backend.url();
        let mut first = spawn_slow_sync(&sandbox, &db, Stdio::piped());
        wait_until(
            || backend.count() >= 40,
            || first.try_wait().unwrap().is_some(),
        );
        let second = sync(&sandbox, &db, &[]);
        assert_eq!(second.status.code(), Some(7), "{}", stderr(&second));
        let err = stderr(&second);
        assert!(err.contains("another `ccsqm sync` is writing"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        let status = common::wait_within(&mut first, Instant::now(), LIMIT);
        assert!(status.success());
        assert_equal(&backend, &sandbox);
        assert_eq!(
            backend.rows("sync_runs").len(),
            1,
            "the refused run left a row"
        );
    }
}

/// A sandbox that is never asked: the database's problems are found before any request.
fn unreachable_api(db: &str, extra: &[&str]) -> Output {
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", "http://127.0.0.1:9")
        .env("CCSQM_USER_ID", "u")
        .env("CCSQM_TOKEN", "t0k3n-not-shown")
        .args(["sync", "--db", db, "--max-retries", "0"])
        .args(extra);
    run_within(&mut cmd, LIMIT)
}

fn refused(output: &Output, code: i32, words: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{err}");
    assert!(err.contains(words), "expected {words:?} in: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("t0k3n") && !err.contains("s3cret"), "{err}");
}

/// `sslmode=require`: TLS, the server's certificate checked against `sslrootcert` (else the
/// system's roots). The test server's database `ccsqm_tls` refuses connections without TLS
/// (`.ci/postgres.sh`): a sync that stores its calls there went over TLS.
#[test]
fn postgres_over_tls_checks_the_servers_certificate() {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(server), Some(ca)) = (env(POSTGRES_ENV), env("CCSQM_TEST_POSTGRES_CA")) else {
        skip(
            "postgres_over_tls_checks_the_servers_certificate",
            &format!(
                "no PostgreSQL server with TLS ({POSTGRES_ENV} and CCSQM_TEST_POSTGRES_CA, set \
                 by `.ci/postgres.sh` when openssl is there)"
            ),
        );
        return;
    };
    psql(&server, "DROP DATABASE IF EXISTS ccsqm_tls");
    psql(&server, "CREATE DATABASE ccsqm_tls");
    let db = with_database(&server, "ccsqm_tls");
    let rt = runtime();
    let sandbox = rt
        .block_on(Sandbox::builder().calls(300).seed(21).start())
        .unwrap();

    let plain = sync(&sandbox, &db, &[]);
    assert_eq!(plain.status.code(), Some(7), "{}", stderr(&plain));
    assert!(
        stderr(&plain).contains("no encryption"),
        "{}",
        stderr(&plain)
    );

    assert!(
        !ca.contains(['%', '&', '#', '?']),
        "a CA path to write in a URL: {ca}"
    );
    let with = |query: &str| match db.contains('?') {
        true => format!("{db}&{query}"),
        false => format!("{db}?{query}"),
    };
    let tls = sync(
        &sandbox,
        &with(&format!("sslmode=require&sslrootcert={ca}")),
        &[],
    );
    succeeded(&tls, "the sync over TLS");
    let stored = psql(&db, "SELECT count(*) FROM calls");
    assert_eq!(stored.trim(), sandbox.data().len().to_string());

    // The system's roots do not know the test's authority.
    let unknown = sync(&sandbox, &with("sslmode=verify-full"), &[]);
    assert_eq!(unknown.status.code(), Some(7), "{}", stderr(&unknown));
    assert!(
        stderr(&unknown).contains("certificate"),
        "{}",
        stderr(&unknown)
    );
    assert_eq!(stderr(&unknown).trim_end().lines().count(), 1);

    // The authority is known, but the certificate is not the named host's (it names 127.0.0.1
    // and localhost): refused too.
    assert!(
        db.contains("@127.0.0.1:"),
        "the test server on 127.0.0.1: {db}"
    );
    let other_name = with(&format!(
        "sslmode=require&sslrootcert={ca}&hostaddr=127.0.0.1"
    ))
    .replace("@127.0.0.1:", "@not-this-server.example:");
    let misnamed = sync(&sandbox, &other_name, &[]);
    assert_eq!(misnamed.status.code(), Some(7), "{}", stderr(&misnamed));
    assert!(
        stderr(&misnamed).contains("certificate"),
        "{}",
        stderr(&misnamed)
    );
}

#[test]
fn malformed_db_urls_are_usage_errors() {
    for bad in [
        "mysql://me:s3cret@localhost/calls",
        "postgres://me:s3cret@localhost:99999999/calls",
        "postgres://me:s3cret@localhost/calls?sslmode=sometimes",
        "sqlite:",
    ] {
        refused(&unreachable_api(bad, &[]), 2, "--db");
    }
}

#[test]
fn an_unreachable_database_is_exit_7() {
    // Nothing listens on port 9 of the loopback: the connection is refused.
    refused(
        &unreachable_api("postgres://me:s3cret@127.0.0.1:9/calls", &[]),
        7,
        "cannot connect",
    );
    let dir = tempfile::tempdir().unwrap();
    refused(
        &unreachable_api(
            &dir.path().join("no/such/folder/x.db").display().to_string(),
            &[],
        ),
        7,
        "does not exist",
    );
}

#[test]
fn a_read_only_place_is_exit_7_and_nothing_is_written() {
    // /proc takes no new files, even for root.
    refused(
        &unreachable_api("/proc/ccsqm-sync-test.sqlite3", &[]),
        7,
        "cannot open",
    );
    // A file without write permission (root may write it anyway: then it is not read-only).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.sqlite3");
    std::fs::write(&path, b"").unwrap();
    let mut permissions = std::fs::metadata(&path).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&path, permissions).unwrap();
    if std::fs::OpenOptions::new().write(true).open(&path).is_err() {
        refused(
            &unreachable_api(&path.display().to_string(), &[]),
            7,
            "read-only",
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"");
    }
}

/// Databases that are not ccsqm's, or that a newer ccsqm wrote, are refused untouched; one that
/// an older ccsqm wrote (a column of the spec missing) gains the column.
#[test]
fn foreign_newer_and_older_databases() {
    let rt = runtime();
    let sandbox = rt
        .block_on(Sandbox::builder().calls(200).seed(2).start())
        .unwrap();
    for backend in backends("schemas") {
        let db = backend.url();
        // Not ccsqm's: a table of someone else's.
        backend.edit("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)");
        backend.edit("INSERT INTO orders VALUES (1, 9.5)");
        let before = backend.snapshot();
        refused(&unreachable_api(&db, &[]), 7, "not ccsqm's");
        assert_eq!(backend.snapshot(), before);
        backend.edit("DROP TABLE orders");

        succeeded(&sync(&sandbox, &db, &[]), "the first sync");

        // Written by a newer ccsqm (its version and schema recorded): a column this one does
        // not know. (The same column added by hand is kept: see sync_hardening.rs.)
        backend.edit("UPDATE ccsqm_meta SET value = '99.0.0' WHERE key = 'ccsqm_version'");
        backend.edit("UPDATE ccsqm_meta SET value = 'ffffffffffffffff' WHERE key = 'schema_hash'");
        backend.edit("ALTER TABLE calls ADD COLUMN drill_score REAL");
        let before = backend.snapshot();
        refused(&unreachable_api(&db, &[]), 7, "newer ccsqm");
        assert!(stderr(&unreachable_api(&db, &[])).contains("drill_score"));
        assert_eq!(backend.snapshot(), before);
        backend.edit("ALTER TABLE calls DROP COLUMN drill_score");

        // Or a newer layout of the bookkeeping tables.
        backend.edit("UPDATE ccsqm_meta SET value = '99' WHERE key = 'layout_version'");
        refused(&unreachable_api(&db, &[]), 7, "newer ccsqm");
        backend.edit("UPDATE ccsqm_meta SET value = '1' WHERE key = 'layout_version'");

        // Written by an older ccsqm: its calls lack a field the spec has since added.
        backend.edit("DROP VIEW calls_readable; ALTER TABLE calls DROP COLUMN deal");
        let output = sync(&sandbox, &db, &["--overlap", "10000d"]);
        succeeded(&output, "the sync that migrates");
        assert!(
            stderr(&output).contains("added columns deal"),
            "{}",
            stderr(&output)
        );
        let migrations = backend.rows("schema_migrations");
        assert_eq!(migrations.len(), 2, "{migrations:?}");
        assert!(migrations
            .iter()
            .any(|m| m["description"] == "added columns deal"));
        // The column is filled again by the calls read (those with a `deal` changed).
        let with_deal = sandbox_calls(&sandbox)
            .values()
            .filter(|c| c.get("deal").is_some_and(|d| !d.is_null()))
            .count();
        assert!(with_deal > 0);
        assert_eq!(counts(&output).1, with_deal as u64);
        assert_equal(&backend, &sandbox);
        // The view is back, with names and timestamps.
        let view = backend.rows("calls_readable");
        assert_eq!(view.len(), sandbox.data().len());
        assert!(view
            .iter()
            .any(|r| r["status_name"] == "inspection-succeeded"));
        assert!(view.iter().all(|r| r["call_type_name"].is_string()));
        assert!(view[0]["upload_time"].as_str().unwrap().starts_with("20"));
    }
}

#[test]
fn without_db_the_default_file_is_in_the_data_directory() {
    let rt = runtime();
    let sandbox = rt
        .block_on(Sandbox::builder().calls(50).seed(4).start())
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let credentials = sandbox.credentials();
    let output = run_within(
        ccsqm()
            .env("XDG_DATA_HOME", home.path())
            .env("CCSQM_BASE_URL", sandbox.base_url())
            .env("CCSQM_USER_ID", &credentials.user_id)
            .env("CCSQM_APP_KEY", &credentials.app_key)
            .env("CCSQM_APP_SECRET", credentials.app_secret.expose())
            .arg("sync"),
        LIMIT,
    );
    succeeded(&output, "sync without --db");
    let path: &Path = &home.path().join("ccsqm/ccsqm.sqlite3");
    assert!(path.is_file(), "{}", stderr(&output));
    let backend = Backend::Sqlite {
        _dir: tempfile::tempdir().unwrap(),
        path: path.to_owned(),
    };
    assert_equal(&backend, &sandbox);
}

/// `--watch`: rounds until SIGINT, which ends it cleanly (exit 130), every round recorded.
#[test]
fn watch_runs_rounds_until_interrupted() {
    let rt = runtime();
    let sandbox = rt
        .block_on(Sandbox::builder().calls(100).seed(9).start())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::Sqlite {
        path: dir.path().join("w.sqlite3"),
        _dir: dir,
    };
    let mut child = sync_cmd(&sandbox, &backend.url())
        .args(["--watch", "1s"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Two rounds done.
    wait_until(
        || {
            backend
                .rows_if_any("sync_runs")
                .iter()
                .filter(|r| r["state"] == "done")
                .count()
                >= 2
        },
        || child.try_wait().unwrap().is_some(),
    );
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let status = common::wait_within(&mut child, Instant::now(), LIMIT);
    assert_eq!(status.code(), Some(130));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("interrupted by SIGINT"), "{err}");
    assert!(err.matches("synced").count() >= 2, "{err}");
    assert_equal(&backend, &sandbox);
}

impl Backend {
    /// [`Backend::rows`], or nothing while the table does not exist yet.
    fn rows_if_any(&self, table: &str) -> Vec<Map<String, Value>> {
        match self {
            Backend::Sqlite { path, .. } if path.exists() => {
                let exists = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .ok()
                .and_then(|c| {
                    c.busy_timeout(Duration::from_secs(30)).ok()?;
                    c.query_row(
                        "SELECT COUNT(*) FROM sqlite_master WHERE name = ?1",
                        [table],
                        |r| r.get::<_, i64>(0),
                    )
                    .ok()
                })
                .unwrap_or(0)
                    > 0;
                if exists {
                    self.rows(table)
                } else {
                    Vec::new()
                }
            }
            Backend::Sqlite { .. } => Vec::new(),
            Backend::Postgres { .. } => self.rows(table),
        }
    }
}

/// A server on a free loopback port answering every request with `answer(query, mode)`, where
/// `mode` is what the test set last; the base URL and the mode's switch.
fn server(
    answer: impl Fn(&Value, u64) -> Value + Send + Sync + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let answer = Arc::new(answer);
    let mode = Arc::new(AtomicU64::new(0));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let switch = mode.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (answer, mode) = (answer.clone(), mode.clone());
            std::thread::spawn(move || {
                let Ok((mut stream, body)) = common::read_request(stream) else {
                    return;
                };
                let query: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let body = answer(&query, mode.load(Ordering::SeqCst)).to_string();
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

fn sync_at(base_url: &str, db: &str, extra: &[&str]) -> Output {
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", base_url)
        .env("CCSQM_USER_ID", "u")
        .env("CCSQM_TOKEN", "t0k3n-not-shown")
        .args(["sync", "--db", db, "--max-retries", "0"])
        .args(extra);
    run_within(&mut cmd, LIMIT)
}

/// A page of calls `c{n}` (status 2) with `total`.
fn page_of(numbers: impl IntoIterator<Item = u64>, total: u64) -> Value {
    let data: Vec<Value> = numbers
        .into_iter()
        .map(|n| {
            serde_json::json!({"call_group_id": format!("g{n}"),
                "calls": [{"call_uuid": format!("c{n}"), "status": 2, "call_type": 0,
                           "upload_time": 1_622_000_000 + n as i64}]})
        })
        .collect();
    serde_json::json!({"data": data, "paging": {"total": total}})
}

/// Pages that do not add up end the run with exit 5: the calls of the pages committed before
/// stay, the checkpoint does not move, and the run is recorded as failed with the reason.
#[test]
fn pages_that_do_not_add_up_fail_the_run_and_keep_the_checkpoint() {
    let (url, mode) = server(|query, mode| {
        let page = query["page"].as_u64().unwrap_or(1);
        match mode {
            // Three calls, as they are.
            0 => page_of(1..=3, 3),
            // Page 1 full (2 calls), page 2 short: 5 calls said, 3 sent.
            _ if page == 1 => page_of([1, 2], 5),
            _ => page_of([3], 5),
        }
    });
    for backend in backends("paging") {
        let db = backend.url();
        succeeded(&sync_at(&url, &db, &[]), "the first sync");
        let checkpoint = backend.rows("sync_checkpoint");
        assert_eq!(backend.count(), 3);
        mode.store(1, std::sync::atomic::Ordering::SeqCst);
        let output = sync_at(&url, &db, &["--limit", "2"]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(5), "{err}");
        assert!(err.contains("the checkpoint did not move"), "{err}");
        assert!(!err.contains("t0k3n"), "{err}");
        assert_eq!(backend.rows("sync_checkpoint"), checkpoint);
        assert_eq!(backend.count(), 3);
        let runs = backend.rows("sync_runs");
        let failed = runs.iter().find(|r| r["id"] == 2).unwrap();
        assert_eq!(failed["state"], "failed", "{runs:?}");
        assert!(failed["message"].as_str().unwrap().contains("paging.total"));
        mode.store(0, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A new database's first window writes without looking calls up, except a call its reader
/// had sent before: the same `call_uuid` in another call group, on a page committed in a later
/// transaction than its first version, is an update of the stored row, not a second row.
#[test]
fn a_call_repeated_in_a_later_transaction_of_a_first_sync_is_updated() {
    let (url, _) = server(|query, _| {
        let page = query["page"].as_u64().unwrap_or(1);
        let (group, uuid, status) = match page {
            1 => ("g1", "c1", 3),
            2 => {
                // Page 1's transaction is committed (a second's pages) before page 3 comes.
                std::thread::sleep(Duration::from_millis(1_300));
                ("g2", "c2", 2)
            }
            _ => ("g3", "c1", 2),
        };
        serde_json::json!({"data": [{"call_group_id": group, "calls": [
            {"call_uuid": uuid, "status": status, "call_type": 0,
             "upload_time": 1_622_000_000 + page}]}],
            "paging": {"total": 3}})
    });
    for backend in backends("repeated_first_sync") {
        let output = sync_at(
            &url,
            &backend.url(),
            &["--limit", "1", "--concurrency", "1"],
        );
        succeeded(&output, "the first sync");
        assert_eq!(counts(&output), (2, 1, 0), "{}", stderr(&output));
        let rows = backend.rows("calls");
        assert_eq!(rows.len(), 2, "{rows:?}");
        let c1 = rows.iter().find(|r| r["call_uuid"] == "c1").unwrap();
        assert_eq!(
            (&c1["call_group_id"], &c1["status"]),
            (&"g3".into(), &2.into())
        );
        let runs = backend.rows("sync_runs");
        assert!(runs[0]["commits"].as_i64().unwrap() >= 2, "{runs:?}");
    }
}

/// A call without `call_uuid` cannot be stored: exit 5, nothing of its page committed.
#[test]
fn a_call_without_a_call_uuid_fails_the_run() {
    let (url, _) = server(|_, _| {
        serde_json::json!({"data": [{"call_group_id": "g", "calls": [
            {"call_uuid": "c1", "status": 2},
            {"call_id": "no-uuid", "status": 2}]}],
            "paging": {"total": 2}})
    });
    for backend in backends("no_uuid") {
        let output = sync_at(&url, &backend.url(), &[]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(5), "{err}");
        assert!(
            err.contains("without call_uuid") && err.contains("no-uuid"),
            "{err}"
        );
        assert_eq!(backend.count(), 0);
        assert!(backend.rows("sync_checkpoint").is_empty());
    }
}

#[test]
fn a_file_that_is_not_a_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    let text = "these are my notes, not a database\n".repeat(200);
    std::fs::write(&path, &text).unwrap();
    refused(
        &unreachable_api(&path.display().to_string(), &[]),
        7,
        "not a SQLite database",
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let status = run_within(
        ccsqm().args(["sync", "status", "--db", &path.display().to_string()]),
        LIMIT,
    );
    refused(&status, 7, "not a SQLite database");
    // `sync status` never creates a database.
    let missing = dir.path().join("missing.sqlite3");
    let status = run_within(
        ccsqm().args(["sync", "status", "--db", &missing.display().to_string()]),
        LIMIT,
    );
    refused(&status, 7, "no such database");
    assert!(!missing.exists());
}
