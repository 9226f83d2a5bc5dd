//! One connection to the database, SQLite (`rusqlite`, bundled) or PostgreSQL
//! (`tokio-postgres`), behind the few operations the sync needs: statements with parameters
//! (prepared once and cached), transactions, and the lock that keeps a second sync out.
//!
//! Both drivers are maintained crates; no SQL is built from data (every value is a parameter;
//! the only identifiers are the spec's field names, checked by the generator).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::path::Path;

use crate::schema::SqlValue;
use crate::url::DbUrl;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(not(feature = "postgres"))]
#[path = "no_postgres.rs"]
mod postgres;

pub use postgres::{encode_fields, PgType, Postgres};

/// A failure of the database (exit code 7): unreachable, refusing, read-only or full, not
/// `ccsqm sync`'s, written by a newer `ccsqm`, or in use by another sync.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DbError(pub String);

/// The key of the PostgreSQL advisory lock a sync holds ("ccsqmsyn").
pub const ADVISORY_LOCK: i64 = 0x6363_7371_6d73_796e;

/// An open database.
#[cfg_attr(not(feature = "postgres"), allow(clippy::large_enum_variant))]
pub enum Db {
    Sqlite(Sqlite),
    Postgres(Postgres),
}

pub struct Sqlite {
    // Declared before `lock`: dropped (closed) first, since closing any other descriptor of
    // the file would release SQLite's own POSIX locks on it.
    conn: rusqlite::Connection,
    lock: Option<std::fs::File>,
    path: std::path::PathBuf,
    /// Each statement's text with SQLite's parameters (see [`sqlite_parameters`]).
    translated: HashMap<String, String>,
    /// What a person should hear about how it was opened (read without its log).
    notes: Vec<String>,
}

/// How to open it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// To sync: created when missing (SQLite), refused when read-only.
    Write,
    /// To show its state: never created.
    Read,
}

impl Db {
    pub async fn open(url: &DbUrl, access: Access) -> Result<Db, DbError> {
        let shown = url.shown();
        match url {
            DbUrl::Sqlite(path) => Sqlite::open(path, access, &shown).map(Db::Sqlite),
            DbUrl::Postgres(config, _, tls) => {
                Postgres::open(config, tls, &shown).await.map(Db::Postgres)
            }
        }
    }

    /// What a person should hear about how it was opened.
    pub fn notes(&self) -> Vec<String> {
        match self {
            Db::Sqlite(db) => db.notes.clone(),
            Db::Postgres(_) => Vec::new(),
        }
    }

    /// Which dialect.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// Takes the lock that keeps a second sync out of this database until the connection ends
    /// (released by the system if the process dies); another sync holding it is an error.
    pub async fn lock(&mut self, shown: &str) -> Result<(), DbError> {
        match self.try_lock(shown).await? {
            true => Ok(()),
            false => Err(DbError(format!(
                "{shown}: another `ccsqm sync` is writing to this database; wait for it to end \
                 (or stop it) and run again"
            ))),
        }
    }

    /// Takes the lock of [`Db::lock`] if no other sync holds it: whether it was taken.
    pub async fn try_lock(&mut self, shown: &str) -> Result<bool, DbError> {
        match self {
            Db::Sqlite(db) => {
                let file = std::fs::File::open(&db.path)
                    .map_err(|e| DbError(format!("{shown}: opening it to lock it: {e}")))?;
                // `sync status` takes the lock shared for an instant to tell whether a sync
                // holds it: a few tries, 50 ms apart, before the lock is said to be busy.
                let mut tries = 0;
                loop {
                    match file.try_lock() {
                        Ok(()) => {
                            db.lock = Some(file);
                            return Ok(true);
                        }
                        Err(std::fs::TryLockError::WouldBlock) if tries < 5 => {
                            tries += 1;
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        }
                        Err(std::fs::TryLockError::WouldBlock) => return Ok(false),
                        Err(std::fs::TryLockError::Error(e)) => {
                            return Err(DbError(format!("{shown}: locking it: {e}")))
                        }
                    }
                }
            }
            Db::Postgres(_) => {
                let rows = self
                    .query(
                        "SELECT pg_try_advisory_lock($1)",
                        &[SqlValue::Integer(ADVISORY_LOCK)],
                    )
                    .await?;
                Ok(matches!(
                    rows.first().and_then(|r| r.first()),
                    Some(SqlValue::Boolean(true))
                ))
            }
        }
    }

