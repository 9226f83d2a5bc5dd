//! `ccsqm-bench`: the project's benchmarks, side by side in one run, as a Markdown report.
//!
//! Run it with `cargo xtask bench [--quick]`, which builds the release binaries first. It
//! compares:
//!
//! 1. export: `ccsqm details --all` (sequential and concurrent) against a plain sequential curl
//!    loop over the same pages, from a sandbox with 20 ms of latency per answer;
//! 2. client overhead: `ccsqm-client` against a hand-written reqwest + serde request;
//! 3. sandbox throughput against Prism's mock of the same spec (the sandbox's own load
//!    generator and Prism script, `crates/sandbox/benches/`);
//! 4. `cargo xtask codegen --check` on a warm build;
//! 6. the spec-first loop: `cargo xtask spec-loop` (a one-field edit, codegen and the
//!    incremental debug build of `ccsqm`);
//! 5. `ccsqm --version` start-up and the release binary's size;
//! 8. sync: `ccsqm sync` of 100 000 calls into SQLite and PostgreSQL against the export of
//!    the same calls (`src/sync.rs`);
//! 9. metrics: `ccsqm sync` with and without `--metrics` (scraped), the cost of the metrics
//!    (`src/metrics.rs`);
//! 7. load: the sandbox under wrk (installed from Debian when missing), every query shape, at
//!    100 000 and 1 000 000 calls, against Prism measured in the same run;
//! 9. build: the clean debug build of a minimal consumer of `ccsqm-client` with its light
//!    features against plain reqwest with the same TLS (`src/build.rs`); it needs no release
//!    binary, so `cargo xtask bench --only build` runs the harness as a debug build.
//!
//! Every server is a process of its own on 127.0.0.1, and every loop is bounded in count and
//! time. Options: `--quick` (smaller sizes, fewer repetitions; the report goes to
//! `target/bench/BENCHMARKS-quick.md` unless `--output` says otherwise), `--output FILE`
//! (default `BENCHMARKS.md` at the root), `--only export,overhead,throughput,codegen,cli,loop,load,sync,build,metrics`,
//! `--root DIR` (the workspace, default the current directory), `--ccsqm PATH` (default
//! `target/release/ccsqm`).

mod build;
mod load;
mod metrics;
mod overhead;
mod process;
mod sync;

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use ccsqm_sandbox::{DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_USER_ID};
use process::{measure, Run, SandboxProcess};

/// Page size of the export.
const LIMIT: u64 = 100;
/// Latency the sandbox adds to every answer in the export.
const LATENCY_MS: u64 = 20;
/// `--concurrency` of the concurrent exports.
const CONCURRENCY: [u64; 2] = [8, 32];
/// The export with no concurrency flag: adaptive concurrency.
const NO_FLAG: &str = "`ccsqm details --all` (no flag: adaptive concurrency)";
/// The export one page at a time.
const SEQUENTIAL: &str = "`ccsqm details --all --concurrency 1`, sequential";
/// No single command of the harness may run longer.
const COMMAND_LIMIT: Duration = Duration::from_secs(300);

const SECTIONS: [&str; 10] = [
    "export",
    "overhead",
    "throughput",
    "codegen",
    "cli",
    "loop",
    "load",
    "sync",
    "build",
    "metrics",
];

/// The sections that need no release binary (`ccsqm`): with only these, the harness runs
/// without one (`cargo xtask bench --only build` builds none).
const WITHOUT_BINARIES: [&str; 1] = ["build"];

