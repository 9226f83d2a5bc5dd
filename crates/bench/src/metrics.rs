//! Section 9, metrics: what `ccsqm sync --metrics ADDR` costs a sync (issue 23: under 2 %).
//! The same sync of every call of a sandbox into a new SQLite file, without and with
//! `--metrics` while a scraper reads `/metrics` every 100 ms, interleaved, the fastest run of
//! each kept; no latency, so that the sync is as fast as it gets and the metrics' share at its
//! largest.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::process::{free_port, measure, Run, SandboxProcess};
use crate::{connect, secs, step, Summary, COMMAND_LIMIT, LIMIT};

/// Runs of each (the fastest is kept).
const RUNS: usize = 7;

/// The target: the sync with `--metrics` within this ratio of the sync without.
const TARGET: f64 = 1.02;

/// How often the scraper reads `/metrics` during a sync with `--metrics`.
const SCRAPE_EVERY: Duration = Duration::from_millis(100);

pub struct Metrics {
    calls: u64,
    runs: usize,
    without: Run,
    with: Run,
    scrapes: u64,
    binary: String,
}

pub fn run(ccsqm: &Path, work: &Path, quick: bool) -> Result<Metrics, String> {
    let size = if quick { 10_000 } else { 100_000 };
    let runs = if quick { 2 } else { RUNS };
    let sandbox = SandboxProcess::start(ccsqm, size, &["--seed", "1"])?;
    let calls = sandbox.calls;
    step(&format!(
        "metrics: ccsqm sync of {calls} calls, without and with --metrics ({})",
        sandbox.base_url
    ));
    let file = work.join("metrics-bench.sqlite3");
    let remove = || {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    };
    let (mut without, mut with): (Option<Run>, Option<Run>) = (None, None);
    let mut scrapes = 0;
    for _ in 0..runs {
        for metrics in [false, true] {
            remove();
            let mut command = Command::new(ccsqm);
            command.args(["sync", "-q", "--limit", &LIMIT.to_string()]);
            connect(&mut command, &sandbox.base_url, work);
            command.env("CCSQM_DB", format!("sqlite:{}", file.display()));
            let scraper = match metrics {
                true => {
                    let address = format!("127.0.0.1:{}", free_port());
                    command.args(["--metrics", &address]);
                    Some(Scraper::start(address))
                }
                false => None,
            };
            let run = measure(&command, Stdio::null(), COMMAND_LIMIT);
            if let Some(scraper) = scraper {
                scrapes += scraper.stop();
            }
            let run = run?;
            eprintln!(
                "    sync {}: {} s",
                if metrics { "with --metrics" } else { "without" },
                secs(run.wall)
            );
            let best = if metrics { &mut with } else { &mut without };
            if best.is_none_or(|b| run.wall < b.wall) {
                *best = Some(run);
            }
        }
    }
    remove();
    Ok(Metrics {
        calls,
        runs,
        without: without.ok_or("no run")?,
        with: with.ok_or("no run")?,
        scrapes,
        binary: ccsqm.display().to_string(),
    })
}

/// Reads `/metrics` of `address` every [`SCRAPE_EVERY`] until stopped (connections refused
/// before the sync listens, or after it ended, are not counted).
struct Scraper {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl Scraper {
    fn start(address: String) -> Scraper {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let (stopped, counted) = (stop.clone(), done.clone());
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                if let Ok(mut stream) = TcpStream::connect(&address) {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    let asked = write!(stream, "GET /metrics HTTP/1.0\r\n\r\n");
                    let mut answer = String::new();
                    if asked.is_ok()
                        && stream.read_to_string(&mut answer).is_ok()
                        && answer.contains("ccsqm_sync_rounds_total")
                    {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                }
                std::thread::sleep(SCRAPE_EVERY);
            }
        });
        Scraper { stop, done, thread }
    }

    /// Stops it: how many scrapes were answered.
    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.done.load(Ordering::Relaxed)
    }
}

pub fn markdown(w: &mut String, m: &Metrics, summary: &mut Summary) {
    let ratio = m.with.wall.as_secs_f64() / m.without.wall.as_secs_f64();
    let _ = writeln!(w, "## 10. The metrics' cost\n");
    let _ = writeln!(
        w,
        "`ccsqm sync -q` of every call of a sandbox ({} calls, no latency: the sync at its \
         fastest, the metrics' share at its largest) into a new SQLite file, without and with \
         `--metrics 127.0.0.1:PORT` while a scraper reads `/metrics` every {} ms ({} scrapes \
         answered in all); the fastest of {} run(s) of each, interleaved. Binary: `{}`.\n",
        m.calls,
        SCRAPE_EVERY.as_millis(),
        m.scrapes,
        m.runs,
        m.binary
    );
    let _ = writeln!(w, "| method | wall time | peak RSS |\n|---|---:|---:|");
    for (method, run) in [
        ("without `--metrics`", m.without),
        ("with `--metrics`", m.with),
    ] {
        let _ = writeln!(
            w,
            "| {method} | {} s | {} |",
            secs(run.wall),
            crate::mib(run.peak_rss_kib)
        );
    }
    let _ = writeln!(w, "\nTarget: under {:.0} % more.\n", (TARGET - 1.0) * 100.0);
    summary.row(
        format!("sync of {} calls with `--metrics` (scraped)", m.calls),
        format!("**{ratio:.3}×** the sync without"),
        &format!("< {TARGET}×: {}", crate::verdict(ratio < TARGET)),
    );
}
