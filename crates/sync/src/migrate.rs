//! Creating and migrating the tables: an empty database gets them all; a database of an older
//! `ccsqm` gets the columns its `calls` lacks (`ALTER TABLE … ADD COLUMN`, one migration); a
//! database that is not `ccsqm sync`'s, or that a newer `ccsqm` wrote, is refused before
//! anything is changed. Every migration is one transaction, recorded in `schema_migrations`.

use std::collections::HashMap;

use crate::db::{Db, DbError};
use crate::generated::{self, CALL_COLUMNS, KEY, SCHEMA_HASH, SEGMENT_COLUMNS, SEGMENT_ORDER};
use crate::schema::{
    Column, SqlValue, APPLICATION, BOOKKEEPING, CREATE_BOOKKEEPING, CREATE_MISSING_TRANSCRIPTS,
    CREATE_TRANSCRIPTS, LAYOUT_VERSION, TABLES, TRANSCRIPT_TABLES, VIEW,
};

/// What a database holds, read before anything is written.
pub struct State {
    /// `ccsqm_meta`'s entries; `None` when it has no such table.
    pub meta: Option<HashMap<String, String>>,
    /// Its tables.
    pub tables: Vec<String>,
    /// The columns of `calls`, when it has one.
    pub calls: Vec<String>,
    /// The columns of `call_segments`, when it has one.
    pub segments: Vec<String>,
    /// The columns of `calls` and `call_segments` that a row must fill (`NOT NULL` without a
    /// default), as `(table, column)`.
    pub required: Vec<(String, String)>,
}

/// What to do to bring it to this `ccsqm`'s schema.
#[derive(Debug, PartialEq)]
pub enum Plan {
    /// An empty database: every table.
    Create,
    /// Columns of the spec that `calls` or `call_segments` lack, and the tables of
    /// `--with-transcripts` it lacks (a database of an older `ccsqm`).
    Upgrade(Upgrade),
    /// Nothing.
    UpToDate,
}

/// What a database of an older `ccsqm` lacks.
#[derive(Debug, Default, PartialEq)]
pub struct Upgrade {
    /// Columns of `calls`.
    pub calls: Vec<&'static Column>,
    /// Tables of `--with-transcripts` (a missing `call_segments` is created whole).
    pub tables: Vec<&'static str>,
    /// Columns of an existing `call_segments`.
    pub segments: Vec<&'static Column>,
    /// Bookkeeping columns of `calls` (dropped by hand): recreated, set to the sync's clock.
    pub bookkeeping: Vec<&'static str>,
}

impl Upgrade {
    /// How many columns it adds.
    pub fn columns(&self) -> usize {
        self.calls.len() + self.segments.len() + self.bookkeeping.len()
    }
}

/// Reads what the database holds.
pub async fn inspect(db: &mut Db) -> Result<State, DbError> {
    let tables = db.tables().await?;
    let meta = match tables.iter().any(|t| t == "ccsqm_meta") {
        true => Some(
            db.query::<SqlValue>("SELECT key, value FROM ccsqm_meta", &[])
                .await?
                .into_iter()
                .filter_map(|row| match <[SqlValue; 2]>::try_from(row) {
                    Ok([SqlValue::Text(k), SqlValue::Text(v)]) => Some((k, v)),
                    _ => None,
                })
                .collect(),
        ),
        false => None,
    };
    let calls = match tables.iter().any(|t| t == "calls") {
        true => db.columns("calls").await?,
        false => Vec::new(),
    };
    let segments = match tables.iter().any(|t| t == "call_segments") {
        true => db.columns("call_segments").await?,
        false => Vec::new(),
    };
    let mut required = Vec::new();
    for table in ["calls", "call_segments"] {
        if tables.iter().any(|t| t == table) {
            for column in db.required_columns(table).await? {
                required.push((table.to_owned(), column));
            }
        }
    }
    Ok(State {
        meta,
        tables,
        calls,
        segments,
        required,
    })
}

