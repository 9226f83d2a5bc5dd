//! `ccsqm transcript`: the transcripts of calls (`appraisecall/detail`), from arguments or
//! stdin, in input order, with bounded concurrency.

pub mod input;

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use ccsqm_client::{ApiError, ErrorKind};
use ccsqm_models::Transcript;
use futures_util::StreamExt;

use crate::connection::Connection;
use crate::error::UsageError;
pub use crate::output::transcript::TranscriptFormat;
use crate::output::transcript::{printable, TranscriptWriter};
use crate::sink::Sink;

/// `ccsqm transcript`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct TranscriptArgs {
    /// The calls, by `call_uuid` (as `ccsqm details` shows it).
    #[arg(
        value_name = "CALL_UUID",
        required_unless_present = "stdin",
        conflicts_with = "stdin"
    )]
    pub call_uuids: Vec<String>,

    /// Read the calls from stdin, one per line: NDJSON calls as `ccsqm details -o ndjson`
    /// writes them, or bare UUIDs. Blank lines are skipped; stdin is read to its end first;
    /// a line longer than 1 MiB is refused.
    #[arg(long)]
    pub stdin: bool,

    /// How many transcripts to fetch at a time (they are still written in input order).
    #[arg(long, default_value_t = 1, value_name = "N", allow_hyphen_values = true,
          value_parser = concurrency)]
    pub concurrency: u64,

    /// The output format [default: text on a terminal, else by the --output-file extension
    /// (.txt, .json, .vtt), else ndjson]. vtt takes exactly one call.
    #[arg(help_heading = "Output", long, short = 'o', value_enum)]
    pub output: Option<TranscriptFormat>,

    /// Write to this file instead of stdout: written to a temporary file, renamed when every
    /// call's transcript is written, so a failed run leaves no partial file behind.
    #[arg(help_heading = "Output", long, value_name = "PATH")]
    pub output_file: Option<PathBuf>,

    #[command(flatten)]
    pub connection: Connection,
}

const EXAMPLES: &str = "\
Examples:
  # Two calls, as a conversation
  ccsqm transcript --sandbox 3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497 \\
      2ef38e9b-36dd-4c1f-97cb-a665a2d9de3a

  # Every call that mentions a refund, four transcripts at a time, one segment per line
  ccsqm details --keyword refund --all | ccsqm transcript --stdin --concurrency 4 -o ndjson

  # Subtitles of one call, to show under its recording
  ccsqm transcript 3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497 --output-file call.vtt

A call without a transcript (not transcribed yet, or a text chat) is reported on stderr and
is not a failure. A call that cannot be fetched (e.g. 404) is reported and the others go on;
the exit code is then that of the first failure (4 for an unknown call), and --output-file
is not written.";

fn concurrency(value: &str) -> Result<u64, String> {
    match value.trim().parse::<u64>() {
        Ok(n) if (1..=64).contains(&n) => Ok(n),
        _ => Err("expected a whole number from 1 to 64".to_owned()),
    }
}

