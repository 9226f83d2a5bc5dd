//! The command line, as clap definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::{CsvFormulas, Format};

const EXAMPLES: &str = "\
Examples:
  # Every call, from a built-in sandbox with generated data (no account needed)
  ccsqm details --sandbox --all

  # One page of failed inspections of voice calls, as a table
  ccsqm details --call-type voice --status inspection-failed --page 1 --limit 50

  # Export every call uploaded in May 2021 to CSV, 4 pages at a time
  ccsqm details --upload-from 2021-05-01 --upload-to 2021-05-31 --all --concurrency 4 \\
      --output csv --output-file calls.csv

  # See the exact request, with the token hidden, without sending it
  ccsqm details --keyword refund --dry-run

Configuration: flags > environment (CCSQM_*) > a profile of the config file
(--config, default: <config dir>/ccsqm/config.toml; --profile, default: default).";

/// Query the inspected calls of Huawei Cloud CCSQM (Call Center Smart Quality Management).
#[derive(Debug, Parser)]
#[command(name = "ccsqm", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Log requests and retries to stderr (-v: info, -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// No progress bar.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// Where the API is and who calls it. Secrets have no flag of their own (a flag's value is
/// visible to other users of the machine): they come from the environment or a file.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection")]
pub struct Connection {
    /// Use an in-process sandbox with generated data, ignoring the address and credential
    /// settings (the timeouts and retries still apply).
    #[arg(long)]
    pub sandbox: bool,

    /// The API's base URL, e.g. https://service.besclouds.com:8443 [default: https://{domain}].
    #[arg(long, env = "CCSQM_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,

    /// The deployment's domain name: the base URL is https://{domain}.
    #[arg(long, env = "CCSQM_DOMAIN", conflicts_with = "base_url")]
    pub domain: Option<String>,

    /// The token interface's base URL, when it differs from the API's (another port).
    #[arg(long, env = "CCSQM_TOKEN_BASE_URL", value_name = "URL")]
    pub token_base_url: Option<String>,

    /// A file holding the Bearer token (else CCSQM_TOKEN).
    #[arg(long, env = "CCSQM_TOKEN_FILE", value_name = "PATH")]
    pub token_file: Option<PathBuf>,

    /// The app key: sent as x-app-key, and with the app secret, exchanged for tokens.
    #[arg(long, env = "CCSQM_APP_KEY")]
    pub app_key: Option<String>,

    /// A file holding the app secret (else CCSQM_APP_SECRET).
    #[arg(long, env = "CCSQM_APP_SECRET_FILE", value_name = "PATH")]
    pub app_secret_file: Option<PathBuf>,

    /// The operator ID, sent as x-UserId.
    #[arg(long, env = "CCSQM_USER_ID")]
    pub user_id: Option<String>,

    /// The profile of the config file to use.
    #[arg(long, env = "CCSQM_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// The config file [default: <config dir>/ccsqm/config.toml].
    #[arg(long, env = "CCSQM_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Time allowed for each attempt of a request, from sending it to reading the whole
    /// response, in seconds (fractions allowed, at most 86400). A timed-out attempt is retried.
    #[arg(long, env = "CCSQM_TIMEOUT", value_name = "SECONDS", allow_hyphen_values = true,
          value_parser = seconds, default_value_t = ccsqm_client::DEFAULT_TIMEOUT.as_secs_f64())]
    pub timeout: f64,

    /// Time allowed to establish a connection, in seconds (fractions allowed, at most 86400).
    #[arg(long, env = "CCSQM_CONNECT_TIMEOUT", value_name = "SECONDS", allow_hyphen_values = true,
          value_parser = seconds,
          default_value_t = ccsqm_client::DEFAULT_CONNECT_TIMEOUT.as_secs_f64())]
    pub connect_timeout: f64,

    /// How many times a failed request is retried (connection errors, timeouts, 429, 502, 503,
    /// 504; never 400, 401, 404, 500), with exponential backoff: 0 to 100.
    #[arg(long, env = "CCSQM_MAX_RETRIES", value_name = "N", allow_hyphen_values = true,
          value_parser = max_retries, default_value_t = ccsqm_client::RetryPolicy::default().max_retries)]
    pub max_retries: u32,

    /// No retry starts once this many seconds have passed since a request's first attempt
    /// (fractions allowed, at most 86400).
    #[arg(long, env = "CCSQM_MAX_RETRY_TIME", value_name = "SECONDS", allow_hyphen_values = true,
          value_parser = seconds,
          default_value_t = ccsqm_client::RetryPolicy::default().max_elapsed.as_secs_f64())]
    pub max_retry_time: f64,
}

