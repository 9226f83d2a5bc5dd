//! The command line, as clap definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::connection::Connection;
use crate::output::cells::Zone;
use crate::output::{CsvFormulas, CsvStyle, Format};

const EXAMPLES: &str = "\
Examples:
  # Every call, from a built-in sandbox with generated data (no account needed)
  ccsqm details --sandbox --all

  # Failed inspections of the last week, from the sandbox (its calls lead up to today)
  ccsqm details --sandbox --call-from 7d --status inspection-failed -o table

  # One page of failed inspections of voice calls, as a table
  ccsqm details --call-type voice --status inspection-failed --page 1 --limit 50

  # Export every call uploaded in the last 30 days to CSV, 4 pages at a time
  ccsqm details --upload-from 30d --all --concurrency 4 --output-file calls.csv

  # Calls of a date range (local dates: from the first second of one to the last of the other)
  ccsqm details --call-from 2021-06-01 --call-to 2021-06-30 -o ndjson

  # See the exact request, with the token hidden, without sending it
  ccsqm details --keyword refund --dry-run

Configuration: flags > environment (CCSQM_*) > a profile of the config file
(--config, default: <config dir>/ccsqm/config.toml; --profile, default: default).
The examples without --sandbox run against `ccsqm sandbox` too, with the variables it prints
(CCSQM_BASE_URL, CCSQM_USER_ID, CCSQM_APP_KEY, CCSQM_APP_SECRET).";

