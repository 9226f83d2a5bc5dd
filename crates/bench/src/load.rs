//! Section `load`: the sandbox under an external load generator, wrk, for every query shape,
//! against Prism's mock of the same spec measured in the same run.
//!
//! wrk comes from Debian (`apt-get install wrk`): the harness installs it when it is missing
//! and it runs as root; otherwise the section is skipped, saying so. Prism is installed from
//! npm under `target/bench-tools/` as `crates/sandbox/benches/compare-prism.sh` does.
//!
//! Each run: `wrk -t2 -c16 -d{secs}s` with a Lua script that POSTs the shape's request with a
//! random page of it (so that every page of the query is asked for, not one cached answer).

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::{free_port, SandboxProcess};
use crate::{grouped, mib, step, verdict, Summary};

const PRISM_VERSION: &str = "5.16.0";
/// wrk's threads and connections (as the measurements).
const THREADS: u32 = 2;
const CONNECTIONS: u32 = 16;

pub struct LoadRun {
    pub server: String,
    pub shape: String,
    pub calls: u64,
    pub limit: u64,
    pub pages: u64,
    pub rps: f64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The sandbox's CPU time (user and system) per request answered, in microseconds.
    pub cpu_us: Option<f64>,
}

pub enum Load {
    Ran {
        runs: Vec<LoadRun>,
        secs: u64,
        wrk: String,
        /// Start-up time and RSS (after its load) of the sandbox of a million calls.
        million: Option<(Duration, u64)>,
    },
    Skipped(String),
}

/// A query shape: a name, the request's JSON (without page and limit), its page size.
struct Shape {
    name: &'static str,
    body: serde_json::Value,
    limit: u64,
}

fn all_codes(e: &ccsqm_client::spec::Enumeration) -> Vec<i64> {
    e.codes().collect()
}

