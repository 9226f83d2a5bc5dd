//! `ccsqm sync` and `ccsqm sync status`: the command over the `ccsqm-sync` engine. Its flags
//! become the engine's [`Options`]; its progress bar, warnings and notes are the engine's
//! [`Observer`]; Ctrl-C and SIGTERM ([`stop`]) cancel it after the current transaction;
//! `--watch` runs a round every interval, and after a failed one waits as [`Backoff`] says.

mod stop;

use anyhow::{Context, Result};
use ccsqm_sync::{span, utc, Backoff, DbUrl, Observer, Options, Syncer};
use clap::{Args, Subcommand};

use crate::connection::Connection;
use crate::error::UsageError;
use crate::log_format::{self, LogFormat};
use crate::progress;
use crate::timearg::{self, Bound};

const EXAMPLES: &str = "\
Examples:
  # Into the default SQLite file (<data dir>/ccsqm/ccsqm.sqlite3), from the built-in sandbox
  ccsqm sync --sandbox

  # Into PostgreSQL (the password in the environment, not on the command line), every 5 minutes
  CCSQM_DB=postgres://ccsqm:secret@db.example/calls ccsqm sync --watch 5m

  # The first run reads every call; --since limits it (or fills in older calls later)
  ccsqm sync --db calls.sqlite3 --since 2021-05-01

  # With each finished call's transcript, segment by segment (table call_segments)
  ccsqm sync --db calls.sqlite3 --with-transcripts

  # As a service: metrics for Prometheus on :9464 (/metrics, /healthz, /readyz), JSON logs
  CCSQM_DB=postgres://ccsqm:secret@db.example/calls ccsqm sync --watch 5m --metrics 127.0.0.1:9464 --log-format json

  # The checkpoint, the calls still in progress and the recent runs
  ccsqm sync status --db calls.sqlite3";

/// `ccsqm sync`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, after_help = EXAMPLES)]
pub struct SyncArgs {
    #[command(subcommand)]
    pub action: Option<SyncAction>,

    #[command(flatten)]
    pub db: DbArg,

    /// Read the calls uploaded from this time on, instead of from the checkpoint (to fill in
    /// older calls, or to limit the first run) [default: the checkpoint less --overlap; the
    /// first run: every call]. Same forms as --upload-from.
    #[arg(help_heading = "Window", long, value_name = "TIME")]
    pub since: Option<String>,

