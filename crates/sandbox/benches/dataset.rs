//! Data set benchmark: generation time and memory for 1 000 to 1 000 000 calls, and the time of
//! typical queries on the largest, in process (no HTTP).
//!
//! `cargo bench -p ccsqm-sandbox --bench dataset` (Linux: memory is read from /proc).
//! Each size is generated in a child process of its own, so that memory figures do not mix.

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use ccsqm_client::types::{AppraisecallDetailsRequest, InspectionStatus};
use ccsqm_sandbox::{DataSet, FIRST_CALL_TIME};

const CHILD: &str = "CCSQM_SANDBOX_BENCH_CALLS";
const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];

/// Resident and peak resident memory of this process, in MiB (0 where /proc is absent).
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn request(limit: u64) -> AppraisecallDetailsRequest {
    // From JSON, so that a field the spec adds needs no edit here.
    serde_json::from_value(serde_json::json!({
        "call_types": ccsqm_client::spec::enums::CALL_TYPE.codes().collect::<Vec<_>>(),
        "status": ccsqm_client::spec::enums::INSPECTION_STATUS.codes().collect::<Vec<_>>(),
        "limit": limit, "page": 1, "upload_from": null, "upload_to": null
    }))
    .expect("a valid request")
}

fn time_query(data: &DataSet, name: &str, req: &AppraisecallDetailsRequest) {
    let runs = 20;
    let started = Instant::now();
    let mut total = 0;
    for _ in 0..runs {
        let page = black_box(data.details(req).expect("a valid request"));
        total = page.paging.and_then(|p| p.total).unwrap_or(0);
    }
    let each = started.elapsed() / runs;
    println!("  {name:<44} {:>8.2} ms   (total {total})", ms(each));
}

/// A page of a query already seen (its matches kept), as the sandbox sends it: typed `Call`s
/// serialized by serde (the typed path), and written straight as JSON (what it serves).
fn time_page(data: &DataSet, name: &str, req: &AppraisecallDetailsRequest) {
    let runs = 2000;
    let typed =
        || serde_json::to_vec(&data.details(req).expect("a valid request")).expect("serializes");
    let direct = || data.details_json(req).expect("a valid request");
    assert_eq!(typed(), direct(), "the two paths disagree");
    let time = |f: &dyn Fn() -> Vec<u8>| {
        let started = Instant::now();
        let mut bytes = 0;
        for _ in 0..runs {
            bytes = black_box(f()).len();
        }
        (started.elapsed() / runs, bytes)
    };
    let (t, bytes) = time(&typed);
    let (d, _) = time(&direct);
    println!(
        "  {name:<44} typed + serde {:>7.1} µs, written directly {:>7.1} µs ({:.1}×), {bytes} bytes",
        t.as_secs_f64() * 1e6,
        d.as_secs_f64() * 1e6,
        t.as_secs_f64() / d.as_secs_f64()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn child(calls: usize) {
    let (before, _) = memory_mib();
    let started = Instant::now();
    let data = DataSet::generate(1, calls);
    let took = started.elapsed();
    let (after, peak) = memory_mib();
    println!(
        "| {calls:>9} | {:>8.0} ms | {:>7.1} MiB | {:>7.1} MiB | {:>7.1} MiB |",
        ms(took),
        after - before,
        after,
        peak
    );
    if calls == *SIZES.last().unwrap() {
        println!(
            "\nQueries on {} calls, in process (mean of 20):",
            data.len()
        );
        time_query(&data, "every call, page 1 of 100", &request(100));
        time_query(
            &data,
            "a 7-day call window, status 2, page 1 of 100",
            &AppraisecallDetailsRequest {
                call_from: Some(FIRST_CALL_TIME + 30 * 86_400),
                call_to: Some(FIRST_CALL_TIME + 37 * 86_400),
                status: vec![InspectionStatus::try_from(2).unwrap()],
                ..request(100)
            },
        );
        time_query(
            &data,
            "keyword \"refund\", page 1 of 100",
            &AppraisecallDetailsRequest {
                keyword: Some("refund".to_owned()),
                ..request(100)
            },
        );
        let (id, _) = data.agents().nth(5).unwrap();
        time_query(
            &data,
            "one staff_id, page 1 of 1000",
            &AppraisecallDetailsRequest {
                staff_id: Some(id.to_owned()),
                ..request(1000)
            },
        );
        time_query(&data, "every call, page 1 of 1000", &request(1000));
        println!("\nA page of a query already seen, as JSON (mean of 2000):");
        for limit in [10, 100, 1000] {
            let mut req = request(limit);
            req.page = std::num::NonZeroU64::new(7).expect("7 > 0");
            time_page(&data, &format!("every call, page 7 of {limit}"), &req);
        }
    }
}

fn main() {
    if let Some(calls) = std::env::var(CHILD).ok().and_then(|v| v.parse().ok()) {
        return child(calls);
    }
    let exe = std::env::current_exe().expect("the bench's own path");
    println!("Data set generation (seed 1), one process per size:\n");
    println!("| calls     | generate    | data set    | RSS after   | peak RSS    |");
    println!("|-----------|-------------|-------------|-------------|-------------|");
    for calls in SIZES {
        let status = Command::new(&exe)
            .env(CHILD, calls.to_string())
            .status()
            .expect("running the bench as a child");
        assert!(status.success());
    }
}
