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
use super::schema::{key_index, SqlValue};
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
    /// Transcripts that could not be fetched (their calls stored; tried again by later runs).
    pub transcripts_missing: i64,
    /// The kind of the first of those failures.
    pub first_missing: Option<ccsqm_client::ErrorKind>,
    /// Warnings: paging's, and values stored in another form than sent (see
    /// [`SqlValue::replace_nul`]).
    pub warnings: i64,
}

/// `ccsqm sync`: one run, or with `--watch` a run every interval until a signal. A watch's
/// round that fails is reported and the watch goes on (see [`is_final`] and [`Backoff`]).
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
    let stop = Stop::install().context("listening for signals")?;
    let mut db = Some(
        prepare(&url, now.as_second())
            .await
            .map_err(|(e, _)| name_the_database(e, &shown))?,
    );
    let mut since = since;
    let mut backoff = Backoff::new(args.watch);
    // Columns recreated in a table that held calls: this run reads every call to fill them.
    let mut refill = match &mut db {
        Some(db) => migrate::begin_refill(db).await?,
        None => None,
    };
    if refill.is_some() && since.take().is_some() {
        eprintln!("ccsqm: {shown}: --since set aside: this run reads every call again, from the first one, to fill the recreated columns");
    }
    loop {
        let round = async {
            let db = match &mut db {
                Some(db) => db,
                None => db.insert(prepare(&url, jiff::Timestamp::now().as_second()).await?),
            };
            let (bound, note) = match until {
                Some(until) => (until, None),
                None => tokio::select! {
                    now = server_now(&client, args.max_clock_skew) => now.map_err(|e| (e, false))?,
                    stopped = stop.wait() => return Err((stopped.into(), true)),
                },
            };
            if let Some(note) = &note {
                eprintln!("ccsqm: {shown}: warning: {note}");
            }
            run_once(db, &client, cli, args, since, bound, note, &stop)
                .await
                .map_err(|e| (e, false))
        }
        .await;
        let outcome = match round {
            Ok(outcome) => outcome,
            Err((error, refused)) => {
                let error = name_the_database(error, &shown);
                if refused || args.watch.is_none() || is_final(&error) {
                    return Err(error);
                }
                // The connection may be what failed: a new one for the next round.
                db = None;
                let pause = backoff.failed();
                eprintln!(
                    "ccsqm: {shown}: this round failed (the checkpoint did not move past what it \
                     committed): {}; trying again in {}",
                    ccsqm_client::visible(&crate::message(&error)),
                    span(i64::try_from(pause.as_secs()).unwrap_or(i64::MAX))
                );
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    stopped = stop.wait() => return Err(stopped.into()),
                }
                continue;
            }
        };
        // `--since` is the first round's: the next ones go on from the checkpoint.
        since = None;
        eprintln!("ccsqm: {shown}: {}", outcome.summary);
        if let (Some(kind), Some(db)) = (refill.take(), &mut db) {
            let said = migrate::end_refill(db, &kind, until.is_some(), args.with_transcripts);
            eprintln!("ccsqm: {shown}: {}", said.await?);
        }
        let pause = backoff.succeeded();
        match (args.watch, outcome.missing) {
            (None, Some(missing)) => return Err(missing.into()),
            (None, None) => return Ok(()),
            _ => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            stopped = stop.wait() => return Err(stopped.into()),
        }
    }
}

/// Opens the database, takes its lock and creates or migrates its tables; `now`: Unix
/// seconds. `true` with the error when no retry can mend it (a database of another program,
/// or of a newer `ccsqm`).
async fn prepare(url: &url::DbUrl, now: i64) -> Result<Db, (anyhow::Error, bool)> {
    let shown = url.shown();
    let mut db = Db::open(url, Access::Write)
        .await
        .map_err(|e| (e.into(), false))?;
    // The lock first: what is read next cannot change until this sync ends.
    db.lock(&shown).await.map_err(|e| (e.into(), false))?;
    let state = migrate::inspect(&mut db)
        .await
        .map_err(|e| (e.into(), false))?;
    let plan = migrate::plan(&state, &shown).map_err(|e| (e.into(), true))?;
    if let Some(done) = migrate::apply(&mut db, &plan, now)
        .await
        .map_err(|e| (e.into(), false))?
    {
        eprintln!("ccsqm: {shown}: {done}");
    }
    for note in migrate::hand_made(&state) {
        eprintln!("ccsqm: {shown}: {note}");
    }
    let stale = migrate::close_stale_runs(&mut db, now)
        .await
        .map_err(|e| (e.into(), false))?;
    if !stale.is_empty() {
        let ids: Vec<String> = stale.iter().map(i64::to_string).collect();
        eprintln!(
            "ccsqm: {shown}: run(s) {} had not finished ({}): marked interrupted",
            ids.join(", "),
            migrate::STALE
        );
    }
    db.tune_for_sync().await.map_err(|e| (e.into(), false))?;
    Ok(db)
}

