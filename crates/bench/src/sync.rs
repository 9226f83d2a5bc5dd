//! Section 8, sync: `ccsqm sync` of every call of a sandbox into a fresh SQLite file and into a fresh
//! PostgreSQL database, against `ccsqm details --all -o ndjson` of the same calls, measured in
//! the same run (issue 13: the database must not be the bottleneck, within 1.5x of the export).
//!
//! PostgreSQL is a throwaway cluster started the way `.ci/postgres.sh` starts it (the
//! distribution's `initdb` and `pg_ctl`, a temporary directory, trust authentication on a free
//! loopback port, as the `postgres` user when run as root); without a server the row says why
//! it was skipped.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{free_port, measure, Run, SandboxProcess};
use crate::{connect, count_lines, mib, secs, step, Summary, COMMAND_LIMIT, LIMIT};

/// The sandbox's seed (its default, pinned here so that the data set stays the same).
const SEED: &str = "1";

/// Runs of each method (the fastest is kept).
const RUNS: usize = 5;

/// The export's target: sync within this factor of the export's time.
const TARGET: f64 = 1.5;

pub struct SyncRow {
    latency_ms: u64,
    method: String,
    /// `Err`: skipped, with the reason.
    run: Result<Run, String>,
}

pub struct Sync {
    calls: u64,
    /// Runs of each method.
    runs: usize,
    rows: Vec<SyncRow>,
    uptime_before: String,
    uptime_after: String,
    postgres: String,
}

pub fn run(ccsqm: &Path, work: &Path, quick: bool) -> Result<Sync, String> {
    let size = if quick { 10_000 } else { 100_000 };
    let runs = if quick { 1 } else { RUNS };
    let uptime_before = uptime();
    let postgres = PgServer::start();
    let postgres_version = match &postgres {
        Ok(pg) => pg.version.clone(),
        Err(e) => format!("not run: {e}"),
    };
    if let Err(e) = &postgres {
        eprintln!("    PostgreSQL rows skipped: {e}");
    }
    let mut rows = Vec::new();
    let mut calls = 0;
    for latency in [0u64, 20] {
        let latency_text = latency.to_string();
        let sandbox =
            SandboxProcess::start(ccsqm, size, &["--seed", SEED, "--latency", &latency_text])?;
        calls = sandbox.calls;
        step(&format!(
            "sync: {calls} calls at --limit {LIMIT}, {latency} ms latency ({})",
            sandbox.base_url
        ));

        // Each method `runs` times, interleaved (export, SQLite, PostgreSQL, export, …) so
        // that each sees the same noise of a shared machine; the fastest run of each is kept.
        let mut best: [Option<Result<Run, String>>; 3] = [None, None, None];
        for round in 0..runs {
            let out = work.join("sync-export.ndjson");
            let mut command = Command::new(ccsqm);
            command.args(["details", "--all", "--limit", &LIMIT.to_string()]);
            command.args(["-o", "ndjson", "--output-file"]).arg(&out);
            connect(&mut command, &sandbox.base_url, work);
            let run = measure(&command, Stdio::null(), COMMAND_LIMIT)?;
            let lines = count_lines(&out)?;
            let _ = std::fs::remove_file(&out);
            if lines != calls {
                return Err(format!("ccsqm exported {lines} calls of {calls}"));
            }
            eprintln!("    export: {} s", secs(run.wall));
            keep_fastest(&mut best[0], Ok(run));

            let file = work.join("sync-bench.sqlite3");
            let remove = || {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
            };
            remove();
            let url = format!("sqlite:{}", file.display());
            let run = sync_once(ccsqm, &url, &sandbox.base_url, work, calls)?;
            eprintln!("    sync into SQLite: {} s", secs(run.wall));
            keep_fastest(&mut best[1], Ok(run));
            remove();

            let run = match &postgres {
                Ok(pg) => {
                    let database = format!("bench_{latency}_{round}");
                    pg.create_database(&database)?;
                    let run = sync_once(ccsqm, &pg.url(&database), &sandbox.base_url, work, calls)?;
                    eprintln!("    sync into PostgreSQL: {} s", secs(run.wall));
                    Ok(run)
                }
                Err(e) => Err(e.clone()),
            };
            keep_fastest(&mut best[2], run);
        }
        let methods = [
            "`ccsqm details --all -o ndjson --output-file F` (baseline)",
            "`ccsqm sync --db sqlite:F`, a new file",
            "`ccsqm sync --db postgres://…`, a new database",
        ];
        for (method, run) in methods.into_iter().zip(best) {
            rows.push(SyncRow {
                latency_ms: latency,
                method: method.into(),
                run: run.unwrap_or_else(|| Err("not run".into())),
            });
        }
    }
    drop(postgres);
    Ok(Sync {
        calls,
        runs,
        rows,
        uptime_before,
        uptime_after: uptime(),
        postgres: postgres_version,
    })
}

