//! What a database of `ccsqm sync` holds: the checkpoint, the calls still in progress, the
//! missing transcripts and the recent runs, as data ([`Status`], whose `Display` is what
//! `ccsqm sync status` prints). It only reads: the database is not created, migrated or
//! locked (SQLite: opened read-only, creating no file beside it; see `db::open_to_read`). A
//! run recorded as `running` whose sync no longer holds the database's lock (killed, its
//! connection lost, its server restarted) is shown as interrupted.

use std::fmt::Write as _;

use crate::columns::in_progress_list;
use crate::db::{Access, Db};
use crate::generated::{IN_PROGRESS_STATUSES, SCHEMA_HASH, UNKNOWN_COLUMN};
use crate::migrate;
use crate::schema::SqlValue;
use crate::time::utc;
use crate::{DbError, DbUrl, Result};

/// What a database holds.
#[derive(Clone, Debug)]
pub struct Status {
    /// The database's URL, without its password.
    pub database: String,
    /// The `ccsqm` that wrote it, its migrations and its schema's hash.
    pub written_by: Option<String>,
    /// How many migrations were applied.
    pub migrations: i64,
    /// The hash of its tables' schema.
    pub schema_hash: Option<String>,
    /// What the next sync would add: columns and tables of this version's schema.
    pub upgrade: Option<(usize, usize)>,
    /// Changes made by hand to the tables.
    pub notes: Vec<String>,
    /// How reading the database went, when a person should hear it (`ccsqm sync status`
    /// says it on stderr): read without its write-ahead log, say.
    pub read_notes: Vec<String>,
    /// A refill due (columns recreated): `transcripts` or `calls`.
    pub refill: Option<String>,
    /// The checkpoint: calls uploaded up to (Unix seconds), the run, when committed.
    pub checkpoint: Option<(i64, i64, i64)>,
    /// The calls stored.
    pub calls: i64,
    /// Of those, in progress.
    pub in_progress: i64,
    /// Of those, the calls stored with keys the spec does not name (their column
    /// `unknown_fields` is not `NULL`); `None` before the column is added (by the next sync).
    pub with_unknown_fields: Option<i64>,
    /// The missing transcripts: how many, and the latest ten.
    pub missing_transcripts: (i64, Vec<MissingTranscript>),
    /// The latest runs, newest first.
    pub runs: Vec<Run>,
}

/// A transcript that could not be fetched.
#[derive(Clone, Debug)]
pub struct MissingTranscript {
    /// The call.
    pub call_uuid: String,
    /// How often it failed.
    pub tries: i64,
    /// When it failed last (Unix seconds).
    pub last_failed_at: Option<i64>,
    /// The last error.
    pub error: String,
}

/// A run of the sync.
#[derive(Clone, Debug)]
pub struct Run {
    /// Its number.
    pub id: Option<i64>,
    /// When it started and ended (Unix seconds).
    pub started_at: Option<i64>,
    /// When it ended.
    pub finished_at: Option<i64>,
    /// `done`, `failed`, `interrupted` (also one recorded as running whose sync is gone), or
    /// `running`.
    pub state: String,
    /// Its window of upload times (`None`: from the first call).
    pub window_from: Option<i64>,
    /// The window's bound.
    pub window_to: Option<i64>,
    /// Calls inserted, updated, unchanged; windows read again; calls in progress within the
    /// horizon and past it.
    pub counts: [Option<i64>; 6],
    /// Its message: the error of a failed run, notes of a finished one.
    pub message: String,
}

