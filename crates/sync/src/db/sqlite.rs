//! SQLite (`rusqlite`, bundled: no system library), behind the feature `sqlite`.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::path::Path;

use super::{Access, DbError};
use crate::schema::SqlValue;

/// A SQLite database, open (with the file's lock once [`super::Db::lock`] took it).
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

impl Sqlite {
    /// What a person should hear about how it was opened.
    pub(super) fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    /// Takes the file's lock (see [`super::Db::lock`]) unless a sync holds it: whether it was
    /// taken.
    pub(super) async fn try_lock(&mut self, shown: &str) -> Result<bool, DbError> {
        let file = std::fs::File::open(&self.path)
            .map_err(|e| DbError(format!("{shown}: opening it to lock it: {e}")))?;
        // `sync status` takes the lock shared for an instant to tell whether a sync
        // holds it: a few tries, 50 ms apart, before the lock is said to be busy.
        let mut tries = 0;
        loop {
            match file.try_lock() {
                Ok(()) => {
                    self.lock = Some(file);
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

    /// Whether a sync holds the file's lock (see [`super::Db::lock_held`]).
    pub(super) fn lock_held(&mut self) -> Result<bool, DbError> {
        let file = std::fs::File::open(&self.path)
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

    /// Statements without parameters and without results.
    pub(super) fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql).map_err(sqlite_error)
    }

    /// See [`super::Db::execute_each`].
    pub(super) fn execute_each<P: Borrow<SqlValue>, S: AsRef<[P]>>(
        &mut self,
        sql: &str,
        each: &[S],
    ) -> Result<u64, DbError> {
        let mut changed = 0;
        let mut statement = self.statement(sql)?;
        for params in each {
            let params = params.as_ref().iter().map(Borrow::borrow);
            changed += statement
                .execute(rusqlite::params_from_iter(params))
                .map_err(sqlite_error)? as u64;
        }
        Ok(changed)
    }

    /// See [`super::Db::query_each`].
    pub(super) fn query_each<P: Borrow<SqlValue>, S: AsRef<[P]>>(
        &mut self,
        sql: &str,
        each: &[S],
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        let mut rows = Vec::new();
        let mut statement = self.statement(sql)?;
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
        Ok(rows)
    }
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
    pub(super) fn open(path: &Path, access: Access, shown: &str) -> Result<Sqlite, DbError> {
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
    #[test]
    fn numbered_parameters_become_sqlites() {
        assert_eq!(
            super::sqlite_parameters("VALUES ($2, $10, $1, $1) WHERE x = 'a'"),
            "VALUES (?2, ?10, ?1, ?1) WHERE x = 'a'"
        );
    }
}