/// One `ccsqm sync` (window: every call up to now) into `url`; checks with `ccsqm sync status`
/// that the table holds every call.
fn sync_once(
    ccsqm: &Path,
    url: &str,
    base_url: &str,
    work: &Path,
    calls: u64,
) -> Result<Run, String> {
    let mut command = Command::new(ccsqm);
    command.args(["sync", "--limit", &LIMIT.to_string()]);
    connect(&mut command, base_url, work);
    command.env("CCSQM_DB", url);
    let run = measure(&command, Stdio::null(), COMMAND_LIMIT)?;
    let mut status = Command::new(ccsqm);
    status.args(["sync", "status"]).env("CCSQM_DB", url);
    let output = status
        .output()
        .map_err(|e| format!("ccsqm sync status: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let stored = text
        .lines()
        .find_map(|l| l.strip_prefix("calls:"))
        .and_then(|rest| rest.trim().split(',').next())
        .and_then(|n| n.trim().parse::<u64>().ok());
    if stored != Some(calls) {
        return Err(format!(
            "ccsqm sync stored {stored:?} calls of {calls} ({url}): {text}"
        ));
    }
    Ok(run)
}

/// Keeps the faster of `best` and `run` (a failure only when nothing ran).
fn keep_fastest(best: &mut Option<Result<Run, String>>, run: Result<Run, String>) {
    let faster = match (&*best, &run) {
        (None, _) | (Some(Err(_)), Ok(_)) => true,
        (Some(Ok(kept)), Ok(new)) => new.wall < kept.wall,
        _ => false,
    };
    if faster {
        *best = Some(run);
    }
}

fn uptime() -> String {
    Command::new("uptime")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            std::fs::read_to_string("/proc/loadavg")
                .map_or("unknown".into(), |l| format!("load average {}", l.trim()))
        })
}

