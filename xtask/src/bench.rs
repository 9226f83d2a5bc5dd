//! `cargo xtask bench [--quick] [OPTIONS]`: a thin launcher. It builds the release binaries
//! (`ccsqm`, `ccsqm-sandbox`, and the harness `ccsqm-bench` from `crates/bench`), then runs the
//! harness, which does the work and writes `BENCHMARKS.md`. Options go to the harness
//! (`--quick`, `--output FILE`, `--only SECTIONS`); see `crates/bench/src/main.rs`.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

pub fn run(root: &Path, args: &[&str]) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
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