    /// Whether a sync holds the lock of [`Db::lock`] (its process alive, its connection open),
    /// told without writing: SQLite, by taking the file's lock shared for an instant (refused
    /// while a sync holds it); PostgreSQL, by reading `pg_locks`.
    pub async fn lock_held(&mut self) -> Result<bool, DbError> {
        match self {
            Db::Sqlite(db) => {
                let file = std::fs::File::open(&db.path)
                    .map_err(|e| DbError(format!("opening it to look at its lock: {e}")))?;
                match file.try_lock_shared() {
                    Ok(()) => {
                        let _ = file.unlock();
                        Ok(false)
                    }
                    Err(std::fs::TryLockError::WouldBlock) => Ok(true),
                    Err(std::fs::TryLockError::Error(e)) => {
                        Err(DbError(format!("looking at its lock: {e}")))
                    }
                }
            }
            Db::Postgres(_) => {
                // A lock of a bigint key: its high and low 32 bits, objsubid 1.
                let rows = self
                    .query(
                        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
                         AND database = (SELECT oid FROM pg_database \
                                         WHERE datname = current_database()) \
                         AND classid::text::bigint = $1 AND objid::text::bigint = $2 \
                         AND objsubid = 1",
                        &[
                            SqlValue::Integer(ADVISORY_LOCK >> 32),
                            SqlValue::Integer(ADVISORY_LOCK & 0xffff_ffff),
                        ],
                    )
                    .await?;
                Ok(rows
                    .first()
                    .and_then(|r| r.first())
                    .and_then(SqlValue::as_i64)
                    .is_some_and(|n| n > 0))
            }
        }
    }

