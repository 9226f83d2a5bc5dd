//! Upserting a page of calls by `call_uuid`, inside the caller's transaction, in a few
//! statements whatever the page's size: queries for the stored calls of the page, multi-row
//! `INSERT`s for the new ones (in the order of their keys: neighbours in the key's index are
//! written together), one `UPDATE` for each changed call (all its fields, `last_seen` and
//! `last_changed`), `UPDATE`s of `last_seen` for the unchanged ones. A window that began with
//! no call stored (a new database's first sync: a tenant's whole history) looks up only the
//! calls its reader sent twice ([`Lookup`]).
//!
//! SQLite: a statement takes up to [`max_rows`] rows (or keys), a power of two, and a number
//! of rows that is not a multiple of it is written by statements of its binary digits (1,300
//! calls: 1,024 + 256 + 16 + 4): so there are only a few statements of each kind, each with its
//! text built once and prepared once (see [`Db`]), and every value is bound where it is.
//! PostgreSQL takes arrays: the stored rows of every key in one query (`= ANY($1)`), the
//! unchanged in one `UPDATE`; and the new rows by `COPY … FROM STDIN (FORMAT binary)`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use ccsqm_client::CallRecord;

use crate::columns::{column_list, key_index};
use crate::db::PgType as Type;
use crate::db::{encode_fields, Db, DbError};
use crate::generated::{call_row, CALL_COLUMNS, KEY};
use crate::schema::{SqlValue, BOOKKEEPING};
use crate::Counts;
use crate::{Error, Result};

/// The most parameters of one statement (SQLite allows 32766, PostgreSQL 65535).
const MAX_PARAMETERS: usize = 30_000;

/// A call the table cannot hold (no `call_uuid`): a failure of the server's data (exit 5).
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub struct MissingKey(pub String);

/// Why a call as read cannot be stored (its transaction fails): the message names the call.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Unstorable {
    #[error(transparent)]
    MissingKey(MissingKey),
    #[error("{0}")]
    Unserializable(String),
}

/// A call as read: its row, built by the pages' reader while the database writes (the call's
/// fields are moved into it), and whether that reader had sent a call with the same key before
/// in this window (a call in two groups, or moved between pages).
pub struct Fetched {
    /// The row, or why the table cannot hold the call.
    pub row: Result<Vec<SqlValue>, Unstorable>,
    pub repeated: bool,
    /// PostgreSQL: the row's fields as a binary `COPY` takes them (or why they cannot be),
    /// encoded by the reader, where the row's values are still in the CPU's cache.
    copy: Option<Result<bytes::Bytes, String>>,
    /// PostgreSQL: the columns whose NUL characters were replaced (see
    /// [`SqlValue::replace_nul`]).
    pub replaced: Vec<&'static str>,
    /// The first 16 bytes of its key, big-endian (zeros after a shorter key): calls in the
    /// order of this and then of their keys are in the order of their keys, sorted without
    /// reading each key's text where the database's side keeps it.
    order: u128,
}

impl Fetched {
    /// The row of `record`; `seen`: the keys the window's reader has sent so far; `copy`:
    /// PostgreSQL's types of the call's columns, to encode its row for a `COPY`.
    pub fn new(record: CallRecord, seen: &mut Seen, copy: Option<&[Type]>) -> Fetched {
        // Said with the call's `call_id` (moved into the row below).
        let missing = record.call.call_uuid.is_none().then(|| {
            let call_id = record.call.call_id.as_deref().unwrap_or("?");
            Unstorable::MissingKey(MissingKey(format!(
                "the server sent a call without {KEY} (call_id {call_id:?}): it cannot be stored \
                 (the table is keyed by {KEY}); nothing of its page was committed"
            )))
        });
        let mut replaced = Vec::new();
        // Named in a failure (the call is moved into its row).
        let uuid = record.call.call_uuid.clone();
        let row = match call_row(record) {
            Ok(mut row) if copy.is_some() => {
                for (value, column) in row.iter_mut().zip(CALL_COLUMNS) {
                    if value.replace_nul(column.sql) {
                        replaced.push(column.name);
                    }
                }
                row
            }
            Ok(row) => row,
            Err(e) => {
                return Fetched {
                    row: Err(Unstorable::Unserializable(format!(
                        "call {} of the server's cannot be stored: {e}; nothing of its page was \
                         committed",
                        ccsqm_client::visible(uuid.as_deref().unwrap_or("?"))
                    ))),
                    repeated: false,
                    order: 0,
                    copy: None,
                    replaced,
                }
            }
        };
        match (missing, row[key_index()].as_str()) {
            (None, Some(key)) => {
                let mut prefix = [0u8; 16];
                let head = &key.as_bytes()[..key.len().min(16)];
                prefix[..head.len()].copy_from_slice(head);
                let copy = copy.map(|types| {
                    let mut out = bytes::BytesMut::new();
                    encode_fields(&row, types, &mut out)
                        .map(|()| out.freeze())
                        .map_err(|e| e.to_string())
                });
                Fetched {
                    repeated: seen.repeated(key),
                    order: u128::from_be_bytes(prefix),
                    copy,
                    row: Ok(row),
                    replaced,
                }
            }
            (missing, _) => Fetched {
                row: Err(missing.unwrap_or_else(|| {
                    Unstorable::MissingKey(MissingKey(format!(
                        "a call's {KEY} is not text: it cannot be stored"
                    )))
                })),
                repeated: false,
                order: 0,
                copy: None,
                replaced,
            },
        }
    }

