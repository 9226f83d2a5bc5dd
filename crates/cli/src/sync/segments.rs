//! `ccsqm sync --with-transcripts`: each finished call's transcript (`appraisecall/detail`),
//! its segments in `call_segments` (one row per segment, keyed by `call_uuid` and
//! `segment_order`, from 1, in the transcript's order), and in `call_transcripts` the status of
//! the call it was fetched at. A call is fetched when its status is final (not one of
//! `x-enum-in-progress`) and no transcript of it is stored at that status: once, unless its
//! final status changes. The transcripts of a transaction's calls are fetched before it
//! begins, and written in it with the calls.

use std::collections::HashMap;

use anyhow::{Context, Result};
use ccsqm_client::Client;
use futures_util::StreamExt;

use super::db::Db;
use super::generated::{IN_PROGRESS_STATUSES, KEY, SEGMENT_COLUMNS, SEGMENT_ORDER, STATUS_COLUMN};
use super::schema::{column_index, key_index, SqlValue};
use super::upsert::Fetched;

/// The most parameters of one statement (SQLite allows 32766, PostgreSQL 65535).
const MAX_PARAMETERS: usize = 30_000;

/// One call's fetched transcript: its `call_uuid`, the call's status, its segments as rows of
/// [`SEGMENT_COLUMNS`].
pub struct Transcript {
    call_uuid: String,
    status: i64,
    segments: Vec<Vec<SqlValue>>,
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

/// Fetches the transcripts of `due`, `concurrency` at a time. The first failure (after the
/// client's retries) is the error: the transaction is not begun, nothing of it is written.
pub async fn fetch(
    client: &Client,
    due: Vec<(String, i64)>,
    concurrency: usize,
) -> Result<Vec<Transcript>> {
    let statuses: HashMap<String, i64> = due.iter().cloned().collect();
    let uuids = futures_util::stream::iter(due.into_iter().map(|(uuid, _)| uuid));
    let mut stream = client.transcripts(uuids).concurrency(concurrency);
    let mut fetched = Vec::with_capacity(statuses.len());
    while let Some((call_uuid, result)) = stream.next().await {
        let response = result.with_context(|| {
            format!(
                "the transcript of call {} (nothing of this page was committed)",
                ccsqm_client::visible(&call_uuid)
            )
        })?;
        let segments = response
            .segments
            .iter()
            .map(|segment| super::row::row(segment, SEGMENT_COLUMNS))
            .collect::<Result<_, _>>()
            .with_context(|| {
                format!(
                    "a segment of the transcript of call {} cannot be stored",
                    ccsqm_client::visible(&call_uuid)
                )
            })?;
        let status = statuses.get(&call_uuid).copied().unwrap_or_default();
        fetched.push(Transcript {
            call_uuid,
            status,
            segments,
        });
    }
    Ok(fetched)
}

/// Writes `transcripts` inside the caller's transaction: each call's segments replace those
/// stored, and its `call_transcripts` row records the status and time (`now`). Returns how
/// many transcripts it wrote.
pub async fn write(db: &mut Db, transcripts: &[Transcript], now: i64) -> Result<i64> {
    for chunk in transcripts.chunks(1_000) {
        let keys: Vec<SqlValue> = chunk
            .iter()
            .map(|t| SqlValue::Text(t.call_uuid.clone()))
            .collect();
        for table in ["call_segments", "call_transcripts"] {
            let sql = format!(
                "DELETE FROM {table} WHERE \"{KEY}\" IN ({})",
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
    let rows: Vec<Vec<SqlValue>> = transcripts
        .iter()
        .flat_map(|t| {
            t.segments.iter().enumerate().map(|(i, segment)| {
                let mut row = Vec::with_capacity(2 + segment.len());
                row.push(SqlValue::Text(t.call_uuid.clone()));
                row.push(SqlValue::Integer(i64::try_from(i + 1).unwrap_or(i64::MAX)));
                row.extend(segment.iter().cloned());
                row
            })
        })
        .collect();
    let width = 2 + SEGMENT_COLUMNS.len();
    let columns: Vec<String> = [KEY, SEGMENT_ORDER]
        .into_iter()
        .chain(SEGMENT_COLUMNS.iter().map(|c| c.name))
        .map(|name| format!("\"{name}\""))
        .collect();
    for chunk in rows.chunks((MAX_PARAMETERS / width).max(1)) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", placeholders(1 + i * width, width)))
            .collect();
        let params: Vec<SqlValue> = chunk.iter().flatten().cloned().collect();
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
