//! `cargo xtask spec-drill`: the spec-first promise, tried as a maintainer would.
//!
//! On a scratch copy of the workspace (`target/spec-drill/work`, built into
//! `target/spec-drill/target`, seeded on first use with a copy of the workspace's own debug
//! build so that no dependency is compiled twice), each of four kinds of spec edit is applied
//! alone to a fresh copy, regenerated ([`crate::codegen::generate`]) and built, and must end as
//! docs/spec-first.md promises:
//!
//! 1. a response field of a call flows to NDJSON, CSV, `ccsqm schema` and the sandbox's data,
//!    and to `ccsqm sync`'s table: a database synced before the edit gains its column
//!    (`ALTER TABLE … ADD COLUMN`, a recorded migration), filled by the next sync;
//! 2. a request filter breaks the sandbox's build naming the field, until the sandbox lists it;
//!    then `ccsqm details` has a flag for it, which `--dry-run` shows in the body;
//! 3. an inspection status is named by `--status`, asked for by default, and served;
//! 4. an operation breaks the sandbox's and the CLI's builds naming it and the file to edit,
//!    until placed; then `ccsqm api --list` shows it and `ccsqm api` calls it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{bail, ensure, Context, Result};

use crate::codegen::{self, SPEC};

/// Runs every drill; fails on the first broken promise.
pub fn run(root: &Path) -> Result<()> {
    let base = root.join("target/spec-drill");
    let work = base.join("work");
    let target = base.join("target");
    seed_target(root, &target)?;
    let drills: [(&str, Check); 4] = [
        ("a response field", response_field),
        ("a request filter", request_field),
        ("an enumeration value", enum_value),
        ("an operation", operation),
    ];
    for (name, check) in drills {
        eprintln!("==> spec drill: {name}");
        let drill = Drill::new(root, &work, &target)?;
        check(&drill).with_context(|| format!("spec drill: {name}"))?;
        eprintln!("    ok");
    }
    Ok(())
}

/// One drill: edits the copy and checks the outcome.
type Check = fn(&Drill) -> Result<()>;

/// `cargo xtask spec-loop`: how long a maintainer waits after a one-field spec edit, on a
/// scratch copy already built once: `cargo xtask codegen`, then the incremental debug build of
/// `ccsqm` (which holds the sandbox). Prints `spec-loop codegen_ms=… build_ms=…` on stdout.
pub fn time_loop(root: &Path) -> Result<()> {
    let base = root.join("target/spec-drill");
    let target = base.join("target");
    seed_target(root, &target)?;
    let drill = Drill::new(root, &base.join("work"), &target)?;
    eprintln!("==> spec loop: the copy's first build (not timed)");
    drill.builds("ccsqm-cli")?;
    drill.insert_in_spec(
        "\n    Call:\n",
        "      properties:\n",
        "        drill_score:\n          description: A score added by the spec loop.\n          \
         type: number\n",
    )?;
    let started = std::time::Instant::now();
    drill.codegen()?;
    let codegen = started.elapsed();
    let started = std::time::Instant::now();
    drill.builds("ccsqm-cli")?;
    let build = started.elapsed();
    println!(
        "spec-loop codegen_ms={} build_ms={}",
        codegen.as_millis(),
        build.as_millis()
    );
    Ok(())
}

struct Drill {
    work: PathBuf,
    target: PathBuf,
}

impl Drill {
    /// A fresh copy of the workspace's sources in `work`. The files get new mtimes: a copy that
    /// kept the originals' would look older than the previous drill's build, which cargo would
    /// then take as fresh.
    fn new(root: &Path, work: &Path, target: &Path) -> Result<Self> {
        if work.exists() {
            std::fs::remove_dir_all(work)
                .with_context(|| format!("removing {}", work.display()))?;
        }
        std::fs::create_dir_all(work)?;
        for entry in std::fs::read_dir(root)? {
            let entry = entry?;
            let name = entry.file_name();
            if name == "target" || name == ".git" {
                continue;
            }
            let status = Command::new("cp")
                .arg("-R")
                .arg(entry.path())
                .arg(work)
                .status()
                .context("running cp")?;
            ensure!(
                status.success(),
                "copying {} failed",
                entry.path().display()
            );
        }
        Ok(Self {
            work: work.to_owned(),
            target: target.to_owned(),
        })
    }

