//! `ccsqm sync`: keeps a database (SQLite or PostgreSQL) up to date with the tenant's calls.
//!
//! - [`url`]: `--db`; [`db`]: the connection (both drivers); [`schema`] and [`generated`]: the
//!   tables; [`migrate`]: creating and migrating them;
//! - [`round`]: one sync (the upload-time window from the checkpoint, then the calls still in
//!   progress), page by page in transactions; [`status`]: `ccsqm sync status`;
//! - [`stop`]: Ctrl-C and SIGTERM end it after the current transaction.

mod db;
#[allow(clippy::all)]
mod generated;
mod migrate;
mod round;
mod row;
mod schema;
mod segments;
mod status;
mod stop;
mod upsert;
mod url;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::args::{Cli, Connection};
use crate::UsageError;

pub use db::DbError;
pub use round::MissingTranscripts;
pub use stop::Interrupted;
pub use upsert::MissingKey;

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
    fn parse(&self) -> Result<url::DbUrl, UsageError> {
        match &self.url {
            Some(text) => url::DbUrl::parse(text),
            None => {
                let path = url::default_sqlite()?;
                Ok(url::DbUrl::Sqlite(path))
            }
        }
    }
}

/// `ccsqm sync` and `ccsqm sync status`.
pub async fn run(cli: &Cli, args: &SyncArgs, flags: &clap::ArgMatches) -> Result<()> {
    match &args.action {
        Some(SyncAction::Status(status)) => status::show(status).await,
        None => round::sync(cli, args, flags).await,
    }
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
