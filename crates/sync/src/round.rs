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

use ccsqm_client::{ApiError, Client};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::columns::{in_progress_list, key_index};
use crate::db::{Access, Db, DbError};
use crate::schema::SqlValue;
use crate::time::{span, utc};
use crate::Counts;
use crate::{migrate, segments, upsert, url, Error, Observer, Options, Result};

/// The checkpoint's name in `sync_checkpoint`.
const CHECKPOINT: &str = "calls";

/// The most calls of a transaction (whole pages: one page when `--limit` is larger): fewer
/// commits, each writing less of the key's index again (an index of UUIDs: a transaction of
/// N calls touches up to N of its pages; its new calls are written in the order of their keys,
/// so that neighbours share pages).
pub const MAX_TRANSACTION: usize = 20_000;

/// A transaction is committed sooner, at the end of a page, once it is this old: when calls
/// come slowly, what was read is committed every second or so.
const COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// ... or once it holds this many calls and none more has been read yet: the database does
/// not wait for a full transaction while it could write (the first one, say).
const MIN_TRANSACTION: usize = 1_000;

/// Pending calls further apart than this (in upload time) are re-read in separate windows.
const WINDOW_GAP: i64 = 3_600;

/// A database kept in sync: its connection (opened again after a failed round), and what its
/// first round must do.
pub struct Syncer {
    url: url::DbUrl,
    shown: String,
    db: Option<Db>,
    /// Columns recreated in a table that held calls: a refill due (`calls` or `transcripts`).
    refill: Option<String>,
    /// Rounds that succeeded: `Options::since` is the first one's.
    rounds: u64,
    /// Whether another sync holding the lock is waited for ([`Syncer::standby`]), also when
    /// the connection is opened again after a failed round.
    standby: bool,
}

/// How often a sync standing by tries the database's lock again.
const STANDBY_POLL: Duration = Duration::from_secs(1);

impl Syncer {
    /// Opens the database at `url`, takes the lock that keeps a second sync out (until the
    /// `Syncer` is dropped), and creates or migrates its tables (said to `observer`): every
    /// check of the database before any request.
    pub async fn open(url: url::DbUrl, observer: &dyn Observer) -> Result<Syncer> {
        Self::open_with(url, observer, None).await
    }

    /// As [`Syncer::open`], but while another sync holds the database's lock, stands by (said
    /// once to `observer`) and takes the lock when that sync ends: stopped, killed, or its
    /// connection cut (PostgreSQL frees its advisory lock with the session; the system frees a
    /// SQLite file's lock with the process). The lock is tried again every second; `cancel`
    /// ends the wait ([`Error::Cancelled`]). A failed round's new connection stands by too.
    /// What the other sync committed is where this one starts: no call is read twice into the
    /// database or skipped, whichever of them stops where.
    pub async fn standby(
        url: url::DbUrl,
        observer: &dyn Observer,
        cancel: &CancellationToken,
    ) -> Result<Syncer> {
        Self::open_with(url, observer, Some(cancel)).await
    }

    async fn open_with(
        url: url::DbUrl,
        observer: &dyn Observer,
        standby: Option<&CancellationToken>,
    ) -> Result<Syncer> {
        let shown = url.shown();
        let now = jiff::Timestamp::now().as_second();
        let mut db = prepare(&url, now, observer, standby)
            .await
            .map_err(|e| named(e, &shown))?;
        let refill = migrate::begin_refill(&mut db)
            .await
            .map_err(|e| named(e.into(), &shown))?;
        Ok(Syncer {
            url,
            shown,
            db: Some(db),
            refill,
            rounds: 0,
            standby: standby.is_some(),
        })
    }

    /// The database's URL, without its password.
    pub fn database(&self) -> &str {
        &self.shown
    }

