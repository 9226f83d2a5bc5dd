//! One run of `ccsqm sync` (and `--watch`'s rounds).
//!
//! The window is of **upload time**: the API filters by `upload_from`/`upload_to` (the calls
//! whose `upload_time` is within them), and a call is uploaded once, so that each call falls in
//! exactly one window however long after the call itself it was uploaded (`call_from`/`call_to`
//! would miss a call uploaded after its window was read). A run reads:
//!
//! 1. the calls uploaded from the checkpoint less `--overlap` (or from `--since`; without
//!    either, every call) to a bound fixed at its start (`--until`, default the server's time:
//!    see [`server_now`]), all call types and every documented status, page by page: the calls
//!    are upserted by `call_uuid` in transactions of whole pages (up to [`MAX_TRANSACTION`]
//!    calls), each with the run's counts; the window's last transaction also moves the
//!    checkpoint to the bound. A run that stops early leaves the checkpoint where it was, and
//!    the next run reads the window again (upserts are idempotent);
//! 2. then the older windows that still hold calls in progress (a status the spec's
//!    `x-enum-in-progress` lists), uploaded within `--horizon` of the bound, until their status
//!    is final: each window spans calls at most an hour apart;
//! 3. and it records what stayed in progress, within the horizon and past it.

use std::time::Duration;

use anyhow::{Context, Result};
use ccsqm_client::{ApiError, Client};
use futures_util::StreamExt;

use super::db::{Access, Db, DbError};
use super::generated::{IN_PROGRESS_STATUSES, STATUS_COLUMN};
use super::schema::SqlValue;
use super::stop::{Interrupted, Stop};
use super::{migrate, segments, upsert, url, SyncArgs};
use crate::args::Cli;
use crate::progress;
use crate::timearg::{self, Bound};
use crate::UsageError;

/// The checkpoint's name in `sync_checkpoint`.
const CHECKPOINT: &str = "calls";

/// The most calls of a transaction (whole pages: one page when `--limit` is larger): fewer
/// commits, each writing less of the key's index again (an index of UUIDs: a transaction of
/// N calls touches up to N of its pages; its new calls are written in the order of their keys,
/// so that neighbours share pages).
const MAX_TRANSACTION: usize = 20_000;

/// A transaction is committed sooner, at the end of a page, once it is this old: when calls
/// come slowly, what was read is committed every second or so.
const COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// ... or once it holds this many calls and none more has been read yet: the database does
/// not wait for a full transaction while it could write (the first one, say).
const MIN_TRANSACTION: usize = 1_000;

/// Pending calls further apart than this (in upload time) are re-read in separate windows.
const WINDOW_GAP: i64 = 3_600;

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    /// Transactions committed.
    pub commits: i64,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    /// Windows of calls in progress read again.
    pub rechecked: i64,
    /// Transcripts stored (`--with-transcripts`).
    pub transcripts: i64,
}

