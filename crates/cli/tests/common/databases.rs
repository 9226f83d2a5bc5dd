//! The databases of the sync tests: SQLite and PostgreSQL (the server `CCSQM_TEST_POSTGRES_URL`
//! names; `cargo xtask test` starts one), read back with their own clients (rusqlite, psql),
//! not with ccsqm's code. Without a server, a test says "skipped" and why, and fails ([`skip`]).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Map, Value};

/// The environment variable naming a PostgreSQL server for the tests.
pub const POSTGRES_ENV: &str = "CCSQM_TEST_POSTGRES_URL";

/// The environment variable with which a test whose requirement is missing passes, saying
/// it was skipped: `CCSQM_TEST_ALLOW_SKIP=1`.
pub const ALLOW_SKIP_ENV: &str = "CCSQM_TEST_ALLOW_SKIP";

/// What a test (or a part of it) that cannot run does: it says "skipped" and why on stderr
/// (written directly, so shown even when the test passes: libtest captures only `eprintln!`),
/// and fails, naming `cargo xtask test` (which provides what the tests need), unless
/// `CCSQM_TEST_ALLOW_SKIP=1`: libtest has no "skipped", and a test that did not check must
/// never be reported as passed unasked. The caller returns (or goes on without the part).
pub fn skip(test: &str, reason: &str) {
    use std::io::Write;
    let allowed = std::env::var(ALLOW_SKIP_ENV).is_ok_and(|v| v == "1");
    let _ = writeln!(
        std::io::stderr(),
        "{test}: skipped: {reason}{}",
        if allowed {
            " (CCSQM_TEST_ALLOW_SKIP=1)"
        } else {
            ""
        }
    );
    assert!(
        allowed,
        "{test}: skipped: {reason}. Run the tests with `cargo xtask test`, which starts a \
         throwaway PostgreSQL server; or set {ALLOW_SKIP_ENV}=1 to skip this knowingly"
    );
}

/// A database for one test.
pub enum Backend {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        url: String,
    },
}

/// The bookkeeping columns of `calls`, after the call's fields (the sync's clock).
pub const BOOKKEEPING: [&str; 3] = ["first_seen", "last_seen", "last_changed"];

/// A stored row of `calls` holds the sandbox's `call`: every field the same value, and a
/// column for every field (`at`: what the sandbox's state is, for the messages).
pub fn assert_row_is_call(
    backend: &Backend,
    key: &str,
    row: &Map<String, Value>,
    call: &Map<String, Value>,
    at: &str,
) {
    for (column, value) in row {
        if BOOKKEEPING.contains(&column.as_str()) {
            continue;
        }
        let want = call.get(column).unwrap_or(&Value::Null);
        assert!(
            same_value(value, want),
            "{}: call {key}, column {column}: stored {value}, the sandbox has {want}{at}",
            backend.name()
        );
    }
    for field in call.keys() {
        assert!(
            row.contains_key(field),
            "{}: no column for the field {field}",
            backend.name()
        );
    }
}

/// SQLite and PostgreSQL: a fresh database of each, named after the test. Without a server
/// ([`POSTGRES_ENV`] unset): [`skip`] (fails, or SQLite only with `CCSQM_TEST_ALLOW_SKIP=1`).
pub fn backends(test: &str) -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calls.sqlite3");
    let mut backends = vec![Backend::Sqlite { _dir: dir, path }];
    match std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty()) {
        Some(server) => {
            let name = format!("ccsqm_{test}");
            psql(&server, &format!("DROP DATABASE IF EXISTS {name}"));
            psql(&server, &format!("CREATE DATABASE {name}"));
            backends.push(Backend::Postgres {
                url: with_database(&server, &name),
            });
        }
        None => skip(
            test,
            &format!("PostgreSQL: {POSTGRES_ENV} is not set (no server); SQLite only"),
        ),
    }
    backends
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..host_end])
}

/// `psql` (the server's own client) running `sql` against `url`, its output unaligned.
fn psql_command(url: &str, sql: &str) -> Command {
    let mut command = Command::new("psql");
    command.args([
        url,
        "-X",
        "-q",
        "-A",
        "-t",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        sql,
    ]);
    command
}

