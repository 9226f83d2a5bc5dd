//! `cargo xtask bench [--quick] [OPTIONS]`: a thin launcher. It builds the release binaries
//! (`ccsqm`, `ccsqm-sandbox`, and the harness `ccsqm-bench` from `crates/bench`), then runs the
//! harness, which does the work and writes `BENCHMARKS.md`. Options go to the harness
//! (`--quick`, `--output FILE`, `--only SECTIONS`); see `crates/bench/src/main.rs`.
//!
//! `--only build` (the clean build of a minimal consumer, which needs no release binary) builds
//! no release binary: it runs the harness as a debug build (`cargo run -p ccsqm-bench`).

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The sections of the harness that need no release binary.
const WITHOUT_BINARIES: [&str; 1] = ["build"];

/// Whether `args` ask only for sections that need no release binary (`--only build`).
pub fn needs_no_binaries(args: &[&str]) -> bool {
    args.windows(2).any(|pair| {
        pair[0] == "--only"
            && pair[1]
                .split(',')
                .all(|section| WITHOUT_BINARIES.contains(&section))
    })
}

pub fn run(root: &Path, args: &[&str]) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    if needs_no_binaries(args) {
        eprintln!("==> cargo run -p ccsqm-bench -- {}", args.join(" "));
        let status = Command::new(&cargo)
            .args(["run", "--quiet", "-p", "ccsqm-bench", "--"])
            .arg("--root")
            .arg(root)
            .args(args)
            .current_dir(root)
            .status()
            .context("running cargo run -p ccsqm-bench")?;
        if !status.success() {
            bail!("the benchmark harness failed ({status})");
        }
        return Ok(());
    }
    let build = ["build", "--release", "--bins"];
    let packages = [
        "-p",
        "ccsqm-cli",
        "-p",
        "ccsqm-sandbox",
        "-p",
        "ccsqm-bench",
    ];
    eprintln!("==> cargo {} {}", build.join(" "), packages.join(" "));
    let status = Command::new(&cargo)
        .args(build)
        .args(packages)
        .current_dir(root)
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(Into::into)
        .unwrap_or_else(|| root.join("target"));
    let harness = target.join("release/ccsqm-bench");
    let status = Command::new(&harness)
        .arg("--root")
        .arg(root)
        .args(args)
        .current_dir(root)
        .status()
        .with_context(|| format!("running {}", harness.display()))?;
    if !status.success() {
        bail!("the benchmark harness failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_build_needs_no_release_binary() {
        assert!(super::needs_no_binaries(&["--only", "build"]));
        assert!(super::needs_no_binaries(&["--quick", "--only", "build"]));
        assert!(!super::needs_no_binaries(&["--only", "build,export"]));
        assert!(!super::needs_no_binaries(&["--only", "sync"]));
        assert!(!super::needs_no_binaries(&[]));
        assert!(!super::needs_no_binaries(&["--quick"]));
    }
}
