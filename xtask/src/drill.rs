//! `cargo xtask spec-drill`: the spec-first promise, tried as a maintainer would.
//!
//! On a scratch copy of the workspace (`target/spec-drill/work`, built into
//! `target/spec-drill/target`, seeded on first use with a copy of the workspace's own debug
//! build so that no dependency is compiled twice), each kind of spec edit is applied to a fresh
//! copy, regenerated ([`crate::codegen::generate`]) and, when it must flow, built; each must
//! end as docs/spec-first.md's table "What an edit does" says:
//!
//! 1. response fields of a call (a number, an enumeration, a list of objects, a nested
//!    object) flow to NDJSON, CSV (arrays and objects as a JSON cell), `ccsqm schema` and the
//!    sandbox's data (deterministic, within their bounds), and to `ccsqm sync`'s table: a
//!    database synced before the edit gains their columns (`ALTER TABLE … ADD COLUMN`, a
//!    recorded migration), filled by the next sync;
//! 2. a request filter breaks the client's build (its request with the documented defaults,
//!    `crates/client/src/details_request.rs`) and then the sandbox's, naming the field, until
//!    each gives it a default or lists it;
//!    then `ccsqm details` has a flag for it, which `--dry-run` shows in the body; with it, a
//!    moved path (asked for and served there) and a tightened bound (refused above it);
//! 3. an inspection status is named by `--status`, asked for by default, and served;
//! 4. an operation breaks the sandbox's and the CLI's builds naming it and the file to edit,
//!    until placed; then `ccsqm api --list` shows it and `ccsqm api` calls it;
//! 5. without a build, in a second thread: a new header of `appraisecall/details`, optional or
//!    required, fails `cargo xtask codegen` naming it and `xtask/src/facts.rs`
//!    (`SENT_PARAMETERS`); a retyped, renamed or removed field and a removed enumeration value
//!    are called breaking by `cargo xtask api-diff`, which fails naming them, `Cargo.toml` and
//!    `CHANGELOG.md` (so does a new required header).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{bail, ensure, Context, Result};

use crate::codegen::{self, SPEC};

