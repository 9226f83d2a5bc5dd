//! Adaptive concurrency of `CallStream` against a sandbox that cannot take more than N requests
//! at a time (`--max-in-flight N`: above it, 429 with `Retry-After`): it converges near N, with
//! few 429s, and every call arrives once.

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::time::Duration;

use ccsqm_client::types::AppraisecallDetailsRequest;
use ccsqm_client::CallStream;
use ccsqm_sandbox::{Faults, Latency, Sandbox};
use futures_util::StreamExt;
use serde_json::json;

fn every_call(limit: u64) -> AppraisecallDetailsRequest {
    serde_json::from_value(json!({
        "call_types": ccsqm_client::spec::enums::CALL_TYPE.codes().collect::<Vec<_>>(),
        "status": ccsqm_client::spec::enums::INSPECTION_STATUS.codes().collect::<Vec<_>>(),
        "limit": limit, "page": 1, "upload_from": null, "upload_to": null
    }))
    .unwrap()
}

async fn start(calls: usize, max_in_flight: Option<usize>) -> Sandbox {
    let mut builder = Sandbox::builder().calls(calls).seed(5).faults(Faults {
        latency: Latency::Fixed(Duration::from_millis(20)),
        ..Faults::none()
    });
    if let Some(n) = max_in_flight.and_then(NonZeroUsize::new) {
        builder = builder.max_in_flight(n);
    }
    builder.start().await.unwrap()
}

/// Every call of the stream, checked to be each call once and all of them; and the
/// concurrency it had as each call was yielded.
async fn drain(sandbox: &Sandbox, calls: &mut CallStream) -> Vec<usize> {
    let mut seen = HashSet::new();
    let mut concurrency = Vec::new();
    while let Some(record) = calls.next().await {
        let record = record.expect("no error: every 429 is retried");
        let uuid = record.call.call_uuid.clone().expect("a call_uuid");
        assert!(seen.insert(uuid), "a call twice");
        concurrency.push(calls.current_concurrency());
    }
    assert_eq!(seen.len(), sandbox.data().len(), "every call");
    assert_eq!(calls.total(), Some(sandbox.data().len() as u64));
    concurrency
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_near_a_servers_capacity_with_few_429s_and_every_call_once() {
    for capacity in [3usize, 7] {
        let sandbox = start(2_000, Some(capacity)).await;
        let pages = sandbox.data().len().div_ceil(10) as u64;
        let mut calls = sandbox.client().unwrap().calls(every_call(10)).adaptive();
        let concurrency = drain(&sandbox, &mut calls).await;
        let throttled = sandbox.throttled();
        // Few: the first overshoot, then a probe now and then; not one per round.
        assert!(
            throttled * 10 <= pages,
            "capacity {capacity}: {throttled} 429s for {pages} pages"
        );
        assert_eq!(calls.throttled_pages() > 0, throttled > 0);
        // The capacity is used (within a page: answers slowed by a busy machine hold the growth).
        let peak = sandbox.peak_in_flight();
        assert!(peak + 1 >= capacity, "capacity {capacity}: peak {peak}");
        // Near N: over the second half of the export, on average within N/2..=N+1.
        let late = &concurrency[concurrency.len() / 2..];
        let mean = late.iter().sum::<usize>() as f64 / late.len() as f64;
        assert!(
            mean >= capacity as f64 / 2.0 && mean <= capacity as f64 + 1.0,
            "capacity {capacity}: mean concurrency {mean}"
        );
        eprintln!("capacity {capacity}: {throttled} 429s for {pages} pages, mean {mean:.1}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grows_while_answers_stay_flat_up_to_its_ceiling() {
    let sandbox = start(3_000, None).await;
    let mut calls = sandbox
        .client()
        .unwrap()
        .calls(every_call(10))
        .max_concurrency(6);
    let concurrency = drain(&sandbox, &mut calls).await;
    assert_eq!(concurrency.iter().max(), Some(&6));
    assert_eq!(sandbox.peak_in_flight(), 6, "never above the ceiling");
    assert_eq!(sandbox.throttled(), 0);

    let unlimited = start(3_000, None).await;
    let mut calls = unlimited.client().unwrap().calls(every_call(10)).adaptive();
    drain(&unlimited, &mut calls).await;
    let peak = unlimited.peak_in_flight();
    assert!(
        (8..=ccsqm_client::MAX_CONCURRENCY).contains(&peak),
        "peak {peak}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_concurrency_does_not_adapt() {
    let sandbox = start(500, Some(8)).await;
    let mut calls = sandbox
        .client()
        .unwrap()
        .calls(every_call(10))
        .concurrency(3);
    let concurrency = drain(&sandbox, &mut calls).await;
    assert!(concurrency.iter().all(|&c| c == 3));
    assert_eq!(sandbox.peak_in_flight(), 3);
    assert_eq!(sandbox.throttled(), 0);
}