    /// Settings for a sync, once the database is known to be ccsqm's (they change the file):
    /// SQLite writes ahead to a log (`journal_mode=WAL`), synced at its checkpoints
    /// (`synchronous=NORMAL`): a commit survives the process being killed at any moment, and
    /// a power loss can only lose the last transactions whole (each page with its progress,
    /// the checkpoint with the window's last page), never leave a half. Its page cache is 64 MiB
    /// (the calls' key is a UUID: inserts touch pages all over its index), and the log is
    /// copied into the database once it holds 5,000 pages (SQLite's default is 1,000; 80 MB of
    /// the 16 KiB pages of a file `ccsqm sync` created, 20 MB of an older file's 4 KiB): a page
    /// changed by several transactions in between is copied once. The log's file is cut back
    /// to 80 MB after it is copied.
    pub async fn tune_for_sync(&mut self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(_) => {
                self.batch(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 5000; \
                     PRAGMA journal_size_limit = 83886080",
                )
                .await
            }
            Db::Postgres(_) => Ok(()),
        }
    }

    /// Starts a transaction (SQLite: taking the write lock at once).
    pub async fn begin(&mut self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(_) => self.batch("BEGIN IMMEDIATE").await,
            Db::Postgres(_) => self.batch("BEGIN").await,
        }
    }

    pub async fn commit(&mut self) -> Result<(), DbError> {
        self.batch("COMMIT").await
    }

    /// Ends the open transaction without its changes (errors ignored: a failed connection
    /// has no transaction left).
    pub async fn rollback(&mut self) {
        let _ = self.batch("ROLLBACK").await;
    }

    /// Statements without parameters and without results (DDL, `BEGIN`, `COMMIT`).
    pub async fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(db) => db.conn.execute_batch(sql).map_err(sqlite_error),
            Db::Postgres(db) => db.batch(sql).await,
        }
    }

    /// A statement with parameters (`$1`, `$2`, … in the order they first appear); the rows
    /// it changed. The parameters are values or references to them (a page's rows are bound
    /// where they are, not copied).
    pub async fn execute<P: Borrow<SqlValue> + Sync>(
        &mut self,
        sql: &str,
        params: &[P],
    ) -> Result<u64, DbError> {
        self.execute_each(sql, &[params]).await
    }

    /// A statement run once for each set of parameters in `each`, prepared (or taken from the
    /// cache) once for all: the rows they changed.
    pub async fn execute_each<P: Borrow<SqlValue> + Sync, S: AsRef<[P]> + Sync>(
        &mut self,
        sql: &str,
        each: &[S],
    ) -> Result<u64, DbError> {
        let mut changed = 0;
        match self {
            Db::Sqlite(db) => {
                let mut statement = db.statement(sql)?;
                for params in each {
                    let params = params.as_ref().iter().map(Borrow::borrow);
                    changed += statement
                        .execute(rusqlite::params_from_iter(params))
                        .map_err(sqlite_error)? as u64;
                }
            }
            Db::Postgres(db) => changed = db.execute_each(sql, each).await?,
        }
        Ok(changed)
    }

    /// A query with parameters: its rows.
    pub async fn query<P: Borrow<SqlValue> + Sync>(
        &mut self,
        sql: &str,
        params: &[P],
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        self.query_each(sql, &[params]).await
    }

    /// A query run once for each set of parameters in `each`, prepared (or taken from the
    /// cache) once for all: the rows of all.
    pub async fn query_each<P: Borrow<SqlValue> + Sync, S: AsRef<[P]> + Sync>(
        &mut self,
        sql: &str,
        each: &[S],
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        let mut rows = Vec::new();
        match self {
            Db::Sqlite(db) => {
                let mut statement = db.statement(sql)?;
                let width = statement.column_count();
                for params in each {
                    let params = params.as_ref().iter().map(Borrow::borrow);
                    let found = statement
                        .query_map(rusqlite::params_from_iter(params), |row| {
                            (0..width)
                                .map(|i| row.get::<_, rusqlite::types::Value>(i).map(from_sqlite))
                                .collect::<Result<Vec<_>, _>>()
                        })
                        .map_err(sqlite_error)?;
                    for row in found {
                        rows.push(row.map_err(sqlite_error)?);
                    }
                }
            }
            Db::Postgres(db) => rows = db.query_each(sql, each).await?,
        }
        Ok(rows)
    }

    /// PostgreSQL: a statement whose parameters are `first` and then `arrays`, each bound as
    /// one array (`= ANY($2)`): many rows' keys in one statement of a few parameters, whatever
    /// their number. (SQLite has no arrays: see [`Db::execute`].)
    pub async fn execute_arrays(
        &mut self,
        sql: &str,
        first: &SqlValue,
        arrays: &[Vec<&SqlValue>],
    ) -> Result<u64, DbError> {
        match self {
            Db::Postgres(db) => db.execute_arrays(sql, first, arrays).await,
            Db::Sqlite(_) => Err(DbError("array parameters are PostgreSQL's".into())),
        }
    }

    /// PostgreSQL: the types of `table`'s `columns`, in their order (read from the server once).
    pub async fn copy_types(
        &mut self,
        table: &str,
        columns: &[&str],
    ) -> Result<Vec<PgType>, DbError> {
        match self {
            Db::Postgres(db) => db.copy_types(table, columns).await,
            Db::Sqlite(_) => Err(DbError("COPY is PostgreSQL's".into())),
        }
    }

    /// PostgreSQL: rows into `table`'s `columns` by `COPY … FROM STDIN (FORMAT binary)`, the
    /// fastest way in. Each row is its first fields already encoded ([`encode_fields`], by
    /// whoever built the row: the pages' reader, where its values are still in the CPU's
    /// cache) and the values of the rest.
    pub async fn copy_in<'a>(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: impl Iterator<Item = (&'a [u8], Vec<&'a SqlValue>)>,
    ) -> Result<u64, DbError> {
        match self {
            Db::Postgres(db) => db.copy_in(table, columns, rows).await,
            Db::Sqlite(_) => Err(DbError("COPY is PostgreSQL's".into())),
        }
    }

    /// PostgreSQL: a query with one array parameter (`= ANY($1)`): its rows.
    pub async fn query_array(
        &mut self,
        sql: &str,
        array: Vec<&SqlValue>,
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        match self {
            Db::Postgres(db) => db.query_array(sql, array).await,
            Db::Sqlite(_) => Err(DbError("array parameters are PostgreSQL's".into())),
        }
    }

    /// The tables of the database (SQLite: the main schema; PostgreSQL: the current schema).
    pub async fn tables(&mut self) -> Result<Vec<String>, DbError> {
        let sql = match self {
            Db::Sqlite(_) => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            }
            Db::Postgres(_) => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            }
        };
        Ok(strings(self.query::<SqlValue>(sql, &[]).await?))
    }

    /// The columns of a table that a row must fill: `NOT NULL` without a default (nor a key
    /// of SQLite's, an identity or a generated column of PostgreSQL's).
    pub async fn required_columns(&mut self, table: &str) -> Result<Vec<String>, DbError> {
        let sql = match self {
            Db::Sqlite(_) => {
                "SELECT name FROM pragma_table_info($1) \
                 WHERE \"notnull\" AND dflt_value IS NULL AND pk = 0"
            }
            Db::Postgres(_) => {
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                 AND is_nullable = 'NO' AND column_default IS NULL \
                 AND is_identity = 'NO' AND is_generated = 'NEVER'"
            }
        };
        Ok(strings(
            self.query(sql, &[SqlValue::Text(table.to_owned())]).await?,
        ))
    }

    /// The columns of a table, in order.
    pub async fn columns(&mut self, table: &str) -> Result<Vec<String>, DbError> {
        let sql = match self {
            Db::Sqlite(_) => "SELECT name FROM pragma_table_info($1) ORDER BY cid",
            Db::Postgres(_) => {
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                 ORDER BY ordinal_position"
            }
        };
        Ok(strings(
            self.query(sql, &[SqlValue::Text(table.to_owned())]).await?,
        ))
    }
}

