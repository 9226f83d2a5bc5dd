//! The client against a sandbox that injects faults: retries make every transient fault
//! invisible to the caller (the `ccsqm` command's own suite is `crates/cli/tests/reliability.rs`).

use std::collections::HashSet;
use std::time::Duration;

use ccsqm_client::types::AppraisecallDetailsRequest;
use ccsqm_client::{Client, ErrorKind, RetryPolicy};
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

fn client(sandbox: &Sandbox, max_retries: u32) -> Client {
    Client::builder(sandbox.base_url())
        .ak_sk(
            &sandbox.credentials().app_key,
            sandbox.credentials().app_secret.clone(),
        )
        .user_id(&sandbox.credentials().user_id)
        .timeout(Duration::from_secs(5))
        .retry(RetryPolicy {
            max_retries,
            initial_backoff: Duration::from_millis(2),
            max_backoff: Duration::from_millis(20),
            max_elapsed: Duration::from_secs(10),
        })
        .build()
        .unwrap()
}

/// A body cut short (the connection closes before `Content-Length` bytes) is a failed attempt,
/// retried like a dropped connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_bodies_are_retried() {
    let sandbox = Sandbox::builder()
        .calls(50)
        .faults(Faults {
            truncate_rate: 0.5,
            seed: 3,
            ..Faults::none()
        })
        .start()
        .await
        .unwrap();
    let client = client(&sandbox, 10);
    for _ in 0..20 {
        let page = client.details_page(every_call(10)).await.unwrap();
        assert_eq!(page.paging.unwrap().total, Some(56));
    }
    // With no retry, some of the same requests fail, as network errors.
    let once = self::client(&sandbox, 0);
    let mut failed = 0;
    for _ in 0..20 {
        if let Err(error) = once.details_page(every_call(10)).await {
            assert_eq!(error.kind(), ErrorKind::Network, "{error}");
            failed += 1;
        }
    }
    assert!(failed > 0, "the faults were injected");
}

/// 20 % of requests fail (502, 503, 504, dropped connections, truncated bodies), with random
/// latency: the stream still yields every call of the data set exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_exactly_once_through_20_percent_faults() {
    let sandbox = Sandbox::builder()
        .calls(1_000)
        .faults(Faults {
            error_rate: 0.1,
            error_statuses: "502,503,504".parse().unwrap(),
            drop_rate: 0.05,
            truncate_rate: 0.05,
            latency: Latency::Range(Duration::ZERO, Duration::from_millis(10)),
            seed: 11,
            ..Faults::none()
        })
        .start()
        .await
        .unwrap();
    let data = sandbox.data().clone();
    let expected: HashSet<String> = (0..data.len())
        .map(|i| data.call(i).unwrap().call_uuid.unwrap())
        .collect();
    for concurrency in [1, 4] {
        let mut calls = client(&sandbox, 10)
            .calls(every_call(25))
            .concurrency(concurrency);
        let mut seen = Vec::new();
        while let Some(record) = calls.next().await {
            seen.push(record.unwrap().call.call_uuid.unwrap());
        }
        assert!(calls.warnings().is_empty(), "{:?}", calls.warnings());
        assert_eq!(seen.len(), expected.len(), "concurrency {concurrency}");
        assert_eq!(seen.into_iter().collect::<HashSet<_>>(), expected);
    }
}