struct Options {
    root: PathBuf,
    ccsqm: Option<PathBuf>,
    quick: bool,
    output: Option<PathBuf>,
    only: Vec<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        root: PathBuf::from("."),
        ccsqm: None,
        quick: false,
        output: None,
        only: SECTIONS.iter().map(|s| s.to_string()).collect(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--quick" => options.quick = true,
            "--root" => options.root = PathBuf::from(value()?),
            "--ccsqm" => options.ccsqm = Some(PathBuf::from(value()?)),
            "--output" => options.output = Some(PathBuf::from(value()?)),
            "--only" => {
                options.only = value()?.split(',').map(str::to_owned).collect();
                if let Some(bad) = options
                    .only
                    .iter()
                    .find(|s| !SECTIONS.contains(&s.as_str()))
                {
                    return Err(format!(
                        "--only: unknown section {bad} (one of {SECTIONS:?})"
                    ));
                }
            }
            "-h" | "--help" => {
                println!("usage: ccsqm-bench [--quick] [--output FILE] [--only SECTIONS] [--root DIR] [--ccsqm PATH]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == process::MEASURE) {
        process::measure_main(&args[1..]);
    }
    let options = match options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("ccsqm-bench: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&options) {
        eprintln!("ccsqm-bench: {e}");
        std::process::exit(1);
    }
}

fn run(options: &Options) -> Result<(), String> {
    let root = options
        .root
        .canonicalize()
        .map_err(|e| format!("--root {}: {e}", options.root.display()))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let ccsqm = options
        .ccsqm
        .clone()
        .unwrap_or_else(|| target.join("release/ccsqm"));
    let needs_ccsqm = options
        .only
        .iter()
        .any(|s| !WITHOUT_BINARIES.contains(&s.as_str()));
    if needs_ccsqm && !ccsqm.is_file() {
        return Err(format!(
            "{} is not built: run `cargo xtask bench`, which builds it",
            ccsqm.display()
        ));
    }
    let work = target.join("bench");
    std::fs::create_dir_all(work.join("config")).map_err(|e| e.to_string())?;

    let machine = Machine::read();
    let mut report = Report {
        rss_floor_kib: process::floor()?,
        ..Report::default()
    };
    let wants = |s: &str| options.only.iter().any(|o| o == s);
    if wants("export") {
        report.export = Some(export(&ccsqm, &work, &root, options.quick)?);
    }
    if wants("overhead") {
        report.overhead = Some(client_overhead(&ccsqm, options.quick)?);
    }
    if wants("throughput") {
        report.throughput = Some(throughput(&root, options.quick)?);
    }
    if wants("codegen") {
        report.codegen = Some(codegen(&root, options.quick)?);
    }
    if wants("cli") {
        report.cli = Some(cli(&ccsqm, &work, options.quick)?);
    }
    if wants("loop") {
        report.spec_loop = Some(spec_loop(&root)?);
    }
    if wants("load") {
        report.load = Some(load::run(&ccsqm, &root, &work, options.quick)?);
    }
    if wants("sync") {
        report.sync = Some(sync::run(&ccsqm, &work, options.quick)?);
    }
    if wants("build") {
        report.build = Some(build::run(&root)?);
    }
    if wants("metrics") {
        report.metrics = Some(metrics::run(&ccsqm, &work, options.quick)?);
    }
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let text = report.markdown(&machine, load_after.trim(), options.quick);
    println!("\n{text}");
    let output = options.output.clone().unwrap_or_else(|| {
        if options.quick {
            work.join("BENCHMARKS-quick.md")
        } else {
            root.join("BENCHMARKS.md")
        }
    });
    std::fs::write(&output, text).map_err(|e| format!("writing {}: {e}", output.display()))?;
    eprintln!("==> written to {}", output.display());
    Ok(())
}

fn step(what: &str) {
    eprintln!("==> {what}");
}

// ---------------------------------------------------------------------------------------------
// 1. Export

struct ExportRow {
    calls: u64,
    method: String,
    run: Run,
}

struct Export {
    rows: Vec<ExportRow>,
}

fn export(ccsqm: &Path, work: &Path, root: &Path, quick: bool) -> Result<Export, String> {
    let sizes: &[u64] = if quick {
        &[2_000, 10_000]
    } else {
        &[10_000, 100_000]
    };
    let mut rows = Vec::new();
    for &size in sizes {
        let latency = LATENCY_MS.to_string();
        let sandbox = SandboxProcess::start(ccsqm, size, &["--latency", &latency])?;
        let calls = sandbox.calls;
        step(&format!(
            "export: {calls} calls at --limit {LIMIT}, {LATENCY_MS} ms latency ({})",
            sandbox.base_url
        ));

        // The curl loop.
        let out = work.join("curl-pages.json");
        let summary = work.join("curl-summary.txt");
        let mut curl = Command::new("bash");
        curl.arg(root.join("crates/bench/curl-loop.sh"))
            .arg(&sandbox.base_url)
            .arg(LIMIT.to_string())
            .arg(&out)
            // The spec's facts, so that the script keeps no copy of them.
            .env("TOKEN_PATH", ccsqm_client::spec::TOKEN_BY_AK_SK.path)
            .env(
                "DETAILS_PATH",
                ccsqm_client::spec::APPRAISECALL_DETAILS.path,
            )
            .env("CALL_TYPES", codes(&ccsqm_client::spec::enums::CALL_TYPE))
            .env(
                "STATUSES",
                codes(&ccsqm_client::spec::enums::INSPECTION_STATUS),
            );
        let summary_file = File::create(&summary).map_err(|e| e.to_string())?;
        let run = measure(&curl, summary_file.into(), COMMAND_LIMIT)?;
        let said = std::fs::read_to_string(&summary).unwrap_or_default();
        if !said.contains(&format!("total={calls}")) {
            return Err(format!("the curl loop read another total: {said}"));
        }
        eprintln!("    curl loop: {}", describe(calls, run));
        rows.push(ExportRow {
            calls,
            method: "curl loop, sequential".into(),
            run,
        });
        let _ = std::fs::remove_file(&out);

        // ccsqm with no flag (adaptive concurrency), then sequential and pinned.
        for concurrency in std::iter::once(0)
            .chain(std::iter::once(1))
            .chain(CONCURRENCY)
        {
            let out = work.join("export.ndjson");
            let mut command = Command::new(ccsqm);
            command.args(["details", "--all", "--limit", &LIMIT.to_string()]);
            if concurrency > 0 {
                command.args(["--concurrency", &concurrency.to_string()]);
            }
            command.arg("--output-file").arg(&out);
            connect(&mut command, &sandbox.base_url, work);
            let run = measure(&command, Stdio::null(), COMMAND_LIMIT)?;
            let lines = count_lines(&out)?;
            if lines != calls {
                return Err(format!("ccsqm exported {lines} calls of {calls}"));
            }
            let _ = std::fs::remove_file(&out);
            let method = if concurrency == 0 {
                NO_FLAG.to_owned()
            } else if concurrency == 1 {
                SEQUENTIAL.to_owned()
            } else {
                format!("`ccsqm details --all --concurrency {concurrency}`")
            };
            eprintln!("    {method}: {}", describe(calls, run));
            rows.push(ExportRow { calls, method, run });
        }
    }
    Ok(Export { rows })
}

/// Points `ccsqm` at the sandbox through its environment, and nothing else: no config file.
fn connect(command: &mut Command, base_url: &str, work: &Path) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CCSQM_") {
            command.env_remove(name);
        }
    }
    command
        .env("CCSQM_BASE_URL", base_url)
        .env("CCSQM_APP_KEY", DEFAULT_APP_KEY)
        .env("CCSQM_APP_SECRET", DEFAULT_APP_SECRET)
        .env("CCSQM_USER_ID", DEFAULT_USER_ID)
        .env("XDG_CONFIG_HOME", work.join("config"));
}