fn request(extra: serde_json::Value) -> serde_json::Value {
    let mut body = serde_json::json!({
        "call_types": all_codes(&ccsqm_client::spec::enums::CALL_TYPE),
        "status": all_codes(&ccsqm_client::spec::enums::INSPECTION_STATUS),
        "upload_from": null, "upload_to": null,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    body
}

fn ensure_wrk() -> Result<String, String> {
    let version = || {
        Command::new("wrk")
            .arg("-v")
            .output()
            .ok()
            .map(|o| {
                let text = String::from_utf8_lossy(&o.stdout).into_owned()
                    + &String::from_utf8_lossy(&o.stderr);
                text.lines().next().unwrap_or("wrk").trim().to_owned()
            })
            .filter(|t| t.starts_with("wrk"))
    };
    if let Some(v) = version() {
        return Ok(v);
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("wrk is not installed (`apt-get install wrk`, as root)".into());
    }
    step("load: installing wrk (apt-get install wrk)");
    let _ = Command::new("apt-get")
        .args(["update", "-q"])
        .stdout(Stdio::null())
        .status();
    let installed = Command::new("apt-get")
        .args(["install", "-y", "-q", "wrk"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("apt-get: {e}"))?;
    if !installed.success() {
        return Err("apt-get install wrk failed".into());
    }
    version().ok_or_else(|| "wrk installed but does not run".into())
}

/// Prism under `target/bench-tools/` (installed from npm on first use), or why not.
fn prism(root: &Path) -> Result<std::path::PathBuf, String> {
    let tools = root.join("target/bench-tools");
    let bin = tools.join("node_modules/.bin/prism");
    if bin.is_file() {
        return Ok(bin);
    }
    if Command::new("npm").arg("--version").output().is_err() {
        return Err("npm is not installed (Prism comes from npm)".into());
    }
    step(&format!(
        "load: installing @stoplight/prism-cli@{PRISM_VERSION} under {}",
        tools.display()
    ));
    std::fs::create_dir_all(&tools).map_err(|e| e.to_string())?;
    let status = Command::new("npm")
        .arg("install")
        .arg("--prefix")
        .arg(&tools)
        .args(["--no-audit", "--no-fund", "--loglevel=error"])
        .arg(format!("@stoplight/prism-cli@{PRISM_VERSION}"))
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("npm: {e}"))?;
    if !status.success() || !bin.is_file() {
        return Err("npm install @stoplight/prism-cli failed".into());
    }
    Ok(bin)
}

/// A POST with curl; the answer's body as JSON.
fn post(
    url: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    let mut curl = Command::new("curl");
    curl.args([
        "-s",
        "-X",
        "POST",
        url,
        "-H",
        "Content-Type: application/json",
    ])
    .args([
        "-H",
        &format!("x-UserId: {}", ccsqm_sandbox::DEFAULT_USER_ID),
    ])
    .args(["-d", &body.to_string()]);
    if let Some(token) = token {
        curl.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    let out = curl.output().map_err(|e| format!("curl: {e}"))?;
    serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "{url}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn token(base_url: &str) -> Result<String, String> {
    let answer = post(
        &format!("{base_url}{}", ccsqm_client::spec::TOKEN_BY_AK_SK.path),
        None,
        &serde_json::json!({
            "app_key": ccsqm_sandbox::DEFAULT_APP_KEY,
            "app_secret": ccsqm_sandbox::DEFAULT_APP_SECRET,
        }),
    )?;
    let answer: ccsqm_client::types::TokenByAkSkResponse =
        serde_json::from_value(answer).map_err(|e| format!("tokenByAkSk of {base_url}: {e}"))?;
    Ok(answer.access_token.expose().to_owned())
}

/// Runs wrk against `url` with `body` at a random page of `pages`; its requests/s, non-2xx
/// answers and latency percentiles.
fn wrk(
    work: &Path,
    url: &str,
    token: &str,
    body: &serde_json::Value,
    limit: u64,
    pages: u64,
    secs: u64,
) -> Result<(f64, u64, f64, f64), String> {
    let mut template = body.clone();
    template["limit"] = limit.into();
    template["page"] = serde_json::Value::from(0u64);
    // The page goes where the placeholder 0 is: `"page":0` becomes `"page":%d`.
    let template = template.to_string().replace("\"page\":0", "\"page\":%d");
    let script = format!(
        "wrk.method = \"POST\"\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n\
         wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n\
         wrk.headers[\"x-UserId\"] = \"{user}\"\n\
         request = function()\n\
           return wrk.format(nil, nil, nil, string.format('{template}', math.random(1, {pages})))\n\
         end\n",
        user = ccsqm_sandbox::DEFAULT_USER_ID,
        pages = pages.max(1),
    );
    let path = work.join("load.lua");
    std::fs::write(&path, script).map_err(|e| e.to_string())?;
    let out = Command::new("wrk")
        .args([
            &format!("-t{THREADS}"),
            &format!("-c{CONNECTIONS}"),
            &format!("-d{secs}s"),
            "--latency",
            "-s",
        ])
        .arg(&path)
        .arg(url)
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let number_after = |label: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    let millis_after = |label: &str| -> f64 {
        let raw = text
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or("");
        let (n, unit) = raw.split_at(raw.find(|c: char| c.is_alphabetic()).unwrap_or(raw.len()));
        let n: f64 = n.parse().unwrap_or(f64::NAN);
        match unit {
            "us" => n / 1000.0,
            "ms" => n,
            "s" => n * 1000.0,
            _ => f64::NAN,
        }
    };
    let rps = number_after("Requests/sec:").ok_or(format!("wrk said: {text}"))?;
    let errors = number_after("Non-2xx or 3xx responses:").unwrap_or(0.0) as u64;
    Ok((rps, errors, millis_after("50%"), millis_after("99%")))
}

pub fn run(ccsqm: &Path, root: &Path, work: &Path, quick: bool) -> Result<Load, String> {
    let wrk_version = match ensure_wrk() {
        Ok(v) => v,
        Err(why) => return Ok(Load::Skipped(why)),
    };
    let secs = if quick { 3 } else { 8 };
    let mut runs = Vec::new();

    // The baseline, in the same run: Prism's mock of the spec.
    match prism(root) {
        Ok(bin) => {
            let port = free_port();
            let mut child = Command::new(bin)
                .args(["mock", "--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--errors", "false"])
                .arg(root.join("spec/ccsqm.yaml"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("prism: {e}"))?;
            let url = format!("http://127.0.0.1:{port}");
            let details = format!("{url}{}", ccsqm_client::spec::APPRAISECALL_DETAILS.path);
            let deadline = Instant::now() + Duration::from_secs(60);
            let broad = request(serde_json::json!({}));
            let mut probe = broad.clone();
            probe["limit"] = 10.into();
            probe["page"] = 1.into();
            while post(&details, Some("t"), &probe).is_err() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(200));
            }
            for limit in [10, 100] {
                step(&format!("load: Prism, pages of {limit}, {secs} s"));
                let result = wrk(work, &details, "t", &broad, limit, 1, secs);
                if let Ok((rps, errors, p50, p99)) = result {
                    eprintln!("    {rps:.0} requests/s ({errors} non-2xx), p50 {p50:.2} ms, p99 {p99:.2} ms");
                    runs.push(LoadRun {
                        server: "Prism".into(),
                        shape: "any (its static example: 6 calls)".into(),
                        calls: 6,
                        limit,
                        pages: 1,
                        rps,
                        errors,
                        p50_ms: p50,
                        p99_ms: p99,
                        cpu_us: None,
                    });
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        Err(why) => eprintln!("    Prism skipped: {why}"),
    }

    let sizes: &[u64] = if quick {
        &[100_000]
    } else {
        &[100_000, 1_000_000]
    };
    let mut million = None;
    for &size in sizes {
        let started = Instant::now();
        let sandbox = SandboxProcess::start(ccsqm, size, &[])?;
        let start_up = started.elapsed();
        let token = token(&sandbox.base_url)?;
        let details = format!(
            "{}{}",
            sandbox.base_url,
            ccsqm_client::spec::APPRAISECALL_DETAILS.path
        );
        // An agent with calls, for the staff filter: the agent of the newest call.
        let mut first = request(serde_json::json!({}));
        first["limit"] = 1.into();
        first["page"] = 1.into();
        let answer = post(&details, Some(&token), &first)?;
        let staff = answer["data"][0]["calls"][0]["staff_id"]
            .as_str()
            .ok_or("no staff_id in the first call")?
            .to_owned();
        let day = 86_400;
        let middle = ccsqm_sandbox::FIRST_CALL_TIME + 90 * day;
        let shapes: Vec<Shape> = if size >= 1_000_000 {
            vec![Shape {
                name: "broad: every status, no window",
                body: request(serde_json::json!({})),
                limit: 100,
            }]
        } else {
            vec![
                Shape {
                    name: "narrow: a one-day call window",
                    body: request(
                        serde_json::json!({"call_from": middle, "call_to": middle + day}),
                    ),
                    limit: 10,
                },
                Shape {
                    name: "broad: every status, no window",
                    body: request(serde_json::json!({})),
                    limit: 10,
                },
                Shape {
                    name: "broad: every status, no window",
                    body: request(serde_json::json!({})),
                    limit: 100,
                },
                Shape {
                    name: "broad: status 2, no window",
                    body: request(serde_json::json!({"status": [2]})),
                    limit: 100,
                },
                Shape {
                    name: "keyword `refund`",
                    body: request(serde_json::json!({"keyword": "refund"})),
                    limit: 10,
                },
                Shape {
                    name: "staff filter (one agent)",
                    body: request(serde_json::json!({"staff_id": staff})),
                    limit: 10,
                },
            ]
        };
        for shape in shapes {
            let mut one = shape.body.clone();
            one["limit"] = shape.limit.into();
            one["page"] = 1.into();
            let total = post(&details, Some(&token), &one)?["paging"]["total"]
                .as_u64()
                .ok_or("no paging.total")?;
            let pages = total.div_ceil(shape.limit).max(1);
            step(&format!(
                "load: sandbox of {} calls, {}, pages of {} ({} pages), {secs} s",
                grouped(sandbox.calls),
                shape.name,
                shape.limit,
                grouped(pages)
            ));
            let cpu_before = sandbox.cpu_time();
            let (rps, errors, p50, p99) = wrk(
                work,
                &details,
                &token,
                &shape.body,
                shape.limit,
                pages,
                secs,
            )?;
            // wrk's requests/s is its requests over its duration, `secs`.
            let cpu_us = cpu_before
                .zip(sandbox.cpu_time())
                .map(|(before, after)| after.saturating_sub(before).as_secs_f64())
                .filter(|_| rps > 0.0)
                .map(|cpu| cpu * 1e6 / (rps * secs as f64));
            eprintln!(
                "    {rps:.0} requests/s ({errors} errors), p50 {p50:.2} ms, p99 {p99:.2} ms, \
                 sandbox CPU {} µs a request",
                cpu_us.map_or("?".to_owned(), |c| format!("{c:.0}"))
            );
            runs.push(LoadRun {
                server: "ccsqm-sandbox".into(),
                shape: shape.name.into(),
                calls: sandbox.calls,
                limit: shape.limit,
                pages,
                rps,
                errors,
                p50_ms: p50,
                p99_ms: p99,
                cpu_us,
            });
        }
        if size >= 1_000_000 {
            million = Some((start_up, sandbox.rss_kib()));
        }
    }
    Ok(Load::Ran {
        runs,
        secs,
        wrk: wrk_version,
        million,
    })
}

pub fn markdown(w: &mut String, load: &Load, summary: &mut Summary) {
    let _ = writeln!(w, "## 7. Sandbox under load, by query shape (wrk)\n");
    let (runs, secs, wrk, million) = match load {
        Load::Skipped(why) => {
            summary.row("sandbox under wrk, by query shape", "skipped", "");
            let _ = writeln!(w, "Skipped: {why}.\n");
            return;
        }
        Load::Ran {
            runs,
            secs,
            wrk,
            million,
        } => (runs, secs, wrk, million),
    };
    let _ = writeln!(
        w,
        "{wrk} (`apt-get install wrk`; the harness installs it when missing), \
         `-t{THREADS} -c{CONNECTIONS} -d{secs}s`, on loopback, against `ccsqm sandbox --calls N` \
         (release) and Prism's mock of `spec/ccsqm.yaml` (`@stoplight/prism-cli@{PRISM_VERSION}`, \
         under `target/bench-tools/`), measured in the same run. Each request asks for a random \
         page of its query (a Lua script), so the figures are for every page of an export, not \
         one page again; the first page of each query scans the calls once, and every later \
         page is a slice of the kept matches, written as JSON straight from the sandbox's \
         records. Prism answers its static example (6 calls) whatever the request. Sandbox CPU \
         is its user and system time during the run over the requests it answered: what a \
         request costs the sandbox, less disturbed than requests/s by other work on the \
         machine (wrk runs on the same cores).\n"
    );
    let _ = writeln!(
        w,
        "| server | calls | query | page size | pages | requests/s | non-2xx | p50 | p99 | sandbox CPU a request | over Prism |"
    );
    let _ = writeln!(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let prism = runs
        .iter()
        .filter(|r| r.server == "Prism")
        .map(|r| r.rps)
        .fold(0.0f64, f64::max);
    for r in runs {
        let ratio = if r.server == "Prism" || prism == 0.0 {
            "1.0× (baseline)".to_owned()
        } else {
            format!("**{:.1}×**", r.rps / prism)
        };
        let cpu = r.cpu_us.map_or(String::new(), |c| format!("{c:.0} µs"));
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} ms | {:.2} ms | {cpu} | {ratio} |",
            r.server,
            grouped(r.calls),
            r.shape,
            r.limit,
            grouped(r.pages),
            grouped(r.rps as u64),
            r.errors,
            r.p50_ms,
            r.p99_ms
        );
    }
    let _ = writeln!(
        w,
        "\nThe Prism baseline is its best figure of the run ({} requests/s).\n",
        grouped(prism as u64)
    );
    let at_100k: Vec<&LoadRun> = runs
        .iter()
        .filter(|r| r.server != "Prism" && r.calls < 1_000_000)
        .collect();
    if prism > 0.0 {
        if let Some(worst) = at_100k.iter().min_by(|a, b| a.rps.total_cmp(&b.rps)) {
            let ratio = worst.rps / prism;
            summary.row(
                "sandbox, 100 000 calls, every query shape (wrk): slowest over Prism",
                format!(
                    "**{ratio:.1}×** ({}, pages of {})",
                    worst.shape, worst.limit
                ),
                &format!("≥ 20×: {}", verdict(ratio >= 20.0)),
            );
        }
    }
    if let Some(big) = runs.iter().find(|r| r.calls >= 1_000_000) {
        summary.row(
            "sandbox, 1 000 000 calls, broad query, pages of 100 (wrk)",
            format!("{} requests/s", grouped(big.rps as u64)),
            &format!("≥ 10 000: {}", verdict(big.rps >= 10_000.0)),
        );
    }
    if let Some((start_up, rss)) = million {
        summary.row(
            "sandbox of 1 000 000 calls: start-up; RSS after its load",
            format!("{:.2} s; {}", start_up.as_secs_f64(), mib(*rss)),
            "no worse than 0.3 s, about 60 MB",
        );
        let _ = writeln!(
            w,
            "The sandbox of a million calls was ready {:.2} s after it was started (process \
             start and data generation), and held {} resident after its load (the data set, \
             plus the matches of the queries it keeps: 4 bytes per match).\n",
            start_up.as_secs_f64(),
            mib(*rss)
        );
    }
}
