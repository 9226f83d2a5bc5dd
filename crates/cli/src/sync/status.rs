//! `ccsqm sync status`: the checkpoint, the calls still in progress and the recent runs, on
//! stdout. It only reads: the database is not created, migrated or locked (SQLite: opened
//! read-only, creating no file beside it; see `db::open_to_read`). A run recorded as
//! `running` whose sync no longer holds the database's lock (killed, its connection lost, its
//! server restarted) is shown as interrupted.

use std::io::Write;

use anyhow::Result;

use super::db::{Access, Db};
use super::generated::{IN_PROGRESS_STATUSES, SCHEMA_HASH};
use super::migrate;
use super::round::{in_progress_list, utc};
use super::schema::SqlValue;
use super::StatusArgs;

pub async fn show(args: &StatusArgs) -> Result<()> {
    let url = args.db.parse()?;
    let shown = url.shown();
    let mut db = Db::open(&url, Access::Read).await?;
    let state = migrate::inspect(&mut db).await?;
    let plan = migrate::plan(&state, &shown)?;
    if plan == migrate::Plan::Create {
        anyhow::bail!(super::DbError(format!(
            "{shown}: empty: `ccsqm sync` has not written to it yet"
        )));
    }
    let notes = migrate::hand_made(&state);
    let meta = state.meta.unwrap_or_default();
    let mut out = Vec::new();
    let migrations = scalar(&mut db, "SELECT COUNT(*) FROM schema_migrations").await?;
    writeln!(
        out,
        "database:   {shown} (written by ccsqm {}; {} migration(s); schema {}{})",
        meta.get("ccsqm_version").map_or("?", String::as_str),
        migrations.unwrap_or(0),
        meta.get("schema_hash").map_or("?", String::as_str),
        match &plan {
            migrate::Plan::Upgrade(upgrade) => format!(
                "; the next sync adds {} column(s) and {} table(s) of this ccsqm's schema \
                 {SCHEMA_HASH}",
                upgrade.columns(),
                upgrade.tables.len()
            ),
            _ => String::new(),
        }
    )?;
    for note in &notes {
        writeln!(out, "note:       {note}")?;
    }
    match meta.get("refill").map(String::as_str) {
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
    let checkpoint = db
        .query::<SqlValue>(
            "SELECT upload_to, run_id, updated_at FROM sync_checkpoint WHERE name = 'calls'",
            &[],
        )
        .await?;
    match checkpoint.first().map(|r| r.as_slice()) {
        Some([SqlValue::Integer(to), SqlValue::Integer(run), SqlValue::Integer(at)]) => writeln!(
            out,
            "checkpoint: calls uploaded up to {} (run {run}, committed {})",
            utc(*to),
            utc(*at)
        )?,
        _ => writeln!(out, "checkpoint: none (no run has finished its window yet)")?,
    }
    let calls = scalar(&mut db, "SELECT COUNT(*) FROM calls")
        .await?
        .unwrap_or(0);
    let in_progress = scalar(
        &mut db,
        &format!("SELECT COUNT(*) FROM calls WHERE {}", in_progress_list()),
    )
    .await?
    .unwrap_or(0);
    let codes: Vec<String> = IN_PROGRESS_STATUSES.iter().map(i64::to_string).collect();
    writeln!(
        out,
        "calls:      {calls}, of which {in_progress} in progress (status {})",
        codes.join(", ")
    )?;
    if state.tables.iter().any(|t| t == "missing_transcripts") {
        let missing = db
            .query::<SqlValue>(
                "SELECT call_uuid, tries, last_failed_at, error FROM missing_transcripts \
                 ORDER BY last_failed_at DESC, call_uuid LIMIT 10",
                &[],
            )
            .await?;
        let count = scalar(&mut db, "SELECT COUNT(*) FROM missing_transcripts")
            .await?
            .unwrap_or(0);
        if count > 0 {
            writeln!(
                out,
                "missing transcripts: {count} (their calls are stored; tried again by each run \
                 while the call is within --horizon){}",
                if count > 10 { "; the latest 10:" } else { ":" }
            )?;
        }
        for row in missing {
            let int = |i: usize| row.get(i).and_then(SqlValue::as_i64);
            let text = |i: usize| row.get(i).and_then(SqlValue::as_str).unwrap_or("");
            writeln!(
                out,
                "  call {}: {} tries, the last {}: {}",
                ccsqm_client::visible(text(0)),
                int(1).unwrap_or(0),
                int(2).map_or("?".to_owned(), utc),
                ccsqm_client::visible(text(3))
            )?;
        }
    }
    let runs = db
        .query(
            "SELECT id, started_at, finished_at, state, window_from, window_to, inserted, \
             updated, unchanged, rechecked, pending, past_horizon, message FROM sync_runs \
             ORDER BY id DESC LIMIT $1",
            &[SqlValue::Integer(i64::try_from(args.runs).unwrap_or(10))],
        )
        .await?;
    writeln!(out, "recent runs:")?;
    if runs.is_empty() {
        writeln!(out, "  none")?;
    }
    // Whether the latest run, when recorded as running, still is: a sync holds the lock.
    let latest = runs
        .first()
        .and_then(|r| r.first())
        .and_then(SqlValue::as_i64);
    let running = runs
        .iter()
        .any(|r| r.get(3).and_then(SqlValue::as_str) == Some("running"));
    let held = match running {
        true => Some(db.lock_held().await.map_err(|e| e.0)),
        false => None,
    };
    for run in runs {
        let id = run.first().and_then(SqlValue::as_i64);
        let state = match run.get(3).and_then(SqlValue::as_str).unwrap_or("") {
            "running" => match &held {
                Some(Ok(true)) if id == latest => "running".to_owned(),
                Some(Err(e)) if id == latest => format!(
                    "running (or interrupted: whether a sync holds the database's lock could \
                     not be told: {e})"
                ),
                _ => format!("interrupted ({})", migrate::STALE),
            },
            other => other.to_owned(),
        };
        let int = |i: usize| run.get(i).and_then(SqlValue::as_i64);
        let text = |i: usize| run.get(i).and_then(SqlValue::as_str).unwrap_or("");
        let number = |i: usize| int(i).map_or("-".to_owned(), |v| v.to_string());
        write!(
            out,
            "  run {}: {} {} from {} to {}: {} inserted, {} updated, {} unchanged, {} window(s) \
             read again; in progress: {} (past the horizon: {})",
            number(0),
            int(1).map_or("?".to_owned(), utc),
            state,
            int(4).map_or("the first call".to_owned(), utc),
            int(5).map_or("?".to_owned(), utc),
            number(6),
            number(7),
            number(8),
            number(9),
            number(10),
            number(11),
        )?;
        if let Some(finished) = int(2) {
            write!(out, ", ended {}", utc(finished))?;
        }
        match text(12) {
            "" => writeln!(out)?,
            message => writeln!(out, ": {}", ccsqm_client::visible(message))?,
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out)?;
    stdout.flush()?;
    Ok(())
}

async fn scalar(db: &mut Db, sql: &str) -> Result<Option<i64>> {
    Ok(db
        .query::<SqlValue>(sql, &[])
        .await?
        .first()
        .and_then(|r| r.first())
        .and_then(SqlValue::as_i64))
}
