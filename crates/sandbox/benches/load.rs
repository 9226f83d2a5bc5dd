//! Load benchmark: a small HTTP load generator for `appraisecall/details`, over loopback.
//!
//! ```sh
//! cargo bench -p ccsqm-sandbox --bench load                  # an in-process sandbox
//! cargo bench -p ccsqm-sandbox --bench load -- --url http://127.0.0.1:8080 --requests 20000
//! ```
//!
//! Options: `--url URL` (default: start a sandbox in process; a sandbox of yours needs
//! `--anchor 2021-12-15`, as the requests' windows are fixed times), `--calls N` (in-process sandbox,
//! default 100 000), `--requests N` (default 20 000), `--concurrency N` (default 32),
//! `--seconds S` (a time bound, default 60), `--limit N` (page size, default 100). The token
//! comes from the target's `tokenByAkSk` with the sandbox's default credentials.
//!
//! The loop is bounded by `--requests` and `--seconds`, and only ever targets the given URL,
//! which must be a loopback address.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ccsqm_sandbox::{
    Sandbox, DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_USER_ID, DETAILS_PATH, FIRST_CALL_TIME,
    TOKEN_PATH,
};

struct Args {
    url: Option<String>,
    calls: usize,
    requests: u64,
    concurrency: usize,
    seconds: u64,
    limit: u64,
}

fn args() -> Args {
    let mut args = Args {
        url: None,
        calls: 100_000,
        requests: 20_000,
        concurrency: 32,
        seconds: 60,
        limit: 100,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = Some(value()),
            "--calls" => args.calls = value().parse().expect("--calls N"),
            "--requests" => args.requests = value().parse().expect("--requests N"),
            "--concurrency" => args.concurrency = value().parse().expect("--concurrency N"),
            "--seconds" => args.seconds = value().parse().expect("--seconds S"),
            "--limit" => args.limit = value().parse().expect("--limit N"),
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    args
}

fn body(limit: u64) -> String {
    // A typical query: a 30-day call window, both types, inspected calls, one page.
    serde_json::json!({
        "limit": limit, "page": 1, "call_types": [0, 2], "status": [2],
        "call_from": FIRST_CALL_TIME + 30 * 86_400, "call_to": FIRST_CALL_TIME + 60 * 86_400,
        "upload_from": null, "upload_to": null
    })
    .to_string()
}

async fn token(http: &reqwest::Client, url: &str) -> String {
    let response: serde_json::Value = http
        .post(format!("{url}{TOKEN_PATH}"))
        .header(
            "X-Token-Expire",
            ccsqm_client::MAX_TOKEN_LIFETIME.as_secs().to_string(),
        )
        .json(&serde_json::json!({"app_key": DEFAULT_APP_KEY, "app_secret": DEFAULT_APP_SECRET}))
        .send()
        .await
        .expect("tokenByAkSk answers")
        .json()
        .await
        .expect("a token response");
    response["AccessToken"]
        .as_str()
        .expect("an AccessToken")
        .to_owned()
}

async fn run(url: String, args: &Args) {
    let parsed = reqwest::Url::parse(&url).expect("a URL");
    let host = parsed.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    assert!(
        loopback,
        "the load generator only targets loopback addresses"
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .expect("an HTTP client");
    let token = token(&http, &url).await;
    let body = body(args.limit);
    let target = format!("{url}{DETAILS_PATH}");
    let send = {
        let (http, target, token, body) =
            (http.clone(), target.clone(), token.clone(), body.clone());
        move || {
            http.post(&target)
                .header("Authorization", format!("Bearer {token}"))
                .header("x-UserId", DEFAULT_USER_ID)
                .header("Content-Type", "application/json")
                .body(body.clone())
                .send()
        }
    };
    // Warm-up: connections, caches.
    for _ in 0..200 {
        let response = send().await.expect("the target answers");
        assert!(
            response.status().is_success(),
            "warm-up: HTTP {}",
            response.status()
        );
        response.bytes().await.expect("a body");
    }

    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (next, send, requests) = (next.clone(), send.clone(), args.requests);
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors, mut bytes) = (Vec::new(), 0u64, 0usize);
            while next.fetch_add(1, Ordering::Relaxed) < requests && Instant::now() < deadline {
                let t = Instant::now();
                match send().await {
                    Ok(r) if r.status().is_success() => match r.bytes().await {
                        Ok(b) => bytes = b.len(),
                        Err(_) => errors += 1,
                    },
                    _ => errors += 1,
                }
                latencies.push(t.elapsed());
            }
            (latencies, errors, bytes)
        }));
    }
    let (mut latencies, mut errors, mut bytes) = (Vec::new(), 0, 0);
    for task in tasks {
        let (l, e, b) = task.await.expect("a load task");
        latencies.extend(l);
        errors += e;
        bytes = bytes.max(b);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{url}: {} requests ({errors} errors), concurrency {}, {:.2} s: {:.0} req/s; \
         latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; body {bytes} bytes",
        latencies.len(),
        args.concurrency,
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0),
    );
}

fn main() {
    let args = args();
    // The load generator gets one thread; an in-process sandbox gets its own runtime.
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    match args.url.clone() {
        Some(url) => client_rt.block_on(run(url.trim_end_matches('/').to_owned(), &args)),
        None => {
            let server_rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a runtime");
            let sandbox = server_rt
                .block_on(
                    Sandbox::builder()
                        .calls(args.calls)
                        .anchor(ccsqm_sandbox::Anchor::EARLIEST)
                        .start(),
                )
                .expect("the sandbox starts");
            println!("in-process sandbox: {} calls", sandbox.data().len());
            client_rt.block_on(run(sandbox.base_url().to_owned(), &args));
            server_rt.block_on(sandbox.shutdown());
        }
    }
}
