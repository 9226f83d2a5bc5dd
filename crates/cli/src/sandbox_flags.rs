//! The in-process sandbox of `--sandbox`: started with the data and fault flags that
//! `ccsqm sandbox` takes (`--calls`, `--seed`, `--anchor`, `--fail-rate`, ...), which are refused
//! without `--sandbox`; and its data in words, for the hint of an empty result.

use anyhow::Result;
use ccsqm_sandbox::serve::{DataArgs, FaultArgs};
use ccsqm_sandbox::Sandbox;
use clap::parser::ValueSource;

use crate::connection::Connection;
use crate::error::UsageError;

/// Starts the sandbox `--sandbox` asks for, after checking its flags (bad usage: exit 2).
pub(crate) async fn start(connection: &Connection) -> Result<Sandbox> {
    connection.sandbox_data.check().map_err(UsageError)?;
    connection.sandbox_faults.check().map_err(UsageError)?;
    let builder = Sandbox::builder().faults(connection.sandbox_faults.faults());
    Ok(connection.sandbox_data.apply(builder).start().await?)
}

/// A sandbox flag given without `--sandbox` is bad usage: it would silently change nothing.
pub(crate) fn refuse_without_sandbox(flags: &clap::ArgMatches) -> Result<(), UsageError> {
    use clap::Args as _;
    let command = FaultArgs::augment_args(DataArgs::augment_args(clap::Command::new("sandbox")));
    for arg in command.get_arguments() {
        let given = flags
            .try_get_raw(arg.get_id().as_str())
            .ok()
            .flatten()
            .is_some()
            && flags.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine);
        if given {
            let flag = arg.get_long().unwrap_or(arg.get_id().as_str());
            return Err(UsageError(format!(
                "--{flag} sets the built-in sandbox's data or faults: add --sandbox, or leave it out"
            )));
        }
    }
    Ok(())
}

/// What the sandbox holds, in words: `506 calls: 500 generated, from … to … (seed 1, anchor
/// 2026-11-25), and the vendor's 6 example calls, from … to …`.
pub(crate) fn describe(sandbox: &Sandbox) -> String {
    let data = sandbox.data();
    let mut text = format!("{} calls: {} generated", data.len(), data.generated());
    if let Some((first, last)) = data.generated_call_times() {
        text.push_str(&format!(
            ", from {} to {}",
            ccsqm_sandbox::utc_minute(first),
            ccsqm_sandbox::utc_minute(last)
        ));
    }
    text.push_str(&format!(
        " (seed {}, anchor {})",
        data.seed(),
        data.anchor()
    ));
    if let Some((first, last)) = data.vendor_call_times() {
        text.push_str(&format!(
            ", and the vendor's {} example calls, from {} to {}",
            data.len() - data.generated(),
            ccsqm_sandbox::utc_minute(first),
            ccsqm_sandbox::utc_minute(last)
        ));
    }
    text
}