    /// How many calls the database holds (its `calls` table's rows), on the connection of the
    /// rounds; `None` while it is closed (after a failed round, until the next one).
    pub async fn stored_calls(&mut self) -> Result<Option<i64>> {
        let Some(db) = &mut self.db else {
            return Ok(None);
        };
        let rows = db
            .query::<SqlValue>("SELECT COUNT(*) FROM calls", &[])
            .await
            .map_err(|e| named(e.into(), &self.shown))?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(SqlValue::as_i64))
    }

    /// One run (see the module's documentation): its summary and counts, or why it failed.
    /// A failure leaves what was committed (the checkpoint where the committed calls end); one
    /// that is not [`Error::is_final`] closes the connection, and the next round opens it
    /// again. `cancel` stops the run after its current transaction ([`Error::Cancelled`]).
    pub async fn round(
        &mut self,
        client: &Client,
        options: &Options,
        observer: &dyn Observer,
        cancel: &CancellationToken,
    ) -> Result<Outcome> {
        let result = self.try_round(client, options, observer, cancel).await;
        if result.as_ref().is_err_and(|e| !e.is_final()) {
            // The connection may be what failed: a new one for the next round.
            self.db = None;
        }
        result.map_err(|e| named(e, &self.shown))
    }

    async fn try_round(
        &mut self,
        client: &Client,
        options: &Options,
        observer: &dyn Observer,
        cancel: &CancellationToken,
    ) -> Result<Outcome> {
        let db = match &mut self.db {
            Some(db) => db,
            None => {
                let now = jiff::Timestamp::now().as_second();
                let standby = self.standby.then_some(cancel);
                self.db
                    .insert(prepare(&self.url, now, observer, standby).await?)
            }
        };
        let mut since = options.since.filter(|_| self.rounds == 0);
        if self.refill.is_some() && since.take().is_some() {
            observer.note(
                "--since set aside: this run reads every call again, from the first one, to \
                 fill the recreated columns",
            );
        }
        let (bound, note) = match options.until {
            Some(until) => (until, None),
            None => tokio::select! {
                now = server_now(client, options.max_clock_skew) => now?,
                _ = cancel.cancelled() => return Err(Error::Cancelled),
            },
        };
        if let Some(note) = &note {
            observer.warning(note);
        }
        let outcome = run_once(db, client, options, since, bound, note, observer, cancel).await?;
        self.rounds += 1;
        if let Some(kind) = self.refill.take() {
            let with_transcripts = options.with_transcripts;
            let said = migrate::end_refill(db, &kind, options.until.is_some(), with_transcripts);
            observer.note(&said.await?);
        }
        Ok(outcome)
    }
}

/// Opens the database, takes its lock (waiting for another sync's end with `standby`) and
/// creates or migrates its tables (said to `observer`); `now`: Unix seconds. A database no
/// retry can mend (of another program, or of a newer `ccsqm`) is [`Error::Refused`].
async fn prepare(
    url: &url::DbUrl,
    now: i64,
    observer: &dyn Observer,
    standby: Option<&CancellationToken>,
) -> Result<Db> {
    let shown = url.shown();
    let mut db = Db::open(url, Access::Write).await?;
    // The lock first: what is read next cannot change until this sync ends.
    match standby {
        None => db.lock(&shown).await?,
        Some(cancel) => wait_for_lock(&mut db, &shown, observer, cancel).await?,
    }
    let state = migrate::inspect(&mut db).await?;
    let plan = migrate::plan(&state, &shown).map_err(Error::Refused)?;
    if let Some(done) = migrate::apply(&mut db, &plan, now).await? {
        observer.note(&done);
    }
    for note in migrate::hand_made(&state) {
        observer.note(&note);
    }
    let stale = migrate::close_stale_runs(&mut db, now).await?;
    if !stale.is_empty() {
        let ids: Vec<String> = stale.iter().map(i64::to_string).collect();
        observer.note(&format!(
            "run(s) {} had not finished ({}): marked interrupted",
            ids.join(", "),
            migrate::STALE
        ));
    }
    db.tune_for_sync().await?;
    Ok(db)
}

/// Takes the database's lock, standing by while another sync holds it (see
/// [`Syncer::standby`]).
async fn wait_for_lock(
    db: &mut Db,
    shown: &str,
    observer: &dyn Observer,
    cancel: &CancellationToken,
) -> Result<()> {
    if db.try_lock(shown).await? {
        return Ok(());
    }
    observer.note(
        "another `ccsqm sync` is writing to this database: standing by until it ends (stopped, \
         killed or cut off), then taking over from its checkpoint",
    );
    loop {
        tokio::select! {
            _ = tokio::time::sleep(STANDBY_POLL) => {}
            _ = cancel.cancelled() => return Err(Error::Cancelled),
        }
        if db.try_lock(shown).await? {
            observer.note("the other sync ended: taking over");
            return Ok(());
        }
    }
}

/// A database's error names the database (its URL without a password), once.
fn named(error: Error, shown: &str) -> Error {
    let name = |e: DbError| match e.0.contains(shown) {
        true => e,
        false => DbError(format!("{shown}: {}", e.0)),
    };
    match error {
        Error::Database(e) => Error::Database(name(e)),
        Error::Refused(e) => Error::Refused(name(e)),
        other => other,
    }
}