/// Runs SQL with `psql` (the server's own client); its unaligned output.
pub fn psql(url: &str, sql: &str) -> String {
    let output = psql_command(url, sql)
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
    pub fn url(&self) -> String {
        match self {
            Backend::Sqlite { path, .. } => format!("sqlite:{}", path.display()),
            Backend::Postgres { url } => url.clone(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite { .. } => "SQLite",
            Backend::Postgres { .. } => "PostgreSQL",
        }
    }

    /// Every row of a table, as JSON objects of its columns (none before the table exists).
    pub fn rows(&self, table: &str) -> Vec<Map<String, Value>> {
        match self {
            Backend::Sqlite { path, .. } => {
                let Ok(conn) = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                ) else {
                    return Vec::new();
                };
                conn.busy_timeout(Duration::from_secs(30)).unwrap();
                let Ok(mut statement) = conn.prepare(&format!("SELECT * FROM {table}")) else {
                    return Vec::new();
                };
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
                let exists = psql(url, &format!("SELECT to_regclass('{table}') IS NOT NULL"));
                if exists.trim() != "t" {
                    return Vec::new();
                }
                psql(url, &format!("SELECT row_to_json(t) FROM {table} t"))
                    .lines()
                    .map(|line| serde_json::from_str(line).unwrap())
                    .collect()
            }
        }
    }

    /// How many calls are stored (0 before the tables exist).
    pub fn count(&self) -> usize {
        match self {
            Backend::Sqlite { path, .. } => {
                let Ok(conn) = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                ) else {
                    return 0;
                };
                conn.busy_timeout(Duration::from_secs(30)).unwrap();
                conn.query_row("SELECT COUNT(*) FROM calls", [], |r| r.get::<_, i64>(0))
                    .map_or(0, |n| n as usize)
            }
            Backend::Postgres { url } => {
                let output = psql_command(url, "SELECT COUNT(*) FROM calls")
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&output.stdout)
                    .trim()
                    .parse()
                    .unwrap_or(0)
            }
        }
    }

    /// Runs SQL that changes the database (the tests' own edits).
    pub fn edit(&self, sql: &str) {
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

    /// A fingerprint of everything in the database (tables and their rows), to show that a
    /// refused run changed nothing.
    pub fn snapshot(&self) -> String {
        let tables: Vec<String> = match self {
            Backend::Sqlite { path, .. } => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let mut statement = conn
                    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                    .unwrap();
                statement
                    .query_map([], |r| r.get::<_, String>(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            }
            Backend::Postgres { url } => psql(
                url,
                "SELECT table_name FROM information_schema.tables \
                 WHERE table_schema = current_schema() ORDER BY table_name",
            )
            .lines()
            .map(str::to_owned)
            .collect(),
        };
        tables
            .iter()
            .map(|t| format!("{t}: {:?}\n", sorted(self.rows(t))))
            .collect()
    }
}

/// Rows in a stable order (by their JSON text), to compare two reads of a table.
pub fn sorted(mut rows: Vec<Map<String, Value>>) -> Vec<Map<String, Value>> {
    rows.sort_by_key(|r| serde_json::to_string(r).unwrap());
    rows
}

/// The statuses that are not final, from the spec (`x-enum-in-progress` of `InspectionStatus`,
/// its variants read through `ccsqm_client::spec::enums`), as `ccsqm sync` reads them.
pub fn in_progress_statuses() -> Vec<i64> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/ccsqm.yaml");
    let text = std::fs::read_to_string(path).expect("spec/ccsqm.yaml");
    let spec: Value = serde_saphyr::from_str(&text).expect("the spec is YAML");
    let variants = spec["components"]["schemas"]["InspectionStatus"]["x-enum-in-progress"]
        .as_array()
        .expect("InspectionStatus has x-enum-in-progress");
    let statuses = &ccsqm_client::spec::enums::INSPECTION_STATUS;
    variants
        .iter()
        .map(|variant| {
            statuses
                .values
                .iter()
                .find(|v| Some(v.variant) == variant.as_str())
                .map(|v| v.code)
                .expect("a variant of InspectionStatus")
        })
        .collect()
}

/// A stored column's value equals the sandbox's: integers exactly, other numbers as `f64` (a
/// database may give back `2.0` for `2`), anything else as JSON.
pub fn same_value(stored: &Value, want: &Value) -> bool {
    match (stored, want) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => a.as_f64() == b.as_f64(),
        },
        (a, b) => a == b,
    }
}