    /// Replaces `anchor` (which must be in the file once or more) by `with` in the copy's `rel`.
    fn edit(&self, rel: &str, anchor: &str, with: &str) -> Result<()> {
        let path = self.work.join(rel);
        let text = std::fs::read_to_string(&path)?;
        ensure!(
            text.contains(anchor),
            "{rel}: the drill's anchor {anchor:?} is gone"
        );
        std::fs::write(&path, text.replacen(anchor, with, 1))?;
        Ok(())
    }

    /// Inserts `text` after the line `after` that follows the line `within` in the spec.
    fn insert_in_spec(&self, within: &str, after: &str, text: &str) -> Result<()> {
        let path = self.work.join(SPEC);
        let spec = std::fs::read_to_string(&path)?;
        let start = spec
            .find(within)
            .with_context(|| format!("{SPEC}: no {within:?}"))?;
        let at = spec[start..]
            .find(after)
            .map(|i| start + i + after.len())
            .with_context(|| format!("{SPEC}: no {after:?} after {within:?}"))?;
        std::fs::write(&path, format!("{}{text}{}", &spec[..at], &spec[at..]))?;
        Ok(())
    }

    fn codegen(&self) -> Result<()> {
        codegen::generate(&self.work, false).context("cargo xtask codegen on the edited spec")
    }

    /// `cargo build -p <package>` in the copy; its output.
    fn build(&self, package: &str) -> Result<Output> {
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--quiet", "--package", package])
            .current_dir(&self.work)
            .env("CARGO_TARGET_DIR", &self.target)
            .output()
            .context("running cargo build")
    }

    fn builds(&self, package: &str) -> Result<()> {
        let output = self.build(package)?;
        ensure!(
            output.status.success(),
            "`cargo build -p {package}` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(())
    }

    /// The build of `package` fails with an error that contains every one of `expected`.
    fn fails(&self, package: &str, expected: &[&str]) -> Result<()> {
        let output = self.build(package)?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        ensure!(
            !output.status.success(),
            "`cargo build -p {package}` succeeded: the edit should have been refused"
        );
        for text in expected {
            ensure!(
                stderr.contains(text),
                "`cargo build -p {package}` failed without naming {text:?}:\n{stderr}"
            );
        }
        Ok(())
    }

    /// Runs the copy's `ccsqm` with `args`; its stdout (it must succeed).
    fn ccsqm(&self, args: &[&str]) -> Result<String> {
        let output = self.ccsqm_output(args)?;
        ensure!(
            output.status.success(),
            "`ccsqm {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn ccsqm_output(&self, args: &[&str]) -> Result<Output> {
        Command::new(self.target.join("debug/ccsqm"))
            .args(args)
            .env_remove("CCSQM_CONFIG")
            .env("NO_COLOR", "1")
            .output()
            .context("running the drill's ccsqm")
    }
}

/// A copy of the workspace's debug build, so that the copy compiles only its own crates.
///
/// A real copy, not hard links: cargo names a workspace member's artifacts by its path relative
/// to the workspace, so the copy's crates have the same file names as the workspace's, and
/// cargo rewrites fingerprint files in place: hard links would let the drill's builds overwrite
/// the workspace's own.
fn seed_target(root: &Path, target: &Path) -> Result<()> {
    let built = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("debug");
    if target.join("debug").exists() || !built.join("deps").exists() {
        return Ok(());
    }
    let seeded = (|| -> Result<()> {
        let debug = target.join("debug");
        std::fs::create_dir_all(debug.join("deps"))?;
        for dir in ["build", ".fingerprint"] {
            if built.join(dir).exists() {
                copy(&[built.join(dir)], &debug)?;
            }
        }
        // Libraries and their dep-info only: the test executables (most of the size) are not
        // needed to build `ccsqm`.
        let libraries: Vec<PathBuf> = std::fs::read_dir(built.join("deps"))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("lib") || n.ends_with(".d"))
            })
            .collect();
        for chunk in libraries.chunks(500) {
            copy(chunk, &debug.join("deps"))?;
        }
        Ok(())
    })();
    if seeded.is_err() {
        // The copy then builds from scratch instead.
        let _ = std::fs::remove_dir_all(target);
    }
    Ok(())
}

/// `cp -a` of `paths` into the folder `into`.
fn copy(paths: &[PathBuf], into: &Path) -> Result<()> {
    let status = Command::new("cp")
        .arg("-a")
        .args(paths)
        .arg(into)
        .status()
        .context("running cp -a")?;
    ensure!(status.success(), "cp -a into {} failed", into.display());
    Ok(())
}