/// `ccsqm sync`.
pub async fn sync(cli: &Cli, args: &SyncArgs, flags: &clap::ArgMatches) -> Result<()> {
    let url = args.db.parse()?;
    let shown = url.shown();
    let now = jiff::Timestamp::now();
    let tz = jiff::tz::TimeZone::system();
    let time = |text: &Option<String>, bound| {
        text.as_deref()
            .map(|t| timearg::parse(t, bound, now, &tz))
            .transpose()
    };
    let since = time(&args.since, Bound::From).map_err(|e| UsageError(format!("--since: {e}")))?;
    let until = time(&args.until, Bound::To).map_err(|e| UsageError(format!("--until: {e}")))?;
    if let (Some(from), Some(to)) = (since, until) {
        if to < from {
            return Err(UsageError(format!(
                "--until {:?} ({}) is earlier than --since {:?} ({}): the window would be empty",
                args.until.as_deref().unwrap_or_default(),
                utc(to),
                args.since.as_deref().unwrap_or_default(),
                utc(from)
            ))
            .into());
        }
    }
    let (settings, _sandbox) = crate::target_of(&args.connection, flags).await?;
    let client = crate::connect(&settings, &args.connection)?;

    // Every check of the database before any request.
    if let url::DbUrl::Sqlite(path) = &url {
        create_default_folder(args, path)?;
    }
    let mut db = Db::open(&url, Access::Write).await?;
    // The lock first: what is read next cannot change until this sync ends.
    db.lock(&shown).await?;
    let state = migrate::inspect(&mut db).await?;
    let plan = migrate::plan(&state, &shown)?;
    if let Some(done) = migrate::apply(&mut db, &plan, now.as_second()).await? {
        eprintln!("ccsqm: {shown}: {done}");
    }
    for note in migrate::hand_made(&state) {
        eprintln!("ccsqm: {shown}: {note}");
    }
    let stale = migrate::close_stale_runs(&mut db, now.as_second()).await?;
    if !stale.is_empty() {
        let ids: Vec<String> = stale.iter().map(i64::to_string).collect();
        eprintln!(
            "ccsqm: {shown}: run(s) {} had not finished ({}): marked interrupted",
            ids.join(", "),
            migrate::STALE
        );
    }
    db.tune_for_sync().await?;

    let stop = Stop::install().context("listening for signals")?;
    let mut since = since;
    // Columns recreated in a table that held calls: this run reads every call to fill them.
    let mut refill = migrate::begin_refill(&mut db).await?;
    if refill.is_some() && since.take().is_some() {
        eprintln!("ccsqm: {shown}: --since set aside: this run reads every call again, from the first one, to fill the recreated columns");
    }
    loop {
        let bound = match until {
            Some(until) => until,
            None => tokio::select! {
                now = server_now(&client) => now?,
                stopped = stop.wait() => return Err(stopped.into()),
            },
        };
        let summary = run_once(&mut db, &client, cli, args, since, bound, &stop).await?;
        // `--since` is the first round's: the next ones go on from the checkpoint.
        since = None;
        eprintln!("ccsqm: {shown}: {summary}");
        if let Some(kind) = refill.take() {
            let said = migrate::end_refill(&mut db, &kind, until.is_some(), args.with_transcripts);
            eprintln!("ccsqm: {shown}: {}", said.await?);
        }
        let Some(interval) = args.watch else {
            return Ok(());
        };
        let pause = Duration::from_secs(u64::try_from(interval).unwrap_or(1));
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            stopped = stop.wait() => return Err(stopped.into()),
        }
    }
}

/// The server's clock, Unix seconds: the `Date` of its answer to a small request (a page of
/// one call uploaded in this machine's current second): the calls' upload times are the
/// server's, which may be ahead of this machine's clock, or run faster, as a live sandbox's
/// `--speed`. This machine's clock when the answer has no readable `Date`.
async fn server_now(client: &Client) -> Result<i64> {
    let here = jiff::Timestamp::now().as_second();
    let answer = client.details_answer(request(Some(here), here, 1)?).await?;
    let date = answer
        .headers()
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    match date {
        Some(date) => Ok(date),
        None => {
            eprintln!(
                "ccsqm: the server's answer has no readable Date: this run is bounded by this \
                 machine's clock ({})",
                utc(here)
            );
            Ok(here)
        }
    }
}

/// The default SQLite file's folder is created; a folder the user named must exist.
fn create_default_folder(args: &SyncArgs, path: &std::path::Path) -> Result<()> {
    if args.db.url.is_some() {
        return Ok(());
    }
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)
            .map_err(|e| DbError(format!("creating {}: {e}", folder.display())))?;
    }
    Ok(())
}