/// Runs every drill; fails on the first broken promise.
///
/// The edits that end before any build (refused by `cargo xtask codegen` or by `cargo xtask
/// api-diff`) run on their own copy in a second thread while the others build, one after the
/// other (two builds at once would only share the two cores); the edits that flow share the
/// builds of the drill of their kind (a response field, a request filter).
pub fn run(root: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    let base = root.join("target/spec-drill");
    let work = base.join("work");
    let target = base.join("target");
    seed_target(root, &target)?;
    let built: [(&str, Check); 4] = [
        (
            "a response field (a number, an enumeration, a list of objects, a nested object)",
            response_field,
        ),
        (
            "a request filter (and a moved path, a tightened bound)",
            request_field,
        ),
        ("an enumeration value", enum_value),
        ("an operation", operation),
    ];
    let quick_work = base.join("work-quick");
    let quick = std::thread::scope(|scope| {
        let quick = scope.spawn(|| -> Result<Vec<String>> {
            let mut said = Vec::new();
            for (name, check) in QUICK {
                let drill = Drill::new(root, &quick_work, &target)?;
                let outcome = check(&drill).with_context(|| format!("spec drill: {name}"))?;
                said.push(format!("==> spec drill: {name}\n    ok: {outcome}"));
            }
            Ok(said)
        });
        for (name, check) in built {
            eprintln!("==> spec drill: {name}");
            let drill = Drill::new(root, &work, &target)?;
            check(&drill).with_context(|| format!("spec drill: {name}"))?;
            eprintln!("    ok: flows");
        }
        quick
            .join()
            .map_err(|_| anyhow::anyhow!("the spec drills without a build panicked"))
    })?;
    for said in quick? {
        eprintln!("{said}");
    }
    eprintln!(
        "spec drill: done in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A drill that ends before any build: what it checked ("flows" or "fails at FILE naming
/// ITEM").
type Quick = fn(&Drill) -> Result<String>;

const QUICK: [(&str, Quick); 6] = [
    ("a new optional header", |d| new_header(d, false)),
    ("a new required header", |d| new_header(d, true)),
    ("a retyped field", retyped_field),
    ("a renamed field", renamed_field),
    ("a removed field", removed_field),
    ("a removed enumeration value", removed_enum_value),
];

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
    root: PathBuf,
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
            root: root.to_owned(),
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

    /// Replaces the first `anchor` that follows `within` in the spec by `with`.
    fn edit_spec_after(&self, within: &str, anchor: &str, with: &str) -> Result<()> {
        let path = self.work.join(SPEC);
        let spec = std::fs::read_to_string(&path)?;
        let start = spec
            .find(within)
            .with_context(|| format!("{SPEC}: no {within:?}"))?;
        let at = spec[start..]
            .find(anchor)
            .map(|i| start + i)
            .with_context(|| format!("{SPEC}: the drill's anchor {anchor:?} is gone"))?;
        std::fs::write(
            &path,
            format!("{}{with}{}", &spec[..at], &spec[at + anchor.len()..]),
        )?;
        Ok(())
    }

    /// `cargo xtask codegen` must fail naming every one of `expected`.
    fn codegen_fails(&self, expected: &[&str]) -> Result<()> {
        let error = match codegen::generate(&self.work, false) {
            Ok(()) => bail!("`cargo xtask codegen` accepted the edit: it should have refused it"),
            Err(e) => format!("{e:#}"),
        };
        for text in expected {
            ensure!(
                error.contains(text),
                "`cargo xtask codegen` failed without naming {text:?}: {error}"
            );
        }
        Ok(())
    }

    /// `cargo xtask api-diff` on the copy: it must list a change containing `item`, breaking
    /// or not as `breaking` says, and (when breaking) fail naming it and the files to edit.
    fn api_diff(&self, item: &str, breaking: bool) -> Result<()> {
        let (changes, policy) = crate::api_diff::evaluate(&self.work, false)?;
        ensure!(
            changes
                .iter()
                .any(|c| c.breaking == breaking && c.what.contains(item)),
            "`cargo xtask api-diff` lists no {} change naming {item:?}: {changes:?}",
            if breaking { "breaking" } else { "non-breaking" }
        );
        if breaking {
            let error = match policy {
                Ok(()) => bail!("`cargo xtask api-diff` passed a breaking change ({item})"),
                Err(e) => format!("{e:#}"),
            };
            for text in [item, "Cargo.toml", "CHANGELOG.md"] {
                ensure!(
                    error.contains(text),
                    "`cargo xtask api-diff` failed without naming {text:?}: {error}"
                );
            }
        }
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

/// The workspace's debug `ccsqm`, when it was built after the last change of any file it is
/// built from (the workspace's `Cargo.*`, `crates/`, `spec/`).
fn current_workspace_ccsqm(root: &Path) -> Result<Option<PathBuf>> {
    let ccsqm = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("debug/ccsqm");
    let Ok(built) = std::fs::metadata(&ccsqm).and_then(|m| m.modified()) else {
        return Ok(None);
    };
    fn newest(path: &Path, newest_so_far: &mut std::time::SystemTime) -> Result<()> {
        let meta = std::fs::symlink_metadata(path)?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(path)? {
                newest(&entry?.path(), newest_so_far)?;
            }
        } else if let Ok(modified) = meta.modified() {
            *newest_so_far = (*newest_so_far).max(modified);
        }
        Ok(())
    }
    let mut sources = std::time::SystemTime::UNIX_EPOCH;
    for part in ["Cargo.toml", "Cargo.lock", "crates", "spec"] {
        if root.join(part).exists() {
            newest(&root.join(part), &mut sources)?;
        }
    }
    Ok((built > sources).then_some(ccsqm))
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
    // A database synced by the ccsqm of before the edit: the workspace's own, when it is
    // newer than every source (the copy then need not build it), else the copy's.
    let db = d.work.join("drill-sync.sqlite3");
    let db_arg = db.display().to_string();
    let before = match current_workspace_ccsqm(&d.root)? {
        Some(ccsqm) => ccsqm,
        None => {
            d.builds("ccsqm-cli")?;
            d.target.join("debug/ccsqm")
        }
    };
    let output = Command::new(&before)
        .args(["sync", "--sandbox", "--db", &db_arg])
        .env_remove("CCSQM_CONFIG")
        .output()
        .context("running the ccsqm of before the edit")?;
    ensure!(
        output.status.success(),
        "`ccsqm sync` before the edit failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    d.insert_in_spec(
        "\n    Call:\n",
        "      properties:\n",
        &format!("        drill_score:\n          description: A score added by the spec drill.\n          \
         type: number\n          format: double\n          minimum: 0\n          maximum: 5\n        \
         drill_tier:\n          description: A tier added by the spec drill.\n          \
         type: string\n          enum: [gold, silver]\n{}",
            DRILL_SHAPES
        ),
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
    for field in ["drill_score", "drill_rules", "drill_agent"] {
        ensure!(schema.contains(field), "`ccsqm schema call` lacks {field}");
    }
    shapes_flow(d)?;
    // The generated table has the columns, and the old database gains them; the calls read
    // again fill them (each call changed).
    let tables = std::fs::read_to_string(d.work.join(codegen::SYNC_OUT))?;
    for column in [
        "\"drill_score\" REAL",
        "\"drill_tier\" TEXT",
        "\"drill_rules\" TEXT",
        "\"drill_agent\" TEXT",
    ] {
        ensure!(
            tables.contains(column),
            "{} lacks the column {column}",
            codegen::SYNC_OUT
        );
    }
    let output = d.ccsqm_output(&["sync", "--sandbox", "--db", &db_arg, "--overlap", "10000d"])?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.success()
            && stderr.contains("added columns")
            && ["drill_score", "drill_tier", "drill_rules", "drill_agent"]
                .iter()
                .all(|c| stderr.contains(c)),
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
    // A moved path and a tightened bound, in the same build.
    d.edit(
        SPEC,
        "  /apiaccess/CCSQM/rest/ccisqm/v1/appraisecall/details:\n",
        "  /apiaccess/CCSQM/rest/ccisqm/v2/drill/appraisecall/details:\n",
    )?;
    d.edit_spec_after(
        "\n    AppraisecallDetailsRequest:\n",
        "        page:\n",
        "        page:\n          maximum: 1000\n",
    )?;
    d.codegen()?;
    // The client's request with the documented defaults sets every field by name: the build
    // names the new one and the file, until it is given its default.
    d.fails(
        "ccsqm-client",
        &["drill_team", "crates/client/src/details_request.rs"],
    )?;
    d.edit(
        "crates/client/src/details_request.rs",
        "            upload_to: None,\n",
        "            upload_to: None,\n            drill_team: None, // the drill's filter: none by default\n",
    )?;
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
    // The moved path: asked for and served there.
    ensure!(
        dry.contains("/v2/drill/appraisecall/details"),
        "--dry-run does not show the moved path: {dry}"
    );
    let served = d.ccsqm(&["details", "--sandbox", "--limit", "2", "-o", "ndjson"])?;
    ensure!(
        served.lines().count() == 2,
        "the sandbox does not serve the moved path: {served}"
    );
    // The tightened bound: refused above it, before anything is sent.
    d.ccsqm(&["details", "--sandbox", "--page", "1000", "--dry-run"])?;
    let output = d.ccsqm_output(&["details", "--sandbox", "--page", "1001", "--dry-run"])?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.code() == Some(2) && stderr.contains("1000"),
        "`--page 1001` is not refused by the tightened bound (exit {:?}): {stderr}",
        output.status.code()
    );
    Ok(())
}

/// Fields of `Call` of the shapes a vendor adds: a list of objects and a nested object, with
/// bounded lengths and values.
const DRILL_SHAPES: &str = "        drill_rules:\n          description: The rules the call hit (added by the spec drill).\n          \
    type: array\n          maxItems: 4\n          items:\n            type: object\n            \
    required: [rule_id]\n            properties:\n              rule_id:\n                \
    description: The rule.\n                type: string\n                minLength: 4\n                \
    maxLength: 12\n              hit_score:\n                description: How strongly it hit.\n                \
    type: number\n                minimum: 0\n                maximum: 1\n        \
    drill_agent:\n          description: The agent's team (added by the spec drill).\n          \
    type: object\n          nullable: true\n          properties:\n            team:\n              \
    description: The team.\n              type: string\n            level:\n              \
    description: The level.\n              type: integer\n              minimum: 1\n              \
    maximum: 5\n            skills:\n              description: The skills.\n              \
    type: array\n              items:\n                type: string\n";

/// The list of objects and the nested object are served (deterministically, within their
/// bounds) and reach NDJSON and CSV (a JSON cell).
fn shapes_flow(d: &Drill) -> Result<()> {
    let args = ["details", "--sandbox", "--limit", "5", "-o", "ndjson"];
    let ndjson = d.ccsqm(&args)?;
    ensure!(
        ndjson == d.ccsqm(&args)?,
        "the sandbox serves different values for the same calls"
    );
    for line in ndjson.lines() {
        let call: serde_json::Value = serde_json::from_str(line)?;
        let rules = call["drill_rules"]
            .as_array()
            .with_context(|| format!("the sandbox serves no drill_rules list: {line}"))?;
        ensure!(
            (1..=4).contains(&rules.len()),
            "drill_rules of {} items: {line}",
            rules.len()
        );
        for rule in rules {
            let id = rule["rule_id"].as_str().unwrap_or_default();
            let score = rule["hit_score"].as_f64().unwrap_or(-1.0);
            ensure!(
                (4..=12).contains(&id.chars().count()) && (0.0..=1.0).contains(&score),
                "drill_rules item outside its schema: {rule}"
            );
        }
        let agent = &call["drill_agent"];
        ensure!(
            agent["level"]
                .as_i64()
                .is_some_and(|l| (1..=5).contains(&l))
                && agent["team"].is_string()
                && agent["skills"].is_array(),
            "the sandbox serves no drill_agent of its schema: {line}"
        );
    }
    let csv = d.ccsqm(&["details", "--sandbox", "--limit", "2", "-o", "csv"])?;
    let header = csv.lines().next().unwrap_or_default();
    ensure!(
        header.contains("drill_rules") && header.contains("drill_agent"),
        "CSV has no drill_rules or drill_agent column: {header}"
    );
    ensure!(
        csv.contains("\"[{\"\"") && csv.contains("\"{\"\""),
        "CSV lacks the JSON cells of drill_rules and drill_agent: {csv}"
    );
    Ok(())
}

/// A header parameter added to `appraisecall/details`.
fn new_header(d: &Drill, required: bool) -> Result<String> {
    d.edit(
        SPEC,
        "      parameters:\n        - name: x-UserId\n",
        &format!(
            "      parameters:\n        - name: X-Drill-Region\n          in: header\n          \
             required: {required}\n          description: A header added by the spec drill.\n          \
             schema:\n            type: string\n        - name: x-UserId\n"
        ),
    )?;
    d.codegen_fails(&[
        "spec/ccsqm.yaml",
        "appraisecall_details",
        "X-Drill-Region",
        "xtask/src/facts.rs",
    ])?;
    d.api_diff("parameter header X-Drill-Region", required)?;
    Ok(format!(
        "fails at xtask/src/facts.rs (SENT_PARAMETERS; `cargo xtask codegen`) naming \
         X-Drill-Region of appraisecall_details; api-diff: {}",
        if required { "breaking" } else { "not breaking" }
    ))
}

fn retyped_field(d: &Drill) -> Result<String> {
    d.edit_spec_after(
        "\n    Call:\n",
        "        staff_name:\n          description: Agent name.\n          type: string\n",
        "        staff_name:\n          description: Agent name.\n          type: integer\n",
    )?;
    d.codegen()?;
    d.api_diff("field `Call.staff_name` retyped", true)?;
    Ok(
        "fails at Cargo.toml and CHANGELOG.md (`cargo xtask api-diff`: a breaking bump) naming \
        field `Call.staff_name` retyped"
            .into(),
    )
}

fn renamed_field(d: &Drill) -> Result<String> {
    d.edit_spec_after(
        "\n    Call:\n",
        "        staff_name:\n",
        "        staff_full_name:\n",
    )?;
    d.codegen()?;
    d.api_diff("field `Call.staff_name` removed", true)?;
    d.api_diff("field `Call.staff_full_name`", false)?;
    Ok(
        "fails at Cargo.toml and CHANGELOG.md (`cargo xtask api-diff`) naming field \
        `Call.staff_name` removed"
            .into(),
    )
}

fn removed_field(d: &Drill) -> Result<String> {
    d.edit_spec_after(
        "\n    Call:\n",
        "        deal:\n          description: >-\n            Whether the business is completed. \
         A number; its values are\n            undocumented.\n          type: number\n",
        "",
    )?;
    d.codegen()?;
    d.api_diff("field `Call.deal` removed", true)?;
    Ok(
        "fails at Cargo.toml and CHANGELOG.md (`cargo xtask api-diff`) naming field \
        `Call.deal` removed"
            .into(),
    )
}

fn removed_enum_value(d: &Drill) -> Result<String> {
    d.edit(
        SPEC,
        "enum: [0, 1, 2, 3, 9, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40]",
        "enum: [0, 1, 2, 3, 9, 31, 32, 33, 34, 35, 36, 37, 38, 39]",
    )?;
    d.edit(SPEC, "        - VoiceFileInvalid\n", "")?;
    d.edit(SPEC, "        - voice file invalid\n", "")?;
    // A group that still names it: codegen names the value and the extension.
    d.codegen_fails(&["VoiceFileInvalid", "x-enum-groups"])?;
    for group in ["        - name: failed\n", "        - name: final\n"] {
        d.edit_spec_after(group, "            - VoiceFileInvalid\n", "")?;
    }
    d.codegen()?;
    d.api_diff("value 40 removed", true)?;
    Ok(
        "fails at Cargo.toml and CHANGELOG.md (`cargo xtask api-diff`) naming \
        `InspectionStatus`: value 40 removed"
            .into(),
    )
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
    // Every status belongs to a group of the spec's (`x-enum-groups`): codegen names the new
    // one and the extension until it is placed, here with the failures (and so the finals).
    d.codegen_fails(&["DrillReviewPending", "x-enum-groups"])?;
    for group in ["        - name: failed\n", "        - name: final\n"] {
        d.edit_spec_after(
            group,
            "            - VoiceFileInvalid\n",
            "            - VoiceFileInvalid\n            - DrillReviewPending\n",
        )?;
    }
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