impl Connection {
    /// The retry policy the flags ask for (the client's default backoff).
    pub fn retry_policy(&self) -> ccsqm_client::RetryPolicy {
        ccsqm_client::RetryPolicy {
            max_retries: self.max_retries,
            max_elapsed: std::time::Duration::from_secs_f64(self.max_retry_time),
            ..ccsqm_client::RetryPolicy::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Query inspected calls (appraisecall/details): one page, or every page with --all.
    Details(Box<DetailsArgs>),
    /// Obtain an access token from the app key and app secret (tokenByAkSk), and print it.
    Token(TokenArgs),
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
    /// Print the man page (roff), e.g. `ccsqm man > ccsqm.1`.
    Man,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    Request,
    Response,
    Call,
}

/// The filters of the request (each named after its field in the API), paging and output.
#[derive(Debug, Args)]
#[command(next_help_heading = "Filters (the fields of the request)")]
pub struct DetailsArgs {
    /// Accepts Unix seconds, RFC 3339, a local date and time, a date (its first second), or a
    /// span before now (7d, 24h).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub call_from: Option<String>,

    /// Accepts Unix seconds, RFC 3339, a local date and time, a date (its last second), or a
    /// span before now (7d, 24h).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub call_to: Option<String>,

    /// As --call-from. Not set: no lower bound (sent as null).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub upload_from: Option<String>,

    /// As --call-to. Not set: no upper bound (sent as null).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub upload_to: Option<String>,

    /// voice, text, or a number; repeat or separate with commas. [default: all: voice,text]
    #[arg(
        long = "call-type",
        visible_alias = "call-types",
        value_name = "TYPE",
        value_delimiter = ','
    )]
    pub call_types: Vec<String>,

    /// A name or a number; repeat or separate with commas.
    /// [default: every documented status]
    #[arg(long, value_name = "STATUS", value_delimiter = ',')]
    pub status: Vec<String>,

    #[arg(long)]
    pub keyword: Option<String>,

    #[arg(long)]
    pub staff_id: Option<String>,

    #[arg(long)]
    pub staff_name: Option<String>,

    /// A whole number of seconds, 0 or more.
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true, value_parser = whole_seconds)]
    pub duration_min: Option<u64>,

    /// A whole number of seconds, 0 or more.
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true, value_parser = whole_seconds)]
    pub duration_max: Option<u64>,

    /// 1 or more. [default: 1]
    #[arg(help_heading = "Paging", long, conflicts_with = "all", allow_hyphen_values = true, value_parser = at_least_one)]
    pub page: Option<u64>,

    /// 1 or more; also the page size of --all.
    #[arg(help_heading = "Paging", long, default_value_t = 100, allow_hyphen_values = true, value_parser = at_least_one)]
    pub limit: u64,

    /// Every page, streamed: calls are written as they arrive.
    #[arg(help_heading = "Paging", long)]
    pub all: bool,

    /// With --all: how many pages to fetch at a time (calls are still written in order).
    #[arg(help_heading = "Paging", long, default_value_t = 1, requires = "all", value_name = "N", allow_hyphen_values = true, value_parser = concurrency)]
    pub concurrency: u64,

    /// The output format [default: table on a terminal, else by the --output-file extension
    /// (.csv, .json), else ndjson].
    #[arg(help_heading = "Output", long, short = 'o', value_enum)]
    pub output: Option<Format>,

    /// CSV cells of text starting with =, +, -, @, a tab or a carriage return, which
    /// spreadsheets run as formulas: neutralise (a ' in front, also before a text starting with
    /// '; numbers never change) or keep them as sent.
    #[arg(help_heading = "Output", long, value_enum, default_value_t = CsvFormulas::Neutralise)]
    pub csv_formulas: CsvFormulas,

    /// Write to this file instead of stdout: written to a temporary file, renamed on success, so
    /// a failed export leaves no truncated file behind.
    #[arg(help_heading = "Output", long, value_name = "PATH")]
    pub output_file: Option<PathBuf>,

    /// Print the request (method, URL, headers with the token as ***, JSON body) and an
    /// equivalent curl command; send nothing.
    #[arg(help_heading = "Output", long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub connection: Connection,

    /// The token's lifetime in seconds (X-Token-Expire), 1 to 3600.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub expire: u64,
}