/// Query the inspected calls of Huawei Cloud CCSQM (Call Center Smart Quality Management).
#[derive(Debug, Parser)]
#[command(name = "ccsqm", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Log requests and retries to stderr (-v: info, -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// No progress bar, table footer or export summary on stderr (warnings and errors stay).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Query inspected calls (appraisecall/details): one page, or every page with --all.
    Details(Box<DetailsArgs>),
    /// Print the transcripts of calls (appraisecall/detail), by call_uuid or from stdin.
    Transcript(Box<crate::transcript::TranscriptArgs>),
    /// Obtain an access token from the app key and app secret (tokenByAkSk), and print it.
    Token(TokenArgs),
    /// Keep a SQLite or PostgreSQL database up to date with the calls (and `sync status`).
    Sync(Box<crate::sync::SyncArgs>),
    /// Run the sandbox: a local CCSQM server with generated data, until Ctrl-C.
    Sandbox(ccsqm_sandbox::serve::ServeArgs),
    /// Print the JSON Schema of the request, the response, or a call (as --output ndjson writes it).
    Schema {
        #[arg(value_enum, default_value = "response")]
        which: SchemaKind,
    },
    /// Print a shell completion script, e.g. `ccsqm completions bash > ~/.local/share/bash-completion/completions/ccsqm`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff); with --dir DIR, a page per subcommand too (ccsqm-details.1).
    Man {
        /// Write ccsqm.1 and a page per subcommand (ccsqm-details.1, ...) into this directory
        /// (created if missing) instead of the main page to stdout.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Set up a profile (address, user ID, app key and secret), checked by a token request.
    ///
    /// Question by question: an empty answer keeps the value shown in [brackets]; the app
    /// secret is read without echo (answers are read one a line from stdin when it is not a
    /// terminal). One token request (tokenByAkSk) checks them before anything is written; the
    /// config file is written atomically with mode 0600, and the secret goes to the operating
    /// system's keyring when there is one, else into the file (said which).
    Configure(crate::configure::ConfigureArgs),
    /// Show the settings in effect and where each came from: `ccsqm config show`.
    Config {
        #[command(subcommand)]
        command: crate::config_show::ConfigCommand,
    },
    /// Call any operation of the spec by its operationId, with the same credentials, retries and
    /// timeouts; the JSON response on stdout (like `gh api`).
    Api(Box<ApiArgs>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    Request,
    Response,
    Call,
}

/// `ccsqm details`: the request's fields as flags (added from the spec by [`command`], see
/// [`crate::request`]), paging and output.
#[derive(Debug, Args)]
pub struct DetailsArgs {
    /// The flags of the request's fields, as parsed (see [`crate::request::body`]).
    #[arg(skip)]
    pub request: clap::ArgMatches,

    /// Every page, streamed: calls are written as they arrive.
    ///
    /// Without it, one page (--page, --limit) is written, also to --output-file (which does not
    /// imply --all); when more calls match than were written, stderr says so in every format,
    /// e.g. "ccsqm: 100 of 1,635 matching calls written (page 1); --all for every page" (not
    /// with -q; exit 0).
    #[arg(help_heading = "Paging", long)]
    pub all: bool,

    /// With --all: fetch N pages at a time [default: adaptive, up to 32].
    ///
    /// Calls are still written in order. Without it, the concurrency adapts: it grows while
    /// answers stay as fast and no 429/503 comes, halves on them, honours Retry-After, and never
    /// exceeds 32.
    #[arg(help_heading = "Paging", long, requires = "all", value_name = "N", allow_hyphen_values = true, value_parser = concurrency)]
    pub concurrency: Option<u64>,

    /// With --all: accept a partial export (pages that do not add up are warnings, exit 0).
    ///
    /// Pages that do not add up (fewer or more calls than paging.total, a short page, repeated
    /// calls, a changing total, endless pages) are then warnings, each call is still written
    /// once, and the export exits 0; without it they end the export with exit code 5 and no
    /// output file.
    #[arg(help_heading = "Paging", long, requires = "all")]
    pub allow_partial: bool,

    /// The output format [default: table on a terminal, else ndjson].
    ///
    /// The default: table on a terminal, else by the --output-file extension (.csv, .json,
    /// .ndjson, .jsonl; another is refused), else ndjson.
    #[arg(help_heading = "Output", long, short = 'o', value_enum)]
    pub output: Option<Format>,

    /// CSV text cells that spreadsheets would run as formulas: neutralise or keep.
    ///
    /// Cells of text starting with =, +, -, @, a tab or a carriage return, which spreadsheets
    /// run as formulas: neutralise (a ' in front, also before a text starting with '; numbers
    /// never change) or keep them as sent.
    #[arg(help_heading = "Output", long, value_enum, default_value_t = CsvFormulas::Neutralise)]
    pub csv_formulas: CsvFormulas,

    /// CSV columns: machine (Unix seconds, codes) or readable (times in --tz, code names).
    ///
    /// machine: as the API sends them (Unix seconds, codes); readable: RFC 3339 times in --tz,
    /// and beside each code its name (status_name, call_type_name).
    #[arg(help_heading = "Output", long, value_enum, default_value_t = CsvStyle::Machine)]
    pub csv_style: CsvStyle,

    /// The time zone of the times shown: Europe/Paris, UTC, local... [default: local].
    ///
    /// For the table and --csv-style readable: an IANA name such as Europe/Paris, UTC, or local
    /// (TZ, else the system's).
    #[arg(help_heading = "Output", long, value_name = "ZONE", value_parser = Zone::parse)]
    pub tz: Option<Zone>,

    /// Only these fields of each call, in this order (see `ccsqm schema call`).
    ///
    /// In every format (table, csv, ndjson, json): the spec's names of a call's fields and
    /// call_group_id, comma-separated or repeated; an unknown name is refused with the list.
    #[arg(help_heading = "Output", long, value_name = "FIELD,...")]
    pub fields: Vec<String>,

    /// A jq filter on JSON output, like gh --jq (on each call, as ndjson writes it).
    ///
    /// Run with jaq on each call as ndjson writes it (with --all -o json, its results are the
    /// array's elements), or on the API's response for -o json of one page; each result on its
    /// own line, strings raw.
    #[arg(help_heading = "Output", long, value_name = "EXPR")]
    pub jq: Option<String>,

    /// Write to this file instead of stdout, replaced only by a complete export.
    ///
    /// A regular file (or a new one) is written to a temporary file beside it, renamed over it
    /// on success, so a failed or interrupted export leaves the previous file untouched; it
    /// keeps the replaced file's mode (a new file: 0666 less the umask). A symbolic link is
    /// followed (the file it leads to is replaced); a device, a FIFO or a descriptor
    /// (/dev/null, /dev/stdout) is written directly. A directory is refused.
    #[arg(help_heading = "Output", long, value_name = "PATH")]
    pub output_file: Option<PathBuf>,

    /// Print the request and an equivalent curl command; send nothing.
    ///
    /// The method, URL, headers (with the token as ***) and JSON body, a curl command, and
    /// where each setting came from.
    #[arg(help_heading = "Output", long)]
    pub dry_run: bool,

    /// Count the matching calls per inspection status instead of writing them.
    ///
    /// From the server's paging.total of one request per status (limit 1) and one for all; the
    /// counts must add up to the total (else exit 5). A table on a terminal (with the total),
    /// else ndjson, csv or json (-o) of {status, status_name, calls}.
    #[arg(help_heading = "Output", long, conflicts_with_all = ["all", "with_transcript", "fields", "jq", "dry_run", "page", "limit"])]
    pub count: bool,

    /// Add each call's transcript to its line as `segments` (ndjson only).
    ///
    /// From appraisecall/detail; with --all, --concurrency transcripts at a time.
    #[arg(help_heading = "Output", long)]
    pub with_transcript: bool,

    #[command(flatten)]
    pub connection: Connection,
}

const API_EXAMPLES: &str = "\
Examples:
  # The operations of the spec
  ccsqm api --list

  # One page of calls from the sandbox, fields typed by the spec (arrays repeat or take commas)
  ccsqm api appraisecall_details --sandbox -f page=1 -f limit=5 -f call_types=0,2 \\
      -f status=2 -f upload_from=null -f upload_to=null

  # The body from a file (or - for stdin); -f fields are set on top of it
  ccsqm api appraisecall_details --sandbox --input tests/fixtures/seed-request.json -f limit=2

  # The request, with the token hidden, without sending it
  ccsqm api appraisecall_details --sandbox -f page=1 --dry-run";

/// `ccsqm api`: an operation of the spec with a body from `-f` and `--input`.
#[derive(Debug, Args)]
#[command(after_help = API_EXAMPLES)]
pub struct ApiArgs {
    /// The operation's operationId (see --list).
    #[arg(required_unless_present = "list", value_name = "OPERATION")]
    pub operation: Option<String>,

    /// List the operations of the spec, with their method, path and body fields.
    #[arg(long, conflicts_with_all = ["operation", "field", "input", "header"])]
    pub list: bool,

    /// A field of the request body, typed by the spec: FIELD=VALUE (numbers, booleans, names of
    /// enumeration values, times for timestamp fields, `null`; an array field repeats or takes
    /// commas), or FIELD=@FILE to read the value from a file (@- for stdin; for secrets; at
    /// most 1 MiB, a larger one is refused). Repeatable.
    #[arg(short = 'f', long = "field", value_name = "FIELD=VALUE")]
    pub field: Vec<String>,

    /// The request body as JSON, from a file or - for stdin (at most 1 MiB, a larger one is
    /// refused); -f fields are set on top of it.
    #[arg(long, value_name = "FILE")]
    pub input: Option<std::path::PathBuf>,

    /// A header parameter of the operation: NAME=VALUE (x-UserId and x-app-key come from the
    /// configuration). Repeatable.
    #[arg(short = 'H', long = "header", value_name = "NAME=VALUE")]
    pub header: Vec<String>,

    /// Print the request and an equivalent curl command; send nothing.
    ///
    /// The method, URL, headers (with the token as ***) and JSON body, a curl command, and
    /// where each setting came from.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub connection: Connection,

    /// The token's lifetime in seconds (X-Token-Expire): from 1 to the spec's maximum.
    #[arg(long, default_value_t = ccsqm_client::DEFAULT_TOKEN_LIFETIME.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=ccsqm_client::MAX_TOKEN_LIFETIME.as_secs()))]
    pub expire: u64,
}

/// The `ccsqm` command: the clap definitions above, with a flag for each field of the request
/// of `details` (from the spec, see [`crate::request`]).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let operations: String = ccsqm_client::spec::Operation::ALL
        .iter()
        .map(|op| {
            let command = crate::operations::command_of(*op)
                .map(|c| format!("ccsqm {c}"))
                .unwrap_or_default();
            format!(
                "\n  {:<22} {command:<17} ccsqm api {}",
                op.info().id,
                op.info().id
            )
        })
        .collect();
    let top = Cli::command().after_long_help(format!(
        "{EXAMPLES}\n\nThe API's operations (spec/ccsqm.yaml) and their commands:{operations}"
    ));
    let top = top.mut_subcommand("sandbox", |sandbox| {
        sandbox.after_help(ccsqm_sandbox::serve::examples("ccsqm sandbox"))
    });
    // The request's flags first (as the first help heading), then the derived ones.
    let top = top.mut_subcommand("details", |derived| {
        use clap::Args as _;
        let about = derived.get_about().cloned().unwrap_or_default();
        let command = clap::Command::new("details")
            .args(crate::request::args(crate::operations::DETAILS_REQUEST));
        DetailsArgs::augment_args(command).about(about)
    });
    // `-h` shows the flags of every day; `--help` (and the man page) every flag, in full: the
    // sandbox's faults are for testing (`ccsqm sandbox -h` keeps them, they are its own).
    let names: Vec<String> = top
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .filter(|name| name != "sandbox")
        .collect();
    let mut top = top;
    for name in names {
        top = top.mut_subcommand(name, |mut sub| {
            for id in SHORT_HELP_HIDES {
                if sub.get_arguments().any(|a| a.get_id() == id) {
                    sub = sub.mut_arg(id, |a| a.hide_short_help(true));
                }
            }
            sub
        });
    }
    top
}

