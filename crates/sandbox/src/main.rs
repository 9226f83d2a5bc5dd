//! `ccsqm-sandbox`: runs the sandbox as a server until Ctrl-C (the same as `ccsqm sandbox`).

use std::process::ExitCode;

// stderr into a closed pipe is not an error: std's `eprintln!` would panic; this one drops the
// message nobody can read.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

use ccsqm_sandbox::serve::{self, ServeArgs};
use clap::{CommandFactory, FromArgMatches, Parser};

/// A local CCSQM server with the real endpoint's behaviour: tokens that expire, every filter of
/// appraisecall/details, paging, grouping, deterministic data, and optional faults.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    args: ServeArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut command = Cli::command().after_help(serve::examples("ccsqm-sandbox"));
    let cli = Cli::from_arg_matches(&command.get_matches_mut())
        .unwrap_or_else(|e| e.format(&mut command).exit());
    if let Err(message) = cli.args.check() {
        eprintln!("ccsqm-sandbox: {message}");
        return ExitCode::from(2);
    }
    match serve::serve(cli.args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ccsqm-sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}
