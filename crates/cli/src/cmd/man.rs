//! `ccsqm man`: the man page of `ccsqm` on stdout, or with `--dir DIR` a page for it and each
//! subcommand (`ccsqm.1`, `ccsqm-details.1`, …, the names the main page refers to).

use std::path::Path;

use anyhow::{Context, Result};

/// Writes the main page to stdout, or every page into `dir` (created if missing), listing the
/// files written on stderr unless `quiet`.
pub(crate) fn run(command: clap::Command, dir: Option<&Path>, quiet: bool) -> Result<()> {
    // No page for `ccsqm help`: the main page does not refer to one it cannot have.
    let mut command = command.disable_help_subcommand(true);
    command.build();
    let Some(dir) = dir else {
        clap_mangen::Man::new(command).render(&mut std::io::stdout().lock())?;
        return Ok(());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    write_pages(command, dir, &mut written)?;
    if !quiet {
        eprintln!(
            "ccsqm: {} man pages written to {}: {}",
            written.len(),
            dir.display(),
            written.join(", ")
        );
    }
    Ok(())
}

/// A page for `command` and, recursively, for each of its subcommands: a subcommand's page is
/// named by its display name (`ccsqm-details`), as its parent's page refers to it.
fn write_pages(command: clap::Command, dir: &Path, written: &mut Vec<String>) -> Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub.clone(), dir, written)?;
    }
    let man = clap_mangen::Man::new(command);
    let path = man
        .generate_to(dir)
        .with_context(|| format!("writing {} in {}", man.get_filename(), dir.display()))?;
    written.push(man.get_filename());
    tracing::debug!("wrote {}", path.display());
    Ok(())
}