/// The status of the database at `url` (its latest `runs` runs).
pub async fn status(url: &DbUrl, runs: u64) -> Result<Status> {
    let shown = url.shown();
    let mut db = Db::open(url, Access::Read).await?;
    let state = migrate::inspect(&mut db).await?;
    let plan = migrate::plan(&state, &shown)?;
    if plan == migrate::Plan::Create {
        return Err(DbError(format!(
            "{shown}: empty: `ccsqm sync` has not written to it yet"
        ))
        .into());
    }
    let notes = migrate::hand_made(&state);
    let read_notes = db.notes();
    let meta = state.meta.clone().unwrap_or_default();
    let migrations = scalar(&mut db, "SELECT COUNT(*) FROM schema_migrations").await?;
    let checkpoint = db
        .query::<SqlValue>(
            "SELECT upload_to, run_id, updated_at FROM sync_checkpoint WHERE name = 'calls'",
            &[],
        )
        .await?;
    let checkpoint = match checkpoint.first().map(|r| r.as_slice()) {
        Some([SqlValue::Integer(to), SqlValue::Integer(run), SqlValue::Integer(at)]) => {
            Some((*to, *run, *at))
        }
        _ => None,
    };
    let calls = scalar(&mut db, "SELECT COUNT(*) FROM calls")
        .await?
        .unwrap_or(0);
    let in_progress = scalar(
        &mut db,
        &format!("SELECT COUNT(*) FROM calls WHERE {}", in_progress_list()),
    )
    .await?
    .unwrap_or(0);
    let with_unknown_fields = match state.calls.iter().any(|c| c == UNKNOWN_COLUMN) {
        true => scalar(
            &mut db,
            &format!("SELECT COUNT(*) FROM calls WHERE \"{UNKNOWN_COLUMN}\" IS NOT NULL"),
        )
        .await?
        .or(Some(0)),
        false => None,
    };
    let mut missing_transcripts = (0, Vec::new());
    if state.tables.iter().any(|t| t == "missing_transcripts") {
        let latest = db
            .query::<SqlValue>(
                "SELECT call_uuid, tries, last_failed_at, error FROM missing_transcripts \
                 ORDER BY last_failed_at DESC, call_uuid LIMIT 10",
                &[],
            )
            .await?;
        let count = scalar(&mut db, "SELECT COUNT(*) FROM missing_transcripts")
            .await?
            .unwrap_or(0);
        missing_transcripts = (
            count,
            latest
                .into_iter()
                .map(|row| {
                    let text = |i: usize| {
                        row.get(i)
                            .and_then(SqlValue::as_str)
                            .unwrap_or("")
                            .to_owned()
                    };
                    MissingTranscript {
                        call_uuid: text(0),
                        tries: row.get(1).and_then(SqlValue::as_i64).unwrap_or(0),
                        last_failed_at: row.get(2).and_then(SqlValue::as_i64),
                        error: text(3),
                    }
                })
                .collect(),
        );
    }
    let rows = db
        .query(
            "SELECT id, started_at, finished_at, state, window_from, window_to, inserted, \
             updated, unchanged, rechecked, pending, past_horizon, message FROM sync_runs \
             ORDER BY id DESC LIMIT $1",
            &[SqlValue::Integer(i64::try_from(runs).unwrap_or(10))],
        )
        .await?;
    // Whether the latest run, when recorded as running, still is: a sync holds the lock.
    let latest = rows
        .first()
        .and_then(|r| r.first())
        .and_then(SqlValue::as_i64);
    let running = rows
        .iter()
        .any(|r| r.get(3).and_then(SqlValue::as_str) == Some("running"));
    let held = match running {
        true => Some(db.lock_held().await.map_err(|e| e.0)),
        false => None,
    };
    let runs = rows
        .into_iter()
        .map(|run| {
            let id = run.first().and_then(SqlValue::as_i64);
            let int = |i: usize| run.get(i).and_then(SqlValue::as_i64);
            let text = |i: usize| run.get(i).and_then(SqlValue::as_str).unwrap_or("");
            let state = match text(3) {
                "running" => match &held {
                    Some(Ok(true)) if id == latest => "running".to_owned(),
                    Some(Err(e)) if id == latest => format!(
                        "running (or interrupted: whether a sync holds the database's lock \
                         could not be told: {e})"
                    ),
                    _ => format!("interrupted ({})", migrate::STALE),
                },
                other => other.to_owned(),
            };
            Run {
                id,
                started_at: int(1),
                finished_at: int(2),
                state,
                window_from: int(4),
                window_to: int(5),
                counts: [int(6), int(7), int(8), int(9), int(10), int(11)],
                message: text(12).to_owned(),
            }
        })
        .collect();
    Ok(Status {
        database: shown,
        written_by: meta.get("ccsqm_version").cloned(),
        migrations: migrations.unwrap_or(0),
        schema_hash: meta.get("schema_hash").cloned(),
        upgrade: match &plan {
            migrate::Plan::Upgrade(upgrade) => Some((upgrade.columns(), upgrade.tables.len())),
            _ => None,
        },
        notes,
        read_notes,
        refill: meta.get("refill").cloned(),
        checkpoint,
        calls,
        in_progress,
        with_unknown_fields,
        missing_transcripts,
        runs,
    })
}