/// The documented codes of an enumeration, comma-separated (a JSON array's inside).
fn codes(e: &ccsqm_client::spec::Enumeration) -> String {
    e.codes()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn count_lines(path: &Path) -> Result<u64, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(bytes.iter().filter(|&&b| b == b'\n').count() as u64)
}

fn describe(calls: u64, run: Run) -> String {
    format!(
        "{} s, {:.0} calls/s, peak RSS {}",
        secs(run.wall),
        calls as f64 / run.wall.as_secs_f64(),
        mib(run.peak_rss_kib)
    )
}

// ---------------------------------------------------------------------------------------------
// 2. Client overhead

struct ClientOverhead {
    calls: u64,
    pages: Vec<(u64, overhead::Overhead)>,
}

fn client_overhead(ccsqm: &Path, quick: bool) -> Result<ClientOverhead, String> {
    let sandbox = SandboxProcess::start(ccsqm, 100_000, &[])?;
    let (requests, rounds) = if quick { (100, 7) } else { (250, 21) };
    let mut pages = Vec::new();
    for limit in [10, 100] {
        step(&format!(
            "client overhead: {rounds} rounds of {requests} requests of page 1 of {limit}, each side ({})",
            sandbox.base_url
        ));
        let result = overhead::run(&sandbox.base_url, limit, requests, rounds)?;
        eprintln!(
            "    reqwest + serde {} ms, ccsqm-client {} ms (medians of {rounds})",
            millis(median(&result.baseline)),
            millis(median(&result.client))
        );
        pages.push((limit, result));
    }
    Ok(ClientOverhead {
        calls: sandbox.calls,
        pages,
    })
}

// ---------------------------------------------------------------------------------------------
// 3. Sandbox throughput against Prism

struct LoadLine {
    server: &'static str,
    limit: u64,
    /// The load generator's line, parsed.
    requests: u64,
    errors: u64,
    rps: f64,
    p50: f64,
    p99: f64,
    body: u64,
}

enum Throughput {
    Ran {
        lines: Vec<LoadLine>,
        requests: u64,
        concurrency: u64,
        versions: String,
    },
    Skipped(String),
}

fn throughput(root: &Path, quick: bool) -> Result<Throughput, String> {
    let (requests, concurrency) = if quick { (5_000, 32) } else { (20_000, 32) };
    if Command::new("npm").arg("--version").output().is_err() {
        return Ok(Throughput::Skipped(
            "npm is not installed (Prism comes from npm: `apt-get install nodejs npm`)".into(),
        ));
    }
    step(&format!(
        "throughput: crates/sandbox/benches/compare-prism.sh {requests} {concurrency}"
    ));
    let (sandbox_port, prism_port) = (process::free_port(), process::free_port());
    let output = Command::new("bash")
        .arg(root.join("crates/sandbox/benches/compare-prism.sh"))
        .arg(requests.to_string())
        .arg(concurrency.to_string())
        .env("SANDBOX_PORT", sandbox_port.to_string())
        .env("PRISM_PORT", prism_port.to_string())
        .env("LIMITS", "10 100")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("running compare-prism.sh: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    eprint!("{text}");
    if !output.status.success() {
        return Err(format!("compare-prism.sh failed ({})", output.status));
    }
    let sandbox_url = format!("http://127.0.0.1:{sandbox_port}:");
    let prism_url = format!("http://127.0.0.1:{prism_port}:");
    let mut lines = Vec::new();
    let mut limit = 0;
    let mut versions = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("--- page size ") {
            limit = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        } else if let Some(rest) = line.strip_prefix("==> node ") {
            versions = format!("node {rest}");
        } else if let Some(rest) = line.strip_prefix(&sandbox_url) {
            lines.push(parse_load_line("ccsqm-sandbox", limit, rest)?);
        } else if let Some(rest) = line.strip_prefix(&prism_url) {
            lines.push(parse_load_line("Prism", limit, rest)?);
        }
    }
    if lines.len() != 4 {
        return Err(format!(
            "compare-prism.sh: expected 4 results, read {}",
            lines.len()
        ));
    }
    Ok(Throughput::Ran {
        lines,
        requests,
        concurrency,
        versions,
    })
}