/// `"a", "b"`: the columns, quoted (the spec's field names, checked by the generator).
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn quoted(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$1`, `$2`, … as SQLite's `?1`, `?2`, … (SQLite reads `$1` as a parameter *named* `1`,
/// numbered by first appearance, not by its digits). The statements hold no `$` otherwise.
fn sqlite_parameters(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn strings(rows: Vec<Vec<SqlValue>>) -> Vec<String> {
    rows.into_iter()
        .filter_map(|r| r.into_iter().next())
        .filter_map(|v| match v {
            SqlValue::Text(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// SQLite, to read only, creating nothing beside the file: without a write-ahead log beside
/// it (no sync is writing, and every transaction is in the file) it is read as `immutable`
/// (no `-wal` or `-shm` created, no lock taken: a read-only folder or file system is fine);
/// with one, read-only with the log (its transactions are the latest), or, when the log's
/// index cannot be used (a read-only folder), as `immutable`, with a note that the last
/// transactions may not be shown.
fn open_to_read(path: &Path, notes: &mut Vec<String>) -> Result<rusqlite::Connection, DbError> {
    use rusqlite::OpenFlags;
    let open = |uri: String| -> Result<rusqlite::Connection, DbError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = rusqlite::Connection::open_with_flags(uri, flags)
            .map_err(|e| DbError(format!("cannot open it: {}", sqlite_error(e))))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sqlite_error)?;
        // Reading the schema tells a file that is not a database at once.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .map_err(sqlite_error)?;
        Ok(conn)
    };
    let file = file_uri(path);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if !Path::new(&wal).exists() {
        return open(format!("{file}?immutable=1"));
    }
    match open(format!("{file}?mode=ro")) {
        Ok(conn) => Ok(conn),
        Err(first) => match open(format!("{file}?immutable=1")) {
            Ok(conn) => {
                notes.push(format!(
                    "the database's write-ahead log cannot be read here ({first}): shown \
                     without it, the last transactions may be missing"
                ));
                Ok(conn)
            }
            Err(_) => Err(first),
        },
    }
}

/// `file:PATH` for SQLite's URIs: `%`, `?` and `#` escaped (and anything not printable ASCII).
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for &b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'%' | b'?' | b'#' => uri.push_str(&format!("%{b:02X}")),
            0x21..=0x7e => uri.push(char::from(b)),
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri
}

/// What `path` is when it exists and is not a regular file (a symbolic link is followed): a
/// directory, a device, a FIFO or a socket.
fn not_a_file(path: &Path) -> Option<&'static str> {
    let kind = std::fs::metadata(path).ok()?.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_char_device() {
            return Some("a character device");
        }
        if kind.is_block_device() {
            return Some("a block device");
        }
        if kind.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