async fn run_once(
    db: &mut Db,
    client: &Client,
    cli: &Cli,
    args: &SyncArgs,
    since: Option<i64>,
    bound: i64,
    stop: &Stop,
) -> Result<String> {
    let started = jiff::Timestamp::now().as_second();
    let checkpoint = checkpoint(db).await?;
    let from = since
        .or(checkpoint.map(|c| c.saturating_sub(args.overlap)))
        .map(|f| f.min(bound));
    // A bound before the checkpoint (`--until` in the past) does not move it back.
    let new_checkpoint = checkpoint.map_or(bound, |c| c.max(bound));
    let run = begin_run(db, started, from, bound).await?;
    let mut counts = Counts::default();
    let mut fetch = Fetch {
        db,
        client,
        args,
        run,
        stop,
        progress: progress::Bar::new(cli.quiet),
    };
    let result = async {
        fetch
            .window(from, bound, Some(new_checkpoint), &mut counts)
            .await?;
        let horizon = bound.saturating_sub(args.horizon);
        if let Some(from) = from {
            for (first, last) in windows(&in_progress_times(fetch.db, horizon, from).await?) {
                fetch.window(Some(first), last, None, &mut counts).await?;
                counts.rechecked += 1;
            }
        }
        let (pending, past) = in_progress_counts(fetch.db, horizon).await?;
        Ok::<_, anyhow::Error>((pending, past))
    }
    .await;
    fetch.progress.finish();
    let db = fetch.db;
    let finished = jiff::Timestamp::now().as_second();
    match result {
        Ok((pending, past)) => {
            end_run(
                db,
                run,
                finished,
                "done",
                &counts,
                Some((pending, past)),
                None,
            )
            .await?;
            Ok(summary(from, bound, &counts, pending, past, args.horizon))
        }
        Err(error) => {
            let state = match error.downcast_ref::<Interrupted>() {
                Some(_) => "interrupted",
                None => "failed",
            };
            let message = ccsqm_client::visible(&format!("{error:#}")).into_owned();
            // Best effort: the database may be what failed.
            let _ = end_run(db, run, finished, state, &counts, None, Some(&message)).await;
            Err(error)
        }
    }
}

struct Fetch<'a> {
    db: &'a mut Db,
    client: &'a Client,
    args: &'a SyncArgs,
    run: i64,
    stop: &'a Stop,
    progress: progress::Bar,
}