    /// The order of two calls' keys, mostly told by their first bytes, kept in the call.
    fn in_key_order(a: &Fetched, b: &Fetched) -> std::cmp::Ordering {
        a.order
            .cmp(&b.order)
            .then_with(|| key(a.values()).cmp(key(b.values())))
    }

    /// The row (of a call that has one).
    fn values(&self) -> &Vec<SqlValue> {
        static NONE: Vec<SqlValue> = Vec::new();
        self.row.as_ref().unwrap_or(&NONE)
    }
}

/// The keys a window's reader has sent, by a fingerprint (a rare false match only costs a
/// lookup of a call that is not stored).
#[derive(Default)]
pub struct Seen {
    hasher: std::collections::hash_map::RandomState,
    keys: std::collections::HashSet<u64>,
}

impl Seen {
    /// Whether `key` was sent before (and it is now).
    fn repeated(&mut self, key: &str) -> bool {
        use std::hash::BuildHasher;
        !self.keys.insert(self.hasher.hash_one(key))
    }
}

/// Which calls of a window may be stored already, and are looked up before they are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Every call.
    Every,
    /// Only the calls its reader sent more than once: the window began with no call stored,
    /// so that a call is stored only if it was read (and written) before in this window. A
    /// new database's first sync, a tenant's whole history, writes without a lookup.
    Repeated,
}

impl Lookup {
    /// How the calls of a window about to be read are looked up.
    pub async fn of_window(db: &mut Db) -> Result<Lookup> {
        let any = db
            .query::<SqlValue>("SELECT 1 FROM calls LIMIT 1", &[])
            .await?;
        Ok(if any.is_empty() {
            Lookup::Repeated
        } else {
            Lookup::Every
        })
    }
}

/// Upserts `calls` (`now`: the sync's clock, Unix seconds) and counts them in `counts`, each
/// `call_uuid` once (a call repeated on the page: its last version).
pub async fn page(
    db: &mut Db,
    calls: &[Fetched],
    lookup: Lookup,
    now: i64,
    counts: &mut Counts,
) -> Result<()> {
    let key_at = key_index();
    match calls.iter().map(|call| &call.row).find(|row| row.is_err()) {
        Some(Err(Unstorable::MissingKey(missing))) => return Err(missing.clone().into()),
        Some(Err(unstorable)) => return Err(Error::Unstorable(unstorable.to_string())),
        _ => {}
    }
    // Each call's last version on the page (a call is on it twice only if it is repeated).
    let mut latest: Vec<&Fetched> = if calls.iter().any(|call| call.repeated) {
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(calls.len());
        for (i, call) in calls.iter().enumerate() {
            last.insert(key(call.values()), i);
        }
        calls
            .iter()
            .enumerate()
            .filter(|(i, call)| last.get(key(call.values())) == Some(i))
            .map(|(_, call)| call)
            .collect()
    } else {
        calls.iter().collect()
    };
    // The new rows are written in the order of their keys.
    latest.sort_unstable_by(|a, b| Fetched::in_key_order(a, b));

    let keys: Vec<&SqlValue> = latest
        .iter()
        .filter(|call| lookup == Lookup::Every || call.repeated)
        .map(|call| &call.values()[key_at])
        .collect();
    let stored = if keys.is_empty() {
        HashMap::new()
    } else if db.is_postgres() {
        let rows = db.query_array(&sql(Shape::SelectAny, 0), keys).await?;
        by_key(rows)
    } else {
        stored(db, &keys).await?
    };
    let mut plan = Plan::default();
    for call in latest {
        let row = call.values();
        let before = if stored.is_empty() {
            None
        } else {
            stored.get(key(row))
        };
        match before {
            None => plan.inserts.push(call),
            Some(before) if before == row => plan.unchanged.push(&row[key_at]),
            Some(_) => plan.updates.push(row),
        }
    }
    let now = SqlValue::Integer(now);
    if db.is_postgres() {
        write_by_arrays(db, &plan, &now).await?;
    } else {
        write_by_rows(db, &plan, &now).await?;
    }
    counts.inserted += plan.inserts.len() as i64;
    counts.updated += plan.updates.len() as i64;
    counts.unchanged += plan.unchanged.len() as i64;
    Ok(())
}