/// Whether the database is `ccsqm sync`'s and this `ccsqm` can use it, and what it needs.
pub fn plan(state: &State, shown: &str) -> Result<Plan, DbError> {
    let Some(meta) = &state.meta else {
        if state.tables.is_empty() {
            return Ok(Plan::Create);
        }
        return Err(DbError(format!(
            "{shown}: this database has tables ({}) but none of `ccsqm sync`'s bookkeeping \
             (ccsqm_meta): it is not ccsqm's, and was left untouched; give another --db",
            list(&state.tables, 5)
        )));
    };
    if meta.get("application").map(String::as_str) != Some(APPLICATION) {
        return Err(DbError(format!(
            "{shown}: its ccsqm_meta table is not `ccsqm sync`'s (no application = {APPLICATION:?}): \
             the database was left untouched; give another --db"
        )));
    }
    let layout: i64 = meta
        .get("layout_version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(i64::MAX);
    let writer = meta.get("ccsqm_version").map_or("?", String::as_str);
    if layout > LAYOUT_VERSION {
        return Err(DbError(format!(
            "{shown}: written by a newer ccsqm ({writer}, table layout {layout}; this one reads \
             layout {LAYOUT_VERSION}): upgrade ccsqm; the database was left untouched"
        )));
    }
    let missing_tables: Vec<&str> = TABLES
        .iter()
        .copied()
        .filter(|t| !state.tables.iter().any(|have| have == t))
        .collect();
    if !missing_tables.is_empty() {
        return Err(DbError(format!(
            "{shown}: `ccsqm sync`'s tables {} are missing: the database was changed by hand; \
             it was left untouched",
            missing_tables.join(", ")
        )));
    }
    let newer = written_by_newer(meta);
    let call_names = CALL_COLUMNS.iter().map(|c| c.name).chain(BOOKKEEPING);
    check_columns(
        shown,
        "calls",
        &state.calls,
        call_names,
        &[KEY],
        newer,
        writer,
    )?;
    let has_segments = state.tables.iter().any(|t| t == "call_segments");
    let segment_names = [KEY, SEGMENT_ORDER]
        .into_iter()
        .chain(SEGMENT_COLUMNS.iter().map(|c| c.name));
    if has_segments {
        check_columns(
            shown,
            "call_segments",
            &state.segments,
            segment_names,
            &[KEY, SEGMENT_ORDER],
            newer,
            writer,
        )?;
    }
    // A column ccsqm does not fill, that its inserts would leave NULL against NOT NULL.
    let filled = |table: &str, column: &str| match table {
        "calls" => CALL_COLUMNS.iter().any(|c| c.name == column) || BOOKKEEPING.contains(&column),
        _ => {
            column == KEY
                || column == SEGMENT_ORDER
                || SEGMENT_COLUMNS.iter().any(|c| c.name == column)
        }
    };
    if let Some((table, column)) = state.required.iter().find(|(t, c)| !filled(t, c)) {
        return Err(DbError(format!(
            "{shown}: column {column} of table {table} is not ccsqm's (added by hand?) and is \
             NOT NULL without a default: the rows ccsqm inserts cannot fill it; give it a \
             default (ALTER TABLE {table} ALTER COLUMN \"{column}\" SET DEFAULT …; SQLite: \
             add it again with one) or drop it, and run again; the database was left untouched"
        )));
    }
    let upgrade = Upgrade {
        calls: CALL_COLUMNS
            .iter()
            .filter(|c| !state.calls.iter().any(|have| have == c.name))
            .collect(),
        tables: TRANSCRIPT_TABLES
            .iter()
            .copied()
            .filter(|t| !state.tables.iter().any(|have| have == t))
            .collect(),
        segments: match has_segments {
            true => SEGMENT_COLUMNS
                .iter()
                .filter(|c| !state.segments.iter().any(|have| have == c.name))
                .collect(),
            false => Vec::new(),
        },
        bookkeeping: BOOKKEEPING
            .iter()
            .copied()
            .filter(|b| !state.calls.iter().any(|have| have == b))
            .collect(),
    };
    Ok(match upgrade == Upgrade::default() {
        true => Plan::UpToDate,
        false => Plan::Upgrade(upgrade),
    })
}

/// Whether a newer `ccsqm` wrote the database: its recorded schema is not this one's, and its
/// writer's version is not known to be this one's or older.
fn written_by_newer(meta: &HashMap<String, String>) -> bool {
    if meta.get("schema_hash").map(String::as_str) == Some(SCHEMA_HASH) {
        return false;
    }
    match meta.get("ccsqm_version").and_then(|v| version(v)) {
        Some(writer) => version(env!("CARGO_PKG_VERSION")).is_none_or(|this| writer > this),
        None => true,
    }
}

/// `1.2.3` (and `1.2.3+build`, `1.2.3-pre`) as numbers, to compare.
fn version(text: &str) -> Option<Vec<u64>> {
    let core = text.split(['+', '-']).next()?;
    core.split('.').map(|n| n.parse().ok()).collect()
}

/// The columns of `table` (`have`) against those this `ccsqm` writes (`ours`): columns it
/// does not know are a newer `ccsqm`'s (refused), or else kept (see [`hand_made`]) unless
/// one of its own is missing too (a column renamed by hand: refused, naming both); a missing
/// key is refused (the table cannot be rebuilt in place). Missing columns of its own are
/// recreated (see [`Upgrade`]).
fn check_columns<'a>(
    shown: &str,
    table: &str,
    have: &[String],
    ours: impl Iterator<Item = &'a str>,
    keys: &[&str],
    newer: bool,
    writer: &str,
) -> Result<(), DbError> {
    let ours: Vec<&str> = ours.collect();
    let unknown: Vec<String> = have
        .iter()
        .filter(|c| !ours.contains(&c.as_str()))
        .cloned()
        .collect();
    let missing: Vec<String> = ours
        .iter()
        .filter(|c| !have.iter().any(|h| h == *c))
        .map(|c| c.to_string())
        .collect();
    if !unknown.is_empty() && newer {
        return Err(DbError(format!(
            "{shown}: written by a newer ccsqm ({writer}): its {table} table has columns this \
             one ({}) does not know ({}): upgrade ccsqm; the database was left untouched",
            env!("CARGO_PKG_VERSION"),
            list(&unknown, 5)
        )));
    }
    if !unknown.is_empty() && !missing.is_empty() {
        return Err(DbError(format!(
            "{shown}: table {table}: ccsqm's column(s) {} are missing and {} are not ccsqm's: \
             renamed by hand? rename back (ALTER TABLE {table} RENAME COLUMN \"{}\" TO \"{}\"), \
             or drop the unknown column(s) and ccsqm recreates its own, and run again; the \
             database was left untouched",
            list(&missing, 5),
            list(&unknown, 5),
            unknown[0],
            missing[0]
        )));
    }
    if let Some(key) = keys.iter().find(|k| missing.iter().any(|m| m == *k)) {
        return Err(DbError(format!(
            "{shown}: table {table} has no column {key}, its key (dropped by hand?): it cannot \
             be repaired in place; restore it, or move the table away (ALTER TABLE {table} \
             RENAME TO …) for ccsqm to create it again; the database was left untouched"
        )));
    }
    Ok(())
}

