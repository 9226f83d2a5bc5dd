//! `ccsqm completions`: a shell completion script for the command line it is given.

use std::io::Write;

use anyhow::Result;

/// `ccsqm completions SHELL`: the script of `command` (the whole `ccsqm`) on stdout.
pub fn run(mut command: clap::Command, shell: clap_complete::Shell) -> Result<()> {
    // Into memory first: clap_complete panics when its writer fails (a closed stdout).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "ccsqm", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(())
}
