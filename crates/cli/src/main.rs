//! `ccsqm`: query the inspected calls of Huawei Cloud CCSQM from the command line.

// stderr into a closed pipe (`ccsqm … 2>&1 | head`) is not an error: std's `eprintln!` and
// `eprint!` panic when the write fails, these drop a message nobody can read. Defined before
// the modules, they are the `eprintln!` and `eprint!` of every module of this crate.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod args;
mod cmd;
mod config;
mod connect;
mod connection;
mod drift;
mod dry_run;
mod error;
mod exit;
mod log_format;
mod operations;
mod output;
mod progress;
mod request;
mod sandbox_flags;
mod signals;
mod sink;
mod span;
mod summary;
mod timearg;

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::args::{Cli, Command};
use crate::error::message;
use anyhow::Result;

fn main() -> ExitCode {
    // `--jq`'s filter runs in a process of its own: this one, started again (output/jq.rs).
    if std::env::args_os().nth(1).as_deref() == Some(std::ffi::OsStr::new(output::jq::WORKER_ARG)) {
        return output::jq::worker_main();
    }
    let (cli, matches) = args::parse();
    if let Command::Sync(sync) = &cli.command {
        log_format::set(sync.log_format);
    }
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            failed(exit::OTHER, &format!("starting the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, &matches)) {
        Ok(()) => ExitCode::SUCCESS,
        // `ccsqm ... | head`: the reader is gone, which is not an error of ours (an EPIPE of
        // the API's or the database's connection is theirs: exit::code classes it).
        Err(e) if exit::code(&e) == exit::OTHER && exit::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<config::MissingSettings>().is_some() => {
            // Our own lines, one per missing setting (each made visible: it names files).
            let text = e
                .downcast_ref::<config::MissingSettings>()
                .map(ToString::to_string)
                .unwrap_or_default();
            let lines: Vec<_> = text.lines().map(ccsqm_client::visible).collect();
            failed(exit::USAGE, &lines.join("\n"));
            ExitCode::from(exit::code(&e))
        }
        Err(e) => {
            // Server text can be part of the message: it must not drive the terminal.
            let code = exit::code(&e);
            // A refusal of the credentials: where they came from, on the same line.
            let hint = connect::auth_hint().filter(|_| code == exit::AUTH);
            let text = match hint {
                Some(hint) => format!("{}; {hint}", message(&e)),
                None => message(&e),
            };
            failed(code, &ccsqm_client::visible(&text));
            ExitCode::from(code)
        }
    }
}

/// The command's failure on stderr: `ccsqm: TEXT`, or with `--log-format json` a JSON line
/// with the exit code and its class.
fn failed(code: u8, text: &str) {
    if log_format::json() {
        let mut fields = serde_json::Map::new();
        fields.insert("kind".into(), exit::class(code).into());
        fields.insert("exit_code".into(), code.into());
        fields.insert("message".into(), text.into());
        log_format::line("error", "exit", fields);
    } else {
        eprintln!("ccsqm: {text}");
    }
}

/// `-v`: every request at `info`; `-vv`: `debug`. Without `-v`, only the client's warnings
/// about the token interface's answers (an `Expires` it cannot use), one line each.
fn init_logging(verbose: u8) {
    let level = match verbose {
        // `--log-format json`: the same events, one JSON object per line.
        0 if log_format::json() => "ccsqm_client::auth=warn",
        0 => {
            tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_env_filter(tracing_subscriber::EnvFilter::new(
                    "ccsqm_client::auth=warn",
                ))
                .without_time()
                .with_target(false)
                .with_ansi(false)
                .init();
            return;
        }
        // The client logs each request at debug, under its target `ccsqm_client::request`.
        1 => "ccsqm_client=info,ccsqm_client::request=debug,ccsqm=info",
        _ => "ccsqm_client=debug,ccsqm=debug",
    };
    if log_format::json() {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new(level))
            .with(log_format::JsonLayer)
            .init();
        return;
    }
    // Colours only on a terminal: a log piped to a file has no escape sequences.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

async fn run(cli: Cli, matches: &clap::ArgMatches) -> Result<()> {
    // The matches of the subcommand: they tell which connection flags the command line gave.
    let flags = matches.subcommand().map(|(_, m)| m).unwrap_or(matches);
    match &cli.command {
        Command::Details(args) => cmd::details::run(args, flags, cli.quiet).await,
        Command::Api(args) => cmd::api::run(args, flags).await,
        Command::Token(args) => cmd::token::run(args, flags).await,
        Command::Transcript(args) => cmd::transcript::run(args, flags).await,
        Command::Configure(args) => cmd::configure::run(args).await,
        Command::Config { command } => {
            // The matches of `show`: they tell a flag from its variable.
            let flags = flags.subcommand().map(|(_, m)| m).unwrap_or(flags);
            cmd::config_show::run(command, flags)
        }
        Command::Sync(args) => cmd::sync::run(args, flags, cli.quiet).await,
        Command::Sandbox(args) => cmd::sandbox::run(args).await,
        Command::Schema { which } => cmd::schema::run(*which),
        Command::Completions { shell } => cmd::completions::run(args::command(), *shell),
        Command::Man { dir } => cmd::man::run(args::command(), dir.as_deref(), cli.quiet),
    }
}