/// The flags of the built-in sandbox's faults, left out of `-h` (not of `--help`) where they
/// come with `--sandbox`.
const SHORT_HELP_HIDES: [&str; 7] = [
    "fail_rate",
    "fail_statuses",
    "drop_rate",
    "truncate_rate",
    "latency",
    "fault_seed",
    "max_in_flight",
];

/// Parses the command line; on bad usage clap prints why and exits with code 2. The matches
/// are returned too: they tell a flag's value from its environment variable's.
pub fn parse() -> (Cli, clap::ArgMatches) {
    let mut command = command();
    let matches = command.get_matches_mut();
    let cli = from_matches(&matches).unwrap_or_else(|e| e.format(&mut command).exit());
    (cli, matches)
}

/// The parsed command line from clap's matches of [`command`].
pub fn from_matches(matches: &clap::ArgMatches) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let mut cli = Cli::from_arg_matches(matches)?;
    if let (Command::Details(details), Some(("details", sub))) =
        (&mut cli.command, matches.subcommand())
    {
        details.request = sub.clone();
    }
    Ok(cli)
}

/// Parses `args` as [`parse`] does, for tests.
#[cfg(test)]
pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    from_matches(&command().try_get_matches_from(args)?)
}

fn concurrency(value: &str) -> Result<u64, String> {
    crate::connection::whole_number(value, 1, 64, "a whole number from 1 to 64")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_placed_command_exists() {
        let cli = super::command();
        use crate::operations::command_of;
        use ccsqm_client::spec::Operation;
        for operation in Operation::ALL {
            if let Some(name) = command_of(*operation) {
                assert!(
                    cli.find_subcommand(name).is_some(),
                    "{} is placed as `ccsqm {name}`, which does not exist",
                    operation.info().id
                );
            }
        }
    }
    #[test]
    fn the_help_of_limit_tells_the_size_of_a_transaction() {
        use ccsqm_sync::MAX_TRANSACTION;
        let sync = super::command();
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
    fn connection_defaults_are_the_clients() {
        let cli = super::try_parse_from(["ccsqm", "details"]).unwrap();
        let super::Command::Details(details) = cli.command else {
            unreachable!()
        };
        let c = &details.connection;
        assert_eq!(
            std::time::Duration::from_secs_f64(c.timeout),
            ccsqm_client::DEFAULT_TIMEOUT
        );
        assert_eq!(
            std::time::Duration::from_secs_f64(c.connect_timeout),
            ccsqm_client::DEFAULT_CONNECT_TIMEOUT
        );
        assert_eq!(c.retry_policy(), ccsqm_client::RetryPolicy::default());
        assert_eq!(c.max_body_size, ccsqm_client::DEFAULT_MAX_BODY_SIZE);
    }

    #[test]
    fn byte_sizes_read_with_their_units() {
        use crate::connection::byte_size;
        assert_eq!(byte_size("1048576"), Ok(1 << 20));
        assert_eq!(byte_size("64MiB"), Ok(64 << 20));
        assert_eq!(byte_size("2 kib"), Ok(2048));
        assert_eq!(byte_size("500KB"), Ok(500_000));
        assert_eq!(byte_size("1GiB"), Ok(1 << 30));
        for bad in [
            "",
            "0",
            "-1",
            "1.5MiB",
            "12XB",
            "MiB",
            "2TiB",
            "99999999999999999999",
        ] {
            assert!(byte_size(bad).is_err(), "{bad}");
        }
    }
}