/// The columns of `calls` and `call_segments` that are not ccsqm's (added by hand, or of an
/// older ccsqm's schema), said once per run: kept as they are, NULL (or their default) in the
/// rows ccsqm inserts, which name their columns.
pub fn hand_made(state: &State) -> Vec<String> {
    let calls = state.calls.iter().filter(|c| {
        !CALL_COLUMNS.iter().any(|k| k.name == c.as_str()) && !BOOKKEEPING.contains(&c.as_str())
    });
    let segments = state.segments.iter().filter(|c| {
        c.as_str() != KEY
            && c.as_str() != SEGMENT_ORDER
            && !SEGMENT_COLUMNS.iter().any(|k| k.name == c.as_str())
    });
    calls
        .map(|c| ("calls", c))
        .chain(segments.map(|c| ("call_segments", c)))
        .map(|(table, column)| {
            format!(
                "column {column} of table {table} is not ccsqm's (added by hand?): ccsqm leaves \
                 it alone (NULL, or its default, in the calls it inserts)"
            )
        })
        .collect()
}

/// The key in `ccsqm_meta` of a refill due: columns recreated in a table that held calls
/// (dropped by hand, or added to the spec since) are filled again by a run that reads every
/// call from the first one; `transcripts` when segments' columns were, whose transcripts are
/// fetched again (by a run with `--with-transcripts`).
const REFILL: &str = "refill";

