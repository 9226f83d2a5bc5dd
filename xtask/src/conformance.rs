//! `cargo xtask conformance`: property-based tests of the sandbox against `spec/ccsqm.yaml`,
//! with [schemathesis].
//!
//! 1. Installs the pinned schemathesis in a Python venv under `target/spec-tools/` on first use
//!    (like `spec-lint`'s tools: needs `python3` with its venv module, and PyPI reachable).
//! 2. Builds the `ccsqm-sandbox` binary and starts it on a free loopback port (`--port 0`, the
//!    port read from the line it prints), with its default data and credentials; it is killed
//!    when the run ends, whatever the outcome.
//! 3. Runs `schemathesis run spec/ccsqm.yaml --url <sandbox> --checks all` with the settings of
//!    `xtask/conformance/schemathesis.toml` (authentication, the fixed operator ID, and why any
//!    check is configured); fails on any failure. Its state (the example
//!    database, caches) stays under `target/conformance/`.
//!
//! Arguments after `conformance` go to `schemathesis run` as they are, e.g.
//! `cargo xtask conformance --seed 42 --max-examples 1000`.
//!
//! [schemathesis]: https://pypi.org/project/schemathesis/

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::codegen::SPEC;
use crate::tools::{self, shown};

/// The pinned schemathesis (PyPI). Its own dependencies are resolved by pip.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// schemathesis's settings, relative to the workspace root.
pub const CONFIG: &str = "xtask/conformance/schemathesis.toml";

/// Where schemathesis and Hypothesis keep their state, relative to the workspace root.
const STATE_DIR: &str = "target/conformance";

/// The longest a run may take before it is stopped (a run takes well under a minute).
const TIME_LIMIT: Duration = Duration::from_secs(600);

/// Installs schemathesis if needed, runs it against a fresh sandbox, and fails on any failure.
/// `extra` goes to `schemathesis run`.
pub fn run(root: &Path, extra: &[&str]) -> Result<()> {
    let started = Instant::now();
    let pin = format!("schemathesis=={SCHEMATHESIS_VERSION}");
    let python = tools::install_pip_venv(
        root,
        &root.join(tools::TOOLS_DIR).join("schemathesis"),
        &pin,
        "conformance",
    )?;
    let sandbox_exe = build_sandbox(root)?;
    let sandbox = Sandbox::start(&sandbox_exe)?;
    eprintln!("==> sandbox listening on {}", sandbox.url);

    let state = root.join(STATE_DIR);
    std::fs::create_dir_all(&state).with_context(|| format!("creating {}", state.display()))?;
    let mut cmd = Command::new(&python);
    cmd.args([
        "-m",
        "schemathesis.cli",
        "--config-file",
        CONFIG,
        "run",
        SPEC,
    ])
    .args(["--url", &sandbox.url, "--checks", "all"])
    .args(extra)
    .current_dir(root)
    // Hypothesis's own files (otherwise `.hypothesis/` in the working directory).
    .env("HYPOTHESIS_STORAGE_DIRECTORY", state.join("hypothesis"));
    let shown = shown(root, &cmd);
    eprintln!("==> schemathesis {SCHEMATHESIS_VERSION}: {shown}");
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start schemathesis ({shown})"))?;
    let status = wait_at_most(&mut child, TIME_LIMIT)?;
    drop(sandbox);
    let elapsed = started.elapsed().as_secs_f64();
    match status {
        None => bail!(
            "schemathesis did not finish within {} s and was stopped",
            TIME_LIMIT.as_secs()
        ),
        // schemathesis exits with 1 when it found failures, other codes on errors of its own.
        Some(status) if status.code() == Some(1) => bail!(
            "schemathesis found failures after {elapsed:.0} s: the report above shows each, \
             with a curl command that reproduces it; re-run with its seed: \
             cargo xtask conformance --seed <Seed>"
        ),
        Some(status) if !status.success() => {
            bail!("schemathesis failed ({status}); see its output above")
        }
        Some(_) => {
            eprintln!(
                "conformance: the sandbox passed schemathesis's checks of {SPEC} in {elapsed:.0} s"
            );
            Ok(())
        }
    }
}

/// Builds the `ccsqm-sandbox` binary (debug profile, shared with `cargo test`) and returns its
/// path, as cargo reports it.
fn build_sandbox(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-p", "ccsqm-sandbox", "--bin", "ccsqm-sandbox"])
        .args(["--features", "server-cli"])
        .args(["--message-format", "json-render-diagnostics"])
        .current_dir(root)
        .stdout(Stdio::piped());
    eprintln!("==> cargo build -p ccsqm-sandbox --bin ccsqm-sandbox");
    let output = cmd.output().context("could not run cargo build")?;
    if !output.status.success() {
        bail!("building ccsqm-sandbox failed ({})", output.status);
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "ccsqm-sandbox")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .context("cargo build did not report the ccsqm-sandbox executable")
}

/// A running `ccsqm-sandbox`, killed when dropped.
struct Sandbox {
    child: Child,
    url: String,
}

impl Sandbox {
    /// Starts the sandbox on a free loopback port and reads its base URL from its first line,
    /// `ccsqm sandbox listening on http://127.0.0.1:PORT (…)`.
    fn start(exe: &Path) -> Result<Self> {
        let child = Command::new(exe)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("could not start {}", exe.display()))?;
        // Owned from here: an early return below kills it.
        let mut sandbox = Sandbox {
            child,
            url: String::new(),
        };
        let stdout = sandbox.child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        lines
            .read_line(&mut first)
            .context("reading the sandbox's first line")?;
        sandbox.url = first
            .strip_prefix("ccsqm sandbox listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .with_context(|| format!("unexpected first line from the sandbox: {first:?}"))?
            .to_owned();
        // The rest of its output (credentials, the stop message) is not needed: drained so that
        // it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
        Ok(sandbox)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for `child` for at most `limit`; past it, kills it and returns `None`.
fn wait_at_most(child: &mut Child, limit: Duration) -> Result<Option<std::process::ExitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().context("waiting for schemathesis")? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
