//! `cargo xtask spec-lint`: validates `spec/ccsqm.yaml` with two independent tools.
//!
//! - [openapi-spec-validator] (PyPI), forced to the OpenAPI 3.0 schema: a strict check that the
//!   document is valid OpenAPI 3.0 (structure, references, parameters).
//! - [Redocly CLI] (npm) `lint`, configured by `redocly.yaml` at the workspace root with its
//!   `recommended-strict` ruleset: the `recommended` rules with warnings raised to errors, so
//!   that a warning fails the run too. It also checks the examples against their schemas.
//!
//! Both are installed on first use, at the versions pinned below, under `target/spec-tools/`: a
//! Python venv (`python3 -m venv`, then pip) and an npm prefix. A stamp file in each records the
//! installed version, so later runs reuse them and a changed pin reinstalls. A fresh clone needs
//! `python3` (with its venv module), `node` and `npm` on `PATH`, and PyPI and the npm registry
//! reachable on first use. Unix paths only (`venv/bin`), like the rest of the project's tooling.
//!
//! [openapi-spec-validator]: https://pypi.org/project/openapi-spec-validator/
//! [Redocly CLI]: https://www.npmjs.com/package/@redocly/cli

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::codegen::SPEC;
use crate::tools::{self, ensure_installed, run_install, shown};

/// The pinned openapi-spec-validator (PyPI). Its own dependencies are resolved by pip.
pub const OPENAPI_SPEC_VALIDATOR_VERSION: &str = "0.9.0";

/// The pinned Redocly CLI (npm). It ships as one bundled package without dependencies. It needs
/// Node.js >= 20.19 (or >= 22.12); releases after 2.x's Node 20 deprecation will need Node 22.
pub const REDOCLY_CLI_VERSION: &str = "2.77.0";

/// Redocly CLI's configuration (the ruleset and its exceptions), relative to the workspace root.
const REDOCLY_CONFIG: &str = "redocly.yaml";

/// Installs the tools if needed, then runs both on the spec, streaming their output; fails if
/// either reports a problem, naming the tool and the command that re-runs it.
pub fn run(root: &Path) -> Result<()> {
    let tools = root.join(tools::TOOLS_DIR);
    let python = install_validator(root, &tools.join("venv"))?;
    let redocly = install_redocly(root, &tools.join("npm"))?;

    let mut validate = Command::new(&python);
    validate
        .args(["-m", "openapi_spec_validator", "--schema", "3.0"])
        .args(["--validation-errors", "all"])
        .arg(SPEC);
    let mut lint = Command::new(&redocly);
    lint.args(["lint", "--config", REDOCLY_CONFIG, "--lint-config", "error"])
        .arg(SPEC)
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true");

    let mut failures = Vec::new();
    for (name, mut cmd) in [
        (
            format!("openapi-spec-validator {OPENAPI_SPEC_VALIDATOR_VERSION}"),
            validate,
        ),
        (format!("Redocly CLI {REDOCLY_CLI_VERSION}"), lint),
    ] {
        cmd.current_dir(root);
        let shown = shown(root, &cmd);
        eprintln!("==> {name}: {shown}");
        let status = cmd
            .status()
            .with_context(|| format!("could not start {name} ({shown})"))?;
        if !status.success() {
            failures.push(format!(
                "{name} failed on {SPEC} ({status}); re-run it from the workspace \
                 root with: {shown}"
            ));
        }
    }
    if !failures.is_empty() {
        bail!("spec-lint failed:\n  {}", failures.join("\n  "));
    }
    eprintln!("spec-lint: {SPEC} passed openapi-spec-validator and Redocly CLI");
    Ok(())
}

/// Makes sure `venv` holds the pinned openapi-spec-validator; returns the venv's interpreter
/// (the tool is run as `python -m openapi_spec_validator`, which survives moving the checkout).
fn install_validator(root: &Path, venv: &Path) -> Result<PathBuf> {
    let pin = format!("openapi-spec-validator=={OPENAPI_SPEC_VALIDATOR_VERSION}");
    tools::install_pip_venv(root, venv, &pin, "spec-lint")
}

/// Makes sure the npm prefix `prefix` holds the pinned Redocly CLI; returns its executable.
fn install_redocly(root: &Path, prefix: &Path) -> Result<PathBuf> {
    let pin = format!("@redocly/cli@{REDOCLY_CLI_VERSION}");
    let exe = prefix.join("node_modules/.bin/redocly");
    ensure_installed(root, prefix, &pin, &exe, || {
        std::fs::create_dir_all(prefix)
            .with_context(|| format!("creating {}", prefix.display()))?;
        run_install(
            root,
            Command::new("npm")
                .args(["install", "--prefix"])
                .arg(prefix)
                .args([
                    "--no-audit",
                    "--no-fund",
                    "--no-update-notifier",
                    "--save-exact",
                    &pin,
                ]),
            "npm",
            "spec-lint needs node (>= 20.19) and npm on PATH, and the npm registry reachable",
        )
    })?;
    Ok(exe)
}