/// A refill that is due ([`REFILL`]): the run about to start reads from the first call (the
/// checkpoint is set aside: the window's end sets it again). Its value: `calls` or
/// `transcripts`.
pub async fn begin_refill(db: &mut Db) -> Result<Option<String>, DbError> {
    let due = db
        .query(
            "SELECT value FROM ccsqm_meta WHERE key = $1",
            &[text(REFILL)],
        )
        .await?
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next())
        .and_then(|v| v.as_str().map(str::to_owned));
    if due.is_some() {
        db.execute(
            "DELETE FROM sync_checkpoint WHERE name = 'calls'",
            &[] as &[SqlValue],
        )
        .await?;
    }
    Ok(due)
}

/// After a run that began a refill of `kind` ([`begin_refill`]) succeeded: done (and
/// forgotten) when it read every call up to now (no `--until`) and, for `transcripts`, with
/// `--with-transcripts`; else still due. What to say.
pub async fn end_refill(
    db: &mut Db,
    kind: &str,
    until: bool,
    with_transcripts: bool,
) -> Result<String, DbError> {
    if until {
        return Ok(
            "the recreated columns were filled again up to --until: the next sync \
                   without --until fills them for the later calls"
                .into(),
        );
    }
    if kind == "transcripts" && !with_transcripts {
        return Ok(
            "the recreated columns of call_segments are still empty: the next sync \
                   with --with-transcripts reads every call and fetches the transcripts again"
                .into(),
        );
    }
    db.execute("DELETE FROM ccsqm_meta WHERE key = $1", &[text(REFILL)])
        .await?;
    Ok("the recreated columns were filled again for every call".into())
}

/// Runs recorded as `running` when a sync takes the lock ended without finishing (killed, or
/// their connection lost): marked `interrupted`. Their ids.
pub async fn close_stale_runs(db: &mut Db, now: i64) -> Result<Vec<i64>, DbError> {
    let ids: Vec<i64> = db
        .query::<SqlValue>(
            "SELECT id FROM sync_runs WHERE state = 'running' ORDER BY id",
            &[],
        )
        .await?
        .into_iter()
        .filter_map(|r| r.first().and_then(SqlValue::as_i64))
        .collect();
    if !ids.is_empty() {
        db.execute(
            "UPDATE sync_runs SET state = 'interrupted', message = $1 WHERE state = 'running'",
            &[SqlValue::Text(format!(
                "{STALE} (found by the sync of {})",
                crate::time::utc(now)
            ))],
        )
        .await?;
    }
    Ok(ids)
}

/// What `sync status` and the next sync say of a run that never finished.
pub const STALE: &str = "the process ended without finishing: killed or lost";