/// ` 20000 requests (0 errors), concurrency 32, 1.35 s: 14838 req/s; latency p50 2.10 ms,
/// p90 3.60 ms, p99 4.90 ms, max 9.00 ms; body 6600 bytes`
fn parse_load_line(server: &'static str, limit: u64, line: &str) -> Result<LoadLine, String> {
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == '(' || c == ',' || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    let after = |word: &str, offset: isize| -> Result<f64, String> {
        let i = words
            .iter()
            .position(|w| *w == word)
            .ok_or(format!("no {word} in the load line: {line}"))?;
        let j = usize::try_from(i as isize + offset).map_err(|_| "bad offset")?;
        words
            .get(j)
            .and_then(|w| w.parse().ok())
            .ok_or(format!("cannot read {word} in: {line}"))
    };
    Ok(LoadLine {
        server,
        limit,
        requests: after("requests", -1)? as u64,
        errors: after("errors)", -1)? as u64,
        rps: after("req/s", -1)?,
        p50: after("p50", 1)?,
        p99: after("p99", 1)?,
        body: after("body", 1)? as u64,
    })
}

// ---------------------------------------------------------------------------------------------
// 4. Codegen

struct Codegen {
    runs: Vec<Duration>,
}

fn codegen(root: &Path, quick: bool) -> Result<Codegen, String> {
    step("codegen: cargo xtask codegen --check, warm");
    let command = || {
        let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        c.args(["xtask", "codegen", "--check"]).current_dir(root);
        c
    };
    // Warm-up: builds xtask if needed.
    measure(&command(), Stdio::null(), COMMAND_LIMIT)?;
    let mut runs = Vec::new();
    for _ in 0..if quick { 3 } else { 5 } {
        runs.push(measure(&command(), Stdio::null(), COMMAND_LIMIT)?.wall);
    }
    eprintln!("    median {} ms", millis(median(&runs)));
    Ok(Codegen { runs })
}

// ---------------------------------------------------------------------------------------------
// 6. The spec-first loop

struct SpecLoop {
    codegen: Duration,
    build: Duration,
}

/// The target of the spec-first loop: a one-field edit regenerated and built in well under a
/// minute (the words), so that editing the spec stays the way to change the client.
const SPEC_LOOP_TARGET: Duration = Duration::from_secs(60);

fn spec_loop(root: &Path) -> Result<SpecLoop, String> {
    step("loop: one-field spec edit, cargo xtask codegen + incremental debug build of ccsqm");
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["xtask", "spec-loop"])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("running cargo xtask spec-loop: {e}"))?;
    if !output.status.success() {
        return Err("cargo xtask spec-loop failed".into());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("spec-loop "))
        .ok_or_else(|| format!("cargo xtask spec-loop printed no figures: {text}"))?;
    let figure = |key: &str| -> Result<Duration, String> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key))
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis)
            .ok_or_else(|| format!("no {key} in {line:?}"))
    };
    let result = SpecLoop {
        codegen: figure("codegen_ms=")?,
        build: figure("build_ms=")?,
    };
    eprintln!(
        "    codegen {} ms, build {} s",
        millis(result.codegen),
        secs(result.build)
    );
    Ok(result)
}

// ---------------------------------------------------------------------------------------------
// 5. CLI start-up and size

struct Cli {
    version: String,
    startup: Vec<Run>,
    curl_startup: Vec<Run>,
    size: u64,
    stripped: Option<u64>,
}

fn cli(ccsqm: &Path, work: &Path, quick: bool) -> Result<Cli, String> {
    step("cli: ccsqm --version start-up, binary size");
    let n = if quick { 10 } else { 50 };
    let version = Command::new(ccsqm)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .map_err(|e| e.to_string())?;
    let mut startup = Vec::new();
    let mut curl_startup = Vec::new();
    for _ in 0..n {
        let mut c = Command::new(ccsqm);
        c.arg("--version");
        startup.push(measure(&c, Stdio::null(), COMMAND_LIMIT)?);
        let mut c = Command::new("curl");
        c.arg("--version");
        curl_startup.push(measure(&c, Stdio::null(), COMMAND_LIMIT)?);
    }
    let size = std::fs::metadata(ccsqm).map_err(|e| e.to_string())?.len();
    let copy = work.join("ccsqm-stripped");
    let stripped = Command::new("strip")
        .arg("-o")
        .arg(&copy)
        .arg(ccsqm)
        .status()
        .ok()
        .filter(|s| s.success())
        .and_then(|_| std::fs::metadata(&copy).ok())
        .map(|m| m.len());
    let _ = std::fs::remove_file(&copy);
    Ok(Cli {
        version,
        startup,
        curl_startup,
        size,
        stripped,
    })
}

// ---------------------------------------------------------------------------------------------
// The report

struct Machine {
    cpu: String,
    cores: usize,
    memory: String,
    kernel: String,
    rustc: String,
    curl: String,
    load_before: String,
    date: String,
}

impl Machine {
    fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or("unknown".into(), |kb| {
                format!("{:.1} GiB", kb / 1024.0 / 1024.0)
            });
        let first_line = |program: &str, arg: &str| {
            Command::new(program)
                .arg(arg)
                .output()
                .ok()
                .and_then(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .next()
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| format!("{program}: not found"))
        };
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or("unknown".into(), |k| k.trim().to_owned()),
            rustc: first_line("rustc", "--version"),
            curl: first_line("curl", "--version"),
            load_before: std::fs::read_to_string("/proc/loadavg")
                .map_or(String::new(), |l| l.trim().to_owned()),
            date: jiff::Timestamp::now()
                .strftime("%Y-%m-%d %H:%M UTC")
                .to_string(),
        }
    }
}