/// The key of a row (of a call that has one).
fn key(row: &[SqlValue]) -> &str {
    row[key_index()].as_str().unwrap_or_default()
}

/// PostgreSQL: the types of the calls' columns, with which the pages' reader encodes each row
/// for the `COPY` of new calls (see [`Fetched::new`]); `None` for SQLite.
pub async fn copy_types(db: &mut Db) -> Result<Option<Vec<Type>>> {
    if !db.is_postgres() {
        return Ok(None);
    }
    let columns: Vec<&str> = CALL_COLUMNS.iter().map(|c| c.name).collect();
    Ok(Some(db.copy_types("calls", &columns).await?))
}

/// What a page's upsert writes: the new rows, the changed rows, the keys of the unchanged.
#[derive(Default)]
struct Plan<'a> {
    inserts: Vec<&'a Fetched>,
    updates: Vec<&'a Vec<SqlValue>>,
    unchanged: Vec<&'a SqlValue>,
}

/// SQLite: multi-row statements of a few sizes (see the module's text), each taken from the
/// cache once for all its rows.
async fn write_by_rows(db: &mut Db, plan: &Plan<'_>, now: &SqlValue) -> Result<()> {
    let width = CALL_COLUMNS.len();
    let mut rest = &plan.inserts[..];
    for (rows, times) in sizes(rest.len(), max_rows(width)) {
        let mut each = Vec::with_capacity(times);
        for _ in 0..times {
            let (chunk, next) = rest.split_at(rows);
            rest = next;
            let mut params: Vec<&SqlValue> = Vec::with_capacity(1 + rows * width);
            params.push(now);
            params.extend(chunk.iter().flat_map(|call| call.values().iter()));
            each.push(params);
        }
        db.execute_each(&sql(Shape::Insert, rows), &each).await?;
    }
    update_each(db, &plan.updates, now).await?;
    let mut rest = &plan.unchanged[..];
    for (keys, times) in sizes(rest.len(), max_rows(1)) {
        let mut each = Vec::with_capacity(times);
        for _ in 0..times {
            let (chunk, next) = rest.split_at(keys);
            rest = next;
            let mut params: Vec<&SqlValue> = Vec::with_capacity(1 + keys);
            params.push(now);
            params.extend(chunk.iter().copied());
            each.push(params);
        }
        db.execute_each(&sql(Shape::Touch, keys), &each).await?;
    }
    Ok(())
}

/// PostgreSQL: the new rows by one binary `COPY`; the unchanged by one array.
async fn write_by_arrays(db: &mut Db, plan: &Plan<'_>, now: &SqlValue) -> Result<()> {
    if !plan.inserts.is_empty() {
        let mut columns: Vec<&str> = CALL_COLUMNS.iter().map(|c| c.name).collect();
        columns.extend(BOOKKEEPING);
        if let Some(Err(e)) = plan
            .inserts
            .iter()
            .find_map(|call| call.copy.as_ref().filter(|c| c.is_err()))
        {
            return Err(DbError(format!("a call cannot be written: {e}")).into());
        }
        let rows = plan.inserts.iter().map(|call| match &call.copy {
            // Encoded by the reader: the bookkeeping follows.
            Some(Ok(encoded)) => (encoded.as_ref(), vec![now; BOOKKEEPING.len()]),
            _ => {
                let mut values: Vec<&SqlValue> = call.values().iter().collect();
                values.extend([now; BOOKKEEPING.len()]);
                (&[][..], values)
            }
        });
        db.copy_in("calls", &columns, rows).await?;
    }
    update_each(db, &plan.updates, now).await?;
    if !plan.unchanged.is_empty() {
        db.execute_arrays(
            &sql(Shape::TouchAny, 0),
            now,
            std::slice::from_ref(&plan.unchanged),
        )
        .await?;
    }
    Ok(())
}