/// Carries out `plan` in one transaction; `now` in Unix seconds. Returns what was done, for
/// the log.
pub async fn apply(db: &mut Db, plan: &Plan, now: i64) -> Result<Option<String>, DbError> {
    let mut refill: Option<&str> = None;
    // Said on stderr after the description (which `schema_migrations` records).
    let mut said: Vec<String> = Vec::new();
    let (statements, description): (Vec<String>, String) = match plan {
        Plan::UpToDate => return Ok(None),
        Plan::Create => {
            let (calls, view) = create_statements(db);
            let mut statements: Vec<String> =
                CREATE_BOOKKEEPING.iter().map(|s| s.to_string()).collect();
            statements.push(calls.to_owned());
            statements.push(view.to_owned());
            statements.push(CREATE_TRANSCRIPTS.to_owned());
            statements.push(create_segments(db).to_owned());
            statements.push(CREATE_MISSING_TRANSCRIPTS.to_owned());
            (
                statements,
                format!(
                    "created the tables, with {} columns of calls",
                    CALL_COLUMNS.len()
                ),
            )
        }
        Plan::Upgrade(upgrade) => {
            let postgres = db.is_postgres();
            let (_, view) = create_statements(db);
            let mut statements = Vec::new();
            let mut done = Vec::new();
            if !upgrade.calls.is_empty() || !upgrade.bookkeeping.is_empty() {
                statements.push(format!("DROP VIEW IF EXISTS {VIEW}"));
                for c in &upgrade.calls {
                    let ty = if postgres { c.postgres } else { c.sqlite };
                    statements.push(format!("ALTER TABLE calls ADD COLUMN \"{}\" {ty}", c.name));
                }
                for b in &upgrade.bookkeeping {
                    statements.push(format!("ALTER TABLE calls ADD COLUMN \"{b}\" BIGINT"));
                    statements.push(format!("UPDATE calls SET \"{b}\" = {now}"));
                }
                statements.push(view.to_owned());
            }
            let held = |table: &str| format!("SELECT 1 FROM {table} LIMIT 1");
            if !upgrade.calls.is_empty() {
                let names: Vec<&str> = upgrade.calls.iter().map(|c| c.name).collect();
                done.push(format!("added columns {}", names.join(", ")));
                if !db.query::<SqlValue>(&held("calls"), &[]).await?.is_empty() {
                    refill = Some("calls");
                    said.push(
                        "the stored calls have no value in them yet: this sync reads every call \
                         again, from the first one, to fill them"
                            .into(),
                    );
                }
            }
            if !upgrade.bookkeeping.is_empty() {
                done.push(format!(
                    "recreated columns {} of calls (dropped by hand?), set to now for the stored \
                     calls",
                    upgrade.bookkeeping.join(", ")
                ));
            }
            for c in &upgrade.segments {
                let ty = if postgres { c.postgres } else { c.sqlite };
                statements.push(format!(
                    "ALTER TABLE call_segments ADD COLUMN \"{}\" {ty}",
                    c.name
                ));
            }
            if !upgrade.segments.is_empty() {
                let names: Vec<&str> = upgrade.segments.iter().map(|c| c.name).collect();
                done.push(format!(
                    "added columns {} of call_segments",
                    names.join(", ")
                ));
                if !db
                    .query::<SqlValue>(&held("call_segments"), &[])
                    .await?
                    .is_empty()
                {
                    // Every finished call's transcript is due again.
                    statements.push("DELETE FROM call_transcripts".into());
                    refill = Some("transcripts");
                    said.push(
                        "the stored segments have no value in them yet: the transcripts are \
                         fetched again by a sync with --with-transcripts, which reads every call \
                         again"
                            .into(),
                    );
                }
            }
            for table in &upgrade.tables {
                statements.push(match *table {
                    "call_segments" => create_segments(db).to_owned(),
                    "missing_transcripts" => CREATE_MISSING_TRANSCRIPTS.to_owned(),
                    _ => CREATE_TRANSCRIPTS.to_owned(),
                });
            }
            if !upgrade.tables.is_empty() {
                done.push(format!("created tables {}", upgrade.tables.join(", ")));
            }
            (statements, done.join("; "))
        }
    };
    if matches!(plan, Plan::Create) && !db.is_postgres() {
        // A new SQLite file's pages are 16 KiB (SQLite's default is 4): fewer pages to
        // split and to log as a sync inserts calls all over the index of their UUIDs (about
        // 10 % less time), and fewer to read for a dashboard's scans. It takes effect only in
        // a file with nothing written yet.
        db.batch("PRAGMA page_size = 16384").await?;
    }
    db.begin().await?;
    let result = async {
        for statement in &statements {
            db.batch(statement).await?;
        }
        let version = db
            .query::<SqlValue>(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await?
            .first()
            .and_then(|r| r.first())
            .and_then(SqlValue::as_i64)
            .unwrap_or(0)
            + 1;
        db.execute(
            "INSERT INTO schema_migrations (version, schema_hash, layout_version, applied_at, \
             ccsqm_version, description) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                SqlValue::Integer(version),
                SqlValue::Text(SCHEMA_HASH.to_owned()),
                SqlValue::Integer(LAYOUT_VERSION),
                SqlValue::Integer(now),
                SqlValue::Text(env!("CARGO_PKG_VERSION").to_owned()),
                SqlValue::Text(description.clone()),
            ],
        )
        .await?;
        for (key, value) in [
            ("application", APPLICATION.to_owned()),
            ("layout_version", LAYOUT_VERSION.to_string()),
            ("schema_hash", SCHEMA_HASH.to_owned()),
            ("ccsqm_version", env!("CARGO_PKG_VERSION").to_owned()),
        ]
        .into_iter()
        .chain(refill.map(|r| (REFILL, r.to_owned())))
        {
            db.execute("DELETE FROM ccsqm_meta WHERE key = $1", &[text(key)])
                .await?;
            db.execute(
                "INSERT INTO ccsqm_meta (key, value) VALUES ($1, $2)",
                &[text(key), SqlValue::Text(value)],
            )
            .await?;
        }
        Ok::<_, DbError>(())
    }
    .await;
    match result {
        Ok(()) => {
            if let Err(e) = db.commit().await {
                db.rollback().await;
                return Err(e);
            }
        }
        Err(e) => {
            db.rollback().await;
            return Err(e);
        }
    }
    said.insert(0, description);
    Ok(Some(said.join("; ")))
}

