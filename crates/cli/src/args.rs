//! The command line, as clap definitions.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::cmd::api::ApiArgs;
use crate::cmd::details::DetailsArgs;
use crate::cmd::schema::SchemaKind;
use crate::cmd::token::TokenArgs;

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
    Transcript(Box<crate::cmd::transcript::TranscriptArgs>),
    /// Obtain an access token from the app key and app secret (tokenByAkSk), and print it.
    Token(TokenArgs),
    /// Keep a SQLite or PostgreSQL database up to date with the calls (and `sync status`).
    Sync(Box<crate::cmd::sync::SyncArgs>),
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
    Configure(crate::cmd::configure::ConfigureArgs),
    /// Show the settings in effect and where each came from: `ccsqm config show`.
    Config {
        #[command(subcommand)]
        command: crate::cmd::config_show::ConfigCommand,
    },
    /// Call any operation of the spec by its operationId, with the same credentials, retries and
    /// timeouts; the JSON response on stdout (like `gh api`).
    Api(Box<ApiArgs>),
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
        DetailsArgs::augment_args(command)
            .about(about)
            .after_long_help(crate::cmd::details::EXAMPLES)
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

/// [`command`] as the command line shows it: a subcommand's `--help` is readable, the man
/// page (rendered from [`command`] itself) is the reference. `--help` shows the flags `-h` shows,
/// each with the first paragraph of its text, its values and defaults; it ends with its
/// examples and names the flags it leaves out (the connection's less used settings, the
/// sandbox's faults) and where every flag is in full: `man ccsqm-<command>` and docs/.
pub fn command_for_help() -> clap::Command {
    let mut top = command();
    let names: Vec<String> = top
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .filter(|name| name != "sandbox")
        .collect();
    for name in names {
        top = top.mut_subcommand(name, |sub| readable_help(sub, "ccsqm"));
    }
    top
}

/// One subcommand's `--help` (and its own subcommands'), see [`command_for_help`]; `parent` is
/// the name of its parent's man page.
fn readable_help(mut sub: clap::Command, parent: &str) -> clap::Command {
    let ids: Vec<clap::Id> = sub.get_arguments().map(|a| a.get_id().clone()).collect();
    let mut left_out = Vec::new();
    for id in ids {
        sub = sub.mut_arg(id, |arg| {
            if arg.is_hide_short_help_set() && !arg.is_hide_set() {
                left_out.push(format!("--{}", arg.get_long().unwrap_or_default()));
                return arg.hide_long_help(true);
            }
            let first = arg.get_long_help().map(|long| {
                let long = long.to_string();
                long.split_once("\n\n")
                    .map_or(long.clone(), |(first, _)| first.to_owned())
            });
            match first {
                Some(first) => arg.long_help(first),
                None => arg,
            }
        });
    }
    // The name clap_mangen gives the page (the display name, once built).
    let page = format!("{parent}-{}", sub.get_name());
    let doc = match page.split('-').nth(1) {
        Some("sync") => "docs/sync.md",
        Some("transcript") => "docs/transcripts.md",
        Some("configure" | "config") => "docs/configuration.md",
        _ => "docs/command.md",
    };
    let mut reference = format!(
        "Every flag in full, with what --help leaves out: `man {page}` (`ccsqm man --dir DIR` \
         writes the pages) and {doc}."
    );
    if !left_out.is_empty() {
        reference = format!("Not shown here: {}.\n{reference}", left_out.join(", "));
    }
    let after = match sub.get_after_long_help().or(sub.get_after_help()) {
        Some(examples) => format!("{examples}\n\n{reference}"),
        None => reference,
    };
    let sub = sub.after_long_help(after);
    let children: Vec<String> = sub
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    children.into_iter().fold(sub, |sub, child| {
        sub.mut_subcommand(child, |c| readable_help(c, &page))
    })
}

/// Parses the command line; on bad usage clap prints why and exits with code 2. The matches
/// are returned too: they tell a flag's value from its environment variable's.
pub fn parse() -> (Cli, clap::ArgMatches) {
    let mut command = command_for_help();
    let matches = command
        .try_get_matches_from_mut(std::env::args_os())
        .unwrap_or_else(|e| refuse(e));
    let cli = from_matches(&matches).unwrap_or_else(|e| refuse(e.format(&mut command)));
    (cli, matches)
}

/// A command line clap refuses (or `--help`, `--version`): said as clap says it, or with
/// `--log-format json` among the arguments, as a JSON line (stderr then holds only JSON).
fn refuse(error: clap::Error) -> ! {
    use clap::error::ErrorKind;
    let shown = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    // args_os: an argument that is not UTF-8 must not panic here.
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let json = args
        .windows(2)
        .any(|w| w[0] == "--log-format" && w[1] == "json")
        || args.iter().any(|a| a == "--log-format=json");
    if shown || !json {
        error.exit()
    }
    let code = u8::try_from(error.exit_code()).unwrap_or(crate::exit::USAGE);
    let text = error.render().to_string();
    let mut fields = serde_json::Map::new();
    fields.insert("kind".into(), crate::exit::class(code).into());
    fields.insert("exit_code".into(), code.into());
    fields.insert("message".into(), text.trim_end().into());
    crate::log_format::line("error", "exit", fields);
    std::process::exit(i32::from(code))
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