fn response_field(d: &Drill) -> Result<()> {
    // A database synced by the ccsqm of before the edit.
    d.builds("ccsqm-cli")?;
    let db = d.work.join("drill-sync.sqlite3");
    let db_arg = db.display().to_string();
    d.ccsqm(&["sync", "--sandbox", "--db", &db_arg])?;
    d.insert_in_spec(
        "\n    Call:\n",
        "      properties:\n",
        "        drill_score:\n          description: A score added by the spec drill.\n          \
         type: number\n          format: double\n          minimum: 0\n          maximum: 5\n        \
         drill_tier:\n          description: A tier added by the spec drill.\n          \
         type: string\n          enum: [gold, silver]\n",
    )?;
    d.codegen()?;
    d.builds("ccsqm-cli")?;
    let csv = d.ccsqm(&["details", "--sandbox", "--limit", "3", "-o", "csv"])?;
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let column = header
        .iter()
        .position(|c| *c == "drill_score")
        .with_context(|| format!("CSV has no drill_score column: {header:?}"))?;
    for line in lines {
        let cell = line.split(',').nth(column).unwrap_or_default();
        let score: f64 = cell
            .parse()
            .with_context(|| format!("CSV drill_score {cell:?} is not a number"))?;
        ensure!(
            (0.0..=5.0).contains(&score),
            "the sandbox served drill_score {score}, outside 0..=5"
        );
    }
    let ndjson = d.ccsqm(&["details", "--sandbox", "--limit", "1", "-o", "ndjson"])?;
    ensure!(
        ndjson.contains("\"drill_score\":"),
        "NDJSON lacks drill_score: {ndjson}"
    );
    ensure!(
        ["gold", "silver"]
            .iter()
            .any(|tier| ndjson.contains(&format!("\"drill_tier\":\"{tier}\""))),
        "the sandbox serves no drill_tier of its enum: {ndjson}"
    );
    let schema = d.ccsqm(&["schema", "call"])?;
    ensure!(
        schema.contains("drill_score"),
        "`ccsqm schema call` lacks drill_score"
    );
    // The generated table has the columns, and the old database gains them; the calls read
    // again fill them (each call changed).
    let tables = std::fs::read_to_string(d.work.join(codegen::SYNC_OUT))?;
    ensure!(
        tables.contains("\"drill_score\" REAL") && tables.contains("\"drill_tier\" TEXT"),
        "{} lacks the columns drill_score and drill_tier",
        codegen::SYNC_OUT
    );
    let output = d.ccsqm_output(&["sync", "--sandbox", "--db", &db_arg, "--overlap", "10000d"])?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.success() && stderr.contains("added columns drill_score, drill_tier"),
        "`ccsqm sync` into the database of before the edit did not add the columns: {stderr}"
    );
    ensure!(
        stderr.contains(" 0 inserted") && !stderr.contains(" 0 updated"),
        "`ccsqm sync` did not fill the new columns of the calls it read again: {stderr}"
    );
    let status = d.ccsqm(&["sync", "status", "--db", &db_arg])?;
    ensure!(
        status.contains("2 migration(s)"),
        "`ccsqm sync status` does not show the migration: {status}"
    );
    Ok(())
}

fn request_field(d: &Drill) -> Result<()> {
    d.insert_in_spec(
        "\n    AppraisecallDetailsRequest:\n",
        "      properties:\n",
        "        drill_team:\n          description: A filter added by the spec drill.\n          \
         type: string\n          nullable: true\n",
    )?;
    d.codegen()?;
    d.fails(
        "ccsqm-sandbox",
        &["drill_team", "crates/sandbox/src/data.rs"],
    )?;
    d.edit(
        "crates/sandbox/src/data.rs",
        "            call_types: _,\n",
        "            call_types: _,\n            drill_team: _, // the drill's filter: ignored\n",
    )?;
    d.builds("ccsqm-cli")?;
    let help = d.ccsqm(&["details", "--help"])?;
    ensure!(
        help.contains("--drill-team") && help.contains("A filter added by the spec drill."),
        "`ccsqm details --help` lacks --drill-team with the spec's description"
    );
    let dry = d.ccsqm(&["details", "--sandbox", "--drill-team", "blue", "--dry-run"])?;
    ensure!(
        dry.contains("\"drill_team\": \"blue\""),
        "--dry-run lacks drill_team: {dry}"
    );
    Ok(())
}