/// The `ccsqm` command: the clap definitions above, with each request flag's help led by the
/// spec's description of its field (read from the generated types' JSON Schema), and the names
/// `--call-type` and `--status` accept.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let schema = ccsqm_models::request_schema();
    let fields = &schema
        .schema
        .object
        .as_ref()
        .expect("the request is an object")
        .properties;
    let operations: String = crate::generated::CliCommand::iter()
        .map(|op| {
            format!(
                "\n  {:<22} ccsqm {}",
                op.operation_id(),
                crate::operations::command_of(op)
            )
        })
        .collect();
    let top = Cli::command().after_long_help(format!(
        "{EXAMPLES}\n\nThe API's operations (spec/ccsqm.yaml) and their commands:{operations}"
    ));
    let top = top.mut_subcommand("sandbox", |sandbox| {
        sandbox.after_help(ccsqm_sandbox::serve::examples("ccsqm sandbox"))
    });
    top.mut_subcommand("details", |details| {
        details.mut_args(|arg| {
            let Some(long) = arg.get_long() else {
                return arg;
            };
            let field = match long {
                "call-type" => "call_types".to_owned(),
                other => other.replace('-', "_"),
            };
            let Some(schemars::schema::Schema::Object(field_schema)) = fields.get(&field) else {
                return arg;
            };
            let description = field_schema
                .metadata
                .as_ref()
                .and_then(|m| m.description.clone())
                .unwrap_or_default();
            let names = match field.as_str() {
                "call_types" => format!(" Names: {}.", ccsqm_models::CallType::NAMES.join(", ")),
                "status" => format!(
                    " Names: {}.",
                    ccsqm_models::InspectionStatus::NAMES.join(", ")
                ),
                _ => String::new(),
            };
            let ours = arg.get_help().map(|h| format!(" {h}")).unwrap_or_default();
            arg.help(format!("{description}{ours}{names}"))
        })
    })
}

/// Parses the command line; on bad usage clap prints why and exits with code 2. The matches
/// are returned too: they tell a flag's value from its environment variable's.
pub fn parse() -> (Cli, clap::ArgMatches) {
    use clap::FromArgMatches;
    let mut command = command();
    let matches = command.get_matches_mut();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut command).exit());
    (cli, matches)
}

fn whole_number(value: &str, min: u64, max: u64, what: &str) -> Result<u64, String> {
    match value.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected {what}")),
    }
}

fn at_least_one(value: &str) -> Result<u64, String> {
    whole_number(value, 1, i64::MAX as u64, "a whole number, 1 or more")
}

fn whole_seconds(value: &str) -> Result<u64, String> {
    whole_number(
        value,
        0,
        i64::MAX as u64,
        "a whole number of seconds, 0 or more",
    )
}

/// The longest time a flag accepts, in seconds (one day): `Duration::from_secs_f64` cannot
/// overflow.
const MAX_SECONDS: f64 = 86_400.0;

fn seconds(value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= MAX_SECONDS => Ok(s),
        _ => Err("expected a number of seconds above 0, at most 86400 (e.g. 2.5)".to_owned()),
    }
}

fn max_retries(value: &str) -> Result<u32, String> {
    whole_number(value, 0, 100, "a whole number from 0 to 100")
        .map(|n| u32::try_from(n).unwrap_or(100))
}

fn concurrency(value: &str) -> Result<u64, String> {
    whole_number(value, 1, 64, "a whole number from 1 to 64")
}

#[cfg(test)]
mod tests {
    #[test]
    fn connection_defaults_are_the_clients() {
        use clap::Parser;
        let cli = super::Cli::try_parse_from(["ccsqm", "details"]).unwrap();
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
    }
}