#[derive(Default)]
struct Report {
    /// Peak RSS reported for `true`, the smallest figure the method can show.
    rss_floor_kib: u64,
    export: Option<Export>,
    overhead: Option<ClientOverhead>,
    throughput: Option<Throughput>,
    codegen: Option<Codegen>,
    cli: Option<Cli>,
    spec_loop: Option<SpecLoop>,
    load: Option<load::Load>,
    sync: Option<sync::Sync>,
    build: Option<build::Build>,
    metrics: Option<metrics::Metrics>,
}

fn median(values: &[Duration]) -> Duration {
    let mut v = values.to_vec();
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

fn millis(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// 12345 as "12 345".
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

impl Report {
    fn markdown(&self, machine: &Machine, load_after: &str, quick: bool) -> String {
        let mut md = String::new();
        let w = &mut md;
        let _ = writeln!(w, "# Benchmarks\n");
        let _ = writeln!(
            w,
            "Written by `cargo xtask bench{}` (the harness is `crates/bench`); do not edit by \
             hand, run it again. These are benchmarks, not tests: nothing in `cargo test` or CI \
             depends on them. **Ratios are what we quote; absolute times are specific to this \
             machine** and vary from run to run.\n",
            if quick { " --quick" } else { "" }
        );
        let machine_at = w.len();
        let _ = writeln!(w, "## Machine\n");
        let _ = writeln!(w, "| | |\n|---|---|");
        let _ = writeln!(w, "| date | {} |", machine.date);
        let _ = writeln!(w, "| CPU | {} |", machine.cpu);
        let _ = writeln!(w, "| cores (nproc) | {} |", machine.cores);
        let _ = writeln!(w, "| memory | {} |", machine.memory);
        let _ = writeln!(w, "| Linux | {} |", machine.kernel);
        let _ = writeln!(w, "| Rust | {} |", machine.rustc);
        let _ = writeln!(w, "| curl | {} |", machine.curl);
        let _ = writeln!(
            w,
            "| load average (1, 5, 15 min) before / after | {} / {} |",
            short_load(&machine.load_before),
            short_load(load_after)
        );
        let _ = writeln!(
            w,
            "\nEverything runs on this one machine: servers, clients and load generators share its \
             cores, over loopback. Release builds. A load average above the number of cores \
             means other work shared the machine during the run.\n"
        );
        let _ = writeln!(
            w,
            "Peak RSS is `ru_maxrss` from `wait4`. Linux counts in it the memory a process \
             shared with its parent until `exec`, so each command is started by a small, fresh \
             process of the harness rather than by the harness itself; `true` measured the \
             same way shows {}, the floor of every RSS figure below.\n",
            mib(self.rss_floor_kib)
        );
        let mut body = String::new();
        let mut summary = Summary::default();
        let w = &mut body;
        if let Some(export) = &self.export {
            export_md(w, export, &mut summary);
        }
        if let Some(overhead) = &self.overhead {
            overhead_md(w, overhead, &mut summary);
        }
        if let Some(throughput) = &self.throughput {
            throughput_md(w, throughput, &mut summary);
        }
        if let Some(codegen) = &self.codegen {
            summary.row(
                "`cargo xtask codegen --check`, warm build",
                format!("{} ms (median)", millis(median(&codegen.runs))),
                "",
            );
            let _ = writeln!(w, "## 4. Codegen check\n");
            let mut sorted = codegen.runs.clone();
            sorted.sort();
            let _ = writeln!(
                w,
                "`cargo xtask codegen --check` on a warm build (xtask already compiled; cargo's \
                 freshness check, then progenitor regenerating every generated file in memory \
                 and comparing it): median **{} ms** of {} runs (min {} ms, max {} ms), after \
                 one untimed run.\n",
                millis(median(&codegen.runs)),
                codegen.runs.len(),
                millis(sorted[0]),
                millis(sorted[sorted.len() - 1])
            );
        }
        if let Some(cli) = &self.cli {
            cli_md(w, cli, &mut summary);
        }
        if let Some(l) = &self.spec_loop {
            let total = l.codegen + l.build;
            summary.row(
                "spec-first loop: one-field edit, codegen + debug build of `ccsqm`",
                format!("{} s", secs(total)),
                &format!(
                    "< {} s: {}",
                    SPEC_LOOP_TARGET.as_secs(),
                    verdict(total < SPEC_LOOP_TARGET)
                ),
            );
            let _ = writeln!(w, "## 6. The spec-first loop\n");
            let _ = writeln!(
                w,
                "`cargo xtask spec-loop`: on a scratch copy of the workspace built once, a number \
                 field is added to the spec's `Call`; `cargo xtask codegen` took **{} ms** and the \
                 incremental debug build of `ccsqm` (client, models, sandbox, command) **{} s**: \
                 **{} s** in all (target: under {} s).\n",
                millis(l.codegen),
                secs(l.build),
                secs(total),
                SPEC_LOOP_TARGET.as_secs()
            );
        }
        if let Some(l) = &self.load {
            load::markdown(w, l, &mut summary);
        }
        if let Some(s) = &self.sync {
            sync::markdown(w, s, &mut summary);
        }
        if let Some(b) = &self.build {
            build::markdown(w, b, &mut summary);
        }
        if let Some(m) = &self.metrics {
            metrics::markdown(w, m, &mut summary);
        }
        let mut top = String::from("## Summary\n\n| what | figure | target |\n|---|---:|---|\n");
        for (what, figure, target) in &summary.rows {
            let _ = writeln!(top, "| {what} | {figure} | {target} |");
        }
        top.push('\n');
        md.insert_str(machine_at, &top);
        md.push_str(&body);
        md
    }
}

/// The figures quoted at the top of the report: what, figure, target (and whether met).
#[derive(Default)]
struct Summary {
    rows: Vec<(String, String, String)>,
}

impl Summary {
    fn row(&mut self, what: impl Into<String>, figure: impl Into<String>, target: &str) {
        self.rows
            .push((what.into(), figure.into(), target.to_owned()));
    }
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**missed**"
    }
}

fn short_load(loadavg: &str) -> String {
    loadavg
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn export_md(w: &mut String, export: &Export, summary: &mut Summary) {
    let _ = writeln!(w, "## 1. Export\n");
    let _ = writeln!(
        w,
        "Every call of a sandbox (`ccsqm sandbox --calls N --latency {LATENCY_MS}`, a process of \
         its own: each answer waits {LATENCY_MS} ms) at `--limit {LIMIT}`, to a file. The curl \
         loop (`crates/bench/curl-loop.sh`) gets a token, POSTs page 1, reads `paging.total`, \
         then POSTs every other page one after another with a new `curl` each, appending the \
         answers to a file; `ccsqm details --all --output-file export.ndjson` streams the same \
         pages (the same request body) and writes one call per line (the harness checks that \
         the file has every call). Wall time is from start to exit, token included. Peak RSS is \
         the largest resident set of the process (for the curl loop, of bash and each of its \
         curls). One run each.\n"
    );
    let _ = writeln!(
        w,
        "| calls | pages | method | wall time | calls/s | peak RSS | speed-up over the curl loop |"
    );
    let _ = writeln!(w, "|---:|---:|---|---:|---:|---:|---:|");
    for row in &export.rows {
        let curl = export
            .rows
            .iter()
            .find(|r| r.calls == row.calls && r.method.starts_with("curl"))
            .map(|r| r.run.wall.as_secs_f64());
        let ratio = curl.map_or("".into(), |c| {
            format!("{:.1}×", c / row.run.wall.as_secs_f64())
        });
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} s | {} | {} | {} |",
            grouped(row.calls),
            grouped(row.calls.div_ceil(LIMIT)),
            row.method,
            secs(row.run.wall),
            grouped((row.calls as f64 / row.run.wall.as_secs_f64()) as u64),
            mib(row.run.peak_rss_kib),
            if row.method.starts_with("curl") {
                "1.0× (baseline)".into()
            } else {
                ratio
            }
        );
    }
    // Memory growth between the smallest and the largest export, for each ccsqm method.
    let sizes: Vec<u64> = {
        let mut s: Vec<u64> = export.rows.iter().map(|r| r.calls).collect();
        s.dedup();
        s
    };
    if let (Some(&small), Some(&large)) = (sizes.first(), sizes.last()) {
        if small != large {
            let _ = writeln!(
                w,
                "\nMemory as the export grows {:.0}-fold ({} to {} calls), peak RSS of the \
                 larger over the smaller:\n",
                large as f64 / small as f64,
                grouped(small),
                grouped(large)
            );
            for row in export.rows.iter().filter(|r| r.calls == small) {
                if let Some(big) = export
                    .rows
                    .iter()
                    .find(|r| r.calls == large && r.method == row.method)
                {
                    let growth = big.run.peak_rss_kib as f64 / row.run.peak_rss_kib.max(1) as f64;
                    if !row.method.starts_with("curl") {
                        summary.row(
                            format!(
                                "export peak RSS, {} over {} calls: {}",
                                grouped(large),
                                grouped(small),
                                row.method
                            ),
                            format!(
                                "×{growth:.2} ({} → {})",
                                mib(row.run.peak_rss_kib),
                                mib(big.run.peak_rss_kib)
                            ),
                            "flat (streaming)",
                        );
                    }
                    let _ = writeln!(
                        w,
                        "- {}: {} → {} (×{:.2})",
                        row.method,
                        mib(row.run.peak_rss_kib),
                        mib(big.run.peak_rss_kib),
                        big.run.peak_rss_kib as f64 / row.run.peak_rss_kib.max(1) as f64
                    );
                }
            }
            // What the growth is made of: the duplicate check keeps a fingerprint per call.
            let per_call = |method: &str| {
                let rss = |calls| {
                    export
                        .rows
                        .iter()
                        .find(|r| r.calls == calls && r.method == method)
                        .map(|r| r.run.peak_rss_kib as f64 * 1024.0)
                };
                Some((rss(large)? - rss(small)?) / (large - small) as f64)
            };
            if let Some(sequential) = per_call(SEQUENTIAL) {
                let _ = writeln!(
                    w,
                    "\nThe export's duplicate check (a call that comes twice, on two pages, is \
                     delivered once; `ccsqm_client::CallStream`) keeps an 8-byte fingerprint of \
                     each call in a hash set: 9 bytes a slot (the value and a control byte), 10 \
                     to 21 bytes a call as the set fills and doubles, up to about 2 MiB while it \
                     grows past 100 000 calls. The \
                     sequential export's peak RSS grows by {sequential:.0} bytes per added call; \
                     with more pages in flight the buffers of those pages add to it."
                );
            }
        }
    }
    // The headline: the export with no flag.
    let best = export
        .rows
        .iter()
        .find(|r| r.calls == *sizes.last().unwrap_or(&0) && r.method == NO_FLAG);
    let curl = export
        .rows
        .iter()
        .find(|r| r.calls == *sizes.last().unwrap_or(&0) && r.method.starts_with("curl"));
    if let (Some(best), Some(curl)) = (best, curl) {
        let ratio = curl.run.wall.as_secs_f64() / best.run.wall.as_secs_f64();
        summary.row(
            format!(
                "export of {} calls: {} over the curl loop",
                grouped(best.calls),
                best.method
            ),
            format!("**{ratio:.1}×** faster"),
            &format!("≥ 10×: {}", verdict(ratio >= 10.0)),
        );
        let _ = writeln!(
            w,
            "\nTarget: with no flag, at least 10× faster than the curl loop. Largest export: \
             {} is **{ratio:.1}×** faster — {}.\n",
            best.method,
            verdict(ratio >= 10.0)
        );
    }
}

