//! `ccsqm sync --with-transcripts`: each finished call's transcript (`appraisecall/detail`),
//! its segments in `call_segments` (one row per segment, keyed by `call_uuid` and
//! `segment_order`, from 1, in the transcript's order), and in `call_transcripts` the status of
//! the call it was fetched at. A call is fetched when its status is final (not one of
//! `x-enum-in-progress`) and no transcript of it is stored at that status: once, unless its
//! final status changes. The transcripts of a transaction's calls are fetched inside it, and
//! written as they arrive, a few at a time: the memory they take is bounded by the transcripts
//! in flight (`--transcript-concurrency`, each at most the client's largest body) and a buffer
//! of [`BUFFER_BYTES`], whatever a page holds.
//!
//! A transcript that cannot be fetched (404, a server's error after the retries, a body too
//! large or unreadable) does not hold its call back: the call is stored, and the transcript is
//! recorded in `missing_transcripts` (with the error and how often it failed); later runs try
//! it again while its call was uploaded within `--horizon` of their bound ([`retry_due`]). A
//! failure every call would meet (the credentials refused, no connection) fails the
//! transaction instead.

use std::collections::HashMap;

use ccsqm_client::{ApiError, Client, ErrorKind};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::columns::{column_index, key_index};
use crate::db::Db;
use crate::generated::{IN_PROGRESS_STATUSES, KEY, SEGMENT_COLUMNS, SEGMENT_ORDER, STATUS_COLUMN};
use crate::schema::SqlValue;
use crate::upsert::Fetched;
use crate::{Error, Result};

/// The most parameters of one statement (SQLite allows 32766, PostgreSQL 65535).
const MAX_PARAMETERS: usize = 30_000;

/// Fetched transcripts are written once they hold about this many bytes of text (or
/// `BUFFER_TRANSCRIPTS` transcripts).
pub const BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// ... or this many transcripts.
const BUFFER_TRANSCRIPTS: usize = 500;

/// One call's fetched transcript: its `call_uuid`, the call's status, its segments as rows of
/// [`SEGMENT_COLUMNS`].
struct Transcript {
    call_uuid: String,
    status: i64,
    segments: Vec<Vec<SqlValue>>,
}

impl Transcript {
    /// About how many bytes it holds.
    fn size(&self) -> usize {
        let cells = self.segments.iter().flatten();
        64 + cells
            .map(|v| match v {
                SqlValue::Text(s) => 24 + s.len(),
                _ => 24,
            })
            .sum::<usize>()
    }
}

/// What storing the transcripts of a transaction came to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stored {
    /// Transcripts written.
    pub stored: i64,
    /// Transcripts that could not be fetched (recorded in `missing_transcripts`).
    pub missing: i64,
    /// The kind of the first of those failures.
    pub first_missing: Option<ErrorKind>,
    /// What was stored in another form than sent (PostgreSQL: NUL characters).
    pub warnings: Vec<String>,
}

/// The calls of `calls` whose transcript is due: a final status, and none stored at it.
/// (The last version of a call repeated in `calls`.)
pub async fn due(db: &mut Db, calls: &[Fetched]) -> Result<Vec<(String, i64)>> {
    let key_at = key_index();
    let status_at = column_index(STATUS_COLUMN);
    let mut latest: Vec<(String, i64)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for row in calls.iter().filter_map(|call| call.row.as_ref().ok()) {
        let (Some(uuid), Some(status)) = (row[key_at].as_str(), row[status_at].as_i64()) else {
            continue;
        };
        match at.get(uuid) {
            Some(&i) => latest[i].1 = status,
            None => {
                at.insert(uuid.to_owned(), latest.len());
                latest.push((uuid.to_owned(), status));
            }
        }
    }
    latest.retain(|(_, status)| !IN_PROGRESS_STATUSES.contains(status));
    let mut stored: HashMap<String, i64> = HashMap::new();
    for chunk in latest.chunks(1_000) {
        let params: Vec<SqlValue> = chunk
            .iter()
            .map(|(uuid, _)| SqlValue::Text(uuid.clone()))
            .collect();
        let sql = format!(
            "SELECT call_uuid, status FROM call_transcripts WHERE call_uuid IN ({})",
            placeholders(1, chunk.len())
        );
        for row in db.query(&sql, &params).await? {
            if let [SqlValue::Text(uuid), SqlValue::Integer(status)] = row.as_slice() {
                stored.insert(uuid.clone(), *status);
            }
        }
    }
    latest.retain(|(uuid, status)| stored.get(uuid) != Some(status));
    Ok(latest)
}