/// A database's error names the database (its URL without a password), once.
fn name_the_database(error: anyhow::Error, shown: &str) -> anyhow::Error {
    match error.downcast_ref::<DbError>() {
        Some(db) if !db.0.contains(shown) => error.context(shown.to_owned()),
        _ => error,
    }
}

/// Whether no retry can mend the error, and a watch ends with it: a signal, credentials
/// refused (the client asks for a fresh token before it says so), a request or settings that
/// are wrong. Anything else (no connection, a server's error after the retries, pages that do
/// not add up, the database gone, data it cannot store) may be mended by the next round.
fn is_final(error: &anyhow::Error) -> bool {
    if error.downcast_ref::<Interrupted>().is_some()
        || error.downcast_ref::<UsageError>().is_some()
        || error
            .downcast_ref::<crate::config::MissingSettings>()
            .is_some()
    {
        return true;
    }
    error.downcast_ref::<ApiError>().is_some_and(|api| {
        matches!(
            api.kind(),
            ccsqm_client::ErrorKind::Auth | ccsqm_client::ErrorKind::InvalidRequest
        )
    })
}

/// The pause before a watch's next round: the interval after a round that succeeded; after a
/// failed one, [`FIRST_RETRY`] (or the interval, if shorter), doubled after each further
/// failure, up to [`LONGEST_RETRY`] (or the interval, if longer).
struct Backoff {
    interval: Duration,
    failures: u32,
}

/// The first pause after a failed round.
const FIRST_RETRY: Duration = Duration::from_secs(5);
/// The longest pause after failed rounds.
const LONGEST_RETRY: Duration = Duration::from_secs(300);

impl Backoff {
    fn new(watch: Option<i64>) -> Backoff {
        let seconds = watch.and_then(|w| u64::try_from(w).ok()).unwrap_or(1);
        Backoff {
            interval: Duration::from_secs(seconds.max(1)),
            failures: 0,
        }
    }

    fn succeeded(&mut self) -> Duration {
        self.failures = 0;
        self.interval
    }

    fn failed(&mut self) -> Duration {
        let first = FIRST_RETRY.min(self.interval);
        let longest = LONGEST_RETRY.max(self.interval);
        let pause = first.saturating_mul(2u32.saturating_pow(self.failures.min(16)));
        self.failures = self.failures.saturating_add(1);
        pause.min(longest)
    }
}

/// The bound of a run: the server's clock, Unix seconds, the `Date` of its answer to a small
/// request (a page of one call uploaded in this machine's current second): the calls' upload
/// times are the server's, which may be behind this machine's clock, or ahead, or run faster,
/// as a live sandbox's `--speed`. With a note when this machine's clock bounds the run instead:
/// the answer has no readable `Date`, or it is more than `max_skew` seconds ahead of this
/// machine's clock (a server's clock that is wrong would otherwise move the checkpoint past
/// calls it has not uploaded yet, which later runs would never read).
async fn server_now(client: &Client, max_skew: i64) -> Result<(i64, Option<String>)> {
    let here = jiff::Timestamp::now().as_second();
    let answer = client.details_answer(request(Some(here), here, 1)?).await?;
    let date = answer
        .headers()
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    Ok(bound_of(date, here, max_skew))
}

/// The bound of a run from the server's `date` and this machine's clock (`here`): see
/// [`server_now`].
fn bound_of(date: Option<i64>, here: i64, max_skew: i64) -> (i64, Option<String>) {
    match date {
        Some(date) if date <= here.saturating_add(max_skew) => (date, None),
        Some(date) => (
            here,
            Some(format!(
                "the server's clock ({}) is {} ahead of this machine's: this run is bounded by \
                 this machine's clock ({}) (--max-clock-skew allows {})",
                utc(date),
                span(date - here),
                utc(here),
                span(max_skew)
            )),
        ),
        None => (
            here,
            Some(format!(
                "the server's answer has no readable Date: this run is bounded by this \
                 machine's clock ({})",
                utc(here)
            )),
        ),
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

/// What a run came to: its summary, and the transcripts it could not fetch.
struct Outcome {
    summary: String,
    missing: Option<MissingTranscripts>,
}

/// Some transcripts could not be fetched (their calls are stored, and the checkpoint moved):
/// the run's exit code is the first failure's class.
#[derive(Debug, thiserror::Error)]
#[error(
    "{count} transcript(s) could not be fetched (their calls are stored; the next runs try \
     them again while within --horizon; `ccsqm sync status` lists them)"
)]
pub struct MissingTranscripts {
    pub count: i64,
    pub kind: ccsqm_client::ErrorKind,
}