/// The pause before a watch's next round: the interval after a round that succeeded; after a
/// failed one, 5 s (or the interval, if shorter), doubled after each further failure, up to
/// 5 minutes (or the interval, if longer).
#[derive(Clone, Debug)]
pub struct Backoff {
    interval: Duration,
    failures: u32,
}

/// The first pause after a failed round.
const FIRST_RETRY: Duration = Duration::from_secs(5);
/// The longest pause after failed rounds.
const LONGEST_RETRY: Duration = Duration::from_secs(300);

impl Backoff {
    /// The pauses of a watch every `watch` seconds.
    pub fn new(watch: Option<i64>) -> Backoff {
        let seconds = watch.and_then(|w| u64::try_from(w).ok()).unwrap_or(1);
        Backoff {
            interval: Duration::from_secs(seconds.max(1)),
            failures: 0,
        }
    }

    /// A round succeeded: the pause before the next.
    pub fn succeeded(&mut self) -> Duration {
        self.failures = 0;
        self.interval
    }

    /// A round failed: the pause before the next.
    pub fn failed(&mut self) -> Duration {
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
    let date = ccsqm_client::server_date(answer.headers());
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

/// What a run came to.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// What it did, in a line (`synced N call(s) uploaded from … to …: …`).
    pub summary: String,
    /// Its counts.
    pub counts: Counts,
    /// The transcripts it could not fetch (their calls stored): how many, and the kind of the
    /// first failure.
    pub missing_transcripts: Option<(i64, ccsqm_client::ErrorKind)>,
    /// The window's upper bound, Unix seconds: the server's time when the run started (or
    /// `Options::until`, or this machine's time, as the run's warnings said).
    pub bound: i64,
    /// The checkpoint after the run, Unix seconds (the bound, unless it was already further).
    pub checkpoint: i64,
    /// Calls still in progress within the horizon (read again by the next runs).
    pub in_progress: i64,
    /// Transcripts still missing, of calls within the horizon (tried again by the next runs;
    /// always 0 without `Options::with_transcripts`).
    pub transcripts_missing: i64,
}

impl Outcome {
    /// The missing transcripts as an error (a run that leaves some missing is no success).
    pub fn error(&self) -> Option<Error> {
        self.missing_transcripts
            .map(|(count, kind)| Error::MissingTranscripts { count, kind })
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_once(
    db: &mut Db,
    client: &Client,
    args: &Options,
    since: Option<i64>,
    bound: i64,
    note: Option<String>,
    observer: &dyn Observer,
    cancel: &CancellationToken,
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
        observer.warning(&behind);
        notes.push(behind);
    }
    let run = begin_run(db, started, from, bound).await?;
    let mut counts = Counts::default();
    let mut fetch = Fetch {
        db,
        client,
        args,
        run,
        cancel,
        observer,
        floor: checkpoint,
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
        Ok::<_, Error>((pending, past, missing))
    }
    .await;
    let db = fetch.db;
    let finished = jiff::Timestamp::now().as_second();
    match result {
        Ok((pending, past, missing)) => {
            let retried = missing.retried;
            let missing = (missing.failed_this_run > 0).then(|| {
                let kind = counts
                    .first_missing
                    .unwrap_or(ccsqm_client::ErrorKind::Server);
                (missing.failed_this_run, kind)
            });
            let missing_error =
                missing.map(|(count, kind)| Error::MissingTranscripts { count, kind });
            if let Some(missing) = &missing_error {
                notes.push(missing.to_string());
            }
            if counts.warnings > 0 {
                notes.push(format!("{} warning(s) (said on stderr)", counts.warnings));
            }
            if !counts.drift.is_empty() {
                observer.drift(&counts.drift);
                notes.push(format!(
                    "the server sent what spec/ccsqm.yaml does not describe: {} (stored; \
                     unknown keys in calls.unknown_fields)",
                    counts.drift
                ));
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
            if let Some(missing) = &missing_error {
                summary.push_str(&format!("; {missing}"));
            }
            Ok(Outcome {
                summary,
                counts,
                missing_transcripts: missing,
                bound,
                checkpoint: new_checkpoint,
                in_progress: pending,
                transcripts_missing: retried,
            })
        }
        Err(error) => {
            let state = match error {
                Error::Cancelled => "interrupted",
                _ => "failed",
            };
            let message = ccsqm_client::visible(&error_chain(&error)).into_owned();
            // Best effort: the database may be what failed.
            let _ = end_run(db, run, finished, state, &counts, None, Some(&message)).await;
            Err(error)
        }
    }
}

/// An error and its sources on one line (as `{:#}` of anyhow), each once.
fn error_chain(error: &Error) -> String {
    let mut text = String::new();
    let mut next: Option<&dyn std::error::Error> = Some(error);
    while let Some(cause) = next {
        let line = cause.to_string();
        if !text.contains(&line) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&line);
        }
        next = cause.source();
    }
    text
}

struct Fetch<'a> {
    db: &'a mut Db,
    client: &'a Client,
    args: &'a Options,
    run: i64,
    cancel: &'a CancellationToken,
    observer: &'a dyn Observer,
    /// The checkpoint at the run's start: a window never moves it back.
    floor: Option<i64>,
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
            Some(n) => calls.concurrency(n.max(1)),
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
        let server_time = 'reading: loop {
            if self.cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let taken = tokio::select! {
                taken = received.recv_many(&mut inbox, per_transaction) => taken,
                _ = self.cancel.cancelled() => return Err(Error::Cancelled),
            };
            if taken == 0 {
                // The reader ended without its last word: it panicked.
                return Err(Error::Reader);
            }
            let mut taken = inbox.drain(..).peekable();
            while let Some(next) = taken.next() {
                match next {
                    Read::Warning(warning) => {
                        self.observer.warning(&warning);
                        counts.warnings += 1;
                    }
                    Read::Call(fetched, progress) => {
                        if !fetched.replaced.is_empty() {
                            let key = fetched
                                .row
                                .as_ref()
                                .ok()
                                .and_then(|r| r[key_index()].as_str());
                            self.observer.warning(&format!(
                                "call {}: {} {} NUL characters, which PostgreSQL cannot \
                                 store: each stored as U+FFFD",
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
                            self.observer.progress(
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
                        return Err(Error::Api {
                            context: Some(format!(
                                "the pages did not add up ({received} call(s) received, \
                                 {committed} committed by this run; the checkpoint did not move)"
                            )),
                            source: error,
                        });
                    }
                    Read::Failed(error, _) => return Err(error.into()),
                    // Before the calls of the page that first held it: with strict_spec,
                    // none of them is written, and the checkpoint stays.
                    Read::Drift(drift) if self.args.strict_spec => {
                        return Err(Error::SpecDrift(drift))
                    }
                    Read::Drift(_) => {}
                    Read::End(time, drift) => {
                        counts.drift.merge(&drift);
                        break 'reading time;
                    }
                }
            }
        };
        let checkpoint = checkpoint.map(|c| self.at_most_server_time(c, server_time));
        self.write(&batch, lookup, counts, checkpoint).await
    }

    /// The checkpoint a window read up to `bound` may move to, when the server's clock at its
    /// last page was `server_time`: not past the server's current time (a first reading of its
    /// clock that was ahead would otherwise move it past calls not uploaded yet), and never
    /// back before the run's checkpoint.
    fn at_most_server_time(&self, bound: i64, server_time: Option<i64>) -> i64 {
        match server_time {
            Some(time) if time < bound => {
                let checkpoint = self.floor.map_or(time, |floor| floor.max(time));
                self.observer.warning(&format!(
                    "the server's clock read {} at the window's last page, before its bound {}: \
                     the checkpoint moves only to {}",
                    utc(time),
                    utc(bound),
                    utc(checkpoint)
                ));
                checkpoint
            }
            _ => bound,
        }
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
        let concurrency = self.args.transcript_concurrency.max(1);
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
                self.cancel,
            )
            .await?;
            next.transcripts += stored.stored;
            for warning in &stored.warnings {
                self.observer.warning(warning);
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
            Ok::<_, Error>(())
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
    /// New drift (what the spec does not describe), before the calls of the page that brought
    /// it: the stream's drift so far.
    Drift(ccsqm_client::Drift),
    /// The end, with the server's clock at its last page (its `Date`), when it said, and the
    /// window's drift.
    End(Option<i64>, ccsqm_client::Drift),
}

/// Reads the window's calls (with their warnings) into `sender`, until its end, a failure, or
/// the receiver's end.
async fn read_pages(
    mut calls: ccsqm_client::CallStream,
    sender: tokio::sync::mpsc::Sender<Read>,
    copy: Option<Vec<crate::db::PgType>>,
) {
    let mut shown = 0;
    let mut seen = upsert::Seen::default();
    let mut findings = 0;
    loop {
        let next = calls.next().await;
        let drift = calls.drift();
        let found = drift.fields.len() + drift.values.len();
        if found > findings {
            findings = found;
            if sender.send(Read::Drift(drift.clone())).await.is_err() {
                return;
            }
        }
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
            None => Read::End(calls.server_time(), calls.drift().clone()),
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
        .map_err(|e| Error::Request(format!("the request of the window: {e}")))
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