pub fn markdown(w: &mut String, sync: &Sync, summary: &mut Summary) {
    let _ = writeln!(w, "## 8. Sync into a database\n");
    let _ = writeln!(
        w,
        "Every call of a sandbox (`ccsqm sandbox --calls {} --anchor {} --seed {SEED}`, a process \
         of its own) at `--limit {LIMIT}`: first `ccsqm details --all -o ndjson` to a file (the \
         baseline, checked to hold every call), then `ccsqm sync` into a new SQLite file and \
         into a new database of a throwaway PostgreSQL server ({}; started like `.ci/postgres.sh`: \
         a cluster in a temporary directory, `fsync=off`), all in this run, first without \
         latency (the database's share at its largest), then with 20 ms per answer as in \
         section 1. A sync is the whole command: migrations, the window, every page upserted \
         in transactions, then the calls still in progress read again. Adaptive concurrency on \
         every side. The fastest of {} run(s) of each, interleaved (export, SQLite, PostgreSQL, \
         export, …: each sees the same noise of a shared machine). `uptime` before: `{}`; after: `{}`.\n",
        sync.calls,
        ccsqm_sandbox::Anchor::EARLIEST,
        sync.postgres,
        sync.runs,
        sync.uptime_before,
        sync.uptime_after
    );
    let _ = writeln!(
        w,
        "| latency | method | wall time | calls/s | peak RSS | over the export |\n|---:|---|---:|---:|---:|---:|"
    );
    let mut baseline = None;
    for row in &sync.rows {
        match &row.run {
            Ok(run) => {
                let ratio = match baseline {
                    Some((latency, base)) if latency == row.latency_ms => {
                        run.wall.as_secs_f64() / Duration::as_secs_f64(&base)
                    }
                    _ => {
                        baseline = Some((row.latency_ms, run.wall));
                        1.0
                    }
                };
                let _ = writeln!(
                    w,
                    "| {} ms | {} | {} s | {:.0} | {} | {:.2}× |",
                    row.latency_ms,
                    row.method,
                    secs(run.wall),
                    sync.calls as f64 / run.wall.as_secs_f64(),
                    mib(run.peak_rss_kib),
                    ratio
                );
                if !row.method.contains("baseline") {
                    summary.row(
                        format!(
                            "sync of {} calls, {} ms latency: {}",
                            sync.calls, row.latency_ms, row.method
                        ),
                        format!("**{ratio:.2}×** the export's time"),
                        &format!("≤ {TARGET}×: {}", crate::verdict(ratio <= TARGET)),
                    );
                }
            }
            Err(why) => {
                let _ = writeln!(
                    w,
                    "| {} ms | {} | skipped: {} | | | |",
                    row.latency_ms, row.method, why
                );
            }
        }
    }
    let _ = writeln!(w, "\nTarget: within {TARGET}× of the export's time.\n");
}

/// A throwaway PostgreSQL cluster, stopped and removed when dropped.
struct PgServer {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    version: String,
}

impl PgServer {
    fn start() -> Result<Self, String> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| {
                "PostgreSQL is not installed (/usr/lib/postgresql: `apt-get install postgresql`)"
                    .to_owned()
            })?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").is_file() && b.join("pg_ctl").is_file())
            .max_by_key(|b| {
                b.parent()
                    .and_then(|p| p.file_name())
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.parse::<u32>().ok())
                    .unwrap_or(0)
            })
            .ok_or("PostgreSQL's initdb and pg_ctl are not installed")?;
        // SAFETY: getuid has no preconditions.
        let as_postgres = unsafe { libc::getuid() } == 0;
        // In the temporary directory: the `postgres` user must be able to reach it.
        let dir = std::env::temp_dir().join(format!("ccsqm-bench-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut server = Self {
            dir,
            bin,
            port: free_port(),
            as_postgres,
            version: String::new(),
        };
        if as_postgres {
            // initdb and the server refuse to run as root.
            let _ = Command::new("chown")
                .arg("postgres")
                .arg(&server.dir)
                .status();
        }
        server.tool(
            "initdb",
            &[
                "--pgdata",
                &server.data(),
                "--username",
                "postgres",
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-locale",
            ],
        )?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            server.port,
            server.dir.display()
        );
        let log = format!("{}/server.log", server.dir.display());
        server.tool(
            "pg_ctl",
            &[
                "--pgdata",
                &server.data(),
                "--log",
                &log,
                "--wait",
                "--options",
                &options,
                "start",
            ],
        )?;
        server.version = Command::new(server.bin.join("postgres"))
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        Ok(server)
    }

    fn data(&self) -> String {
        format!("{}/data", self.dir.display())
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn create_database(&self, name: &str) -> Result<(), String> {
        let port = self.port.to_string();
        self.tool(
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", name],
        )
    }

    fn tool(&self, name: &str, args: &[&str]) -> Result<(), String> {
        let program = self.bin.join(name);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{name}: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "{name} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(())
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.tool(
            "pg_ctl",
            &["--pgdata", &data, "--mode", "immediate", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
