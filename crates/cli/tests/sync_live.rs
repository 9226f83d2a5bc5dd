//! `ccsqm sync` against a live sandbox (calls arriving, inspections moving through their
//! statuses) whose clock the test moves: after several rounds, each bounded by the clock's
//! reading (the `Date` of its answers), the database equals the sandbox's own state at the
//! last reading, every field of every call within the horizon; also through 20 % injected
//! faults, and with a run killed (SIGKILL) in the middle. SQLite and PostgreSQL (the server
//! `CCSQM_TEST_POSTGRES_URL` names; `cargo xtask test` starts one); the database is read with
//! the backend's own tools (rusqlite, `psql`), not with ccsqm's code.
//!
//! Run them with `cargo xtask test -p ccsqm-cli --test sync_live`.

use std::collections::BTreeMap;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use ccsqm_sandbox::{Anchor, Clock, Faults, Latency, Sandbox};
use serde_json::{Map, Value};

mod common;
use common::databases::{assert_row_is_call, backends, Backend};
use common::sync::sync_cmd;
use common::{run_within, runtime, stderr};

const LIMIT: Duration = Duration::from_secs(240);
/// The horizon the rounds use, in seconds (`--horizon 1d`).
const HORIZON: i64 = 86_400;

fn sync(sandbox: &Sandbox, db: &str, extra: &[&str]) -> Output {
    let output = run_within(sync_cmd(sandbox, db).args(extra), LIMIT);
    assert!(
        output.status.success(),
        "the sync: {:?}\n{}",
        output.status,
        stderr(&output)
    );
    output
}

/// A live sandbox with a clock moved by the test, starting a day and a half before the end of
/// its data, at a pinned anchor (calls at fixed times).
fn live_sandbox(rt: &tokio::runtime::Runtime, calls: usize, seed: u64, faults: Faults) -> Sandbox {
    let anchor = Anchor::from_ymd(2024, 3, 1).unwrap();
    let clock = Clock::manual(anchor.end_time() - 36 * 3600);
    rt.block_on(
        Sandbox::builder()
            .calls(calls)
            .seed(seed)
            .anchor(anchor)
            .faults(faults)
            .live(clock)
            .start(),
    )
    .unwrap()
}

/// The sandbox's calls at its clock's reading, by `call_uuid`, as `ccsqm details -o ndjson`
/// writes them: those uploaded by then, each as it is then.
fn sandbox_calls_now(sandbox: &Sandbox) -> BTreeMap<String, Map<String, Value>> {
    let now = sandbox.clock().unwrap().now();
    let data = sandbox.data();
    (0..data.len())
        .filter_map(|i| {
            let call = data.call_at(i, now)?;
            let record = ccsqm_client::CallRecord {
                call_group_id: data.call_group_id(i),
                call,
                ..Default::default()
            };
            let Value::Object(object) = serde_json::to_value(record).unwrap() else {
                unreachable!()
            };
            Some((object["call_uuid"].as_str().unwrap().to_owned(), object))
        })
        .collect()
}

/// Calls in progress at the clock's reading (statuses 0, 1 and 3).
fn in_progress(calls: &BTreeMap<String, Map<String, Value>>) -> usize {
    calls
        .values()
        .filter(|c| matches!(c["status"].as_i64(), Some(0 | 1 | 3)))
        .count()
}

/// The database holds every call the sandbox has at its clock's reading, once, and none it
/// does not have yet; every field of every call uploaded within the horizon is the sandbox's.
fn assert_equal_now(backend: &Backend, sandbox: &Sandbox) {
    let now = sandbox.clock().unwrap().now();
    let expected = sandbox_calls_now(sandbox);
    let mut stored: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for row in backend.rows("calls") {
        let key = row["call_uuid"].as_str().unwrap().to_owned();
        assert!(
            stored.insert(key.clone(), row).is_none(),
            "{}: call {key} is stored twice",
            backend.name()
        );
    }
    let missing: Vec<_> = expected
        .keys()
        .filter(|k| !stored.contains_key(*k))
        .collect();
    let extra: Vec<_> = stored
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{}: {} calls missing ({:?}...), {} not in the sandbox at {now} ({:?}...)",
        backend.name(),
        missing.len(),
        missing.first(),
        extra.len(),
        extra.first()
    );
    let mut compared = 0;
    for (key, call) in &expected {
        if call["upload_time"].as_i64().unwrap() < now - HORIZON {
            continue;
        }
        compared += 1;
        assert_row_is_call(backend, key, &stored[key], call, &format!(" at {now}"));
    }
    assert!(
        compared > 0,
        "no call within the horizon: the test tests nothing"
    );
}