/// A changed row: all its fields, `last_seen` and `last_changed`, by its key.
async fn update_each(db: &mut Db, rows: &[&Vec<SqlValue>], now: &SqlValue) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let key_at = key_index();
    let each: Vec<Vec<&SqlValue>> = rows
        .iter()
        .map(|row| {
            let mut params: Vec<&SqlValue> = row.iter().collect();
            params.push(now);
            params.push(&row[key_at]);
            params
        })
        .collect();
    db.execute_each(&sql(Shape::Update, 1), &each).await?;
    Ok(())
}

/// The stored rows of `keys` (SQLite), typed as their columns, by key.
async fn stored(db: &mut Db, keys: &[&SqlValue]) -> Result<HashMap<String, Vec<SqlValue>>> {
    let mut rows = Vec::new();
    let mut rest = keys;
    for (size, times) in sizes(rest.len(), max_rows(1)) {
        let mut each = Vec::with_capacity(times);
        for _ in 0..times {
            let (chunk, next) = rest.split_at(size);
            rest = next;
            each.push(chunk);
        }
        rows.extend(db.query_each(&sql(Shape::Select, size), &each).await?);
    }
    Ok(by_key(rows))
}

/// Stored rows, typed as their columns, by key.
fn by_key(rows: Vec<Vec<SqlValue>>) -> HashMap<String, Vec<SqlValue>> {
    let key_at = key_index();
    let mut stored = HashMap::with_capacity(rows.len());
    for row in rows {
        let row: Vec<SqlValue> = row
            .into_iter()
            .zip(CALL_COLUMNS)
            .map(|(v, c)| v.typed(c.sql))
            .collect();
        if let Some(key) = row[key_at].as_str() {
            stored.insert(key.to_owned(), row);
        }
    }
    stored
}

/// The statements of an upsert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Shape {
    /// The stored rows of `n` keys.
    Select,
    /// `n` new rows (`$1`: the sync's clock, for the bookkeeping).
    Insert,
    /// A changed row, by its key.
    Update,
    /// `last_seen` of `n` unchanged rows (`$1`: the sync's clock).
    Touch,
    /// PostgreSQL: the stored rows of the keys of the array `$1`.
    SelectAny,
    /// PostgreSQL: `last_seen` of the rows whose keys are the array `$2`.
    TouchAny,
}

/// The text of the statement `shape` of `n` rows or keys: built once.
fn sql(shape: Shape, n: usize) -> Arc<str> {
    type Texts = HashMap<(Shape, usize), Arc<str>>;
    static TEXTS: LazyLock<Mutex<Texts>> = LazyLock::new(Mutex::default);
    let mut texts = TEXTS.lock().unwrap_or_else(|e| e.into_inner());
    texts
        .entry((shape, n))
        .or_insert_with(|| Arc::from(build(shape, n)))
        .clone()
}

fn build(shape: Shape, n: usize) -> String {
    let width = CALL_COLUMNS.len();
    match shape {
        Shape::Select => format!(
            "SELECT {} FROM calls WHERE \"{KEY}\" IN ({})",
            column_list(),
            placeholders(1, n)
        ),
        Shape::Insert => {
            // The bookkeeping columns of a new row all hold the sync's clock, `$1`.
            let clock = ["$1"; BOOKKEEPING.len()].join(", ");
            let values: Vec<String> = (0..n)
                .map(|i| format!("({}, {clock})", placeholders(2 + i * width, width)))
                .collect();
            format!(
                "INSERT INTO calls ({}, {}) VALUES {}",
                column_list(),
                BOOKKEEPING.join(", "),
                values.join(", ")
            )
        }
        Shape::Update => {
            let sets: Vec<String> = CALL_COLUMNS
                .iter()
                .enumerate()
                .map(|(i, c)| format!("\"{}\" = ${}", c.name, i + 1))
                .collect();
            format!(
                "UPDATE calls SET {}, last_seen = ${t}, last_changed = ${t} WHERE \"{KEY}\" = ${k}",
                sets.join(", "),
                t = width + 1,
                k = width + 2
            )
        }
        Shape::Touch => format!(
            "UPDATE calls SET last_seen = $1 WHERE \"{KEY}\" IN ({})",
            placeholders(2, n)
        ),
        Shape::SelectAny => format!(
            "SELECT {} FROM calls WHERE \"{KEY}\" = ANY($1)",
            column_list()
        ),
        Shape::TouchAny => {
            format!("UPDATE calls SET last_seen = $1 WHERE \"{KEY}\" = ANY($2)")
        }
    }
}