fn overhead_md(w: &mut String, o: &ClientOverhead, summary: &mut Summary) {
    let _ = writeln!(w, "## 2. Client overhead\n");
    let Some((_, first)) = o.pages.first() else {
        return;
    };
    let _ = writeln!(
        w,
        "The same page (page 1, every call type and status) of a sandbox of {} calls without \
         injected latency, requested {} times one after another by each side in each of {} \
         rounds (after a warm-up of each), from one process on a single-threaded Tokio runtime; \
         a round runs both sides back to back, the first side alternating. Baseline: a \
         hand-written request with one `reqwest::Client` (the same \
         reqwest as the client's), a token obtained once, the body serialized and the answer \
         deserialized by serde into the same generated types. `ccsqm-client`: \
         `Client::builder(..).ak_sk(..).user_id(..).build()` with its defaults, then \
         `details_page` (token cache check, hooks, retry policy, error mapping). Times are the \
         median round (in brackets: the fastest and slowest rounds, a measure of the noise); \
         the ratio quoted is the median of the {} rounds' own ratios (client over baseline); \
         the sandbox's own work (a scan of every call, then building and serializing the page) \
         is included on both sides. Client CPU is the user and system time of the client's \
         one thread (`getrusage(RUSAGE_THREAD)`: request building, HTTP, JSON), median round: \
         what the client itself costs, less disturbed by other work on the machine than wall \
         time.\n",
        grouped(o.calls),
        first.requests,
        first.baseline.len(),
        first.baseline.len()
    );
    let _ = writeln!(
        w,
        "| page size | calls in the page | reqwest + serde | ccsqm-client | per request (baseline / client) | ratio (median of the rounds' ratios) | ratio of the medians | ratio of the fastest rounds | client CPU per request (baseline / client) | CPU ratio |"
    );
    let _ = writeln!(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut worst: f64 = 0.0;
    for (limit, r) in &o.pages {
        let (b, c) = (median(&r.baseline), median(&r.client));
        // Each round runs both sides back to back: the median of the rounds' ratios is the
        // least sensitive to other work on the machine coming and going.
        let mut ratios: Vec<f64> = r
            .baseline
            .iter()
            .zip(&r.client)
            .map(|(b, c)| c.as_secs_f64() / b.as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        let ratio = ratios[ratios.len() / 2];
        worst = worst.max(ratio);
        let per = |d: Duration| format!("{:.0} µs", d.as_secs_f64() * 1e6 / f64::from(r.requests));
        let spread = |v: &[Duration]| {
            let min = v.iter().min().copied().unwrap_or_default();
            let max = v.iter().max().copied().unwrap_or_default();
            (min, format!("[{}–{}]", millis(min), millis(max)))
        };
        let ((bmin, bspread), (cmin, cspread)) = (spread(&r.baseline), spread(&r.client));
        summary.row(
            format!("`ccsqm-client` over hand-written reqwest + serde, pages of {limit}"),
            format!(
                "**{ratio:.2}×** the time; client CPU {:+.0} µs a request",
                (median(&r.client_cpu).as_secs_f64() - median(&r.baseline_cpu).as_secs_f64()) * 1e6
                    / f64::from(r.requests)
            ),
            &format!("≤ 1.10×: {}", verdict(ratio <= 1.10)),
        );
        let _ = writeln!(
            w,
            "| {limit} | {} | {} ms {bspread} | {} ms {cspread} | {} / {} | **{ratio:.2}×** | {:.2}× | {:.2}× | {} / {} | {:.2}× |",
            r.calls_per_page,
            millis(b),
            millis(c),
            per(b),
            per(c),
            c.as_secs_f64() / b.as_secs_f64(),
            cmin.as_secs_f64() / bmin.as_secs_f64(),
            per(median(&r.baseline_cpu)),
            per(median(&r.client_cpu)),
            median(&r.client_cpu).as_secs_f64() / median(&r.baseline_cpu).as_secs_f64()
        );
    }
    let _ = writeln!(
        w,
        "\nTarget: at most 1.10× the baseline's time. Worst ratio {worst:.2}× — {}.\n",
        verdict(worst <= 1.10)
    );
}

fn throughput_md(w: &mut String, t: &Throughput, summary: &mut Summary) {
    let _ = writeln!(w, "## 3. Sandbox throughput against Prism\n");
    match t {
        Throughput::Skipped(why) => {
            summary.row("sandbox throughput over Prism", "skipped", "");
            let _ = writeln!(w, "Skipped: {why}.\n");
        }
        Throughput::Ran {
            lines,
            requests,
            concurrency,
            versions,
        } => {
            let _ = writeln!(
                w,
                "`crates/sandbox/benches/compare-prism.sh {requests} {concurrency}`: \
                 `ccsqm-sandbox --calls 100000` and Prism's mock of `spec/ccsqm.yaml` \
                 (`@stoplight/prism-cli`, installed from npm under `target/bench-tools/`; \
                 {versions}), each on loopback, loaded by the sandbox's own load generator \
                 (`crates/sandbox/benches/load.rs`: one client thread, {concurrency} requests in \
                 flight, keep-alive, {} requests after 200 of warm-up) with the same request: \
                 a 30-day call window, status 2, both call types. Prism answers its static \
                 example (6 calls) whatever the page size; the sandbox filters 100 000 calls \
                 and builds the page for each request.\n",
                grouped(*requests)
            );
            let _ = writeln!(
                w,
                "| server | page size | body | requests (errors) | requests/s | p50 | p99 | sandbox / Prism |"
            );
            let _ = writeln!(w, "|---|---:|---:|---:|---:|---:|---:|---:|");
            for line in lines {
                let prism = lines
                    .iter()
                    .find(|l| l.limit == line.limit && l.server == "Prism")
                    .map_or(0.0, |l| l.rps);
                let ratio = if line.server == "Prism" || prism == 0.0 {
                    String::new()
                } else {
                    summary.row(
                        format!(
                            "sandbox requests/s over Prism's, pages of {} (Prism: 6 calls)",
                            line.limit
                        ),
                        format!("**{:.1}×**", line.rps / prism),
                        "",
                    );
                    format!("**{:.1}×**", line.rps / prism)
                };
                let _ = writeln!(
                    w,
                    "| {} | {} | {:.1} kB | {} ({}) | {} | {:.1} ms | {:.1} ms | {ratio} |",
                    line.server,
                    line.limit,
                    line.body as f64 / 1000.0,
                    grouped(line.requests),
                    line.errors,
                    grouped(line.rps as u64),
                    line.p50,
                    line.p99
                );
            }
            let _ = writeln!(w);
        }
    }
}

fn cli_md(w: &mut String, cli: &Cli, summary: &mut Summary) {
    let _ = writeln!(w, "## 5. CLI start-up and size\n");
    let wall = |runs: &[Run]| median(&runs.iter().map(|r| r.wall).collect::<Vec<_>>());
    let rss = |runs: &[Run]| {
        let mut v: Vec<u64> = runs.iter().map(|r| r.peak_rss_kib).collect();
        v.sort();
        v[v.len() / 2]
    };
    let (ours, curl) = (wall(&cli.startup), wall(&cli.curl_startup));
    summary.row(
        "`ccsqm --version` start-up",
        format!(
            "{} ms ({:.2}× `curl --version`)",
            millis(ours),
            ours.as_secs_f64() / curl.as_secs_f64()
        ),
        "",
    );
    summary.row(
        "release binary size",
        format!("{:.1} MiB", cli.size as f64 / 1048576.0),
        "",
    );
    let _ = writeln!(
        w,
        "`{}`. Start-up: the median of {} runs of each command, spawned and reaped by the \
         harness, with `curl --version` as a reference point for what starting a small \
         dynamically linked program costs here.\n",
        cli.version,
        cli.startup.len()
    );
    let _ = writeln!(w, "| command | wall time (median) | peak RSS | ratio |");
    let _ = writeln!(w, "|---|---:|---:|---:|");
    let _ = writeln!(
        w,
        "| `ccsqm --version` | {} ms | {} | {:.2}× |",
        millis(ours),
        mib(rss(&cli.startup)),
        ours.as_secs_f64() / curl.as_secs_f64()
    );
    let _ = writeln!(
        w,
        "| `curl --version` | {} ms | {} | 1.00× |",
        millis(curl),
        mib(rss(&cli.curl_startup))
    );
    let _ = writeln!(
        w,
        "\nRelease binary `target/release/ccsqm` (default release profile): **{:.1} MiB**{}.\n",
        cli.size as f64 / 1048576.0,
        cli.stripped.map_or(String::new(), |s| format!(
            ", {:.1} MiB stripped of symbols (`strip`)",
            s as f64 / 1048576.0
        ))
    );
}
