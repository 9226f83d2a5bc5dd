//! The flags of `ccsqm details` (the request's fields are added from the spec by
//! `crate::args::command`).

use std::path::PathBuf;

use clap::Args;

use crate::connection::Connection;
use crate::output::cells::Zone;
use crate::output::{CsvFormulas, CsvStyle, Format};

/// The examples of `ccsqm details --help` (each runs as written: `tests/help_examples.rs`).
pub const EXAMPLES: &str = "\
Examples:
  # One page of calls, from a built-in sandbox with generated data (no account needed)
  ccsqm details --sandbox --limit 5

  # How many calls match, per inspection status
  ccsqm details --sandbox --count

  # Every failed inspection of the last week, to CSV (replaced only by a complete export)
  ccsqm details --sandbox --call-from 7d --status failed --all --output-file failed.csv

  # Every call of an agent, one per line as JSON, only three fields
  ccsqm details --sandbox --staff-name 'Priya Huang' --all --fields call_uuid,status,duration

  # The exact request, with the token hidden, and an equivalent curl command
  ccsqm details --sandbox --keyword refund --dry-run";

/// `ccsqm details`: the request's fields as flags (added from the spec by `crate::args::command`, see
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

    #[command(flatten, next_help_heading = "Output")]
    pub strict: crate::drift::StrictSpec,

    #[command(flatten)]
    pub connection: Connection,
}

fn concurrency(value: &str) -> Result<u64, String> {
    crate::connection::whole_number(value, 1, 64, "a whole number from 1 to 64")
}