/// Fetches the transcripts of `due` (`(call_uuid, status)`), `concurrency` at a time, and
/// writes them inside the caller's transaction as they arrive (a buffer of up to
/// [`BUFFER_BYTES`] at a time); one that cannot be fetched is recorded as missing (`now`: the
/// time of the failure). A failure that every call would meet (see [`is_per_call`]), a
/// segment that cannot be stored, the database's, or a stop, is the error: the caller rolls
/// the transaction back.
pub async fn store(
    db: &mut Db,
    client: &Client,
    due: Vec<(String, i64)>,
    concurrency: usize,
    now: i64,
    cancel: &CancellationToken,
) -> Result<Stored> {
    let mut outcome = Stored::default();
    if due.is_empty() {
        return Ok(outcome);
    }
    let statuses: HashMap<String, i64> = due.iter().cloned().collect();
    let uuids = futures_util::stream::iter(due.into_iter().map(|(uuid, _)| uuid));
    let mut stream = client.transcripts(uuids).concurrency(concurrency);
    let mut buffer: Vec<Transcript> = Vec::new();
    let mut buffered = 0;
    loop {
        let next = tokio::select! {
            next = stream.next() => next,
            _ = cancel.cancelled() => return Err(Error::Cancelled),
        };
        let Some((call_uuid, result)) = next else {
            break;
        };
        let status = statuses.get(&call_uuid).copied().unwrap_or_default();
        let response = match result {
            Ok(response) => response,
            Err(error) if is_per_call(&error) => {
                record_missing(db, &call_uuid, status, &error, now).await?;
                outcome.missing += 1;
                outcome.first_missing.get_or_insert(error.kind());
                continue;
            }
            Err(error) => {
                return Err(Error::Api {
                    context: Some(format!(
                        "the transcript of call {} (nothing of this transaction was committed)",
                        ccsqm_client::visible(&call_uuid)
                    )),
                    source: error,
                })
            }
        };
        let mut segments: Vec<Vec<SqlValue>> = response
            .segments
            .iter()
            .map(|segment| crate::row::row(segment, SEGMENT_COLUMNS))
            .collect::<Result<_, _>>()
            .map_err(|e| {
                Error::Unstorable(format!(
                    "a segment of the transcript of call {} cannot be stored: {e}",
                    ccsqm_client::visible(&call_uuid)
                ))
            })?;
        drop(response);
        if db.is_postgres() {
            let mut replaced: Vec<&str> = Vec::new();
            for segment in &mut segments {
                for (value, column) in segment.iter_mut().zip(SEGMENT_COLUMNS) {
                    if value.replace_nul(column.sql) && !replaced.contains(&column.name) {
                        replaced.push(column.name);
                    }
                }
            }
            if !replaced.is_empty() {
                outcome.warnings.push(format!(
                    "the transcript of call {}: {} {} NUL characters, which PostgreSQL cannot \
                     store: each stored as U+FFFD",
                    ccsqm_client::visible(&call_uuid),
                    replaced.join(", "),
                    if replaced.len() == 1 { "holds" } else { "hold" },
                ));
            }
        }
        let transcript = Transcript {
            call_uuid,
            status,
            segments,
        };
        buffered += transcript.size();
        buffer.push(transcript);
        if buffered >= BUFFER_BYTES || buffer.len() >= BUFFER_TRANSCRIPTS {
            outcome.stored += write(db, std::mem::take(&mut buffer), now).await?;
            buffered = 0;
        }
    }
    outcome.stored += write(db, buffer, now).await?;
    Ok(outcome)
}

