//! Upserting a page of calls by `call_uuid`, inside the caller's transaction, in a few
//! statements whatever the page's size: one query for the stored calls of the page, one
//! multi-row `INSERT` for the new ones, one `UPDATE` for each changed call (all its fields,
//! `last_seen` and `last_changed`), one `UPDATE` of `last_seen` for the unchanged ones.
//! Statements are prepared once per shape and reused (see [`Db`]).

use std::collections::HashMap;

use anyhow::Result;
use ccsqm_client::CallRecord;

use super::db::Db;
use super::generated::{CALL_COLUMNS, KEY};
use super::round::Counts;
use super::schema::{column_list, key_index, row_of, SqlValue};

/// The most parameters of one statement (SQLite allows 32766, PostgreSQL 65535).
const MAX_PARAMETERS: usize = 30_000;

/// A call the table cannot hold (no `call_uuid`): a failure of the server's data (exit 5).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MissingKey(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Insert,
    Update,
    Unchanged,
}

/// Upserts `records` (`now`: the sync's clock, Unix seconds) and counts them in `counts`, each
/// `call_uuid` once (a call repeated on the page: its last version).
pub async fn page(
    db: &mut Db,
    records: &[CallRecord],
    now: i64,
    counts: &mut Counts,
) -> Result<()> {
    let key_at = key_index();
    let mut planned: Vec<(String, Action, Vec<SqlValue>)> = Vec::with_capacity(records.len());
    let mut index: HashMap<String, usize> = HashMap::with_capacity(records.len());
    let mut rows = Vec::with_capacity(records.len());
    for record in records {
        let row = row_of(record);
        let Some(key) = row[key_at].as_str().map(str::to_owned) else {
            let call_id = record.call.call_id.as_deref().unwrap_or("?");
            anyhow::bail!(MissingKey(format!(
                "the server sent a call without {KEY} (call_id {call_id:?}): it cannot be \
                 stored (the table is keyed by {KEY}); nothing of its page was committed"
            )));
        };
        rows.push((key, row));
    }
    let stored = stored(db, rows.iter().map(|(k, _)| k.as_str())).await?;
    for (key, row) in rows {
        if let Some(&i) = index.get(&key) {
            let entry = &mut planned[i];
            if entry.2 != row {
                entry.2 = row;
                if entry.1 == Action::Unchanged {
                    entry.1 = Action::Update;
                }
            }
            continue;
        }
        let action = match stored.get(&key) {
            None => Action::Insert,
            Some(before) if *before == row => Action::Unchanged,
            Some(_) => Action::Update,
        };
        index.insert(key.clone(), planned.len());
        planned.push((key, action, row));
    }

    let inserts: Vec<&Vec<SqlValue>> = planned
        .iter()
        .filter(|(_, a, _)| *a == Action::Insert)
        .map(|(_, _, row)| row)
        .collect();
    insert(db, &inserts, now).await?;
    for (key, _, row) in planned.iter().filter(|(_, a, _)| *a == Action::Update) {
        update(db, key, row, now).await?;
    }
    let unchanged: Vec<&str> = planned
        .iter()
        .filter(|(_, a, _)| *a == Action::Unchanged)
        .map(|(k, _, _)| k.as_str())
        .collect();
    for chunk in unchanged.chunks(1_000) {
        let mut params = vec![SqlValue::Integer(now)];
        params.extend(chunk.iter().map(|k| SqlValue::Text((*k).to_owned())));
        let sql = format!(
            "UPDATE calls SET last_seen = $1 WHERE \"{KEY}\" IN ({})",
            placeholders(2, chunk.len())
        );
        db.execute(&sql, &params).await?;
    }
    for (_, action, _) in &planned {
        match action {
            Action::Insert => counts.inserted += 1,
            Action::Update => counts.updated += 1,
            Action::Unchanged => counts.unchanged += 1,
        }
    }
    Ok(())
}

/// The stored rows of `keys`, typed as their columns.
async fn stored<'a>(
    db: &mut Db,
    keys: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, Vec<SqlValue>>> {
    let keys: Vec<SqlValue> = keys.map(|k| SqlValue::Text(k.to_owned())).collect();
    let key_at = key_index();
    let mut stored = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(1_000) {
        let sql = format!(
            "SELECT {} FROM calls WHERE \"{KEY}\" IN ({})",
            column_list(),
            placeholders(1, chunk.len())
        );
        for row in db.query(&sql, chunk).await? {
            let row: Vec<SqlValue> = row
                .into_iter()
                .zip(CALL_COLUMNS)
                .map(|(v, c)| v.typed(c.sql))
                .collect();
            if let Some(key) = row[key_at].as_str() {
                stored.insert(key.to_owned(), row);
            }
        }
    }
    Ok(stored)
}

/// One multi-row `INSERT` (or a few, for a large page).
async fn insert(db: &mut Db, rows: &[&Vec<SqlValue>], now: i64) -> Result<()> {
    let width = CALL_COLUMNS.len();
    let per_statement = (MAX_PARAMETERS / width).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut params = Vec::with_capacity(1 + chunk.len() * width);
        params.push(SqlValue::Integer(now));
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({}, $1, $1, $1)", placeholders(2 + i * width, width)))
            .collect();
        for row in chunk {
            params.extend(row.iter().cloned());
        }
        let sql = format!(
            "INSERT INTO calls ({}, first_seen, last_seen, last_changed) VALUES {}",
            column_list(),
            values.join(", ")
        );
        db.execute(&sql, &params).await?;
    }
    Ok(())
}

async fn update(db: &mut Db, key: &str, row: &[SqlValue], now: i64) -> Result<()> {
    let n = CALL_COLUMNS.len();
    let sets: Vec<String> = CALL_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("\"{}\" = ${}", c.name, i + 1))
        .collect();
    let sql = format!(
        "UPDATE calls SET {}, last_seen = ${t}, last_changed = ${t} WHERE \"{KEY}\" = ${k}",
        sets.join(", "),
        t = n + 1,
        k = n + 2
    );
    let mut params = row.to_vec();
    params.push(SqlValue::Integer(now));
    params.push(SqlValue::Text(key.to_owned()));
    db.execute(&sql, &params).await?;
    Ok(())
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
    fn placeholders_are_numbered_from_the_first() {
        assert_eq!(super::placeholders(2, 3), "$2, $3, $4");
        assert_eq!(super::placeholders(1, 0), "");
    }
}