    /// The upper bound of the window, fixed at the start of each run [default: the server's
    /// time, the Date of its answer to a one-call request; else this machine's]. Same forms as
    /// --upload-to.
    #[arg(
        help_heading = "Window",
        long,
        value_name = "TIME",
        conflicts_with = "watch"
    )]
    pub until: Option<String>,

    /// A run is bounded by the server's clock only while it is at most this far ahead of this
    /// machine's; further ahead, by this machine's clock (said on stderr and in `sync status`):
    /// a server's clock that is wrong would otherwise move the checkpoint past calls not yet
    /// uploaded. A clock behind is always followed (it never moves the checkpoint back).
    #[arg(help_heading = "Window", long, value_name = "SPAN", default_value = "10m",
          value_parser = span_seconds)]
    pub max_clock_skew: i64,

    /// Re-read from this long before the checkpoint, to catch calls uploaded late (30s, 15m,
    /// 1h, 2d, 1w).
    #[arg(help_heading = "Window", long, value_name = "SPAN", default_value = "1h",
          value_parser = span_seconds)]
    pub overlap: i64,

    /// Calls still in progress (a status that is not final) are read again, run after run,
    /// until final or uploaded longer ago than this before the window's bound.
    #[arg(help_heading = "Window", long, value_name = "SPAN", default_value = "3d",
          value_parser = span_seconds)]
    pub horizon: i64,

    /// Keep syncing, a run every INTERVAL (30s, 5m, 1h), until Ctrl-C or SIGTERM (which end it
    /// after the current transaction).
    #[arg(long, value_name = "INTERVAL", value_parser = span_seconds)]
    pub watch: Option<i64>,

    /// Calls per page (a transaction holds whole pages: up to 20,000 calls, fewer when they
    /// come slowly).
    #[arg(help_heading = "Paging", long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub limit: u64,

    /// Fetch N pages at a time [default: adaptive, as `ccsqm details --all`].
    #[arg(help_heading = "Paging", long, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: Option<u64>,

    /// Also store each finished call's transcript (appraisecall/detail): its segments in
    /// `call_segments`, written with the call's page; fetched once per call, when its status is
    /// final (again only if that status changes).
    #[arg(help_heading = "Transcripts", long)]
    pub with_transcripts: bool,

    /// With --with-transcripts: fetch N transcripts at a time.
    #[arg(help_heading = "Transcripts", long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u64).range(1..=64))]
    pub transcript_concurrency: u64,

    /// Serve metrics for Prometheus on ADDR (127.0.0.1:9464, [::]:9464) while syncing:
    /// /metrics, /healthz (the process answers) and /readyz (the last successful round ended
    /// within twice the --watch interval, at least a minute; without --watch: a round
    /// succeeded).
    #[arg(help_heading = "Service", long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,

    /// The format of what is said on stderr: text (for people), or json (one JSON object per
    /// line, for a machine: rounds' starts and ends with their counts, warnings, errors with
    /// their kind; no progress bar).
    #[arg(help_heading = "Service", long, value_name = "FORMAT", value_enum,
          default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub strict: crate::drift::StrictSpec,

    #[command(flatten)]
    pub connection: Connection,
}

/// `--db`, for `ccsqm sync` and `ccsqm sync status`.
#[derive(Debug, Args)]
pub struct DbArg {
    /// The database: a SQLite file (a path, or sqlite:PATH; created when missing), or
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE (add ?sslmode=require for TLS, checked
    /// against the system's roots or &sslrootcert=CA.pem). A password is better given in
    /// CCSQM_DB than on the command line [default: <data dir>/ccsqm/ccsqm.sqlite3].
    #[arg(
        long = "db",
        env = "CCSQM_DB",
        value_name = "URL",
        hide_env_values = true
    )]
    pub url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SyncAction {
    /// Show the checkpoint, the calls still in progress and the recent runs.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub db: DbArg,

    /// How many of the latest runs to show.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub runs: u64,
}

impl DbArg {
    fn parse(&self) -> Result<DbUrl, UsageError> {
        let url = match &self.url {
            Some(text) => DbUrl::parse(text),
            None => ccsqm_sync::default_sqlite().map(DbUrl::Sqlite),
        };
        url.map_err(|e| UsageError(e.0))
    }
}

/// `ccsqm sync` and `ccsqm sync status` (`quiet`: `-q`, no progress bar).
pub async fn run(args: &SyncArgs, flags: &clap::ArgMatches, quiet: bool) -> Result<()> {
    match &args.action {
        Some(SyncAction::Status(status)) => show_status(status).await,
        None => sync(args, flags, quiet).await,
    }
}