impl Sqlite {
    fn open(path: &Path, access: Access, shown: &str) -> Result<Sqlite, DbError> {
        use rusqlite::OpenFlags;
        let fail = |what: String| DbError(format!("{shown}: {what}"));
        // Before SQLite opens it (and creates its journal, `-wal` or `-shm` beside it): a
        // device, a FIFO (which would block), a socket or a directory is no database file.
        if let Some(kind) = not_a_file(path) {
            return Err(fail(format!(
                "is {kind}, not a database file: nothing was created; give the path of a SQLite \
                 file (it is created when missing)"
            )));
        }
        match access {
            Access::Read if !path.exists() => {
                return Err(fail(
                    "no such database (`ccsqm sync` creates it on its first run)".into(),
                ));
            }
            Access::Write => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    if !parent.is_dir() {
                        return Err(fail(format!(
                            "the folder {} does not exist",
                            parent.display()
                        )));
                    }
                }
            }
            Access::Read => {}
        }
        let mut notes = Vec::new();
        let conn = match access {
            Access::Write => {
                let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = rusqlite::Connection::open_with_flags(path, flags)
                    .map_err(|e| fail(format!("cannot open it: {}", sqlite_error(e))))?;
                conn.busy_timeout(std::time::Duration::from_secs(10))
                    .map_err(|e| fail(sqlite_error(e).0))?;
                // Reading the schema tells a file that is not a database at once.
                conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
                    .map_err(|e| fail(sqlite_error(e).0))?;
                conn
            }
            Access::Read => open_to_read(path, &mut notes).map_err(|e| fail(e.0))?,
        };
        if access == Access::Write
            && conn
                .is_readonly(rusqlite::MAIN_DB)
                .map_err(|e| fail(sqlite_error(e).0))?
        {
            return Err(fail(
                "the database file (or its folder) is read-only: nothing was changed".into(),
            ));
        }
        // A page's upserts take a few statements of each of a few sizes (see `upsert`).
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Sqlite {
            conn,
            lock: None,
            path: path.to_owned(),
            translated: HashMap::new(),
            notes,
        })
    }

    /// The prepared statement of `sql` (prepared once, then taken from rusqlite's cache).
    fn statement(&mut self, sql: &str) -> Result<rusqlite::CachedStatement<'_>, DbError> {
        if !self.translated.contains_key(sql) {
            self.translated
                .insert(sql.to_owned(), sqlite_parameters(sql));
        }
        let translated = self.translated.get(sql).map_or(sql, String::as_str);
        self.conn.prepare_cached(translated).map_err(sqlite_error)
    }
}

fn sqlite_error(error: rusqlite::Error) -> DbError {
    use rusqlite::ErrorCode;
    let hint = match error.sqlite_error_code() {
        Some(ErrorCode::ReadOnly) => " (the database is read-only)",
        Some(ErrorCode::DiskFull) => " (the disk is full)",
        Some(ErrorCode::NotADatabase) => " (the file is not a SQLite database)",
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            " (another program holds the database's lock)"
        }
        _ => "",
    };
    DbError(format!("SQLite: {error}{hint}"))
}

fn from_sqlite(value: rusqlite::types::Value) -> SqlValue {
    use rusqlite::types::Value;
    match value {
        Value::Null => SqlValue::Null,
        Value::Integer(i) => SqlValue::Integer(i),
        Value::Real(f) => SqlValue::Real(f),
        Value::Text(s) => SqlValue::Text(s),
        Value::Blob(b) => SqlValue::Text(String::from_utf8_lossy(&b).into_owned()),
    }
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match self {
            SqlValue::Null => ToSqlOutput::Owned(Value::Null),
            SqlValue::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            SqlValue::Integer(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            SqlValue::Real(f) => ToSqlOutput::Owned(Value::Real(*f)),
            SqlValue::Boolean(b) => ToSqlOutput::Owned(Value::Integer(i64::from(*b))),
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "postgres")]
    #[test]
    fn copy_fields_are_lengths_and_binary_values() {
        use super::{encode_fields, SqlValue};
        use tokio_postgres::types::Type;
        let types = [Type::INT8, Type::TEXT, Type::FLOAT8];
        let values = [SqlValue::Integer(258), SqlValue::Null, SqlValue::Real(1.5)];
        let mut out = bytes::BytesMut::new();
        encode_fields(&values, &types, &mut out).unwrap();
        let mut expected = Vec::new();
        expected.extend_from_slice(&8i32.to_be_bytes());
        expected.extend_from_slice(&258i64.to_be_bytes());
        expected.extend_from_slice(&(-1i32).to_be_bytes());
        expected.extend_from_slice(&8i32.to_be_bytes());
        expected.extend_from_slice(&1.5f64.to_be_bytes());
        assert_eq!(&out[..], &expected[..]);
        // As many values as columns, or an error.
        assert!(encode_fields(&values[..2], &types, &mut bytes::BytesMut::new()).is_err());
        assert!(encode_fields(&values, &types[..2], &mut bytes::BytesMut::new()).is_err());
    }

    #[test]
    fn numbered_parameters_become_sqlites() {
        assert_eq!(
            super::sqlite_parameters("VALUES ($2, $10, $1, $1) WHERE x = 'a'"),
            "VALUES (?2, ?10, ?1, ?1) WHERE x = 'a'"
        );
    }
}