/// As `ccsqm sync status` prints it (server text made visible: it cannot drive a terminal).
impl std::fmt::Display for Status {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = String::new();
        self.write(&mut text)?;
        out.write_str(&text)
    }
}

impl Status {
    fn write(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "database:   {} (written by ccsqm {}; {} migration(s); schema {}{})",
            self.database,
            self.written_by.as_deref().unwrap_or("?"),
            self.migrations,
            self.schema_hash.as_deref().unwrap_or("?"),
            match self.upgrade {
                Some((columns, tables)) => format!(
                    "; the next sync adds {columns} column(s) and {tables} table(s) of this \
                     ccsqm's schema {SCHEMA_HASH}"
                ),
                None => String::new(),
            }
        )?;
        for note in &self.notes {
            writeln!(out, "note:       {note}")?;
        }
        match self.refill.as_deref() {
            Some("transcripts") => writeln!(
                out,
                "refill:     due: columns of call_segments were recreated; the next sync with \
                 --with-transcripts reads every call and fetches the transcripts again"
            )?,
            Some(_) => writeln!(
                out,
                "refill:     due: columns of calls were recreated; the next sync reads every call \
                 again to fill them"
            )?,
            None => {}
        }
        match self.checkpoint {
            Some((to, run, at)) => writeln!(
                out,
                "checkpoint: calls uploaded up to {} (run {run}, committed {})",
                utc(to),
                utc(at)
            )?,
            None => writeln!(out, "checkpoint: none (no run has finished its window yet)")?,
        }
        let codes: Vec<String> = IN_PROGRESS_STATUSES.iter().map(i64::to_string).collect();
        writeln!(
            out,
            "calls:      {}, of which {} in progress (status {})",
            self.calls,
            self.in_progress,
            codes.join(", ")
        )?;
        if let Some(count) = self.with_unknown_fields.filter(|&n| n > 0) {
            writeln!(
                out,
                "drift:      {count} call(s) stored with fields spec/ccsqm.yaml does not name \
                 (column {UNKNOWN_COLUMN}; the runs below say which): describe them in \
                 spec/ccsqm.yaml, then run `cargo xtask codegen`"
            )?;
        }
        let (count, latest) = &self.missing_transcripts;
        if *count > 0 {
            writeln!(
                out,
                "missing transcripts: {count} (their calls are stored; tried again by each run \
                 while the call is within --horizon){}",
                if *count > 10 { "; the latest 10:" } else { ":" }
            )?;
        }
        for missing in latest {
            writeln!(
                out,
                "  call {}: {} tries, the last {}: {}",
                ccsqm_client::visible(&missing.call_uuid),
                missing.tries,
                missing.last_failed_at.map_or("?".to_owned(), utc),
                ccsqm_client::visible(&missing.error)
            )?;
        }
        writeln!(out, "recent runs:")?;
        if self.runs.is_empty() {
            writeln!(out, "  none")?;
        }
        for run in &self.runs {
            let number = |v: Option<i64>| v.map_or("-".to_owned(), |v| v.to_string());
            let [inserted, updated, unchanged, rechecked, pending, past] = run.counts;
            write!(
                out,
                "  run {}: {} {} from {} to {}: {} inserted, {} updated, {} unchanged, {} \
                 window(s) read again; in progress: {} (past the horizon: {})",
                number(run.id),
                run.started_at.map_or("?".to_owned(), utc),
                run.state,
                run.window_from.map_or("the first call".to_owned(), utc),
                run.window_to.map_or("?".to_owned(), utc),
                number(inserted),
                number(updated),
                number(unchanged),
                number(rechecked),
                number(pending),
                number(past),
            )?;
            if let Some(finished) = run.finished_at {
                write!(out, ", ended {}", utc(finished))?;
            }
            match run.message.as_str() {
                "" => writeln!(out)?,
                message => writeln!(out, ": {}", ccsqm_client::visible(message))?,
            }
        }
        Ok(())
    }
}

async fn scalar(db: &mut Db, sql: &str) -> Result<Option<i64>> {
    Ok(db
        .query::<SqlValue>(sql, &[])
        .await?
        .first()
        .and_then(|r| r.first())
        .and_then(SqlValue::as_i64))
}