/// `ccsqm sync`: one run, or with `--watch` a run every interval until a signal. A watch's
/// round that fails is said and the watch goes on, unless no retry can mend it
/// ([`ccsqm_sync::Error::is_final`]).
async fn sync(args: &SyncArgs, flags: &clap::ArgMatches, quiet: bool) -> Result<()> {
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
    let (settings, _sandbox) = crate::connect::target_of(&args.connection, flags).await?;
    let client = crate::connect::connect(&settings, &args.connection)?;

    // Every check of the database before any request.
    if let DbUrl::Sqlite(path) = &url {
        create_default_folder(args, path)?;
    }
    let stop = stop::Stop::install().context("listening for signals")?;
    let json = args.log_format == LogFormat::Json;
    let tenant = args.connection.profile.as_deref().unwrap_or("default");
    let quiet = quiet || json;
    let notes = Said::new(&shown, true, json, tenant);
    // The metrics' address before the database: one that cannot be listened on changes
    // nothing.
    let served = match args.metrics {
        Some(address) => Some(serve_metrics(address, args.watch, &notes).await?),
        None => None,
    };
    // A watch stands by while another sync writes to the database, and takes over when it
    // ends; a single run is refused (exit 7).
    let syncer = match args.watch {
        Some(_) => Syncer::standby(url, &notes, stop.token()).await,
        None => Syncer::open(url, &notes).await,
    };
    let mut syncer = syncer.map_err(|e| command_error(e, &stop))?;
    let options = Options {
        since,
        until,
        overlap: args.overlap,
        horizon: args.horizon,
        max_clock_skew: args.max_clock_skew,
        limit: args.limit,
        concurrency: args.concurrency.map(|n| usize::try_from(n).unwrap_or(1)),
        with_transcripts: args.with_transcripts,
        transcript_concurrency: usize::try_from(args.transcript_concurrency).unwrap_or(1),
        strict_spec: args.strict.strict_spec,
    };
    let metrics = served.as_ref().map(|s| &s.metrics);
    if let Some(metrics) = metrics {
        // What the database holds before the first round ends (a count that fails leaves 0).
        if let Ok(Some(stored)) = syncer.stored_calls().await {
            metrics.calls_stored(stored);
        }
    }
    let mut backoff = Backoff::new(args.watch);
    let mut rounds = 0u64;
    loop {
        rounds += 1;
        let said = Said::new(&shown, quiet, json, tenant);
        said.round_start(rounds);
        let started = std::time::Instant::now();
        let round = match metrics {
            Some(m) => {
                m.round(&mut syncer, &client, &options, &said, stop.token())
                    .await
            }
            None => syncer.round(&client, &options, &said, stop.token()).await,
        };
        said.progress.finish();
        let drift = said.drift.lock().ok().and_then(|mut drift| drift.take());
        match drift {
            Some(drift) if json && !drift.is_empty() => said.json_line(
                "warn",
                "drift",
                serde_json::json!({ "message": crate::drift::message(&drift, STORED) }),
            ),
            Some(drift) => crate::drift::say(&drift, STORED, quiet),
            None => {}
        }
        let pause = match round {
            Ok(outcome) => {
                said.round_end(
                    rounds,
                    &outcome,
                    started.elapsed(),
                    client.session().retries(),
                );
                match (args.watch, outcome.error()) {
                    (None, Some(missing)) => return Err(missing.into()),
                    (None, None) => return Ok(()),
                    _ => backoff.succeeded(),
                }
            }
            Err(error) if args.watch.is_none() || error.is_final() => {
                return Err(command_error(error, &stop))
            }
            Err(error) => {
                let pause = backoff.failed();
                said.round_failed(rounds, anyhow::Error::new(error), pause);
                pause
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            stopped = stop.wait() => return Err(stopped.into()),
        }
    }
}

/// The metrics' endpoint of `--metrics`, served until dropped.
struct Served {
    metrics: ccsqm_sync::metrics::Metrics,
    stop: ccsqm_sync::CancellationToken,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Listens on `address` (an address that cannot be listened on is the configuration's
/// fault: exit 2) and serves the metrics there; `/readyz` while the last successful round
/// ended within twice the `--watch` interval (at least a minute), without `--watch` once a
/// round succeeded.
async fn serve_metrics(
    address: std::net::SocketAddr,
    watch: Option<i64>,
    said: &Said,
) -> Result<Served> {
    use ccsqm_sync::metrics;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| UsageError(format!("--metrics {address}: cannot listen there: {e}")))?;
    let address = listener.local_addr().unwrap_or(address);
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = metrics::Metrics::new(&mut registry);
    let ready_within = match watch {
        Some(seconds) => std::time::Duration::from_secs(
            u64::try_from(seconds)
                .unwrap_or(0)
                .saturating_mul(2)
                .max(60),
        ),
        None => std::time::Duration::MAX,
    };
    let endpoint = metrics::Endpoint {
        registry: std::sync::Arc::new(registry),
        metrics: metrics.clone(),
        ready_within,
    };
    let stop = ccsqm_sync::CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(async move {
        if let Err(e) = metrics::serve(listener, endpoint, token).await {
            // Said whatever the log filter: a watch whose endpoint is gone is not healthy.
            log_format::warning(&format!("the metrics' endpoint stopped: {e}"));
        }
    });
    said.listening(address);
    Ok(Served { metrics, stop })
}

/// The engine's error as the command's: a cancellation is the signal that asked for it.
fn command_error(error: ccsqm_sync::Error, stop: &stop::Stop) -> anyhow::Error {
    match (&error, stop.requested()) {
        (ccsqm_sync::Error::Cancelled, Some(stopped)) => stopped.into(),
        _ => error.into(),
    }
}

/// What the engine says, on stderr: notes and warnings (above the progress bar, drawn on a
/// terminal unless `-q`), rounds' ends and failures; with `--log-format json`, as JSON lines
/// (no progress bar).
struct Said {
    shown: String,
    progress: progress::Bar,
    json: bool,
    tenant: String,
    /// The round's drift, said once after it.
    drift: std::sync::Mutex<Option<ccsqm_client::Drift>>,
}

/// What a sync does with the keys the spec does not name.
const STORED: &str = "the calls were stored, the keys it does not name in the column \
                      unknown_fields of calls (`ccsqm sync status` counts them)";

impl Said {
    fn new(shown: &str, quiet: bool, json: bool, tenant: &str) -> Said {
        Said {
            shown: shown.to_owned(),
            progress: progress::Bar::new(quiet || json),
            json,
            tenant: tenant.to_owned(),
            drift: std::sync::Mutex::new(None),
        }
    }

    /// A JSON line with the database and the tenant (the profile's name) first.
    fn json_line(&self, level: &str, event: &str, fields: serde_json::Value) {
        let mut all = serde_json::Map::new();
        all.insert("tenant".into(), self.tenant.clone().into());
        all.insert("db".into(), self.shown.clone().into());
        if let serde_json::Value::Object(fields) = fields {
            all.extend(fields);
        }
        log_format::line(level, event, all);
    }

    fn listening(&self, address: std::net::SocketAddr) {
        match self.json {
            true => self.json_line(
                "info",
                "metrics_listening",
                serde_json::json!({ "address": address.to_string() }),
            ),
            false => self.progress.println(&format!(
                "ccsqm: metrics on http://{address}/metrics (and /healthz, /readyz)"
            )),
        }
    }

    fn round_start(&self, round: u64) {
        if self.json {
            self.json_line("info", "round_start", serde_json::json!({ "round": round }));
        }
    }

    fn round_end(
        &self,
        round: u64,
        outcome: &ccsqm_sync::Outcome,
        took: std::time::Duration,
        retries: u64,
    ) {
        if !self.json {
            eprintln!("ccsqm: {}: {}", self.shown, outcome.summary);
            return;
        }
        let c = &outcome.counts;
        let (level, result) = match outcome.missing_transcripts {
            Some(_) => ("warn", "transcripts_missing"),
            None => ("info", "succeeded"),
        };
        self.json_line(
            level,
            "round_end",
            serde_json::json!({
                "round": round,
                "outcome": result,
                "message": outcome.summary,
                "duration_seconds": took.as_secs_f64(),
                "inserted": c.inserted,
                "updated": c.updated,
                "unchanged": c.unchanged,
                "commits": c.commits,
                "rechecked": c.rechecked,
                "transcripts": c.transcripts,
                "transcripts_missing": outcome.transcripts_missing,
                "in_progress": outcome.in_progress,
                "warnings": c.warnings,
                "retries": retries,
                "checkpoint": utc(outcome.checkpoint),
            }),
        );
    }

    fn round_failed(&self, round: u64, error: anyhow::Error, pause: std::time::Duration) {
        let message = ccsqm_client::visible(&crate::error::message(&error)).into_owned();
        let retry_in = i64::try_from(pause.as_secs()).unwrap_or(i64::MAX);
        match self.json {
            true => self.json_line(
                "error",
                "round_failed",
                serde_json::json!({
                    "round": round,
                    "kind": crate::exit::class(crate::exit::code(&error)),
                    "message": message,
                    "retry_in_seconds": retry_in,
                }),
            ),
            false => eprintln!(
                "ccsqm: {}: this round failed (the checkpoint did not move past what it \
                 committed): {message}; trying again in {}",
                self.shown,
                span(retry_in)
            ),
        }
    }
}

impl Observer for Said {
    fn progress(&self, received: u64, total: Option<u64>, concurrency: usize) {
        self.progress.update(received, total, concurrency);
    }

    fn warning(&self, text: &str) {
        match self.json {
            true => self.json_line("warn", "warning", serde_json::json!({ "message": text })),
            false => self.progress.println(&format!("ccsqm: warning: {text}")),
        }
    }

    fn note(&self, text: &str) {
        match self.json {
            true => self.json_line("info", "note", serde_json::json!({ "message": text })),
            false => self
                .progress
                .println(&format!("ccsqm: {}: {text}", self.shown)),
        }
    }

    fn drift(&self, drift: &ccsqm_client::Drift) {
        if let Ok(mut said) = self.drift.lock() {
            *said = Some(drift.clone());
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
            .map_err(|e| ccsqm_sync::DbError(format!("creating {}: {e}", folder.display())))?;
    }
    Ok(())
}

/// `ccsqm sync status`: what the database holds, on stdout (how it was read, on stderr).
async fn show_status(args: &StatusArgs) -> Result<()> {
    use std::io::Write;
    let url = args.db.parse()?;
    let status = ccsqm_sync::status(&url, args.runs).await?;
    for note in &status.read_notes {
        eprintln!("ccsqm: note: {note}");
    }
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{status}")?;
    stdout.flush()?;
    Ok(())
}

/// The longest span accepted: a hundred years.
const MAX_SPAN: i64 = 36_600 * 86_400;

/// A span in seconds (at least 1, at most [`MAX_SPAN`]): see [`crate::span`]. A number
/// without its unit is refused, with the unit it may have meant.
fn span_seconds(text: &str) -> Result<i64, String> {
    use crate::span::{NotASpan, FORMS};
    match crate::span::seconds(text) {
        Ok(seconds) if seconds > 0 && seconds <= MAX_SPAN => Ok(seconds),
        Err(NotASpan::NoUnit) => Err(format!(
            "{text:?} has no unit: {}s for seconds, {}m for minutes ({FORMS})",
            text.trim(),
            text.trim()
        )),
        Err(NotASpan::Shape) => Err(format!("expected {FORMS}, not {text:?}")),
        _ => Err(format!(
            "expected a span from 1s to 36600d ({FORMS}), not {text:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spans() {
        use super::span_seconds;
        assert_eq!(span_seconds("90s"), Ok(90));
        assert_eq!(span_seconds("15m"), Ok(900));
        assert_eq!(span_seconds("5min"), Ok(300));
        assert!(span_seconds("90")
            .unwrap_err()
            .contains("90s for seconds, 90m for minutes"));
        assert_eq!(span_seconds("3d"), Ok(259_200));
        assert_eq!(span_seconds("1w"), Ok(604_800));
        for bad in [
            "",
            "0s",
            "-1h",
            "3y",
            "1.5h",
            "h",
            "99999999999999999999d",
            "36601d",
        ] {
            assert!(span_seconds(bad).is_err(), "{bad}");
        }
    }
}