/// Clock steps between rounds: some shorter than an inspection (calls caught in progress),
/// some longer (calls that finished in between, arrivals of several hours).
const STEPS_MIN: [u64; 6] = [7, 13, 41, 180, 11, 300];

/// Several rounds while the clock moves; after each, the database is the sandbox at its
/// reading. Calls are caught in progress, and their later status and metrics are stored.
#[test]
fn rounds_against_a_live_sandbox_follow_its_state() {
    let rt = runtime();
    let sandbox = live_sandbox(&rt, 30_000, 31, Faults::none());
    let clock = sandbox.clock().unwrap().clone();
    for backend in backends("live_rounds") {
        clock.set(sandbox.data().anchor().end_time() - 36 * 3600);
        let db = backend.url();
        sync(&sandbox, &db, &[]);
        assert_equal_now(&backend, &sandbox);
        let mut caught_in_progress = 0;
        for minutes in STEPS_MIN {
            caught_in_progress += in_progress(&sandbox_calls_now(&sandbox));
            clock.advance(Duration::from_secs(minutes * 60));
            sync(&sandbox, &db, &[]);
            assert_equal_now(&backend, &sandbox);
        }
        // The rounds saw calls in progress that later finished (else they test little).
        assert!(caught_in_progress > 0);
    }
}

/// The same rounds through 20 % of requests failing (error statuses, dropped connections,
/// truncated bodies): the retries get every page.
#[test]
fn rounds_through_injected_faults_follow_its_state() {
    let rt = runtime();
    let faults = Faults {
        error_rate: 0.10,
        error_statuses: "502,503,504".parse().unwrap(),
        drop_rate: 0.05,
        truncate_rate: 0.05,
        seed: 13,
        ..Faults::none()
    };
    let sandbox = live_sandbox(&rt, 6_000, 32, faults);
    let clock = sandbox.clock().unwrap().clone();
    let retries = [
        "--max-retries",
        "10",
        "--max-retry-time",
        "60",
        "--limit",
        "200",
    ];
    for backend in backends("live_faults") {
        clock.set(sandbox.data().anchor().end_time() - 36 * 3600);
        let db = backend.url();
        sync(&sandbox, &db, &retries);
        for minutes in STEPS_MIN {
            clock.advance(Duration::from_secs(minutes * 60));
            sync(&sandbox, &db, &retries);
            assert_equal_now(&backend, &sandbox);
        }
    }
}

/// A round killed (SIGKILL) in the middle, then the clock moves and the rounds go on: the
/// database ends as the sandbox's state, no call lost or twice.
#[test]
fn a_round_killed_in_the_middle_then_rounds_again_follow_its_state() {
    let rt = runtime();
    let sandbox = live_sandbox(
        &rt,
        6_000,
        33,
        Faults {
            latency: Latency::Fixed(Duration::from_millis(30)),
            ..Faults::none()
        },
    );
    let clock = sandbox.clock().unwrap().clone();
    for backend in backends("live_killed") {
        clock.set(sandbox.data().anchor().end_time() - 36 * 3600);
        let db = backend.url();
        let mut child = sync_cmd(&sandbox, &db)
            .args(["--limit", "20", "--concurrency", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Some pages committed, not all: an event, polled, not a duration.
        let started = Instant::now();
        while backend.rows("calls").len() < 200 {
            assert!(
                child.try_wait().unwrap().is_none(),
                "the sync ended before it was killed"
            );
            assert!(started.elapsed() < LIMIT, "no page was ever committed");
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let expected = sandbox_calls_now(&sandbox).len();
        assert!(
            backend.rows("calls").len() < expected,
            "the sync finished before it was killed"
        );
        for minutes in [9, 25, 240] {
            clock.advance(Duration::from_secs(minutes * 60));
            sync(&sandbox, &db, &["--limit", "500"]);
            assert_equal_now(&backend, &sandbox);
        }
    }
}