/// Whether a transcript's failure is its call's own (recorded as missing, the call stored),
/// rather than one every call would meet (credentials refused, no connection, a request the
/// client refused to send), which fails the transaction.
pub fn is_per_call(error: &ApiError) -> bool {
    !matches!(
        error.kind(),
        ErrorKind::Auth | ErrorKind::Network | ErrorKind::InvalidRequest
    )
}

/// Records in `missing_transcripts` that the transcript of `call_uuid` (at `status`) could not
/// be fetched: its first and last failure, how often, and the last error (made visible).
async fn record_missing(
    db: &mut Db,
    call_uuid: &str,
    status: i64,
    error: &ApiError,
    now: i64,
) -> Result<()> {
    let message = ccsqm_client::visible(&error.to_string()).into_owned();
    db.execute(
        "INSERT INTO missing_transcripts (call_uuid, status, tries, first_failed_at, \
         last_failed_at, error) VALUES ($1, $2, 1, $3, $3, $4) ON CONFLICT (call_uuid) DO \
         UPDATE SET status = excluded.status, tries = missing_transcripts.tries + 1, \
         last_failed_at = excluded.last_failed_at, error = excluded.error",
        &[
            SqlValue::Text(call_uuid.to_owned()),
            SqlValue::Integer(status),
            SqlValue::Integer(now),
            SqlValue::Text(message),
        ],
    )
    .await?;
    Ok(())
}

/// The missing transcripts to try again: of calls uploaded from `horizon` on, whose status
/// (as stored now) is final, that did not fail since `since` (this run's start: a transcript
/// is tried once per run). `(call_uuid, status)`, at most `limit`.
pub async fn retry_due(
    db: &mut Db,
    horizon: i64,
    since: i64,
    limit: usize,
) -> Result<Vec<(String, i64)>> {
    let sql = format!(
        "SELECT m.call_uuid, c.\"{STATUS_COLUMN}\" FROM missing_transcripts m JOIN calls c \
         ON c.\"{KEY}\" = m.call_uuid WHERE c.upload_time >= $1 AND m.last_failed_at < $2 \
         AND c.\"{STATUS_COLUMN}\" IS NOT NULL AND NOT ({}) ORDER BY m.call_uuid LIMIT $3",
        in_progress("c")
    );
    let rows = db
        .query(
            &sql,
            &[
                SqlValue::Integer(horizon),
                SqlValue::Integer(since),
                SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)),
            ],
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [SqlValue::Text(uuid), SqlValue::Integer(status)] => Some((uuid.clone(), *status)),
            _ => None,
        })
        .collect())
}

/// The missing transcripts: of calls uploaded from `horizon` on (tried again by later runs),
/// before it (no longer tried), and of those, how many failed since `since`.
pub async fn missing_counts(db: &mut Db, horizon: i64, since: i64) -> Result<Missing> {
    let sql = format!(
        "SELECT COUNT(*) FILTER (WHERE c.upload_time IS NULL OR c.upload_time >= $1), \
         COUNT(*) FILTER (WHERE c.upload_time < $1), \
         COUNT(*) FILTER (WHERE m.last_failed_at >= $2) \
         FROM missing_transcripts m LEFT JOIN calls c ON c.\"{KEY}\" = m.call_uuid"
    );
    let rows = db
        .query(
            &sql,
            &[SqlValue::Integer(horizon), SqlValue::Integer(since)],
        )
        .await?;
    let row = rows.first();
    let count = |i: usize| {
        row.and_then(|r| r.get(i))
            .and_then(SqlValue::as_i64)
            .unwrap_or(0)
    };
    Ok(Missing {
        retried: count(0),
        past_horizon: count(1),
        failed_this_run: count(2),
    })
}