impl Fetch<'_> {
    /// Reads the calls uploaded from `from` (none: no lower bound) to `to`, a transaction per
    /// page; the last one also sets the checkpoint to `checkpoint`, when given.
    async fn window(
        &mut self,
        from: Option<i64>,
        to: i64,
        checkpoint: Option<i64>,
        counts: &mut Counts,
    ) -> Result<()> {
        // Whole pages per transaction: up to MAX_TRANSACTION calls, or what a second brought
        // (or what was read while the database wrote the last one, from MIN_TRANSACTION on),
        // each transaction with the progress it represents.
        let limit = usize::try_from(self.args.limit).unwrap_or(100).max(1);
        let per_transaction = limit * (MAX_TRANSACTION / limit).max(1);
        let calls = self
            .client
            .calls(request(from, to, self.args.limit)?)
            .allow_partial(false);
        let calls = match self.args.concurrency {
            Some(n) => calls.concurrency(usize::try_from(n).unwrap_or(1)),
            None => calls.adaptive(),
        };
        // The pages are read by a task of their own, ahead of the database by up to a
        // transaction, so that requests go on while a transaction is written; dropping the
        // receiver (an error, Ctrl-C) ends the task and cancels its requests.
        let lookup = upsert::Lookup::of_window(self.db).await?;
        // PostgreSQL: the reader encodes each row for the `COPY` of new calls.
        let copy = upsert::copy_types(self.db).await?;
        let (sender, mut received) = tokio::sync::mpsc::channel(per_transaction);
        let reader = tokio::spawn(read_pages(calls, sender, copy));
        let _abort = AbortOnDrop(reader);
        let mut batch: Vec<upsert::Fetched> = Vec::with_capacity(per_transaction);
        let mut opened = std::time::Instant::now();
        // What the reader sent since the last look, taken at once (not a wake-up per call).
        let mut inbox: Vec<Read> = Vec::with_capacity(per_transaction);
        'reading: loop {
            if let Some(stopped) = self.stop.requested() {
                return Err(stopped.into());
            }
            let taken = tokio::select! {
                taken = received.recv_many(&mut inbox, per_transaction) => taken,
                stopped = self.stop.wait() => return Err(stopped.into()),
            };
            if taken == 0 {
                // The reader ended without its last word: it panicked.
                anyhow::bail!("the pages' reader stopped unexpectedly");
            }
            let mut taken = inbox.drain(..).peekable();
            while let Some(next) = taken.next() {
                match next {
                    Read::Warning(warning) => {
                        self.progress.println(&format!("ccsqm: warning: {warning}"));
                    }
                    Read::Call(fetched, progress) => {
                        if batch.is_empty() {
                            opened = std::time::Instant::now();
                        }
                        batch.push(fetched);
                        let page_end = batch.len().is_multiple_of(limit);
                        let nothing_more = taken.peek().is_none() && received.is_empty();
                        if nothing_more || page_end {
                            self.progress.update(
                                progress.received,
                                progress.total,
                                progress.concurrency,
                            );
                        }
                        if batch.len() >= per_transaction
                            || (page_end && opened.elapsed() >= COMMIT_INTERVAL)
                            || (page_end && batch.len() >= MIN_TRANSACTION && nothing_more)
                        {
                            self.write(&batch, lookup, counts, None).await?;
                            // Freed elsewhere: the next transaction need not wait for it.
                            let written =
                                std::mem::replace(&mut batch, Vec::with_capacity(per_transaction));
                            tokio::task::spawn_blocking(move || drop(written));
                        }
                    }
                    Read::Failed(error @ ApiError::Paging(_), received) => {
                        let committed = counts.inserted + counts.updated + counts.unchanged;
                        return Err(anyhow::Error::new(error).context(format!(
                            "the pages did not add up ({received} call(s) received, \
                             {committed} committed by this run; the checkpoint did not move)"
                        )));
                    }
                    Read::Failed(error, _) => return Err(error.into()),
                    Read::End => break 'reading,
                }
            }
        }
        self.write(&batch, lookup, counts, checkpoint).await
    }

    /// Writes `batch` and the transcripts due of its calls in one transaction (with the
    /// checkpoint, when given).
    async fn write(
        &mut self,
        batch: &[upsert::Fetched],
        lookup: upsert::Lookup,
        counts: &mut Counts,
        checkpoint: Option<i64>,
    ) -> Result<()> {
        let transcripts = self.transcripts(batch).await?;
        let page = Page {
            calls: batch,
            lookup,
            transcripts: &transcripts,
        };
        write_page(self.db, self.run, page, counts, checkpoint).await
    }

    /// With `--with-transcripts`, the transcripts due of `batch`'s calls (see [`segments`]).
    async fn transcripts(
        &mut self,
        batch: &[upsert::Fetched],
    ) -> Result<Vec<segments::Transcript>> {
        if !self.args.with_transcripts {
            return Ok(Vec::new());
        }
        let due = segments::due(self.db, batch).await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let concurrency = usize::try_from(self.args.transcript_concurrency).unwrap_or(1);
        tokio::select! {
            fetched = segments::fetch(self.client, due, concurrency) => fetched,
            stopped = self.stop.wait() => Err(stopped.into()),
        }
    }
}

/// Where the reading of a window is.
struct Progress {
    received: u64,
    total: Option<u64>,
    concurrency: usize,
}

/// What the pages' reader sends.
enum Read {
    /// A call's row (built here, while the database writes).
    Call(upsert::Fetched, Progress),
    Warning(String),
    /// A failure, with the calls received before it.
    Failed(ApiError, u64),
    End,
}