fn create_statements(db: &Db) -> (&'static str, &'static str) {
    match db.is_postgres() {
        true => (
            generated::postgres::CREATE_CALLS,
            generated::postgres::CREATE_VIEW,
        ),
        false => (
            generated::sqlite::CREATE_CALLS,
            generated::sqlite::CREATE_VIEW,
        ),
    }
}

fn create_segments(db: &Db) -> &'static str {
    match db.is_postgres() {
        true => generated::postgres::CREATE_SEGMENTS,
        false => generated::sqlite::CREATE_SEGMENTS,
    }
}

fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.to_owned())
}

fn list(names: &[String], at_most: usize) -> String {
    let mut shown: Vec<&str> = names.iter().take(at_most).map(String::as_str).collect();
    if names.len() > at_most {
        shown.push("…");
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(meta: Option<&[(&str, &str)]>, tables: &[&str], calls: &[&str]) -> State {
        let mut tables: Vec<&str> = tables.to_vec();
        if meta.is_some() {
            // A database of this ccsqm has the transcripts' tables too.
            tables.extend(TRANSCRIPT_TABLES);
        }
        State {
            segments: match meta.is_some() {
                true => [KEY, SEGMENT_ORDER]
                    .into_iter()
                    .chain(SEGMENT_COLUMNS.iter().map(|c| c.name))
                    .map(str::to_owned)
                    .collect(),
                false => Vec::new(),
            },
            meta: meta.map(|m| {
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
            tables: tables.iter().map(|t| t.to_string()).collect(),
            calls: calls.iter().map(|c| c.to_string()).collect(),
            required: Vec::new(),
        }
    }

    const OURS: &[(&str, &str)] = &[("application", APPLICATION), ("layout_version", "1")];

    fn all_columns() -> Vec<&'static str> {
        CALL_COLUMNS
            .iter()
            .map(|c| c.name)
            .chain(BOOKKEEPING)
            .collect()
    }

    #[test]
    fn an_empty_database_is_created_and_a_foreign_one_refused() {
        assert_eq!(plan(&state(None, &[], &[]), "db").unwrap(), Plan::Create);
        let err = plan(&state(None, &["orders"], &[]), "db").unwrap_err();
        assert!(err.0.contains("not ccsqm's"), "{err}");
        let err = plan(
            &state(Some(&[("application", "other")]), &["ccsqm_meta"], &[]),
            "db",
        )
        .unwrap_err();
        assert!(err.0.contains("not `ccsqm sync`'s"), "{err}");
    }

    #[test]
    fn missing_columns_are_added_and_unknown_ones_refused() {
        let columns = all_columns();
        assert_eq!(
            plan(&state(Some(OURS), &TABLES, &columns), "db").unwrap(),
            Plan::UpToDate
        );
        let fewer: Vec<&str> = columns.iter().copied().filter(|c| *c != "deal").collect();
        match plan(&state(Some(OURS), &TABLES, &fewer), "db").unwrap() {
            Plan::Upgrade(added) => {
                assert_eq!(
                    added.calls.iter().map(|c| c.name).collect::<Vec<_>>(),
                    ["deal"]
                );
                assert!(added.tables.is_empty() && added.segments.is_empty());
            }
            other => panic!("{other:?}"),
        }
        let mut more = columns.clone();
        more.push("drill_score");
        let err = plan(&state(Some(OURS), &TABLES, &more), "db").unwrap_err();
        assert!(
            err.0.contains("newer ccsqm") && err.0.contains("drill_score"),
            "{err}"
        );
    }

    #[test]
    fn the_transcripts_tables_and_columns_are_added_and_unknown_ones_refused() {
        let mut older = state(Some(OURS), &TABLES, &all_columns());
        older
            .tables
            .retain(|t| !TRANSCRIPT_TABLES.contains(&t.as_str()));
        older.segments.clear();
        match plan(&older, "db").unwrap() {
            Plan::Upgrade(u) => {
                assert_eq!(u.tables, TRANSCRIPT_TABLES);
                assert!(u.calls.is_empty() && u.segments.is_empty());
            }
            other => panic!("{other:?}"),
        }
        let mut fewer = state(Some(OURS), &TABLES, &all_columns());
        fewer.segments.retain(|c| c != "asr_text");
        match plan(&fewer, "db").unwrap() {
            Plan::Upgrade(u) => assert_eq!(
                u.segments.iter().map(|c| c.name).collect::<Vec<_>>(),
                ["asr_text"]
            ),
            other => panic!("{other:?}"),
        }
        let mut more = state(Some(OURS), &TABLES, &all_columns());
        more.segments.push("emotion".into());
        let err = plan(&more, "db").unwrap_err();
        assert!(
            err.0.contains("call_segments") && err.0.contains("emotion"),
            "{err}"
        );
    }

    /// The meta of a database this ccsqm wrote (its schema, its version).
    fn this_one() -> Vec<(&'static str, &'static str)> {
        vec![
            ("application", APPLICATION),
            ("layout_version", "1"),
            ("schema_hash", SCHEMA_HASH),
            ("ccsqm_version", env!("CARGO_PKG_VERSION")),
        ]
    }

    #[test]
    fn columns_changed_by_hand_are_told_from_a_newer_ccsqms() {
        let meta = this_one();
        // Added by hand: kept, said.
        let mut more = all_columns();
        more.push("my_note");
        let extra = state(Some(&meta), &TABLES, &more);
        assert_eq!(plan(&extra, "db").unwrap(), Plan::UpToDate);
        let notes = hand_made(&extra);
        assert!(
            notes.len() == 1 && notes[0].contains("my_note"),
            "{notes:?}"
        );
        // Renamed: both names, refused.
        let renamed: Vec<&str> = all_columns()
            .into_iter()
            .map(|c| if c == "deal" { "deal_flag" } else { c })
            .collect();
        let err = plan(&state(Some(&meta), &TABLES, &renamed), "db").unwrap_err();
        assert!(
            err.0.contains("renamed") && err.0.contains("deal_flag") && err.0.contains("deal"),
            "{err}"
        );
        assert!(!err.0.contains("newer"), "{err}");
        // The key dropped: refused.
        let keyless: Vec<&str> = all_columns().into_iter().filter(|c| *c != KEY).collect();
        let err = plan(&state(Some(&meta), &TABLES, &keyless), "db").unwrap_err();
        assert!(err.0.contains(KEY), "{err}");
        // A bookkeeping column dropped: recreated.
        let fewer: Vec<&str> = all_columns()
            .into_iter()
            .filter(|c| *c != "last_seen")
            .collect();
        match plan(&state(Some(&meta), &TABLES, &fewer), "db").unwrap() {
            Plan::Upgrade(u) => assert_eq!(u.bookkeeping, ["last_seen"]),
            other => panic!("{other:?}"),
        }
        // An older ccsqm's database (another schema, an older version): unknown columns kept.
        let older = [
            ("application", APPLICATION),
            ("layout_version", "1"),
            ("schema_hash", "0000000000000000"),
            ("ccsqm_version", "0.0.1"),
        ];
        assert!(plan(&state(Some(&older), &TABLES, &more), "db").is_ok());
        // A newer one's: refused, naming its version.
        let newer = [
            ("application", APPLICATION),
            ("layout_version", "1"),
            ("schema_hash", "0000000000000000"),
            ("ccsqm_version", "999.0.0"),
        ];
        let err = plan(&state(Some(&newer), &TABLES, &more), "db").unwrap_err();
        assert!(err.0.contains("newer ccsqm (999.0.0)"), "{err}");
        assert!(version("1.10.0+api.1") > version("1.9.3"));
    }

    #[test]
    fn a_newer_layout_is_refused() {
        let meta = [("application", APPLICATION), ("layout_version", "2")];
        let err = plan(&state(Some(&meta), &TABLES, &all_columns()), "db").unwrap_err();
        assert!(err.0.contains("newer ccsqm"), "{err}");
    }
}