/// The most rows of `width` values of one statement: a power of two.
fn max_rows(width: usize) -> usize {
    let most = (MAX_PARAMETERS - 1) / width.max(1);
    1 << most.max(1).ilog2()
}

/// The statements that write `n` rows, at most `max` (a power of two) each, as `(rows of
/// each, how many)`: as many of `max` as fit, then one of each binary digit of the rest,
/// largest first.
fn sizes(n: usize, max: usize) -> impl Iterator<Item = (usize, usize)> {
    let full = Some((max, n / max)).filter(|(_, times)| *times > 0);
    let rest = n % max;
    let digits = (0..usize::BITS)
        .rev()
        .map(|bit| 1usize << bit)
        .filter(move |digit| rest & digit != 0)
        .map(|digit| (digit, 1));
    full.into_iter().chain(digits)
}

/// `$first, $first+1, …` (`count` of them).
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_are_written_by_statements_of_a_few_sizes() {
        use super::{max_rows, sizes};
        let all = |n, max| sizes(n, max).collect::<Vec<_>>();
        assert_eq!(all(0, 1024), vec![]);
        assert_eq!(all(1300, 1024), vec![(1024, 1), (256, 1), (16, 1), (4, 1)]);
        assert_eq!(all(2048, 1024), vec![(1024, 2)]);
        assert_eq!(all(7, 4), vec![(4, 1), (2, 1), (1, 1)]);
        assert_eq!(
            all(10_000, 1024),
            vec![(1024, 9), (512, 1), (256, 1), (16, 1)]
        );
        for n in 0..3000 {
            assert_eq!(
                sizes(n, 512)
                    .map(|(size, times)| size * times)
                    .sum::<usize>(),
                n
            );
        }
        // Within the parameters a statement may have, with room for the clock.
        for width in [1, 2, 24, 25, 1000] {
            let rows = max_rows(width);
            assert!(rows.is_power_of_two() && rows * width < super::MAX_PARAMETERS);
            assert!(1 + 2 * rows * width > super::MAX_PARAMETERS, "the largest");
        }
    }

    #[test]
    fn calls_in_the_order_of_their_prefix_then_key_are_in_the_order_of_their_keys() {
        use super::{Fetched, Seen};
        let keys = [
            "b",
            "a",
            "",
            "abcdefghijklmnopq",
            "abcdefghijklmnop",
            "abcdefghijklmnopa",
            "abcdefghijklmno",
            "ab\u{e9}",
            "ab\u{7f}",
            "zz",
            "a\u{0}",
            "a",
        ];
        let mut seen = Seen::default();
        let mut calls: Vec<Fetched> = keys
            .iter()
            .map(|key| {
                let mut record = ccsqm_client::CallRecord::default();
                record.call.call_uuid = Some((*key).to_owned());
                Fetched::new(record, &mut seen, None)
            })
            .collect();
        let key = |call: &Fetched| {
            call.values()[crate::columns::key_index()]
                .as_str()
                .unwrap()
                .to_owned()
        };
        calls.sort_by(Fetched::in_key_order);
        let mut expected: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        expected.sort();
        assert_eq!(calls.iter().map(key).collect::<Vec<_>>(), expected);
        // The second "a" was sent before.
        assert_eq!(calls.iter().filter(|c| c.repeated).count(), 1);
    }

    #[test]
    fn placeholders_are_numbered_from_the_first() {
        assert_eq!(super::placeholders(2, 3), "$2, $3, $4");
        assert_eq!(super::placeholders(1, 0), "");
    }
}
