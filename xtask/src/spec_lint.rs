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

use std::ffi::OsStr;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::codegen::SPEC;

/// The pinned openapi-spec-validator (PyPI). Its own dependencies are resolved by pip.
pub const OPENAPI_SPEC_VALIDATOR_VERSION: &str = "0.9.0";

/// The pinned Redocly CLI (npm). It ships as one bundled package without dependencies. It needs
/// Node.js >= 20.19 (or >= 22.12); releases after 2.x's Node 20 deprecation will need Node 22.
pub const REDOCLY_CLI_VERSION: &str = "2.77.0";

/// Where the tools are installed, relative to the workspace root.
const TOOLS_DIR: &str = "target/spec-tools";

/// Redocly CLI's configuration (the ruleset and its exceptions), relative to the workspace root.
const REDOCLY_CONFIG: &str = "redocly.yaml";

/// Written into an install directory last, holding what was installed there.
const STAMP: &str = ".installed";

/// Installs the tools if needed, then runs both on the spec, streaming their output; fails if
/// either reports a problem, naming the tool and the command that re-runs it.
pub fn run(root: &Path) -> Result<()> {
    let tools = root.join(TOOLS_DIR);
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
    let python = venv.join("bin/python");
    ensure_installed(root, venv, &pin, &python, || {
        run_install(
            root,
            Command::new("python3").args(["-m", "venv"]).arg(venv),
            "python3 -m venv",
            "spec-lint needs python3 with its venv module on PATH (on Debian or Ubuntu: \
             apt-get install python3-venv)",
        )?;
        run_install(
            root,
            Command::new(&python).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                &pin,
            ]),
            "pip",
            "check that PyPI is reachable (and pip's proxy or index settings, if any)",
        )
    })?;
    Ok(python)
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

/// Runs `install` into a clean `dir` unless `dir`'s stamp already says `pin` and `exe` exists
/// (a venv whose interpreter link dangles, say after a Python upgrade, is reinstalled too).
/// The stamp is written last, so an interrupted install is redone from scratch.
fn ensure_installed(
    root: &Path,
    dir: &Path,
    pin: &str,
    exe: &Path,
    install: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let stamp = dir.join(STAMP);
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == pin) && exe.exists() {
        return Ok(());
    }
    let rel = relative(root, dir);
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("removing the stale {rel}")),
    }
    eprintln!("==> installing {pin} into {rel} (first use; reused afterwards)");
    install().with_context(|| format!("could not install {pin} into {rel}"))?;
    if !exe.exists() {
        bail!(
            "installing {pin} into {rel} did not produce {}",
            relative(root, exe)
        );
    }
    std::fs::write(&stamp, format!("{pin}\n"))
        .with_context(|| format!("writing {}", stamp.display()))
}

/// Runs one install step (`what`, for messages) with its output streamed; on failure, says
/// what failed, the command, and `hint`.
fn run_install(root: &Path, cmd: &mut Command, what: &str, hint: &str) -> Result<()> {
    cmd.current_dir(root);
    let shown = shown(root, cmd);
    match cmd.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => bail!("{what} failed ({status}): {shown}\nhint: {hint}"),
        Err(e) if e.kind() == ErrorKind::NotFound => bail!(
            "`{}` was not found on PATH\nhint: {hint}",
            cmd.get_program().to_string_lossy()
        ),
        Err(e) => Err(e).with_context(|| format!("could not run {shown}\nhint: {hint}")),
    }
}

/// `cmd` as a shell line, its paths relative to `root` (the directory it is run from).
fn shown(root: &Path, cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|arg: &OsStr| relative(root, Path::new(arg)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `path` relative to `root` when it lies below it, as it is otherwise.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}