/// Runs `ccsqm transcript`.
pub async fn run(args: &TranscriptArgs, flags: &clap::ArgMatches) -> Result<()> {
    if !args.connection.sandbox {
        crate::sandbox_flags::refuse_without_sandbox(flags)?;
    }
    // Each call with where it was given, to name it in a refusal.
    let given: Vec<(String, String)> = if args.stdin {
        let stdin = std::io::stdin();
        input::read_lines(stdin.lock())?
            .into_iter()
            .map(|(at, uuid)| (format!("stdin, line {at}"), uuid))
            .collect()
    } else {
        args.call_uuids
            .iter()
            .map(|u| {
                input::checked(u)
                    .map(|uuid| ("CALL_UUID".to_owned(), uuid))
                    .map_err(|e| UsageError(format!("CALL_UUID {u:?}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let target = args
        .output_file
        .as_deref()
        .map(crate::sink::check)
        .transpose()?;
    let format = match args.output {
        Some(format) => format,
        None => default_format(args)?,
    };
    if format == TranscriptFormat::Vtt && given.len() != 1 {
        anyhow::bail!(UsageError(format!(
            "--output vtt writes the subtitles of one call; {} were given",
            given.len()
        )));
    }
    // A call the API never named cannot be found: refused before any request (exit 2).
    if let Some((place, why)) = given
        .iter()
        .find_map(|(place, uuid)| input::uuid_error(uuid).map(|why| (place, why)))
    {
        anyhow::bail!(UsageError(format!("{place}: {why}")));
    }
    let call_uuids: Vec<String> = given.into_iter().map(|(_, uuid)| uuid).collect();
    let (settings, _sandbox) = crate::connect::target_of(&args.connection, flags).await?;
    let client = crate::connect::connect(&settings, &args.connection)?;
    crate::signals::install().context("listening for signals")?;
    let mut sink = Sink::open(target)?;
    let mut writer = TranscriptWriter::new(&mut sink, format)
        .on_warning(crate::output::warn("ccsqm: warning: "));
    let total = call_uuids.len();
    let concurrency = usize::try_from(args.concurrency).unwrap_or(1);
    let mut transcripts = client
        .transcripts(futures_util::stream::iter(call_uuids))
        .concurrency(concurrency);
    let mut failures: Vec<(String, ApiError)> = Vec::new();
    let mut stopped = false;
    while let Some((call_uuid, result)) = transcripts.next().await {
        match result {
            Ok(response) => {
                let transcript = Transcript::new(response);
                if !transcript.has_segments() {
                    eprintln!(
                        "ccsqm: call {}: no transcript ({})",
                        printable(&call_uuid),
                        why_none(&transcript)
                    );
                }
                writer.write(&call_uuid, &transcript)?;
            }
            Err(error) => {
                eprintln!("ccsqm: call {}", failure(&call_uuid, &error));
                // Every other call would fail the same way: stop.
                let fatal = matches!(
                    error.kind(),
                    ErrorKind::Auth | ErrorKind::Network | ErrorKind::InvalidRequest
                );
                failures.push((call_uuid, error));
                if fatal {
                    stopped = true;
                    break;
                }
            }
        }
    }
    drop(transcripts);
    writer.finish(!failures.is_empty())?;
    let count = failures.len();
    let Some((_, first)) = failures.into_iter().next() else {
        return sink.commit();
    };
    let failed = if stopped {
        format!(
            "stopped at a failure that every call would meet ({count} of {total} call(s) failed)"
        )
    } else {
        format!("{count} of {total} call(s) failed")
    };
    let file = match &args.output_file {
        Some(path) => format!("; {} was not written", path.display()),
        None => String::new(),
    };
    drop(sink);
    Err(PartialFailure {
        message: format!("{failed}{file}"),
        first: first.kind(),
    }
    .into())
}

/// A call that could not be fetched, for a person: `<uuid> is unknown (...)` for a 404 (the
/// vendor's "check the request path" is about the path, which is right: the call is what is
/// missing), else `<uuid>: <error>`.
pub fn failure(call_uuid: &str, error: &ApiError) -> String {
    match error.kind() {
        ErrorKind::NotFound => format!(
            "{} is unknown (the server has no call with this call_uuid; HTTP 404)",
            printable(call_uuid)
        ),
        _ => format!("{}: {error}", printable(call_uuid)),
    }
}

pub use crate::error::PartialFailure;

/// Why a call has no segments, as far as its response says.
fn why_none(t: &Transcript) -> String {
    use ccsqm_models::CallType;
    match (t.call_type(), t.status()) {
        (Some(CallType::Text), _) => "a text call".to_owned(),
        (_, Some(status)) => format!("status: {status}"),
        (_, None) => "the response has no segments".to_owned(),
    }
}

/// text on a terminal; otherwise by the output file's extension; else ndjson.
fn default_format(args: &TranscriptArgs) -> Result<TranscriptFormat, UsageError> {
    Ok(match &args.output_file {
        Some(path) => {
            let extension = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            match extension.as_deref() {
                Some("vtt") => TranscriptFormat::Vtt,
                Some("json") => TranscriptFormat::Json,
                Some("txt") => TranscriptFormat::Text,
                Some("ndjson" | "jsonl") => TranscriptFormat::Ndjson,
                // A device or FIFO (/dev/stdout, a named pipe): lines of JSON.
                _ if !path.is_file() && path.exists() => TranscriptFormat::Ndjson,
                _ => {
                    return Err(UsageError(format!(
                        "--output-file {}: say the format with --output (text, ndjson, json, \
                         vtt), or use the extension .txt, .ndjson, .jsonl, .json or .vtt",
                        path.display()
                    )))
                }
            }
        }
        None if std::io::stdout().is_terminal() => TranscriptFormat::Text,
        None => TranscriptFormat::Ndjson,
    })
}