/// How many transcripts are missing.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Missing {
    /// Of calls within the horizon: tried again by later runs.
    pub retried: i64,
    /// Of calls uploaded before it: no longer tried.
    pub past_horizon: i64,
    /// Of those, how many failed in this run.
    pub failed_this_run: i64,
}

/// `<alias>.status IN (...)`: the statuses that are not final.
fn in_progress(alias: &str) -> String {
    let codes: Vec<String> = IN_PROGRESS_STATUSES.iter().map(i64::to_string).collect();
    format!("{alias}.\"{STATUS_COLUMN}\" IN ({})", codes.join(", "))
}

/// Writes `transcripts` inside the caller's transaction: each call's segments replace those
/// stored, its `call_transcripts` row records the status and time (`now`), and it is no longer
/// missing. Returns how many transcripts it wrote.
async fn write(db: &mut Db, transcripts: Vec<Transcript>, now: i64) -> Result<i64> {
    for chunk in transcripts.chunks(1_000) {
        let keys: Vec<SqlValue> = chunk
            .iter()
            .map(|t| SqlValue::Text(t.call_uuid.clone()))
            .collect();
        for table in ["call_segments", "call_transcripts", "missing_transcripts"] {
            let column = match table {
                "missing_transcripts" => "call_uuid",
                _ => KEY,
            };
            let sql = format!(
                "DELETE FROM {table} WHERE \"{column}\" IN ({})",
                placeholders(1, keys.len())
            );
            db.execute(&sql, &keys).await?;
        }
        let mut params = Vec::with_capacity(chunk.len() * 4);
        for t in chunk {
            params.push(SqlValue::Text(t.call_uuid.clone()));
            params.push(SqlValue::Integer(t.status));
            params.push(SqlValue::Integer(
                i64::try_from(t.segments.len()).unwrap_or(i64::MAX),
            ));
            params.push(SqlValue::Integer(now));
        }
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", placeholders(1 + i * 4, 4)))
            .collect();
        db.execute(
            &format!(
                "INSERT INTO call_transcripts (call_uuid, status, segments, fetched_at) VALUES {}",
                values.join(", ")
            ),
            &params,
        )
        .await?;
    }
    let width = 2 + SEGMENT_COLUMNS.len();
    let columns: Vec<String> = [KEY, SEGMENT_ORDER]
        .into_iter()
        .chain(SEGMENT_COLUMNS.iter().map(|c| c.name))
        .map(|name| format!("\"{name}\""))
        .collect();
    // Each segment's key and order, then its cells, by reference (no cell is copied).
    let heads: Vec<[SqlValue; 2]> = transcripts
        .iter()
        .flat_map(|t| {
            (0..t.segments.len()).map(|i| {
                [
                    SqlValue::Text(t.call_uuid.clone()),
                    SqlValue::Integer(i64::try_from(i + 1).unwrap_or(i64::MAX)),
                ]
            })
        })
        .collect();
    let cells: Vec<&Vec<SqlValue>> = transcripts.iter().flat_map(|t| &t.segments).collect();
    let per_statement = (MAX_PARAMETERS / width).max(1);
    for (heads, cells) in heads.chunks(per_statement).zip(cells.chunks(per_statement)) {
        let values: Vec<String> = (0..heads.len())
            .map(|i| format!("({})", placeholders(1 + i * width, width)))
            .collect();
        let params: Vec<&SqlValue> = heads
            .iter()
            .zip(cells)
            .flat_map(|(head, cells)| head.iter().chain(cells.iter()))
            .collect();
        db.execute(
            &format!(
                "INSERT INTO call_segments ({}) VALUES {}",
                columns.join(", "),
                values.join(", ")
            ),
            &params,
        )
        .await?;
    }
    Ok(i64::try_from(transcripts.len()).unwrap_or(i64::MAX))
}

/// `$first, $first+1, …` (`count` of them).
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