#[allow(clippy::too_many_arguments)]
async fn run_once(
    db: &mut Db,
    client: &Client,
    cli: &Cli,
    args: &SyncArgs,
    since: Option<i64>,
    bound: i64,
    note: Option<String>,
    stop: &Stop,
) -> Result<Outcome> {
    let started = jiff::Timestamp::now().as_second();
    let checkpoint = checkpoint(db).await?;
    let from = since
        .or(checkpoint.map(|c| c.saturating_sub(args.overlap)))
        .map(|f| f.min(bound));
    // A bound before the checkpoint (`--until` in the past, or a server's clock behind it)
    // does not move it back.
    let new_checkpoint = checkpoint.map_or(bound, |c| c.max(bound));
    let mut notes: Vec<String> = note.into_iter().collect();
    if let Some(c) = checkpoint.filter(|&c| c > bound && args.until.is_none()) {
        let behind = format!(
            "the server's clock ({}) is behind the checkpoint ({}): the checkpoint stays",
            utc(bound),
            utc(c)
        );
        eprintln!("ccsqm: warning: {behind}");
        notes.push(behind);
    }
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
        fetch.retry_missing(horizon, started, &mut counts).await?;
        let (pending, past) = in_progress_counts(fetch.db, horizon).await?;
        let missing = match args.with_transcripts {
            true => segments::missing_counts(fetch.db, horizon, started).await?,
            false => segments::Missing::default(),
        };
        Ok::<_, anyhow::Error>((pending, past, missing))
    }
    .await;
    fetch.progress.finish();
    let db = fetch.db;
    let finished = jiff::Timestamp::now().as_second();
    match result {
        Ok((pending, past, missing)) => {
            let missing = (missing.failed_this_run > 0).then(|| MissingTranscripts {
                count: missing.failed_this_run,
                kind: counts
                    .first_missing
                    .unwrap_or(ccsqm_client::ErrorKind::Server),
            });
            if let Some(missing) = &missing {
                notes.push(missing.to_string());
            }
            if counts.warnings > 0 {
                notes.push(format!("{} warning(s) (said on stderr)", counts.warnings));
            }
            let message = (!notes.is_empty()).then(|| notes.join("; "));
            end_run(
                db,
                run,
                finished,
                "done",
                &counts,
                Some((pending, past)),
                message.as_deref(),
            )
            .await?;
            let mut summary = summary(from, bound, &counts, pending, past, args.horizon);
            if let Some(missing) = &missing {
                summary.push_str(&format!("; {missing}"));
            }
            Ok(Outcome { summary, missing })
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
                        counts.warnings += 1;
                    }
                    Read::Call(fetched, progress) => {
                        if !fetched.replaced.is_empty() {
                            let key = fetched
                                .row
                                .as_ref()
                                .ok()
                                .and_then(|r| r[key_index()].as_str());
                            self.progress.println(&format!(
                                "ccsqm: warning: call {}: {} {} NUL characters, which \
                                 PostgreSQL cannot store: each stored as U+FFFD",
                                ccsqm_client::visible(key.unwrap_or("?")),
                                fetched.replaced.join(", "),
                                if fetched.replaced.len() == 1 {
                                    "holds"
                                } else {
                                    "hold"
                                },
                            ));
                            counts.warnings += 1;
                        }
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

    /// Writes `batch` and, with `--with-transcripts`, the transcripts due of its calls (see
    /// [`segments`]) in one transaction (with the checkpoint, when given).
    async fn write(
        &mut self,
        batch: &[upsert::Fetched],
        lookup: upsert::Lookup,
        counts: &mut Counts,
        checkpoint: Option<i64>,
    ) -> Result<()> {
        let due = match self.args.with_transcripts {
            true => segments::due(self.db, batch).await?,
            false => Vec::new(),
        };
        let page = Page {
            calls: batch,
            lookup,
            transcripts: due,
        };
        self.write_page(page, counts, checkpoint).await
    }

    /// Upserts the page's calls by `call_uuid` (and fetches and writes its transcripts) and
    /// adds them to the run's counts, in one transaction (with the checkpoint, when given);
    /// `counts` changes only once it is committed.
    async fn write_page(
        &mut self,
        page: Page<'_>,
        counts: &mut Counts,
        checkpoint: Option<i64>,
    ) -> Result<()> {
        let now = jiff::Timestamp::now().as_second();
        let mut next = counts.clone();
        if !page.calls.is_empty() || !page.transcripts.is_empty() {
            next.commits += 1;
        }
        let concurrency = usize::try_from(self.args.transcript_concurrency).unwrap_or(1);
        let (db, run) = (&mut *self.db, self.run);
        db.begin().await?;
        let result = async {
            upsert::page(db, page.calls, page.lookup, now, &mut next).await?;
            let stored = segments::store(
                db,
                self.client,
                page.transcripts,
                concurrency,
                now,
                self.stop,
            )
            .await?;
            next.transcripts += stored.stored;
            for warning in &stored.warnings {
                self.progress.println(&format!("ccsqm: warning: {warning}"));
            }
            next.warnings += i64::try_from(stored.warnings.len()).unwrap_or(i64::MAX);
            next.transcripts_missing += stored.missing;
            if next.first_missing.is_none() {
                next.first_missing = stored.first_missing;
            }
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

    /// With `--with-transcripts`: the missing transcripts of calls uploaded from `horizon` on
    /// that this run has not tried yet (it began at `started`), tried again, a transaction per
    /// [`MIN_TRANSACTION`] of them.
    async fn retry_missing(
        &mut self,
        horizon: i64,
        started: i64,
        counts: &mut Counts,
    ) -> Result<()> {
        if !self.args.with_transcripts {
            return Ok(());
        }
        loop {
            let due = segments::retry_due(self.db, horizon, started, MIN_TRANSACTION).await?;
            if due.is_empty() {
                return Ok(());
            }
            let page = Page {
                calls: &[],
                lookup: upsert::Lookup::Every,
                transcripts: due,
            };
            self.write_page(page, counts, None).await?;
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

/// What a transaction writes: calls (looked up as their window says) and the transcripts due
/// of some of them (`(call_uuid, status)`).
struct Page<'a> {
    calls: &'a [upsert::Fetched],
    lookup: upsert::Lookup,
    transcripts: Vec<(String, i64)>,
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
    // New calls, and calls stored before that this run read again (the overlap, calls in
    // progress): changed or not.
    let mut text = format!(
        "synced {read} call(s) uploaded from {from} to {}: {} inserted (new), {} read again \
         ({} updated, {} unchanged)",
        utc(bound),
        counts.inserted,
        counts.updated + counts.unchanged,
        counts.updated,
        counts.unchanged
    );
    if counts.transcripts > 0 {
        text.push_str(&format!(", {} transcript(s) stored", counts.transcripts));
    }
    if counts.warnings > 0 {
        text.push_str(&format!(", with {} warning(s)", counts.warnings));
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
    fn a_server_clock_too_far_ahead_gives_way_to_this_machines() {
        assert_eq!(bound_of(Some(1_000), 2_000, 600), (1_000, None));
        assert_eq!(bound_of(Some(2_600), 2_000, 600), (2_600, None));
        let (bound, note) = bound_of(Some(2_601), 2_000, 600);
        assert_eq!(bound, 2_000);
        assert!(note.unwrap().contains("601s ahead"));
        let (bound, note) = bound_of(None, 2_000, 600);
        assert_eq!(bound, 2_000);
        assert!(note.unwrap().contains("no readable Date"));
    }

    #[test]
    fn failed_rounds_back_off_up_to_a_limit_and_a_success_resets() {
        let mut backoff = Backoff::new(Some(60));
        let pauses: Vec<u64> = (0..9).map(|_| backoff.failed().as_secs()).collect();
        assert_eq!(pauses, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(backoff.succeeded().as_secs(), 60);
        assert_eq!(backoff.failed().as_secs(), 5);
        // A short interval: the first retry after it; a long one: pauses up to it.
        assert_eq!(Backoff::new(Some(1)).failed().as_secs(), 1);
        let mut hourly = Backoff::new(Some(3_600));
        let last = (0..20).map(|_| hourly.failed()).last().unwrap();
        assert_eq!(last.as_secs(), 3_600);
    }

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
