//! Installing the project's Python and npm tools under `target/spec-tools/` on first use, at
//! pinned versions: `cargo xtask spec-lint`'s linters and `cargo xtask conformance`'s
//! schemathesis. A stamp file in each install directory records what it holds, so later runs
//! reuse it and a changed pin reinstalls. Unix paths only (`venv/bin`).

use std::ffi::OsStr;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Where the tools are installed, relative to the workspace root.
pub const TOOLS_DIR: &str = "target/spec-tools";

/// Written into an install directory last, holding what was installed there.
const STAMP: &str = ".installed";

/// Makes sure the Python venv `venv` holds `pin` (a pip requirement such as `pkg==1.2.3`; its
/// dependencies are resolved by pip); returns the venv's interpreter. `who` is the command
/// that needs it, for messages.
pub fn install_pip_venv(root: &Path, venv: &Path, pin: &str, who: &str) -> Result<PathBuf> {
    let python = venv.join("bin/python");
    ensure_installed(root, venv, pin, &python, || {
        run_install(
            root,
            Command::new("python3").args(["-m", "venv"]).arg(venv),
            "python3 -m venv",
            &format!(
                "{who} needs python3 with its venv module on PATH (on Debian or Ubuntu: \
                 apt-get install python3-venv)"
            ),
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
                pin,
            ]),
            "pip",
            "check that PyPI is reachable (and pip's proxy or index settings, if any)",
        )
    })?;
    Ok(python)
}

/// Runs `install` into a clean `dir` unless `dir`'s stamp already says `pin` and `exe` exists
/// (a venv whose interpreter link dangles, say after a Python upgrade, is reinstalled too).
/// The stamp is written last, so an interrupted install is redone from scratch.
pub fn ensure_installed(
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
pub fn run_install(root: &Path, cmd: &mut Command, what: &str, hint: &str) -> Result<()> {
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
pub fn shown(root: &Path, cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|arg: &OsStr| relative(root, Path::new(arg)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `path` relative to `root` when it lies below it, as it is otherwise.
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}