/// Reads the window's calls (with their warnings) into `sender`, until its end, a failure, or
/// the receiver's end.
async fn read_pages(
    mut calls: ccsqm_client::CallStream,
    sender: tokio::sync::mpsc::Sender<Read>,
    copy: Option<Vec<tokio_postgres::types::Type>>,
) {
    let mut shown = 0;
    let mut seen = upsert::Seen::default();
    loop {
        let next = calls.next().await;
        for warning in &calls.warnings()[shown..] {
            if sender
                .send(Read::Warning(warning.to_string()))
                .await
                .is_err()
            {
                return;
            }
        }
        shown = calls.warnings().len();
        let read = match next {
            Some(Ok(record)) => Read::Call(
                upsert::Fetched::new(record, &mut seen, copy.as_deref()),
                Progress {
                    received: calls.received(),
                    total: calls.total(),
                    concurrency: calls.current_concurrency(),
                },
            ),
            Some(Err(error)) => Read::Failed(error, calls.received()),
            None => Read::End,
        };
        let last = !matches!(read, Read::Call(..));
        if sender.send(read).await.is_err() || last {
            return;
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The request of a window: every call type and documented status, from page 1.
fn request(
    from: Option<i64>,
    to: i64,
    limit: u64,
) -> Result<ccsqm_client::types::AppraisecallDetailsRequest> {
    use ccsqm_client::spec::enums::{CALL_TYPE, INSPECTION_STATUS};
    let body = serde_json::json!({
        "call_types": CALL_TYPE.codes().collect::<Vec<_>>(),
        "status": INSPECTION_STATUS.codes().collect::<Vec<_>>(),
        "upload_from": from,
        "upload_to": to,
        "limit": limit,
        "page": 1,
    });
    serde_json::from_value(body)
        .map_err(|e| UsageError(format!("the request of the window: {e}")).into())
}

/// What a transaction writes: calls (looked up as their window says) and the transcripts of
/// some of them.
struct Page<'a> {
    calls: &'a [upsert::Fetched],
    lookup: upsert::Lookup,
    transcripts: &'a [segments::Transcript],
}

/// Upserts the page's calls by `call_uuid` (and writes its transcripts) and adds them to the
/// run's counts, in one transaction (with the checkpoint, when given); `counts` changes only
/// once it is committed.
async fn write_page(
    db: &mut Db,
    run: i64,
    page: Page<'_>,
    counts: &mut Counts,
    checkpoint: Option<i64>,
) -> Result<()> {
    let now = jiff::Timestamp::now().as_second();
    let mut next = counts.clone();
    if !page.calls.is_empty() {
        next.commits += 1;
    }
    db.begin().await?;
    let result = async {
        upsert::page(db, page.calls, page.lookup, now, &mut next).await?;
        next.transcripts += segments::write(db, page.transcripts, now).await?;
        db.execute(
            "UPDATE sync_runs SET commits = $1, inserted = $2, updated = $3, unchanged = $4, \
             rechecked = $5 WHERE id = $6",
            &[
                SqlValue::Integer(next.commits),
                SqlValue::Integer(next.inserted),
                SqlValue::Integer(next.updated),
                SqlValue::Integer(next.unchanged),
                SqlValue::Integer(next.rechecked),
                SqlValue::Integer(run),
            ],
        )
        .await?;
        if let Some(bound) = checkpoint {
            db.execute(
                "DELETE FROM sync_checkpoint WHERE name = $1",
                &[SqlValue::Text(CHECKPOINT.into())],
            )
            .await?;
            db.execute(
                "INSERT INTO sync_checkpoint (name, upload_to, run_id, updated_at) \
                 VALUES ($1, $2, $3, $4)",
                &[
                    SqlValue::Text(CHECKPOINT.into()),
                    SqlValue::Integer(bound),
                    SqlValue::Integer(run),
                    SqlValue::Integer(now),
                ],
            )
            .await?;
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    match result {
        Ok(()) => match db.commit().await {
            Ok(()) => {
                *counts = next;
                Ok(())
            }
            Err(error) => {
                db.rollback().await;
                Err(error.into())
            }
        },
        Err(error) => {
            db.rollback().await;
            Err(error)
        }
    }
}

async fn checkpoint(db: &mut Db) -> Result<Option<i64>, DbError> {
    Ok(db
        .query(
            "SELECT upload_to FROM sync_checkpoint WHERE name = $1",
            &[SqlValue::Text(CHECKPOINT.into())],
        )
        .await?
        .first()
        .and_then(|r| r.first())
        .and_then(SqlValue::as_i64))
}

async fn begin_run(db: &mut Db, started: i64, from: Option<i64>, to: i64) -> Result<i64> {
    db.begin().await?;
    let result = async {
        let id = db
            .query::<SqlValue>("SELECT COALESCE(MAX(id), 0) + 1 FROM sync_runs", &[])
            .await?
            .first()
            .and_then(|r| r.first())
            .and_then(SqlValue::as_i64)
            .unwrap_or(1);
        db.execute(
            "INSERT INTO sync_runs (id, started_at, state, window_from, window_to, commits, \
             inserted, updated, unchanged, rechecked) VALUES ($1, $2, 'running', $3, $4, 0, 0, \
             0, 0, 0)",
            &[
                SqlValue::Integer(id),
                SqlValue::Integer(started),
                from.map_or(SqlValue::Null, SqlValue::Integer),
                SqlValue::Integer(to),
            ],
        )
        .await?;
        Ok::<_, DbError>(id)
    }
    .await;
    match result {
        Ok(id) => match db.commit().await {
            Ok(()) => Ok(id),
            Err(e) => {
                db.rollback().await;
                Err(e.into())
            }
        },
        Err(e) => {
            db.rollback().await;
            Err(e.into())
        }
    }
}

async fn end_run(
    db: &mut Db,
    run: i64,
    finished: i64,
    state: &str,
    counts: &Counts,
    pending: Option<(i64, i64)>,
    message: Option<&str>,
) -> Result<(), DbError> {
    db.execute(
        "UPDATE sync_runs SET finished_at = $1, state = $2, commits = $3, inserted = $4, \
         updated = $5, unchanged = $6, rechecked = $7, pending = $8, past_horizon = $9, \
         message = $10 WHERE id = $11",
        &[
            SqlValue::Integer(finished),
            SqlValue::Text(state.to_owned()),
            SqlValue::Integer(counts.commits),
            SqlValue::Integer(counts.inserted),
            SqlValue::Integer(counts.updated),
            SqlValue::Integer(counts.unchanged),
            SqlValue::Integer(counts.rechecked),
            pending.map_or(SqlValue::Null, |p| SqlValue::Integer(p.0)),
            pending.map_or(SqlValue::Null, |p| SqlValue::Integer(p.1)),
            message.map_or(SqlValue::Null, |m| SqlValue::Text(m.to_owned())),
            SqlValue::Integer(run),
        ],
    )
    .await?;
    Ok(())
}

/// `IN (0, 1, 3)`: the statuses that are not final (constants of the spec, not data).
pub fn in_progress_list() -> String {
    let codes: Vec<String> = IN_PROGRESS_STATUSES.iter().map(i64::to_string).collect();
    format!("\"{STATUS_COLUMN}\" IN ({})", codes.join(", "))
}

/// The upload times of the calls in progress uploaded from `horizon` to before `before`.
async fn in_progress_times(db: &mut Db, horizon: i64, before: i64) -> Result<Vec<i64>, DbError> {
    let sql = format!(
        "SELECT upload_time FROM calls WHERE {} AND upload_time >= $1 AND upload_time < $2 \
         ORDER BY upload_time",
        in_progress_list()
    );
    Ok(db
        .query(
            &sql,
            &[SqlValue::Integer(horizon), SqlValue::Integer(before)],
        )
        .await?
        .into_iter()
        .filter_map(|r| r.first().and_then(SqlValue::as_i64))
        .collect())
}

/// The calls still in progress: uploaded within the horizon (or without an upload time), and
/// before it.
pub async fn in_progress_counts(db: &mut Db, horizon: i64) -> Result<(i64, i64), DbError> {
    let sql = format!(
        "SELECT COUNT(*) FILTER (WHERE upload_time IS NULL OR upload_time >= $1), \
         COUNT(*) FILTER (WHERE upload_time < $1) FROM calls WHERE {}",
        in_progress_list()
    );
    let rows = db.query(&sql, &[SqlValue::Integer(horizon)]).await?;
    let row = rows.first();
    let count = |i: usize| {
        row.and_then(|r| r.get(i))
            .and_then(SqlValue::as_i64)
            .unwrap_or(0)
    };
    Ok((count(0), count(1)))
}

/// Sorted times as windows `(first, last)` of times at most [`WINDOW_GAP`] apart.
fn windows(times: &[i64]) -> Vec<(i64, i64)> {
    let mut windows: Vec<(i64, i64)> = Vec::new();
    for &t in times {
        match windows.last_mut() {
            Some((_, last)) if t - *last <= WINDOW_GAP => *last = t,
            _ => windows.push((t, t)),
        }
    }
    windows
}

fn summary(
    from: Option<i64>,
    bound: i64,
    counts: &Counts,
    pending: i64,
    past: i64,
    horizon: i64,
) -> String {
    let from = from.map_or("the first call".to_owned(), utc);
    let read = counts.inserted + counts.updated + counts.unchanged;
    let mut text = format!(
        "synced {read} call(s) uploaded from {from} to {}: {} inserted, {} updated, {} \
         unchanged",
        utc(bound),
        counts.inserted,
        counts.updated,
        counts.unchanged
    );
    if counts.transcripts > 0 {
        text.push_str(&format!(", {} transcript(s) stored", counts.transcripts));
    }
    if counts.rechecked > 0 {
        text.push_str(&format!(
            " (with {} earlier window(s) of calls in progress read again)",
            counts.rechecked
        ));
    }
    text.push_str(&format!(
        "; {pending} call(s) still in progress (read again next time)"
    ));
    if past > 0 {
        text.push_str(&format!(
            ", {past} in progress but uploaded more than {} before the bound (no longer read \
             again)",
            span(horizon)
        ));
    }
    text
}

pub fn utc(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| seconds.to_string())
}

fn span(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_times_group_into_windows() {
        assert_eq!(windows(&[]), vec![]);
        assert_eq!(
            windows(&[10, 20, 20 + WINDOW_GAP, 30 + 2 * WINDOW_GAP + 1]),
            vec![
                (10, 20 + WINDOW_GAP),
                (30 + 2 * WINDOW_GAP + 1, 30 + 2 * WINDOW_GAP + 1)
            ]
        );
    }

    #[test]
    fn the_help_of_limit_tells_the_size_of_a_transaction() {
        let sync = crate::args::command();
        let sync = sync.find_subcommand("sync").expect("ccsqm sync");
        let limit = sync.get_arguments().find(|a| a.get_id() == "limit");
        let help = limit.and_then(|a| a.get_help()).expect("--limit's help");
        let size = format!("{},{:03}", MAX_TRANSACTION / 1000, MAX_TRANSACTION % 1000);
        assert!(
            help.to_string().contains(&size),
            "{help} does not say {size}"
        );
    }

    #[test]
    fn the_request_asks_for_every_type_and_status() {
        let window = request(Some(5), 9, 100).unwrap();
        assert_eq!(window.upload_from, Some(5));
        assert_eq!(window.upload_to, Some(9));
        assert_eq!(
            window.call_types.len(),
            ccsqm_client::spec::enums::CALL_TYPE.values.len()
        );
        assert_eq!(
            window.status.len(),
            ccsqm_client::spec::enums::INSPECTION_STATUS.values.len()
        );
        assert!(request(None, 9, 100).unwrap().upload_from.is_none());
    }
}
