//! One connection to the database, SQLite (`rusqlite`, bundled; feature `sqlite`, in
//! `sqlite.rs`) or PostgreSQL (`tokio-postgres`; feature `postgres`, in `postgres.rs`), behind
//! the few operations the sync needs: statements with parameters (prepared once and cached),
//! transactions, and the lock that keeps a second sync out. A driver left out has an empty
//! stand-in (`no_sqlite.rs`, `no_postgres.rs`).
//!
//! Both drivers are maintained crates; no SQL is built from data (every value is a parameter;
//! the only identifiers are the spec's field names, checked by the generator).

use std::borrow::Borrow;

use crate::schema::SqlValue;
use crate::url::DbUrl;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(not(feature = "postgres"))]
#[path = "no_postgres.rs"]
mod postgres;

pub use postgres::{encode_fields, PgType, Postgres};

#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(not(feature = "sqlite"))]
#[path = "no_sqlite.rs"]
mod sqlite;

pub use sqlite::Sqlite;

/// A failure of the database (exit code 7): unreachable, refusing, read-only or full, not
/// `ccsqm sync`'s, written by a newer `ccsqm`, or in use by another sync.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DbError(pub String);

/// The key of the PostgreSQL advisory lock a sync holds ("ccsqmsyn").
pub const ADVISORY_LOCK: i64 = 0x6363_7371_6d73_796e;

/// An open database.
#[cfg_attr(
    not(all(feature = "sqlite", feature = "postgres")),
    allow(clippy::large_enum_variant)
)]
pub enum Db {
    Sqlite(Sqlite),
    Postgres(Postgres),
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
            Db::Sqlite(db) => db.notes(),
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
            Db::Sqlite(db) => db.try_lock(shown).await,
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
            Db::Sqlite(db) => db.lock_held(),
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
            Db::Sqlite(db) => db.batch(sql),
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
        match self {
            Db::Sqlite(db) => db.execute_each(sql, each),
            Db::Postgres(db) => db.execute_each(sql, each).await,
        }
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
        match self {
            Db::Sqlite(db) => db.query_each(sql, each),
            Db::Postgres(db) => db.query_each(sql, each).await,
        }
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

fn strings(rows: Vec<Vec<SqlValue>>) -> Vec<String> {
    rows.into_iter()
        .filter_map(|r| r.into_iter().next())
        .filter_map(|v| match v {
            SqlValue::Text(s) => Some(s),
            _ => None,
        })
        .collect()
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
}
