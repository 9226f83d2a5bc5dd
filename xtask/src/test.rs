//! `cargo xtask test [ARGS]`: CONTRIBUTING.md's test command and CI's test step. Every test of the
//! workspace, PostgreSQL's included, on a fresh machine: a throwaway PostgreSQL server is
//! started by `.ci/postgres.sh` (which installs PostgreSQL from Debian's packages when it is
//! missing and the user is root), `cargo test --workspace ARGS` runs with its URL in
//! `CCSQM_TEST_POSTGRES_URL`, and the server is stopped and removed when the tests end (also
//! on Ctrl-C or SIGTERM). The script and `cargo test` run in one `bash`, whose exit trap stops
//! the server.
//!
//! `CCSQM_TEST_POSTGRES_URL` already set: that server is used and none is started. No server
//! (PostgreSQL neither installed nor installable): an error, unless `CCSQM_TEST_ALLOW_SKIP=1`,
//! with which the PostgreSQL tests say they are skipped (a test never passes without
//! checking: see `crates/cli/tests/common/databases.rs`).
//!
//! Prometheus (`promtool`, `prometheus`) for the tests of `ccsqm sync --metrics`: installed
//! from Debian's packages by `.ci/prometheus.sh` when missing (as root); the tests start their
//! own server; without it they say "skipped" and fail unless `CCSQM_TEST_ALLOW_SKIP=1`.
//!
//! ARGS go to `cargo test`: `cargo xtask test -p ccsqm-cli --test sync`, `cargo xtask test --
//! --nocapture`. With `-p`/`--package`, `--workspace` is left out (cargo would run the whole
//! workspace otherwise).

use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// What runs in `bash`: `$CCSQM_CARGO` is cargo, `"$@"` the arguments of `cargo test`.
const SCRIPT: &str = r#"set -euo pipefail
# The exit trap (set by .ci/postgres.sh) stops the server: exit, also on a signal.
trap 'exit 130' INT
trap 'exit 143' TERM HUP
if [ -n "${CCSQM_TEST_POSTGRES_URL:-}" ]; then
    echo "PostgreSQL: the server of CCSQM_TEST_POSTGRES_URL (none started)" >&2
else
    source .ci/postgres.sh
fi
# Prometheus' promtool and server for the tests of `ccsqm sync --metrics` (installed when
# missing; each test starts its own server).
source .ci/prometheus.sh
if [ -z "${CCSQM_TEST_POSTGRES_URL:-}" ]; then
    if [ "${CCSQM_TEST_ALLOW_SKIP:-}" = 1 ]; then
        echo "no PostgreSQL server: its tests say they are skipped (CCSQM_TEST_ALLOW_SKIP=1)" >&2
    else
        echo "error: no PostgreSQL server for the tests (see above); install PostgreSQL, or set CCSQM_TEST_POSTGRES_URL, or CCSQM_TEST_ALLOW_SKIP=1 to skip its tests knowingly" >&2
        exit 1
    fi
fi
echo "==> cargo test $*" >&2
"$CCSQM_CARGO" test "$@"
"#;

pub fn run(root: &Path, args: &[&str]) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut test_args: Vec<&str> = Vec::new();
    if !selects_packages(args) {
        test_args.push("--workspace");
    }
    test_args.extend_from_slice(args);
    // A free port of the loopback for the server (`.ci/postgres.sh` needs no python3 then).
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .context("finding a free port for PostgreSQL")?
        .port();
    let status = Command::new("bash")
        .arg("-c")
        .arg(SCRIPT)
        .arg("cargo xtask test") // $0
        .args(&test_args)
        .env("CCSQM_CARGO", &cargo)
        .env("CCSQM_PG_PORT", port.to_string())
        .current_dir(root)
        .status()
        .context("running bash (for .ci/postgres.sh and cargo test)")?;
    if !status.success() {
        bail!("cargo test failed ({status})");
    }
    Ok(())
}

/// Whether the arguments of `cargo test` choose packages (`-p`, `--package`), before a `--`
/// (after it, they are the test binaries').
fn selects_packages(args: &[&str]) -> bool {
    args.iter()
        .take_while(|a| **a != "--")
        .any(|a| a.starts_with("--package") || (a.starts_with("-p") && !a.starts_with("--")))
}

#[cfg(test)]
mod tests {
    use super::selects_packages;

    /// CONTRIBUTING.md's test command and CI's test step are this command (which starts
    /// PostgreSQL), not a bare `cargo test`, which would fail the PostgreSQL tests.
    #[test]
    fn contributing_and_ci_run_every_test_with_this_command() {
        let root = crate::project_root();
        let read = |path: &str| std::fs::read_to_string(root.join(path)).unwrap();
        let commands = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|l| l.starts_with("cargo test") || l.starts_with("cargo xtask test"))
                .map(str::to_owned)
                .collect()
        };
        let contributing = read("CONTRIBUTING.md");
        let block = contributing
            .split("# The tests")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("CONTRIBUTING.md's test command, after `# The tests`");
        assert_eq!(commands(block), ["cargo xtask test"], "{block}");
        // CI runs every test through this command (other `cargo test` lines there run one
        // crate in another configuration, never the workspace around it).
        let ci = commands(&read(".ci/run"));
        assert!(ci.iter().any(|c| c == "cargo xtask test"), "{ci:?}");
        assert!(
            !ci.iter()
                .any(|c| c.contains("--workspace") || c == "cargo test"),
            "{ci:?}"
        );
    }

    #[test]
    fn packages_are_chosen_by_p_or_package_before_the_separator() {
        for args in [
            &["-p", "ccsqm-cli"][..],
            &["-pccsqm-cli", "--test", "sync"],
            &["--package", "x"],
            &["--package=x", "--", "--nocapture"],
        ] {
            assert!(selects_packages(args), "{args:?}");
        }
        for args in [
            &[][..],
            &["--test", "sync"],
            &["--", "-p"],
            &["props", "--", "--package"],
        ] {
            assert!(!selects_packages(args), "{args:?}");
        }
    }
}