fn enum_value(d: &Drill) -> Result<()> {
    d.edit(
        SPEC,
        "enum: [0, 1, 2, 3, 9, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40]",
        "enum: [0, 1, 2, 3, 9, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41]",
    )?;
    d.edit(
        SPEC,
        "        - VoiceFileInvalid\n",
        "        - VoiceFileInvalid\n        - DrillReviewPending\n",
    )?;
    d.edit(
        SPEC,
        "        - voice file invalid\n",
        "        - voice file invalid\n        - review pending (the spec drill)\n",
    )?;
    d.codegen()?;
    d.builds("ccsqm-cli")?;
    let help = d.ccsqm(&["details", "--help"])?;
    ensure!(
        help.contains("drill-review-pending"),
        "`--status` does not name the new status"
    );
    let dry = d.ccsqm(&["details", "--sandbox", "--dry-run"])?;
    ensure!(
        dry.contains("    41\n"),
        "the default statuses leave 41 out: {dry}"
    );
    let served = d.ccsqm(&[
        "details",
        "--sandbox",
        "--status",
        "drill-review-pending",
        "--all",
        "-o",
        "ndjson",
    ])?;
    ensure!(
        served.lines().count() > 0 && served.lines().all(|l| l.contains("\"status\":41")),
        "the sandbox serves no call of status 41"
    );
    let table = d.ccsqm(&[
        "details",
        "--sandbox",
        "--status",
        "41",
        "-o",
        "table",
        "--limit",
        "1",
    ])?;
    ensure!(
        table.contains("drill-review-pending"),
        "the table does not name status 41: {table}"
    );
    Ok(())
}

fn operation(d: &Drill) -> Result<()> {
    d.edit(
        SPEC,
        "\ncomponents:\n",
        "\n  /apiaccess/CCSQM/rest/ccisqm/v1/appraisecall/drill:\n    post:\n      tags: [appraisecall]\n      \
         operationId: appraisecall_drill\n      summary: An operation added by the spec drill\n      \
         security:\n        - bearerAuth: []\n      parameters:\n        - name: x-UserId\n          \
         in: header\n          required: true\n          description: Operator ID.\n          \
         schema:\n            type: string\n      requestBody:\n        required: true\n        \
         content:\n          application/json:\n            schema:\n              \
         $ref: '#/components/schemas/DrillRequest'\n      responses:\n        '200':\n          \
         description: A call.\n          content:\n            application/json:\n              \
         schema:\n                $ref: '#/components/schemas/Call'\n\ncomponents:\n",
    )?;
    d.insert_in_spec(
        "\ncomponents:\n",
        "  schemas:\n",
        "    DrillRequest:\n      description: The drill's request.\n      type: object\n      \
         required: [call_id]\n      properties:\n        call_id:\n          \
         description: Session ID.\n          type: string\n",
    )?;
    d.codegen()?;
    d.fails(
        "ccsqm-sandbox",
        &["AppraisecallDrill", "crates/sandbox/src/server.rs"],
    )?;
    d.edit(
        "crates/sandbox/src/server.rs",
        "        Operation::TokenByAkSk => on(method, token),\n",
        "        Operation::TokenByAkSk => on(method, token),\n        Operation::AppraisecallDrill => on(method, not_implemented),\n",
    )?;
    d.fails(
        "ccsqm-cli",
        &["AppraisecallDrill", "crates/cli/src/operations.rs"],
    )?;
    d.edit(
        "crates/cli/src/operations.rs",
        "        Operation::TokenByAkSk => Some(\"token\"),\n",
        "        Operation::TokenByAkSk => Some(\"token\"),\n        Operation::AppraisecallDrill => None,\n",
    )?;
    d.builds("ccsqm-cli")?;
    let list = d.ccsqm(&["api", "--list"])?;
    ensure!(
        list.contains("appraisecall_drill"),
        "`ccsqm api --list` lacks the operation"
    );
    let dry = d.ccsqm(&[
        "api",
        "appraisecall_drill",
        "--sandbox",
        "-f",
        "call_id=abc",
        "--dry-run",
    ])?;
    ensure!(
        dry.contains("/appraisecall/drill") && dry.contains("\"call_id\": \"abc\""),
        "`ccsqm api --dry-run` does not show the request: {dry}"
    );
    let output = d.ccsqm_output(&[
        "api",
        "appraisecall_drill",
        "--sandbox",
        "-f",
        "call_id=abc",
    ])?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() != Some(5) || !stderr.contains("501") {
        bail!("`ccsqm api appraisecall_drill` against the sandbox: expected exit 5 and its 501, got {:?}: {stderr}", output.status.code());
    }
    Ok(())
}
